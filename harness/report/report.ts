// Campaign reports (DESIGN §7): the differential report on refactor equivalence, as
//  - Markdown/plain text that pastes into a mailing-list reply (verdict line first),
//  - JSON (the same data; everything but the "timing" object is deterministic for a given seed,
//    configuration and run budget),
//  - JUnit XML for CI (one testcase for equivalence, one per finding or explained signature).
// The HTML page with the coverage-over-time chart is not implemented yet.
import type { CampaignParams } from '../run/campaign_params';
import { renderHtml, type SeriesPoint } from './html';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VmConfig } from '../../impls/api';
import type { Equivalence } from '../run/compare';
import type { CoverageSummary } from '../run/coverage_classes';
import { FAMILY_TITLES } from '../run/coverage_classes';
import type { CrashSource, CrashStatus } from '../store/crash_store';
import type { Explanation, FirstDivergence } from '../run/findings';
import { writeFileAtomic } from '../store/fsutil';
import { GEOMETRY_FANOUT, LEVELS } from '../seq/sequence';

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
  stoppedBy: 'runs' | 'time' | 'signal';
}

export interface ReportData {
  format: typeof REPORT_FORMAT;
  toolVersion: string;
  verdict: { clean: boolean; unexplained: number; accepted: number; line: string };
  scope: ReportScope;
  coverage: CoverageSummary;
  findings: ReportFinding[];
  explained: ReportExplained[];
  unobservable: Explanation[];
  timing: ReportTiming;
}

export const EQUIV_DESCRIPTIONS: Readonly<Record<Equivalence, string>> = {
  state: 'after every op: op result, mirror and S-EPT trees (leaf pfns, not table page ids), guest private mappings, VM bugged/hkid/TD state, page-ledger counts (pending RCU frees counted as freed), diagnostic categories',
  strict: 'state, plus the SEAMCALL log of every op, diagnostic sites and pending RCU callbacks',
  final: 'end state and leaks only',
};

const num = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`): string => `${num(n)} ${n === 1 ? one : many}`;

/** "before vs after" (or "before vs after, mine" for three designs: each is compared with the first). */
export function designsPhrase(designs: readonly string[]): string {
  return `${designs[0]} vs ${designs.slice(1).join(', ')}`;
}

function seedPhrase(s: ReportScope): string {
  return `seed ${s.seed}${s.shard ? ` shard ${s.shard.index}/${s.shard.count}` : ''}`;
}

/** The one-line verdict. */
export function verdictLine(scope: ReportScope, unexplained: number, accepted: number): string {
  const what = unexplained === 0
    ? 'no unexplained divergence in'
    : `${plural(unexplained, 'unexplained finding')} in`;
  const known = accepted ? ` (${plural(accepted, 'known finding')} marked expected)` : '';
  return `VERDICT: ${what} ${plural(scope.sequences, 'sequence')} (${plural(scope.ops, 'op')}), ${scope.domain} domain, `
    + `${scope.equiv} equivalence, designs ${designsPhrase(scope.designs)}, ${seedPhrase(scope)}${known}`;
}

export function geometryPhrase(c: VmConfig): string {
  return `${c.geometry} (${LEVELS} levels × ${GEOMETRY_FANOUT[c.geometry]} entries), huge pages ${c.hugePages ? 'on' : 'off'}, ${plural(c.vcpus, 'vCPU')}`;
}

function sourcePhrase(s: CrashSource): string {
  if ('file' in s) return s.engine ? `${s.engine} input ${s.file}` : `corpus file ${s.file}`;
  return `seed ${s.seed} index ${s.index} (${s.engine})`;
}

/** Two columns side by side (for design traces). */
export function sideBySide(columns: { title: string; lines: string[] }[], maxWidth = 72): string {
  const widths = columns.map(c => Math.min(maxWidth, Math.max(c.title.length, ...c.lines.map(l => l.length))));
  const rows = Math.max(...columns.map(c => c.lines.length));
  const pad = (s: string, w: number): string => (s.length >= w ? s : s + ' '.repeat(w - s.length));
  const line = (cells: string[]): string => cells.map((c, i) => (i < cells.length - 1 ? pad(c, widths[i]) : c)).join(' | ').trimEnd();
  const out = [line(columns.map(c => c.title)), widths.map(w => '-'.repeat(w)).join('-+-')];
  for (let r = 0; r < rows; r++) out.push(line(columns.map(c => c.lines[r] ?? '')));
  return out.join('\n');
}

function traceColumns(d: FirstDivergence): { title: string; lines: string[] }[] {
  return d.sides.map(s => ({
    title: s.design,
    lines: [`result: ${s.result}`, ...s.seamcalls.map(x => `seamcall ${x}`), ...s.diagnostics.map(x => `diag ${x}`)],
  }));
}

/** The reproducer with op indices; `>>>` marks the op where the finding shows (syz-verifier style). */
function reproducerLines(f: ReportFinding): string[] {
  const lines = f.reproducer.map((op, i) => `${i === f.opIndex ? '>>>' : '   '} ${String(i).padStart(3)}  ${op}`);
  if (f.opIndex >= f.reproducer.length) {
    lines.push(`>>> ${String(f.reproducer.length).padStart(3)}  destroy (teardown appended by the runner)`);
  }
  return lines;
}

// ------------------------------------------------------------------------------------------------
// Markdown

export function renderMarkdown(r: ReportData): string {
  const s = r.scope;
  const out: string[] = [];
  out.push(`# tdpfuzz differential report: ${designsPhrase(s.designs)}`, '');
  out.push(r.verdict.line, '');

  out.push('## Scope', '');
  const parts = [`${num(s.generated)} generated from ${seedPhrase(s)}`];
  if (s.corpus.files) parts.push(`${num(s.corpus.files)} corpus files from ${s.corpus.dir}`);
  out.push(`- sequences: ${num(s.sequences)} (${parts.join(', ')})`);
  if (s.merged) {
    out.push(`- merged from ${plural(s.merged.parts.length, 'part')}: ${s.merged.parts.map(p => `${p.from} (seed ${p.seed}${p.shard ? ` shard ${p.shard.index}/${p.shard.count}` : ''}, ${plural(p.sequences, 'sequence')})`).join('; ')}`);
  }
  if (s.corpus.skipped.length) {
    out.push(`- corpus files skipped: ${s.corpus.skipped.map(x => `${x.file} (${x.reason})`).join('; ')}`);
  }
  out.push(`- ops: ${num(s.ops)} (including the teardown the runner appends)`);
  out.push(`- designs: ${s.designs.join(', ')}${s.designSpecs.join(',') !== s.designs.join(',') ? ` (given as ${s.designSpecs.join(',')})` : ''}; each compared with ${s.designs[0]} in lockstep`);
  out.push(`- equivalence: ${s.equiv} (${EQUIV_DESCRIPTIONS[s.equiv]})`);
  out.push(`- domain: ${s.domain} (${s.domain === 'legal' ? 'only call patterns the kernel can issue; any WARN/KVM_BUG_ON without an injected fault is a finding' : 'includes misuse the kernel never does, where the designs differ on purpose'})`);
  out.push(`- geometry: ${geometryPhrase(s.config)}`);
  out.push(`- generator: fault rate ${s.faultRate}, race rate ${s.raceRate}, up to ${s.maxOps} ops per sequence`);
  const budget = [s.budget.runs !== null ? `${num(s.budget.runs)} runs` : '', s.budget.timeSec !== null ? `${s.budget.timeSec} s` : ''].filter(Boolean).join(', ');
  out.push(`- budget: ${budget || 'none'}`);
  const c = r.coverage;
  const fams = Object.entries(c.byFamily).map(([f, n]) => `${n} ${FAMILY_TITLES[f] ?? f}`).join(', ');
  out.push(`- coverage: ${num(c.reached)} transition classes reached (${fams}); ${c.expectedReached} of ${c.expected} expected SEAMCALL/fault/race classes`);
  if (c.neverReached.length) {
    const shown = c.neverReached.slice(0, 12);
    out.push(`- never reached: ${shown.join(', ')}${c.neverReached.length > shown.length ? `, and ${c.neverReached.length - shown.length} more (report.json)` : ''}`);
  }
  out.push('');

  out.push(`## Findings (${r.findings.length === 0 ? 'none' : plural(r.findings.length, 'signature')})`, '');
  r.findings.forEach((f, i) => {
    out.push(`### ${i + 1}. \`${f.signature}\` — ${plural(f.hits, 'hit')}${f.status !== 'open' ? ` [${f.status}]` : ''}`, '');
    out.push(f.message, '');
    out.push(`- first seen: ${sourcePhrase(f.firstSource)}`);
    if (f.crashFile) out.push(`- crash file: ${f.crashFile}`);
    out.push(`- replay: \`${f.replay}\``, '');
    out.push(`Reproducer (${plural(f.reproducer.length, 'op')}${f.minimized ? `, minimized from ${f.originalOpCount}` : ''}):`, '');
    out.push('```', ...reproducerLines(f), '```', '');
    const d = f.firstDivergence;
    if (d) {
      out.push(`First divergence at op ${d.opIndex} (${d.op}), in ${d.component}:`, '');
      out.push('```', sideBySide(traceColumns(d)), '```', '');
      if (d.stateDiff.split('\n').some(l => /^[-+][^-+]/.test(l))) {
        out.push('State after the op:', '', '```diff', d.stateDiff.trimEnd(), '```', '');
      }
    }
  });

  out.push(`## Explained differences (${r.explained.length === 0 ? 'none seen' : plural(r.explained.length, 'kind')})`, '');
  if (r.explained.length) {
    out.push('Differences the designs have on purpose (kernel-model §3.1), matched precisely and counted, never dropped:', '');
    for (const e of r.explained) {
      out.push(`- **${e.id}** ${e.title} — ${plural(e.sequences, 'sequence')}: ${e.reason}`);
      for (const x of e.signatures) out.push(`  - \`${x.signature}\` (${plural(x.sequences, 'sequence')}), e.g. ${x.message}`);
    }
    out.push('');
  }
  out.push('## Unobservable by design', '');
  for (const u of r.unobservable) out.push(`- **${u.id}** ${u.title}: ${u.reason}`);
  out.push('');

  const t = r.timing;
  out.push('## Throughput (timing, not deterministic)', '');
  out.push(`- ${num(Math.round(t.execsPerSec))} exec/s, ${num(Math.round(t.opsPerSec))} ops/s, elapsed ${t.elapsedSec.toFixed(1)} s (stopped by ${t.stoppedBy}); ${t.startedAt} → ${t.finishedAt}`);
  out.push('');
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------------
// JSON

export function renderJson(r: ReportData): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** The deterministic part of a report (everything but timing). */
export function withoutTiming(r: ReportData): Omit<ReportData, 'timing'> {
  const { timing: _timing, ...rest } = r;
  return rest;
}

// ------------------------------------------------------------------------------------------------
// JUnit XML

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, ch => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[ch]!))
    // XML 1.0 forbids most control characters even escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function renderJunit(r: ReportData): string {
  const s = r.scope;
  const suite = `tdpfuzz ${designsPhrase(s.designs)}`;
  const cases: string[] = [];
  const failures = r.findings.filter(f => f.status === 'open').length;
  const eqName = `equivalence: ${designsPhrase(s.designs)} (${s.equiv}, ${s.domain}, ${seedPhrase(s)}, ${num(s.sequences)} sequences)`;
  if (r.verdict.clean) {
    cases.push(`    <testcase classname="tdpfuzz.equivalence" name="${xmlEscape(eqName)}" time="0"/>`);
  } else {
    cases.push(`    <testcase classname="tdpfuzz.equivalence" name="${xmlEscape(eqName)}" time="0">`,
      `      <failure message="${xmlEscape(r.verdict.line)}" type="unexplained">${xmlEscape(r.findings.filter(f => f.status === 'open').map(f => f.signature).join('\n'))}</failure>`,
      '    </testcase>');
  }
  for (const f of r.findings) {
    const name = xmlEscape(f.signature);
    const body = [f.message, `replay: ${f.replay}`, ...(f.crashFile ? [`crash file: ${f.crashFile}`] : []), '', ...reproducerLines(f),
      ...(f.firstDivergence ? ['', f.firstDivergence.stateDiff] : [])].join('\n');
    if (f.status === 'open') {
      cases.push(`    <testcase classname="tdpfuzz.findings.${xmlEscape(f.kind)}" name="${name}" time="0">`,
        `      <failure message="${xmlEscape(f.message)}" type="${xmlEscape(f.kind)}">${xmlEscape(body)}</failure>`,
        '    </testcase>');
    } else {
      cases.push(`    <testcase classname="tdpfuzz.findings.${xmlEscape(f.kind)}" name="${name}" time="0">`,
        `      <skipped message="${xmlEscape(`marked ${f.status} in ${f.crashFile ?? 'its crash file'}`)}"/>`,
        '    </testcase>');
    }
  }
  for (const e of r.explained) {
    for (const x of e.signatures) {
      cases.push(`    <testcase classname="tdpfuzz.explained.${xmlEscape(e.id)}" name="${xmlEscape(x.signature)}" time="0">`,
        `      <system-out>${xmlEscape(`${e.id} ${e.title} (${x.sequences} sequences): ${e.reason}\ne.g. ${x.message}`)}</system-out>`,
        '    </testcase>');
    }
  }
  const tests = 1 + r.findings.length + r.explained.reduce((n, e) => n + e.signatures.length, 0);
  const skipped = r.findings.length - failures;
  const failed = failures + (r.verdict.clean ? 0 : 1);
  const time = r.timing.elapsedSec.toFixed(3);
  const props = [
    ['seed', String(s.seed)], ['shard', s.shard ? `${s.shard.index}/${s.shard.count}` : ''], ['designs', s.designSpecs.join(',')],
    ['equiv', s.equiv], ['domain', s.domain], ['geometry', s.config.geometry], ['hugePages', String(s.config.hugePages)],
    ['vcpus', String(s.config.vcpus)], ['sequences', String(s.sequences)], ['ops', String(s.ops)], ['toolVersion', r.toolVersion],
  ].filter(([, v]) => v !== '');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tdpfuzz" tests="${tests}" failures="${failed}" errors="0" skipped="${skipped}" time="${time}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${tests}" failures="${failed}" errors="0" skipped="${skipped}" time="${time}" timestamp="${xmlEscape(r.timing.startedAt)}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

// ------------------------------------------------------------------------------------------------

export interface ReportPaths { markdown: string; json: string; junit: string; html: string }

/**
 * Write report.md, report.json, report.junit.xml and report.html into outDir (atomically). `series`
 * (the campaign's stats time series) feeds the HTML coverage-over-time chart.
 */
export function writeReports(outDir: string, r: ReportData, series: readonly SeriesPoint[] = []): ReportPaths {
  fs.mkdirSync(outDir, { recursive: true });
  const paths: ReportPaths = {
    markdown: path.join(outDir, 'report.md'),
    json: path.join(outDir, 'report.json'),
    junit: path.join(outDir, 'report.junit.xml'),
    html: path.join(outDir, 'report.html'),
  };
  writeFileAtomic(paths.markdown, renderMarkdown(r));
  writeFileAtomic(paths.json, renderJson(r));
  writeFileAtomic(paths.junit, renderJunit(r));
  writeFileAtomic(paths.html, renderHtml(r, series));
  return paths;
}
