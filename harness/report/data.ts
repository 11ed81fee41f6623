// The report's data (DESIGN §7): what a campaign, a merge or a worker run knows about its findings,
// explained differences, coverage and scope — one object, rendered by one module per format
// (markdown.ts, json.ts, junit.ts, html.ts; index.ts writes them all). Everything but `timing` is
// deterministic for a given seed, configuration and run budget. report.json is read back strictly by
// report_file.ts (`merge`, `run --resume`): a field added here needs its line in its tables.
import type { CampaignParams } from '../run/campaign_params';
import type { VmConfig } from '../../impls/api';
import type { Equivalence } from '../run/compare';
import type { CoverageFamilyRow, CoverageSummary } from '../run/coverage_classes';
import type { CrashSource, CrashStatus } from '../store/crash_store';
import type { Explanation, FirstDivergence } from '../run/findings';
import { GEOMETRY_FANOUT, LEVELS } from '../seq/sequence';
import { bucketFindings, type ReportBucket } from './buckets';
import type { GenProfile } from '../seq/profile';

export const REPORT_FORMAT = 'tdpfuzz-report/1';

export interface ReportFinding {
  signature: string;
  kind: string;
  designs: string[];
  opKind: string;
  component: string;
  message: string;
  /** sequences of this campaign in which it was found */
  hits: number;
  /** the first sequence of this campaign that found it */
  firstSource: CrashSource;
  /** triage status of its crash file; "expected"/"explained" findings do not fail the verdict */
  status: CrashStatus;
  crashFile: string | null;
  /** the stored reproducer, one describeOp line per op */
  reproducer: string[];
  originalOpCount: number;
  minimized: boolean;
  /** index of the op (in the executed list: reproducer + appended teardown) where it shows */
  opIndex: number;
  firstDivergence: FirstDivergence | null;
  replay: string;
}

export interface ReportExplainedSignature { signature: string; message: string; sequences: number }
export interface ReportExplained extends Explanation {
  /** sequences in which this difference showed */
  sequences: number;
  signatures: ReportExplainedSignature[];
}

export interface ReportScope extends CampaignParams {
  /** design labels as compared (the first is the reference) */
  designs: string[];
  /** what was given on the command line (names or module paths) */
  designSpecs: string[];
  shard: { index: number; count: number } | null;
  sequences: number;
  generated: number;
  corpus: { dir: string | null; files: number; skipped: { file: string; reason: string }[] };
  ops: number;
  /**
   * executed ops per kind (appended teardown included; they sum to `ops`), in OP_KINDS order: what
   * the "model time by op kind" table counts. Absent in older reports and in merges with a part
   * that lacks it (a lost worker).
   */
  opsByKind?: Record<string, number>;
  budget: { runs: number | null; timeSec: number | null };
  /** set when the report combines several campaigns: worker threads, shards (`tdpfuzz merge`), a resumed run */
  merged?: { parts: MergedPart[] };
}

export interface MergedPart {
  /** an output directory, or "worker N" */
  from: string;
  seed: string | number;
  shard: { index: number; count: number } | null;
  sequences: number;
}

export interface ReportTiming {
  startedAt: string;
  finishedAt: string;
  elapsedSec: number;
  execsPerSec: number;
  opsPerSec: number;
  /** why the campaign ended: its run budget, its time budget, a signal, or the corpus alone (runs 0) */
  /** when the last new coverage class was reached (s since the start; a plateau says more time will not help); absent in merged and older reports */
  lastNewClassSec?: number;
  /**
   * per signature, when it was first seen (s since the start; before its minimization): the time of
   * its bug's JUnit case. Parallel merges take the earliest, sequential ones offset each part by the
   * parts before it; absent in older reports.
   */
  foundAtSec?: Record<string, number>;
  /** per coverage family (CoverageSummary.byFamily's keys), when it last gained a class, as lastNewClassSec; absent in sequentially merged and older reports */
  lastNewByFamily?: Record<string, number>;
  /** per op kind (the keys of scope.opsByKind), the designs' time in its ops in ms (runner RunOptions.modelMs) */
  modelMsByKind?: Record<string, number>;
  /**
   * the engine's own time in ms: choosing sequences (next: generation, or the guided engine's
   * mutation and repair) and learning from their results (feedback: coverage bookkeeping); absent
   * in older reports
   */
  engineMs?: number;
  /** finding: --stop-on-first stopped it at its first unexplained finding */
  stoppedBy: 'runs' | 'time' | 'signal' | 'finding';
}

export interface ReportVerdict {
  clean: boolean;
  /** open bugs: buckets with an open member (what the verdict counts) */
  unexplained: number;
  /** open signatures (findings whose crash status is "open") */
  unexplainedSignatures: number;
  /** signatures marked expected/explained in their crash files */
  accepted: number;
  line: string;
}

export interface ReportData {
  format: typeof REPORT_FORMAT;
  toolVersion: string;
  verdict: ReportVerdict;
  scope: ReportScope;
  coverage: CoverageSummary;
  findings: ReportFinding[];
  /** the findings grouped into bugs (report/buckets.ts), in the order of their first member */
  buckets: ReportBucket[];
  explained: ReportExplained[];
  unobservable: Explanation[];
  timing: ReportTiming;
}

export const EQUIV_DESCRIPTIONS: Readonly<Record<Equivalence, string>> = {
  state: 'after every op: op result, mirror and S-EPT trees (leaf pfns, not table page ids), guest private mappings, VM bugged/hkid/TD state, page-ledger counts (pending RCU frees counted as freed), diagnostic categories',
  strict: 'state, plus the SEAMCALL log of every op, diagnostic sites and pending RCU callbacks',
  final: 'end state and leaks only',
};

export const PROFILE_DESCRIPTIONS: Readonly<Record<GenProfile, string>> = {
  uniform: 'the unweighted generator',
  mirror: 'ops weighted toward the mirror/private paths the refactor changed: private faults, rare 1G shared leaves and fanout^2-gfn splits',
};

export const num = (n: number): string => n.toLocaleString('en-US');
export const plural = (n: number, one: string, many = `${one}s`): string => `${num(n)} ${n === 1 ? one : many}`;

/** "before vs after" (or "before vs after, mine" for three designs: each is compared with the first). */
export function designsPhrase(designs: readonly string[]): string {
  return `${designs[0]} vs ${designs.slice(1).join(', ')}`;
}

export function seedPhrase(s: ReportScope): string {
  return `seed ${s.seed}${s.shard ? ` shard ${s.shard.index}/${s.shard.count}` : ''}`;
}

/**
 * The configuration axes this campaign did not exercise: the verdict says nothing about them
 * (issue 12 item 4 — a verdict states its own blind spots).
 */
export function blindSpots(scope: Pick<ReportScope, 'config' | 'domain' | 'equiv'>): string[] {
  const c = scope.config;
  return [
    c.geometry !== 'x86' ? 'the x86 geometry (4-level, 512-entry tables, 1G/2M/4K pages)' : '',
    !c.hugePages ? 'huge pages (--huge-pages)' : '',
    !c.proveMmu ? 'CONFIG_KVM_PROVE_MMU (--prove-mmu)' : '',
    !c.dpamt ? 'Dynamic PAMT (--dpamt)' : '',
    scope.domain === 'legal' ? 'misuse the kernel never does (--domain extended)' : '',
    scope.equiv !== 'strict' ? 'SEAMCALL logs, traces and diagnostic sites (--equiv strict)' : '',
  ].filter(Boolean);
}

/** How a verdict says the run ended early (a budget-ended run says nothing). */
const ENDED: Partial<Record<ReportTiming['stoppedBy'], string>> = {
  signal: '; interrupted (SIGINT/SIGTERM) before its budget was spent',
  finding: '; stopped at its first unexplained finding (--stop-on-first)',
};

/** The one-line verdict: bugs (buckets) first, the signatures they are made of in parentheses. */
export function verdictLine(scope: ReportScope, v: Pick<ReportVerdict, 'unexplained' | 'unexplainedSignatures' | 'accepted'>, stoppedBy?: ReportTiming['stoppedBy']): string {
  const what = v.unexplained === 0
    ? 'no unexplained divergence in'
    : `${plural(v.unexplained, 'unexplained bug')} (${plural(v.unexplainedSignatures, 'signature')}) in`;
  const known = v.accepted ? ` (${plural(v.accepted, 'known finding')} marked expected)` : '';
  return `VERDICT: ${what} ${plural(scope.sequences, 'sequence')} (${plural(scope.ops, 'op')}), ${scope.domain} domain, `
    + `${scope.equiv} equivalence, designs ${designsPhrase(scope.designs)}, ${seedPhrase(scope)}${known}${(stoppedBy && ENDED[stoppedBy]) ?? ''}`;
}

/** The verdict and the buckets of a report's findings: every report (campaign, worker, merge) is judged here. */
export function judgeFindings(scope: ReportScope, findings: readonly ReportFinding[], stoppedBy?: ReportTiming['stoppedBy']): { verdict: ReportVerdict; buckets: ReportBucket[] } {
  const buckets = bucketFindings(findings);
  const unexplainedSignatures = findings.filter(f => f.status === 'open').length;
  const counts = { unexplained: buckets.filter(b => b.status === 'open').length, unexplainedSignatures, accepted: findings.length - unexplainedSignatures };
  return { verdict: { clean: counts.unexplained === 0, ...counts, line: verdictLine(scope, counts, stoppedBy) }, buckets };
}

/** "none", or "6 bugs (10 signatures)": how the reports head their findings. */
export function findingsPhrase(r: Pick<ReportData, 'findings' | 'buckets'>): string {
  if (!r.findings.length) return 'none';
  return `${plural(r.buckets.length, 'bug')}, ${plural(r.findings.length, 'signature')}`;
}

export function geometryPhrase(c: VmConfig): string {
  return `${c.geometry} (${LEVELS} levels × ${GEOMETRY_FANOUT[c.geometry]} entries), huge pages ${c.hugePages ? 'on' : 'off'}${c.dpamt ? ', DPAMT on' : ''}, ${plural(c.vcpus, 'vCPU')}`;
}

export function sourcePhrase(s: CrashSource): string {
  if ('file' in s) return s.engine ? `${s.engine} input ${s.file}` : `corpus file ${s.file}`;
  return `seed ${s.seed} index ${s.index} (${s.engine})`;
}

export function traceColumns(d: FirstDivergence): { title: string; lines: string[] }[] {
  return d.sides.map(s => ({
    title: s.design,
    lines: [`result: ${s.result}`, ...s.seamcalls.map(x => `seamcall ${x}`), ...s.diagnostics.map(x => `diag ${x}`)],
  }));
}

/** The reproducer with op indices; `>>>` marks the op where the finding shows (syz-verifier style). */
export function reproducerLines(f: ReportFinding): string[] {
  const lines = f.reproducer.map((op, i) => `${i === f.opIndex ? '>>>' : '   '} ${String(i).padStart(3)}  ${op}`);
  if (f.opIndex >= f.reproducer.length) {
    lines.push(`>>> ${String(f.reproducer.length).padStart(3)}  destroy (teardown appended by the runner)`);
  }
  return lines;
}

/**
 * One coverage family for report.md/txt: "SEAMCALL/result: 25 reached, 25/31 expected, the last new at
 * 1.2 s; never reached: …" (at most 12 named; report.json has them all). `code` quotes a class name.
 */
export function coverageFamilyPhrase(f: CoverageFamilyRow, code: (cls: string) => string = x => x): string {
  const shown = f.neverReached.slice(0, 12).map(code);
  const more = f.neverReached.length - shown.length;
  return `${f.title}: ${num(f.reached)} reached${f.expected ? `, ${f.expected.reached}/${f.expected.expected} expected` : ''}`
    + (f.lastNewSec !== undefined ? `, the last new at ${f.lastNewSec.toFixed(1)} s` : '')
    + (shown.length ? `; never reached: ${shown.join(', ')}${more ? `, and ${more} more (report.json)` : ''}` : '');
}

/** One row of the "model time by op kind" table: ms and share are null when the report has no timings for it. */
export interface ModelTimeRow { kind: string; ops: number; ms: number | null; share: number | null }

/** The "model time by op kind" rows (kinds in the order the report lists them), or null for a report without per-kind counts. */
export function modelTimeRows(r: Pick<ReportData, 'scope' | 'timing'>): ModelTimeRow[] | null {
  const ops = r.scope.opsByKind;
  if (!ops) return null;
  const ms = r.timing.modelMsByKind;
  const total = ms ? Object.values(ms).reduce((a, b) => a + b, 0) : 0;
  return Object.entries(ops).map(([kind, n]) => {
    const t = ms?.[kind];
    return { kind, ops: n, ms: t ?? null, share: t !== undefined && total > 0 ? t / total : null };
  });
}

/** "12.3 ms" / "45.6%" as the reports print them (bench/normalize_timings.js strips both forms). */
export const msPhrase = (ms: number | null): string => (ms === null ? '-' : `${ms.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} ms`);
export const sharePhrase = (share: number | null): string => (share === null ? '-' : `${(share * 100).toFixed(1)}%`);

/** The deterministic part of a report (everything but timing). */
export function withoutTiming(r: ReportData): Omit<ReportData, 'timing'> {
  const { timing: _timing, ...rest } = r;
  return rest;
}
