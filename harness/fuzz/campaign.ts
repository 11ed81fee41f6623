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
// The loop runs sequences synchronously in chunks and yields to the event loop every few
// milliseconds, so that SIGINT/SIGTERM handlers (the CLI's) can call stop(): pending hit counts are
// flushed, stats and reports are written. Each chunk runs under the wall-clock watchdog
// (run/watchdog.ts, one watchdog thread per chunk, not per sequence): a sequence that makes no
// progress for --hang-timeout is stopped and recorded as a `hang` finding (component wall-clock;
// not minimized: every probe of a hang would cost the whole bound); a SIGINT stops the current
// sequence at once (it is abandoned, not counted), a SIGTERM within the bound.
//
// The parts, one job each: loadCampaignCorpus (the corpus phase's files), FindingTracker (findings,
// their crash files and minimization), ExplainedTally (by-design differences), CampaignProgress
// (counters, budget, series, stats.json, status), and Campaign (the corpus phase, the engine phase,
// the report).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Design, Op } from '../../impls/api';
import { campaignParams, generatorOptions, timeBudget, type CampaignParams, type GivenParams, type RunParams } from '../run/campaign_params';
import { familyOf, summarizeCoverage } from '../run/coverage_classes';
import { CrashStore, recordedDesigns, type CrashSource, type CrashStatus } from '../store/crash_store';
import { UNOBSERVABLE } from '../run/explained';
import { describeOp, type Finding } from '../run/findings';
import { displayPath, toolVersion, writeFileAtomic } from '../store/fsutil';
import { readInputFile } from '../store/input_file';
import { preflight } from './preflight';
import { generateSequence } from '../seq/generate';
import type { Engine } from './engines/engine';
import { appendSeriesPoint, buildStats, progressOf, type Lane, type SeriesPoint, type StatsFile } from '../report/stats';
import { CHECKPOINT_FORMAT, writeCheckpoint } from '../report/checkpoint';
import { randomEngine } from './engines/random';
import { judgeFindings, REPORT_FORMAT, type ReportData, type ReportExplained, type ReportFinding, type ReportScope, type ReportTiming } from '../report/data';
import { writeReports, type ReportPaths } from '../report/index';
import { designLabels, hangResult, runBoundedSequence, runSequence, WALL_CLOCK, type RunOptions, type RunResult } from '../run/runner';
import { runBounded } from '../run/watchdog';
import { OP_KIND_INDEX, opKindTally, tallyRecord } from '../run/op_time';
import { InputError, makeSequence, parseSequence, type Sequence } from '../seq/sequence';
import { legalityErrors } from '../seq/legality';
import { campaignMinimizer, type Minimizer, type MinimizerOutput } from '../run/minimize';

export type { Minimizer };

/** What the status line shows (fuzz/status_line.ts formatStatus); not part of reports or stats.json. */
export interface CampaignStatus {
  execs: number;
  ops: number;
  execsPerSec: number;
  opsPerSec: number;
  coverage: number;
  /** sequences the engine keeps (guided, jsfuzz); null when it keeps none (random) */
  corpus: number | null;
  /** corpus files (--corpus) run so far of those this campaign runs first */
  seeds: { done: number; total: number };
  /** the run's budget: execs stop at runs, elapsedSec at timeSec */
  budget: { runs: number | null; timeSec: number | null };
  findings: number;
  explained: number;
  elapsedSec: number;
  done: boolean;
  /** calibration re-runs and how many repeated their outcome (stats.json `stability`) */
  stability: { reruns: number; repeated: number };
}

export type CampaignEvent =
  | { type: 'new-finding'; execs: number; signature: string; message: string; crashFile: string | null; status: CrashStatus }
  | { type: 'warning'; message: string };

/** The campaign parameters (defaults: run/campaign_params.ts) and what an in-process campaign runs with. */
export interface CampaignOptions extends GivenParams<CampaignParams> {
  designs: readonly Design[];
  /** as given on the command line (names or module paths); default: the designs' names */
  designSpecs?: string[];
  /** total sequences to execute, corpus included (libFuzzer -runs) */
  runs?: number | null;
  /** time budget in seconds (libFuzzer -max_total_time) */
  timeSec?: number | null;
  /** base for relative paths and displayed paths (default process.cwd()) */
  cwd?: string;
  /** where stats.json and the reports go; null writes nothing (default "out") */
  outDir?: string | null;
  /** the crash store; null keeps findings in memory only (default OUT/crashes; none without OUT) */
  crashDir?: string | null;
  /** where generated sequences come from (default: the random engine over seed and shard) */
  engine?: Engine;
  /** sequence files run first; default "corpus" when that directory exists; null for none */
  corpusDir?: string | null;
  /** --stop-on-first: end the campaign after the sequence with its first unexplained (open) finding */
  stopOnFirst?: boolean;
  /** run --resume: the corpus files (names in dir, in order) still to run, instead of corpusDir */
  corpusResume?: { dir: string; files: string[] };
  /** each checkpoint (checkpoint.json): worker campaigns hand theirs to the main thread, which writes it */
  onCheckpoint?: (c: CampaignCheckpoint) => void;
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
  /** only these D-ids may explain (RunOptions.allowedExplanations: a bisect step); undefined: all */
  allowedExplanations?: readonly string[];
}

/**
 * One consistent cut of a campaign (report/checkpoint.ts): the report it would write had it stopped
 * after its `execs`-th sequence, and where its corpus and engine phases are.
 */
export interface CampaignCheckpoint {
  report: ReportData;
  /** the corpus files this campaign runs (names), and how many of them ran */
  corpusFiles: string[];
  corpusDone: number;
  /** the corpus directory (absolute), null without a corpus */
  corpusDir: string | null;
  /** engine sequences run (the engine's next index, counted from this campaign's first) */
  generated: number;
  done: boolean;
}

export interface CampaignResult {
  report: ReportData;
  /** 1 when an unexplained finding (crash status "open") was found, else 0 */
  exitCode: 0 | 1;
  reportPaths: ReportPaths | null;
  statsPath: string | null;
}

/**
 * How long a chunk of sequences runs before the campaign yields to the event loop (signals, timers,
 * worker messages). Each chunk is one runBounded call, whose watchdog thread costs the main thread
 * ~0.2 ms to start and stop (measured; the CPU profile of a campaign put runInContext's own time at
 * 2.0% with 25 ms chunks, 0.6% with 100 ms).
 * SIGINT does not wait for it (breakOnSigint); SIGTERM and status lines wait at most this long.
 */
const YIELD_EVERY_MS = 100;

/** One sequence of a phase and what the phase does with its result (engine feedback). */
interface CampaignStep { seq: Sequence; source: CrashSource; done(r: RunResult): void }

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
    return { file: shown, seq: parseSequence(readInputFile(file, shown).toString('utf8'), shown) };
  });
}

interface CampaignCorpus {
  /** the directory as shown; null when no corpus runs */
  dir: string | null;
  /** the directory, absolute (checkpoints record it) */
  absDir: string | null;
  files: { file: string; seq: Sequence }[];
  skipped: { file: string; reason: string }[];
  /** the corpus files the report counts: all of them, except in a resumed run (the interrupted run counted them) */
  counted: number;
}

/**
 * The corpus phase's files (named scenario seeds), sharded like the generated sequences; in the
 * legal domain a file with illegal ops is skipped (its WARNs would be false findings), and said so
 * in the report.
 */
function loadCampaignCorpus(corpusDir: string | null | undefined, p: CampaignParams, cwd: string): CampaignCorpus {
  const out: CampaignCorpus = { dir: null, absDir: null, files: [], skipped: [], counted: 0 };
  if (corpusDir === null) return out;
  const dir = corpusDir ?? 'corpus';
  if (corpusDir === undefined && !fs.existsSync(path.resolve(cwd, dir))) return out;
  out.dir = displayPath(dir, cwd);
  out.absDir = path.resolve(cwd, dir);
  out.files = loadCorpus(dir, cwd).filter((_, k) => !p.shard || k % p.shard.count === p.shard.index).filter(({ file, seq }) => {
    if (p.domain !== 'legal') return true;
    const errs = legalityErrors(seq);
    if (errs.length) out.skipped.push({ file, reason: `not legal: op ${errs[0].index}: ${errs[0].reason}` });
    return errs.length === 0;
  });
  out.counted = out.files.length;
  return out;
}

/**
 * run --resume: the rest of an interrupted campaign's corpus phase, by name (the earlier run already
 * sharded and legality-filtered the directory, and reported what it skipped).
 */
function resumedCorpus(r: { dir: string; files: string[] }, cwd: string): CampaignCorpus {
  const shownDir = displayPath(r.dir, cwd);
  return {
    dir: shownDir, absDir: r.dir, skipped: [], counted: 0,
    files: r.files.map((name) => {
      const file = path.join(r.dir, name);
      const shown = displayPath(file, cwd);
      if (!fs.existsSync(file)) throw new InputError(`--resume: corpus file ${shown} of the interrupted run is gone (it still had to run)`);
      return { file: shown, seq: parseSequence(readInputFile(file, shown).toString('utf8'), shown) };
    }),
  };
}

/** A running campaign: stop() makes it finish the current sequence and write everything. */
export interface CampaignHandle {
  stop(): void;
  readonly done: Promise<CampaignResult>;
}

/** The in-process campaign options of a run's parameters (the engine, callbacks and signal are the caller's). */
export function campaignOptionsOf(p: RunParams, designs: readonly Design[], cwd: string): CampaignOptions {
  return {
    seed: p.seed, shard: p.shard, equiv: p.equiv, domain: p.domain, config: p.config,
    faultRate: p.faultRate, raceRate: p.raceRate, maxOps: p.maxOps, profile: p.profile, hangTimeoutSec: p.hangTimeoutSec,
    designs, designSpecs: p.designs, runs: p.runs, timeSec: p.timeSec,
    cwd, outDir: p.out, crashDir: p.crashes, corpusDir: p.corpus, statsIntervalMs: p.checkpointSec * 1000, stopOnFirst: p.stopOnFirst,
    ...(p.allowedExplanations ? { allowedExplanations: p.allowedExplanations } : {}),
    ...(p.minimize ? { minimize: campaignMinimizer({ maxRuns: p.minimize.maxRuns }), minimizeTimeMs: p.minimize.timeMs } : {}),
  };
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
  return new Campaign(opts).run();
}

// ------------------------------------------------------------------------------------------------
// Findings

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
  /** clock() when it was first seen (before its minimization): JUnit's time for its bug */
  foundAtMs: number;
}

interface FindingTrackerContext {
  run: RunOptions;
  designSpecs: string[];
  store: CrashStore | null;
  cwd: string;
  clock: () => number;
  minimize?: Minimizer;
  minimizeTimeMs?: number;
  onEvent?: (e: CampaignEvent) => void;
}

/** Each finding signature of the campaign: hits, reproducer (minimized when new), crash file. */
class FindingTracker {
  private readonly tracked = new Map<string, Tracked>();
  constructor(private readonly c: FindingTrackerContext) {}

  get size(): number { return this.tracked.size; }
  openCount(): number { return [...this.tracked.values()].filter(t => t.status === 'open').length; }

  /** Every finding's signature was seen before: onHit handles them synchronously. */
  allKnown(fs: readonly Finding[]): boolean { return fs.every(f => this.tracked.has(f.signature)); }

  async onFinding(seq: Sequence, source: CrashSource, f: Finding, execs: number): Promise<void> {
    if (this.tracked.has(f.signature)) { this.onHit(seq, source, f); return; }
    const { store } = this.c;
    const foundAtMs = this.c.clock();
    const min = await this.minimizeNew(seq, f);
    const entry: Tracked = {
      finding: f, firstSource: source, hits: 1, pendingHits: 0, candidate: null,
      reproducer: min?.ops ?? seq.ops, originalOps: seq.ops.length, minimized: !!min,
      reproducerFinding: min?.finding ?? f, status: 'open', crashFile: null, foundAtMs,
    };
    this.tracked.set(f.signature, entry);
    if (store) {
      const { equiv, domain } = this.c.run;
      const r = store.record({
        finding: entry.reproducerFinding, config: seq.config, designs: this.c.designSpecs, equiv, domain, source,
        ops: entry.reproducer, originalOps: seq.ops, ...(min?.stats ? { minimization: min.stats } : {}),
      });
      entry.status = r.crash.status;
      entry.crashFile = displayPath(r.file, this.c.cwd);
      if (!r.reproducerReplaced) {
        // An earlier campaign stored a smaller reproducer: report that one.
        entry.reproducer = r.crash.ops;
        entry.originalOps = r.crash.originalOps.length;
        entry.minimized = r.crash.minimization !== undefined;
        entry.reproducerFinding = { ...f, ...r.crash.finding, signature: f.signature, divergence: r.crash.firstDivergence ?? undefined };
      }
    }
    this.c.onEvent?.({ type: 'new-finding', execs, signature: f.signature, message: f.message, crashFile: entry.crashFile, status: entry.status });
  }

  /** Another hit of a known signature: counted, and a smaller sequence kept as the candidate reproducer. */
  onHit(seq: Sequence, source: CrashSource, f: Finding): void {
    const t = this.tracked.get(f.signature)!;
    t.hits++;
    t.pendingHits++;
    if (seq.ops.length < (t.candidate?.seq.ops.length ?? t.reproducer.length)) {
      t.candidate = { seq, source, finding: f };
      if (!this.c.store) { t.reproducer = seq.ops; t.reproducerFinding = f; t.originalOps = seq.ops.length; t.minimized = false; t.candidate = null; }
    }
  }

  /** Write pending hits and smaller reproducers to the crash store. */
  flush(): void {
    const { store } = this.c;
    for (const t of this.tracked.values()) {
      if (!store || (t.pendingHits === 0 && !t.candidate)) continue;
      if (t.candidate) {
        const c = t.candidate;
        const r = store.record({
          finding: c.finding, config: c.seq.config, designs: this.c.designSpecs, equiv: this.c.run.equiv, domain: this.c.run.domain,
          source: c.source, ops: c.seq.ops, originalOps: c.seq.ops, hits: t.pendingHits,
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
  }

  private async minimizeNew(seq: Sequence, f: Finding): Promise<{ ops: Op[]; finding: Finding; stats?: Record<string, unknown> } | null> {
    const { minimize, run, clock } = this.c;
    const warn = (message: string): void => this.c.onEvent?.({ type: 'warning', message });
    if (!minimize) return null;
    // A wall-clock hang is not minimized: each probe that still hangs costs the whole bound.
    if (f.component === WALL_CLOCK && f.kind === 'hang') return null;
    const timeLimitMs = this.c.minimizeTimeMs ?? 10_000;
    const m0 = clock();
    let res: MinimizerOutput;
    try {
      res = await minimize(seq, f, { designs: run.designs, equiv: run.equiv, domain: run.domain, timeLimitMs, hangMs: run.hangMs,
        ...(run.allowedExplanations ? { allowedExplanations: run.allowedExplanations } : {}) });
    } catch (e) {
      warn(`minimizer failed on ${f.signature}: ${(e as Error).message.split('\n')[0]}`);
      return null;
    }
    if (res.ops.length >= seq.ops.length) return null;
    // Keep the reduction only if it reproduces the same signature (and take that run's divergence).
    let again: RunResult;
    try {
      again = runBoundedSequence(makeSequence(seq.config, res.ops), run);
    } catch (e) {
      warn(`minimized ops of ${f.signature} are invalid: ${(e as Error).message.split('\n')[0]}`);
      return null;
    }
    const same = again.findings.find(x => x.signature === f.signature);
    if (!same) {
      warn(`minimized ops of ${f.signature} do not reproduce it; keeping the original`);
      return null;
    }
    return { ops: again.ops.slice(0, res.ops.length), finding: same, stats: { ...res.stats, originalOps: seq.ops.length, minimizedOps: res.ops.length, ms: Math.round(clock() - m0) } };
  }

  /** Seconds from t0 (the campaign's start on the same clock) to each signature's first sighting. */
  foundAtSec(t0: number): Record<string, number> {
    return Object.fromEntries([...this.tracked.values()].map(t => [t.finding.signature, Math.round(t.foundAtMs - t0) / 1000]));
  }

  /** The findings as the report lists them. */
  reportFindings(seed: string | number): ReportFinding[] {
    return [...this.tracked.values()].map((t) => {
      const f = t.reproducerFinding;
      return {
        signature: t.finding.signature, kind: t.finding.kind, designs: t.finding.designs, opKind: t.finding.opKind,
        component: t.finding.component, message: f.message, hits: t.hits, firstSource: t.firstSource, status: t.status,
        crashFile: t.crashFile, reproducer: t.reproducer.map(describeOp), originalOpCount: t.originalOps, minimized: t.minimized,
        opIndex: f.opIndex, firstDivergence: f.divergence ?? null,
        replay: t.crashFile ? `npx tdpfuzz replay ${t.crashFile}` : `npx tdpfuzz run --seed ${seed} (sequence ${'file' in t.firstSource ? t.firstSource.file : t.firstSource.index})`,
      };
    });
  }
}

// ------------------------------------------------------------------------------------------------
// Explained differences

/** The by-design differences seen, per D-id: in how many sequences, with which signatures. */
class ExplainedTally {
  private readonly byId = new Map<string, { e: ReportExplained; seen: Map<string, { message: string; sequences: number }> }>();

  get size(): number { return this.byId.size; }

  /** The explained findings of one run. */
  add(xs: readonly Finding[]): void {
    const idsThisRun = new Set<string>();
    for (const x of xs) {
      const ex = x.explained!;
      let agg = this.byId.get(ex.id);
      if (!agg) {
        agg = { e: { id: ex.id, title: ex.title, reason: ex.reason, sequences: 0, signatures: [] }, seen: new Map() };
        this.byId.set(ex.id, agg);
      }
      if (!idsThisRun.has(ex.id)) { agg.e.sequences++; idsThisRun.add(ex.id); }
      const s = agg.seen.get(x.signature);
      if (s) s.sequences++; else agg.seen.set(x.signature, { message: x.message, sequences: 1 });
    }
  }

  list(): ReportExplained[] {
    return [...this.byId.values()].map(({ e, seen }) => ({
      ...e, signatures: [...seen].map(([signature, v]) => ({ signature, message: v.message, sequences: v.sequences })),
    })).sort((a, b) => dNumber(a.id) - dNumber(b.id) || a.id.localeCompare(b.id));
  }
}

function dNumber(id: string): number {
  const m = /^D(\d+)$/.exec(id);
  return m ? Number(m[1]) : 1e9;
}

// ------------------------------------------------------------------------------------------------
// The campaign

/** One in-process campaign: parameters resolved once, then the corpus phase, the engine phase, the report. */
class Campaign {
  private readonly p: CampaignParams;
  private readonly cwd: string;
  private readonly clock: () => number;
  private readonly now: () => Date;
  private readonly runs: number | null;
  private readonly timeSec: number | null;
  private readonly designSpecs: string[];
  /** designSpecs with module paths made absolute (reports, stats) */
  private readonly recordedSpecs: string[];
  private readonly runOpts: RunOptions;
  /** runOpts with modelMs: the engine and corpus runs (calibration re-runs and minimization are not counted) */
  private readonly timedRunOpts: RunOptions;
  /** executed ops per kind (run/op_time.ts OP_KIND_INDEX; deterministic) and the designs' ms in them (timing) */
  private readonly opCounts = opKindTally();
  private readonly modelMs = opKindTally();
  private readonly engine: Engine;
  private readonly outDir: string | null;
  private readonly corpus: CampaignCorpus;
  private readonly findings: FindingTracker;
  private readonly explained = new ExplainedTally();
  private readonly coverage = new Set<string>();
  private readonly series: SeriesPoint[] = [];
  private startedAt!: Date;
  private t0 = 0;
  private execs = 0;
  private generated = 0;
  /** when the coverage set last grew (timing only) */
  private lastNewClassSec = 0;
  /**
   * Stability (AFL's calibration): each sequence that reached a new coverage class or a new finding is
   * run again, and counted as repeated when its findings and coverage classes are the same. The
   * models are deterministic by construction; anything below 1 is a bug in a model or the harness
   * (state leaking between VMs, a clock or a Map order in an oracle).
   */
  private readonly stability = { reruns: 0, repeated: 0 };
  /** per coverage family, when it last gained a class (timing only) */
  private readonly lastNewByFamily = new Map<string, number>();
  /** corpus files run so far (they run first, in order) */
  private corpusDone = 0;
  /** a new finding was recorded: write a checkpoint after this sequence, not a period later */
  private checkpointDue = false;
  private opsTotal = 0;
  /**
   * ms in the engine's own work on its sequences: next() (generation, mutation, repair) and
   * feedback() (coverage bookkeeping, keeping). Timing only: a report's engine overhead (issue 13 item 4).
   */
  private engineMs = 0;
  private stoppedBy: ReportTiming['stoppedBy'] = 'runs';
  private seriesStep = 1;
  private nextSample = 0;
  private nextStats = 0;
  private nextStatus = 0;
  private lastYield = 0;

  constructor(private readonly opts: CampaignOptions) {
    this.cwd = opts.cwd ?? process.cwd();
    this.clock = opts.clock ?? (() => performance.now());
    this.now = opts.now ?? (() => new Date());
    this.p = campaignParams(opts);
    this.runs = opts.runs ?? null;
    this.timeSec = timeBudget(this.runs, opts.timeSec);
    this.designSpecs = opts.designSpecs ?? opts.designs.map(d => d.name);
    // Reports and stats name a module design by its absolute path (as crash files do), so that their
    // replay and resume commands work from any directory.
    this.recordedSpecs = recordedDesigns(this.designSpecs, this.cwd).designs;
    this.runOpts = { designs: opts.designs, equiv: this.p.equiv, domain: this.p.domain, hangMs: this.p.hangTimeoutSec * 1000, explainedDivergence: false,
      ...(opts.allowedExplanations ? { allowedExplanations: opts.allowedExplanations } : {}) };
    this.timedRunOpts = { ...this.runOpts, modelMs: this.modelMs };
    const genOpts = generatorOptions(this.p);
    // Fail on bad generator options before anything is written.
    generateSequence(this.p.seed, 0, genOpts);
    this.engine = opts.engine ?? randomEngine(this.p.seed, genOpts, this.p.shard);
    this.outDir = opts.outDir === undefined ? path.resolve(this.cwd, 'out') : opts.outDir === null ? null : path.resolve(this.cwd, opts.outDir);
    // The crash store: OUT/crashes unless given (crashes/ is the triaged corpus: `tdpfuzz promote` adds to it).
    const crashDir = opts.crashDir !== undefined ? opts.crashDir : this.outDir ? path.join(this.outDir, 'crashes') : null;
    preflight({
      designs: opts.designs, designSpecs: this.designSpecs, config: this.p.config, cwd: this.cwd,
      out: opts.outDir === undefined ? 'out' : opts.outDir, crashes: crashDir,
    });
    const store = crashDir === null ? null
      : new CrashStore(crashDir, { cwd: this.cwd, now: this.now, warn: message => opts.onEvent?.({ type: 'warning', message }) });
    this.findings = new FindingTracker({
      run: this.runOpts, designSpecs: this.designSpecs, store, cwd: this.cwd, clock: this.clock,
      minimize: opts.minimize, minimizeTimeMs: opts.minimizeTimeMs, onEvent: opts.onEvent,
    });
    this.corpus = opts.corpusResume ? resumedCorpus(opts.corpusResume, this.cwd) : loadCampaignCorpus(opts.corpusDir, this.p, this.cwd);
  }

  private get statsPath(): string | null { return this.outDir ? path.join(this.outDir, 'stats.json') : null; }
  private elapsed(): number { return (this.clock() - this.t0) / 1000; }

  async run(): Promise<CampaignResult> {
    this.startedAt = this.now();
    this.t0 = this.clock();
    this.lastYield = this.clock();
    this.periodicWork();
    await this.corpusPhase();
    await this.enginePhase();
    return this.finish();
  }

  /** Corpus files first (named scenario seeds); coverage-guided engines observe their results. */
  private async corpusPhase(): Promise<void> {
    const files = this.corpus.files;
    let next = 0;
    await this.drive(() => {
      if (next >= files.length) return null;
      const { file, seq } = files[next++];
      return { seq, source: { file }, done: (r) => { this.corpusDone++; this.engine.observe?.({ seq, source: { file } }, r); } };
    });
  }

  /** Then the engine's sequences until the budget is spent or the campaign is stopped. */
  private async enginePhase(): Promise<void> {
    let k = 0;
    await this.drive(() => {
      const t = this.clock();
      const item = this.engine.next(k++);
      this.engineMs += this.clock() - t;
      return {
        seq: item.seq, source: item.source,
        done: (r) => { const t1 = this.clock(); this.engine.feedback(item, r); this.engineMs += this.clock() - t1; this.generated++; },
      };
    });
  }

  /**
   * Run the steps `take` hands out (null: no more) until the budget is spent: in chunks of one
   * yield slice, each under one watchdog of --hang-timeout plus the slice. A chunk also ends at a
   * sequence with a new finding signature: the tracker (minimizer) is asynchronous. Per sequence the order of
   * everything is that of one synchronous loop: run, count, findings, engine feedback, periodic work.
   */
  private async drive(take: () => CampaignStep | null): Promise<void> {
    const hangMs = this.runOpts.hangMs!;
    // the step being run (set only while the designs run it) and one that a SIGINT interrupted
    const at: { running: CampaignStep | null; retry: CampaignStep | null } = { running: null, retry: null };
    for (;;) {
      let withFindings: { step: CampaignStep; r: RunResult } | null = null;
      let more = true;
      const chunk = (): void => {
        do {
          if (!this.budgetLeft()) { more = false; return; }
          const step = at.retry ?? take();
          at.retry = null;
          if (!step) { more = false; return; }
          at.running = step;
          const r = runSequence(step.seq, this.timedRunOpts);
          const grew = this.account(r);
          const fresh = !this.findings.allKnown(r.findings);
          if (grew || fresh) this.calibrate(step.seq, r);
          at.running = null;
          if (fresh) { withFindings = { step, r }; return; }
          for (const f of r.findings) this.findings.onHit(step.seq, step.source, f);
          step.done(r);
          this.periodicWork();
        } while (this.clock() - this.lastYield < YIELD_EVERY_MS);
      };
      const b = runBounded(chunk, hangMs + YIELD_EVERY_MS, { breakOnSigint: true });
      if (!b.ok) {
        const step = at.running;
        at.running = null;
        if (!step) throw new Error(`the campaign's own code made no progress for ${hangMs / 1000} s (outside the designs)`);
        if (b.stoppedBy === 'sigint') {
          // Abandoned, not counted: the signal's handler normally stops the campaign; if it does not, run it again.
          at.retry = step;
        } else {
          const r = hangResult(step.seq, this.runOpts, hangMs);
          this.account(r);
          withFindings = { step, r };
        }
      }
      if (withFindings) {
        const { step, r } = withFindings as { step: CampaignStep; r: RunResult };
        for (const f of r.findings) await this.findings.onFinding(step.seq, step.source, f, this.execs);
        // A new finding is in the crash store: cut a checkpoint right after this sequence (report/checkpoint.ts).
        this.checkpointDue = true;
        step.done(r);
        this.periodicWork();
      }
      if (!more) return;
      if (this.clock() - this.lastYield >= YIELD_EVERY_MS) {
        await new Promise<void>(resolve => setImmediate(resolve));
        this.lastYield = this.clock();
      }
    }
  }

  private budgetLeft(): boolean {
    if (this.opts.signal?.aborted) { this.stoppedBy = 'signal'; return false; }
    // libFuzzer's default (stop at the first crash), as an option: the first unexplained finding ends the run.
    if (this.opts.stopOnFirst && this.findings.openCount() > 0) { this.stoppedBy = 'finding'; return false; }
    if (this.runs !== null && this.execs >= this.runs) { this.stoppedBy = 'runs'; return false; }
    if (this.timeSec !== null && this.elapsed() >= this.timeSec) { this.stoppedBy = 'time'; return false; }
    return true;
  }

  /** One executed sequence in the counters, coverage and explained differences (its findings: drive). True when it reached a new class. */
  private account(r: RunResult): boolean {
    this.execs++;
    this.opsTotal += r.ops.length;
    for (const op of r.ops) this.opCounts[OP_KIND_INDEX[op.kind]]++;
    let now = -1; // the clock is read once, and only when a class is new
    for (const c of r.coverage) {
      if (this.coverage.has(c)) continue;
      this.coverage.add(c);
      if (now < 0) this.lastNewClassSec = now = this.elapsed();
      this.lastNewByFamily.set(familyOf(c), now);
    }
    const grew = now >= 0;
    if (r.explained.length) this.explained.add(r.explained);
    return grew;
  }

  /** Run a sequence again and count whether its outcome repeats (see `stability`). */
  private calibrate(seq: Sequence, r: RunResult): void {
    const again = runSequence(seq, this.runOpts);
    const sigs = (x: RunResult): string => x.findings.map(f => f.signature).sort().join('\n');
    const same = sigs(again) === sigs(r) && again.coverage.size === r.coverage.size && [...r.coverage].every(c => again.coverage.has(c));
    this.stability.reruns++;
    if (same) this.stability.repeated++;
  }

  /** Series samples, stats.json and crash-store flushes, status callbacks. */
  private periodicWork(): void {
    const ms = this.elapsed() * 1000;
    if (ms >= this.nextSample) { this.sample(); this.nextSample += 1000 * this.seriesStep; }
    if (ms >= this.nextStats || this.checkpointDue) {
      // One cut: hits flushed to the crash store, then the checkpoint, then stats.json (report/checkpoint.ts).
      this.findings.flush();
      const report = this.buildReport(this.now());
      this.checkpoint(false, report);
      this.writeStats(false, report);
      this.nextStats = ms + (this.opts.statsIntervalMs ?? 1000);
      this.checkpointDue = false;
    }
    if (this.opts.onStatus && ms >= this.nextStatus) { this.opts.onStatus(this.status(false)); this.nextStatus = ms + (this.opts.statusIntervalMs ?? 1000); }
  }

  private status(done: boolean): CampaignStatus {
    const el = Math.max(this.elapsed(), 1e-9);
    return {
      execs: this.execs, ops: this.opsTotal, execsPerSec: this.execs / el, opsPerSec: this.opsTotal / el, coverage: this.coverage.size,
      corpus: this.engine.corpusSize(), seeds: { done: this.corpusDone, total: this.corpus.files.length },
      budget: { runs: this.runs, timeSec: this.timeSec }, findings: this.findings.size, explained: this.explained.size,
      elapsedSec: this.elapsed(), done, stability: { ...this.stability },
    };
  }

  private sample(): void {
    const t = Math.round(this.elapsed() * 10) / 10;
    // Keep the series bounded on long runs: when it thins, sample half as often.
    if (appendSeriesPoint(this.series, { t, execs: this.execs, ops: this.opsTotal, coverage: this.coverage.size, findings: this.findings.size })) this.seriesStep *= 2;
  }

  /** The lane this campaign is, as stats.json and checkpoints record it. */
  private lane(): Lane {
    return { seed: this.p.seed, shard: this.p.shard, generated: this.generated, engine: this.engine.name, corpusDone: this.corpusDone };
  }

  private checkpoint(done: boolean, report: ReportData = this.buildReport(this.now())): void {
    if (!this.opts.onCheckpoint && !this.outDir) return;
    const corpusFiles = this.corpus.files.map(f => path.basename(f.file));
    this.opts.onCheckpoint?.({ report, corpusFiles, corpusDone: this.corpusDone, corpusDir: this.corpus.absDir, generated: this.generated, done });
    if (this.outDir) {
      writeCheckpoint(this.outDir, {
        format: CHECKPOINT_FORMAT, corpusDir: this.corpus.absDir, corpus: [{ files: corpusFiles, done: this.corpusDone }],
        stats: { ...this.stats(done, report), lanes: [this.lane()] }, report,
      });
    }
  }

  private writeStats(done: boolean, report: ReportData): void {
    const statsPath = this.statsPath;
    if (!statsPath || !this.outDir) return;
    fs.mkdirSync(this.outDir, { recursive: true });
    writeFileAtomic(statsPath, `${JSON.stringify(this.stats(done, report))}\n`);
  }

  private stats(done: boolean, report: ReportData): StatsFile {
    const s = this.status(done);
    return buildStats({
      done, stoppedBy: done ? this.stoppedBy : null, startedAt: this.startedAt.toISOString(), updatedAt: this.now().toISOString(),
      params: this.p, designs: this.recordedSpecs, engine: this.engine.name,
      totals: {
        elapsedSec: s.elapsedSec, execs: this.execs, generated: this.generated, corpus: this.corpus.counted, ops: this.opsTotal,
        execsPerSec: s.execsPerSec, opsPerSec: s.opsPerSec, coverage: this.coverage.size,
        findings: this.findings.size, openFindings: this.findings.openCount(), explained: this.explained.size,
      },
      progress: progressOf(report, this.stability),
      series: this.series,
      lanes: [this.lane()],
    });
  }

  /** Wrap up: flush hits, last sample, report, final checkpoint and stats. */
  private finish(): CampaignResult {
    this.findings.flush();
    this.sample();
    const report = this.buildReport(this.now());
    this.checkpoint(true, report);
    const reportPaths = this.outDir ? writeReports(this.outDir, report, { series: this.series, engine: this.engine.name }) : null;
    this.writeStats(true, report);
    this.opts.onStatus?.(this.status(true));
    const exitCode = report.verdict.unexplained ? 1 : 0;
    return { report, exitCode, reportPaths, statsPath: this.statsPath };
  }

  /** The report of the sequences run so far. */
  private buildReport(finishedAt: Date): ReportData {
    const el = Math.max(this.elapsed(), 1e-9);
    const p = this.p;
    const findings = this.findings.reportFindings(p.seed);
    const scope: ReportScope = {
      designs: designLabels(this.opts.designs), designSpecs: this.recordedSpecs, seed: p.seed, shard: p.shard,
      sequences: this.execs, generated: this.generated,
      corpus: { dir: this.corpus.dir, files: this.corpus.counted, skipped: this.corpus.skipped }, ops: this.opsTotal,
      equiv: p.equiv, domain: p.domain, config: p.config,
      faultRate: p.faultRate, raceRate: p.raceRate, maxOps: p.maxOps, profile: p.profile, hangTimeoutSec: p.hangTimeoutSec,
      opsByKind: tallyRecord(this.opCounts), budget: { runs: this.runs, timeSec: this.timeSec },
    };
    return {
      format: REPORT_FORMAT,
      toolVersion: toolVersion(),
      ...judgeFindings(scope, findings, this.stoppedBy),
      scope,
      coverage: summarizeCoverage(this.coverage, p.config, p.domain),
      findings,
      explained: this.explained.list(),
      unobservable: [...UNOBSERVABLE],
      timing: {
        startedAt: this.startedAt.toISOString(), finishedAt: finishedAt.toISOString(), elapsedSec: this.elapsed(),
        execsPerSec: this.execs / el, opsPerSec: this.opsTotal / el, stoppedBy: this.stoppedBy,
        lastNewClassSec: Math.round(this.lastNewClassSec * 10) / 10,
        foundAtSec: this.findings.foundAtSec(this.t0),
        lastNewByFamily: Object.fromEntries([...this.lastNewByFamily.keys()].sort().map(f => [f, Math.round(this.lastNewByFamily.get(f)! * 10) / 10])),
        // the same kinds as scope.opsByKind (a kind that ran has a time, if only 0)
        modelMsByKind: tallyRecord(this.modelMs, k => this.opCounts[k] !== 0, v => Math.round(v * 1000) / 1000),
        engineMs: Math.round(this.engineMs * 1000) / 1000,
      },
    };
  }
}
