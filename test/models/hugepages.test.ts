// config.hugePages: Sean's TDX huge-page series as the model reads it (kernel-model §2.11 last
// bullet, marked [?] there): 2M private leaves via PAGE.AUG at level 2, mirror split with
// BLOCK, TRACK, PAGE.DEMOTE under the write lock, and a clean teardown.
import { describe, expect, it } from 'vitest';
import type { Op } from '../../impls/api';
import {
  comparable,
  COMPACT_HUGE, DESIGNS, DESTROY, FINALIZE, L, entriesOf, expectClean, log, mirrorLeafPfn, onBoth, pf, vmWith, zapPrivate,
} from './helpers';

const huge = (gfn: number, extra = {}) => pf(gfn, { maxLevel: 2, ...extra });
const SPLIT: Op = { kind: 'split', start: 0, end: 512, targetLevel: 1, private: true, shared: false };

describe.each(DESIGNS)('hugePages — $name', design => {
  it('private fault with maxLevel 2 after FINALIZE: PAGE.AUG of a 2M leaf (8 guest pages)', () => {
    const vm = vmWith(design, [FINALIZE], COMPACT_HUGE);
    const o = vm.apply(huge(9));
    expectClean(o);
    expect(o.result).toBe('FIXED');
    const s = vm.snapshot();
    const pfn = mirrorLeafPfn(s, 8, 2);
    expect(log(o)).toEqual([
      'SEPT.ADD gfn=0x0 level=4 -> SUCCESS',
      'SEPT.ADD gfn=0x0 level=3 -> SUCCESS',
      `PAGE.AUG gfn=0x8 level=2 pfn=0x${pfn.toString(16)} -> SUCCESS`,
    ]);
    expect(entriesOf(s.mirror)).toEqual([
      'root0 L4 gfn=0x0 table', 'root0 L3 gfn=0x0 table', `root0 L2 gfn=0x8 leaf pfn=0x${pfn.toString(16)} W A`,
    ]);
    expect(s.sept).toEqual([`L2 gfn=0x8 leaf pfn=0x${pfn.toString(16)}`, 'L3 gfn=0x0 table', 'L4 gfn=0x0 table']);
    expect(s.guest).toEqual([`gfn=0x8 L2 -> pfn=0x${pfn.toString(16)}`]);
    expect(L(s, 'gmem:tdx')).toBe(8);
    expect(L(s, 'stats.2M')).toBe(1);
    expect(L(s, 'stats.4K')).toBe(0);
    expect(L(s, 'tdp_mmu_pages')).toBe(2);
    expect(vm.checkInvariants()).toEqual([]);
    // another gfn in the same 2M range is already mapped
    const o2 = vm.apply(huge(12, { vcpu: 1 }));
    expect(o2.result).toBe('SPURIOUS');
    expect(o2.seamcalls).toEqual([]);
  });

  it('before FINALIZE a maxLevel-2 private fault is mapped 4K with PAGE.ADD (PAGE.ADD is 4K only)', () => {
    const vm = design.create(COMPACT_HUGE);
    const o = vm.apply(huge(9));
    expectClean(o);
    expect(o.seamcalls.map(c => `${c.call} ${c.args.replace(/ pfn=.*/, '')}`)).toEqual([
      'SEPT.ADD gfn=0x0 level=4', 'SEPT.ADD gfn=0x0 level=3', 'SEPT.ADD gfn=0x8 level=2', 'PAGE.ADD gfn=0x9 level=1',
    ]);
    expect(L(vm.snapshot(), 'stats.4K')).toBe(1);
  });

  it('split of the private 2M leaf to 4K: BLOCK, TRACK, PAGE.DEMOTE; the same 8 pages stay mapped', () => {
    const vm = vmWith(design, [FINALIZE, huge(9)], COMPACT_HUGE);
    const s0 = vm.snapshot();
    const pfn = mirrorLeafPfn(s0, 8, 2);
    const o = vm.apply(SPLIT);
    expectClean(o);
    expect(o.result).toBe('0');
    expect(log(o)).toEqual([
      'RANGE.BLOCK gfn=0x8 level=2 -> SUCCESS',
      'TRACK -> SUCCESS',
      'PAGE.DEMOTE gfn=0x8 level=2 -> SUCCESS',
    ]);
    const s = vm.snapshot();
    const leaves = Array.from({ length: 8 }, (_, i) => i);
    expect(entriesOf(s.mirror)).toEqual([
      'root0 L4 gfn=0x0 table', 'root0 L3 gfn=0x0 table', 'root0 L2 gfn=0x8 table',
      ...leaves.map(i => `root0 L1 gfn=0x${(8 + i).toString(16)} leaf pfn=0x${(pfn + i).toString(16)} W A`),
    ]);
    expect(s.sept).toEqual([
      ...leaves.map(i => `L1 gfn=0x${(8 + i).toString(16)} leaf pfn=0x${(pfn + i).toString(16)}`),
      'L2 gfn=0x8 table', 'L3 gfn=0x0 table', 'L4 gfn=0x0 table',
    ].sort());
    expect(s.guest).toHaveLength(8);
    expect(L(s, 'stats.4K')).toBe(8);
    expect(L(s, 'stats.2M')).toBe(0);
    expect(L(s, 'gmem:tdx')).toBe(8);
    expect(L(s, 'tdp_mmu_pages')).toBe(3);
    // the new table's spt and its external page (handed to the module by DEMOTE) come from the split allocation
    expect(L(s, 'split:host')).toBe(1);
    expect(L(s, 'split:tdx')).toBe(1);
    expect(vm.checkInvariants()).toEqual([]);
    // a 4K zap inside the former 2M range is now an ordinary 4K removal
    const z = vm.apply(zapPrivate(9, 10));
    expectClean(z);
    expect(z.seamcalls.map(c => c.call)).toEqual(['RANGE.BLOCK', 'TRACK', 'PAGE.REMOVE', 'PHYMEM.PAGE.WBINVD']);
  });

  it('destroy after the split: every page freed, no leaks', () => {
    const vm = vmWith(design, [FINALIZE, huge(9), huge(0x41, { vcpu: 1 }), SPLIT], COMPACT_HUGE);
    const o = vm.apply(DESTROY);
    expectClean(o);
    expect(o.seamcalls.filter(c => c.result !== 'SUCCESS')).toEqual([]);
    expect(o.seamcalls.filter(c => c.call === 'PAGE.REMOVE').map(c => c.args)).toEqual([
      // the split covered both 2M leaves: sixteen 4K removals, in gfn order
      ...Array.from({ length: 8 }, (_, i) => `gfn=0x${(8 + i).toString(16)} level=1`),
      ...Array.from({ length: 8 }, (_, i) => `gfn=0x${(0x40 + i).toString(16)} level=1`),
    ]);
    expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
    const s = vm.snapshot();
    expect(s.pendingRcu).toBe(0);
    expect(L(s, 'split:free')).toBe(4); // two split tables: spt + external page each
  });

  it('a zap of a 2M private leaf: BLOCK/TRACK/REMOVE at level 2, then WBINVD of each 4K page', () => {
    const vm = vmWith(design, [FINALIZE, huge(9)], COMPACT_HUGE);
    const pfn = mirrorLeafPfn(vm.snapshot(), 8, 2);
    const o = vm.apply(zapPrivate(8, 16));
    expectClean(o);
    expect(log(o)).toEqual([
      'RANGE.BLOCK gfn=0x8 level=2 -> SUCCESS', 'TRACK -> SUCCESS', 'PAGE.REMOVE gfn=0x8 level=2 -> SUCCESS',
      ...Array.from({ length: 8 }, (_, i) => `PHYMEM.PAGE.WBINVD pfn=0x${(pfn + i).toString(16)} -> SUCCESS`),
    ]);
    const s = vm.snapshot();
    expect(L(s, 'gmem:host')).toBe(8);
    expect(L(s, 'stats.2M')).toBe(0);
    expect(vm.checkInvariants()).toEqual([]);
  });
});

describe('hugePages — before vs after', () => {
  it('identical outcomes, snapshots and digests through fault, split, zap and destroy', () => {
    const ops: Op[] = [pf(1), FINALIZE, huge(9), huge(0x41, { vcpu: 1 }), SPLIT, zapPrivate(9, 10), zapPrivate(0x40, 0x48), huge(0x41), DESTROY];
    const { b, a, ob, oa } = onBoth(ops, COMPACT_HUGE);
    expect(comparable(oa)).toEqual(comparable(ob));
    expect(a.snapshot()).toEqual(b.snapshot());
    expect(a.digests()).toEqual(b.digests());
    expect(b.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
  });
});
