// The bisect report (`tdpfuzz bisect`): per step of a series, the verdict of comparing it with the
// step before it, and its outputs: bisect.md, bisect.json (format tdpfuzz-bisect/1), bisect.junit.xml
// (one testcase per step) and bisect.html (the step table). Everything but `timing` is a function of
// the series, the seed and the run budget (no wall clock), so two runs with the same seed agree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VmConfig } from '../../impls/api';
import type { Equivalence } from '../run/compare';
import type { FirstDivergence } from '../run/findings';
import type { Domain } from '../seq/domain';
import { writeFileAtomic } from '../store/fsutil';
import { num, plural, type ReportData } from './data';

export const BISECT_FORMAT = 'tdpfuzz-bisect/1';

/** pure: no difference, none declared; declared: every difference seen was declared; declared-not-seen: none seen, some declared (a warning); unexplained: a failure. */
export type StepVerdict = 'pure' | 'declared' | 'declared-not-seen' | 'unexplained';

export interface BisectMode { equiv: Equivalence; domain: Domain }

/** One campaign of a step: a mode of the matrix. */
export interface BisectModeResult extends BisectMode {
  sequences: number;
  /** unexplained findings (open crash files) */
  unexplained: number;
  /** the declared D-ids this mode saw */
  seen: string[];
  /** its campaign report (report.md), relative to the bisect output */
  report: string | null;
}

/** An unexplained divergence of a step, with its minimized reproducer. */
export interface BisectFinding {
  mode: string;
  signature: string;
  message: string;
  crashFile: string | null;
  reproducer: string[];
  minimized: boolean;
  originalOpCount: number;
  firstDivergence: FirstDivergence | null;
  replay: string;
}

export interface BisectStep {
  /** 1-based position in the series */
  index: number;
  id: string;
  title: string;
  /** the step compared against: the previous step's id, or "base" */
  previous: string;
  designs: [string, string];
  declared: string[];
  verdict: StepVerdict;
  line: string;
  /** sequences run over all modes */
  sequences: number;
  seen: string[];
  /** declared and never seen (a warning, not a failure) */
  notSeen: string[];
  modes: BisectModeResult[];
  findings: BisectFinding[];
  note?: string;
}

export interface BisectData {
  format: typeof BISECT_FORMAT;
  toolVersion: string;
  series: { name: string; description: string; source: string; base: string };
  params: {
    seed: number | string; runs: number | null; timeSec: number | null; engine: string; workers: number | null;
    config: VmConfig; matrix: BisectMode[]; minimize: boolean;
  };
  verdict: { clean: boolean; firstDiverging: string | null; unexplained: number; warnings: number; line: string };
  steps: BisectStep[];
  timing: { startedAt: string; finishedAt: string; elapsedSec: number };
}

const modeName = (m: BisectMode): string => `${m.equiv}/${m.domain}`;

/** A step's verdict from its campaigns' reports (one per mode, in matrix order). */
export function judgeStep(
  base: Omit<BisectStep, 'verdict' | 'line' | 'sequences' | 'seen' | 'notSeen' | 'modes' | 'findings'>,
  runs: { mode: BisectMode; report: ReportData; reportPath: string | null }[],
): BisectStep {
  const modes: BisectModeResult[] = runs.map(({ mode, report, reportPath }) => ({
    ...mode, sequences: report.scope.sequences, unexplained: report.verdict.unexplained,
    seen: report.explained.map(e => e.id), report: reportPath,
  }));
  const findings: BisectFinding[] = runs.flatMap(({ mode, report }) => report.findings.filter(f => f.status === 'open').map(f => ({
    mode: modeName(mode), signature: f.signature, message: f.message, crashFile: f.crashFile, reproducer: f.reproducer,
    minimized: f.minimized, originalOpCount: f.originalOpCount, firstDivergence: f.firstDivergence, replay: f.replay,
  })));
  const sequences = modes.reduce((n, m) => n + m.sequences, 0);
  const seen = base.declared.filter(d => modes.some(m => m.seen.includes(d)));
  const notSeen = base.declared.filter(d => !seen.includes(d));
  let verdict: StepVerdict, line: string;
  if (findings.length) {
    const f = findings[0];
    verdict = 'unexplained';
    line = `unexplained divergence (${f.mode}): ${f.message}; reproducer: ${f.reproducer.length} ops${f.minimized ? ' (minimized)' : ''}`
      + `${f.crashFile ? `, ${f.crashFile}` : ''}${findings.length > 1 ? ` (+${findings.length - 1} more)` : ''}`;
  } else if (seen.length) {
    verdict = 'declared';
    line = `behaviour change matched by declared differences ${base.declared.join(', ')} (seen: ${seen.join(', ')})`
      + `${notSeen.length ? `; declared but not seen: ${notSeen.join(', ')}` : ''}`;
  } else if (base.declared.length) {
    verdict = 'declared-not-seen';
    line = `declared but not seen: ${base.declared.join(', ')} (${plural(sequences, 'sequence')}, no difference)`;
  } else {
    verdict = 'pure';
    line = `pure refactor (verified: ${plural(sequences, 'sequence')}, no difference)`;
  }
  return { ...base, verdict, line, sequences, seen, notSeen, modes, findings };
}

/** The overall verdict: the first diverging step named, or the count of each verdict. */
export function bisectVerdict(series: string, steps: readonly BisectStep[]): BisectData['verdict'] {
  const bad = steps.filter(s => s.verdict === 'unexplained');
  const warnings = steps.filter(s => s.notSeen.length).length;
  const first = bad[0] ?? null;
  const count = (v: StepVerdict): number => steps.filter(s => s.verdict === v).length;
  const line = first
    ? `bisect ${series}: first diverging step ${first.index} ${first.id} (${first.title}): ${first.line}`
      + `${bad.length > 1 ? `; ${bad.length - 1} more unexplained step${bad.length > 2 ? 's' : ''}` : ''}`
    : `bisect ${series}: ${plural(steps.length, 'step')}, no unexplained divergence (${count('pure')} pure, ${count('declared')} matched by declared differences`
      + `${warnings ? `, ${plural(warnings, 'warning')}: declared but not seen` : ''})`;
  return { clean: !first, firstDiverging: first?.id ?? null, unexplained: bad.length, warnings, line };
}

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, ch => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[ch]!))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const matrixPhrase = (d: BisectData): string => d.params.matrix.map(modeName).join(', ');

function findingLines(f: BisectFinding): string[] {
  return [`- **${f.mode}** \`${f.signature}\`: ${f.message}`, `  - replay: \`${f.replay}\``,
    `  - reproducer (${f.reproducer.length} ops${f.minimized ? `, minimized from ${f.originalOpCount}` : ''}):`, '',
    '```', ...f.reproducer, '```', ...(f.firstDivergence ? ['', '```diff', f.firstDivergence.stateDiff.trimEnd(), '```'] : []), ''];
}

function renderBisectMarkdown(d: BisectData): string {
  const out = [`# tdpfuzz bisect: ${d.series.name}`, '', `**${d.verdict.line}**`, '',
    `Series ${d.series.source}${d.series.description ? `: ${d.series.description}` : ''}. Base: ${d.series.base}. `
    + `Each step is compared with the one before it; only the differences it declares may explain a divergence. `
    + `Modes: ${matrixPhrase(d)}; seed ${d.params.seed}; budget per step and mode: `
    + `${[d.params.runs !== null ? `${num(d.params.runs)} runs` : '', d.params.timeSec !== null ? `${d.params.timeSec} s` : ''].filter(Boolean).join(', ')}; `
    + `engine ${d.params.engine}; ${d.params.config.geometry} geometry${d.params.config.hugePages ? ', huge pages' : ''}${d.params.config.dpamt ? ', DPAMT' : ''}.`, '',
    '| # | step | title | declared | seen | verdict |', '|---|---|---|---|---|---|'];
  for (const s of d.steps) {
    out.push(`| ${s.index} | ${cell(s.id)} | ${cell(s.title)} | ${s.declared.join(', ') || '–'} | ${s.seen.join(', ') || '–'} | ${cell(s.line)} |`);
  }
  for (const s of d.steps) {
    out.push('', `## ${s.index}. ${s.id}: ${s.title}`, '', `${s.previous} (${s.designs[0]}) → ${s.id} (${s.designs[1]}): **${s.line}**`, '');
    if (s.note) out.push(s.note, '');
    for (const m of s.modes) {
      out.push(`- ${modeName(m)}: ${plural(m.sequences, 'sequence')}, ${m.unexplained} unexplained, seen: ${m.seen.join(', ') || 'none'}${m.report ? ` ([report](${m.report}))` : ''}`);
    }
    if (s.findings.length) out.push('', '### Unexplained divergences', '', ...s.findings.flatMap(findingLines));
  }
  return `${out.join('\n')}\n`;
}

function renderBisectJunit(d: BisectData): string {
  const cases = d.steps.map((s) => {
    const name = xmlEscape(`${s.index} ${s.id}: ${s.title}`);
    const head = `    <testcase classname="tdpfuzz.bisect.${xmlEscape(d.series.name)}" name="${name}" time="0">`;
    if (s.verdict === 'unexplained') {
      const body = s.findings.map(f => [`${f.mode} ${f.signature}: ${f.message}`, `replay: ${f.replay}`, ...f.reproducer].join('\n')).join('\n\n');
      return [head, `      <failure message="${xmlEscape(s.line)}" type="unexplained">${xmlEscape(body)}</failure>`, '    </testcase>'].join('\n');
    }
    return [head, `      <system-out>${xmlEscape(s.line)}</system-out>`, '    </testcase>'].join('\n');
  });
  const failures = d.steps.filter(s => s.verdict === 'unexplained').length;
  return ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tdpfuzz bisect" tests="${d.steps.length}" failures="${failures}">`,
    `  <testsuite name="bisect ${xmlEscape(d.series.name)}" tests="${d.steps.length}" failures="${failures}" errors="0">`,
    ...cases, '  </testsuite>', '</testsuites>', ''].join('\n');
}

const VERDICT_CLASS: Record<StepVerdict, string> = { pure: 'ok', declared: 'ok', 'declared-not-seen': 'warn', unexplained: 'bad' };

function renderBisectHtml(d: BisectData): string {
  const rows = d.steps.map(s => `<tr class="${VERDICT_CLASS[s.verdict]}"><td>${s.index}</td><td>${esc(s.id)}</td><td>${esc(s.title)}</td>`
    + `<td>${esc(s.declared.join(', ') || '–')}</td><td>${esc(s.seen.join(', ') || '–')}</td><td>${num(s.sequences)}</td><td>${esc(s.line)}</td></tr>`);
  const details = d.steps.filter(s => s.findings.length).map(s => `<h2>${s.index}. ${esc(s.id)}: ${esc(s.title)}</h2>`
    + s.findings.map(f => `<h3>${esc(f.mode)}: ${esc(f.signature)}</h3><p>${esc(f.message)}</p><p>replay: <code>${esc(f.replay)}</code></p>`
      + `<pre>${esc(f.reproducer.join('\n'))}</pre>${f.firstDivergence ? `<pre>${esc(f.firstDivergence.stateDiff)}</pre>` : ''}`).join(''));
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tdpfuzz bisect ${esc(d.series.name)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
tr.ok td:last-child{color:#064}tr.warn td:last-child{color:#a60}tr.bad td:last-child{color:#b00;font-weight:bold}pre{background:#f6f6f6;padding:8px;overflow:auto}</style></head>
<body><h1>tdpfuzz bisect: ${esc(d.series.name)}</h1><p><strong>${esc(d.verdict.line)}</strong></p>
<p>Modes: ${esc(matrixPhrase(d))}; seed ${esc(String(d.params.seed))}; base ${esc(d.series.base)}.</p>
<table><thead><tr><th>#</th><th>step</th><th>title</th><th>declared</th><th>seen</th><th>sequences</th><th>verdict</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
${details.join('\n')}
</body></html>
`;
}

export interface BisectPaths { markdown: string; json: string; junit: string; html: string }

/** Write bisect.md, bisect.json, bisect.junit.xml and bisect.html into outDir (atomically). */
export function writeBisectReports(outDir: string, d: BisectData): BisectPaths {
  fs.mkdirSync(outDir, { recursive: true });
  const paths: BisectPaths = {
    markdown: path.join(outDir, 'bisect.md'), json: path.join(outDir, 'bisect.json'),
    junit: path.join(outDir, 'bisect.junit.xml'), html: path.join(outDir, 'bisect.html'),
  };
  writeFileAtomic(paths.markdown, renderBisectMarkdown(d));
  writeFileAtomic(paths.json, `${JSON.stringify(d, null, 2)}\n`);
  writeFileAtomic(paths.junit, renderBisectJunit(d));
  writeFileAtomic(paths.html, renderBisectHtml(d));
  return paths;
}
