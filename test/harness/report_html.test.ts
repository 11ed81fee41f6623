// The single-file HTML report: escapes everything it prints, colours diffs, states the generator and
// budget, marks reproducers, draws the chart inline (its layout in a browser: report_browser.test.ts).
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../harness/report/html';
import { coverageChart, niceStep, ticks } from '../../harness/report/html_chart';
import type { ReportData } from '../../harness/report/data';

const report = {
  format: 'tdpfuzz-report/1', toolVersion: '0.1.0',
  verdict: { clean: false, unexplained: 1, accepted: 0, line: 'VERDICT: 1 unexplained finding in 10 sequences' },
  scope: {
    designs: ['before', 'after<script>'], designSpecs: ['before', 'after'], seed: 1, shard: null, sequences: 10, generated: 10,
    corpus: { dir: null, files: 0, skipped: [] }, ops: 100, equiv: 'state', domain: 'legal',
    config: { geometry: 'compact', hugePages: true, vcpus: 3, dpamt: true }, faultRate: 0.15, raceRate: 0.1, maxOps: 24, profile: 'uniform', hangTimeoutSec: 10,
    budget: { runs: 10, timeSec: 30 },
  },
  coverage: { reached: 3, byFamily: {}, expected: 4, expectedReached: 3, neverReached: ['seam|destroy|TRACK|TDX_OPERAND_BUSY'] },
  findings: [{
    signature: 'divergence|before+after|zap|sept', kind: 'divergence', designs: ['before', 'after'], opKind: 'zap', component: 'sept',
    message: 'diverge <b>', hits: 2, firstSource: { seed: 1, index: 3, engine: 'random' }, status: 'open', crashFile: 'crashes/x.json',
    reproducer: ['finalize', 'zap private [0x5, 0x6)'], originalOpCount: 9, minimized: true, opIndex: 1,
    firstDivergence: {
      opIndex: 1, op: 'zap', prefix: ['finalize'], component: 'sept',
      sides: [{ design: 'before', result: 'flush', seamcalls: ['RANGE.BLOCK(gfn=0x5 level=1) = SUCCESS'], diagnostics: [] },
        { design: 'after', result: 'flush', seamcalls: [], diagnostics: [] }],
      stateDiff: '--- before\n+++ after\n@@ -1,2 +1,2 @@\n-  L1 gfn=0x5 leaf\n+  nothing\n', traceDiff: '',
    },
    replay: 'npx tdpfuzz replay crashes/x.json',
  }],
  buckets: [{ id: 'divergence|before+after|zap|sept', status: 'open', signatures: ['divergence|before+after|zap|sept'], groupedBy: [], hits: 2 }],
  explained: [{ id: 'D4', title: 'extra MMU WARN', reason: 'by design', sequences: 3, signatures: [] }],
  unobservable: [{ id: 'D1', title: 'hook surface', reason: 'same SEAMCALLs' }],
  timing: { startedAt: '', finishedAt: '', elapsedSec: 1.25, execsPerSec: 10, opsPerSec: 100, stoppedBy: 'runs' },
} as unknown as ReportData;

const series = [{ t: 0, execs: 0, ops: 0, coverage: 1, findings: 0 }, { t: 2, execs: 10, ops: 100, coverage: 126, findings: 8 }];

/** The tick values of one chart axis. */
const axisTicks = (svg: string, axis: string): number[] => {
  const g = new RegExp(`<g class="axis" data-axis="${axis}"[^>]*>(.*?)</g>\\s*(<line|<g class="axis"|<text)`, 's').exec(svg);
  return [...(g?.[1] ?? '').matchAll(/class="tick" data-value="([\d.]+)"/g)].map(m => Number(m[1]));
};

describe('renderHtml', () => {
  it('is one self-contained page with the verdict, the finding, coloured diffs and the explained table', () => {
    const html = renderHtml(report, { series, engine: 'guided' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(html).toContain('after&lt;script&gt;');
    expect(html).toContain('diverge &lt;b&gt;');
    expect(html).toContain('<span class="del">-  L1 gfn=0x5 leaf</span>');
    expect(html).toContain('<span class="add">+  nothing</span>');
    expect(html).toContain('&gt;&gt;&gt;   1  zap private [0x5, 0x6)');
    expect(html).toContain('<td>D4</td>');
    expect(html).toContain('<svg');
    expect(html).toContain('transition classes (126 at the end)');
    expect(html).toContain('findings (8 at the end)');
  });

  it('shows a bug of several signatures once, with its members (issue 12 item 3)', () => {
    const f0 = report.findings[0];
    const f1 = { ...f0, signature: 'mirror-sept-mismatch|after|zap|I-publish-after', kind: 'mirror-sept-mismatch', designs: ['after'], component: 'I-publish-after', firstDivergence: null };
    const two = { ...report, findings: [f0, f1],
      buckets: [{ id: f0.signature, status: 'open' as const, signatures: [f0.signature, f1.signature], groupedBy: ['same minimized reproducer' as const], hits: 4 }] };
    const html = renderHtml(two);
    expect(html).toContain('<h2>Findings (1 bug, 2 signatures)</h2>');
    expect(html).toContain('<h3>Bug 1: 2 signatures, one root cause (same minimized reproducer)</h3>');
    expect(html).toMatch(/<h3>1\.1 <code>divergence\|before\+after\|zap\|sept<\/code>/);
    expect(html).toMatch(/<h3>1\.2 <code>mirror-sept-mismatch\|after\|zap\|I-publish-after<\/code>/);
  });

  it('lists the generator parameters and the budget given and spent in the scope', () => {
    const html = renderHtml(report, { series, engine: 'guided' }).replace(/<[^>]+>/g, '');
    for (const kv of ['seed 1', 'engine guided', 'domain legal', 'equivalence state', 'max ops 24', 'vCPUs 3', 'fault rate 0.15',
      'race rate 0.1', 'geometry compact', 'table levels × entries 4 × 8', 'huge pages on', 'PROVE_MMU off', 'DPAMT on', 'hang timeout 10 s']) expect(html).toContain(kv);
    expect(html).toMatch(/runs\s*10\s*10 sequences \(10 generated, 0 corpus files\)/);
    expect(html).toMatch(/time\s*30 s\s*1\.3 s/);
    expect(renderHtml(report).replace(/<[^>]+>/g, '')).toContain('engine not recorded');
  });

  it('marks the teardown line when the finding shows there', () => {
    const f = { ...report.findings[0], opIndex: 2 };
    const html = renderHtml({ ...report, findings: [f] });
    expect(html).toContain('<span class="at">&gt;&gt;&gt;   2  destroy (teardown appended by the runner)</span>');
    expect(html.match(/&gt;&gt;&gt;/g)).toHaveLength(1);
  });

  it('draws findings on their own axis, not on the classes scale, with ticks on every axis', () => {
    const svg = coverageChart(series);
    expect(axisTicks(svg, 'classes')).toEqual([0, 50, 100, 150]);
    expect(axisTicks(svg, 'findings')).toEqual([0, 5, 10]);
    expect(axisTicks(svg, 'x')).toEqual([0, 0.5, 1, 1.5, 2]);
    // each line ends at its own top: 8 findings at 8/10 of the findings panel, 126 classes at 126/150 of the classes one
    const end = (name: string): number => Number(new RegExp(`data-series="${name}" d="[^"]*,([\\d.]+)"`).exec(svg)![1]);
    const yOf = (axis: string, v: number): number => Number(new RegExp(`data-axis="${axis}"[^>]*>.*?data-value="${v}"><line x1="[\\d.]+" y1="([\\d.]+)"`, 's').exec(svg)![1]);
    const at = (axis: string, v: number, top: number): number => yOf(axis, 0) + (v / top) * (yOf(axis, top) - yOf(axis, 0));
    expect(end('findings')).toBeCloseTo(at('findings', 8, 10), 0);
    expect(end('classes')).toBeCloseTo(at('classes', 126, 150), 0);
  });

  it('picks 1/2/5 steps, whole ones for counts', () => {
    expect(niceStep(143, 5, true)).toBe(50);
    expect(niceStep(3, 3, true)).toBe(1);
    expect(niceStep(2.4, 6, false)).toBe(0.5);
    expect(ticks(143, 5, true, true)).toEqual([0, 50, 100, 150]);
    expect(ticks(2.4, 6, false, false)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(ticks(0, 3, true, true)).toEqual([0, 1]);
  });

  it('draws no chart from fewer than two samples', () => {
    expect(coverageChart([])).toContain('not enough samples');
  });
});
