// `tdpfuzz run --workers N` (DESIGN §6), the main side: N worker threads (harness/worker_main.ts),
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
//    engine only), then merges the previous report with the new part (harness/merge.ts).
//  - SIGINT/SIGTERM (stop()): every worker finishes its current sequence and reports; then the
//    report and stats are written as usual.
import type { CampaignParams } from '../run/campaign_params';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { loadCorpus, type CampaignEvent, type CampaignHandle, type CampaignResult, type CampaignStatus } from './campaign';
import type { Equivalence } from '../run/compare';
import { toolVersion, writeFileAtomic } from '../store/fsutil';
import {
  lanesOf, mergeReports, mergeSeries, workerShard,
} from '../report/merge';
import { STATS_FORMAT, type Lane, type SeriesPoint, type Shard, type StatsFile } from '../report/stats';
import type { RunArgs } from '../cli/main';
import type { Domain } from '../seq/domain';
import { writeReports } from '../report/index';
import { type ReportData } from '../report/data';
import { InputError } from '../seq/sequence';
import { legalityErrors } from '../seq/legality';
import type { ToMain, ToWorker, WorkerSpec } from './worker_run';

export interface ResumeState {
  /** the output directory being resumed (for messages and the merged report) */
  from: string;
  stats: StatsFile;
  /** its report, when it has one that matches the stats */
  report: ReportData | null;
}

export interface WorkersOptions extends CampaignParams {
  workers: number;
  engine: string;
  /** --designs as given */
  designSpec: string;
  seed: number | string;
  runs: number | null;
  timeSec: number | null;
  shard: Shard;
  cwd: string;
  outDir: string | null;
  crashDir: string | null;
  /** undefined: "corpus" when it exists; null: none */
  corpusDir: string | null | undefined;
  /** where engines persist kept entries (default <out>/corpus) */
  corpusOut?: string | null;
  minimize: { maxRuns: number; timeMs: number } | null;
  /** instrument impls/ with istanbul in the workers (default: engine === 'jsfuzz') */
  istanbul?: boolean;
  resume?: ResumeState;
  onStatus?: (s: CampaignStatus) => void;
  statusIntervalMs?: number;
  onEvent?: (e: CampaignEvent) => void;
  statsIntervalMs?: number;
}

/** The compiled worker entry; workers cannot run from TypeScript sources. */
export function workerEntry(): string {
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
function corpusOwners(o: WorkersOptions, N: number): number[] {
  if (o.corpusDir === null) return [];
  const dir = o.corpusDir ?? 'corpus';
  if (o.corpusDir === undefined && !fs.existsSync(path.resolve(o.cwd, dir))) return [];
  const M = o.shard?.count ?? 1, I = o.shard?.index ?? 0;
  return loadCorpus(dir, o.cwd)
    .map((c, k) => ({ ...c, k }))
    .filter(c => c.k % M === I)
    .filter(c => o.domain !== 'legal' || legalityErrors(c.seq).length === 0)
    .map(c => Math.floor(c.k / M) % N);
}

interface Slot {
  spec: WorkerSpec;
  worker: Worker | null;
  status: CampaignStatus | null;
  generated: number;
  report: ReportData | null;
  lane: Lane;
  engineCoverage: { source: string; count: number } | null;
}

export function startWorkers(o: WorkersOptions): CampaignHandle {
  const entry = workerEntry();
  const resume = o.resume ?? null;
  const lanes: Lane[] = resume ? lanesOf(resume.stats) : [];
  const N = resume ? lanes.length : o.workers;
  if (!(Number.isInteger(N) && N >= 1)) throw new InputError(`--workers: expected a positive integer, got ${N}`);
  const outDir = o.outDir === null ? null : path.resolve(o.cwd, o.outDir);
  const corpusDir = resume ? null : o.corpusDir;
  const owners = corpusOwners({ ...o, corpusDir }, N);
  const budgets = o.runs === null ? null : splitRuns(o.runs, N, owners, lanes.map(l => l.generated));
  const corpusOut = o.corpusOut !== undefined ? o.corpusOut : outDir ? path.join(outDir, 'corpus') : null;

  const slots: Slot[] = Array.from({ length: N }, (_, w) => {
    const lane: Lane = resume ? lanes[w] : {
      seed: o.engine === 'random' || N === 1 ? o.seed : `${o.seed}/w${w}`,
      shard: workerShard(o.shard, w, N),
      generated: 0,
      engine: o.engine,
    };
    const spec: WorkerSpec = {
      index: w, count: N, engine: lane.engine, designSpec: o.designSpec, seed: lane.seed, shard: lane.shard,
      startIndex: lane.generated, runs: budgets ? budgets[w] : null, timeSec: o.timeSec,
      equiv: o.equiv, domain: o.domain, config: o.config, faultRate: o.faultRate, raceRate: o.raceRate, maxOps: o.maxOps,
      cwd: o.cwd, crashDir: o.crashDir, corpusDir, corpusOut,
      istanbul: o.istanbul ?? lane.engine === 'jsfuzz', minimize: o.minimize,
      statusIntervalMs: Math.min(o.statusIntervalMs ?? 1000, 1000),
    };
    return { spec, worker: null, status: null, generated: lane.generated, report: null, lane: { ...lane }, engineCoverage: null };
  });

  const startedAt = new Date();
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const coverage = new Set<string>();
  const signatures = new Set<string>();
  const series: SeriesPoint[] = [];
  let stopping = false;

  const aggregate = (done: boolean): CampaignStatus => {
    const ss = slots.map(s => s.status).filter((s): s is CampaignStatus => s !== null);
    const el = Math.max(elapsed(), 1e-9);
    const execs = ss.reduce((n, s) => n + s.execs, 0);
    const ops = ss.reduce((n, s) => n + s.ops, 0);
    return {
      execs, ops, execsPerSec: execs / el, opsPerSec: ops / el,
      coverage: N === 1 ? (ss[0]?.coverage ?? 0) : coverage.size,
      corpus: ss.reduce((n, s) => n + s.corpus, 0),
      findings: Math.max(signatures.size, ...ss.map(s => s.findings)),
      explained: Math.max(0, ...ss.map(s => s.explained)),
      elapsedSec: elapsed(), done,
    };
  };

  const statsPath = outDir ? path.join(outDir, 'stats.json') : null;
  const buildStats = (done: boolean, report: ReportData | null): StatsFile => {
    const s = aggregate(done);
    const cur: StatsFile = {
      format: STATS_FORMAT, toolVersion: toolVersion(), done, stoppedBy: report ? report.timing.stoppedBy : null,
      startedAt: startedAt.toISOString(), updatedAt: new Date().toISOString(),
      seed: o.seed, shard: o.shard, designs: o.designSpec.split(',').map(x => x.trim()), equiv: o.equiv, domain: o.domain, config: o.config,
      faultRate: o.faultRate, raceRate: o.raceRate, maxOps: o.maxOps,
      elapsedSec: s.elapsedSec, execs: s.execs, generated: slots.reduce((n, x) => n + x.generated - x.lane.generated, 0),
      corpus: s.corpus, ops: s.ops, execsPerSec: s.execsPerSec, opsPerSec: s.opsPerSec,
      coverage: report ? report.coverage.reached : s.coverage,
      findings: report ? report.findings.length : s.findings,
      openFindings: report ? report.verdict.unexplained : s.findings,
      explained: report ? report.explained.length : s.explained,
      series: [...series],
      engine: o.engine, workers: N,
      lanes: slots.map(x => ({ ...x.lane, generated: x.generated })),
      ...(slots.some(x => x.engineCoverage) ? { engineCoverage: slots.map(x => x.engineCoverage) } : {}),
    };
    if (!resume) return cur;
    // A resumed run: one stats file for both parts, the new lanes (absolute indices) last.
    const p = resume.stats;
    return {
      ...cur,
      startedAt: p.startedAt,
      elapsedSec: p.elapsedSec + cur.elapsedSec,
      execs: p.execs + cur.execs, generated: p.generated + cur.generated, corpus: p.corpus, ops: p.ops + cur.ops,
      execsPerSec: (p.execs + cur.execs) / Math.max(p.elapsedSec + cur.elapsedSec, 1e-9),
      opsPerSec: (p.ops + cur.ops) / Math.max(p.elapsedSec + cur.elapsedSec, 1e-9),
      coverage: report ? cur.coverage : Math.max(p.coverage, cur.coverage),
      findings: report ? cur.findings : Math.max(p.findings, cur.findings),
      series: mergeSeries([p.series ?? [], cur.series], 'sequential', [p.elapsedSec, cur.elapsedSec]),
    };
  };
  const writeStats = (done: boolean, report: ReportData | null): void => {
    if (!statsPath || !outDir) return;
    fs.mkdirSync(outDir, { recursive: true });
    writeFileAtomic(statsPath, `${JSON.stringify(buildStats(done, report))}\n`);
  };
  const sample = (): void => {
    const s = aggregate(false);
    series.push({ t: Math.round(s.elapsedSec * 10) / 10, execs: s.execs, ops: s.ops, coverage: s.coverage, findings: s.findings });
    if (series.length > 2000) for (let i = series.length - 2; i > 0; i -= 2) series.splice(i, 1);
  };

  const done = new Promise<CampaignResult>((resolve, reject) => {
    let finished = 0;
    let failed = false;
    const timers: NodeJS.Timeout[] = [];
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
        sample();
        const el = Math.max(elapsed(), 1e-9);
        const agg = aggregate(true);
        let report = mergeReports(slots.map(s => ({ from: `worker ${s.spec.index}`, report: s.report! })), {
          mode: 'parallel', seed: o.seed, shard: o.shard,
          timing: {
            startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), elapsedSec: el,
            execsPerSec: agg.execs / el, opsPerSec: agg.ops / el,
          },
        });
        if (N === 1) delete report.scope.merged; // one worker: the same report as an in-process run
        if (resume?.report) {
          report = mergeReports([{ from: resume.from, report: resume.report }, { from: 'resumed', report }], { mode: 'sequential', seed: o.seed, shard: o.shard });
        }
        const reportPaths = outDir ? writeReports(outDir, report) : null;
        writeStats(true, report);
        o.onStatus?.(aggregate(true));
        resolve({ report, exitCode: report.verdict.unexplained ? 1 : 0, reportPaths, statsPath });
      } catch (e) {
        reject(e);
      }
    };

    const onMessage = (slot: Slot, m: ToMain): void => {
      switch (m.type) {
        case 'status':
          slot.status = m.status;
          slot.generated = m.generated;
          for (const c of m.newCoverage) coverage.add(c);
          break;
        case 'event':
          if (m.event.type === 'new-finding') {
            if (signatures.has(m.event.signature)) break;
            signatures.add(m.event.signature);
            o.onEvent?.({ ...m.event, execs: aggregate(false).execs + m.event.execs - (slot.status?.execs ?? 0) });
          } else {
            o.onEvent?.(N > 1 ? { ...m.event, message: `worker ${slot.spec.index}: ${m.event.message}` } : m.event);
          }
          break;
        case 'share':
          for (const s of slots) if (s !== slot && s.worker) s.worker.postMessage({ type: 'share', input: m.input } satisfies ToWorker);
          break;
        case 'done':
          slot.report = m.report;
          slot.generated = m.lane.generated;
          slot.engineCoverage = m.engineCoverage;
          for (const c of m.newCoverage) coverage.add(c);
          for (const f of m.report.findings) signatures.add(f.signature);
          slot.status = { ...(slot.status ?? aggregate(true)), execs: m.report.scope.sequences, ops: m.report.scope.ops, done: true };
          break;
        case 'error': {
          const e = m.input ? new InputError(m.message) : new Error(`worker ${m.worker}: ${m.message}`);
          if (m.stack && !m.input) e.stack = m.stack;
          fail(e);
          break;
        }
      }
    };

    for (const slot of slots) {
      const worker = new Worker(entry, { workerData: slot.spec });
      slot.worker = worker;
      worker.on('message', (m: ToMain) => onMessage(slot, m));
      worker.on('error', e => fail(e instanceof Error ? e : new Error(String(e))));
      worker.on('exit', (code) => {
        slot.worker = null;
        if (failed) return;
        if (!slot.report) { fail(new Error(`worker ${slot.spec.index} exited (code ${code}) without a report`)); return; }
        if (++finished === N) finish();
      });
    }
    const statusEvery = o.statusIntervalMs ?? 1000;
    if (o.onStatus) timers.push(setInterval(() => { if (slots.some(s => s.status)) o.onStatus!(aggregate(false)); }, statusEvery));
    timers.push(setInterval(() => { sample(); writeStats(false, null); }, o.statsIntervalMs ?? 1000));
  });

  return {
    stop(): void {
      if (stopping) return;
      stopping = true;
      for (const s of slots) s.worker?.postMessage({ type: 'stop' } satisfies ToWorker);
    },
    done,
  };
}

// ------------------------------------------------------------------------------------------------
// run --resume OUT

/** Read OUT/stats.json (and OUT/report.json) of the run to continue. Random engine only. */
export function readResumeState(out: string, cwd: string): ResumeState {
  const dir = path.resolve(cwd, out);
  const shown = out;
  const sp = path.join(dir, 'stats.json');
  if (!fs.existsSync(sp)) throw new InputError(`--resume: ${shown}/stats.json: no such file (resume needs the output directory of an earlier run)`);
  let stats: StatsFile;
  try {
    stats = JSON.parse(fs.readFileSync(sp, 'utf8')) as StatsFile;
  } catch (e) {
    throw new InputError(`--resume: ${shown}/stats.json: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (stats?.format !== STATS_FORMAT) throw new InputError(`--resume: ${shown}/stats.json: format ${JSON.stringify(stats?.format)} is not supported (expected "${STATS_FORMAT}")`);
  const lanes = lanesOf(stats);
  const other = lanes.find(l => l.engine !== 'random');
  if (other) throw new InputError(`--resume: ${shown} ran the ${other.engine} engine; only the random engine can be resumed (its sequence i is a function of (seed, i))`);
  let report: ReportData | null = null;
  const rp = path.join(dir, 'report.json');
  if (fs.existsSync(rp)) {
    try {
      const r = JSON.parse(fs.readFileSync(rp, 'utf8')) as ReportData;
      // Only a report of exactly this run can be merged (a killed run leaves an older one, or none).
      if (stats.done && r.scope.sequences === stats.execs && r.scope.generated === stats.generated) report = r;
    } catch { /* treated as missing */ }
  }
  return { from: shown, stats, report };
}

/** Flags whose values `run --resume` takes from the output directory instead. */
export const RESUME_CONFLICTS = [
  'designs', 'seed', 'equiv', 'domain', 'geometry', 'huge-pages', 'prove-mmu', 'vcpus', 'fault-rate', 'race-rate',
  'max-ops', 'shard', 'corpus', 'no-corpus', 'engine',
] as const;

/**
 * The run arguments of `run --resume OUT`: the configuration recorded in OUT/stats.json (designs,
 * seed, shard, equivalence, domain, geometry, generator rates), the budget and crash store of the
 * command line, the output directory OUT itself, and no corpus (the earlier run ran it).
 */
export function resumeRunArgs(a: RunArgs, cwd: string): { args: RunArgs; state: ResumeState } {
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
    args: {
      ...a,
      designs: s.designs.join(','), seed, equiv: s.equiv as Equivalence, domain: s.domain as Domain, config: s.config,
      faultRate: rate('faultRate', a.faultRate), raceRate: rate('raceRate', a.raceRate), maxOps: rate('maxOps', a.maxOps),
      shard: s.shard, out, corpus: null, workers: lanes.length,
    },
  };
}

export interface RunCallbacks {
  onStatus?: (s: CampaignStatus) => void;
  statusIntervalMs?: number;
  onEvent?: (e: CampaignEvent) => void;
}

/** `tdpfuzz run` arguments → worker-run options. */
export function workersOptionsFromArgs(a: RunArgs, cwd: string, engine: string, resume: ResumeState | null, cb: RunCallbacks): WorkersOptions {
  return {
    workers: a.workers ?? 1, engine, designSpec: a.designs, seed: a.seed, runs: a.runs, timeSec: a.time,
    equiv: a.equiv, domain: a.domain, config: a.config, faultRate: a.faultRate, raceRate: a.raceRate, maxOps: a.maxOps,
    shard: a.shard, cwd, outDir: a.out, crashDir: a.crashes, corpusDir: a.corpus,
    corpusOut: path.resolve(cwd, a.corpusOut ?? path.join(a.out, 'corpus')),
    minimize: a.minimizeRuns !== null ? { maxRuns: a.minimizeRuns, timeMs: a.minimizeTimeSec * 1000 } : null,
    ...(resume ? { resume } : {}),
    ...cb,
  };
}
