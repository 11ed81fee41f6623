// The single-file HTML report: escapes everything it prints, colours diffs, draws the chart inline.
import { describe, expect, it } from 'vitest';
import { coverageChart, renderHtml } from '../../harness/report/html';
import type { ReportData } from '../../harness/report/data';

const report = {
  format: 'tdpfuzz-report/1', toolVersion: '0.1.0',
  verdict: { clean: false, unexplained: 1, accepted: 0, line: 'VERDICT: 1 unexplained finding in 10 sequences' },
  scope: {
    designs: ['before', 'after<script>'], designSpecs: ['before', 'after'], seed: 1, shard: null, sequences: 10, generated: 10,
    corpus: { dir: null, files: 0, skipped: [] }, ops: 100, equiv: 'state', domain: 'legal',
    config: { geometry: 'compact', hugePages: false, vcpus: 2 }, faultRate: 0.15, raceRate: 0.1, maxOps: 24,
    budget: { runs: 10, timeSec: null },
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
  explained: [{ id: 'D4', title: 'extra MMU WARN', reason: 'by design', sequences: 3, signatures: [] }],
  unobservable: [{ id: 'D1', title: 'hook surface', reason: 'same SEAMCALLs' }],
  timing: { startedAt: '', finishedAt: '', elapsedSec: 1, execsPerSec: 10, opsPerSec: 100, stoppedBy: 'runs' },
} as unknown as ReportData;

describe('renderHtml', () => {
  it('is one self-contained page with the verdict, the finding, coloured diffs and the explained table', () => {
    const html = renderHtml(report, [{ t: 0, execs: 0, ops: 0, coverage: 1, findings: 0 }, { t: 2, execs: 10, ops: 100, coverage: 3, findings: 1 }]);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(html).toContain('after&lt;script&gt;');
    expect(html).toContain('diverge &lt;b&gt;');
    expect(html).toContain('<span class="del">-  L1 gfn=0x5 leaf</span>');
    expect(html).toContain('<span class="add">+  nothing</span>');
    expect(html).toContain('&gt;&gt;&gt;   1  zap private [0x5, 0x6)');
    expect(html).toContain('<td>D4</td>');
    expect(html).toContain('<svg');
    expect(html).toContain('coverage: 3 classes');
  });

  it('draws no chart from fewer than two samples', () => {
    expect(coverageChart([])).toContain('not enough samples');
  });
});
