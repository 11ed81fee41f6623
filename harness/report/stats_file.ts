// Strict reading of stats.json (tdpfuzz-stats/1, report/stats.ts StatsFile), which `run --resume`
// and `tdpfuzz merge` read back: every field is checked with the one strict reader (seq/strict_json.ts)
// — a resumed run must not start from `"generated": "x"` — and a malformed file is refused in one
// line naming the file and the field. One table per object: a field added to StatsFile, Lane or
// SeriesPoint needs its line here to compile (optional fields: `optional(...)`).
import {
  array, atLeast, bool, count, finite, list, nullable, object, oneOf, optional, readTable, str, strings, time, type FieldTable,
} from '../seq/field_table';
import { Fields, parseJsonInput } from '../seq/strict_json';
import { readInputFile } from '../store/input_file';
import { CAMPAIGN_FIELDS, checkFormat, HANG_TIMEOUT, MERGED, PROFILE } from './report_file';
import { BUCKET } from './report_file';
import { STATS_FORMAT, type Lane, type SeriesPoint, type StatsFile, type WorkerStats } from './stats';

const WORKER: FieldTable<WorkerStats> = {
  worker: count, updatedAt: time, done: bool, elapsedSec: finite(0), execs: count, execsPerSec: finite(0), coverage: count, findings: count,
};

const LANE: FieldTable<Lane> = {
  seed: CAMPAIGN_FIELDS.seed,
  shard: CAMPAIGN_FIELDS.shard,
  generated: count,
  engine: str,
  corpusDone: optional(count),
};

const SERIES_POINT: FieldTable<SeriesPoint> = { t: finite(0), execs: count, ops: count, coverage: count, findings: count };

const STATS: FieldTable<StatsFile> = {
  format: () => STATS_FORMAT,
  toolVersion: str,
  done: bool,
  stoppedBy: nullable(oneOf(['runs', 'time', 'signal', 'finding'])),
  startedAt: time,
  updatedAt: time,
  ...CAMPAIGN_FIELDS,
  designs: strings(2),
  faultRate: optional(finite(0, 1)),
  raceRate: optional(finite(0, 1)),
  maxOps: optional(atLeast(1)),
  profile: optional(PROFILE),
  hangTimeoutSec: optional(HANG_TIMEOUT),
  engine: optional(str),
  elapsedSec: finite(0),
  execs: count,
  generated: count,
  corpus: count,
  ops: count,
  execsPerSec: finite(0),
  opsPerSec: finite(0),
  coverage: count,
  findings: count,
  openFindings: count,
  explained: count,
  series: list(SERIES_POINT, 'a series point'),
  workers: optional(atLeast(1)),
  lanes: optional(list(LANE, 'a lane')),
  // One entry per worker: null (no signal), or the engine's own counter.
  engineCoverage: optional(array(nullable(object({ source: str, count }, 'an engine coverage entry')))),
  merged: MERGED,
  lastNewCoverageSec: optional(finite(0)),
  firstFindingSec: optional(nullable(finite(0))),
  buckets: optional(list(BUCKET, 'a bug bucket')),
  stability: optional(object({ reruns: count, repeated: count }, 'stability')),
  perWorker: optional(list(WORKER, 'a worker')),
};

/** Strictly validate a parsed stats.json. Throws InputError with a one-line message naming `file` and the field. */
export function validateStats(obj: unknown, file: string): StatsFile {
  return readTable(new Fields(file, '', checkFormat(obj, file, STATS_FORMAT)), STATS, 'a stats file');
}

/** Read and validate DIR/stats.json; `shown` names it in messages. */
export function readStatsFile(file: string, shown: string): StatsFile {
  return validateStats(parseJsonInput(readInputFile(file, shown).toString('utf8'), shown), shown);
}
