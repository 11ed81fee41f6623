// Contention at the install point and around the FROZEN window (kernel-model §2.1 b/e, §2.3/§2.3A,
// F3/F4, I-publish-after, I-ext-once (a)): another vCPU's fault runs to completion just before our
// cmpxchg (race point 'install'), or while our mirror SPTE is FROZEN around the TDX call ('frozen').
import { describe, expect, it } from 'vitest';
import type { Op } from '../../impls/api';
import {
  comparable,
  DESIGNS, L, countOf, expectClean, log, mirrorLeafPfn, onBoth, pf, runnableWith, sf, vmWith, FINALIZE,
} from './helpers';

/** Outer fault on 0x41 (the L3 entry 0x40 is missing); vCPU 1 faults 0x42 right before our link at L3. */
const RACED_LINK: Op = pf(0x41, { race: { at: 'install', level: 3, op: pf(0x42, { vcpu: 1 }) } });

describe.each(DESIGNS)('install race — $name', design => {
  it('a lost link frees the unused SP and its external page at once (no RCU), then the local retry maps the gfn', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(RACED_LINK);
    expectClean(o);
    expect(o.result).toBe('FIXED [race: fault=FIXED]');
    const s = vm.snapshot();
    const p41 = mirrorLeafPfn(s, 0x41);
    const p42 = mirrorLeafPfn(s, 0x42);
    // The racing fault linked both tables; the outer fault lost its cmpxchg before freezing, so it
    // never called SEPT.ADD itself: the L3 SEPT.ADD appears once.
    expect(log(o)).toEqual([
      'SEPT.ADD gfn=0x40 level=3 -> SUCCESS',
      'SEPT.ADD gfn=0x40 level=2 -> SUCCESS',
      `PAGE.AUG gfn=0x42 level=1 pfn=0x${p42.toString(16)} -> SUCCESS`,
      `PAGE.AUG gfn=0x41 level=1 pfn=0x${p41.toString(16)} -> SUCCESS`,
    ]);
    expect(countOf(log(o), 'SEPT.ADD gfn=0x40 level=3 -> SUCCESS')).toBe(1);
    // the unused SP: header, spt and external page freed right away, nothing queued for RCU
    expect(L(s, 'external:free') - L(s0, 'external:free')).toBe(1);
    expect(L(s, 'shadow:free') - L(s0, 'shadow:free')).toBe(1);
    expect(L(s, 'header:free') - L(s0, 'header:free')).toBe(1);
    expect(s.pendingRcu).toBe(0);
    expect(vm.digests().pendingRcu).toBe(0);
    // only the two linked tables are accounted; the module owns exactly their two pages more
    expect(L(s, 'tdp_mmu_pages') - L(s0, 'tdp_mmu_pages')).toBe(2);
    expect(L(s, 'external:tdx') - L(s0, 'external:tdx')).toBe(2);
    expect(L(s, 'stats.4K')).toBe(3);
    expect(s.sept).toEqual(expect.arrayContaining([
      'L3 gfn=0x40 table', 'L2 gfn=0x40 table',
      `L1 gfn=0x41 leaf pfn=0x${p41.toString(16)}`, `L1 gfn=0x42 leaf pfn=0x${p42.toString(16)}`,
    ]));
    expect(vm.checkInvariants()).toEqual([]);
    expect(vm.leakReport().leakedOnPurpose).toEqual([]);
  });

  it('a lost leaf install (same gfn, other vCPU) retries and finds the leaf: SPURIOUS, one PAGE.AUG, nothing freed', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(pf(10, { race: { at: 'install', level: 1, op: pf(10, { vcpu: 1 }) } }));
    expectClean(o);
    expect(o.result).toBe('SPURIOUS [race: fault=FIXED]');
    const s = vm.snapshot();
    expect(log(o)).toEqual([`PAGE.AUG gfn=0xa level=1 pfn=0x${mirrorLeafPfn(s, 10).toString(16)} -> SUCCESS`]);
    expect(L(s, 'external:free') + L(s, 'shadow:free') + L(s, 'header:free')).toBe(0);
    expect(L(s, 'tdp_mmu_pages')).toBe(L(s0, 'tdp_mmu_pages'));
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('a lost link on the direct tree frees the direct SP at once (it has no external page); shared faults do not retry locally', () => {
    const vm = vmWith(design, [FINALIZE, sf(9)]);
    const s0 = vm.snapshot();
    const o = vm.apply(sf(0x41, { race: { at: 'install', level: 3, op: sf(0x42, { vcpu: 1 }) } }));
    expectClean(o);
    expect(o.result).toBe('RETRY [race: fault=FIXED]');
    expect(o.seamcalls).toEqual([]);
    const s = vm.snapshot();
    expect(L(s, 'shadow:free') - L(s0, 'shadow:free')).toBe(1);
    expect(L(s, 'header:free') - L(s0, 'header:free')).toBe(1);
    expect(L(s, 'external:free')).toBe(0);
    expect(s.pendingRcu).toBe(0);
    expect(s.mirror).toEqual(s0.mirror);
  });

  it('a fault that meets a FROZEN entry retries without allocating; the freezer restores on BUSY and then succeeds', () => {
    const vm = runnableWith(design, [9]);
    const s0 = vm.snapshot();
    const o = vm.apply(pf(0x41, {
      fail: [{ at: 'seamcall', call: 'SEPT.ADD', error: 'BUSY' }],
      race: { at: 'frozen', level: 3, op: pf(0x42, { vcpu: 1 }) },
    }));
    expectClean(o);
    // vCPU 1 saw the L3 entry FROZEN on every local retry: RETRY, no SEAMCALL of its own
    expect(o.result).toBe('FIXED [race: fault=RETRY]');
    const s = vm.snapshot();
    expect(log(o)).toEqual([
      'SEPT.ADD gfn=0x40 level=3 -> TDX_OPERAND_BUSY',
      'SEPT.ADD gfn=0x40 level=3 -> SUCCESS',
      'SEPT.ADD gfn=0x40 level=2 -> SUCCESS',
      `PAGE.AUG gfn=0x41 level=1 pfn=0x${mirrorLeafPfn(s, 0x41).toString(16)} -> SUCCESS`,
    ]);
    // exactly one SP freed (the outer fault's first, unlinked one); the racing fault allocated none
    expect(L(s, 'external:free') - L(s0, 'external:free')).toBe(1);
    expect(L(s, 'shadow:free') - L(s0, 'shadow:free')).toBe(1);
    expect(s.pendingRcu).toBe(0);
    expect(s.mirror.some(l => l.includes('gfn=0x42'))).toBe(false);
    expect(vm.checkInvariants()).toEqual([]);
    // the gfn vCPU 1 wanted is still mappable: the path exists now, so only PAGE.AUG
    const o2 = vm.apply(pf(0x42, { vcpu: 1 }));
    expect(o2.result).toBe('FIXED');
    expect(o2.seamcalls.map(c => c.call)).toEqual(['PAGE.AUG']);
  });
});

describe('install race — before vs after', () => {
  it('identical outcomes, snapshots and digests', () => {
    const ops: Op[] = [FINALIZE, pf(9), RACED_LINK, pf(10, { race: { at: 'install', level: 1, op: pf(10, { vcpu: 1 }) } })];
    const { b, a, ob, oa } = onBoth(ops);
    expect(comparable(oa)).toEqual(comparable(ob));
    expect(a.snapshot()).toEqual(b.snapshot());
    expect(a.digests()).toEqual(b.digests());
  });
});
