// `tdpfuzz run --workers N` (DESIGN §6), the main side: N worker threads (fuzz/worker_main.ts),
// each running a campaign slice, aggregated into one status line, one stats file and one report.
//
//  - random engine: worker w of N runs shard (i + w·M)/(M·N) of the user's --shard i/M (0/1 without
//    it), so the workers together run exactly the sequences one process would; with --runs R the
//    budget is split the same way (corpus files first, then generated indices), so `--workers 2
//    --runs R` executes the same R sequences as `--workers 1 --runs R` and finds the same findings.
//  - other engines (guided, jsfuzz): worker w uses the derived seed `${seed}/w${w}` (with one
//    worker, the seed itself) and the corpus files are split like the random engine's; entries an
//    engine keeps are offered to the other workers (the main thread relays them), which run them
//    and feed them to their own engine (libFuzzer's -workers/-jobs sharing through the corpus).
//  - findings: every worker records into the same crash store (its lock files make concurrent
//    records safe); the main thread deduplicates NEW lines by signature.
//  - `--engine jsfuzz` always runs in worker threads (one by default): istanbul must instrument
//    impls/ before it is first loaded, which only a fresh module registry allows.
//  - `run --resume OUT` continues each lane recorded in OUT/stats.json at its next index (random
//    engine only), then merges the previous report with the new part (report/merge.ts).
//  - SIGINT/SIGTERM (stop()): every worker finishes its current sequence and reports; then the
//    report and stats are written as usual. A worker stuck in design code stops at its watchdog's
//    bound (--hang-timeout, fuzz/campaign.ts); one that still has not reported --hang-timeout + 1 s
//    after the stop (plus a minimization's bound) is terminated, and its part of the report is what
//    the main thread knows of it (worker_partial.ts), named "worker N (terminated ...)".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { timeBudget, type RunParams } from '../run/campaign_params';
import { loadCorpus, type CampaignEvent, type CampaignHandle, type CampaignResult, type CampaignStatus } from './campaign';
import { lanesOf, mergeReports, mergeSeries, workerShard } from '../report/merge';
import { appendSeriesPoint, buildStats, progressOf, type Lane, type SeriesPoint, type StatsFile } from '../report/stats';
import { readStatsFile } from '../report/stats_file';
import { readReportFile } from '../report/report_file';
import { writeFileAtomic } from '../store/fsutil';
import { recordedDesigns } from '../store/crash_store';
import { writeReports } from '../report/index';
import { type ReportData } from '../report/data';
import { InputError } from '../seq/sequence';
import { legalityErrors } from '../seq/legality';
import type { ToMain, ToWorker, WorkerSpec } from './worker_run';
import { CHECKPOINT_FORMAT, readCheckpoint, writeCheckpoint, type LaneCorpus } from '../report/checkpoint';
import { lostWorkerReport } from './worker_partial';
import { ENGINES } from './engines';

export interface ResumeState {
  /** the output directory being resumed (for messages and the merged report) */
  from: string;
  stats: StatsFile;
  /** its report, when it has one that matches the stats (from its checkpoint, or a finished run's report.json) */
  report: ReportData | null;
  /** from its checkpoint: per lane, the corpus files and how many ran; null for a run without one */
  corpus: LaneCorpus[] | null;
  corpusDir: string | null;
  /** run without --runs/--time: the resumed part spends the rest of the interrupted run's budget, which stays the merged report's */
  continuesBudget?: boolean;
}

export interface RunCallbacks {
  onStatus?: (s: CampaignStatus) => void;
  statusIntervalMs?: number;
  onEvent?: (e: CampaignEvent) => void;
}

/** A run's parameters, and what running them in worker threads needs besides. */
export interface WorkersOptions extends RunParams, RunCallbacks {
  cwd: string;
  /** instrument impls/ with istanbul in the workers (default: engine === 'jsfuzz') */
  istanbul?: boolean;
  /** run --resume: the run continued */
  resumeState?: ResumeState;
  statsIntervalMs?: number;
}

/** The compiled worker entry; workers cannot run from TypeScript sources. */
function workerEntry(): string {
  const file = path.join(__dirname, 'worker_main.js');
  if (!fs.existsSync(file)) {
    throw new Error(`worker threads need the compiled harness (${file} is missing): run npm run build and use dist/harness/cli.js`);
  }
  return file;
}

/**
 * Per-lane run budgets such that the lanes together run exactly the next `runs` sequences of the
 * parent campaign: first the corpus files it would run (min(runs, C) of them, each to the lane whose
 * shard holds it; `corpusOwners` lists the owner of each in order), then its generated indices in
 * increasing order. Lane w holds the parent's generated indices k ≡ w (mod N) and has already run
 * `generated[w]` of them (run --resume; all 0 otherwise), so its next one is k = w + N·generated[w].
 */
export function splitRuns(runs: number, N: number, corpusOwners: readonly number[], generated: readonly number[] = []): number[] {
  const c = Math.min(runs, corpusOwners.length);
  const out = Array.from({ length: N }, () => 0);
  for (const w of corpusOwners.slice(0, c)) out[w]++;
  const next = Array.from({ length: N }, (_, w) => w + N * (generated[w] ?? 0));
  // Lane w's share of the parent indices below T; the total grows by at most 1 per step of T.
  const below = (T: number, w: number): number => (T > next[w] ? Math.ceil((T - next[w]) / N) : 0);
  const total = (T: number): number => next.reduce((n, _, w) => n + below(T, w), 0);
  const want = runs - c;
  let lo = Math.min(...next), hi = Math.max(...next) + want * N + N;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (total(mid) >= want) hi = mid; else lo = mid + 1;
  }
  for (let w = 0; w < N; w++) out[w] += below(lo, w);
  return out;
}

/** For each corpus file the parent campaign would run (in order), the worker that runs it. */
function corpusOwners(o: WorkersOptions, corpus: string | null | undefined, N: number): number[] {
  if (corpus === null) return [];
  const dir = corpus ?? 'corpus';
  if (corpus === undefined && !fs.existsSync(path.resolve(o.cwd, dir))) return [];
  const M = o.shard?.count ?? 1, I = o.shard?.index ?? 0;
  return loadCorpus(dir, o.cwd)
    .map((c, k) => ({ ...c, k }))
    .filter(c => c.k % M === I)
    .filter(c => o.domain !== 'legal' || legalityErrors(c.seq).length === 0)
    .map(c => Math.floor(c.k / M) % N);
}

/** One worker: its spec, thread, last status and final report. */
interface Slot {
  spec: WorkerSpec;
  worker: Worker | null;
  status: CampaignStatus | null;
  /** when its last status arrived (ISO), for `tdpfuzz status` */
  statusAt: string | null;
  generated: number;
  report: ReportData | null;
  lane: Lane;
  engineCoverage: { source: string; count: number } | null;
  /** the worker's last checkpoint */
  checkpoint: Extract<ToMain, { type: 'checkpoint' }> | null;
  /** set when the main thread terminated the worker (it did not stop when asked) */
  terminated?: string;
}

/**
 * The lanes of a worker run and each worker's spec: a fresh run splits the user's shard (random
 * engine) or derives seeds (others); a resumed one continues the recorded lanes without the corpus.
 */
function planSlots(o: WorkersOptions): Slot[] {
  const startedAtMs = Date.now();
  const resume = o.resumeState ?? null;
  const lanes: Lane[] = resume ? lanesOf(resume.stats) : [];
  const N = resume ? lanes.length : o.workers ?? 1;
  if (!(Number.isInteger(N) && N >= 1)) throw new InputError(`--workers: expected a positive integer, got ${N}`);
  const outDir = o.out === null ? null : path.resolve(o.cwd, o.out);
  const corpus = resume ? null : o.corpus;
  const owners = resume ? resumedCorpusOwners(resume) : corpusOwners(o, corpus, N);
  const budgets = o.runs === null ? null : splitRuns(o.runs, N, owners, lanes.map(l => l.generated));
  const corpusOut = o.corpusOut ?? (outDir ? path.join(outDir, 'corpus') : null);
  return Array.from({ length: N }, (_, w): Slot => {
    const lane: Lane = resume ? lanes[w] : {
      seed: o.engine === 'random' || N === 1 ? o.seed : `${o.seed}/w${w}`,
      shard: workerShard(o.shard, w, N),
      generated: 0,
      engine: o.engine,
    };
    const rest = resume?.corpus?.[w];
    const spec: WorkerSpec = {
      index: w, count: N, startIndex: lane.generated, cwd: o.cwd, startedAtMs, ...(resume ? { resumed: true } : {}),
      ...(rest && resume?.corpusDir ? { corpusResume: { dir: resume.corpusDir, files: rest.files, done: rest.done } } : {}),
      istanbul: o.istanbul ?? lane.engine === 'jsfuzz',
      statusIntervalMs: Math.min(o.statusIntervalMs ?? 1000, 1000),
      params: {
        seed: lane.seed, shard: lane.shard, equiv: o.equiv, domain: o.domain, config: o.config,
        faultRate: o.faultRate, raceRate: o.raceRate, maxOps: o.maxOps, profile: o.profile, hangTimeoutSec: o.hangTimeoutSec,
        designs: o.designs, engine: lane.engine, runs: budgets ? budgets[w] : null, timeSec: o.timeSec,
        out: null, crashes: o.crashes, corpus, corpusOut, minimize: o.minimize, workers: N, resume: null, checkpointSec: o.checkpointSec, stopOnFirst: o.stopOnFirst,
        sync: o.sync,
        ...(o.allowedExplanations ? { allowedExplanations: o.allowedExplanations } : {}),
      },
    };
    return { spec, worker: null, status: null, statusAt: null, generated: lane.generated, report: null, lane: { ...lane }, engineCoverage: null, checkpoint: null };
  });
}

/**
 * For each corpus file an interrupted run still had to run (in the order one campaign runs them: by
 * name), the lane that runs it — splitRuns's corpusOwners for a resumed run.
 */
function resumedCorpusOwners(resume: ResumeState): number[] {
  const rest = (resume.corpus ?? []).flatMap((c, w) => c.files.slice(c.done).map(name => ({ name, w })));
  return rest.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(x => x.w);
}

/** The main thread's view of the workers: aggregate status, coverage union, NEW lines, series, stats.json. */
class WorkerAggregate {
  private readonly startedAt = new Date();
  private readonly t0 = performance.now();
  private readonly coverage = new Set<string>();
  private readonly signatures = new Set<string>();
  private readonly series: SeriesPoint[] = [];
  /** --designs with module paths made absolute (stats.json, as crash files record them) */
  private readonly recordedSpecs: string[];
  readonly statsPath: string | null;
  readonly outDir: string | null;

  constructor(private readonly o: WorkersOptions, readonly slots: Slot[]) {
    this.recordedSpecs = recordedDesigns(o.designs, o.cwd).designs;
    this.outDir = o.out === null ? null : path.resolve(o.cwd, o.out);
    this.statsPath = this.outDir ? path.join(this.outDir, 'stats.json') : null;
  }

  get N(): number { return this.slots.length; }
  elapsed(): number { return (performance.now() - this.t0) / 1000; }

  status(done: boolean): CampaignStatus {
    const ss = this.slots.map(s => s.status).filter((s): s is CampaignStatus => s !== null);
    const el = Math.max(this.elapsed(), 1e-9);
    const execs = ss.reduce((n, s) => n + s.execs, 0);
    const ops = ss.reduce((n, s) => n + s.ops, 0);
    return {
      execs, ops, execsPerSec: execs / el, opsPerSec: ops / el,
      coverage: this.N === 1 ? (ss[0]?.coverage ?? 0) : this.coverage.size,
      // Each worker's engine keeps its own corpus (a shared sequence counts in each worker that keeps it).
      corpus: ss.some(s => s.corpus !== null) ? ss.reduce((n, s) => n + (s.corpus ?? 0), 0) : null,
      seeds: { done: ss.reduce((n, s) => n + s.seeds.done, 0), total: ss.reduce((n, s) => n + s.seeds.total, 0) },
      budget: { runs: this.o.runs, timeSec: timeBudget(this.o.runs, this.o.timeSec) },
      findings: Math.max(this.signatures.size, ...ss.map(s => s.findings)),
      explained: Math.max(0, ...ss.map(s => s.explained)),
      elapsedSec: this.elapsed(), done,
      stability: this.stability(),
    };
  }

  /** The workers' calibration counts, summed (stats.json `stability`). */
  private stability(): { reruns: number; repeated: number } {
    const ss = this.slots.map(s => s.status?.stability);
    return { reruns: ss.reduce((n, x) => n + (x?.reruns ?? 0), 0), repeated: ss.reduce((n, x) => n + (x?.repeated ?? 0), 0) };
  }

  /** A message from a worker; returns an error to fail the run with, if any. */
  onMessage(slot: Slot, m: ToMain): Error | null {
    const o = this.o;
    switch (m.type) {
      case 'status':
        slot.status = m.status;
        slot.statusAt = new Date().toISOString();
        slot.generated = m.generated;
        for (const c of m.newCoverage) this.coverage.add(c);
        break;
      case 'event':
        if (m.event.type === 'new-finding') {
          if (this.signatures.has(m.event.signature)) break;
          this.signatures.add(m.event.signature);
          o.onEvent?.({ ...m.event, execs: this.status(false).execs + m.event.execs - (slot.status?.execs ?? 0) });
        } else {
          o.onEvent?.(this.N > 1 ? { ...m.event, message: `worker ${slot.spec.index}: ${m.event.message}` } : m.event);
        }
        break;
      case 'checkpoint':
        slot.checkpoint = m;
        if (!m.done) this.writeCheckpoint(false);
        break;
      case 'share':
        for (const s of this.slots) if (s !== slot && s.worker) s.worker.postMessage({ type: 'share', input: m.input } satisfies ToWorker);
        break;
      case 'done':
        slot.report = m.report;
        slot.generated = m.lane.generated;
        slot.engineCoverage = m.engineCoverage;
        for (const c of m.newCoverage) this.coverage.add(c);
        for (const f of m.report.findings) this.signatures.add(f.signature);
        slot.status = { ...(slot.status ?? this.status(true)), execs: m.report.scope.sequences, ops: m.report.scope.ops, done: true };
        slot.statusAt = new Date().toISOString();
        break;
      case 'error': {
        const e = m.input ? new InputError(m.message) : new Error(`worker ${m.worker}: ${m.message}`);
        if (m.stack && !m.input) e.stack = m.stack;
        return e;
      }
    }
    return null;
  }

  sample(): void {
    const s = this.status(false);
    appendSeriesPoint(this.series, { t: Math.round(s.elapsedSec * 10) / 10, execs: s.execs, ops: s.ops, coverage: s.coverage, findings: s.findings });
  }

  /**
   * The report of the slots' reports (the workers' checkpoints, or their final reports) merged as one
   * run, with the resumed run's report first, if any.
   */
  private mergedReport(parts: { from: string; report: ReportData }[], done: boolean): ReportData {
    const o = this.o;
    const el = Math.max(this.elapsed(), 1e-9);
    // rates: of the workers' final counts when done, of the checkpoints' otherwise
    const { execs, ops } = done ? this.status(true)
      : { execs: parts.reduce((n, p) => n + p.report.scope.sequences, 0), ops: parts.reduce((n, p) => n + p.report.scope.ops, 0) };
    let report = mergeReports(parts, {
      mode: 'parallel', seed: o.seed, shard: o.shard,
      timing: {
        startedAt: this.startedAt.toISOString(), finishedAt: new Date().toISOString(), elapsedSec: el,
        execsPerSec: execs / el, opsPerSec: ops / el,
      },
    });
    if (this.N === 1 && !this.slots[0].terminated) delete report.scope.merged; // one worker: the same report as an in-process run
    // the workers ran with what was left of the time budget when they started; the run had all of it
    report.scope.budget.timeSec = timeBudget(o.runs, o.timeSec);
    const resume = o.resumeState;
    if (resume?.report) {
      report = mergeReports([{ from: resume.from, report: resume.report }, { from: 'resumed', report }], { mode: 'sequential', seed: o.seed, shard: o.shard });
      if (resume.continuesBudget) report.scope.budget = resume.report.scope.budget;
    }
    return report;
  }

  /** The series sampled here, after the resumed run's (if any). */
  private seriesSoFar(): SeriesPoint[] {
    const p = this.o.resumeState?.stats;
    return p ? mergeSeries([p.series ?? [], this.series], 'sequential', [p.elapsedSec, this.elapsed()]) : [...this.series];
  }

  /** stats.json of a (merged) report: its counts, the lanes where it stands, the series sampled here. */
  private stats(done: boolean, report: ReportData, lanes: Lane[]): StatsFile {
    const o = this.o;
    const r = report;
    const resume = o.resumeState;
    const p = resume?.stats;
    return buildStats({
      done, stoppedBy: done ? r.timing.stoppedBy : null,
      startedAt: p?.startedAt ?? this.startedAt.toISOString(), updatedAt: new Date().toISOString(),
      params: o, designs: this.recordedSpecs, engine: o.engine,
      totals: {
        elapsedSec: r.timing.elapsedSec, execs: r.scope.sequences, generated: r.scope.generated, corpus: r.scope.corpus.files,
        ops: r.scope.ops, execsPerSec: r.timing.execsPerSec, opsPerSec: r.timing.opsPerSec, coverage: r.coverage.reached,
        findings: r.findings.length, openFindings: r.verdict.unexplainedSignatures, explained: r.explained.length,
      },
      progress: progressOf(r, this.stability()),
      perWorker: this.slots.map((x, w) => ({
        worker: w, updatedAt: x.statusAt ?? this.startedAt.toISOString(), done: x.status?.done ?? false, elapsedSec: x.status?.elapsedSec ?? 0,
        execs: x.status?.execs ?? 0, execsPerSec: x.status?.execsPerSec ?? 0, coverage: x.status?.coverage ?? 0, findings: x.status?.findings ?? 0,
      })),
      series: this.seriesSoFar(),
      workers: {
        workers: this.N, lanes,
        engineCoverage: this.slots.some(x => x.engineCoverage) ? this.slots.map(x => x.engineCoverage) : null,
      },
    });
  }

  /**
   * checkpoint.json, then stats.json, of the workers' last checkpoints (once every worker sent one):
   * each lane's part is a consistent cut of that lane, so their union is one of the run.
   */
  writeCheckpoint(done: boolean, final?: ReportData): void {
    if (!this.statsPath || !this.outDir) return;
    const cps = this.slots.map(x => x.checkpoint);
    if (cps.some(c => c === null)) return;
    const got = cps as NonNullable<Slot['checkpoint']>[];
    const report = final ?? this.mergedReport(got.map((c, w) => ({ from: `worker ${w}`, report: c.report })), done);
    const stats = { ...this.stats(done, report, got.map(c => c.lane)), lanes: got.map(c => c.lane) };
    writeCheckpoint(this.outDir, {
      format: CHECKPOINT_FORMAT, corpusDir: got.find(c => c.corpusDir !== null)?.corpusDir ?? null,
      corpus: got.map(c => c.corpus), stats, report,
    });
    writeFileAtomic(this.statsPath, `${JSON.stringify(stats)}\n`);
  }

  /** All workers reported: the merged report (with the resumed run's, if any), written with the final checkpoint and stats. */
  finish(): CampaignResult {
    const o = this.o;
    this.sample();
    const report = this.mergedReport(this.slots.map(s => ({ from: `worker ${s.spec.index}${s.terminated ? ` (${s.terminated})` : ''}`, report: s.report! })), true);
    const reportPaths = this.outDir ? writeReports(this.outDir, report, { series: this.seriesSoFar(), engine: o.engine }) : null;
    // A terminated worker's part of the report is pieced together from what it announced; its lane
    // resumes from its last checkpoint, so the checkpoint keeps to the workers' own cuts.
    this.writeCheckpoint(true, this.slots.some(s => s.terminated) ? undefined : report);
    o.onStatus?.(this.status(true));
    return { report, exitCode: report.verdict.unexplained ? 1 : 0, reportPaths, statsPath: this.statsPath };
  }
}

/** Start the worker threads of a run; the handle's stop() makes every worker finish its current sequence. */
export function startWorkers(o: WorkersOptions): CampaignHandle {
  const entry = workerEntry();
  const agg = new WorkerAggregate(o, planSlots(o));
  const slots = agg.slots;
  let stopping = false;
  // what a worker that must be terminated leaves behind: the crash files it announced, its coverage
  const lost = slots.map(() => ({ crashFiles: [] as string[], coverage: new Set<string>() }));
  const timers: NodeJS.Timeout[] = [];

  const done = new Promise<CampaignResult>((resolve, reject) => {
    let finished = 0;
    let failed = false;
    const cleanup = (): void => { for (const t of timers) clearInterval(t); };
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      cleanup();
      for (const s of slots) void s.worker?.terminate();
      reject(e);
    };
    const finish = (): void => {
      cleanup();
      try {
        resolve(agg.finish());
      } catch (e) {
        reject(e);
      }
    };

    for (const slot of slots) {
      const worker = new Worker(entry, { workerData: slot.spec });
      slot.worker = worker;
      worker.on('message', (m: ToMain) => {
        if (m.type === 'event' && m.event.type === 'new-finding' && m.event.crashFile) lost[slot.spec.index].crashFiles.push(m.event.crashFile);
        if (m.type === 'status') for (const c of m.newCoverage) lost[slot.spec.index].coverage.add(c);
        const e = agg.onMessage(slot, m);
        if (e) fail(e);
        // --stop-on-first: the first unexplained finding of any worker stops them all.
        if (o.stopOnFirst && m.type === 'event' && m.event.type === 'new-finding' && m.event.status === 'open') handle.stop();
      });
      worker.on('error', e => fail(e instanceof Error ? e : new Error(String(e))));
      worker.on('exit', (code) => {
        slot.worker = null;
        if (failed) return;
        if (!slot.report) { fail(new Error(`worker ${slot.spec.index} exited (code ${code}) without a report`)); return; }
        if (++finished === slots.length) finish();
      });
    }
    const statusEvery = o.statusIntervalMs ?? 1000;
    if (o.onStatus) timers.push(setInterval(() => { if (slots.some(s => s.status)) o.onStatus!(agg.status(false)); }, statusEvery));
    // stats.json is written with each checkpoint (WorkerAggregate.writeCheckpoint); the series is sampled here.
    timers.push(setInterval(() => agg.sample(), o.statsIntervalMs ?? 1000));
  });

  // A worker stops within its watchdog's bound (or, minimizing, that of the minimization); one that
  // has not reported by then is stuck where no watchdog runs: terminate it and keep what is known.
  const hangMs = o.hangTimeoutSec * 1000;
  const stopBoundMs = hangMs + 1000 + (o.minimize ? o.minimize.timeMs + hangMs : 0);
  const terminateStuck = (): void => {
    for (const s of slots) {
      if (!s.worker || s.report) continue;
      s.terminated = `terminated: no report within ${+(stopBoundMs / 1000).toFixed(3)} s of the stop`;
      o.onEvent?.({ type: 'warning', message: `worker ${s.spec.index} did not stop within ${+(stopBoundMs / 1000).toFixed(3)} s: terminated; its part of the report is partial` });
      s.report = lostWorkerReport({
        spec: s.spec, labels: slots.find(x => x.report)?.report?.scope.designs ?? s.spec.params.designs, status: s.status,
        generated: s.generated, startGenerated: s.lane.generated, ...lost[s.spec.index],
      });
      void s.worker.terminate();
    }
  };

  const handle: CampaignHandle = {
    stop(): void {
      if (stopping) return;
      stopping = true;
      for (const s of slots) s.worker?.postMessage({ type: 'stop' } satisfies ToWorker);
      const t = setTimeout(terminateStuck, stopBoundMs);
      t.unref();
      timers.push(t);
    },
    done,
  };
  return handle;
}

// ------------------------------------------------------------------------------------------------
// run --resume OUT

/**
 * Every registered engine can be resumed: random exactly (sequence i is a function of (seed, i)),
 * guided and jsfuzz from what they kept (EngineContext.resumeAt). One engine per run.
 */
function checkResumableEngines(lanes: readonly Lane[], shown: string): void {
  const unknown = lanes.find(l => !ENGINES.has(l.engine));
  if (unknown) throw new InputError(`--resume: ${shown} ran the engine ${JSON.stringify(unknown.engine)}, which this version does not have (known: ${[...ENGINES.keys()].join(', ')})`);
  const engines = new Set(lanes.map(l => l.engine));
  if (engines.size > 1) throw new InputError(`--resume: ${shown} ran several engines (${[...engines].join(', ')}); resume each part separately`);
}

/**
 * The run to continue: its checkpoint (report/checkpoint.ts), which is exact however the run ended;
 * for an output directory without one (an older version), OUT/stats.json and, if it belongs to a
 * finished run, OUT/report.json. Every engine (checkResumableEngines).
 */
function readResumeState(out: string, cwd: string): ResumeState {
  const dir = path.resolve(cwd, out);
  const shown = out;
  const cp = readCheckpoint(dir, shown);
  if (cp) {
    checkResumableEngines(lanesOf(cp.stats), shown);
    return { from: shown, stats: cp.stats, report: cp.report, corpus: cp.corpus, corpusDir: cp.corpusDir };
  }
  const sp = path.join(dir, 'stats.json');
  if (!fs.existsSync(sp)) throw new InputError(`--resume: ${shown}/stats.json: no such file (resume needs the output directory of an earlier run)`);
  const stats = readStatsFile(sp, `--resume: ${shown}/stats.json`);
  checkResumableEngines(lanesOf(stats), shown);
  let report: ReportData | null = null;
  const rp = path.join(dir, 'report.json');
  if (fs.existsSync(rp)) {
    // A malformed report is refused like a malformed stats file (it would be merged into the new one).
    const r = readReportFile(rp, `--resume: ${shown}/report.json`);
    // Only a report of exactly this run can be merged (a killed run leaves an older one, or none).
    if (stats.done && r.scope.sequences === stats.execs && r.scope.generated === stats.generated) report = r;
  }
  return { from: shown, stats, report, corpus: null, corpusDir: null };
}

/**
 * The budget of `run --resume OUT` without --runs or --time: what the interrupted run had left of
 * its own (a killed `--runs 100000` run continues to 100000 sequences in all).
 */
function remainingBudget(a: RunParams, state: ResumeState): Pick<RunParams, 'runs' | 'timeSec'> {
  if (a.runs !== null || a.timeSec !== null) return { runs: a.runs, timeSec: a.timeSec };
  if (!state.report) return { runs: null, timeSec: timeBudget(null, null) };
  const r = state.report;
  const { runs, timeSec } = r.scope.budget;
  const runsLeft = runs === null ? null : runs - r.scope.sequences;
  const timeLeft = timeSec === null ? null : Math.round((timeSec - r.timing.elapsedSec) * 10) / 10;
  state.continuesBudget = true;
  if ((runsLeft !== null && runsLeft <= 0) || (timeLeft !== null && timeLeft <= 0)) {
    const had = [runs !== null ? `${runs} runs` : '', timeSec !== null ? `${timeSec} s` : ''].filter(Boolean).join(', ');
    throw new InputError(`--resume: ${state.from} spent its budget (${had}); give --runs or --time to run more`);
  }
  return { runs: runsLeft, timeSec: timeLeft };
}

/** Flags whose values `run --resume` takes from the output directory instead. */
export const RESUME_CONFLICTS = [
  'designs', 'seed', 'equiv', 'domain', 'geometry', 'huge-pages', 'prove-mmu', 'dpamt', 'vcpus', 'fault-rate', 'race-rate',
  'max-ops', 'profile', 'shard', 'corpus', 'no-corpus', 'engine',
] as const;

/**
 * The run parameters of `run --resume OUT`: the configuration recorded in OUT/stats.json (designs,
 * seed, shard, equivalence, domain, geometry, generator rates), the budget and crash store of the
 * command line, the output directory OUT itself, and no corpus (the earlier run ran it).
 */
export function resumeRunParams(a: RunParams, cwd: string): { params: RunParams; state: ResumeState } {
  const out = a.resume!;
  const state = readResumeState(out, cwd);
  const s = state.stats;
  const lanes = lanesOf(s);
  if (a.workers !== null && a.workers !== lanes.length) {
    throw new InputError(`--workers: ${out} was run as ${lanes.length} lane${lanes.length === 1 ? '' : 's'} (workers); resume it with --workers ${lanes.length} or without --workers`);
  }
  const scope = state.report?.scope;
  const rate = (k: 'faultRate' | 'raceRate' | 'maxOps', dflt: number): number => s[k] ?? scope?.[k] ?? dflt;
  const seed = typeof s.seed === 'number' ? s.seed : Number(s.seed);
  if (!Number.isSafeInteger(seed)) throw new InputError(`--resume: ${out}/stats.json: seed ${JSON.stringify(s.seed)} is not a campaign seed`);
  return {
    state,
    params: {
      ...a,
      ...remainingBudget(a, state),
      designs: s.designs, seed, equiv: s.equiv as RunParams['equiv'], domain: s.domain as RunParams['domain'], config: s.config,
      faultRate: rate('faultRate', a.faultRate), raceRate: rate('raceRate', a.raceRate), maxOps: rate('maxOps', a.maxOps),
      // a run recorded before profiles existed ran the uniform generator, whatever its geometry
      profile: s.profile ?? scope?.profile ?? 'uniform',
      shard: s.shard, out, corpus: null, workers: lanes.length, engine: lanes[0].engine as RunParams['engine'],
    },
  };
}
