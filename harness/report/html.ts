// The single-file HTML report (DESIGN §7): the same data as report.json, with the generator
// parameters and budget in the scope, the reproducers marked at the finding's op, the first-divergence
// diffs coloured and a coverage-over-time chart drawn as inline SVG (html_chart.ts) — no scripts, no
// external files, so it can be attached to a bug or opened from a CI artifact as it is. It reads at
// 800 px without a horizontal scroll: text wraps, and only <pre> blocks scroll, inside their own box
// (checked in a real browser by test/harness/report_browser.test.ts).
import {
  blindSpots, findingsPhrase, modelTimeRows, msPhrase, num, plural, PROFILE_DESCRIPTIONS, reproducerLines, sharePhrase, sourcePhrase,
  type ReportData, type ReportFinding, type ReportScope, type ReportTiming,
} from './data';
import { GEOMETRY_FANOUT, LEVELS } from '../seq/sequence';
import { coverageChart } from './html_chart';
import type { SeriesPoint } from './stats';

/** What the page shows besides the report's data (neither is part of report.json). */
export interface HtmlExtras {
  /** the campaign's stats time series, for the coverage-over-time chart */
  series?: readonly SeriesPoint[];
  /** the engine that generated the sequences (random, guided, jsfuzz); absent: not known (e.g. a merge of older outputs) */
  engine?: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A unified diff with +/- lines coloured; nothing for an empty diff. */
function diffBlock(diff: string): string {
  const lines = diff.split('\n').filter(l => !/^=+$/.test(l));
  if (!lines.some(l => l.trim())) return '';
  return `<pre class="diff">${lines.map(l => {
    const cls = l.startsWith('+++') || l.startsWith('---') ? 'hdr' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : '';
    return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
  }).join('\n')}</pre>`;
}

/** The reproducer as report.md prints it, the `>>>` line (the finding's op, or the appended teardown) highlighted. */
function reproducerBlock(f: ReportFinding): string {
  return `<pre class="repro">${reproducerLines(f).map(l => l.startsWith('>>>') ? `<span class="at">${esc(l)}</span>` : esc(l)).join('\n')}</pre>`;
}

function findingSection(f: ReportFinding, n: number | string): string {
  const d = f.firstDivergence;
  const sides = d ? `<table class="sides"><tr>${d.sides.map(s => `<th>${esc(s.design)}</th>`).join('')}</tr><tr>${d.sides.map(s =>
    `<td><pre>${esc([`result: ${s.result}`, ...s.seamcalls.map(c => `seamcall ${c}`), ...s.diagnostics.map(x => `diag ${x}`)].join('\n'))}</pre></td>`).join('')}</tr></table>` : '';
  return `<section class="finding ${f.status === 'open' ? 'open' : 'accepted'}">
<h3>${typeof n === 'number' ? `${n}.` : n} <code>${esc(f.signature)}</code> — ${plural(f.hits, 'hit')}${f.status === 'open' ? '' : ` [${esc(f.status)}]`}</h3>
<p>${esc(f.message)}</p>
<p>first seen: ${esc(sourcePhrase(f.firstSource))}${f.crashFile ? ` · crash file <code>${esc(f.crashFile)}</code>` : ''}<br>replay: <code>${esc(f.replay)}</code></p>
<h4>Reproducer (${plural(f.reproducer.length, 'op')}${f.minimized ? `, minimized from ${f.originalOpCount}` : ''}; the runner appends the teardown)</h4>
${reproducerBlock(f)}
${d ? `<h4>First divergence at op ${d.opIndex} (${esc(d.op)}), in ${esc(d.component)}</h4>${sides}${diffBlock(d.traceDiff)}${diffBlock(d.stateDiff)}` : ''}
</section>`;
}

/** The findings by bug (report/buckets.ts): a bug of several signatures lists them, then each one. */
function bugSections(r: ReportData): string {
  const bySig = new Map(r.findings.map(f => [f.signature, f]));
  return r.buckets.map((b, i) => {
    const members = b.signatures.map(sig => bySig.get(sig)!);
    if (members.length === 1) return findingSection(members[0], `Bug ${i + 1}:`);
    return `<section class="bug ${b.status}">
<h3>Bug ${i + 1}: ${plural(members.length, 'signature')}, one root cause (${esc(b.groupedBy.join('; '))})${b.status === 'open' ? '' : ' [accepted]'}</h3>
<ul>${members.map((f, k) => `<li>${i + 1}.${k + 1} <code>${esc(f.signature)}</code> — ${plural(f.hits, 'hit')}</li>`).join('')}</ul>
${members.map((f, k) => findingSection(f, `${i + 1}.${k + 1}`)).join('\n')}
</section>`;
  }).join('\n');
}

const onOff = (b: boolean | undefined): string => (b ? 'on' : 'off');

/** The generator parameters: everything that decides which sequences a campaign runs and how they are judged. */
function generatorGrid(s: ReportScope, engine: string | undefined): string {
  const c = s.config;
  const cells: [string, string][] = [
    ['seed', `${s.seed}${s.shard ? ` (shard ${s.shard.index}/${s.shard.count})` : ''}`],
    ['engine', engine ?? 'not recorded'],
    ['domain', s.domain],
    ['equivalence', s.equiv],
    ['max ops', String(s.maxOps)],
    ['vCPUs', String(c.vcpus)],
    ['fault rate', String(s.faultRate)],
    ['race rate', String(s.raceRate)],
    ['geometry', c.geometry],
    ['table levels × entries', `${LEVELS} × ${GEOMETRY_FANOUT[c.geometry]}`],
    ['huge pages', onOff(c.hugePages)],
    ['PROVE_MMU', onOff(c.proveMmu)],
    ['DPAMT', onOff(c.dpamt)],
    ['hang timeout', `${s.hangTimeoutSec} s`],
  ];
  return `<div class="grid">${cells.map(([k, v]) => `<div><span class="muted">${esc(k)}</span> <b>${esc(v)}</b></div>`).join('')}</div>`;
}

/** The run budget as given, and what was spent of it (the time spent is not deterministic). */
function budgetTable(s: ReportScope, t: ReportTiming): string {
  const runs = s.budget.runs === null ? 'none' : num(s.budget.runs);
  const time = s.budget.timeSec === null ? 'none' : `${s.budget.timeSec} s`;
  return `<table class="budget"><tr><th></th><th>given</th><th>spent</th></tr>
<tr><th>runs</th><td>${runs}</td><td>${num(s.sequences)} sequences (${num(s.generated)} generated, ${plural(s.corpus.files, 'corpus file')})</td></tr>
<tr><th>time</th><td>${time}</td><td>${t.elapsedSec.toFixed(1)} s <span class="muted">(not deterministic)</span></td></tr>
<tr><th>ended by</th><td colspan="2">${esc(t.stoppedBy)}</td></tr></table>`;
}

/** "Model time by op kind": ops are deterministic, the model-time and share cells timings. */
function modelTimeTable(r: ReportData): string {
  const rows = modelTimeRows(r);
  if (!rows) return '';
  return `<h3>Model time by op kind (profile: ${esc(r.scope.profile)})</h3>
<table class="model-time"><tr><th>op kind</th><th>ops</th><th>model time</th><th>share</th></tr>
${rows.map(x => `<tr><td>${esc(x.kind)}</td><td>${num(x.ops)}</td><td class="ms">${msPhrase(x.ms)}</td><td class="share">${sharePhrase(x.share)}</td></tr>`).join('\n')}
</table>`;
}

const STYLE = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1f2328;padding:0 1em}
p,li,td,th,h1,h2,h3,h4{overflow-wrap:anywhere}
code,pre{font:12px/1.4 ui-monospace,monospace} pre{background:#f6f8fa;padding:.6em;overflow-x:auto;max-width:100%}
.verdict{font-size:1.15em;padding:.6em;border-radius:6px} .clean{background:#dafbe1} .dirty{background:#ffebe9}
.diff .add{color:#116329;background:#dafbe1} .diff .del{color:#82071e;background:#ffebe9} .diff .hunk{color:#8250df} .diff .hdr{color:#57606a}
.repro .at{background:#fff8c5;font-weight:bold}
table{border-collapse:collapse;max-width:100%} td,th{border:1px solid #d0d7de;padding:.3em .5em;vertical-align:top;text-align:left}
.sides{table-layout:fixed;width:100%} .sides pre{margin:0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(12em,1fr));gap:.2em 1em;margin:.5em 0 1em}
svg.chart{display:block;width:100%;max-width:720px;height:auto}
.muted{color:#57606a} section.finding{border-top:2px solid #d0d7de;margin-top:1.5em} section.bug{border-left:4px solid #d0d7de;padding-left:.6em;margin-top:1.5em} section.bug.open{border-left-color:#cf222e}
`;

export function renderHtml(r: ReportData, extras: HtmlExtras = {}): string {
  const s = r.scope;
  const explained = r.explained.map(e => `<tr><td>${esc(e.id)}</td><td>${esc(e.title)}</td><td>${e.sequences}</td><td>${esc(e.reason)}</td></tr>`).join('');
  const blind = blindSpots(s);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tdpfuzz report: ${esc(s.designs.join(' vs '))}</title>
<style>${STYLE}</style></head><body>
<h1>tdpfuzz differential report</h1>
<p class="verdict ${r.verdict.clean ? 'clean' : 'dirty'}">${esc(r.verdict.line)}</p>
<h2>Scope</h2>
<ul>
<li>designs: ${esc(s.designs.join(', '))}${s.designSpecs.join(',') !== s.designs.join(',') ? ` (given as ${esc(s.designSpecs.join(','))})` : ''}; each compared with ${esc(s.designs[0])} in lockstep</li>
<li>sequences: ${num(s.sequences)} (${num(s.generated)} generated${s.corpus.files ? `, ${plural(s.corpus.files, 'corpus file')} from <code>${esc(s.corpus.dir ?? '')}</code>` : ''}); ops: ${num(s.ops)} (including the teardown the runner appends)</li>
${s.merged ? `<li>merged from ${plural(s.merged.parts.length, 'part')}: ${s.merged.parts.map(p => `${esc(p.from)} (seed ${esc(String(p.seed))}${p.shard ? ` shard ${p.shard.index}/${p.shard.count}` : ''}, ${plural(p.sequences, 'sequence')})`).join('; ')}</li>` : ''}
${s.corpus.skipped.length ? `<li>corpus files skipped: ${s.corpus.skipped.map(x => `<code>${esc(x.file)}</code> (${esc(x.reason)})`).join('; ')}</li>` : ''}
<li>coverage: ${num(r.coverage.reached)} transition classes; ${r.coverage.expectedReached} of ${r.coverage.expected} expected classes${r.coverage.neverReached.length ? `; never reached: ${r.coverage.neverReached.map(c => `<code>${esc(c)}</code>`).join(', ')}` : ''}</li>
${blind.length ? `<li>not exercised (the verdict says nothing about these): ${blind.map(esc).join('; ')}</li>` : ''}
</ul>
<h3>Generator</h3>
<p>profile: <b>${esc(s.profile)}</b> <span class="muted">(${esc(PROFILE_DESCRIPTIONS[s.profile])})</span></p>
${generatorGrid(s, extras.engine)}
<h3>Budget</h3>
${budgetTable(s, r.timing)}
<h2>Coverage over time</h2>
${coverageChart(extras.series ?? [])}
<h2>Findings (${esc(findingsPhrase(r))})</h2>
${r.findings.length ? bugSections(r) : '<p>None.</p>'}
<h2>Explained differences</h2>
${explained ? `<table><tr><th>id</th><th>difference</th><th>sequences</th><th>why it is by design</th></tr>${explained}</table>` : '<p>None seen.</p>'}
<h3>Documented, not observable</h3>
<ul>${r.unobservable.map(u => `<li><b>${esc(u.id)}</b> ${esc(u.title)}: ${esc(u.reason)}</li>`).join('')}</ul>
<h2>Throughput <span class="muted">(timing: not deterministic)</span></h2>
<p>${r.timing.execsPerSec.toFixed(0)} sequences/s, ${r.timing.opsPerSec.toFixed(0)} ops/s over ${r.timing.elapsedSec.toFixed(1)} s (stopped by ${esc(r.timing.stoppedBy)}).</p>
${modelTimeTable(r)}
</body></html>
`;
}
