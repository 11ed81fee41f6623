// Strict reading of report.json (tdpfuzz-report/1, report/data.ts ReportData), which `tdpfuzz merge`
// and `run --resume` read back: every field the merge uses is checked with the one strict reader
// (seq/strict_json.ts), and a malformed file is refused in one line naming the file and the field.
// One table per object; a field added to ReportData (or its parts) needs its line here to compile.
import type { CoverageSummary } from '../run/coverage_classes';
import { DEFAULT_PARAMS } from '../run/campaign_params';
import { EQUIVALENCES } from '../run/compare';
import type { Explanation } from '../run/findings';
import { DOMAINS } from '../seq/domain';
import { GEN_PROFILES, type GenProfile } from '../seq/profile';
import {
  array, atLeast, bool, count, counts, finite, finiteRecord, lines, list, nullable, object, oneOf, optional, readTable, seed, shard, str, strings, time,
  type FieldRead, type FieldTable,
} from '../seq/field_table';
import { readConfig } from '../seq/sequence';
import { Fields, InputError, isObject, parseJsonInput, show } from '../seq/strict_json';
import { readInputFile } from '../store/input_file';
import { CRASH_STATUSES, readDivergence, readSource } from '../store/crash_store';
import {
  judgeFindings, REPORT_FORMAT, type MergedPart, type ReportData, type ReportExplained, type ReportExplainedSignature, type ReportFinding,
  type ReportScope, type ReportTiming, type ReportVerdict,
} from './data';
import type { BucketRule, ReportBucket } from './buckets';

/** The campaign parameters every stats file and report scope records (run/campaign_params.ts). */
export const CAMPAIGN_FIELDS = {
  seed, shard,
  equiv: oneOf(EQUIVALENCES),
  domain: oneOf(DOMAINS),
  config: (f: Fields, k: string) => readConfig(f.fileName, f.raw(k), f.path ? `${f.path}.${k}` : k),
};

const MERGED_PART: FieldTable<MergedPart> = { from: str, seed, shard, sequences: count };
/** `merged` of a report scope or stats file: the parts a merge combined. */
export const MERGED: FieldRead<{ parts: MergedPart[] } | undefined> = optional(object({ parts: list(MERGED_PART, 'a merged part') }, 'merged'));

/** --profile; a report or stats file written before profiles existed ran the uniform generator (whatever its geometry). */
export const PROFILE: FieldRead<GenProfile> = (f, k) => (f.raw(k) === undefined ? 'uniform' : oneOf(GEN_PROFILES)(f, k));

/** --hang-timeout; a report or stats file written before the flag existed ran with the default. */
export const HANG_TIMEOUT: FieldRead<number> = (f, k) => (f.raw(k) === undefined ? DEFAULT_PARAMS.hangTimeoutSec : finite(0.001)(f, k));

const SCOPE: FieldTable<ReportScope> = {
  ...CAMPAIGN_FIELDS,
  faultRate: finite(0, 1),
  raceRate: finite(0, 1),
  maxOps: atLeast(1),
  profile: PROFILE,
  hangTimeoutSec: HANG_TIMEOUT,
  designs: strings(2),
  designSpecs: strings(2),
  sequences: count,
  generated: count,
  corpus: object({
    dir: nullable(str), files: count, skipped: list({ file: str, reason: str }, 'a skipped corpus file'),
  }, 'scope.corpus'),
  ops: count,
  opsByKind: optional(counts),
  budget: object({ runs: nullable(count), timeSec: nullable(finite(0)) }, 'scope.budget'),
  merged: MERGED,
};

const COVERAGE: FieldTable<CoverageSummary> = {
  reached: count, byFamily: counts, expected: count, expectedReached: count, neverReached: lines, classes: optional(lines),
  expectedByFamily: optional((f, k) => {
    const o = f.object(k);
    return Object.fromEntries(o.keys().map(fam => [fam, readTable(o.object(fam), { reached: count, expected: count }, 'a family\'s expected coverage')]));
  }),
};

const FINDING: FieldTable<ReportFinding> = {
  signature: str, kind: str, designs: strings(1), opKind: str, component: str, message: str,
  hits: atLeast(1),
  firstSource: readSource,
  status: oneOf(CRASH_STATUSES),
  crashFile: nullable(str),
  reproducer: lines,
  originalOpCount: count,
  minimized: bool,
  opIndex: count,
  firstDivergence: readDivergence,
  replay: str,
};

const EXPLANATION: FieldTable<Explanation> = { id: str, title: str, reason: str };
const EXPLAINED_SIGNATURE: FieldTable<ReportExplainedSignature> = { signature: str, message: str, sequences: count };
const EXPLAINED: FieldTable<ReportExplained> = {
  ...EXPLANATION, sequences: count, signatures: list(EXPLAINED_SIGNATURE, 'an explained signature'),
};

const TIMING: FieldTable<ReportTiming> = {
  startedAt: time, finishedAt: time, elapsedSec: finite(0), execsPerSec: finite(0), opsPerSec: finite(0),
  stoppedBy: oneOf(['runs', 'time', 'signal', 'finding'] as const),
  lastNewClassSec: optional(finite(0)),
  lastNewByFamily: optional(finiteRecord),
  foundAtSec: optional(finiteRecord),
  modelMsByKind: optional(finiteRecord),
  engineMs: optional(finite(0)),
};

const BUCKET_RULES: readonly BucketRule[] = ['same minimized reproducer', 'same first diverging op and component'];
export const BUCKET: FieldTable<ReportBucket> = {
  id: str, status: oneOf(['open', 'accepted'] as const), signatures: strings(1), groupedBy: array(oneOf(BUCKET_RULES)), hits: count,
};

/** A report written before bug buckets (issue 12 item 3) has neither `buckets` nor this field; validateReport judges it again. */
const OLDER = -1;
const VERDICT: FieldTable<ReportVerdict> = {
  clean: bool, unexplained: count, unexplainedSignatures: (f, k) => (f.raw(k) === undefined ? OLDER : count(f, k)), accepted: count, line: str,
};

const REPORT: FieldTable<ReportData> = {
  format: () => REPORT_FORMAT,
  toolVersion: str,
  verdict: object(VERDICT, 'the verdict'),
  buckets: (f, k) => (f.raw(k) === undefined ? [] : list(BUCKET, 'a bug bucket')(f, k)),
  scope: object(SCOPE, 'the scope'),
  coverage: object(COVERAGE, 'coverage'),
  findings: list(FINDING, 'a finding'),
  explained: list(EXPLAINED, 'an explained difference'),
  unobservable: list(EXPLANATION, 'an unobservable difference'),
  timing: object(TIMING, 'timing'),
};

/** Check a file's format field first: a file of another version is expected to have other fields. */
export function checkFormat(obj: unknown, file: string, format: string): Record<string, unknown> {
  if (!isObject(obj)) throw new InputError(`${file}: expected a JSON object at the top level, got ${show(obj)}`);
  if (obj.format === undefined) throw new InputError(`${file}: format: missing (expected "${format}")`);
  if (obj.format !== format) throw new InputError(`${file}: format ${show(obj.format)} is not supported (expected "${format}")`);
  return obj;
}

/** Strictly validate a parsed report.json. Throws InputError with a one-line message naming `file` and the field. */
export function validateReport(obj: unknown, file: string): ReportData {
  const raw = checkFormat(obj, file, REPORT_FORMAT);
  const r = readTable(new Fields(file, '', raw), REPORT, 'a report');
  // Older reports counted signatures as the verdict's unexplained: judge their findings again.
  if (raw.buckets === undefined || r.verdict.unexplainedSignatures === OLDER) Object.assign(r, judgeFindings(r.scope, r.findings, r.timing.stoppedBy));
  return r;
}

/** Read and validate a report.json; `shown` names it in messages. */
export function readReportFile(file: string, shown: string): ReportData {
  return validateReport(parseJsonInput(readInputFile(file, shown).toString('utf8'), shown), shown);
}
