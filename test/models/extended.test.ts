// Extended-domain misuse where the designs differ on purpose (kernel-model §3.1 D6, D7, D10, D13;
// §2.3 vs §2.3A, §2.10, §2.12).
import { describe, expect, it } from 'vitest';
import type { DesignInstance, OpOutcome } from '../../impls/api';
import {
  GRACE, L, after, before, diags, entriesOf, expectClean, log, mirrorLeafPfn, pf, removeLeafLog, runnableWith, sf,
  vmWith, FINALIZE,
} from './helpers';

/** Every diagnostic is a lockdep splat for a missing write lock; returns the distinct sites. */
function onlyWriteLockSplats(o: OpOutcome): string[] {
  expect(o.diagnostics.length).toBeGreaterThan(0);
  for (const d of o.diagnostics) expect(`${d.kind} ${d.category}`).toBe('lockdep mmu_lock-not-held-for-write');
  return [...new Set(o.diagnostics.map(d => d.site))].sort();
}

const LEAF_REMOVAL_LOCKDEP_SITES = ['tdx.c:tdh_do_no_vcpus', 'tdx.c:tdx_sept_remove_leaf_spte', 'tdx.c:tdx_track'];

describe('D6: atomic zap of a mapped private leaf (shared mmu_lock)', () => {
  const op = { kind: 'atomicZap', gfn: 9, level: 1, private: true } as const;

  it('before: KVM_BUG_ON mirror-atomic-zap, -EBUSY, SPTE and S-EPT unchanged', () => {
    const vm = runnableWith(before, [9, 10]);
    const s0 = vm.snapshot();
    const o = vm.apply(op);
    expect(o.result).toBe('-16');
    expect(o.seamcalls).toEqual([]);
    expect(diags(o)).toEqual(['KVM_BUG_ON mirror-atomic-zap']);
    expect(o.diagnostics[0].printed).toBe(true);
    const s = vm.snapshot();
    expect(s.mirror).toEqual(s0.mirror);
    expect(s.sept).toEqual(s0.sept);
    expect(s.guest).toEqual(s0.guest);
    expect(s.ledger).toEqual(s0.ledger);
    expect(s.vm.bugged).toBe(true);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('after: freeze → BLOCK/TRACK/REMOVE/WBINVD under the read lock (lockdep only) → leaf gone, VM not bugged', () => {
    const vm = runnableWith(after, [9, 10]);
    const s0 = vm.snapshot();
    const pfn = mirrorLeafPfn(s0, 9);
    const o = vm.apply(op);
    expect(o.result).toBe('0');
    expect(log(o)).toEqual(removeLeafLog(9, pfn));
    expect(onlyWriteLockSplats(o)).toEqual(LEAF_REMOVAL_LOCKDEP_SITES);
    expect(o.violations).toEqual([]);
    const s = vm.snapshot();
    expect(s.mirror).toEqual(s0.mirror.filter(l => !l.includes('L1 gfn=0x9 ')));
    expect(s.sept).toEqual(s0.sept.filter(l => !l.startsWith('L1 gfn=0x9 ')));
    expect(s.guest).toEqual([`gfn=0xa L1 -> pfn=0x${mirrorLeafPfn(s, 10).toString(16)}`]);
    expect(L(s, 'gmem:host') - L(s0, 'gmem:host')).toBe(1);
    expect(L(s, 'stats.4K')).toBe(1);
    expect(s.vm.bugged).toBe(false);
    expect(vm.checkInvariants()).toEqual([]); // consistent: both sides lost the leaf
  });
});

describe('D7: atomic zap of a mirror page table (level 2) while the TD is alive', () => {
  const op = { kind: 'atomicZap', gfn: 9, level: 2, private: true } as const;

  it('before: KVM_BUG_ON mirror-atomic-zap and nothing changes', () => {
    const vm = runnableWith(before, [9, 10]);
    const s0 = vm.snapshot();
    const o = vm.apply(op);
    expect(o.result).toBe('-16');
    expect(o.seamcalls).toEqual([]);
    expect(diags(o)).toEqual(['KVM_BUG_ON mirror-atomic-zap']);
    const s = vm.snapshot();
    expect({ ...s, vm: null }).toEqual({ ...s0, vm: null });
    expect(s.vm.bugged).toBe(true);
    expect(vm.leakReport().leakedOnPurpose).toEqual([]);
  });

  it('after: child leaves removed under the read lock, then free_external_spt with the hkid assigned → KVM_BUG_ON + leak', () => {
    const vm = runnableWith(after, [9, 10]);
    const s0 = vm.snapshot();
    const o = vm.apply(op);
    expect(o.result).toBe('0');
    // both leaves of the removed 4K table, in order; no RECLAIM (the hkid is assigned)
    expect(log(o)).toEqual([...removeLeafLog(9, mirrorLeafPfn(s0, 9)), ...removeLeafLog(10, mirrorLeafPfn(s0, 10))]);
    const last = o.diagnostics[o.diagnostics.length - 1];
    expect(`${last.kind} ${last.category}`).toBe('KVM_BUG_ON page-table-free-with-hkid');
    expect(last.printed).toBe(true);
    expect(onlyWriteLockSplats({ ...o, diagnostics: o.diagnostics.slice(0, -1) })).toEqual(LEAF_REMOVAL_LOCKDEP_SITES);
    expect(o.violations).toEqual([]);
    const s = vm.snapshot();
    expect(entriesOf(s.mirror)).toEqual(['root0 L4 gfn=0x0 table', 'root0 L3 gfn=0x0 table']);
    expect(s.guest).toEqual([]);
    // the module still holds the table (never reclaimed); its page is leaked on purpose
    expect(s.sept).toEqual(['L2 gfn=0x8 table', 'L3 gfn=0x0 table', 'L4 gfn=0x0 table']);
    const r = vm.leakReport();
    expect(r.leakedOnPurpose).toHaveLength(1);
    expect(r.leakedOnPurpose[0]).toMatch(/\(external, leaked, S-EPT table for level-2 entry gfn 0x8\)/);
    expect(L(s, 'external:leaked')).toBe(1);
    expect(L(s, 'gmem:host') - L(s0, 'gmem:host')).toBe(2);
    expect(L(s, 'stats.4K')).toBe(0);
    expect(L(s, 'tdp_mmu_pages')).toBe(L(s0, 'tdp_mmu_pages') - 1);
    expect(s.vm.bugged).toBe(true);
    // spt + header still go through RCU; the callback finds external_spt NULL (no D5 WARN).
    // pendingRcu counts the pages the queued callback holds: spt + header = 2; the external page was
    // leaked on purpose (pointer NULLed), so the callback does not hold it.
    expect(s.pendingRcu).toBe(2);
    expect(vm.digests().pendingRcu).toBe(2);
    const g = vm.apply(GRACE);
    expect(g.result).toBe('ran=1'); // one callback
    expect(g.diagnostics).toEqual([]);
    expect(g.violations).toEqual([]);
    expect(vm.snapshot().pendingRcu).toBe(0);
    // the leaked external page stays leaked after the grace period (I-ext-once (c))
    expect(L(vm.snapshot(), 'external:leaked')).toBe(1);
  });

  // Teardown after D7. The S-EPT reclaims of the other tables succeed: RECLAIM does not look at a
  // table's contents (tdx-module.md §1.4, so the L3 parent of the leaked table goes too), but the
  // leaked level-2 table is still a child of the TD: the TDR reclaim then fails with
  // TDX_TD_ASSOCIATED_PAGES_EXIST (tdh_phymem_page_reclaim.c L165; TDX_BUG_ON_3(…, NULL), silenced
  // because the VM is already bugged) and the TDR leaks too (tdx.c tdx_reclaim_td_control_pages).
  it('after: the destroy that follows reclaims every remaining table; the D7 page and, through the child count, the TDR stay leaked', () => {
    const vm = runnableWith(after, [9, 10]);
    vm.apply(op);
    const d = vm.apply({ kind: 'destroy' });
    expect(log(d).filter(l => l.startsWith('PHYMEM.PAGE.RECLAIM'))).toEqual([
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=3 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM gfn=0x0 level=4 -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS',
      'PHYMEM.PAGE.RECLAIM control=TDR -> TDX_TD_ASSOCIATED_PAGES_EXIST',
    ]);
    expect(diags(d)).toEqual(['TDX_BUG_ON reclaim-failed']);
    expect(d.diagnostics[0].printed).toBe(false); // the VM is bugged since the D7 zap
    const r = vm.leakReport();
    expect(r.leaked).toEqual([]);
    expect(r.leakedOnPurpose).toHaveLength(2);
    expect(r.leakedOnPurpose[0]).toMatch(/\(tdxControl, leaked, TDR\): TDR: reclaim failed/);
    expect(r.leakedOnPurpose[1]).toMatch(/\(external, leaked, S-EPT table for level-2 entry gfn 0x8\)/);
  });
});

describe('D10: private read fault, then a write fault on the same gfn (present leaf → present leaf)', () => {
  function readThenWrite(vm: DesignInstance): { read: OpOutcome; write: OpOutcome; pfn: number; mirrorBefore: string[]; septBefore: string[] } {
    const read = vm.apply(pf(9, { write: false }));
    const s = vm.snapshot();
    return { read, pfn: mirrorLeafPfn(s, 9), mirrorBefore: s.mirror, septBefore: s.sept, write: vm.apply(pf(9)) };
  }

  it.each([before, after])('$name: the read fault maps a read-only private leaf (TDX WARNs: not RWX)', design => {
    const vm = vmWith(design, [FINALIZE]);
    const { read, pfn } = readThenWrite(vm);
    expect(read.result).toBe('FIXED');
    expect(diags(read)).toEqual(['WARN_ON_ONCE private-leaf-not-rwx']);
    expect(log(read).slice(-1)).toEqual([`PAGE.AUG gfn=0x9 level=1 pfn=0x${pfn.toString(16)} -> SUCCESS`]);
  });

  it('before: KVM_BUG_ON mirror-present-overwrite, PAGE.AUG fails (non-BUSY) → TDX_BUG_ON → -EIO, mirror restored', () => {
    const vm = vmWith(before, [FINALIZE]);
    const { write, pfn, mirrorBefore, septBefore } = readThenWrite(vm);
    expect(write.result).toBe('-EIO');
    expect(log(write)).toEqual([`PAGE.AUG gfn=0x9 level=1 pfn=0x${pfn.toString(16)} -> TDX_EPT_ENTRY_STATE_INCORRECT`]);
    expect(diags(write)).toEqual(['KVM_BUG_ON mirror-present-overwrite', 'TDX_BUG_ON seamcall-failed']);
    const s = vm.snapshot();
    expect(s.mirror).toEqual(mirrorBefore);
    expect(s.mirror).toContain(`root0 L1 gfn=0x9 leaf pfn=0x${pfn.toString(16)} RO A`);
    expect(s.sept).toEqual(septBefore);
    expect(s.vm.bugged).toBe(true);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('after: TDX removes the old leaf (BLOCK..WBINVD), the mirror takes the new value → mirror-sept-mismatch, no bug', () => {
    const vm = vmWith(after, [FINALIZE]);
    const { write, pfn, septBefore } = readThenWrite(vm);
    expect(write.result).toBe('FIXED');
    expect(log(write)).toEqual(removeLeafLog(9, pfn));
    expect(onlyWriteLockSplats(write)).toEqual(LEAF_REMOVAL_LOCKDEP_SITES);
    const s = vm.snapshot();
    expect(s.mirror).toContain(`root0 L1 gfn=0x9 leaf pfn=0x${pfn.toString(16)} W A`);
    expect(s.sept).toEqual(septBefore.filter(l => !l.startsWith('L1 ')));
    expect(s.guest).toEqual([]);
    expect(s.vm.bugged).toBe(false);
    const v = vm.checkInvariants();
    expect(v.map(x => x.kind)).toEqual(['mirror-sept-mismatch']);
    expect(v[0].detail).toContain('gfn=0x9');
  });
});

describe('D13: aging with mirror roots included', () => {
  const ageAll = { kind: 'age', start: 0, end: 512, mirror: true } as const;
  const setup = [FINALIZE, pf(9), sf(9, { vcpu: 1 })];

  it('before: clears the Accessed bit of the mirror leaf silently', () => {
    const vm = vmWith(before, setup);
    const s0 = vm.snapshot();
    const o = vm.apply(ageAll);
    expectClean(o);
    expect(o.result).toBe('young=2');
    expect(o.seamcalls).toEqual([]);
    const s = vm.snapshot();
    const pfn = mirrorLeafPfn(s0, 9).toString(16);
    expect(s0.mirror).toContain(`root0 L1 gfn=0x9 leaf pfn=0x${pfn} W A`);
    expect(s.mirror).toContain(`root0 L1 gfn=0x9 leaf pfn=0x${pfn} W`);
    expect(s.direct.some(l => /L1 gfn=0x9 leaf .* A\b/.test(l))).toBe(false);
    expect(s.sept).toEqual(s0.sept);
  });

  it('after: WARN_ON_ONCE aging-mirror-spte and the mirror leaf is left alone; the direct leaf is still aged', () => {
    const vm = vmWith(after, setup);
    const s0 = vm.snapshot();
    const o = vm.apply(ageAll);
    expect(o.result).toBe('young=1');
    expect(diags(o)).toEqual(['WARN_ON_ONCE aging-mirror-spte']);
    expect(o.diagnostics[0].printed).toBe(true);
    const s = vm.snapshot();
    expect(s.mirror).toEqual(s0.mirror);
    expect(s.direct.some(l => /L1 gfn=0x9 leaf .* A\b/.test(l))).toBe(false);
    expect(vm.snapshot().vm.bugged).toBe(false);
    const again = vm.apply(ageAll);
    expect(diags(again)).toEqual(['WARN_ON_ONCE aging-mirror-spte']);
    expect(again.diagnostics[0].printed).toBe(false); // once
  });

  it.each([before, after])('$name: legal aging (mirror: false) never looks at the mirror tree', design => {
    const vm = vmWith(design, setup);
    const s0 = vm.snapshot();
    const o = vm.apply({ ...ageAll, mirror: false });
    expectClean(o);
    expect(o.result).toBe('young=1');
    expect(vm.snapshot().mirror).toEqual(s0.mirror);
  });
});
