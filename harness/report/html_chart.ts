// The HTML report's coverage-over-time chart, as inline SVG (no script): transition classes and
// findings in two panels over one time axis, each panel with its own labelled y axis — a campaign's
// 8 findings and its 126 classes do not share a scale (issue 12 item 9). The x axis is in seconds,
// each tick also labelled with the sequences run by then. Axes, ticks and lines carry data-*
// attributes so that the browser test can read the plot's geometry back (test/harness/report_browser.test.ts).
import { num } from './data';
import type { SeriesPoint } from './stats';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A 1/2/5 × 10^k step giving at most about `target` intervals over [0, max]; at least 1 for counts. */
export function niceStep(max: number, target: number, integer: boolean): number {
  const raw = Math.max(max, integer ? 1 : 1e-9) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw * (1 - 1e-9)) ?? 10 * mag;
  return integer ? Math.max(1, Math.round(step)) : step;
}

/** Tick values 0, step, … up to max (and the first step at or above max when `cover`: a y axis spans its data). */
export function ticks(max: number, target: number, integer: boolean, cover: boolean): number[] {
  const step = niceStep(max, target, integer);
  const n = cover ? Math.max(1, Math.ceil(max / step - 1e-9)) : Math.floor(max / step + 1e-9);
  return Array.from({ length: n + 1 }, (_, k) => Number((k * step).toPrecision(12)));
}

/** A tick label with as many decimals as its step needs (0.5 s, 1 s, 2.5 s …). */
function tickLabel(v: number, values: readonly number[]): string {
  const step = values.length > 1 ? values[1] - values[0] : 1;
  const decimals = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step) - 1e-9));
  return decimals ? v.toFixed(decimals) : num(v);
}

/** Sequences run by time t, linearly interpolated between samples. */
function execsAt(series: readonly SeriesPoint[], t: number): number {
  let prev = series[0];
  for (const p of series) {
    if (p.t >= t) {
      if (p.t === prev.t) return p.execs;
      return Math.round(prev.execs + ((t - prev.t) / (p.t - prev.t)) * (p.execs - prev.execs));
    }
    prev = p;
  }
  return prev.execs;
}

const W = 720;
const LEFT = 72;
const RIGHT = 24;
const TOP = 28;
const CLASSES_H = 130;
const GAP = 40;
const FINDINGS_H = 60;
const BOTTOM = 52;
const H = TOP + CLASSES_H + GAP + FINDINGS_H + BOTTOM;

interface Panel { key: 'coverage' | 'findings'; axis: string; title: string; colour: string; top: number; height: number }

/** Coverage (transition classes) and findings over time: two panels sharing the x axis. */
export function coverageChart(series: readonly SeriesPoint[]): string {
  if (series.length < 2) return '<p class="muted">(not enough samples for a chart)</p>';
  const last = series[series.length - 1];
  const tMax = Math.max(...series.map(p => p.t)) || 1;
  const x = (t: number): number => LEFT + (t / tMax) * (W - LEFT - RIGHT);
  const xTicks = ticks(tMax, 6, false, false);
  const panels: Panel[] = [
    { key: 'coverage', axis: 'classes', title: `transition classes (${num(last.coverage)} at the end)`, colour: '#1f6feb', top: TOP, height: CLASSES_H },
    { key: 'findings', axis: 'findings', title: `findings (${num(last.findings)} at the end)`, colour: '#d1242f', top: TOP + CLASSES_H + GAP, height: FINDINGS_H },
  ];
  const bottom = panels[1].top + panels[1].height;
  const grid = xTicks.map(t => `<line x1="${x(t).toFixed(1)}" y1="${TOP}" x2="${x(t).toFixed(1)}" y2="${bottom}" stroke="#eaeef2"/>`).join('');

  const panel = (p: Panel): string => {
    const vMax = Math.max(...series.map(s => s[p.key]), 1);
    const yTicks = ticks(vMax, p.height >= 100 ? 5 : 3, true, true);
    const top = yTicks[yTicks.length - 1];
    const y = (v: number): number => p.top + p.height - (v / top) * p.height;
    const d = series.map((s, i) => `${i ? 'L' : 'M'}${x(s.t).toFixed(1)},${y(s[p.key]).toFixed(1)}`).join(' ');
    const tickMarks = yTicks.map(v => `<g class="tick" data-value="${v}"><line x1="${LEFT - 5}" y1="${y(v).toFixed(1)}" x2="${W - RIGHT}" y2="${y(v).toFixed(1)}" stroke="${v ? '#eaeef2' : '#8c959f'}"/>`
      + `<text x="${LEFT - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${tickLabel(v, yTicks)}</text></g>`).join('');
    return `<g class="axis" data-axis="${p.axis}" font-size="11" fill="#57606a">${tickMarks}</g>
  <line x1="${LEFT}" y1="${p.top}" x2="${LEFT}" y2="${p.top + p.height}" stroke="#8c959f"/>
  <text x="${LEFT}" y="${p.top - 8}" font-size="12" fill="${p.colour}">${esc(p.title)}</text>
  <path class="series" data-series="${p.axis}" d="${d}" fill="none" stroke="${p.colour}" stroke-width="2"/>`;
  };

  const xMarks = xTicks.map(t => `<g class="tick" data-value="${t}"><line x1="${x(t).toFixed(1)}" y1="${bottom}" x2="${x(t).toFixed(1)}" y2="${bottom + 5}" stroke="#8c959f"/>`
    + `<text x="${x(t).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${tickLabel(t, xTicks)}</text>`
    + `<text class="seq" x="${x(t).toFixed(1)}" y="${bottom + 32}" text-anchor="middle">${num(execsAt(series, t))}</text></g>`).join('');
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="transition classes and findings over time">
  <rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>
  ${grid}
  ${panels.map(panel).join('\n  ')}
  <g class="axis" data-axis="x" font-size="11" fill="#57606a">${xMarks}</g>
  <text x="${LEFT - 8}" y="${bottom + 18}" font-size="11" text-anchor="end" fill="#57606a">s</text>
  <text x="${LEFT - 8}" y="${bottom + 32}" font-size="11" text-anchor="end" fill="#57606a">sequences</text>
  <text x="${(LEFT + W - RIGHT) / 2}" y="${H - 4}" font-size="11" text-anchor="middle" fill="#57606a">time since the start (s), with the sequences run by then</text>
</svg>`;
}
