// `tdpfuzz mutants` (DESIGN §8, oracle power): for each seeded-bug mutant × engine × seed, a
// time-budgeted hunt of the mutant against its base design, until the first unexplained finding.
// Prints a table (found in how many seeds, median time and executions to the first finding, the
// signature found) and each engine's mutation score (mutants found / total); --json for machines;
// --list prints the catalogue.
//
// A hunt is a campaign reduced to its loop: engine.next → runSequence → engine.feedback, no crash
// store, no reports, no corpus files, so the numbers measure the engine and the oracles, not I/O.
// Each mutant runs in the configuration it needs (huge pages, CONFIG_KVM_PROVE_MMU), compact
// geometry, legal domain, state equivalence, the generator's default rates.
//
// Medians are over all K seeds with "not found" counted as infinitely late, so a median is finite
// only when more than half of the seeds found the mutant. Exit code 0 unless the arguments are bad
// (2): this is a measurement, not a test.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Design, VmConfig } from '../../impls/api';
import { BUILTIN_DESIGNS } from '../../impls/designs';
import { MUTANTS, findMutant, type MutantInfo } from '../../impls/mutants/catalogue';
import { parseFlags, UsageError, type Io } from './main';
import { registerCommand } from './commands';
import { ENGINES } from '../fuzz/engines/index';
import type { EngineContext } from '../fuzz/engines/engine';
import { toolVersion, writeFileAtomic } from '../store/fsutil';
import { DEFAULT_FAULT_RATE, DEFAULT_MAX_OPS, DEFAULT_RACE_RATE } from '../seq/generate';
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
export function mutantConfig(m: MutantInfo, geometry: VmConfig['geometry'] = 'compact'): VmConfig {
  return { geometry, hugePages: !!m.needs?.hugePages, vcpus: 2, ...(m.needs?.proveMmu ? { proveMmu: true } : {}) };
}

/** The designs of a mutant's hunt: its base design first, the mutant second. */
export function mutantDesigns(m: MutantInfo): Design[] {
  return [BUILTIN_DESIGNS[m.base], m.design];
}

/** One hunt: run the engine's sequences on [base, mutant] until the first unexplained finding or the budget. */
export function huntMutant(o: HuntOptions): HuntResult {
  const factory = ENGINES.get(o.engine);
  if (!factory) throw new InputError(`unknown engine ${JSON.stringify(o.engine)} (known: ${[...ENGINES.keys()].join(', ')})`);
  const config = mutantConfig(o.mutant, o.geometry);
  const designs = mutantDesigns(o.mutant);
  const t0 = performance.now();
  const ctx: EngineContext = {
    seed: o.seed, shard: null, designs, equiv: 'state', domain: 'legal', corpusOut: null,
    gen: { config, domain: 'legal', faultRate: DEFAULT_FAULT_RATE, raceRate: DEFAULT_RACE_RATE, maxOps: DEFAULT_MAX_OPS },
  };
  const engine = factory(ctx);
  const run = { designs, equiv: 'state' as const, domain: 'legal' as const };
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

// ------------------------------------------------------------------------------------------------
// The command

const HELP = `usage: tdpfuzz mutants [flags]

Oracle power (DESIGN §8): for each mutant of the catalogue × engine × seed 1..K, runs the engine's
sequences on [base design, mutant] (compact geometry, legal domain, state equivalence, the
configuration the mutant needs) until the first unexplained finding or the time budget. Prints one
row per mutant and engine: seeds that found it, median time and executions to the first finding
(over all seeds, "not found" counting as infinitely late), the signature found; then each engine's
mutation score (mutants found / total). Nothing is written unless --out is given. The engines run
in this thread: jsfuzz is then guided by the models' coverage classes, not by istanbul counters (for
the jsfuzz CLI itself, see bench/jsfuzz_workers.sh).

flags:
  --list          print the catalogue (id, base, expected finding kind, source, description) and exit
  --engines E,F   engines to compare (default: ${DEFAULT_MUTANT_ENGINES.join(',')}, those registered in this build)
  --seeds K       seeds per mutant and engine (default 5)
  --time S        time budget per hunt in seconds (default 10)
  --ids A,B       only these mutants (default all)
  --json          print JSON (format ${MUTANTS_FORMAT}) instead of the table
  --out FILE      also write the JSON to FILE
  --help          show this help

example: tdpfuzz mutants --engines random,guided --seeds 5 --time 20`;

interface MutantsArgs {
  list: boolean;
  engines: string[];
  /** engines of the default list that are not registered */
  missing: string[];
  seeds: number;
  timeSec: number;
  ids: MutantInfo[];
  json: boolean;
  out: string | null;
}

function splitList(flag: string, v: string): string[] {
  const items = v.split(',').map(s => s.trim());
  if (items.some(s => s === '')) throw usage(`${flag}: expected a comma-separated list, got ${JSON.stringify(v)}`);
  const dup = items.find((s, i) => items.indexOf(s) !== i);
  if (dup) throw usage(`${flag}: ${JSON.stringify(dup)} given more than once`);
  return items;
}

// cli.ts imports this module (through commands_all.ts): its exports are used only inside
// functions, when the import cycle has long been resolved.
function usage(message: string): InputError {
  return new UsageError(message);
}

export function parseMutantsArgs(argv: readonly string[]): MutantsArgs {
  const specs: Parameters<typeof parseFlags>[1] = [
    { name: 'list', kind: { type: 'bool' }, help: '' },
    { name: 'engines', kind: { type: 'string', what: 'a comma-separated list of engine names' }, help: '' },
    { name: 'seeds', kind: { type: 'int', min: 1, max: 1000 }, help: '' },
    { name: 'time', kind: { type: 'number', min: 0, max: 1e6, minExclusive: true }, help: '' },
    { name: 'ids', kind: { type: 'string', what: 'a comma-separated list of mutant ids' }, help: '' },
    { name: 'json', kind: { type: 'bool' }, help: '' },
    { name: 'out', kind: { type: 'string', what: 'a file' }, help: '' },
    { name: 'help', kind: { type: 'bool' }, help: '' },
  ];
  const { flags, positional } = parseFlags('mutants', specs, argv);
  if (positional.length) throw usage(`mutants: unexpected argument ${JSON.stringify(positional[0])} (mutants takes only flags; see tdpfuzz mutants --help)`);
  const known = [...ENGINES.keys()];
  let engines: string[];
  let missing: string[] = [];
  if (flags.has('engines')) {
    engines = splitList('--engines', flags.get('engines') as string);
    for (const e of engines) {
      if (!ENGINES.has(e)) throw usage(`--engines: unknown engine ${JSON.stringify(e)} (known: ${known.join(', ')})`);
    }
  } else {
    engines = DEFAULT_MUTANT_ENGINES.filter(e => ENGINES.has(e));
    missing = DEFAULT_MUTANT_ENGINES.filter(e => !ENGINES.has(e));
  }
  let ids = [...MUTANTS];
  if (flags.has('ids')) {
    ids = splitList('--ids', flags.get('ids') as string).map((id) => {
      const m = findMutant(id);
      if (!m) throw usage(`--ids: unknown mutant ${JSON.stringify(id)} (see tdpfuzz mutants --list)`);
      return m;
    });
  }
  return {
    list: !!flags.get('list'), engines, missing, ids,
    seeds: (flags.get('seeds') as number | undefined) ?? 5,
    timeSec: (flags.get('time') as number | undefined) ?? 10,
    json: !!flags.get('json'),
    out: (flags.get('out') as string | undefined) ?? null,
  };
}

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(header), line(w.map(n => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

export function formatCatalogue(): string {
  return table(['id', 'base', 'expect', 'needs', 'source', 'description'], MUTANTS.map(m => [
    m.id, m.base, m.expect,
    [m.needs?.hugePages ? 'huge-pages' : '', m.needs?.proveMmu ? 'prove-mmu' : ''].filter(Boolean).join(',') || '-',
    m.source, m.description,
  ]));
}

const fmtMs = (ms: number | null, budgetSec: number): string => (ms === null ? `>${budgetSec}s` : ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const fmtExecs = (x: number | null): string => (x === null ? '-' : String(Math.round(x)));

export function formatMutantsReport(rows: readonly MutantRow[], scores: readonly EngineScore[], seeds: number, timeSec: number): string {
  const t = table(['mutant', 'engine', 'found', 'median time', 'median execs', 'signature'], rows.map(r => [
    r.mutant, r.engine, `${r.found}/${r.seeds}`, fmtMs(r.medianMs, timeSec), fmtExecs(r.medianExecs), r.signature ?? '-',
  ]));
  const need = Math.ceil(0.8 * seeds);
  const s = scores.map(e => `${e.engine}: mutation score ${e.found}/${e.total} (${Math.round(100 * e.score)}%), `
    + `found in >= ${need}/${seeds} seeds: ${e.robust}/${e.total}, median of medians ${fmtMs(e.medianMs, timeSec)}, `
    + `worst median ${fmtMs(e.worstMedianMs, timeSec)}`);
  return `${t}\n\n${s.join('\n')}`;
}

async function runMutants(argv: readonly string[], io: Io): Promise<number> {
  const a = parseMutantsArgs(argv);
  if (a.list) {
    if (a.json) {
      io.out(`${JSON.stringify(MUTANTS.map(m => ({ id: m.id, base: m.base, expect: m.expect, needs: m.needs ?? {}, source: m.source, description: m.description })), null, 2)}\n`);
    } else {
      io.out(`${formatCatalogue()}\n`);
    }
    return 0;
  }
  if (!a.engines.length) throw new InputError('mutants: no engine is registered');
  for (const e of a.missing) io.err(`note: engine ${e} is not registered in this build; skipped\n`);
  io.err(`INFO: tdpfuzz ${toolVersion()} mutants: ${a.ids.length} mutants × ${a.engines.join(',')} × ${a.seeds} seeds, ${a.timeSec} s per hunt\n`);
  const results: HuntResult[] = [];
  const started = new Date();
  a.ids.forEach((m, i) => {
    const parts: string[] = [];
    for (const engine of a.engines) {
      const mine: HuntResult[] = [];
      for (let seed = 1; seed <= a.seeds; seed++) {
        const r = huntMutant({ mutant: m, engine, seed, timeMs: a.timeSec * 1000 });
        results.push(r);
        mine.push(r);
      }
      parts.push(`${engine} ${mine.filter(r => r.found).length}/${a.seeds} (median ${fmtMs(medianOf(mine.map(r => r.ms)), a.timeSec)})`);
    }
    io.err(`[${i + 1}/${a.ids.length}] ${m.id}: ${parts.join(', ')}\n`);
  });
  const { rows, scores } = summarize(results, a.ids, a.engines, a.seeds);
  const json = {
    format: MUTANTS_FORMAT, toolVersion: toolVersion(), startedAt: started.toISOString(), finishedAt: new Date().toISOString(),
    settings: { engines: a.engines, skipped: a.missing, seeds: a.seeds, timeSec: a.timeSec, geometry: 'compact', domain: 'legal', equiv: 'state' },
    scores, rows, runs: results,
  };
  if (a.out) writeFileAtomic(path.resolve(io.cwd, a.out), `${JSON.stringify(json, null, 2)}\n`);
  io.out(a.json ? `${JSON.stringify(json, null, 2)}\n` : `${formatMutantsReport(rows, scores, a.seeds, a.timeSec)}\n`);
  return 0;
}

registerCommand({
  name: 'mutants',
  summary: 'oracle power: find each seeded-bug mutant per engine; mutation score (--list: catalogue)',
  help: HELP,
  run: runMutants,
});
