// The minimizer (DESIGN §5): deliberately broken variants (the mutant catalogue) are reduced to a
// 1-minimal reproducer of the SAME signature in a handful of ops; a predicate whose signature changes
// on the way does not make it drift; the run budget is reported; walker ids, racing ops and vCPUs
// are simplified; legal-domain reproducers stay legal.
import { describe, expect, it } from 'vitest';
import type { Op, VmConfig } from '../impls/api';
import { after, before } from '../impls/designs';
import { findMutant } from '../impls/mutants/catalogue';
import { generateSequence } from '../harness/seq/generate';
import { legalityErrors } from '../harness/seq/legality';
import { campaignMinimizer, minimizeSequence, runnerOracle } from '../harness/run/minimize';
import { admissibleFor, minimizeOps, type SignatureOracle } from '../harness/seq/ddmin';
import { runSequence, type RunOptions } from '../harness/run/runner';
import { makeSequence, type Sequence } from '../harness/seq/sequence';

const COMPACT: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };

/** The first generated sequence (of at least 8 ops) on which the mutant shows an unexplained finding. */
function firstFinding(id: string, seed: number): { seq: Sequence; signature: string; run: RunOptions } {
  const m = findMutant(id)!;
  const config: VmConfig = { ...COMPACT, hugePages: !!m.needs?.hugePages, ...(m.needs?.proveMmu ? { proveMmu: true } : {}) };
  const run: RunOptions = { designs: [m.base === 'after' ? after : before, m.design], equiv: 'state', domain: 'legal' };
  for (let i = 0; i < 3000; i++) {
    const seq = generateSequence(seed, i, { config, domain: 'legal', faultRate: 0.3, raceRate: 0.3 });
    if (seq.ops.length < 8) continue;
    const r = runSequence(seq, run);
    if (r.findings.length) return { seq, signature: r.findings[0].signature, run };
  }
  throw new Error(`${id}: no finding in 3000 sequences of seed ${seed}`);
}

const MUTANT_CASES: [string, number][] = [
  ['retry-free-skips-external', 3],
  ['frees-on-reclaim-failure', 2],
  ['frees-with-hkid-assigned', 4],
  ['stats-before-hook', 5],
  ['frozen-not-restored', 4],
  ['unmap-under-read-lock', 6],
  ['spt-freed-immediately', 1],
  ['unused-sp-via-rcu', 2],
];

describe('minimizing deliberately broken variants (mutants)', () => {
  it.each(MUTANT_CASES)('%s (seed %i): same signature, at most 4 ops, 1-minimal, legal, in well under a second', (id, seed) => {
    const { seq, signature, run } = firstFinding(id, seed);
    const res = minimizeSequence(seq, signature, run, { maxRuns: 2000 });
    expect(res.stats.reproduced).toBe(true);
    expect(res.stats.truncated).toBe(false);
    expect(res.stats.opsBefore).toBe(seq.ops.length);
    expect(res.ops.length, `${id}: ${seq.ops.length} -> ${res.ops.length} ops`).toBeLessThanOrEqual(4);
    expect(res.ops.length).toBeLessThan(seq.ops.length);
    expect(res.stats.timeMs).toBeLessThan(5000);
    const oracle = runnerOracle(seq, run);
    // the same signature, found by a fresh run of the result
    const again = runSequence(makeSequence(seq.config, res.ops), run);
    expect(again.findings.map(f => f.signature)).toContain(signature);
    // 1-minimal: removing any single op loses the signature, or leaves the legal domain (e.g. the
    // finalize before a shared fault: no vCPU runs before FINALIZE)
    const admissible = admissibleFor(seq, run);
    res.ops.forEach((_, k) => {
      const without = res.ops.filter((__, j) => j !== k);
      if (!admissible(without)) return;
      expect(oracle(without), `${id}: op ${k} of the result is removable`).not.toContain(signature);
    });
    // the original was legal, so the reproducer is too
    expect(legalityErrors(seq)).toEqual([]);
    expect(legalityErrors(makeSequence(seq.config, res.ops))).toEqual([]);
  });

  it('the campaign hook bounds each minimization by predicate runs and keeps stats for the crash file', async () => {
    const { seq, signature, run } = firstFinding('frees-on-reclaim-failure', 2);
    const hook = campaignMinimizer({ maxRuns: 2000 });
    const f = runSequence(seq, run).findings.find(x => x.signature === signature)!;
    const r = await hook(seq, f, { designs: run.designs, equiv: run.equiv, domain: run.domain, timeLimitMs: 10_000 });
    expect(r.ops.length).toBeLessThanOrEqual(4);
    expect(r.stats).toMatchObject({ opsBefore: seq.ops.length, opsAfter: r.ops.length, maxRuns: 2000, truncated: false });
    const tight = await campaignMinimizer({ maxRuns: 2 })(seq, f, { designs: run.designs, equiv: run.equiv, domain: run.domain, timeLimitMs: 10_000 });
    expect(tight.stats).toMatchObject({ runs: 2, truncated: true, truncatedBy: 'runs' });
  });
});

// ------------------------------------------------------------------------------------------------
// Synthetic oracles: ops as tokens (kinds without fields, so simplification cannot touch them).

const T = {
  fin: { kind: 'finalize' } as Op,
  inv: { kind: 'invalidateDirect' } as Op,
  gp: { kind: 'gracePeriod' } as Op,
};
const has = (ops: Op[], o: Op): boolean => ops.some(x => x.kind === o.kind);

describe('the predicate is "same signature", never "still fails"', () => {
  it('does not drift to another signature when a reduction changes what is found', () => {
    // A: finalize and invalidateDirect both present. Removing invalidateDirect turns A into B (a
    // different finding); anything at all reports C. A "still fails" predicate would drift to C.
    const oracle: SignatureOracle = ops => [
      ...(has(ops, T.fin) && has(ops, T.inv) ? ['A'] : []),
      ...(has(ops, T.fin) && !has(ops, T.inv) ? ['B'] : []),
      ...(ops.length ? ['C'] : []),
    ];
    const ops = [T.gp, T.gp, T.fin, T.gp, T.gp, T.gp, T.inv, T.gp, T.gp, T.gp];
    const a = minimizeOps(ops, 'A', oracle);
    expect(a.ops.map(o => o.kind)).toEqual(['finalize', 'invalidateDirect']);
    expect(oracle(a.ops)).toContain('A');
    const c = minimizeOps(ops, 'C', oracle);
    expect(c.ops).toHaveLength(1);
  });

  it('keeps the target when the oracle reports other signatures first or only on some candidates', () => {
    // The target needs an odd number of gracePeriods AND the finalize; intermediate candidates
    // report a changing mix of other signatures.
    const oracle: SignatureOracle = ops => {
      const g = ops.filter(o => o.kind === 'gracePeriod').length;
      const out = [`count-${ops.length}`];
      if (g % 2 === 0) out.push('even');
      if (g % 2 === 1 && has(ops, T.fin)) out.push('target');
      return out;
    };
    const ops = [T.gp, T.fin, T.gp, T.gp, T.inv, T.gp, T.gp];
    const r = minimizeOps(ops, 'target', oracle);
    expect(oracle(r.ops)).toContain('target');
    expect(r.ops.map(o => o.kind).sort()).toEqual(['finalize', 'gracePeriod']);
  });

  it('reports an original that does not reproduce instead of minimizing it', () => {
    const r = minimizeOps([T.gp, T.fin], 'nope', () => ['other']);
    expect(r.stats.reproduced).toBe(false);
    expect(r.ops).toHaveLength(2);
    expect(r.stats.runs).toBe(1);
  });

  it('reports budget truncation (runs, then time) and still returns a reproducer', () => {
    const oracle: SignatureOracle = ops => (has(ops, T.fin) ? ['A'] : []);
    const ops = Array.from({ length: 40 }, (_, i) => (i === 33 ? T.fin : T.gp));
    const r = minimizeOps(ops, 'A', oracle, { maxRuns: 3 });
    expect(r.stats).toMatchObject({ truncated: true, truncatedBy: 'runs', runs: 3, reproduced: true });
    expect(oracle(r.ops)).toContain('A');
    expect(r.ops.length).toBeLessThan(40);
    const slow: SignatureOracle = o => { const t = Date.now() + 3; while (Date.now() < t) { /* spin */ } return oracle(o); };
    const t = minimizeOps(ops, 'A', slow, { timeLimitMs: 15 });
    expect(t.stats).toMatchObject({ truncated: true, truncatedBy: 'time' });
    expect(oracle(t.ops)).toContain('A');
    const full = minimizeOps(ops, 'A', oracle);
    expect(full.stats.truncated).toBe(false);
    expect(full.ops).toEqual([T.fin]);
  });

  it('memoizes candidates: a repeated candidate costs no run', () => {
    let calls = 0;
    const r = minimizeOps([T.gp, T.fin, T.gp, T.inv], 'A', ops => { calls++; return has(ops, T.fin) ? ['A'] : []; });
    expect(calls).toBe(r.stats.runs);
    expect(r.stats.cacheHits).toBeGreaterThan(0);
  });
});

describe('simplification', () => {
  it('lowers walker ids across rcuRead/rcuUnlock pairs (racing ones too) consistently', () => {
    const ops: Op[] = [
      { kind: 'rcuRead', walker: 5, gfn: 0, private: false },
      { kind: 'fault', vcpu: 0, gfn: 0, private: false, write: true, maxLevel: 1, race: { at: 'walk', nth: 1, op: { kind: 'rcuRead', walker: 3, gfn: 0, private: false } } },
      { kind: 'rcuUnlock', walker: 5 },
      { kind: 'rcuUnlock', walker: 3 },
    ];
    // The "finding": every walker that enters also leaves, and there are two distinct walkers.
    const oracle: SignatureOracle = o => {
      const flat = o.flatMap(x => (x.race ? [x, x.race.op] : [x]));
      const reads = flat.filter(x => x.kind === 'rcuRead').map(x => (x as { walker: number }).walker);
      const unlocks = flat.filter(x => x.kind === 'rcuUnlock').map(x => (x as { walker: number }).walker);
      const paired = reads.length === 2 && new Set(reads).size === 2 && [...reads].sort().join() === [...unlocks].sort().join();
      return paired ? ['pairs'] : [];
    };
    const r = minimizeOps(ops, 'pairs', oracle);
    const walkers = r.ops.flatMap(x => (x.race ? [x, x.race.op] : [x])).filter(x => 'walker' in x).map(x => (x as { walker: number }).walker);
    expect(new Set(walkers)).toEqual(new Set([0, 1]));
    expect(r.stats.accepted['rename-walkers']).toBe(1);
  });

  it("lowers a race's nested op (gfn, level, vcpu, fail nth) and swaps vCPUs to keep the race legal", () => {
    const seq = makeSequence(COMPACT, [
      { kind: 'finalize' },
      { kind: 'fault', vcpu: 1, gfn: 0x41, private: true, write: true, maxLevel: 1,
        race: { at: 'install', level: 3, nth: 1, op: { kind: 'fault', vcpu: 0, gfn: 0x46, private: true, write: true, maxLevel: 1,
          fail: [{ at: 'seamcall', call: 'PAGE.AUG', error: 'BUSY', nth: 5 }] } } },
    ]);
    // The "finding": the outer fault loses the install race at L3 to a private racing fault.
    const oracle: SignatureOracle = ops => ops.some(o => o.kind === 'fault' && o.race?.at === 'install' && o.race.op.kind === 'fault' && o.race.op.private) ? ['race'] : [];
    const r = minimizeOps(seq.ops, 'race', oracle, { admissible: admissibleFor(seq, { domain: 'legal' }) });
    expect(r.ops).toHaveLength(1);
    const outer = r.ops[0];
    expect(outer.kind).toBe('fault');
    const nested = outer.race!.op;
    expect(nested).toMatchObject({ kind: 'fault', gfn: 0 });
    expect(nested.fail).toBeUndefined();
    expect(outer.race!.level).toBeUndefined();
    // both vCPUs are as low as they can be without racing a fault on its own vCPU
    expect(new Set([(outer as { vcpu: number }).vcpu, (nested as { vcpu: number }).vcpu])).toEqual(new Set([0, 1]));
    expect(legalityErrors(makeSequence(COMPACT, r.ops))).toEqual([]);
    // without the legality filter the same oracle accepts the illegal same-vCPU race
    const loose = minimizeOps(seq.ops, 'race', oracle);
    expect(legalityErrors(makeSequence(COMPACT, loose.ops)).length).toBeGreaterThan(0);
  });

  it('never offers the runner an invalid candidate (an op after destroy)', () => {
    const seq = makeSequence(COMPACT, [{ kind: 'finalize' }, { kind: 'destroy', race: { at: 'walk', nth: 1, op: { kind: 'gracePeriod' } } }]);
    const seen: Op[][] = [];
    minimizeOps(seq.ops, 'x', ops => { seen.push(ops); return ['x']; }, { admissible: admissibleFor(seq, { domain: 'extended' }) });
    for (const ops of seen) expect(() => makeSequence(COMPACT, ops)).not.toThrow();
  });
});
