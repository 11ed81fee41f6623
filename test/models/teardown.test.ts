// VM teardown (kernel-model §2.6, §2.7, §2.9, §2.13 "when an S-EPT page becomes reusable", §2.14;
// D2, D3, D4, D5; F9, F10, F11, F12; I-hkid-pt, I-children-first, I-ext-once, I-rcu).
import { describe, expect, it } from 'vitest';
import type { DesignInstance, Op } from '../../impls/api';
import {
  CONTROL_RECLAIM_LOG, DESIGNS, DESTROY, FINALIZE, GRACE, L, RELEASE_HKID_LOG, after, before, calls, countOf, diags,
  expectClean, log, mirrorLeafPfn, onBoth, pageIds, pf, removeLeafLog, runnableWith, sf, vmWith, zapPrivate,
} from './helpers';

const ALL = 8 ** 4;

/** Ledger pages of a pool that are not free right now (raw: pending RCU frees count as not free). */
function unfreed(vm: DesignInstance, pool: string): string[] {
  return vm.leakReport().leaked.filter(l => l.pool === pool).map(l => l.page);
}

describe.each(DESIGNS)('destroy — $name', design => {
  it('gmem close zaps the leaves (hkid assigned), hkid released, control pages, then S-EPT tables children first; no leaks', () => {
    const vm = runnableWith(design, [9, 0x41]);
    const s0 = vm.snapshot();
    const o = vm.apply(DESTROY);
    expectClean(o);
    expect(o.result).toBe('destroyed (hkid released)');
    expect(log(o)).toEqual([
      ...removeLeafLog(9, mirrorLeafPfn(s0, 9)),
      ...removeLeafLog(0x41, mirrorLeafPfn(s0, 0x41)),
      ...RELEASE_HKID_LOG,
      ...CONTROL_RECLAIM_LOG,
      // post-order (I-children-first): every 4K table before its L3 table, the L3 tables before the top one
      'PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x40 level=2 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x40 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> SUCCESS',
    ]);
    const s = vm.snapshot();
    expect(s.vm).toEqual({ bugged: false, hkid: -1, tdState: 'DESTROYED', destroyed: true });
    expect(s.mirror).toEqual([]);
    expect(s.sept).toEqual([]);
    expect(s.guest).toEqual([]);
    expect(s.pendingRcu).toBe(0); // rcu_barrier drained every callback
    for (const pool of ['external', 'shadow', 'header', 'gmem', 'tdxControl']) {
      expect(L(s, `${pool}:host`) + L(s, `${pool}:tdx`) + L(s, `${pool}:leaked`), pool).toBe(0);
    }
    expect(L(s, 'external:free')).toBeGreaterThanOrEqual(L(s0, 'external:tdx'));
    expect(L(s, 'tdp_mmu_pages')).toBe(0);
    expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
    expect(vm.apply(pf(9)).result).toBe('vm-destroyed');
  });

  it('an RCU walker holding its path across a zap and the teardown: no use-after-free', () => {
    const vm = runnableWith(design, [9, 10]);
    expect(vm.apply({ kind: 'rcuRead', walker: 1, gfn: 9, private: true }).result).toBe('holds 4 tables');
    expectClean(vm.apply(zapPrivate(0, ALL)));
    expect(vm.apply(GRACE).result).toBe('ran=0');
    // the walker is still inside its read section when the VM is destroyed: rcu_barrier ends it
    // (it touches its whole path again) before any SP-free callback may run
    const o = vm.apply(DESTROY);
    expectClean(o);
    expect(o.violations.filter(v => v.kind === 'use-after-free')).toEqual([]);
    expect(vm.snapshot().pendingRcu).toBe(0);
    expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
  });

  it('an RCU walker on the direct tree across a fast zap: tables are freed only after the walker leaves (I-rcu)', () => {
    const vm = vmWith(design, [FINALIZE, pf(9), sf(9, { vcpu: 1 }), sf(0x41, { vcpu: 1 })]);
    expect(vm.apply({ kind: 'rcuRead', walker: 7, gfn: 9, private: false }).result).toBe('holds 4 tables');
    const o = vm.apply({ kind: 'invalidateDirect' });
    expectClean(o);
    expect(o.seamcalls).toEqual([]);
    // pendingRcu counts pages, not callbacks: five direct tables (one L3, two L2, two L1) are queued,
    // each holding its spt + header (direct SPs have no external page)
    const pending = vm.snapshot().pendingRcu;
    expect(pending).toBe(10);
    expect(vm.digests().pendingRcu).toBe(pending);
    expect(unfreed(vm, 'shadow').filter(l => /direct spt L[123]\b/.test(l))).toHaveLength(5);
    expect(vm.apply(GRACE).result).toBe('ran=0');
    expect(unfreed(vm, 'shadow').some(l => l.includes('direct spt L1'))).toBe(true);
    const u = vm.apply({ kind: 'rcuUnlock', walker: 7 });
    expectClean(u);
    expect(u.result).toBe('ok');
    expect(vm.apply(GRACE).result).toBe('ran=5'); // one callback per table
    expect(vm.snapshot().pendingRcu).toBe(0);
    // every direct table is gone; the invalid root itself stays until the vCPUs drop their references
    expect(unfreed(vm, 'shadow').filter(l => /direct spt L[123]\b/.test(l))).toEqual([]);
    expect(unfreed(vm, 'shadow').filter(l => l.includes('direct spt L4'))).toHaveLength(1);
    expect(vm.snapshot().mirror).toContain(`root0 L1 gfn=0x9 leaf pfn=0x${mirrorLeafPfn(vm.snapshot(), 9).toString(16)} W A`);
  });
});

describe('destroy — before vs after', () => {
  it('identical SEAMCALL logs, outcomes and end states (D2 is invisible once rcu_barrier has run)', () => {
    const ops: Op[] = [pf(2), FINALIZE, pf(9), pf(0x41, { vcpu: 1 }), sf(9), { kind: 'rcuRead', walker: 1, gfn: 9, private: true }, zapPrivate(9, 10), DESTROY];
    const { b, a, ob, oa } = onBoth(ops);
    expect(oa).toEqual(ob);
    expect(a.snapshot()).toEqual(b.snapshot());
    expect(a.digests()).toEqual(b.digests());
    expect(a.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
  });
});

describe('D2: when the external page of a freed mirror table goes back to the allocator', () => {
  // In the legal domain before only frees linked mirror SPs inside `destroy`, which ends with
  // rcu_barrier, so its deferred free cannot be seen between ops. The extended-domain D7 path after
  // the hkid is released frees one mirror table on its own (a table whose leaves are already gone).
  const prefix: Op[] = [
    FINALIZE, pf(9), pf(10), zapPrivate(0, ALL), { kind: 'releaseHkid' },
    { kind: 'rcuRead', walker: 1, gfn: 9, private: true },
  ];
  const zapTable: Op = { kind: 'atomicZap', gfn: 9, level: 2, private: true };

  it('after: RECLAIM, then the external page is free at once while the spt/header wait for the walker and a grace period', () => {
    const vm = vmWith(after, prefix);
    const s0 = vm.snapshot();
    expect(unfreed(vm, 'external').filter(l => l.includes('level-2 entry gfn 0x8'))).toHaveLength(1);
    const o = vm.apply(zapTable);
    expect(o.result).toBe('0');
    expect(log(o)).toEqual(['PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> SUCCESS']);
    expect(o.violations).toEqual([]);
    const s = vm.snapshot();
    // the external page: reclaimed and freed inside handle_removed_pt (not pending, not leaked)
    expect(unfreed(vm, 'external').filter(l => l.includes('gfn 0x8'))).toEqual([]);
    expect(L(s, 'external:free') - L(s0, 'external:free')).toBe(1);
    expect(L(s, 'external:tdx') - L(s0, 'external:tdx')).toBe(-1);
    // spt + header of the table: queued for RCU, still allocated (the walker may be reading them).
    // pendingRcu counts the pages the callback will free: 2 (spt + header; the external page is
    // already free, so the callback does not hold it).
    expect(s.pendingRcu).toBe(2);
    expect(vm.digests().pendingRcu).toBe(2);
    expect(unfreed(vm, 'shadow').filter(l => l.includes('mirror spt L1'))).toHaveLength(1);
    expect(unfreed(vm, 'header').length).toBe(L(s, 'header:host') + 1); // the pending header
    expect(vm.apply(GRACE).result).toBe('ran=0'); // walker 1 still open
    const u = vm.apply({ kind: 'rcuUnlock', walker: 1 });
    expect(u.result).toBe('ok'); // no use-after-free
    expect(u.violations).toEqual([]);
    expect(vm.apply(GRACE).result).toBe('ran=1');
    expect(unfreed(vm, 'shadow').filter(l => l.includes('mirror spt L1'))).toEqual([]);
    expect(vm.snapshot().pendingRcu).toBe(0);
    // teardown of the rest: nothing leaked
    expect(vm.apply(DESTROY).violations).toEqual([]);
    expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
  });

  it('before: the same atomic zap is refused (KVM_BUG_ON mirror-atomic-zap); the table and its external page stay', () => {
    const vm = vmWith(before, prefix);
    const s0 = vm.snapshot();
    const o = vm.apply(zapTable);
    expect(o.result).toBe('-16');
    expect(o.seamcalls).toEqual([]);
    expect(diags(o)).toEqual(['KVM_BUG_ON mirror-atomic-zap']);
    const s = vm.snapshot();
    expect(s.mirror).toEqual(s0.mirror);
    expect(s.pendingRcu).toBe(0);
    expect(L(s, 'external:tdx')).toBe(L(s0, 'external:tdx'));
  });

  it('snapshot() counts pages queued for RCU as free, so the ledger view alone cannot show D2', () => {
    const vm = vmWith(after, prefix);
    vm.apply(zapTable);
    const s = vm.snapshot();
    // the pending spt and header (2 pages) are "free" in the snapshot but not in the raw leak view
    expect(s.pendingRcu).toBe(2);
    expect(unfreed(vm, 'shadow').filter(l => l.includes('(shadow, host')).length).toBe(L(s, 'shadow:host') + 1);
    expect(unfreed(vm, 'header').filter(l => l.includes('(header, host')).length).toBe(L(s, 'header:host') + 1);
    expect(unfreed(vm, 'shadow').some(l => l.includes('mirror spt L1'))).toBe(true);
  });
});

describe('F9: reclaim failure during teardown', () => {
  // gfn 9 only: 3 control-page reclaims (TDCS, TDCS, TDR), then the S-EPT tables L2 0x8, L3 0x0, L4 0x0.
  const seed: Op[] = [FINALIZE, pf(9)];
  const failures: [string, Op][] = [
    ['at: reclaim', { kind: 'destroy', fail: [{ at: 'reclaim', nth: 6 }] }],
    ['seamcall ERROR on PHYMEM.PAGE.RECLAIM', { kind: 'destroy', fail: [{ at: 'seamcall', call: 'PHYMEM.PAGE.RECLAIM', error: 'ERROR', nth: 6 }] }],
  ];

  it.each(failures)('%s on an S-EPT table: both leak exactly that page on purpose; only before WARNs in the MMU (D4); no VM bug', (_, destroy) => {
    const { b, a, ob, oa } = onBoth([...seed, destroy]);
    const db = ob[2], da = oa[2];
    expect(log(da)).toEqual(log(db));
    expect(log(db).filter(l => l.startsWith('PHYMEM.PAGE.RECLAIM gfn'))).toEqual([
      'PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> TDX_OPERAND_INVALID',
    ]);
    for (const vm of [b, a]) {
      const r = vm.leakReport();
      expect(r.leaked).toEqual([]);
      expect(r.leakedOnPurpose).toHaveLength(1);
      expect(r.leakedOnPurpose[0]).toMatch(/^page#\d+ \(external, leaked, S-EPT table for level-4 entry gfn 0x0\)/);
      expect(vm.snapshot().vm.bugged).toBe(false); // TDX_BUG_ON with kvm = NULL: WARN only
      expect(vm.snapshot().sept).toEqual(['L4 gfn=0x0 table']);
      expect(L(vm.snapshot(), 'external:leaked')).toBe(1);
    }
    expect(pageIds(a.leakReport().leakedOnPurpose)).toEqual(pageIds(b.leakReport().leakedOnPurpose));
    expect(diags(db)).toEqual(['TDX_BUG_ON reclaim-failed', 'WARN external-spt-free-failed']);
    expect(diags(da)).toEqual(['TDX_BUG_ON reclaim-failed']);
    expect(db.diagnostics[0].printed).toBe(true);
    expect(db.violations).toEqual([]);
    expect(da.violations).toEqual([]);
  });

  it('nth: 1 hits the first TD control page (tdx_vm_destroy runs before the MMU uninit): that TDCS page leaks, no MMU WARN in either', () => {
    const { b, a, ob, oa } = onBoth([...seed, { kind: 'destroy', fail: [{ at: 'reclaim', nth: 1 }] }]);
    expect(log(oa[2])).toEqual(log(ob[2]));
    expect(log(ob[2]).filter(l => l.includes('RECLAIM'))[0]).toBe('PHYMEM.PAGE.RECLAIM control=TDCS -> TDX_OPERAND_INVALID');
    for (const [vm, o] of [[b, ob[2]], [a, oa[2]]] as const) {
      expect(diags(o)).toEqual(['TDX_BUG_ON reclaim-failed']);
      expect(vm.leakReport().leaked).toEqual([]);
      expect(vm.leakReport().leakedOnPurpose).toHaveLength(1);
      expect(vm.leakReport().leakedOnPurpose[0]).toMatch(/\(tdxControl, leaked, TDCS\)/);
      expect(vm.snapshot().vm.bugged).toBe(false);
    }
  });

  it('failure on the first S-EPT table (a 4K table): same leak set and same VM state in both designs, nothing leaked by accident', () => {
    const { b, a, ob, oa } = onBoth([...seed, { kind: 'destroy', fail: [{ at: 'reclaim', nth: 4 }] }]);
    expect(log(oa[2])).toEqual(log(ob[2]));
    expect(log(ob[2])).toContain('PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> TDX_OPERAND_INVALID');
    expect(b.leakReport().leaked).toEqual([]);
    expect(a.leakReport().leaked).toEqual([]);
    expect(pageIds(a.leakReport().leakedOnPurpose)).toEqual(pageIds(b.leakReport().leakedOnPurpose));
    expect(b.leakReport().leakedOnPurpose.some(l => l.includes('level-2 entry gfn 0x8'))).toBe(true);
    expect(a.snapshot().vm).toEqual(b.snapshot().vm);
    expect(b.snapshot().vm.bugged).toBe(false);
    // D4: one MMU WARN per failed free in before, none in after
    expect(countOf(diags(ob[2]), 'WARN external-spt-free-failed')).toBe(countOf(diags(ob[2]), 'TDX_BUG_ON reclaim-failed'));
    expect(countOf(diags(oa[2]), 'WARN external-spt-free-failed')).toBe(0);
  });

  // kernel-model §2.14: "Model the S-EPT reclaims as succeeding when the hkid is freed unless a fault
  // is injected", and §1.5 makes a failed reclaim leak that page. A child table whose reclaim was
  // attempted (even if it failed) does not block its parent: only the injected failure leaks.
  it.each(DESIGNS)('$name: a failed reclaim of a 4K table leaks exactly that page (spec §2.14, §1.5)', design => {
    const vm = vmWith(design, seed);
    const o = vm.apply({ kind: 'destroy', fail: [{ at: 'reclaim', nth: 4 }] });
    expect(log(o).filter(l => l.startsWith('PHYMEM.PAGE.RECLAIM gfn'))).toEqual([
      'PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> TDX_OPERAND_INVALID',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> SUCCESS',
    ]);
    expect(vm.leakReport().leakedOnPurpose).toHaveLength(1);
    expect(vm.leakReport().leakedOnPurpose[0]).toMatch(/\(external, leaked, S-EPT table for level-2 entry gfn 0x8\)/);
    expect(vm.leakReport().leaked).toEqual([]);
  });
});

describe('F10/F11: page tables freed while the hkid is still assigned (hkid release fails)', () => {
  const ops: Op[] = [FINALIZE, pf(9), pf(0x41), { kind: 'destroy', fail: [{ at: 'hkidRelease' }] }];

  it.each(DESIGNS)('$name: KVM_BUG_ON page-table-free-with-hkid for every mirror table, all of them leaked on purpose, no RECLAIM', design => {
    const vm = design.create({ geometry: 'compact', hugePages: false, vcpus: 2 });
    const outs = ops.map(op => vm.apply(op));
    const o = outs[3];
    expect(o.result).toBe('destroyed (hkid hkid-leaked)');
    expect(calls(o)).not.toContain('PHYMEM.PAGE.RECLAIM');
    expect(log(o).slice(-1)).toEqual(['MNG.KEY.FREEID -> TDX_OPERAND_INVALID']);
    // the S-EPT keeps all five tables (two 4K tables, two L3 tables, the one under the root entry)
    const tables = vm.snapshot().sept.filter(l => l.endsWith(' table'));
    expect(tables).toEqual(['L2 gfn=0x40 table', 'L2 gfn=0x8 table', 'L3 gfn=0x0 table', 'L3 gfn=0x40 table', 'L4 gfn=0x0 table']);
    expect(countOf(diags(o), 'KVM_BUG_ON page-table-free-with-hkid')).toBe(tables.length);
    expect(diags(o)).toContain('TDX_BUG_ON hkid-release-failed');
    const r = vm.leakReport();
    expect(r.leaked).toEqual([]);
    expect(r.leakedOnPurpose.filter(l => l.includes('(external, leaked, S-EPT table'))).toHaveLength(tables.length);
    expect(r.leakedOnPurpose.filter(l => l.includes('(tdxControl, leaked'))).toHaveLength(3);
    const s = vm.snapshot();
    expect(s.vm.bugged).toBe(true);
    expect(s.vm.hkid).toBeGreaterThan(0);
    expect(s.mirror).toEqual([]);
    expect(o.violations).toEqual([]);
  });

  it('D4: before adds one MMU WARN per leaked table; otherwise the designs agree', () => {
    const { b, a, ob, oa } = onBoth(ops);
    expect(log(oa[3])).toEqual(log(ob[3]));
    expect(countOf(diags(ob[3]), 'WARN external-spt-free-failed')).toBe(5);
    expect(countOf(diags(oa[3]), 'WARN external-spt-free-failed')).toBe(0);
    expect(diags(oa[3])).toEqual(diags(ob[3]).filter(d => d !== 'WARN external-spt-free-failed'));
    expect(pageIds(a.leakReport().leakedOnPurpose)).toEqual(pageIds(b.leakReport().leakedOnPurpose));
    expect(a.digests()).toEqual(b.digests());
  });
});
