// stats.json (tdpfuzz-stats/1): the machine-readable progress of a campaign, rewritten atomically at a
// fixed period while it runs — totals plus a time series of execs, ops, coverage and findings.
import type { VmConfig } from '../../impls/api';
import type { MergedPart } from './data';

export type Shard = { index: number; count: number } | null;

/** One engine stream of a campaign: where `run --resume` continues it. */
export interface Lane {
  seed: string | number;
  shard: Shard;
  /** sequences the engine produced so far (the next one is index `generated`) */
  generated: number;
  engine: string;
}

export interface SeriesPoint { t: number; execs: number; ops: number; coverage: number; findings: number }

/** stats.json (tdpfuzz-stats/1) as campaigns and worker runs write it; extra fields are kept. */
export interface StatsFile {
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
  series: SeriesPoint[];
  faultRate?: number;
  raceRate?: number;
  maxOps?: number;
  engine?: string;
  workers?: number;
  lanes?: Lane[];
  /** per worker: the engine's own coverage signal at the end (jsfuzz: istanbul counters over impls/) */
  engineCoverage?: ({ source: string; count: number } | null)[];
  merged?: { parts: MergedPart[] };
}

export const STATS_FORMAT = 'tdpfuzz-stats/1';
/** Most points a stats time series keeps (campaigns thin it, merges downsample to it). */
export const MAX_SERIES = 2000;

/** A series cut down to at most MAX_SERIES points (first and last kept). */
export function downsample(series: SeriesPoint[]): SeriesPoint[] {
  if (series.length <= MAX_SERIES) return series;
  const step = Math.ceil(series.length / MAX_SERIES);
  return series.filter((_, i) => i % step === 0 || i === series.length - 1);
}
