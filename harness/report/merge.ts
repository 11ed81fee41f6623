// Merging campaign outputs (DESIGN §6): worker threads of one run, shards run on many machines
// (`tdpfuzz merge`), and a resumed run with the run it continues. One report and one stats file come
// out, as if one campaign had run everything:
//
//  - scope: sequences, generated, ops and corpus counts add up; the configuration (designs,
//    equivalence, domain, geometry, generator rates) must be the same in every part; shards that
//    together form a larger shard (or the whole space) are recombined (0/4 + 2/4 → 0/2);
//  - findings by signature: hits add up; the first source is the earliest; the reproducer is the
//    smallest (fewest ops, then the earliest); a triage status other than "open" wins;
//  - explained differences by id and by signature: sequence counts add up;
//  - coverage: the exact union of the reached classes (reports carry the class list);
//  - crash directories: crash files of the same signature are combined like the crash store does
//    (hits add up, smaller reproducer, earliest firstSeen, latest lastSeen, triage kept) — in
//    store/crash_merge.ts, which also makes a repeated merge add nothing twice;
//  - stats: counts add up; the time series are summed (executions, ops) or maximized (coverage,
//    findings: a lower bound of the union) at each sample time; `lanes` records each part's
//    (seed, shard, generated) for `run --resume`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { summarizeCoverage, type CoverageSummary } from '../run/coverage_classes';
import type { CrashSource, CrashStatus } from '../store/crash_store';
import { displayPath, toolVersion } from '../store/fsutil';
import { judgeFindings, REPORT_FORMAT, type MergedPart, type ReportData, type ReportExplained, type ReportFinding, type ReportScope, type ReportTiming } from './data';
import { InputError } from '../seq/sequence';
import { readReportFile } from './report_file';
import { readStatsFile } from './stats_file';
import { sumRecords } from '../run/op_time';
import { downsample, progressOf, STATS_FORMAT, type Lane, type SeriesPoint, type Shard, type StatsFile } from './stats';


// ------------------------------------------------------------------------------------------------
// Shards

function gcd(a: number, b: number): number { return b === 0 ? a : gcd(b, a % b); }
function lcm(a: number, b: number): number { return (a / gcd(a, b)) * b; }

/**
 * The shard that a set of shards forms together: 0/4 + 2/4 → 0/2, 0/2 + 1/2 → null (everything).
 * `exact` is false when they form no single shard (the result is then null) or overlap.
 */
export function combineShards(shards: readonly Shard[]): { shard: Shard; exact: boolean } {
  if (shards.length === 0) return { shard: null, exact: true };
  if (shards.some(s => s === null)) return { shard: null, exact: shards.length === 1 };
  const ss = shards as { index: number; count: number }[];
  const L = ss.reduce((m, s) => lcm(m, s.count), 1);
  if (L > 1_000_000) return { shard: null, exact: false };
  const covered = new Uint8Array(L);
  let overlap = false;
  for (const s of ss) {
    for (let r = s.index; r < L; r += s.count) {
      if (covered[r]) overlap = true;
      covered[r] = 1;
    }
  }
  for (let M = 1; M <= L; M++) {
    if (L % M) continue;
    const i0 = covered.indexOf(1) % M;
    let ok = true;
    for (let r = 0; r < L && ok; r++) ok = (covered[r] === 1) === (r % M === i0);
    if (ok) return { shard: M === 1 ? null : { index: i0, count: M }, exact: !overlap };
  }
  return { shard: null, exact: false };
}

/** Worker w of N inside shard i/M runs the indices ≡ i + w·M (mod M·N): together exactly shard i/M. */
export function workerShard(parent: Shard, w: number, n: number): Shard {
  if (n === 1) return parent;
  const i = parent?.index ?? 0, m = parent?.count ?? 1;
  return { index: i + w * m, count: m * n };
}

// ------------------------------------------------------------------------------------------------
// Reports

export interface ReportPart { from: string; report: ReportData }

export interface MergeReportOptions {
  /** "parallel": the parts ran at the same time (workers, shards); "sequential": one after another (resume) */
  mode: 'parallel' | 'sequential';
  /** the merged scope's seed and shard (default: derived from the parts) */
  seed?: string | number;
  shard?: Shard;
  /** the merged crash file of a signature, if any (its path for the report, and its triage status) */
  crashFor?: (signature: string) => { file: string; status: CrashStatus } | null;
  /** timing override (workers: the main thread's own clock) */
  timing?: Partial<ReportTiming>;
}

const CONFIG_FIELDS = ['designs', 'designSpecs', 'equiv', 'domain', 'config', 'faultRate', 'raceRate', 'maxOps', 'profile'] as const;

function sameJson(a: unknown, b: unknown): boolean { return JSON.stringify(a) === JSON.stringify(b); }

/** Refuse to merge parts that compared different things (mergeReports checks it too; merge calls it before writing anything). */
export function checkCompatible(parts: readonly { from: string; scope: Pick<ReportScope, typeof CONFIG_FIELDS[number]> }[]): void {
  const first = parts[0];
  for (const p of parts.slice(1)) {
    for (const k of CONFIG_FIELDS) {
      if (!sameJson(first.scope[k], p.scope[k])) {
        throw new InputError(`${p.from}: cannot merge with ${first.from}: ${k} differs (${JSON.stringify(p.scope[k])} vs ${JSON.stringify(first.scope[k])})`);
      }
    }
  }
}

/** Order of first sources: corpus files (by name) before generated sequences (by index). */
function sourceKey(s: CrashSource): [number, string | number] {
  return 'file' in s ? [0, s.file] : [1, s.index];
}
function sourceBefore(a: CrashSource, b: CrashSource): boolean {
  const [ka, va] = sourceKey(a), [kb, vb] = sourceKey(b);
  if (ka !== kb) return ka < kb;
  return typeof va === 'number' && typeof vb === 'number' ? va < vb : String(va) < String(vb);
}

function dNumber(id: string): number {
  const m = /^D(\d+)$/.exec(id);
  return m ? Number(m[1]) : 1e9;
}

/** Parallel parts: per family, the latest of the parts' last new classes (families sorted). */
function latestByFamily(parts: readonly Record<string, number>[]): Record<string, number> {
  const out = new Map<string, number>();
  for (const p of parts) for (const [f, t] of Object.entries(p)) out.set(f, Math.max(out.get(f) ?? 0, t));
  return Object.fromEntries([...out.keys()].sort().map(f => [f, out.get(f)!]));
}

function mergeCoverage(parts: readonly ReportData[]): CoverageSummary {
  const { config, domain } = parts[0].scope;
  if (parts.every(p => Array.isArray(p.coverage.classes))) {
    const all = new Set<string>();
    for (const p of parts) for (const c of p.coverage.classes!) all.add(c);
    return summarizeCoverage(all, config, domain);
  }
  // Reports without the class list: a lower bound per family, and the exact never-reached list.
  const byFamily: Record<string, number> = {};
  for (const p of parts) for (const [f, n] of Object.entries(p.coverage.byFamily)) byFamily[f] = Math.max(byFamily[f] ?? 0, n);
  const never = parts.map(p => new Set(p.coverage.neverReached));
  const neverReached = [...never[0]].filter(c => never.every(s => s.has(c))).sort();
  const expected = parts[0].coverage.expected;
  return {
    reached: Math.max(...parts.map(p => p.coverage.reached)),
    byFamily: Object.fromEntries(Object.keys(byFamily).sort().map(f => [f, byFamily[f]])),
    expected, expectedReached: expected - neverReached.length, neverReached,
  };
}

export function mergeReports(parts: readonly ReportPart[], opts: MergeReportOptions): ReportData {
  if (parts.length === 0) throw new InputError('merge: nothing to merge');
  checkCompatible(parts.map(p => ({ from: p.from, scope: p.report.scope })));
  const reports = parts.map(p => p.report);
  const s0 = reports[0].scope;

  // Findings by signature.
  const findings = new Map<string, ReportFinding>();
  for (const r of reports) {
    for (const f of r.findings) {
      const cur = findings.get(f.signature);
      if (!cur) { findings.set(f.signature, { ...f }); continue; }
      const merged: ReportFinding = { ...cur, hits: cur.hits + f.hits };
      if (sourceBefore(f.firstSource, cur.firstSource)) merged.firstSource = f.firstSource;
      if (f.reproducer.length < cur.reproducer.length) {
        Object.assign(merged, {
          message: f.message, crashFile: f.crashFile, reproducer: f.reproducer, originalOpCount: f.originalOpCount,
          minimized: f.minimized, opIndex: f.opIndex, firstDivergence: f.firstDivergence, replay: f.replay,
        });
      }
      if (merged.status === 'open' && f.status !== 'open') merged.status = f.status;
      findings.set(f.signature, merged);
    }
  }
  for (const f of findings.values()) {
    const c = opts.crashFor?.(f.signature);
    if (c) {
      f.crashFile = c.file;
      f.status = c.status;
      f.replay = `npx tdpfuzz replay ${c.file}`;
    }
  }
  const findingList = [...findings.values()].sort((a, b) => (sourceBefore(a.firstSource, b.firstSource) ? -1 : sourceBefore(b.firstSource, a.firstSource) ? 1 : 0));

  // Explained differences by id, then by signature.
  const explained = new Map<string, ReportExplained>();
  for (const r of reports) {
    for (const e of r.explained) {
      const cur = explained.get(e.id);
      if (!cur) { explained.set(e.id, { ...e, signatures: e.signatures.map(x => ({ ...x })) }); continue; }
      cur.sequences += e.sequences;
      for (const x of e.signatures) {
        const y = cur.signatures.find(z => z.signature === x.signature);
        if (y) y.sequences += x.sequences; else cur.signatures.push({ ...x });
      }
    }
  }
  const explainedList = [...explained.values()].sort((a, b) => dNumber(a.id) - dNumber(b.id) || a.id.localeCompare(b.id));

  // Scope.
  const sum = (f: (s: ReportScope) => number): number => reports.reduce((n, r) => n + f(r.scope), 0);
  const seeds = [...new Set(reports.map(r => String(r.scope.seed)))];
  const seed = opts.seed ?? (seeds.length === 1 ? s0.seed : seeds.join(','));
  const shard = opts.shard !== undefined ? opts.shard
    : opts.mode === 'sequential' ? s0.shard : combineShards(reports.map(r => r.scope.shard)).shard;
  const runsAll = reports.every(r => r.scope.budget.runs !== null);
  const times = reports.map(r => r.scope.budget.timeSec).filter((t): t is number => t !== null);
  const partsList: MergedPart[] = parts.flatMap(p => p.report.scope.merged?.parts.map(x => ({ ...x, from: `${p.from}: ${x.from}` }))
    ?? [{ from: p.from, seed: p.report.scope.seed, shard: p.report.scope.shard, sequences: p.report.scope.sequences }]);
  const { opsByKind: _first, ...s0rest } = s0;
  const scope: ReportScope = {
    ...s0rest,
    seed,
    shard,
    sequences: sum(s => s.sequences),
    generated: sum(s => s.generated),
    corpus: {
      dir: reports.find(r => r.scope.corpus.dir !== null)?.scope.corpus.dir ?? null,
      files: sum(s => s.corpus.files),
      skipped: reports.flatMap(r => r.scope.corpus.skipped),
    },
    ops: sum(s => s.ops),
    // per kind, only when every part counted them (else the rows would not add up to ops)
    ...(reports.every(r => r.scope.opsByKind) ? { opsByKind: sumRecords(reports.map(r => r.scope.opsByKind!)) } : {}),
    budget: {
      runs: runsAll ? sum(s => s.budget.runs!) : null,
      timeSec: times.length === 0 ? null : opts.mode === 'sequential' ? times.reduce((a, b) => a + b, 0) : Math.max(...times),
    },
    merged: { parts: partsList },
  };

  // Timing (not deterministic anyway).
  const ts = reports.map(r => r.timing);
  const elapsedSec = opts.mode === 'sequential' ? ts.reduce((n, t) => n + t.elapsedSec, 0) : Math.max(...ts.map(t => t.elapsedSec));
  const el = Math.max(elapsedSec, 1e-9);
  const stoppedBy: ReportTiming['stoppedBy'] = opts.mode === 'sequential' ? ts[ts.length - 1].stoppedBy
    // a part's first finding stops the others (--stop-on-first), which then report a stop signal
    : ts.some(t => t.stoppedBy === 'finding') ? 'finding' : ts.some(t => t.stoppedBy === 'signal') ? 'signal' : ts.some(t => t.stoppedBy === 'time') ? 'time' : 'runs';
  const timing: ReportTiming = {
    startedAt: ts.map(t => t.startedAt).sort()[0],
    finishedAt: ts.map(t => t.finishedAt).sort().slice(-1)[0],
    elapsedSec,
    // Parallel parts: the aggregate rate (machines or threads ran at the same time).
    execsPerSec: opts.mode === 'sequential' ? scope.sequences / el : ts.reduce((n, t) => n + t.execsPerSec, 0),
    opsPerSec: opts.mode === 'sequential' ? scope.ops / el : ts.reduce((n, t) => n + t.opsPerSec, 0),
    stoppedBy,
    // parallel parts: the latest of their last new classes (a sequential merge cannot say: the later part's classes may not be new)
    ...(opts.mode === 'parallel' && ts.every(t => t.lastNewClassSec !== undefined) ? { lastNewClassSec: Math.max(...ts.map(t => t.lastNewClassSec!)) } : {}),
    ...mergeFoundAt(ts, opts.mode),
    // model time adds up whether the parts ran at the same time or one after another
    ...(ts.every(t => t.modelMsByKind) ? { modelMsByKind: sumRecords(ts.map(t => t.modelMsByKind!)) } : {}),
    ...(ts.every(t => t.engineMs !== undefined) ? { engineMs: ts.reduce((n, t) => n + t.engineMs!, 0) } : {}),
    ...(opts.mode === 'parallel' && ts.every(t => t.lastNewByFamily !== undefined) ? { lastNewByFamily: latestByFamily(ts.map(t => t.lastNewByFamily!)) } : {}),
    ...opts.timing,
  };

  return {
    format: REPORT_FORMAT,
    toolVersion: toolVersion(),
    ...judgeFindings(scope, findingList, timing.stoppedBy),
    scope,
    coverage: mergeCoverage(reports),
    findings: findingList,
    explained: explainedList,
    unobservable: reports[0].unobservable,
    timing,
  };
}

/** timing.foundAtSec of merged parts: the earliest sighting, on the merged report's time axis. */
function mergeFoundAt(ts: readonly ReportTiming[], mode: 'parallel' | 'sequential'): Pick<ReportTiming, 'foundAtSec'> {
  if (!ts.some(t => t.foundAtSec)) return {};
  const out: Record<string, number> = {};
  let offset = 0;
  for (const t of ts) {
    for (const [sig, sec] of Object.entries(t.foundAtSec ?? {})) {
      const at = Math.round((offset + sec) * 1000) / 1000;
      if (!(sig in out) || at < out[sig]) out[sig] = at;
    }
    if (mode === 'sequential') offset += t.elapsedSec;
  }
  return { foundAtSec: out };
}

// ------------------------------------------------------------------------------------------------
// Stats

/** The lanes a stats file describes (a single campaign: one lane from its seed/shard/generated). */
export function lanesOf(s: StatsFile): Lane[] {
  return s.lanes ?? [{ seed: s.seed, shard: s.shard, generated: s.generated, engine: s.engine ?? 'random' }];
}

/** Step-function value of a series at time t. */
function at(series: readonly SeriesPoint[], t: number): SeriesPoint | null {
  let v: SeriesPoint | null = null;
  for (const p of series) { if (p.t <= t) v = p; else break; }
  return v;
}

export function mergeSeries(parts: readonly SeriesPoint[][], mode: 'parallel' | 'sequential', elapsed: readonly number[] = []): SeriesPoint[] {
  if (mode === 'sequential') {
    const out: SeriesPoint[] = [];
    let t0 = 0, e0 = 0, o0 = 0, c0 = 0, f0 = 0;
    parts.forEach((ser, i) => {
      for (const p of ser) out.push({ t: Math.round((t0 + p.t) * 10) / 10, execs: e0 + p.execs, ops: o0 + p.ops, coverage: Math.max(c0, p.coverage), findings: Math.max(f0, p.findings) });
      const last = ser[ser.length - 1];
      t0 += elapsed[i] ?? last?.t ?? 0;
      if (last) { e0 += last.execs; o0 += last.ops; c0 = Math.max(c0, last.coverage); f0 = Math.max(f0, last.findings); }
    });
    return downsample(out);
  }
  const times = [...new Set(parts.flatMap(s => s.map(p => p.t)))].sort((a, b) => a - b);
  return downsample(times.map((t) => {
    const vs = parts.map(s => at(s, t));
    return {
      t,
      execs: vs.reduce((n, v) => n + (v?.execs ?? 0), 0),
      ops: vs.reduce((n, v) => n + (v?.ops ?? 0), 0),
      coverage: Math.max(0, ...vs.map(v => v?.coverage ?? 0)),
      findings: Math.max(0, ...vs.map(v => v?.findings ?? 0)),
    };
  }));
}

export function mergeStats(parts: readonly { from: string; stats: StatsFile }[], report: ReportData, mode: 'parallel' | 'sequential'): StatsFile {
  const ss = parts.map(p => p.stats);
  const sum = (f: (s: StatsFile) => number): number => ss.reduce((n, s) => n + f(s), 0);
  const elapsedSec = report.timing.elapsedSec;
  const lanes = mode === 'sequential' ? lanesOf(ss[ss.length - 1]) : ss.flatMap(lanesOf);
  const engines = [...new Set(lanes.map(l => l.engine))];
  return {
    format: STATS_FORMAT,
    toolVersion: toolVersion(),
    done: ss.every(s => s.done),
    stoppedBy: report.timing.stoppedBy,
    startedAt: ss.map(s => s.startedAt).sort()[0],
    updatedAt: ss.map(s => s.updatedAt).sort().slice(-1)[0],
    seed: report.scope.seed,
    shard: report.scope.shard,
    designs: report.scope.designSpecs,
    equiv: report.scope.equiv,
    domain: report.scope.domain,
    config: report.scope.config,
    faultRate: report.scope.faultRate,
    raceRate: report.scope.raceRate,
    maxOps: report.scope.maxOps,
    profile: report.scope.profile,
    elapsedSec,
    execs: sum(s => s.execs),
    generated: sum(s => s.generated),
    corpus: sum(s => s.corpus),
    ops: sum(s => s.ops),
    execsPerSec: report.timing.execsPerSec,
    opsPerSec: report.timing.opsPerSec,
    coverage: report.coverage.reached,
    findings: report.findings.length,
    openFindings: report.verdict.unexplainedSignatures,
    explained: report.explained.length,
    series: mergeSeries(ss.map(s => s.series ?? []), mode, ss.map(s => s.elapsedSec)),
    ...progressOf(report, { reruns: sum(s => s.stability?.reruns ?? 0), repeated: sum(s => s.stability?.repeated ?? 0) }),
    engine: engines.length === 1 ? engines[0] : engines.join(','),
    lanes,
    merged: report.scope.merged,
  };
}

// ------------------------------------------------------------------------------------------------
// Output directories and crash directories

export interface OutputDir { dir: string; shown: string; report: ReportData; stats: StatsFile | null }

/** Read DIR/report.json (required) and DIR/stats.json (optional), strictly validated. */
export function readOutputDir(dir: string, cwd: string): OutputDir {
  const abs = path.resolve(cwd, dir);
  const shown = displayPath(abs, cwd);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new InputError(`${shown}: no such directory`);
  const rp = path.join(abs, 'report.json');
  if (!fs.existsSync(rp)) throw new InputError(`${shown}: no report.json (not a tdpfuzz output directory, or its run did not finish)`);
  const report = readReportFile(rp, `${shown}/report.json`);
  const sp = path.join(abs, 'stats.json');
  const stats = fs.existsSync(sp) ? readStatsFile(sp, `${shown}/stats.json`) : null;
  return { dir: abs, shown, report, stats };
}

/** A stats file for an output directory that has none (from its report). */
export function statsFromReport(r: ReportData): StatsFile {
  const s = r.scope;
  return {
    format: STATS_FORMAT, toolVersion: r.toolVersion, done: true, stoppedBy: r.timing.stoppedBy,
    startedAt: r.timing.startedAt, updatedAt: r.timing.finishedAt, seed: s.seed, shard: s.shard, designs: s.designSpecs,
    equiv: s.equiv, domain: s.domain, config: s.config, faultRate: s.faultRate, raceRate: s.raceRate, maxOps: s.maxOps, profile: s.profile,
    elapsedSec: r.timing.elapsedSec, execs: s.sequences,
    generated: s.generated, corpus: s.corpus.files, ops: s.ops, execsPerSec: r.timing.execsPerSec, opsPerSec: r.timing.opsPerSec,
    coverage: r.coverage.reached, findings: r.findings.length, openFindings: r.verdict.unexplainedSignatures, explained: r.explained.length,
    series: [],
  };
}

/** The crash files an output directory brings: DIR/crashes/*.json, and the crash files its report names. */
export function crashFilesOf(o: OutputDir, cwd: string): string[] {
  const files = new Set<string>();
  const own = path.join(o.dir, 'crashes');
  if (fs.existsSync(own) && fs.statSync(own).isDirectory()) {
    for (const n of fs.readdirSync(own).filter(n => n.endsWith('.json') && !n.startsWith('.')).sort()) files.add(path.join(own, n));
  }
  for (const f of o.report.findings) {
    if (!f.crashFile) continue;
    const candidates = [path.join(own, path.basename(f.crashFile)), path.resolve(cwd, f.crashFile), path.resolve(o.dir, '..', f.crashFile)];
    const hit = candidates.find(c => fs.existsSync(c));
    if (hit) files.add(path.resolve(hit));
  }
  return [...files];
}
