// Private 4K faults (kernel-model §2.1, §2.2, §2.3/§2.3A, §2.13, §2.14, I-add-aug): before FINALIZE
// the leaf goes in with PAGE.ADD, after it with PAGE.AUG; missing tables are linked top-down with
// SEPT.ADD first. Both designs must issue exactly the same SEAMCALLs (D1: "same SEAMCALL sequence for
// all legal transitions") and end in the same state.
import { describe, expect, it } from 'vitest';
import {
  comparable,
  COMPACT, DESIGNS, FINALIZE, L, entriesOf, after, before, expectClean, log, mirrorEntries, mirrorLeafPfn, pf, runnableWith, sf,
} from './helpers';

describe.each(DESIGNS)('private 4K fault — $name', design => {
  it('before FINALIZE: SEPT.ADD for each missing table top-down, then PAGE.ADD (no AUG)', () => {
    const vm = design.create(COMPACT);
    const o = vm.apply(pf(9));
    expectClean(o);
    expect(o.result).toBe('FIXED');
    const s = vm.snapshot();
    const pfn = mirrorLeafPfn(s, 9);
    expect(log(o)).toEqual([
      'SEPT.ADD gfn=0x0 level=4 -> SUCCESS',
      'SEPT.ADD gfn=0x0 level=3 -> SUCCESS',
      'SEPT.ADD gfn=0x8 level=2 -> SUCCESS',
      `PAGE.ADD gfn=0x9 level=1 pfn=0x${pfn.toString(16)} -> SUCCESS`,
    ]);
    expect(mirrorEntries(s)).toEqual([
      'root0 L4 gfn=0x0 table',
      'root0 L3 gfn=0x0 table',
      'root0 L2 gfn=0x8 table',
      `root0 L1 gfn=0x9 leaf pfn=0x${pfn.toString(16)} W A`,
    ]);
    expect(s.sept).toEqual([`L1 gfn=0x9 leaf pfn=0x${pfn.toString(16)}`, 'L2 gfn=0x8 table', 'L3 gfn=0x0 table', 'L4 gfn=0x0 table']);
    expect(s.guest).toEqual([`gfn=0x9 L1 -> pfn=0x${pfn.toString(16)}`]);
    expect(s.vm).toEqual({ bugged: false, hkid: 1, tdState: 'INITIALIZED', destroyed: false });
    // three external pages now belong to the TDX module, one guest page too; nothing freed
    expect(L(s, 'external:tdx')).toBe(3);
    expect(L(s, 'gmem:tdx')).toBe(1);
    expect(L(s, 'gmem:host')).toBe(0);
    expect(L(s, 'external:free') + L(s, 'shadow:free') + L(s, 'header:free')).toBe(0);
    expect(L(s, 'tdp_mmu_pages')).toBe(3);
    expect(L(s, 'stats.4K')).toBe(1);
    expect(s.pendingRcu).toBe(0);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('after FINALIZE: SEPT.ADD for the missing tables only, then PAGE.AUG', () => {
    const vm = design.create(COMPACT);
    expectClean(vm.apply(pf(9)));
    expectClean(vm.apply(FINALIZE));
    // gfn 0x64: the L4 entry exists, the L3 entry 0x40 and the L2 entry 0x60 do not
    const o = vm.apply(pf(0x64));
    expectClean(o);
    expect(o.result).toBe('FIXED');
    const s = vm.snapshot();
    const pfn = mirrorLeafPfn(s, 0x64);
    expect(log(o)).toEqual([
      'SEPT.ADD gfn=0x40 level=3 -> SUCCESS',
      'SEPT.ADD gfn=0x60 level=2 -> SUCCESS',
      `PAGE.AUG gfn=0x64 level=1 pfn=0x${pfn.toString(16)} -> SUCCESS`,
    ]);
    expect(s.vm.tdState).toBe('RUNNABLE');
    expect(s.sept).toContain(`L1 gfn=0x64 leaf pfn=0x${pfn.toString(16)}`);
    expect(s.guest).toEqual([`gfn=0x64 L1 -> pfn=0x${pfn.toString(16)}`, `gfn=0x9 L1 -> pfn=0x${mirrorLeafPfn(s, 9).toString(16)}`]);
    expect(L(s, 'external:tdx')).toBe(5);
    expect(L(s, 'gmem:tdx')).toBe(2);
    expect(L(s, 'stats.4K')).toBe(2);
    expect(L(s, 'tdp_mmu_pages')).toBe(5);

    // a neighbour in the same 4K table: PAGE.AUG alone
    const o2 = vm.apply(pf(0x65));
    expectClean(o2);
    expect(log(o2)).toEqual([`PAGE.AUG gfn=0x65 level=1 pfn=0x${mirrorLeafPfn(vm.snapshot(), 0x65).toString(16)} -> SUCCESS`]);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('a second fault on a mapped, writable private gfn is SPURIOUS and issues no SEAMCALL', () => {
    const vm = runnableWith(design, [9]);
    const d0 = vm.digests();
    const o = vm.apply(pf(9, { vcpu: 1 }));
    expectClean(o);
    expect(o.result).toBe('SPURIOUS');
    expect(o.seamcalls).toEqual([]);
    const d1 = vm.digests();
    expect({ ...d1, ledger: 0 }).toEqual({ ...d0, ledger: 0 }); // vCPU 1's cache top-up aside, nothing changed
  });

  it('a shared fault touches only the direct tree: no SEAMCALL, no external page handed out', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(sf(9, { vcpu: 1 }));
    expectClean(o);
    expect(o.result).toBe('FIXED');
    expect(o.seamcalls).toEqual([]);
    const s = vm.snapshot();
    expect(s.mirror).toEqual(s0.mirror);
    expect(s.sept).toEqual(s0.sept);
    expect(entriesOf(s.direct)).toHaveLength(4); // 3 tables + the 4K leaf
    expect(L(s, 'external:tdx')).toBe(L(s0, 'external:tdx'));
    expect(L(s, 'tdp_mmu_pages')).toBe(L(s0, 'tdp_mmu_pages') + 3);
    expect(vm.checkInvariants()).toEqual([]);
  });
});

describe('private 4K fault — before vs after', () => {
  it('both designs issue the same SEAMCALLs and reach the same state, before and after FINALIZE', () => {
    const ops = [pf(9), pf(0x1f0, { vcpu: 1 }), FINALIZE, pf(10), pf(0x64, { vcpu: 1 }), pf(0x1ff)];
    const b = before.create(COMPACT);
    const a = after.create(COMPACT);
    for (const op of ops) {
      const ob = b.apply(op);
      const oa = a.apply(op);
      expect(comparable(oa)).toEqual(comparable(ob));
      expect(a.snapshot()).toEqual(b.snapshot());
      expect(a.digests()).toEqual(b.digests());
    }
  });
});
