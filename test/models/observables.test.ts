// The observables of issue 9 item 6, flow by flow: the kvm_tdp_mmu_spte_changed trace
// (mmutrace.h; handle_changed_spte in tdp_mmu.c), the execution context (RCU callback = softirq,
// per-actor mmu_lock / RCU read side), and iterator reuse at __tdp_mmu_zap_root's retry. Each block
// has a variant that the observable catches and that nothing caught before it existed.
import { describe, expect, it } from 'vitest';
import type { Op, OpOutcome } from '../../impls/api';
import { AfterDesign } from '../../impls/after/tdp_mmu';
import { FROZEN } from '../../impls/machine/spte';
import type { KvmMmuPage } from '../../impls/tdp_mmu/sp';
import type { DesignInstance } from '../../impls/api';
import { AfterAllocInRcuCallback, AfterReclaimInRcuCallback } from '../variants/rcu_callback';
import { AfterStaleOldSpte } from '../variants/stale_old_spte';
import { COMPACT, DESTROY, FINALIZE, after, before, diags, pf, sf } from './helpers';

/** Applies ops in order; each outcome carries its trace events (lastTrace, read right after the op). */
function run(vm: DesignInstance, ops: readonly Op[]): OpOutcome[] {
  return ops.map(op => { const o = vm.apply(op); o.traceList = vm.lastTrace!(); return o; });
}

/** (gfn, level, old, new, tree) of each event, readable. */
function events(o: OpOutcome): string[] {
  const t = o.traceList!, out: string[] = [];
  const v = (x: number): string => (x === -1 ? 'table' : x === FROZEN ? 'FROZEN' : x === 0 ? 'NP' : 'leaf');
  for (let i = 0; i < t.length; i += 4) out.push(`${t[i + 1] % 16 >= 8 ? 'M' : 'D'} L${t[i + 1] % 8} 0x${t[i].toString(16)} ${v(t[i + 2])}>${v(t[i + 3])}`);
  return out;
}

/** The v2 posting (series.md §3): no trace for a non-present → non-present change. */
class AfterV2MissingTrace extends AfterDesign {
  protected override traceNonPresentChange(): void { /* lost */ }
}
const v2 = { name: 'v2', description: 'v2: no trace for non-present ↔ non-present', create: (c: typeof COMPACT) => new AfterV2MissingTrace('v2', c) };

// A direct 4K leaf at 0x10 (tables at L3, L2, L1), then a fast zap: the root is zapped under the read
// lock, so handle_removed_pt freezes every entry of each removed table, non-present ones included.
const FAST_ZAP: Op[] = [sf(0x10), { kind: 'invalidateDirect' }];

describe('kvm_tdp_mmu_spte_changed', () => {
  it('records each handled change: a fault traces the tables it links and the leaf', () => {
    for (const d of [before, after]) {
      const vm = d.create(COMPACT);
      const [o] = run(vm, [sf(0x10)]);
      expect(events(o), d.name).toEqual(['D L4 0x0 NP>table', 'D L3 0x0 NP>table', 'D L2 0x10 NP>table', 'D L1 0x10 NP>leaf']);
    }
  });

  it('before traces a removed table before its children, after traces it after them (D17)', () => {
    const ob = run(before.create(COMPACT), FAST_ZAP)[1];
    const oa = run(after.create(COMPACT), FAST_ZAP)[1];
    const b = events(ob), a = events(oa);
    expect([...a].sort()).toEqual([...b].sort()); // same events
    // the L2 entry linking the L1 table: before traces it first, then the 8 frozen children
    const parentB = b.indexOf('D L2 0x10 table>NP'), parentA = a.indexOf('D L2 0x10 table>NP');
    const childB = b.indexOf('D L1 0x11 NP>FROZEN'), childA = a.indexOf('D L1 0x11 NP>FROZEN');
    expect(parentB).toBeGreaterThanOrEqual(0);
    expect(parentB).toBeLessThan(childB);
    expect(parentA).toBeGreaterThan(childA);
  });

  it('the v2 variant loses the non-present → FROZEN events of a shared handle_removed_pt (series.md §3)', () => {
    const oa = run(after.create(COMPACT), FAST_ZAP)[1];
    const o2 = run(v2.create(COMPACT), FAST_ZAP)[1];
    const np = (o: OpOutcome): string[] => events(o).filter(e => e.endsWith('NP>FROZEN'));
    expect(np(oa).length).toBeGreaterThan(0);
    expect(np(o2)).toEqual([]);
    // nothing else tells them apart: same result, SEAMCALLs, diagnostics and state
    expect({ ...o2, trace: 0, traceCount: 0, traceList: [] }).toEqual({ ...oa, trace: 0, traceCount: 0, traceList: [] });
    expect(o2.trace).not.toBe(oa.trace); // the per-op hash --equiv strict compares
  });

  it('after does not trace a failed leaf removal; before does (D18)', () => {
    const zap: Op = { kind: 'zap', start: 5, end: 6, attr: 'private', fail: [{ at: 'seamcall', call: 'PAGE.REMOVE', error: 'ERROR' }] };
    const ob = run(before.create(COMPACT), [FINALIZE, pf(5), zap])[2];
    const oa = run(after.create(COMPACT), [FINALIZE, pf(5), zap])[2];
    expect(events(ob)).toEqual(['M L1 0x5 leaf>NP']);
    expect(events(oa)).toEqual([]);
  });
});

// ---------------------------------------------------------------- execution context

/** Decides on the parent's is_mirror_sptep(sp->ptep) in the RCU callback: no RCU section, no mmu_lock. */
class AfterSptepInRcuCallback extends AfterDesign {
  protected override tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    if (sp.ptep) this.isMirrorSptep(sp.ptep);
    super.tdpMmuFreeSpRcuCallback(sp);
  }
}
/** Takes mmu_lock in the RCU callback (irq-unsafe lock in softirq). */
class AfterLockInRcuCallback extends AfterDesign {
  protected override tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    this.mmuLock.acquire('write');
    super.tdpMmuFreeSpRcuCallback(sp);
    this.mmuLock.release();
  }
}
/** Ages without rcu_read_lock(): SPTE pointers dereferenced outside RCU and mmu_lock. */
class AfterAgeWithoutRcu extends AfterDesign {
  protected override kvmTdpMmuAgeGfnRange(start: number, end: number, mirror: boolean): number {
    let young = 0;
    for (const root of [...this.roots]) {
      if (root.mirror && !mirror) continue;
      this.forEachTdpPte(root, start, end, 1, iter => {
        if (this.kvmTdpMmuAgeSpte(iter)) young++;
        return 0;
      });
    }
    return young;
  }
}

const LIFE: Op[] = [FINALIZE, pf(5), pf(0x45), sf(0x10), { kind: 'zap', start: 0, end: 0x200, attr: 'private' }, DESTROY];

describe('execution context', () => {
  it('the designs themselves run every function in a legal context', () => {
    for (const d of [before, after]) {
      const vm = d.create(COMPACT);
      for (const o of run(vm, [...FAST_ZAP, { kind: 'gracePeriod' }, { kind: 'age', start: 0, end: 0x200, mirror: false }, ...LIFE.slice(0, -1)])) {
        expect(diags(o), d.name).toEqual([]);
      }
      expect(diags(vm.apply(DESTROY)), d.name).toEqual([]);
    }
  });

  it('a SEAMCALL from the RCU callback is a lockdep-style diagnostic', () => {
    const o = run(new AfterReclaimInRcuCallback('x', COMPACT), LIFE).at(-1)!;
    expect(o.seamcalls.some(s => s.call === 'PHYMEM.PAGE.RECLAIM')).toBe(true);
    expect(diags(o)).toContain('lockdep seamcall-in-softirq');
    expect(o.diagnostics.find(d => d.category === 'seamcall-in-softirq')?.site).toBe('tdp_mmu.c:tdp_mmu_free_sp_rcu_callback');
  });

  it('a sleeping allocation from the RCU callback is a lockdep-style diagnostic', () => {
    const o = run(new AfterAllocInRcuCallback('x', COMPACT), LIFE).at(-1)!;
    expect(diags(o)).toContain('lockdep sleeping-alloc-in-softirq');
  });

  it('an SPTE pointer dereferenced in the RCU callback, or outside RCU and mmu_lock, is reported', () => {
    expect(diags(run(new AfterSptepInRcuCallback('x', COMPACT), LIFE).at(-1)!)).toContain('lockdep spte-deref-in-rcu-callback');
    const o = run(new AfterAgeWithoutRcu('x', COMPACT), [sf(0x10), { kind: 'age', start: 0, end: 0x40, mirror: false }])[1];
    expect(diags(o)).toContain('lockdep spte-deref-outside-rcu');
  });

  it('mmu_lock taken in the RCU callback is an irq-unsafe lock in softirq', () => {
    expect(diags(run(new AfterLockInRcuCallback('x', COMPACT), LIFE).at(-1)!)).toContain('lockdep irq-unsafe-lock-in-softirq');
  });

  it('a racing op is another actor: it does not inherit the interrupted op\'s mmu_lock or RCU section', () => {
    // a fault racing the walk of another fault tops up its caches (might_sleep) while the first one
    // holds mmu_lock for read: legal, the two are different vCPUs
    for (const d of [before, after]) {
      const o = run(d.create(COMPACT), [FINALIZE, pf(5, { race: { at: 'walk', level: 2, op: pf(6, { vcpu: 1 }) } })])[1];
      expect(o.result).toContain('race: fault=FIXED');
      expect(diags(o), d.name).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------- iterator reuse


/** The fast zap loses its first cmpxchg; at the zap-root retry, aging changes the entry. */
function fastZapRacedAtRetry(race: boolean): Op[] {
  return [sf(0x10), {
    kind: 'invalidateDirect', fail: [{ at: 'cmpxchg', nth: 1 }],
    ...(race ? { race: { at: 'zapRetry' as const, op: { kind: 'age' as const, start: 0, end: 0x40, mirror: false } } } : {}),
  }];
}

describe('iterator reuse at __tdp_mmu_zap_root\'s retry', () => {
  it('both designs retry with the refreshed iter.old_spte and zap the aged entry', () => {
    for (const d of [before, after]) {
      const vm = d.create(COMPACT);
      const o = run(vm, fastZapRacedAtRetry(true))[1];
      expect(o.result, d.name).toBe('ok [race: age=young=1]');
      expect(o.hang).toBe(false);
      expect(vm.snapshot().direct.filter(l => l.includes('leaf'))).toEqual([]);
    }
  });

  it('a design that does not refresh iter.old_spte spins at the retry (only the new race point shows it)', () => {
    const vm = new AfterStaleOldSpte('stale', COMPACT);
    const o = run(vm, fastZapRacedAtRetry(true))[1];
    expect(o.hang).toBe(true);
    expect(o.violations.map(v => v.site)).toEqual(['__tdp_mmu_zap_root retry']);
    // the injected contention alone changes nothing: the stale value equals the current one
    const quiet = run(new AfterStaleOldSpte('stale', COMPACT), fastZapRacedAtRetry(false))[1];
    expect(quiet.hang).toBe(false);
    expect(quiet.result).toBe('ok');
  });

  it('a zap inside split\'s lock-dropped allocation window: the split restarts and maps nothing back', () => {
    const split: Op = {
      kind: 'split', start: 0, end: 0x40, targetLevel: 1, private: false, shared: true,
      race: { at: 'splitAlloc', level: 2, op: { kind: 'zap', start: 0, end: 0x40, attr: 'shared' } },
    };
    for (const d of [before, after]) {
      const vm = d.create(COMPACT);
      const o = run(vm, [sf(0x10, { maxLevel: 2 }), split])[1];
      expect(o.result, d.name).toBe('0 [race: zap=flush]');
      expect(diags(o)).toEqual([]);
      expect(vm.snapshot().direct.filter(l => l.includes('leaf'))).toEqual([]);
    }
  });
});
