// The observables of issue 9 item 6 through runSequence: the kvm_tdp_mmu_spte_changed trace under
// --equiv strict, execution-context diagnostics in the legal domain, and the zap-root retry race
// point. Each variant is caught now and was not before (the state comparison, which is all that
// existed for it, stays silent).
import { describe, expect, it } from 'vitest';
import type { Design, Op, VmConfig } from '../../impls/api';
import { AfterDesign } from '../../impls/after/tdp_mmu';
import { AfterAllocInRcuCallback, AfterReclaimInRcuCallback } from '../variants/rcu_callback';
import { AfterStaleOldSpte } from '../variants/stale_old_spte';
import type { KvmMmuPage } from '../../impls/tdp_mmu/sp';
import { after, before } from '../../impls/designs';
import { runSequence } from '../../harness/run/runner';
import { explain, type DivergenceContext } from '../../harness/run/explained';
import type { Observation } from '../../harness/run/compare';
import { makeSequence } from '../../harness/seq/sequence';

const compact: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };
const design = (name: string, make: (c: VmConfig) => AfterDesign): Design => ({ name, description: name, create: make });

/** The v2 posting (series.md §3): no trace for a non-present → non-present change. */
class V2MissingTrace extends AfterDesign {
  protected override traceNonPresentChange(): void { /* lost, as in v2 */ }
}
/** after, but traced like before: in the prologue, a removed table before its children. */
class ParentFirstTrace extends AfterDesign {
  protected override __handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): number {
    if (!this.handleChangedSptePrologue(sp, gfn, oldSpte, newSpte, level, true)) return 0;
    if (this.removesChildTable(oldSpte, newSpte)) this.handleRemovedPt(this.childSp(oldSpte)!, shared);
    else if (sp.mirror) { const r = this.tdxSeptSetPrivateSpte(gfn, oldSpte, newSpte, level); if (r) return r; }
    this.updateLeafStats(oldSpte, newSpte, level);
    return 0;
  }
}

const v2 = design('v2', c => new V2MissingTrace('v2', c));
const reclaimCb = design('reclaim-in-cb', c => new AfterReclaimInRcuCallback('reclaim-in-cb', c));
const allocCb = design('alloc-in-cb', c => new AfterAllocInRcuCallback('alloc-in-cb', c));
const stale = design('stale', c => new AfterStaleOldSpte('stale', c));

const sf = (gfn: number): Op => ({ kind: 'fault', vcpu: 0, gfn, private: false, write: true, maxLevel: 1 });
const pf = (gfn: number): Op => ({ kind: 'fault', vcpu: 0, gfn, private: true, write: true, maxLevel: 1 });
const fastZap = makeSequence(compact, [sf(0x10), { kind: 'invalidateDirect' }]);
const life = makeSequence(compact, [{ kind: 'finalize' }, pf(5), pf(0x45), { kind: 'zap', start: 0, end: 0x200, attr: 'private' }]);

describe('the kvm_tdp_mmu_spte_changed trace under --equiv strict', () => {
  it('a variant that drops the trace on the non-present path (v2) diverges in `trace`, naming the events', () => {
    for (const ref of [before, after]) {
      const r = runSequence(fastZap, { designs: [ref, v2], equiv: 'strict', domain: 'legal' });
      const div = r.findings.find(f => f.kind === 'divergence');
      expect(div?.signature).toBe(`divergence|${ref.name}+v2|invalidateDirect|trace`);
      const [a, b] = div!.divergence!.sides;
      expect(a.trace!.some(l => /gfn=0x11 level=1 old=0x0 new=0x5a0/.test(l))).toBe(true);
      expect(b.trace!.some(l => /old=0x0 new=0x5a0/.test(l))).toBe(false);
      expect(div!.divergence!.traceDiff).toMatch(/^-trace kvm_tdp_mmu_spte_changed direct gfn=0x11 level=1 old=0x0 new=0x5a0$/m);
    }
  });

  it('was not seen before: the state comparison finds nothing', () => {
    for (const ref of [before, after]) {
      expect(runSequence(fastZap, { designs: [ref, v2], equiv: 'state', domain: 'legal' }).findings).toEqual([]);
    }
  });

  it('before vs after: the trace order around a removed table is the declared D17, nothing else', () => {
    const r = runSequence(fastZap, { designs: [before, after], equiv: 'strict', domain: 'legal' });
    expect(r.findings).toEqual([]);
    expect(r.explained.map(e => e.signature)).toContain('divergence|before+after|invalidateDirect|trace:D17');
  });

  it('D17 holds for the before/after pair in either order, and for no other pair', () => {
    const r = runSequence(fastZap, { designs: [after, before], equiv: 'strict', domain: 'legal' });
    expect(r.findings).toEqual([]);
    expect(r.explained.map(e => e.signature)).toContain('divergence|after+before|invalidateDirect|trace:D17');
    // an after variant that keeps before's order (parent first) is not after: nothing excuses it
    const parentFirst = design('parent-first', c => new ParentFirstTrace('parent-first', c));
    const r2 = runSequence(fastZap, { designs: [after, parentFirst], equiv: 'strict', domain: 'legal' });
    expect(r2.findings.map(f => f.signature)).toContain('divergence|after+parent-first|invalidateDirect|trace');
  });

  it('a failed leaf removal: after has no trace for it (D18), while the VM is bugged in both', () => {
    const seq = makeSequence(compact, [{ kind: 'finalize' }, pf(5),
      { kind: 'zap', start: 5, end: 6, attr: 'private', fail: [{ at: 'seamcall', call: 'PAGE.REMOVE', error: 'ERROR' }] }]);
    const r = runSequence(seq, { designs: [before, after], equiv: 'strict', domain: 'legal' });
    expect(r.findings).toEqual([]);
    // every component is compared: the stats lag is D11, the missing trace D18
    expect(r.explained.map(e => e.signature)).toEqual(expect.arrayContaining(['divergence|before+after|zap|stats:D11', 'divergence|before+after|zap|trace:D18']));
    const [b, a] = [before.create(compact), after.create(compact)];
    let sides: [Observation, Observation] | null = null;
    for (const op of seq.ops) {
      const ob = b.apply(op), oa = a.apply(op);
      ob.traceList = b.lastTrace!();
      oa.traceList = a.lastTrace!();
      sides = [{ outcome: ob, digests: b.digests() }, { outcome: oa, digests: a.digests() }];
    }
    const ctx: DivergenceContext = { op: seq.ops[2], component: 'trace', equiv: 'strict', domain: 'legal', sides: sides!,
      bases: ['before', 'after'], stats: () => [[], []], statsOffset: [] };
    expect(explain(ctx)?.map(e => e.id)).toEqual(['D18']);
    // the same traces with the roles swapped (the "after" side has the extra event) are not excused
    expect(explain({ ...ctx, sides: [sides![1], sides![0]] })).toBeUndefined();
    // nor for a pair that is not before vs after
    expect(explain({ ...ctx, bases: ['after', 'after'] })).toBeUndefined();
  });
});

describe('execution-context diagnostics in the legal domain', () => {
  it('a SEAMCALL from the RCU callback is an unexpected lockdep-style diagnostic', () => {
    const r = runSequence(life, { designs: [before, reclaimCb], equiv: 'state', domain: 'legal' });
    const f = r.findings.find(x => x.kind === 'unexpected-diagnostic');
    expect(f?.designs).toEqual(['reclaim-in-cb']);
    expect(f?.component).toBe('lockdep:seamcall-in-softirq');
    expect(f?.opKind).toBe('destroy');
  });

  it('a sleeping allocation from the RCU callback is an unexpected lockdep-style diagnostic', () => {
    const r = runSequence(life, { designs: [before, allocCb], equiv: 'state', domain: 'legal' });
    expect(r.findings.some(x => x.kind === 'unexpected-diagnostic' && x.component === 'lockdep:sleeping-alloc-in-softirq')).toBe(true);
  });

  it('before and after raise none on the same sequences', () => {
    for (const seq of [life, fastZap]) {
      expect(runSequence(seq, { designs: [before, after], equiv: 'state', domain: 'legal' }).findings).toEqual([]);
    }
  });
});

describe('the zap-root retry race point', () => {
  const raced = (race: boolean) => makeSequence(compact, [sf(0x10), {
    kind: 'invalidateDirect', fail: [{ at: 'cmpxchg', nth: 1 }],
    ...(race ? { race: { at: 'zapRetry' as const, op: { kind: 'age' as const, start: 0, end: 0x40, mirror: false } } } : {}),
  }]);

  it('a design that does not refresh iter.old_spte after a failed cmpxchg hangs at the retry', () => {
    const r = runSequence(raced(true), { designs: [before, stale], equiv: 'state', domain: 'legal' });
    const f = r.findings.find(x => x.kind === 'hang');
    expect(f?.designs).toEqual(['stale']);
    expect(f?.component).toBe('__tdp_mmu_zap_root retry');
    expect(runSequence(raced(true), { designs: [before, after], equiv: 'strict', domain: 'legal' }).findings).toEqual([]);
  });

  it('without the race at the retry the stale iterator is invisible', () => {
    expect(runSequence(raced(false), { designs: [before, stale], equiv: 'strict', domain: 'legal' }).findings).toEqual([]);
  });
});
