// Conversion / punch-hole zaps: kvm_tdp_mmu_unmap_gfn_range under the write lock (kernel-model §2.8,
// §2.4, §2.13 leaf removal, §2.14 "mirror page tables are never zapped while the TD is alive",
// I-lock-zap, I-hkid-leaf, I-add-aug: TRACK is a no-op before RUNNABLE).
import { describe, expect, it } from 'vitest';
import type { Op } from '../../impls/api';
import {
  comparable,
  COMPACT, DESIGNS, FINALIZE, L, expectClean, log, mirrorLeafPfn, onBoth, pf, removeLeafLog, runnableWith, sf, vmWith,
  zapPrivate,
} from './helpers';

describe.each(DESIGNS)('conversion zap (attr private) — $name', design => {
  it('BLOCK, TRACK, REMOVE, WBINVD in that order, under the write lock; the guest page goes back to guest_memfd', () => {
    const vm = runnableWith(design, [9, 10]);
    const s0 = vm.snapshot();
    const pfn = mirrorLeafPfn(s0, 10);
    const o = vm.apply(zapPrivate(10, 11));
    expectClean(o); // in particular: no lockdep diagnostic (mmu_lock held for write)
    expect(o.result).toBe('flush');
    expect(log(o)).toEqual(removeLeafLog(10, pfn));
    const s = vm.snapshot();
    // mirror leaf, S-EPT leaf and guest mapping gone; the other leaf untouched
    expect(s.mirror).toEqual(s0.mirror.filter(l => !l.includes('L1 gfn=0xa ')));
    expect(s.sept).toEqual(s0.sept.filter(l => !l.startsWith('L1 gfn=0xa ')));
    expect(s.guest).toEqual([`gfn=0x9 L1 -> pfn=0x${mirrorLeafPfn(s, 9).toString(16)}`]);
    // the page is the host's (guest_memfd's) again; page tables stay (only leaves are zapped)
    expect(L(s, 'gmem:host') - L(s0, 'gmem:host')).toBe(1);
    expect(L(s, 'gmem:tdx') - L(s0, 'gmem:tdx')).toBe(-1);
    expect(L(s, 'stats.4K') - L(s0, 'stats.4K')).toBe(-1);
    expect(L(s, 'tdp_mmu_pages')).toBe(L(s0, 'tdp_mmu_pages'));
    expect(L(s, 'external:tdx')).toBe(L(s0, 'external:tdx'));
    expect(s.pendingRcu).toBe(0);
    expect(s.vm.bugged).toBe(false);
    expect(vm.checkInvariants()).toEqual([]);
    // the gfn can be faulted in again: PAGE.AUG of the same guest page, no SEPT.ADD
    const o2 = vm.apply(pf(10));
    expectClean(o2);
    expect(log(o2)).toEqual([`PAGE.AUG gfn=0xa level=1 pfn=0x${pfn.toString(16)} -> SUCCESS`]);
  });

  it('a range zap removes every private leaf in it, one full sequence per leaf, in gfn order', () => {
    const vm = runnableWith(design, [9, 0x41, 10]);
    const s0 = vm.snapshot();
    const o = vm.apply(zapPrivate(0, 0x48));
    expectClean(o);
    expect(log(o)).toEqual([
      ...removeLeafLog(9, mirrorLeafPfn(s0, 9)),
      ...removeLeafLog(10, mirrorLeafPfn(s0, 10)),
      ...removeLeafLog(0x41, mirrorLeafPfn(s0, 0x41)),
    ]);
    const s = vm.snapshot();
    expect(s.guest).toEqual([]);
    expect(s.sept.filter(l => l.startsWith('L1 '))).toEqual([]);
    expect(L(s, 'gmem:tdx')).toBe(0);
    expect(L(s, 'stats.4K')).toBe(0);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('before FINALIZE the removal skips TRACK (tdx_track is a no-op until RUNNABLE)', () => {
    const vm = vmWith(design, [pf(9)]);
    const pfn = mirrorLeafPfn(vm.snapshot(), 9);
    const o = vm.apply(zapPrivate(9, 10));
    expectClean(o);
    expect(log(o)).toEqual(removeLeafLog(9, pfn, false));
    expect(vm.snapshot().guest).toEqual([]);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('a shared-only zap never touches the mirror tree or the TDX module', () => {
    const vm = vmWith(design, [FINALIZE, pf(9), sf(9, { vcpu: 1 })]);
    const s0 = vm.snapshot();
    const o = vm.apply({ kind: 'zap', start: 0, end: 512, attr: 'shared' });
    expectClean(o);
    expect(o.result).toBe('flush');
    expect(o.seamcalls).toEqual([]);
    const s = vm.snapshot();
    expect(s.mirror).toEqual(s0.mirror);
    expect(s.sept).toEqual(s0.sept);
    expect(s.direct.some(l => l.includes(' leaf '))).toBe(false);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('a zap of a range with no private leaf is a no-op', () => {
    const vm = runnableWith(design, [9]);
    const d0 = vm.digests();
    const o = vm.apply(zapPrivate(0x100, 0x200));
    expectClean(o);
    expect(o.result).toBe('no-flush');
    expect(o.seamcalls).toEqual([]);
    expect(vm.digests()).toEqual(d0);
  });
});

describe('conversion zap — before vs after', () => {
  it('identical SEAMCALLs, outcomes and states (D1: same SEAMCALL sequence for legal transitions)', () => {
    const ops: Op[] = [
      pf(1), FINALIZE, pf(9), pf(10), sf(9, { vcpu: 1 }), zapPrivate(10, 11), { kind: 'zap', start: 0, end: 64, attr: 'both' }, pf(10),
    ];
    const { b, a, ob, oa } = onBoth(ops, COMPACT);
    expect(comparable(oa)).toEqual(comparable(ob));
    expect(a.snapshot()).toEqual(b.snapshot());
    expect(a.digests()).toEqual(b.digests());
  });
});
