// The single-file HTML report (DESIGN §7): the same data as report.json, with the first-divergence
// diffs coloured and a coverage-over-time chart drawn as inline SVG — no scripts, no external files,
// so it can be attached to a bug or opened from a CI artifact as it is.
import { blindSpots, type ReportData, type ReportFinding } from './data';

import type { SeriesPoint } from './stats';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A unified diff with +/- lines coloured. */
function diffBlock(diff: string): string {
  const lines = diff.split('\n').filter(l => !/^=+$/.test(l));
  return `<pre class="diff">${lines.map(l => {
    const cls = l.startsWith('+++') || l.startsWith('---') ? 'hdr' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : '';
    return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
  }).join('\n')}</pre>`;
}

/** Coverage (transition classes) and findings over time, as a small SVG line chart. */
export function coverageChart(series: readonly SeriesPoint[], width = 640, height = 180): string {
  if (series.length < 2) return '<p class="muted">(not enough samples for a chart)</p>';
  const pad = 36;
  const tMax = Math.max(...series.map(p => p.t), 1);
  const cMax = Math.max(...series.map(p => p.coverage), 1);
  const x = (t: number): number => pad + (t / tMax) * (width - 2 * pad);
  const y = (v: number, max: number): number => height - pad + 10 - (v / max) * (height - 2 * pad);
  const line = (key: 'coverage' | 'findings', max: number): string =>
    series.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p[key], max).toFixed(1)}`).join(' ');
  const fMax = Math.max(...series.map(p => p.findings), 1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="coverage over time">
  <rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>
  <line x1="${pad}" y1="${height - pad + 10}" x2="${width - pad}" y2="${height - pad + 10}" stroke="#999"/>
  <line x1="${pad}" y1="${pad - 10}" x2="${pad}" y2="${height - pad + 10}" stroke="#999"/>
  <path d="${line('coverage', cMax)}" fill="none" stroke="#1f6feb" stroke-width="2"/>
  <path d="${line('findings', fMax)}" fill="none" stroke="#d1242f" stroke-width="1.5" stroke-dasharray="4 3"/>
  <text x="${pad}" y="${pad - 16}" font-size="11" fill="#1f6feb">coverage: ${series[series.length - 1].coverage} classes</text>
  <text x="${pad + 200}" y="${pad - 16}" font-size="11" fill="#d1242f">findings: ${series[series.length - 1].findings}</text>
  <text x="${width - pad}" y="${height - 6}" font-size="11" text-anchor="end" fill="#555">${tMax.toFixed(0)} s</text>
  <text x="${pad - 4}" y="${pad - 4}" font-size="10" text-anchor="end" fill="#555">${cMax}</text>
</svg>`;
}

function findingSection(f: ReportFinding, n: number): string {
  const d = f.firstDivergence;
  const sides = d ? `<table class="sides"><tr>${d.sides.map(s => `<th>${esc(s.design)}</th>`).join('')}</tr><tr>${d.sides.map(s =>
    `<td><pre>${esc([`result: ${s.result}`, ...s.seamcalls.map(c => `seamcall ${c}`), ...s.diagnostics.map(x => `diag ${x}`)].join('\n'))}</pre></td>`).join('')}</tr></table>` : '';
  return `<section class="finding ${f.status === 'open' ? 'open' : 'accepted'}">
<h3>${n}. <code>${esc(f.signature)}</code> — ${f.hits} hit${f.hits === 1 ? '' : 's'}${f.status === 'open' ? '' : ` [${esc(f.status)}]`}</h3>
<p>${esc(f.message)}</p>
<p>replay: <code>${esc(f.replay)}</code>${f.crashFile ? ` · crash file <code>${esc(f.crashFile)}</code>` : ''}</p>
<h4>Reproducer (${f.reproducer.length} ops${f.minimized ? `, minimized from ${f.originalOpCount}` : ''})</h4>
<pre>${f.reproducer.map((l, i) => `${i === f.opIndex ? '&gt;&gt;&gt;' : '   '} ${String(i).padStart(3)}  ${esc(l)}`).join('\n')}</pre>
${d ? `<h4>First divergence at op ${d.opIndex} (${esc(d.component)})</h4>${sides}${diffBlock(d.traceDiff)}${diffBlock(d.stateDiff)}` : ''}
</section>`;
}

export function renderHtml(r: ReportData, series: readonly SeriesPoint[] = []): string {
  const s = r.scope;
  const explained = r.explained.map(e => `<tr><td>${esc(e.id)}</td><td>${esc(e.title)}</td><td>${e.sequences}</td><td>${esc(e.reason)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tdpfuzz report: ${esc(s.designs.join(' vs '))}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1f2328;padding:0 1em}
code,pre{font:12px/1.4 ui-monospace,monospace} pre{background:#f6f8fa;padding:.6em;overflow:auto}
.verdict{font-size:1.15em;padding:.6em;border-radius:6px} .clean{background:#dafbe1} .dirty{background:#ffebe9}
.diff .add{color:#116329;background:#dafbe1} .diff .del{color:#82071e;background:#ffebe9} .diff .hunk{color:#8250df} .diff .hdr{color:#57606a}
table{border-collapse:collapse} td,th{border:1px solid #d0d7de;padding:.3em .5em;vertical-align:top;text-align:left}
.sides td{width:50%} .muted{color:#57606a} section.finding{border-top:2px solid #d0d7de;margin-top:1.5em}
</style></head><body>
<h1>tdpfuzz differential report</h1>
<p class="verdict ${r.verdict.clean ? 'clean' : 'dirty'}">${esc(r.verdict.line)}</p>
<h2>Scope</h2>
<ul>
<li>designs: ${esc(s.designs.join(', '))}; equivalence <b>${esc(s.equiv)}</b>; domain <b>${esc(s.domain)}</b></li>
<li>sequences: ${s.sequences.toLocaleString('en-US')} (${s.generated.toLocaleString('en-US')} generated from seed ${esc(String(s.seed))}${s.shard ? `, shard ${s.shard.index}/${s.shard.count}` : ''}; ${s.corpus.files} corpus files); ops: ${s.ops.toLocaleString('en-US')}</li>
<li>geometry ${esc(s.config.geometry)}${s.config.hugePages ? ', huge pages' : ''}${s.config.proveMmu ? ', PROVE_MMU' : ''}${s.config.dpamt ? ', DPAMT' : ''}, ${s.config.vcpus} vCPUs</li>
<li>coverage: ${r.coverage.reached} transition classes; ${r.coverage.expectedReached} of ${r.coverage.expected} expected classes${r.coverage.neverReached.length ? `; never reached: ${r.coverage.neverReached.map(c => `<code>${esc(c)}</code>`).join(', ')}` : ''}</li>
${blindSpots(r.scope).length ? `<li>not exercised (the verdict says nothing about these): ${blindSpots(r.scope).map(esc).join('; ')}</li>` : ''}
</ul>
<h2>Coverage over time</h2>
${coverageChart(series)}
<h2>Findings (${r.findings.length} signature${r.findings.length === 1 ? '' : 's'})</h2>
${r.findings.length ? r.findings.map((f, i) => findingSection(f, i + 1)).join('\n') : '<p>None.</p>'}
<h2>Explained differences</h2>
${explained ? `<table><tr><th>id</th><th>difference</th><th>sequences</th><th>why it is by design</th></tr>${explained}</table>` : '<p>None seen.</p>'}
<h3>Documented, not observable</h3>
<ul>${r.unobservable.map(u => `<li><b>${esc(u.id)}</b> ${esc(u.title)}: ${esc(u.reason)}</li>`).join('')}</ul>
<h2>Throughput <span class="muted">(timing: not deterministic)</span></h2>
<p>${r.timing.execsPerSec.toFixed(0)} sequences/s, ${r.timing.opsPerSec.toFixed(0)} ops/s over ${r.timing.elapsedSec.toFixed(1)} s (stopped by ${esc(r.timing.stoppedBy)}).</p>
</body></html>
`;
}
