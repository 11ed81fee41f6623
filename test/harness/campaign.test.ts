import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { after, before } from '../../impls/designs';
import { runCampaign, startCampaign, type CampaignOptions, type Minimizer } from '../../harness/fuzz/campaign';
import { readCrashFile } from '../../harness/store/crash_store';
import { withoutTiming, type ReportData } from '../../harness/report/data';
import { renderMarkdown } from '../../harness/report/markdown';
import { SEQUENCE_FORMAT, serializeSequence, makeSequence } from '../../harness/seq/sequence';
import { broken, COMPACT, fixedClock, grace, tmpDir } from './helpers';

const base = (cwd: string, extra: Partial<CampaignOptions> = {}): CampaignOptions => ({
  designs: [before, broken], designSpecs: ['before', 'mutant:broken'], seed: 3, runs: 120, cwd,
  outDir: 'out', crashDir: 'crashes', now: fixedClock(), ...extra,
});

function readReport(dir: string): ReportData {
  return JSON.parse(fs.readFileSync(path.join(dir, 'out', 'report.json'), 'utf8')) as ReportData;
}

describe('runCampaign', () => {
  it('is deterministic: same seed and runs give the same report (timing aside) and crash files', async () => {
    const a = tmpDir('camp'), b = tmpDir('camp');
    // No periodic checkpoint: each one reads the fixed clock, and how many fall inside the run is a
    // matter of wall-clock time (a loaded machine writes more), which would move the crash file's lastSeen.
    const quiet = { statsIntervalMs: 3_600_000 };
    const ra = await runCampaign(base(a, quiet));
    const rb = await runCampaign(base(b, quiet));
    expect(ra.exitCode).toBe(1);
    const ja = readReport(a), jb = readReport(b);
    expect(withoutTiming(ja)).toEqual(withoutTiming(jb));
    expect(ja.timing.stoppedBy).toBe('runs');
    expect(ja.scope.sequences).toBe(120);
    expect(ja.verdict.line).toMatch(/^VERDICT: 1 unexplained bug \(1 signature\) in 120 sequences \([\d,]+ ops\), legal domain, state equivalence, designs before vs broken, seed 3$/);
    expect(ja.findings.map(f => f.signature)).toEqual(['divergence|before+broken|gracePeriod|result']);
    const f = ja.findings[0];
    expect(f.hits).toBeGreaterThan(1);
    expect(f.crashFile).toMatch(/^crashes\/divergence-graceperiod-result-[0-9a-f]{12}\.json$/);
    expect(f.replay).toBe(`npx tdpfuzz replay ${f.crashFile}`);
    // The crash file holds the smallest sequence seen and every hit.
    const crash = readCrashFile(path.join(a, f.crashFile!));
    expect(crash.hits).toBe(f.hits);
    expect(crash.designs).toEqual(['before', 'mutant:broken']);
    expect(crash.ops.map(o => o.kind)).toContain('gracePeriod');
    expect(f.reproducer).toHaveLength(crash.ops.length);
    expect(fs.readFileSync(path.join(a, f.crashFile!), 'utf8')).toBe(fs.readFileSync(path.join(b, f.crashFile!), 'utf8'));
    // Every output exists; no temp files are left behind.
    expect(fs.readdirSync(path.join(a, 'out')).sort()).toEqual(['checkpoint.json', 'report.html', 'report.json', 'report.junit.xml', 'report.md', 'report.txt', 'stats.json']);
    expect(fs.readdirSync(path.join(a, 'crashes'))).toEqual([path.basename(f.crashFile!)]);
    const md = fs.readFileSync(path.join(a, 'out', 'report.md'), 'utf8');
    expect(md).toContain(ja.verdict.line);
    expect(md).toContain('>>>');
    expect(md).toContain('## Throughput (timing, not deterministic)');
    const junit = fs.readFileSync(path.join(a, 'out', 'report.junit.xml'), 'utf8');
    expect(junit).toContain('<failure message="before and broken diverge in result');
    // one bug, one failing case: no second "equivalence" failure next to it
    expect(junit).toMatch(/<testsuites name="tdpfuzz" tests="\d+" failures="1"/);
    expect(junit).not.toContain('tdpfuzz.equivalence');
    const stats = JSON.parse(fs.readFileSync(path.join(a, 'out', 'stats.json'), 'utf8'));
    expect(stats).toMatchObject({ format: 'tdpfuzz-stats/1', done: true, execs: 120, findings: 1 });
    expect(stats.series.length).toBeGreaterThan(0);
  });

  it('reports a clean run with coverage and explained differences', async () => {
    const dir = tmpDir('camp');
    const r = await runCampaign({ designs: [before, after], seed: 1, runs: 150, cwd: dir, outDir: null, crashDir: null });
    expect(r.exitCode).toBe(0);
    expect(r.reportPaths).toBeNull();
    expect(r.report.verdict.line).toMatch(/^VERDICT: no unexplained divergence in 150 sequences/);
    expect(r.report.coverage.reached).toBeGreaterThan(50);
    expect(r.report.coverage.expectedReached).toBeGreaterThan(10);
    expect(r.report.unobservable.map(u => u.id)).toContain('D1');
    expect(fs.readdirSync(dir)).toEqual([]);
    const md = renderMarkdown(r.report);
    expect(md).toContain('## Findings (none)');
    expect(md).toContain('## Unobservable by design');
  });

  it('runs corpus files first, sharded generated indices, and reports sources', async () => {
    const dir = tmpDir('camp');
    fs.mkdirSync(path.join(dir, 'corpus'));
    const seq = makeSequence(COMPACT, [{ kind: 'finalize' }, ...grace(2)]);
    fs.writeFileSync(path.join(dir, 'corpus', 'a-grace.json'), serializeSequence(seq));
    fs.writeFileSync(path.join(dir, 'corpus', 'b-illegal.json'), JSON.stringify({
      format: SEQUENCE_FORMAT, config: COMPACT, ops: [{ kind: 'atomicZap', gfn: 1 }],
    }));
    fs.writeFileSync(path.join(dir, 'corpus', 'notes.txt'), 'ignored');
    const r = await runCampaign(base(dir, { runs: 10, outDir: null }));
    expect(r.report.scope.corpus).toEqual({
      dir: 'corpus', files: 1, skipped: [{ file: 'corpus/b-illegal.json', reason: expect.stringMatching(/^not legal: op 0: atomicZap/) }],
    });
    expect(r.report.scope.generated).toBe(9);
    expect(r.report.findings[0].firstSource).toEqual({ file: 'corpus/a-grace.json' });
    // Shard 1/2: corpus file 1 only (skipped here), generated indices 1, 3, 5, ...
    const s = await runCampaign(base(dir, { runs: 10, shard: { index: 1, count: 2 }, outDir: null, crashDir: null }));
    expect(s.report.scope.corpus.files).toBe(0);
    expect(s.report.scope.corpus.skipped).toHaveLength(1);
    expect(s.report.scope.generated).toBe(10);
    const src = s.report.findings[0].firstSource as { index: number };
    expect(src.index % 2).toBe(1);
    expect(s.report.verdict.line).toMatch(/seed 3 shard 1\/2$/);
  });

  it('calls the minimizer once per new signature and keeps only reductions that reproduce', async () => {
    const dir = tmpDir('camp');
    const calls: number[] = [];
    // Keep the ops up to and including the diverging gracePeriod.
    const minimize: Minimizer = (seq, f, ctx) => {
      calls.push(seq.ops.length);
      expect(ctx.timeLimitMs).toBe(500);
      return { ops: seq.ops.slice(0, f.opIndex + 1).filter((o, i) => i === f.opIndex || o.kind !== 'fault'), stats: { tried: 1 } };
    };
    const r = await runCampaign(base(dir, { minimize, minimizeTimeMs: 500 }));
    expect(calls).toHaveLength(1);
    const f = r.report.findings[0];
    const crash = readCrashFile(path.join(dir, f.crashFile!));
    expect(crash.originalOps.length).toBe(calls[0]);
    expect(crash.ops.length).toBeLessThan(crash.originalOps.length);
    expect(crash.minimization).toMatchObject({ tried: 1, originalOps: calls[0], minimizedOps: crash.ops.length });
    expect(crash.firstDivergence?.opIndex).toBe(crash.ops.length - 1);
    expect(f.minimized).toBe(true);
    expect(renderMarkdown(r.report)).toMatch(/minimized from \d+/);
  });

  it('stops on request: finishes the sequence, writes the report, says why', async () => {
    const dir = tmpDir('camp');
    const h = startCampaign(base(dir, { runs: undefined, timeSec: 60, now: undefined }));
    setTimeout(() => h.stop(), 100);
    const r = await h.done;
    expect(r.report.timing.stoppedBy).toBe('signal');
    expect(r.report.scope.sequences).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dir, 'out', 'report.md'))).toBe(true);
    expect(readReport(dir).scope.sequences).toBe(r.report.scope.sequences);
  });
});
