// The lockstep runner and its oracles: a broken variant is caught with the right signature and a
// first-divergence diff; self-checks find nothing; runs are deterministic; a design that throws or
// livelocks becomes a finding instead of killing the campaign.
import { describe, expect, it } from 'vitest';
import type { Design, VmConfig } from '../../impls/api';
import { AfterDesign } from '../../impls/after/tdp_mmu';
import type { TdpIter } from '../../impls/tdp_mmu/sp';
import { after, before } from '../../impls/designs';
import { generateSequence } from '../../harness/seq/generate';
import { runSequence } from '../../harness/run/runner';
import { makeSequence } from '../../harness/seq/sequence';

const compact: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };

/** "after", but tdx_sept_remove_leaf_spte() skips its SEAMCALLs: one S-EPT update lost. */
class SkipLeafRemoval extends AfterDesign {
  protected override tdxSeptRemoveLeafSpte(): number { return 0; }
}
const skip: Design = { name: 'skip', description: 'drops leaf removals', create: c => new SkipLeafRemoval('skip', c) };

const conversion = makeSequence(compact, [
  { kind: 'finalize' },
  { kind: 'fault', vcpu: 0, gfn: 5, private: true, write: true, maxLevel: 1 },
  { kind: 'zap', start: 5, end: 6, attr: 'private' },
]);

describe('runSequence', () => {
  it('catches a variant that skips one S-EPT update, with the right signature and diff', () => {
    const r = runSequence(conversion, { designs: [before, skip], equiv: 'state', domain: 'legal' });
    const div = r.findings.find(f => f.kind === 'divergence');
    expect(div?.signature).toBe('divergence|before+skip|zap|sept');
    expect(div?.opIndex).toBe(2);
    const d = div!.divergence!;
    expect(d.prefix).toEqual(['finalize', 'fault vcpu0 private gfn=0x5 write maxLevel=1']);
    expect(d.sides[0].seamcalls.map(s => s.split('(')[0])).toEqual(['RANGE.BLOCK', 'TRACK', 'PAGE.REMOVE', 'PHYMEM.PAGE.WBINVD']);
    expect(d.sides[1].seamcalls).toEqual([]);
    // the S-EPT still holds the guest page in the variant: that line is the "+" side of the diff
    expect(d.stateDiff).toMatch(/^\+ {2}L1 gfn=0x5 leaf pfn=0x[0-9a-f]+$/m);
    expect(d.stateDiff).toMatch(/^\+ {2}gfn=0x5 L1 -> pfn=/m);
    // the per-design oracles see it too: mirror/S-EPT mismatch, and the guest page never comes back
    expect(r.findings.map(f => f.signature)).toContain('mirror-sept-mismatch|skip|zap|I-publish-after');
    expect(r.findings.some(f => f.kind === 'leak' && f.designs.includes('skip') && f.component.includes('gmem'))).toBe(true);
    expect(r.teardownAppended).toBe(true);
  });

  it('reports nothing for before vs after on the legal scenario, and appends the teardown', () => {
    const r = runSequence(conversion, { designs: [before, after], equiv: 'state', domain: 'legal' });
    expect(r.findings).toEqual([]);
    expect(r.ops.at(-1)).toEqual({ kind: 'destroy' });
  });

  it('self-check: before,before and after,after report nothing over many random sequences', () => {
    for (const [designs, domain] of [[[before, before], 'legal'], [[after, after], 'extended']] as const) {
      for (let i = 0; i < 300; i++) {
        const seq = generateSequence('self', i, { config: compact, domain });
        const r = runSequence(seq, { designs, equiv: 'strict', domain });
        expect(r.findings, `${designs[0].name} #${i}`).toEqual([]);
        // a design never diverges from itself; per-design effects of misuse may still be explained (D10)
        expect(r.explained.filter(e => e.kind === 'divergence')).toEqual([]);
      }
    }
  });

  it('is deterministic: the same sequence gives the same findings, diffs and coverage', () => {
    for (let i = 0; i < 50; i++) {
      const seq = generateSequence(3, i, { config: compact, domain: 'legal' });
      const a = runSequence(seq, { designs: [before, skip], equiv: 'state', domain: 'legal' });
      const b = runSequence(seq, { designs: [before, skip], equiv: 'state', domain: 'legal' });
      expect(JSON.stringify(a.findings)).toBe(JSON.stringify(b.findings));
      expect([...a.coverage].sort()).toEqual([...b.coverage].sort());
    }
  });

  it('turns a thrown exception into an `exception` finding and keeps running the other design', () => {
    class Throws extends AfterDesign {
      protected override tdxSeptMapNonleafSpte(): number { throw new Error('model bug: boom'); }
    }
    const throws: Design = { name: 'throws', description: '', create: c => new Throws('throws', c) };
    const r = runSequence(conversion, { designs: [before, throws], equiv: 'state', domain: 'legal' });
    const ex = r.findings.find(f => f.kind === 'exception');
    expect(ex?.signature).toBe('exception|throws|fault|model bug: boom');
    expect(r.findings.filter(f => f.kind === 'divergence')).toEqual([]);
  });

  it('turns a livelock into a `hang` finding (FROZEN never restored, the zap retries forever)', () => {
    class Livelock extends AfterDesign {
      // an atomic zap that always loses its cmpxchg: "goto retry" spins on the same SPTE
      protected override tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
        return newSpte === 0 ? -16 : super.tdpMmuSetSpteAtomic(iter, newSpte);
      }
    }
    const hang: Design = { name: 'hang', description: '', create: c => new Livelock('hang', c) };
    const seq = makeSequence(compact, [
      { kind: 'finalize' },
      { kind: 'fault', vcpu: 0, gfn: 9, private: false, write: true, maxLevel: 1 },
      { kind: 'invalidateDirect' },
    ]);
    const r = runSequence(seq, { designs: [before, hang], equiv: 'state', domain: 'legal' });
    expect(r.findings.map(f => f.signature)).toContain('hang|hang|invalidateDirect|__tdp_mmu_zap_root retry');
    // the hung design is dead: it is not compared any further and no leak is blamed on it
    expect(r.findings.filter(f => f.kind === 'leak')).toEqual([]);
  });

  it('explains D4 (before WARNs when free_external_spt fails) instead of reporting it', () => {
    const seq = makeSequence(compact, [
      { kind: 'finalize' },
      { kind: 'fault', vcpu: 0, gfn: 1, private: true, write: true, maxLevel: 1 },
      { kind: 'destroy', fail: [{ at: 'reclaim', nth: 1 }] }, // the first S-EPT table
    ]);
    const r = runSequence(seq, { designs: [before, after], equiv: 'state', domain: 'legal' });
    expect(r.findings).toEqual([]);
    expect(r.explained.map(e => e.explained!.id)).toEqual(['D4']);
    // its first divergence (for `explain`), with both traces and the diffs
    const d = r.explained[0].divergence!;
    expect(d.opIndex).toBe(2);
    expect(d.prefix).toHaveLength(2);
    expect(d.sides.map(s => s.design)).toEqual(['before', 'after']);
    // a campaign does not keep it (its reports count explained differences by signature only): the same verdicts without it
    const c = runSequence(seq, { designs: [before, after], equiv: 'state', domain: 'legal', explainedDivergence: false });
    expect(c.findings).toEqual([]);
    expect(c.explained.map(e => [e.signature, e.message, e.divergence])).toEqual(r.explained.map(e => [e.signature, e.message, undefined]));
  });
});
