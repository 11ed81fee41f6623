// The mutant hunt of `tdpfuzz mutants` (DESIGN §8, oracle power): for each seeded-bug mutant ×
// engine × seed, a time-budgeted hunt of the mutant against its base design, until the first
// unexplained finding; the per-mutant rows and each engine's mutation score.
//
// A hunt is a campaign reduced to its loop: engine.next → runSequence → engine.feedback, no crash
// store, no reports, no corpus files, so the numbers measure the engine and the oracles, not I/O.
// Each mutant runs in the configuration it needs (huge pages, CONFIG_KVM_PROVE_MMU), compact
// geometry, legal domain, state equivalence, the generator's default rates.
//
// Medians are over all K seeds with "not found" counted as infinitely late, so a median is finite
// only when more than half of the seeds found the mutant.
import { performance } from 'node:perf_hooks';
import type { Design, VmConfig } from '../../impls/api';
import { BUILTIN_DESIGNS } from '../../impls/designs';
import type { MutantInfo } from '../../impls/mutants/catalogue';
import { campaignParams, generatorOptions } from '../run/campaign_params';
import { ENGINES } from './engines/index';
import type { EngineContext } from './engines/engine';
import { runSequence } from '../run/runner';
import { InputError } from '../seq/sequence';

export const MUTANTS_FORMAT = 'tdpfuzz-mutants/1';
/** Engines the command compares by default, in this order (those registered in this build). */
export const DEFAULT_MUTANT_ENGINES = ['random', 'guided', 'jsfuzz'] as const;

export interface HuntOptions {
  mutant: MutantInfo;
  engine: string;
  seed: number;
  /** time budget in milliseconds */
  timeMs: number;
  /** stop after this many sequences even if time is left */
  maxExecs?: number;
  geometry?: VmConfig['geometry'];
}

export interface HuntResult {
  mutant: string;
  engine: string;
  seed: number;
  found: boolean;
  /** milliseconds from the hunt's start (engine creation included) to the first finding */
  ms: number | null;
  /** sequences executed up to and including the first finding */
  execs: number | null;
  /** sequences executed in total */
  totalExecs: number;
  signature: string | null;
  kind: string | null;
}

/** The configuration a mutant needs to be reachable. */
function mutantConfig(m: MutantInfo, geometry: VmConfig['geometry'] = 'compact'): VmConfig {
  return { geometry, hugePages: !!m.needs?.hugePages, vcpus: 2, ...(m.needs?.proveMmu ? { proveMmu: true } : {}) };
}

/** The designs of a mutant's hunt: its base design first, the mutant second. */
function mutantDesigns(m: MutantInfo): Design[] {
  return [BUILTIN_DESIGNS[m.base], m.design];
}

/** One hunt: run the engine's sequences on [base, mutant] until the first unexplained finding or the budget. */
export function huntMutant(o: HuntOptions): HuntResult {
  const factory = ENGINES.get(o.engine);
  if (!factory) throw new InputError(`unknown engine ${JSON.stringify(o.engine)} (known: ${[...ENGINES.keys()].join(', ')})`);
  const config = mutantConfig(o.mutant, o.geometry);
  const designs = mutantDesigns(o.mutant);
  const t0 = performance.now();
  // Compact geometry unless asked, legal domain, state equivalence, the generator's default rates.
  const p = campaignParams({ seed: o.seed, config });
  const ctx: EngineContext = { seed: p.seed, shard: p.shard, designs, equiv: p.equiv, domain: p.domain, corpusOut: null, gen: generatorOptions(p) };
  const engine = factory(ctx);
  const run = { designs, equiv: p.equiv, domain: p.domain };
  const maxExecs = o.maxExecs ?? Infinity;
  let execs = 0;
  for (let k = 0; execs < maxExecs && performance.now() - t0 < o.timeMs; k++) {
    const item = engine.next(k);
    const r = runSequence(item.seq, run);
    execs++;
    if (r.findings.length) {
      const f = r.findings[0];
      return {
        mutant: o.mutant.id, engine: o.engine, seed: o.seed, found: true, ms: Math.round(performance.now() - t0),
        execs, totalExecs: execs, signature: f.signature, kind: f.kind,
      };
    }
    engine.feedback(item, r);
  }
  return { mutant: o.mutant.id, engine: o.engine, seed: o.seed, found: false, ms: null, execs: null, totalExecs: execs, signature: null, kind: null };
}

/** Median with null = not found = +Infinity; null when the median itself is "not found". */
export function medianOf(xs: ReadonlyArray<number | null>): number | null {
  if (!xs.length) return null;
  const v = xs.map(x => (x === null ? Infinity : x)).sort((a, b) => a - b);
  const mid = v.length / 2;
  const m = v.length % 2 ? v[Math.floor(mid)] : (v[mid - 1] + v[mid]) / 2;
  return Number.isFinite(m) ? m : null;
}

export interface MutantRow {
  mutant: string;
  base: string;
  expect: string;
  engine: string;
  found: number;
  seeds: number;
  medianMs: number | null;
  medianExecs: number | null;
  /** the signature most seeds found (ties: the first seed's) */
  signature: string | null;
}

export interface EngineScore {
  engine: string;
  /** mutants found by at least one seed */
  found: number;
  total: number;
  /** found / total */
  score: number;
  /** mutants found in at least 4 of 5 seeds (80% of the seeds, rounded up) */
  robust: number;
  /** the median over mutants of their median time to first finding (null if any median is "not found") */
  medianMs: number | null;
  /** the largest per-mutant median (null if any is "not found") */
  worstMedianMs: number | null;
}

export function summarize(results: readonly HuntResult[], mutants: readonly MutantInfo[], engines: readonly string[], seeds: number): { rows: MutantRow[]; scores: EngineScore[] } {
  const rows: MutantRow[] = [];
  for (const m of mutants) {
    for (const e of engines) {
      const rs = results.filter(r => r.mutant === m.id && r.engine === e);
      const sigs = new Map<string, number>();
      for (const r of rs) if (r.signature) sigs.set(r.signature, (sigs.get(r.signature) ?? 0) + 1);
      let signature: string | null = null;
      for (const [s, n] of sigs) if (signature === null || n > sigs.get(signature)!) signature = s;
      rows.push({
        mutant: m.id, base: m.base, expect: m.expect, engine: e, found: rs.filter(r => r.found).length, seeds: rs.length,
        medianMs: medianOf(rs.map(r => r.ms)), medianExecs: medianOf(rs.map(r => r.execs)), signature,
      });
    }
  }
  const need = Math.ceil(0.8 * seeds);
  const scores = engines.map((e): EngineScore => {
    const mine = rows.filter(r => r.engine === e);
    const found = mine.filter(r => r.found > 0).length;
    const medians = mine.map(r => r.medianMs);
    return {
      engine: e, found, total: mine.length, score: mine.length ? found / mine.length : 0,
      robust: mine.filter(r => r.found >= need).length,
      medianMs: medianOf(medians),
      worstMedianMs: medians.some(x => x === null) ? null : Math.max(...(medians as number[])),
    };
  });
  return { rows, scores };
}

export interface HuntProgress {
  /** after each mutant: its results per engine */
  onMutant?(m: MutantInfo, index: number, byEngine: { engine: string; results: HuntResult[] }[]): void;
}

/** Every hunt of mutants × engines × seeds 1..K, in that order. */
export function huntMutants(mutants: readonly MutantInfo[], engines: readonly string[], seeds: number, timeSec: number, progress: HuntProgress = {}): HuntResult[] {
  const results: HuntResult[] = [];
  mutants.forEach((m, i) => {
    const byEngine: { engine: string; results: HuntResult[] }[] = [];
    for (const engine of engines) {
      const mine: HuntResult[] = [];
      for (let seed = 1; seed <= seeds; seed++) {
        const r = huntMutant({ mutant: m, engine, seed, timeMs: timeSec * 1000 });
        results.push(r);
        mine.push(r);
      }
      byEngine.push({ engine, results: mine });
    }
    progress.onMutant?.(m, i, byEngine);
  });
  return results;
}
