// SEAMCALL contention and errors (kernel-model §2.1 step 5, §2.3/§2.3A, §2.13, F6/F7/F8,
// I-publish-after, I-frozen-transient, D11, D12).
import { describe, expect, it } from 'vitest';
import type { Op } from '../../impls/api';
import {
  comparable,
  DESIGNS, L, diags, expectClean, log, mirrorLeafPfn, onBoth, pf, runnableWith, zapPrivate, FINALIZE,
  pageIds, removeLeafLog,
} from './helpers';

/** BUSY on the first n calls of `call` within one op. */
function busy(call: 'SEPT.ADD' | 'PAGE.AUG' | 'RANGE.BLOCK' | 'PAGE.REMOVE' | 'TRACK', n = 1) {
  return Array.from({ length: n }, (_, i) => ({ at: 'seamcall' as const, call, error: 'BUSY' as const, nth: i + 1 }));
}

describe.each(DESIGNS)('F6: BUSY from SEPT.ADD / PAGE.AUG — $name', design => {
  it('SEPT.ADD BUSY: mirror restored, unused SP freed at once, the local retry succeeds, nothing leaked', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(pf(0x81, { fail: busy('SEPT.ADD') }));
    expectClean(o);
    expect(o.result).toBe('FIXED');
    const s = vm.snapshot();
    expect(log(o)).toEqual([
      'SEPT.ADD gfn=0x80 level=3 -> TDX_OPERAND_BUSY',
      'SEPT.ADD gfn=0x80 level=3 -> SUCCESS',
      'SEPT.ADD gfn=0x80 level=2 -> SUCCESS',
      `PAGE.AUG gfn=0x81 level=1 pfn=0x${mirrorLeafPfn(s, 0x81).toString(16)} -> SUCCESS`,
    ]);
    // the SP whose SEPT.ADD failed was never reachable: freed immediately with its external page
    expect(L(s, 'external:free') - L(s0, 'external:free')).toBe(1);
    expect(L(s, 'shadow:free') - L(s0, 'shadow:free')).toBe(1);
    expect(L(s, 'header:free') - L(s0, 'header:free')).toBe(1);
    expect(s.pendingRcu).toBe(0);
    expect(L(s, 'external:tdx') - L(s0, 'external:tdx')).toBe(2);
    expect(L(s, 'external:leaked')).toBe(0);
    expect(L(s, 'stats.4K') - L(s0, 'stats.4K')).toBe(1);
    expect(vm.checkInvariants()).toEqual([]); // in particular no FROZEN left reachable
    expect(vm.leakReport().leakedOnPurpose).toEqual([]);
    // teardown: no leaks
    expectClean(vm.apply({ kind: 'destroy' }));
    expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
  });

  it('SEPT.ADD BUSY on every local retry: RETRY, the mirror is exactly as before, no FROZEN left, stats unchanged', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(pf(0x81, { fail: busy('SEPT.ADD', 20) }));
    expectClean(o);
    expect(o.result).toBe('RETRY');
    expect(o.seamcalls.length).toBeGreaterThan(1);
    expect(o.seamcalls.every(c => c.call === 'SEPT.ADD' && c.args === 'gfn=0x80 level=3' && c.result === 'TDX_OPERAND_BUSY')).toBe(true);
    const s = vm.snapshot();
    expect(s.mirror).toEqual(s0.mirror);
    expect(s.sept).toEqual(s0.sept);
    expect(s.guest).toEqual(s0.guest);
    expect(s.vm).toEqual(s0.vm);
    expect(L(s, 'stats.4K')).toBe(L(s0, 'stats.4K'));
    expect(L(s, 'tdp_mmu_pages')).toBe(L(s0, 'tdp_mmu_pages'));
    // one unused SP freed per attempt
    expect(L(s, 'external:free')).toBe(o.seamcalls.length);
    expect(s.pendingRcu).toBe(0);
    expect(vm.checkInvariants()).toEqual([]);
    // the gfn is not stuck: a later fault maps it
    const o2 = vm.apply(pf(0x81));
    expect(o2.result).toBe('FIXED');
    expect(o2.seamcalls.map(c => `${c.call} ${c.result}`)).toEqual(['SEPT.ADD SUCCESS', 'SEPT.ADD SUCCESS', 'PAGE.AUG SUCCESS']);
  });

  it('PAGE.AUG BUSY: leaf restored to non-present, retried once, stats counted once', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(pf(10, { fail: busy('PAGE.AUG') }));
    expectClean(o);
    expect(o.result).toBe('FIXED');
    const pfn = mirrorLeafPfn(vm.snapshot(), 10).toString(16);
    expect(log(o)).toEqual([
      `PAGE.AUG gfn=0xa level=1 pfn=0x${pfn} -> TDX_OPERAND_BUSY`,
      `PAGE.AUG gfn=0xa level=1 pfn=0x${pfn} -> SUCCESS`,
    ]);
    expect(L(vm.snapshot(), 'stats.4K') - L(s0, 'stats.4K')).toBe(1);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('PAGE.AUG BUSY on every retry: no leaf, no stats change (D11), guest page still the host\'s', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(pf(10, { fail: busy('PAGE.AUG', 20) }));
    expectClean(o);
    expect(o.result).toBe('RETRY');
    const s = vm.snapshot();
    expect(s.mirror).toEqual(s0.mirror);
    expect(s.sept).toEqual(s0.sept);
    expect(L(s, 'stats.4K')).toBe(L(s0, 'stats.4K'));
    expect(L(s, 'gmem:tdx')).toBe(L(s0, 'gmem:tdx'));
    expect(L(s, 'gmem:host')).toBe(1);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('F8: a non-BUSY SEPT.ADD error bugs the VM (TDX_BUG_ON), restores the mirror, frees the SP; later faults get -EIO', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(pf(0x81, { fail: [{ at: 'seamcall', call: 'SEPT.ADD', error: 'ERROR' }] }));
    expect(o.result).toBe('-EIO');
    expect(log(o)).toEqual(['SEPT.ADD gfn=0x80 level=3 -> TDX_OPERAND_INVALID']);
    expect(diags(o)).toEqual(['TDX_BUG_ON seamcall-failed']);
    expect(o.violations).toEqual([]);
    const s = vm.snapshot();
    expect(s.vm.bugged).toBe(true);
    expect(s.mirror).toEqual(s0.mirror);
    expect(L(s, 'external:free') - L(s0, 'external:free')).toBe(1);
    expect(vm.checkInvariants()).toEqual([]);
    const o2 = vm.apply(pf(0x81));
    expect(o2.result).toBe('-EIO');
    expect(o2.seamcalls).toEqual([]);
  });
});

describe.each(DESIGNS)('F7: BUSY from the leaf-removal SEAMCALLs — $name', design => {
  it('one BUSY from RANGE.BLOCK is retried once with the vCPUs kicked out: no diagnostic', () => {
    const vm = runnableWith(design, [9]);
    const pfn = mirrorLeafPfn(vm.snapshot(), 9);
    const o = vm.apply({ ...zapPrivate(9, 10), fail: busy('RANGE.BLOCK') });
    expectClean(o);
    expect(log(o)).toEqual(['RANGE.BLOCK gfn=0x9 level=1 -> TDX_OPERAND_BUSY', ...removeLeafLog(9, pfn)]);
    expect(vm.snapshot().guest).toEqual([]);
    expect(vm.checkInvariants()).toEqual([]);
  });
});

describe('F7/D12: PAGE.REMOVE BUSY twice — before vs after', () => {
  const ops: Op[] = [FINALIZE, pf(9), { ...zapPrivate(9, 10), fail: busy('PAGE.REMOVE', 2) }];

  it('both: TDX_BUG_ON, VM bugged, mirror leaf already gone, S-EPT leaf left BLOCKED; SEAMCALLs identical', () => {
    const { b, a, ob, oa } = onBoth(ops);
    const zb = ob[2];
    const za = oa[2];
    expect(log(za)).toEqual(log(zb));
    expect(log(zb)).toEqual([
      'RANGE.BLOCK gfn=0x9 level=1 -> SUCCESS',
      'TRACK -> SUCCESS',
      'PAGE.REMOVE gfn=0x9 level=1 -> TDX_OPERAND_BUSY',
      'PAGE.REMOVE gfn=0x9 level=1 -> TDX_OPERAND_BUSY',
    ]);
    for (const vm of [b, a]) {
      const s = vm.snapshot();
      expect(s.vm.bugged).toBe(true);
      expect(s.mirror.some(l => l.includes('L1 gfn=0x9 '))).toBe(false);
      expect(s.sept).toContain(`L1 gfn=0x9 leaf pfn=0x${(/pfn=0x([0-9a-f]+)/.exec(s.sept[0])![1])} BLOCKED`);
      expect(s.guest).toEqual([]);
      expect(L(s, 'gmem:tdx')).toBe(1);
    }
    expect(b.snapshot().sept).toEqual(a.snapshot().sept);
  });

  it('D12: before — only TDX bugs the VM; after — TDX, then handle_changed_spte\'s KVM_BUG_ON (not printed: already bugged)', () => {
    const { ob, oa } = onBoth(ops);
    expect(diags(ob[2])).toEqual(['TDX_BUG_ON seamcall-failed']);
    expect(diags(oa[2])).toEqual(['TDX_BUG_ON seamcall-failed', 'KVM_BUG_ON external-change-failed']);
    expect(oa[2].diagnostics[1].printed).toBe(false);
  });

  it('§2.5A step 7: after returns before the stats update, so the 4K count keeps the zapped leaf; before already dropped it', () => {
    const { b, a } = onBoth(ops);
    expect(L(b.snapshot(), 'stats.4K')).toBe(0);
    expect(L(a.snapshot(), 'stats.4K')).toBe(1);
    // the VM is bugged in both, so the I-stats check does not apply (observe.ts exempts a bugged VM)
    expect(b.checkInvariants()).toEqual([]);
    expect(a.checkInvariants()).toEqual([]);
    const db = b.digests(), da = a.digests();
    expect(da.stats).not.toBe(db.stats);
    expect({ ...da, stats: 0 }).toEqual({ ...db, stats: 0 }); // the stats are the only difference
  });

  it('teardown after the failed removal: same leak set in both designs, nothing leaked by accident', () => {
    const { b, a } = onBoth([...ops, { kind: 'destroy' }]);
    expect(b.leakReport().leaked).toEqual([]);
    expect(a.leakReport().leaked).toEqual([]);
    expect(pageIds(a.leakReport().leakedOnPurpose)).toEqual(pageIds(b.leakReport().leakedOnPurpose));
    // the guest page the TDX module still holds is among them
    expect(b.leakReport().leakedOnPurpose.some(l => l.includes('(gmem, leaked'))).toBe(true);
  });
});

describe('F6/F8 — before vs after', () => {
  it('identical outcomes and digests for BUSY and error injections on the map path', () => {
    const ops: Op[] = [
      pf(3), FINALIZE, pf(9), pf(0x81, { fail: busy('SEPT.ADD') }), pf(0xc1, { fail: [{ at: 'seamcall', call: 'SEPT.ADD', error: 'BUSY', nth: 2 }] }),
      pf(10, { fail: busy('PAGE.AUG', 20) }), pf(11, { fail: busy('PAGE.AUG') }), { ...zapPrivate(9, 10), fail: busy('RANGE.BLOCK') },
    ];
    const { b, a, ob, oa } = onBoth(ops);
    expect(comparable(oa)).toEqual(comparable(ob));
    expect(a.snapshot()).toEqual(b.snapshot());
    expect(a.digests()).toEqual(b.digests());
  });
});
