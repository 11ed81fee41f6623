// Campaigns (DESIGN §6): run corpus sequences, then generated sequences i = shard.index,
// shard.index + shard.count, … of one seed, through the lockstep runner until a run or time budget
// is spent or the campaign is stopped; record each unexplained finding in the crash store as it is
// found; aggregate explained differences and coverage; keep a machine-readable stats file with a
// time series; produce the report.
//
// Determinism: for the same seed, configuration and run budget, findings, counts, coverage and the
// report (apart from its "timing" object) are identical. Wall-clock time appears only in the timing
// section, the stats file and the crash files' firstSeen/lastSeen.
//
// The loop is synchronous per sequence and yields to the event loop every few milliseconds, so that
// SIGINT/SIGTERM handlers (the CLI's) can call stop(): the current sequence finishes, pending hit
// counts are flushed, stats and reports are written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG, type Design, type Op, type VmConfig } from '../../impls/api';
import type { Equivalence } from '../run/compare';
import { summarizeCoverage } from '../run/coverage_classes';
import { CrashStore, type CrashSource, type CrashStatus } from '../store/crash_store';
import { UNOBSERVABLE } from '../run/explained';
import { describeOp, type Finding } from '../run/findings';
import { displayPath, toolVersion, writeFileAtomic } from '../store/fsutil';
import { DEFAULT_FAULT_RATE, DEFAULT_MAX_OPS, DEFAULT_RACE_RATE, generateSequence } from '../seq/generate';
import type { Engine } from './engines/engine';
import type { SeriesPoint } from '../report/stats';
import { randomEngine } from './engines/random';
import type { Domain } from '../seq/domain';
import { REPORT_FORMAT, verdictLine, type ReportData, type ReportExplained, type ReportFinding, type ReportScope } from '../report/data';
import { writeReports, type ReportPaths } from '../report/index';
import { designLabels, runSequence, type RunResult } from '../run/runner';
import { InputError, makeSequence, parseSequence, type Sequence } from '../seq/sequence';
import { legalityErrors } from '../seq/legality';
import type { Minimizer, MinimizerOutput } from '../run/minimize';

export interface CampaignStatus {
  execs: number;
  ops: number;
  execsPerSec: number;
  opsPerSec: number;
  coverage: number;
  corpus: number;
  findings: number;
  explained: number;
  elapsedSec: number;
  done: boolean;
}

export type CampaignEvent =
  | { type: 'new-finding'; execs: number; signature: string; message: string; crashFile: string | null; status: CrashStatus }
  | { type: 'warning'; message: string };

export interface CampaignOptions {
  designs: readonly Design[];
  /** as given on the command line (names or module paths); default: the designs' names */
  designSpecs?: string[];
  seed?: string | number;
  /** total sequences to execute, corpus included (libFuzzer -runs) */
  runs?: number;
  /** time budget in seconds (libFuzzer -max_total_time) */
  timeSec?: number;
  equiv?: Equivalence;
  domain?: Domain;
  config?: Partial<VmConfig>;
  faultRate?: number;
  raceRate?: number;
  maxOps?: number;
  /** run only generated indices i ≡ index (mod count), and every count-th corpus file */
  shard?: { index: number; count: number };
  /** base for relative paths and displayed paths (default process.cwd()) */
  cwd?: string;
  /** where stats.json and the reports go; null writes nothing (default "out") */
  outDir?: string | null;
  /** the crash store; null keeps findings in memory only (default "crashes") */
  crashDir?: string | null;
  /** where generated sequences come from (default: the random engine over seed and shard) */
  engine?: Engine;
  /** sequence files run first; default "corpus" when that directory exists; null for none */
  corpusDir?: string | null;
  signal?: AbortSignal;
  onStatus?: (s: CampaignStatus) => void;
  /** how often onStatus is called (default 1000 ms) */
  statusIntervalMs?: number;
  onEvent?: (e: CampaignEvent) => void;
  /** how often stats.json is rewritten and pending hits flushed (default 1000 ms) */
  statsIntervalMs?: number;
  /** wall clock (crash files' firstSeen/lastSeen, timing) */
  now?: () => Date;
  /** monotonic milliseconds (budgets, rates) */
  clock?: () => number;
  minimize?: Minimizer;
  /** time bound per minimization (default 10 s) */
  minimizeTimeMs?: number;
}

export interface CampaignResult {
  report: ReportData;
  /** 1 when an unexplained finding (crash status "open") was found, else 0 */
  exitCode: 0 | 1;
  reportPaths: ReportPaths | null;
  statsPath: string | null;
}


interface Tracked {
  finding: Finding;
  firstSource: CrashSource;
  hits: number;
  /** hits not yet written to the crash file */
  pendingHits: number;
  /** the smallest sequence seen since the last flush that is smaller than the stored reproducer */
  candidate: { seq: Sequence; source: CrashSource; finding: Finding } | null;
  /** ops of the stored reproducer (or, without a store, the best seen) */
  reproducer: Op[];
  originalOps: number;
  minimized: boolean;
  /** the finding as seen on the reproducer (first divergence matching the reproducer ops) */
  reproducerFinding: Finding;
  status: CrashStatus;
  crashFile: string | null;
}

const DEFAULT_TIME_WHEN_NO_BUDGET = 60;
const YIELD_EVERY_MS = 25;
const MAX_SERIES = 2000;

function isSeqFile(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.');
}

/** Load the corpus directory's sequence files (sorted by name). Bad files are InputErrors. */
export function loadCorpus(dir: string, cwd: string): { file: string; seq: Sequence }[] {
  const abs = path.resolve(cwd, dir);
  if (!fs.existsSync(abs)) throw new InputError(`--corpus: ${dir}: no such directory`);
  if (!fs.statSync(abs).isDirectory()) throw new InputError(`--corpus: ${dir}: not a directory`);
  return fs.readdirSync(abs).filter(isSeqFile).sort().map((name) => {
    const file = path.join(abs, name);
    const shown = displayPath(file, cwd);
    return { file: shown, seq: parseSequence(fs.readFileSync(file, 'utf8'), shown) };
  });
}

/** A running campaign: stop() makes it finish the current sequence and write everything. */
export interface CampaignHandle {
  stop(): void;
  readonly done: Promise<CampaignResult>;
}

export function startCampaign(opts: CampaignOptions): CampaignHandle {
  const ctl = new AbortController();
  if (opts.signal) {
    if (opts.signal.aborted) ctl.abort();
    else opts.signal.addEventListener('abort', () => ctl.abort(), { once: true });
  }
  const done = runCampaign({ ...opts, signal: ctl.signal });
  return { stop: () => ctl.abort(), done };
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  if (opts.designs.length < 2) throw new InputError(`--designs: need at least two designs to compare, got ${opts.designs.length}`);
  const cwd = opts.cwd ?? process.cwd();
  const clock = opts.clock ?? (() => performance.now());
  const now = opts.now ?? (() => new Date());
  const seed = opts.seed ?? 1;
  const equiv = opts.equiv ?? 'state';
  const domain = opts.domain ?? 'legal';
  const config: VmConfig = { ...DEFAULT_CONFIG, ...opts.config };
  const faultRate = opts.faultRate ?? DEFAULT_FAULT_RATE;
  const raceRate = opts.raceRate ?? DEFAULT_RACE_RATE;
  const maxOps = opts.maxOps ?? DEFAULT_MAX_OPS;
  const shard = opts.shard ?? null;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new InputError(`--shard: expected i/N with 0 <= i < N, got ${shard.index}/${shard.count}`);
  }
  const runs = opts.runs ?? null;
  const timeSec = opts.timeSec ?? (runs === null ? DEFAULT_TIME_WHEN_NO_BUDGET : null);
  const labels = designLabels(opts.designs);
  const designSpecs = opts.designSpecs ?? opts.designs.map(d => d.name);
  const genOpts = { config, domain, faultRate, raceRate, maxOps };
  // Fail on bad generator options before anything is written.
  generateSequence(seed, 0, genOpts);
  const engine = opts.engine ?? randomEngine(seed, genOpts, shard);

  const outDir = opts.outDir === undefined ? path.resolve(cwd, 'out') : opts.outDir === null ? null : path.resolve(cwd, opts.outDir);
  const store = opts.crashDir === null ? null
    : new CrashStore(opts.crashDir ?? 'crashes', { cwd, now, warn: message => opts.onEvent?.({ type: 'warning', message }) });

  // Corpus first (named scenario seeds), sharded like the generated sequences; in the legal domain
  // a file with illegal ops is skipped (its WARNs would be false findings), and said so in the report.
  let corpusDir: string | null = null;
  let corpus: { file: string; seq: Sequence }[] = [];
  const skipped: { file: string; reason: string }[] = [];
  if (opts.corpusDir !== null) {
    const dir = opts.corpusDir ?? 'corpus';
    if (opts.corpusDir !== undefined || fs.existsSync(path.resolve(cwd, dir))) {
      corpusDir = displayPath(dir, cwd);
      corpus = loadCorpus(dir, cwd).filter((_, k) => !shard || k % shard.count === shard.index).filter(({ file, seq }) => {
        if (domain !== 'legal') return true;
        const errs = legalityErrors(seq);
        if (errs.length) skipped.push({ file, reason: `not legal: op ${errs[0].index}: ${errs[0].reason}` });
        return errs.length === 0;
      });
    }
  }

  const startedAt = now();
  const t0 = clock();
  const elapsed = (): number => (clock() - t0) / 1000;
  let execs = 0;
  let generated = 0;
  let opsTotal = 0;
  let stoppedBy: 'runs' | 'time' | 'signal' = 'runs';
  const coverage = new Set<string>();
  const tracked = new Map<string, Tracked>();
  const explained = new Map<string, { e: ReportExplained; seen: Map<string, { message: string; sequences: number }> }>();
  const series: SeriesPoint[] = [];
  let seriesStep = 1;
  let nextSample = 0;
  let nextStats = 0;
  let nextStatus = 0;
  let lastYield = clock();
  const statsPath = outDir ? path.join(outDir, 'stats.json') : null;
  const statusEvery = opts.statusIntervalMs ?? 1000;
  const statsEvery = opts.statsIntervalMs ?? 1000;

  const openFindings = (): number => [...tracked.values()].filter(t => t.status === 'open').length;

  const status = (done: boolean): CampaignStatus => {
    const el = Math.max(elapsed(), 1e-9);
    return {
      execs, ops: opsTotal, execsPerSec: execs / el, opsPerSec: opsTotal / el, coverage: coverage.size,
      corpus: engine.corpusSize() || corpus.length, findings: tracked.size, explained: explained.size, elapsedSec: elapsed(), done,
    };
  };

  const sample = (): void => {
    const t = Math.round(elapsed() * 10) / 10;
    series.push({ t, execs, ops: opsTotal, coverage: coverage.size, findings: tracked.size });
    if (series.length > MAX_SERIES) {
      // Keep the series bounded on long runs: drop every other point and sample half as often.
      for (let i = series.length - 2; i > 0; i -= 2) series.splice(i, 1);
      seriesStep *= 2;
    }
  };

  const writeStats = (done: boolean): void => {
    if (!statsPath || !outDir) return;
    fs.mkdirSync(outDir, { recursive: true });
    const s = status(done);
    const stats = {
      format: 'tdpfuzz-stats/1', toolVersion: toolVersion(), done, stoppedBy: done ? stoppedBy : null,
      startedAt: startedAt.toISOString(), updatedAt: now().toISOString(),
      seed, shard, designs: designSpecs, equiv, domain, config, faultRate, raceRate, maxOps, engine: engine.name,
      elapsedSec: s.elapsedSec, execs, generated, corpus: corpus.length, ops: opsTotal,
      execsPerSec: s.execsPerSec, opsPerSec: s.opsPerSec, coverage: coverage.size,
      findings: tracked.size, openFindings: openFindings(), explained: explained.size,
      series,
    };
    writeFileAtomic(statsPath, `${JSON.stringify(stats)}\n`);
  };

  /** Write pending hits and smaller reproducers to the crash store. */
  const flush = (): void => {
    for (const t of tracked.values()) {
      if (!store || (t.pendingHits === 0 && !t.candidate)) continue;
      if (t.candidate) {
        const c = t.candidate;
        const r = store.record({
          finding: c.finding, config: c.seq.config, designs: designSpecs, equiv, domain, source: c.source,
          ops: c.seq.ops, originalOps: c.seq.ops, hits: t.pendingHits,
        });
        if (r.reproducerReplaced) { t.reproducer = c.seq.ops; t.reproducerFinding = c.finding; t.originalOps = c.seq.ops.length; t.minimized = false; }
        t.status = r.crash.status;
      } else {
        const crash = store.addHits(t.finding.signature, t.pendingHits);
        if (crash) t.status = crash.status;
      }
      t.pendingHits = 0;
      t.candidate = null;
    }
  };

  const minimizeNew = async (seq: Sequence, f: Finding): Promise<{ ops: Op[]; finding: Finding; stats?: Record<string, unknown> } | null> => {
    if (!opts.minimize) return null;
    const timeLimitMs = opts.minimizeTimeMs ?? 10_000;
    const m0 = clock();
    let res: MinimizerOutput;
    try {
      res = await opts.minimize(seq, f, { designs: opts.designs, equiv, domain, timeLimitMs });
    } catch (e) {
      opts.onEvent?.({ type: 'warning', message: `minimizer failed on ${f.signature}: ${(e as Error).message.split('\n')[0]}` });
      return null;
    }
    if (res.ops.length >= seq.ops.length) return null;
    // Keep the reduction only if it reproduces the same signature (and take that run's divergence).
    let again: RunResult;
    try {
      again = runSequence(makeSequence(seq.config, res.ops), { designs: opts.designs, equiv, domain });
    } catch (e) {
      opts.onEvent?.({ type: 'warning', message: `minimized ops of ${f.signature} are invalid: ${(e as Error).message.split('\n')[0]}` });
      return null;
    }
    const same = again.findings.find(x => x.signature === f.signature);
    if (!same) {
      opts.onEvent?.({ type: 'warning', message: `minimized ops of ${f.signature} do not reproduce it; keeping the original` });
      return null;
    }
    return { ops: again.ops.slice(0, res.ops.length), finding: same, stats: { ...res.stats, originalOps: seq.ops.length, minimizedOps: res.ops.length, ms: Math.round(clock() - m0) } };
  };

  const onFinding = async (seq: Sequence, source: CrashSource, f: Finding): Promise<void> => {
    const t = tracked.get(f.signature);
    if (t) {
      t.hits++;
      t.pendingHits++;
      if (seq.ops.length < (t.candidate?.seq.ops.length ?? t.reproducer.length)) {
        t.candidate = { seq, source, finding: f };
        if (!store) { t.reproducer = seq.ops; t.reproducerFinding = f; t.originalOps = seq.ops.length; t.minimized = false; t.candidate = null; }
      }
      return;
    }
    const min = await minimizeNew(seq, f);
    const entry: Tracked = {
      finding: f, firstSource: source, hits: 1, pendingHits: 0, candidate: null,
      reproducer: min?.ops ?? seq.ops, originalOps: seq.ops.length, minimized: !!min,
      reproducerFinding: min?.finding ?? f, status: 'open', crashFile: null,
    };
    tracked.set(f.signature, entry);
    if (store) {
      const r = store.record({
        finding: entry.reproducerFinding, config: seq.config, designs: designSpecs, equiv, domain, source,
        ops: entry.reproducer, originalOps: seq.ops, ...(min?.stats ? { minimization: min.stats } : {}),
      });
      entry.status = r.crash.status;
      entry.crashFile = displayPath(r.file, cwd);
      if (!r.reproducerReplaced) {
        // An earlier campaign stored a smaller reproducer: report that one.
        entry.reproducer = r.crash.ops;
        entry.originalOps = r.crash.originalOps.length;
        entry.minimized = r.crash.minimization !== undefined;
        entry.reproducerFinding = { ...f, ...r.crash.finding, signature: f.signature, divergence: r.crash.firstDivergence ?? undefined };
      }
    }
    opts.onEvent?.({ type: 'new-finding', execs, signature: f.signature, message: f.message, crashFile: entry.crashFile, status: entry.status });
  };

  const onExplained = (xs: Finding[]): void => {
    const idsThisRun = new Set<string>();
    for (const x of xs) {
      const ex = x.explained!;
      let agg = explained.get(ex.id);
      if (!agg) {
        agg = { e: { id: ex.id, title: ex.title, reason: ex.reason, sequences: 0, signatures: [] }, seen: new Map() };
        explained.set(ex.id, agg);
      }
      if (!idsThisRun.has(ex.id)) { agg.e.sequences++; idsThisRun.add(ex.id); }
      const s = agg.seen.get(x.signature);
      if (s) s.sequences++; else agg.seen.set(x.signature, { message: x.message, sequences: 1 });
    }
  };

  const budgetLeft = (): boolean => {
    if (opts.signal?.aborted) { stoppedBy = 'signal'; return false; }
    if (runs !== null && execs >= runs) { stoppedBy = 'runs'; return false; }
    if (timeSec !== null && elapsed() >= timeSec) { stoppedBy = 'time'; return false; }
    return true;
  };

  const runOne = async (seq: Sequence, source: CrashSource): Promise<RunResult> => {
    const r = runSequence(seq, { designs: opts.designs, equiv, domain });
    execs++;
    opsTotal += r.ops.length;
    for (const c of r.coverage) coverage.add(c);
    if (r.explained.length) onExplained(r.explained);
    for (const f of r.findings) await onFinding(seq, source, f);
    return r;
  };

  const periodic = async (): Promise<void> => {
    const ms = elapsed() * 1000;
    if (ms >= nextSample) { sample(); nextSample += 1000 * seriesStep; }
    if (ms >= nextStats) { flush(); writeStats(false); nextStats = ms + statsEvery; }
    if (opts.onStatus && ms >= nextStatus) { opts.onStatus(status(false)); nextStatus = ms + statusEvery; }
    if (clock() - lastYield >= YIELD_EVERY_MS) {
      await new Promise<void>(resolve => setImmediate(resolve));
      lastYield = clock();
    }
  };

  await periodic();
  for (const { file, seq } of corpus) {
    if (!budgetLeft()) break;
    const r = await runOne(seq, { file });
    engine.observe?.({ seq, source: { file } }, r);
    await periodic();
  }
  for (let k = 0; budgetLeft(); k++) {
    const item = engine.next(k);
    engine.feedback(item, await runOne(item.seq, item.source));
    generated++;
    await periodic();
  }

  // Wrap up: flush hits, last sample, report, final stats.
  flush();
  sample();
  const finishedAt = now();
  const el = Math.max(elapsed(), 1e-9);
  const findings: ReportFinding[] = [...tracked.values()].map((t) => {
    const f = t.reproducerFinding;
    return {
      signature: t.finding.signature, kind: t.finding.kind, designs: t.finding.designs, opKind: t.finding.opKind,
      component: t.finding.component, message: f.message, hits: t.hits, firstSource: t.firstSource, status: t.status,
      crashFile: t.crashFile, reproducer: t.reproducer.map(describeOp), originalOpCount: t.originalOps, minimized: t.minimized,
      opIndex: f.opIndex, firstDivergence: f.divergence ?? null,
      replay: t.crashFile ? `npx tdpfuzz replay ${t.crashFile}` : `npx tdpfuzz run --seed ${seed} (sequence ${'file' in t.firstSource ? t.firstSource.file : t.firstSource.index})`,
    };
  });
  const unexplained = findings.filter(f => f.status === 'open').length;
  const scope: ReportScope = {
    designs: labels, designSpecs, seed, shard, sequences: execs, generated,
    corpus: { dir: corpusDir, files: corpus.length, skipped }, ops: opsTotal, equiv, domain, config,
    faultRate, raceRate, maxOps, budget: { runs, timeSec },
  };
  const explainedList = [...explained.values()].map(({ e, seen }) => ({
    ...e, signatures: [...seen].map(([signature, v]) => ({ signature, message: v.message, sequences: v.sequences })),
  })).sort((a, b) => dNumber(a.id) - dNumber(b.id) || a.id.localeCompare(b.id));
  const report: ReportData = {
    format: REPORT_FORMAT,
    toolVersion: toolVersion(),
    verdict: { clean: unexplained === 0, unexplained, accepted: findings.length - unexplained, line: verdictLine(scope, unexplained, findings.length - unexplained) },
    scope,
    coverage: summarizeCoverage(coverage, config, domain),
    findings,
    explained: explainedList,
    unobservable: [...UNOBSERVABLE],
    timing: {
      startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), elapsedSec: elapsed(),
      execsPerSec: execs / el, opsPerSec: opsTotal / el, stoppedBy,
    },
  };
  const reportPaths = outDir ? writeReports(outDir, report, series) : null;
  writeStats(true);
  opts.onStatus?.(status(true));
  return { report, exitCode: unexplained ? 1 : 0, reportPaths, statsPath };
}

function dNumber(id: string): number {
  const m = /^D(\d+)$/.exec(id);
  return m ? Number(m[1]) : 1e9;
}

/** libFuzzer-style status line: `#12345 exec/s: 1234 ops/s: 17000 cov: 159 corp: 3 findings: 0 (explained: 4) 10s`. */
export function formatStatus(s: CampaignStatus): string {
  return `#${s.execs} ${s.done ? 'DONE' : 'pulse'} exec/s: ${Math.round(s.execsPerSec)} ops/s: ${Math.round(s.opsPerSec)} `
    + `cov: ${s.coverage} corp: ${s.corpus} findings: ${s.findings} (explained: ${s.explained}) ${Math.round(s.elapsedSec)}s`;
}
