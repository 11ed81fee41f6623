// The HTML report in a real browser (issue 12 item 9): a campaign with findings writes its
// report.html, and headless Chromium (Debian's package; .ci/run installs it) renders it at an 800 px
// wide window. In the browser: no horizontal scroll, only <pre> blocks scroll, the chart's three
// axes have ticks and each line ends at its own final value read off its own axis (findings are not
// drawn on the classes' scale), the reproducers carry the `>>>` line, no resource is loaded, no
// console message or error. In the screenshot (decoded with test/harness/png.ts): 800 px wide, not
// blank, the verdict band, and the classes line above the findings line inside the chart's box. The
// probe (a script appended to a copy of the page) hands its measurements back through --dump-dom.
// Without /usr/bin/chromium the tests are skipped with a note.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { before } from '../../impls/designs';
import { MUTANTS } from '../../impls/mutants/catalogue';
import { runCampaign } from '../../harness/fuzz/campaign';
import type { ReportData } from '../../harness/report/data';
import { decodePng, type Image } from './png';
import { COMPACT, fixedClock, tmpDir } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`report_browser.test.ts: SKIPPED: ${CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)`);

const WIDTH = 800;
const HEIGHT = 2200;

/** One headless Chromium run on a file, in a fresh profile, bounded; its stdout and its console lines. */
function chromium(file: string, extra: string[]): { stdout: string; console: string[] } {
  const profile = tmpDir('chromium-profile');
  const r = spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, `--window-size=${WIDTH},${HEIGHT}`,
    '--force-device-scale-factor=1', '--enable-logging=stderr', '--v=0', ...extra, `file://${file}`,
  ], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) throw new Error(`chromium ${extra.join(' ')}: ${r.error?.message ?? `exit ${r.status}`}\n${r.stderr}`);
  // Chromium logs every console message (and uncaught error) of the page as a CONSOLE line.
  return { stdout: r.stdout, console: r.stderr.split('\n').filter(l => /:CONSOLE[:(\]]/.test(l)) };
}

// Installed first in <head>: collects errors and console.error calls (the report has no script of its own).
const CATCHER = `<script>window.__errors=[];addEventListener('error',e=>__errors.push(String(e.message)));`
  + `console.error=(...a)=>__errors.push(a.join(' '));</script>`;

// Run at the end of <body>, when the page is parsed and styled: the measurements, as JSON in a hidden <pre>.
const PROBE = `<script>(() => {
  const de = document.documentElement;
  const centre = r => ({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
  const axes = {};
  for (const g of document.querySelectorAll('svg.chart [data-axis]')) {
    axes[g.dataset.axis] = [...g.querySelectorAll('.tick')].map(t => ({
      value: Number(t.dataset.value), label: t.querySelector('text').textContent, ...centre(t.querySelector('line').getBoundingClientRect()),
    }));
  }
  const series = {};
  for (const p of document.querySelectorAll('svg.chart path.series')) {
    const m = p.getScreenCTM(), q = p.getPointAtLength(p.getTotalLength());
    series[p.dataset.series] = { x: m.a * q.x + m.c * q.y + m.e, y: m.b * q.x + m.d * q.y + m.f };
  }
  const inPre = e => e.closest('pre') && e.closest('pre') !== e;
  const wide = [...document.body.querySelectorAll('*')].filter(e => !inPre(e) && e.getBoundingClientRect().right > de.clientWidth + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className : ''));
  const chart = document.querySelector('svg.chart');
  const box = chart ? chart.getBoundingClientRect() : null;
  const verdict = document.querySelector('.verdict').getBoundingClientRect();
  const out = {
    scrollWidth: de.scrollWidth, clientWidth: de.clientWidth, wide, axes, series,
    chart: box && { left: box.left, top: box.top, right: box.right, bottom: box.bottom },
    verdict: { top: verdict.top, bottom: verdict.bottom },
    preOverflow: [...document.querySelectorAll('pre')].map(p => getComputedStyle(p).overflowX),
    repro: [...document.querySelectorAll('pre.repro')].map(p => p.textContent),
    resources: performance.getEntriesByType('resource').map(e => e.name),
    errors: window.__errors,
  };
  const el = document.createElement('pre');
  el.id = 'tdpfuzz-probe'; el.hidden = true; el.textContent = JSON.stringify(out);
  document.body.append(el);
})();</script>`;

interface Tick { value: number; label: string; x: number; y: number }
interface Probe {
  scrollWidth: number; clientWidth: number; wide: string[];
  axes: Record<string, Tick[]>; series: Record<string, { x: number; y: number }>;
  chart: { left: number; top: number; right: number; bottom: number } | null;
  verdict: { top: number; bottom: number };
  preOverflow: string[]; repro: string[]; resources: string[]; errors: string[];
}

/** The page in the browser, measured by the probe (inserted into a copy, with `inject` before it). */
function probe(html: string, inject = ''): { probe: Probe; console: string[] } {
  const file = path.join(tmpDir('probe'), 'report.html');
  fs.writeFileSync(file, html.replace('<head>', `<head>${CATCHER}`).replace('</body>', `${inject}${PROBE}</body>`));
  const r = chromium(file, ['--dump-dom']);
  const m = /<pre id="tdpfuzz-probe" hidden="">([^<]*)<\/pre>/.exec(r.stdout);
  if (!m) throw new Error(`no probe output in the dumped DOM:\n${r.stdout.slice(-2000)}`);
  const json = m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return { probe: JSON.parse(json) as Probe, console: r.console };
}

/** The value at screen position `pos` on an axis, from its first and last ticks (linear). */
function valueAt(ticks: readonly Tick[], pos: number, coord: 'x' | 'y'): number {
  const a = ticks[0], b = ticks[ticks.length - 1];
  return a.value + ((pos - a[coord]) / (b[coord] - a[coord])) * (b.value - a.value);
}

const near = (px: Image, x: number, y: number, [r, g, b]: readonly number[], tol = 40): boolean => {
  const i = (y * px.width + x) * 3;
  return Math.abs(px.rgb[i] - r) + Math.abs(px.rgb[i + 1] - g) + Math.abs(px.rgb[i + 2] - b) <= tol;
};

describe.skipIf(!HAVE_CHROMIUM)('report.html in headless Chromium at 800 px', () => {
  // before vs a seeded bug: findings, some of which show at the appended teardown (a leak), and a
  // stepped clock so that the chart gets a series of many samples in a short test.
  // (run once, on first use: a skipped suite runs nothing)
  let campaign: Promise<{ html: string; report: ReportData; file: string }> | null = null;
  const reportHtml = (): Promise<{ html: string; report: ReportData; file: string }> => (campaign ??= (async () => {
    const cwd = tmpDir('browser');
    let ms = 0;
    const { report } = await runCampaign({
      designs: [before, MUTANTS.find(m => m.id === 'retry-free-skips-external')!.design], designSpecs: ['before', 'mutant:retry-free-skips-external'],
      seed: 5, runs: 1500, config: COMPACT, cwd, outDir: 'out', crashDir: 'crashes', corpusDir: null, now: fixedClock(), clock: () => (ms += 0.4),
    });
    const file = path.join(cwd, 'out', 'report.html');
    return { html: fs.readFileSync(file, 'utf8'), report, file };
  })());
  // The unmodified page's measurements, shared by the tests below (one browser run).
  let measured: { probe: Probe; console: string[] } | null = null;
  const cleanProbe = async (): Promise<{ probe: Probe; console: string[] }> => (measured ??= probe((await reportHtml()).html));

  it('has no horizontal scroll, console message, error or loaded resource; only <pre> blocks scroll', async () => {
    const { report } = await reportHtml();
    expect(report.findings.length).toBeGreaterThan(1);
    const { probe: p, console } = await cleanProbe();
    expect(console).toEqual([]);
    expect(p.errors).toEqual([]);
    expect(p.resources).toEqual([]);
    expect(p.wide).toEqual([]);
    expect(p.scrollWidth).toBeLessThanOrEqual(p.clientWidth);
    expect(p.clientWidth).toBeLessThanOrEqual(WIDTH);
    expect(p.preOverflow.length).toBeGreaterThan(0);
    expect(new Set(p.preOverflow)).toEqual(new Set(['auto']));
  }, 120_000);

  it('draws classes and findings on their own labelled axes, each line ending at its final value', async () => {
    const { report } = await reportHtml();
    const { probe: p } = await cleanProbe();
    for (const axis of ['x', 'classes', 'findings']) {
      const ticks = p.axes[axis];
      expect(ticks.length, axis).toBeGreaterThanOrEqual(3);
      expect(ticks.map(t => Number(t.label.replace(/,/g, ''))), axis).toEqual(ticks.map(t => t.value));
      // evenly spaced along the axis, values growing rightwards (x) or upwards (y)
      const coord = axis === 'x' ? 'x' : 'y';
      const gaps = ticks.slice(1).map((t, i) => t[coord] - ticks[i][coord]);
      for (const g of gaps) expect(Math.abs(g - gaps[0]), axis).toBeLessThan(1);
      expect(axis === 'x' ? gaps[0] > 0 : gaps[0] < 0, axis).toBe(true);
    }
    const classes = report.coverage.reached;
    const findings = report.findings.length;
    expect(valueAt(p.axes.classes, p.series.classes.y, 'y')).toBeCloseTo(classes, 0);
    expect(valueAt(p.axes.findings, p.series.findings.y, 'y')).toBeCloseTo(findings, 0);
    // the findings axis is scaled to the findings, not to the classes
    const top = (axis: string): number => p.axes[axis][p.axes[axis].length - 1].value;
    expect(top('findings')).toBeLessThan(2 * Math.max(findings, 5));
    expect(top('classes')).toBeGreaterThanOrEqual(classes);
    // both lines end at the end of the time axis, right of its last tick
    expect(p.series.findings.x).toBeCloseTo(p.series.classes.x, 0);
    expect(p.series.classes.x).toBeGreaterThanOrEqual(p.axes.x[p.axes.x.length - 1].x - 0.5);
  }, 120_000);

  it('marks each reproducer at the finding\'s op, the appended teardown included', async () => {
    const { report } = await reportHtml();
    const { probe: p } = await cleanProbe();
    expect(p.repro).toHaveLength(report.findings.length);
    report.findings.forEach((f, i) => {
      const marked = p.repro[i].split('\n').filter(l => l.startsWith('>>>'));
      expect(marked, f.signature).toHaveLength(1);
      expect(marked[0], f.signature).toMatch(new RegExp(`^>>> +${f.opIndex}  `));
    });
    const atTeardown = report.findings.filter(f => f.opIndex >= f.reproducer.length);
    expect(atTeardown.length).toBeGreaterThan(0);
    for (const f of atTeardown) expect(p.repro[report.findings.indexOf(f)]).toContain('destroy (teardown appended by the runner)');
  }, 120_000);

  it('renders a screenshot 800 px wide with the verdict band and the two panels in the chart', async () => {
    const { file } = await reportHtml();
    const { probe: p } = await cleanProbe();
    const shot = path.join(tmpDir('shot'), 'shot.png');
    const { console } = chromium(file, [`--screenshot=${shot}`]);
    expect(console).toEqual([]);
    const img = decodePng(fs.readFileSync(shot));
    expect([img.width, img.height]).toEqual([WIDTH, HEIGHT]);
    // not blank: many rows have ink, and more than a handful of colours
    const white = [255, 255, 255];
    let inked = 0;
    const colours = new Set<number>();
    for (let y = 0; y < img.height; y++) {
      let ink = false;
      for (let x = 0; x < img.width - 20; x += 2) {
        const i = (y * img.width + x) * 3;
        colours.add((img.rgb[i] << 16) | (img.rgb[i + 1] << 8) | img.rgb[i + 2]);
        if (!near(img, x, y, white, 30)) ink = true;
      }
      if (ink) inked++;
    }
    expect(inked).toBeGreaterThan(img.height / 3);
    expect(colours.size).toBeGreaterThan(20);
    // the verdict's red band spans most of the width where the browser put it
    const vy = Math.round((p.verdict.top + p.verdict.bottom) / 2);
    let band = 0;
    for (let x = 0; x < img.width; x++) if (near(img, x, vy, [0xff, 0xeb, 0xe9], 12)) band++;
    expect(band).toBeGreaterThan(img.width * 0.6);
    // inside the chart's box: the blue classes ink lies wholly above the red findings ink
    const c = p.chart!;
    expect(c.bottom).toBeLessThan(HEIGHT);
    const blue: number[] = [], red: number[] = [];
    for (let y = Math.ceil(c.top); y < Math.floor(c.bottom); y++) {
      for (let x = Math.ceil(c.left); x < Math.floor(c.right); x++) {
        if (near(img, x, y, [0x1f, 0x6f, 0xeb])) blue.push(y);
        if (near(img, x, y, [0xd1, 0x24, 0x2f])) red.push(y);
      }
    }
    expect(blue.length).toBeGreaterThan(100);
    expect(red.length).toBeGreaterThan(100);
    expect(Math.max(...blue)).toBeLessThan(Math.min(...red));
  }, 120_000);

  it('the probe catches a broken page: a wide element and a script error', async () => {
    const { html } = await reportHtml();
    const { probe: p, console } = probe(html, '<div style="width:1200px">wide</div><script>null.f()</script>');
    expect(p.scrollWidth).toBeGreaterThan(WIDTH);
    expect(p.wide).toContain('div');
    expect(p.errors.join('\n')).toMatch(/null/);
    expect(console.join('\n')).toMatch(/Uncaught TypeError/);
  }, 120_000);
});
