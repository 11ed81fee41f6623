// stats.json (tdpfuzz-stats/1): the machine-readable progress of a campaign, rewritten atomically at a
// fixed period while it runs — totals plus a time series of execs, ops, coverage and findings.
import type { VmConfig } from '../../impls/api';
import type { CampaignParams, Shard } from '../run/campaign_params';
import type { GenProfile } from '../seq/profile';
import { toolVersion } from '../store/fsutil';
import type { ReportBucket } from './buckets';
import type { MergedPart, ReportData } from './data';

export type { Shard };

/** One engine stream of a campaign: where `run --resume` continues it (a new field needs its line in stats_file.ts LANE). */
export interface Lane {
  seed: string | number;
  shard: Shard;
  /** sequences the engine produced so far (the next one is index `generated`) */
  generated: number;
  engine: string;
  /** corpus files the lane has run (its corpus phase comes first); absent in files of older versions */
  corpusDone?: number;
}

export interface SeriesPoint { t: number; execs: number; ops: number; coverage: number; findings: number }

/** A campaign's counters as stats.json records them. */
export interface StatsTotals {
  elapsedSec: number;
  execs: number;
  generated: number;
  corpus: number;
  ops: number;
  execsPerSec: number;
  opsPerSec: number;
  coverage: number;
  findings: number;
  openFindings: number;
  explained: number;
}

/** What long-campaign users read first (issue 14 item 7); absent in stats files of older versions. */
export interface StatsProgress {
  /** when the last new coverage class was reached (s since the start): a plateau says more time will not help; absent where a merge cannot say (sequential parts) */
  lastNewCoverageSec?: number;
  /** time to the first finding (s since the start), null while there is none */
  firstFindingSec: number | null;
  /** the findings grouped into bugs, as the report has them (report/buckets.ts) */
  buckets: ReportBucket[];
  /** inputs re-executed for calibration (new coverage or a new finding) and how many repeated their outcome */
  stability: { reruns: number; repeated: number };
}

/** The progress fields of a report (its buckets, last new class and first sighting) and the run's calibration counts. */
export function progressOf(r: ReportData, stability: { reruns: number; repeated: number }): StatsProgress {
  const found = Object.values(r.timing.foundAtSec ?? {});
  return {
    ...(r.timing.lastNewClassSec !== undefined ? { lastNewCoverageSec: r.timing.lastNewClassSec } : {}),
    firstFindingSec: found.length ? Math.min(...found) : null,
    buckets: r.buckets,
    stability: { ...stability },
  };
}

/** One worker thread of a `--workers N` run, as `tdpfuzz status` shows it (from its last status report). */
export interface WorkerStats {
  worker: number;
  /** when the main thread last heard from it */
  updatedAt: string;
  done: boolean;
  elapsedSec: number;
  execs: number;
  execsPerSec: number;
  coverage: number;
  findings: number;
}

/** stats.json (tdpfuzz-stats/1) as campaigns and worker runs write it (read back strictly by stats_file.ts: a new field needs its line there). */
export interface StatsFile extends StatsTotals {
  format: 'tdpfuzz-stats/1';
  toolVersion: string;
  done: boolean;
  stoppedBy: string | null;
  startedAt: string;
  updatedAt: string;
  seed: string | number;
  shard: Shard;
  designs: string[];
  equiv: string;
  domain: string;
  config: VmConfig;
  series: SeriesPoint[];
  faultRate?: number;
  raceRate?: number;
  maxOps?: number;
  /** --profile (absent in stats written before profiles: those runs were uniform) */
  profile?: GenProfile;
  /** --hang-timeout (seconds) */
  hangTimeoutSec?: number;
  engine?: string;
  workers?: number;
  lanes?: Lane[];
  /** per worker: the engine's own coverage signal at the end (jsfuzz: istanbul counters over impls/) */
  engineCoverage?: ({ source: string; count: number } | null)[];
  merged?: { parts: MergedPart[] };
  lastNewCoverageSec?: number;
  firstFindingSec?: number | null;
  buckets?: ReportBucket[];
  stability?: { reruns: number; repeated: number };
  /** worker runs: each worker's last status */
  perWorker?: WorkerStats[];
}

export const STATS_FORMAT = 'tdpfuzz-stats/1';
/** Most points a stats time series keeps (campaigns thin it, merges downsample to it). */
const MAX_SERIES = 2000;

/** A series cut down to at most MAX_SERIES points (first and last kept). */
export function downsample(series: SeriesPoint[]): SeriesPoint[] {
  if (series.length <= MAX_SERIES) return series;
  const step = Math.ceil(series.length / MAX_SERIES);
  return series.filter((_, i) => i % step === 0 || i === series.length - 1);
}

/** Append a point to a time series; past MAX_SERIES points, drop every other one. True when it thinned. */
export function appendSeriesPoint(series: SeriesPoint[], point: SeriesPoint): boolean {
  series.push(point);
  if (series.length <= MAX_SERIES) return false;
  for (let i = series.length - 2; i > 0; i -= 2) series.splice(i, 1);
  return true;
}


export interface StatsInput {
  done: boolean;
  stoppedBy: string | null;
  startedAt: string;
  updatedAt: string;
  params: CampaignParams;
  /** --designs as given */
  designs: string[];
  engine: string;
  totals: StatsTotals;
  series: SeriesPoint[];
  progress?: StatsProgress;
  perWorker?: WorkerStats[];
  /** an in-process campaign's one lane (worker runs give theirs in `workers`) */
  lanes?: Lane[];
  /** worker runs: the lanes (where --resume continues each) and the engines' own coverage */
  workers?: { workers: number; lanes: Lane[]; engineCoverage: ({ source: string; count: number } | null)[] | null };
}

/** stats.json of a campaign or a worker run (the one builder; fields in this order). */
export function buildStats(s: StatsInput): StatsFile {
  const p = s.params;
  const t = s.totals;
  return {
    format: STATS_FORMAT, toolVersion: toolVersion(), done: s.done, stoppedBy: s.stoppedBy,
    startedAt: s.startedAt, updatedAt: s.updatedAt,
    seed: p.seed, shard: p.shard, designs: s.designs, equiv: p.equiv, domain: p.domain, config: p.config,
    faultRate: p.faultRate, raceRate: p.raceRate, maxOps: p.maxOps, profile: p.profile, hangTimeoutSec: p.hangTimeoutSec, engine: s.engine,
    elapsedSec: t.elapsedSec, execs: t.execs, generated: t.generated, corpus: t.corpus, ops: t.ops,
    execsPerSec: t.execsPerSec, opsPerSec: t.opsPerSec, coverage: t.coverage,
    findings: t.findings, openFindings: t.openFindings, explained: t.explained,
    series: s.series,
    ...(s.progress ?? {}),
    ...(s.perWorker ? { perWorker: s.perWorker } : {}),
    ...(s.lanes ? { lanes: s.lanes } : {}),
    ...(s.workers ? {
      workers: s.workers.workers, lanes: s.workers.lanes,
      ...(s.workers.engineCoverage ? { engineCoverage: s.workers.engineCoverage } : {}),
    } : {}),
  };
}
