// VM teardown (kernel-model §2.6, §2.7, §2.9, §2.13 "when an S-EPT page becomes reusable", §2.14;
// D2, D3, D4, D5; F9, F10, F11, F12; I-hkid-pt, I-children-first, I-ext-once, I-rcu).
import { describe, expect, it } from 'vitest';
import type { DesignInstance, Op } from '../../impls/api';
import {
  comparable,
  CONTROL_RECLAIM_LOG, DESIGNS, DESTROY, FINALIZE, GRACE, L, RELEASE_HKID_LOG, after, before, calls, countOf, diags,
  expectClean, log, mirrorLeafPfn, onBoth, pageIds, pf, removeLeafLog, runnableWith, sf, vmWith, zapPrivate,
} from './helpers';

const ALL = 8 ** 4;

/** Ledger pages of a pool that are not free right now (raw: pending RCU frees count as not free). */
function unfreed(vm: DesignInstance, pool: string): string[] {
  return vm.leakReport().leaked.filter(l => l.pool === pool).map(l => l.page);
}

describe.each(DESIGNS)('destroy — $name', design => {
  it('gmem close zaps the leaves (hkid assigned), hkid released, S-EPT tables children first, then TDCS, then the TDR last; no leaks', () => {
    const vm = runnableWith(design, [9, 0x41]);
    const s0 = vm.snapshot();
    const o = vm.apply(DESTROY);
    expectClean(o);
    expect(o.result).toBe('destroyed (hkid released)');
    expect(log(o)).toEqual([
      ...removeLeafLog(9, mirrorLeafPfn(s0, 9)),
      ...removeLeafLog(0x41, mirrorLeafPfn(s0, 0x41)),
      ...RELEASE_HKID_LOG,
      // kvm_mmu_uninit_vm first (x86.c kvm_arch_destroy_vm @042007c262e5), post-order
      // (I-children-first): every 4K table before its L3 table, the L3 tables before the top one
      'PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x40 level=2 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x40 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> SUCCESS',
      // then kvm_x86_call(vm_destroy): TDCS, TDR (chldcnt now 0), WBINVD of the TDR
      ...CONTROL_RECLAIM_LOG,
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
    expect(comparable(oa)).toEqual(comparable(ob));
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
  // gfn 9 only: the S-EPT tables L2 0x8, L3 0x0, L4 0x0 (reclaims #1-#3, kvm_mmu_uninit_vm), then the
  // control pages TDCS, TDCS, TDR (#4-#6, vm_destroy runs last: x86.c kvm_arch_destroy_vm).
  const seed: Op[] = [FINALIZE, pf(9)];
  const failures: [string, Op][] = [
    ['at: reclaim', { kind: 'destroy', fail: [{ at: 'reclaim', nth: 3 }] }],
    ['seamcall ERROR on PHYMEM.PAGE.RECLAIM', { kind: 'destroy', fail: [{ at: 'seamcall', call: 'PHYMEM.PAGE.RECLAIM', error: 'ERROR', nth: 3 }] }],
  ];

  // tdh_phymem_page_reclaim.c L165: the TDR is refused while chldcnt ≠ 0, and the leaked S-EPT page is
  // still a child; tdx_reclaim_td_control_pages then returns and the TDR leaks: two pages on purpose.
  it.each(failures)('%s on an S-EPT table: both leak that page and the TDR on purpose (TDX_TD_ASSOCIATED_PAGES_EXIST); only before WARNs in the MMU (D4); no VM bug', (_, destroy) => {
    const { b, a, ob, oa } = onBoth([...seed, destroy]);
    const db = ob[2], da = oa[2];
    expect(log(da)).toEqual(log(db));
    expect(log(db).filter(l => l.startsWith('PHYMEM.PAGE.RECLAIM') || l.startsWith('PHYMEM.PAGE.WBINVD control'))).toEqual([
      'PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> TDX_OPERAND_INVALID',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDR -> TDX_TD_ASSOCIATED_PAGES_EXIST',
    ]);
    for (const vm of [b, a]) {
      const r = vm.leakReport();
      expect(r.leaked).toEqual([]);
      expect(r.leakedOnPurpose).toHaveLength(2);
      expect(r.leakedOnPurpose[0]).toMatch(/^page#\d+ \(tdxControl, leaked, TDR\): TDR: reclaim failed/);
      expect(r.leakedOnPurpose[1]).toMatch(/^page#\d+ \(external, leaked, S-EPT table for level-4 entry gfn 0x0\)/);
      expect(vm.snapshot().vm).toEqual({ bugged: false, hkid: -1, tdState: 'TEARDOWN', destroyed: true }); // TDR never reclaimed
      expect(vm.snapshot().sept).toEqual(['L4 gfn=0x0 table']);
      expect(L(vm.snapshot(), 'external:leaked')).toBe(1);
      expect(L(vm.snapshot(), 'tdxControl:leaked')).toBe(1);
      expect(L(vm.snapshot(), 'tdxControl:free')).toBe(2);
    }
    expect(pageIds(a.leakReport().leakedOnPurpose)).toEqual(pageIds(b.leakReport().leakedOnPurpose));
    // both reclaim failures go through the one TDX_BUG_ON_3(…, NULL) of __tdx_reclaim_page: a WARN
    // (WARN_ON_ONCE: the TDR's is not printed), no VM bug
    expect(diags(db)).toEqual(['TDX_BUG_ON reclaim-failed', 'WARN external-spt-free-failed', 'TDX_BUG_ON reclaim-failed']);
    expect(diags(da)).toEqual(['TDX_BUG_ON reclaim-failed', 'TDX_BUG_ON reclaim-failed']);
    expect(db.diagnostics.map(d => d.printed)).toEqual([true, true, false]);
    expect(da.diagnostics.map(d => d.printed)).toEqual([true, false]);
    expect(da.diagnostics[1].detail).toBe('TDX_TD_ASSOCIATED_PAGES_EXIST');
    expect(db.violations).toEqual([]);
    expect(da.violations).toEqual([]);
  });

  it('nth: 4 hits the first TD control page (vm_destroy runs after the MMU uninit): that TDCS page leaks, and the TDR with it (a TDCS is a child too); no MMU WARN in either', () => {
    const { b, a, ob, oa } = onBoth([...seed, { kind: 'destroy', fail: [{ at: 'reclaim', nth: 4 }] }]);
    expect(log(oa[2])).toEqual(log(ob[2]));
    expect(log(ob[2]).filter(l => l.includes('control='))).toEqual([
      'PHYMEM.PAGE.RECLAIM control=TDCS -> TDX_OPERAND_INVALID',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDR -> TDX_TD_ASSOCIATED_PAGES_EXIST',
    ]);
    for (const [vm, o] of [[b, ob[2]], [a, oa[2]]] as const) {
      expect(diags(o)).toEqual(['TDX_BUG_ON reclaim-failed', 'TDX_BUG_ON reclaim-failed']);
      expect(vm.leakReport().leaked).toEqual([]);
      expect(vm.leakReport().leakedOnPurpose).toHaveLength(2);
      expect(vm.leakReport().leakedOnPurpose[0]).toMatch(/\(tdxControl, leaked, TDR\)/);
      expect(vm.leakReport().leakedOnPurpose[1]).toMatch(/\(tdxControl, leaked, TDCS\)/);
      expect(vm.snapshot().vm.bugged).toBe(false);
    }
  });

  it('nth: 6 hits the TDR itself: only the TDR leaks; the WBINVD of the TDR is not reached', () => {
    const { b, a, ob, oa } = onBoth([...seed, { kind: 'destroy', fail: [{ at: 'reclaim', nth: 6 }] }]);
    expect(log(oa[2])).toEqual(log(ob[2]));
    expect(log(ob[2]).slice(-1)).toEqual(['PHYMEM.PAGE.RECLAIM control=TDR -> TDX_OPERAND_INVALID']);
    for (const vm of [b, a]) {
      expect(vm.leakReport().leaked).toEqual([]);
      expect(vm.leakReport().leakedOnPurpose).toEqual([expect.stringMatching(/\(tdxControl, leaked, TDR\): TDR: reclaim failed/)]);
    }
    expect(diags(ob[2])).toEqual(['TDX_BUG_ON reclaim-failed']);
    expect(diags(oa[2])).toEqual(['TDX_BUG_ON reclaim-failed']);
  });

  it('a failed WBINVD of the TDR: TDX_BUG_ON(kvm) bugs the VM and the TDR leaks (tdx_reclaim_td_control_pages)', () => {
    // 1 leaf WBINVD (gmem close), then the TDR's
    const { b, a, ob, oa } = onBoth([...seed, { kind: 'destroy', fail: [{ at: 'seamcall', call: 'PHYMEM.PAGE.WBINVD', error: 'ERROR', nth: 2 }] }]);
    expect(log(oa[2])).toEqual(log(ob[2]));
    expect(log(ob[2]).slice(-2)).toEqual(['PHYMEM.PAGE.RECLAIM control=TDR -> SUCCESS', 'PHYMEM.PAGE.WBINVD control=TDR -> TDX_OPERAND_INVALID']);
    for (const [vm, o] of [[b, ob[2]], [a, oa[2]]] as const) {
      expect(diags(o)).toEqual(['TDX_BUG_ON seamcall-failed']);
      expect(vm.snapshot().vm).toEqual({ bugged: true, hkid: -1, tdState: 'DESTROYED', destroyed: true });
      expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [expect.stringMatching(/^page#0 \(tdxControl, leaked, reclaimed from the TDX module\): TDR: WBINVD failed$/)] });
      expect(o.violations).toEqual([]);
    }
  });

  it('failure on the first S-EPT table (a 4K table): same leak set and same VM state in both designs, nothing leaked by accident', () => {
    const { b, a, ob, oa } = onBoth([...seed, { kind: 'destroy', fail: [{ at: 'reclaim', nth: 1 }] }]);
    expect(log(oa[2])).toEqual(log(ob[2]));
    expect(log(ob[2])).toContain('PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> TDX_OPERAND_INVALID');
    expect(b.leakReport().leaked).toEqual([]);
    expect(a.leakReport().leaked).toEqual([]);
    expect(pageIds(a.leakReport().leakedOnPurpose)).toEqual(pageIds(b.leakReport().leakedOnPurpose));
    expect(b.leakReport().leakedOnPurpose.some(l => l.includes('level-2 entry gfn 0x8'))).toBe(true);
    expect(a.snapshot().vm).toEqual(b.snapshot().vm);
    expect(b.snapshot().vm.bugged).toBe(false);
    // D4: one MMU WARN per failed S-EPT free in before, none in after (the TDR's failure is TDX's alone)
    expect(countOf(diags(ob[2]), 'WARN external-spt-free-failed')).toBe(1);
    expect(countOf(diags(ob[2]), 'TDX_BUG_ON reclaim-failed')).toBe(2);
    expect(countOf(diags(oa[2]), 'WARN external-spt-free-failed')).toBe(0);
  });

  // tdx-module.md §1.7: the S-EPT reclaim itself does not look at the table's contents, so a leaked
  // child does not block its parent; the child count it keeps up blocks the TDR.
  it.each(DESIGNS)('$name: a failed reclaim of a 4K table leaks that page and the TDR, nothing else', design => {
    const vm = vmWith(design, seed);
    const o = vm.apply({ kind: 'destroy', fail: [{ at: 'reclaim', nth: 1 }] });
    expect(log(o).filter(l => l.startsWith('PHYMEM.PAGE.RECLAIM'))).toEqual([
      'PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> TDX_OPERAND_INVALID',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDR -> TDX_TD_ASSOCIATED_PAGES_EXIST',
    ]);
    expect(log(o).filter(l => l.includes('control=TDR'))).toEqual(['PHYMEM.PAGE.RECLAIM control=TDR -> TDX_TD_ASSOCIATED_PAGES_EXIST']);
    expect(vm.leakReport().leakedOnPurpose).toHaveLength(2);
    expect(vm.leakReport().leakedOnPurpose[0]).toMatch(/\(tdxControl, leaked, TDR\)/);
    expect(vm.leakReport().leakedOnPurpose[1]).toMatch(/\(external, leaked, S-EPT table for level-2 entry gfn 0x8\)/);
    expect(vm.leakReport().leaked).toEqual([]);
  });
});

describe('a guest leaf still mapped at teardown (its PAGE.REMOVE failed): the TDR leaks with it', () => {
  // tdx-module.md §2.5: the guest page stays PT_REG (a child of the TD) and, through chldcnt, the TDR
  // reclaim fails with TDX_TD_ASSOCIATED_PAGES_EXIST (tdh_phymem_page_reclaim.c L165)
  it('both designs: same SEAMCALLs; the guest page and the TDR leaked on purpose, nothing by accident', () => {
    const { b, a, ob, oa } = onBoth([FINALIZE, pf(9), { kind: 'destroy', fail: [{ at: 'seamcall', call: 'PAGE.REMOVE', error: 'ERROR' }] }]);
    expect(log(oa[2])).toEqual(log(ob[2]));
    expect(log(ob[2]).slice(-4)).toEqual([
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDR -> TDX_TD_ASSOCIATED_PAGES_EXIST',
    ]);
    for (const vm of [b, a]) {
      expect(vm.leakReport().leaked).toEqual([]);
      expect(vm.leakReport().leakedOnPurpose).toEqual([
        expect.stringMatching(/\(tdxControl, leaked, TDR\): TDR: reclaim failed$/),
        expect.stringMatching(/\(gmem, leaked, guest private page gfn 0x9\)/),
      ]);
      expect(vm.snapshot().vm).toEqual({ bugged: true, hkid: -1, tdState: 'TEARDOWN', destroyed: true });
    }
    expect(diags(ob[2])).toEqual(['TDX_BUG_ON seamcall-failed', 'TDX_BUG_ON reclaim-failed']);
    expect(diags(oa[2])).toEqual(['TDX_BUG_ON seamcall-failed', 'KVM_BUG_ON external-change-failed', 'TDX_BUG_ON reclaim-failed']); // D12
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

// tdx.c tdx_mmu_release_hkid (linux-next @564aa69a; kernel-model Errata; tdx-module.md §2.2) and the
// module's lifecycle (tdh_mng_vpflushdone.c, tdh_phymem_cache_wb.c, tdh_mng_key_freeid.c).
describe('tdx_mmu_release_hkid failures (F11), as the kernel handles them', () => {
  const prefix: Op[] = [FINALIZE, pf(9), zapPrivate(0, ALL)];
  const cacheWbError: Op = { kind: 'releaseHkid', fail: [{ at: 'seamcall', call: 'PHYMEM.CACHE.WB', error: 'ERROR' }] };

  it('PHYMEM.CACHE.WB error: TDX_BUG_ON(…, NULL) WARNs without bugging the VM, KEY.FREEID is still attempted and fails with TDX_WBCACHE_NOT_COMPLETE (that bugs the VM); the hkid leaks, the TD stays BLOCKED', () => {
    const { b, a, ob, oa } = onBoth([...prefix, cacheWbError]);
    for (const [vm, o] of [[b, ob[3]], [a, oa[3]]] as const) {
      expect(o.result).toBe('hkid-leaked');
      expect(log(o)).toEqual([
        'MNG.VPFLUSHDONE -> SUCCESS',
        'PHYMEM.CACHE.WB -> TDX_OPERAND_INVALID',
        'MNG.KEY.FREEID -> TDX_WBCACHE_NOT_COMPLETE', // tdh_mng_key_freeid.c L97: the package bit is still set
      ]);
      expect(diags(o)).toEqual(['TDX_BUG_ON cache-wb-failed', 'TDX_BUG_ON hkid-release-failed']);
      // the FREEID TDX_BUG_ON is printed: the CACHE.WB one did not bug the VM (a bugged VM silences it)
      expect(o.diagnostics.map(d => [d.site, d.printed, d.detail])).toEqual([
        ['tdx.c:smp_func_do_phymem_cache_wb:CACHE.WB', true, 'TDX_OPERAND_INVALID'],
        ['tdx.c:tdx_mmu_release_hkid:KEY.FREEID', true, 'TDX_WBCACHE_NOT_COMPLETE'],
      ]);
      expect(o.violations).toEqual([]);
      expect(vm.snapshot().vm).toEqual({ bugged: true, hkid: 1, tdState: 'BLOCKED', destroyed: false });
    }
    expect(a.snapshot()).toEqual(b.snapshot());
  });

  it('after the CACHE.WB error, destroy: no second VPFLUSHDONE success, every S-EPT and control page leaked on purpose, nothing by accident', () => {
    const { b, a, ob, oa } = onBoth([...prefix, cacheWbError, DESTROY]);
    expect(log(oa[4])).toEqual(log(ob[4]));
    // VPFLUSHDONE needs KEYS_CONFIGURED (tdh_mng_vpflushdone.c L89)
    expect(log(ob[4])).toEqual(['MNG.VPFLUSHDONE -> TDX_LIFECYCLE_STATE_INCORRECT']);
    for (const vm of [b, a]) {
      const r = vm.leakReport();
      expect(r.leaked).toEqual([]);
      expect(r.leakedOnPurpose.filter(l => l.includes('(external, leaked'))).toHaveLength(3);
      expect(r.leakedOnPurpose.filter(l => l.includes('(tdxControl, leaked'))).toHaveLength(3);
    }
  });

  it('MEM SEAMCALLs are refused once VPFLUSHDONE succeeded: BLOCKED (hkid still assigned) and TEARDOWN give TDX_TD_KEYS_NOT_CONFIGURED', () => {
    // BLOCKED: the CACHE.WB error left the hkid assigned, so the gmem-close zap of destroy tries BLOCK
    // (releaseHkid with a leaf still mapped is outside the legal domain; the models run it anyway)
    const blocked = onBoth([FINALIZE, pf(9), cacheWbError, DESTROY]);
    expect(log(blocked.oa[3])).toEqual(log(blocked.ob[3]));
    expect(log(blocked.ob[3])[0]).toBe('RANGE.BLOCK gfn=0x9 level=1 -> TDX_TD_KEYS_NOT_CONFIGURED');
    // TEARDOWN: a private fault after a successful release (extended domain) is refused at PAGE.AUG
    const torn = onBoth([...prefix, { kind: 'releaseHkid' }, pf(9)]);
    for (const [vm, o] of [[torn.b, torn.ob[4]], [torn.a, torn.oa[4]]] as const) {
      expect(log(torn.ob[3])).toEqual(RELEASE_HKID_LOG);
      expect(o.result).toBe('-EIO');
      expect(log(o)).toEqual([`PAGE.AUG gfn=0x9 level=1 pfn=0x${mirrorLeafPfn(vmWith(before, [FINALIZE, pf(9)]).snapshot(), 9).toString(16)} -> TDX_TD_KEYS_NOT_CONFIGURED`]);
      expect(diags(o)).toEqual(['TDX_BUG_ON seamcall-failed']);
      expect(vm.snapshot().vm).toEqual({ bugged: true, hkid: -1, tdState: 'TEARDOWN', destroyed: false });
    }
  });

  it('TDX_FLUSHVP_NOT_DONE from VPFLUSHDONE (a vCPU still associated): a silent bail-out — no WARN, no VM bug, no CACHE.WB/FREEID, the hkid stays', () => {
    const { b, a, ob, oa } = onBoth([...prefix, { kind: 'releaseHkid', fail: [{ at: 'vpFlush', nth: 2 }] }]);
    for (const [vm, o] of [[b, ob[3]], [a, oa[3]]] as const) {
      expect(o.result).toBe('hkid-leaked');
      expect(log(o)).toEqual(['MNG.VPFLUSHDONE -> TDX_FLUSHVP_NOT_DONE']);
      expect(o.diagnostics).toEqual([]);
      expect(o.violations).toEqual([]);
      expect(vm.snapshot().vm).toEqual({ bugged: false, hkid: 1, tdState: 'RUNNABLE', destroyed: false });
    }
    expect(a.snapshot()).toEqual(b.snapshot());
  });

  it('FLUSHVP_NOT_DONE is no state change: the destroy that follows flushes the vCPUs again, releases the hkid and tears down cleanly', () => {
    const { b, a, ob, oa } = onBoth([...prefix, { kind: 'releaseHkid', fail: [{ at: 'vpFlush' }] }, DESTROY]);
    expect(log(oa[4])).toEqual(log(ob[4]));
    expect(log(ob[4])).toEqual([
      ...RELEASE_HKID_LOG,
      'PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> SUCCESS',
      ...CONTROL_RECLAIM_LOG,
    ]);
    for (const [vm, o] of [[b, ob[4]], [a, oa[4]]] as const) {
      expectClean(o);
      expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
    }
  });

  it('FLUSHVP_NOT_DONE inside destroy: the hkid stays assigned, so the first page-table free is the VM\'s first bug (printed KVM_BUG_ON); everything is leaked on purpose', () => {
    const { b, a, ob, oa } = onBoth([FINALIZE, pf(9), { kind: 'destroy', fail: [{ at: 'vpFlush' }] }]);
    expect(log(oa[2])).toEqual(log(ob[2]));
    expect(log(ob[2]).filter(l => !/^(RANGE.BLOCK|TRACK|PAGE.REMOVE|PHYMEM.PAGE.WBINVD pfn)/.test(l))).toEqual(['MNG.VPFLUSHDONE -> TDX_FLUSHVP_NOT_DONE']);
    expect(diags(oa[2])).toEqual(Array(3).fill('KVM_BUG_ON page-table-free-with-hkid'));
    expect(oa[2].diagnostics.map(d => d.printed)).toEqual([true, false, false]);
    expect(diags(ob[2]).filter(d => d !== 'WARN external-spt-free-failed')).toEqual(diags(oa[2])); // D4
    for (const vm of [b, a]) {
      expect(vm.snapshot().vm).toEqual({ bugged: true, hkid: 1, tdState: 'RUNNABLE', destroyed: true });
      expect(vm.leakReport().leaked).toEqual([]);
      expect(vm.leakReport().leakedOnPurpose).toHaveLength(6); // 3 S-EPT tables, 2 TDCS, the TDR
    }
  });
});

// Issue 9 item 4: a removed guest page is TDX-dirty until PHYMEM.PAGE.WBINVD (or PHYMEM.CACHE.WB of
// its keyid at hkid release, tdh_phymem_cache_wb.c L180-191); freeing or re-giving it earlier is a
// `tdx-dirty-page` violation of the ledger.
describe('TDX-dirty guest pages (PAGE.REMOVE → WBINVD)', () => {
  const wbinvdFails: Op = { kind: 'zap', start: 9, end: 10, attr: 'private', fail: [{ at: 'seamcall', call: 'PHYMEM.PAGE.WBINVD', error: 'ERROR' }] };

  it.each(DESIGNS)('$name: a failed WBINVD leaves the page TDX-dirty (ledger tdxDirty); the hkid release\'s CACHE.WB writes it back, so gmem frees it cleanly', design => {
    const vm = vmWith(design, [FINALIZE, pf(9)]);
    const z = vm.apply(wbinvdFails);
    expect(log(z).slice(-1)).toEqual([expect.stringMatching(/^PHYMEM.PAGE.WBINVD pfn=0x[0-9a-f]+ -> TDX_OPERAND_INVALID$/)]);
    expect(L(vm.snapshot(), 'tdxDirty')).toBe(1);
    const d = vm.apply(DESTROY);
    expect(d.violations).toEqual([]);
    expect(L(vm.snapshot(), 'tdxDirty')).toBe(0);
    expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
  });

  it.each(DESIGNS)('$name: … and when the hkid release stops before CACHE.WB (FLUSHVP_NOT_DONE), gmem keeps the dirty page off the allocator (leaked on purpose, no violation)', design => {
    const vm = vmWith(design, [FINALIZE, pf(9)]);
    vm.apply(wbinvdFails);
    const d = vm.apply({ kind: 'destroy', fail: [{ at: 'vpFlush' }] });
    expect(d.violations).toEqual([]);
    expect(vm.leakReport().leaked).toEqual([]);
    expect(vm.leakReport().leakedOnPurpose.filter(l => l.includes('(gmem, leaked'))).toEqual([
      expect.stringMatching(/TDX-dirty \(no WBINVD\) after a VM bug$/),
    ]);
  });
});
