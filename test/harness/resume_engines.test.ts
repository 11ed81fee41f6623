// Issue 14 item 6: `run --resume` for every engine. Random resumes exactly (sigkill_resume.test.ts);
// guided and jsfuzz resume from what they kept (OUT/corpus, OUT/corpus/bytes): the resumed part
// re-runs it first (rebuilding the engine's corpus and coverage) and draws on a stream of its own, so
// nothing found is lost, the run goes on where it stopped, and a resume is deterministic for a given
// checkpoint.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { after, before } from '../../impls/designs';
import { guidedEngine } from '../../harness/fuzz/engines/guided';
import { generatorOptions, DEFAULT_PARAMS } from '../../harness/run/campaign_params';
import type { ReportData } from '../../harness/report/data';
import { withoutTiming } from '../../harness/report/data';
import { buildTree, removeTree } from '../build_helper';
import { COMPACT, tmpDir } from './helpers';

const MUTANT = 'before,mutant:misses-leaf-zap-propagation';
const readJson = <T>(f: string): T => JSON.parse(fs.readFileSync(f, 'utf8')) as T;

describe('guided engine, resumed', () => {
  it('starts from the kept corpus at resumeAt, on a stream of its own', () => {
    const dir = tmpDir('guided-resume');
    const gen = generatorOptions({ ...DEFAULT_PARAMS, config: COMPACT });
    const ctx = { seed: 5, shard: null, gen, designs: [before, after], equiv: 'state' as const, domain: 'legal' as const, corpusOut: dir };
    const first = guidedEngine(ctx);
    // keep a few: feed back results with fresh coverage classes
    for (let k = 0; k < 4; k++) {
      const item = first.next(k);
      first.feedback(item, { findings: [], explained: [], ops: item.seq.ops, teardownAppended: true, coverage: new Set([`c${k}`]) } as never);
    }
    const kept = fs.readdirSync(dir).filter(n => n.endsWith('.json')).sort();
    expect(kept).toHaveLength(4);
    const keptOps = kept.map(n => JSON.stringify(readJson<{ ops: unknown }>(path.join(dir, n)).ops));
    const resumed = guidedEngine({ ...ctx, resumeAt: 4 });
    const again = [4, 5, 6, 7].map(k => resumed.next(k));
    expect(again.map(x => JSON.stringify(x.seq.ops))).toEqual(keptOps);
    expect(again.map(x => x.source)).toEqual([4, 5, 6, 7].map(index => ({ seed: 5, index, engine: 'guided' })));
    // after the kept ones: its own random seeds, not the first run's
    const fresh = JSON.stringify(resumed.next(8).seq.ops);
    expect([0, 1, 2, 3].map(k => JSON.stringify(guidedEngine({ ...ctx, corpusOut: null }).next(k).seq.ops))).not.toContain(fresh);
  });
});

describe('run --resume, guided and jsfuzz', () => {
  let tree = '';
  beforeAll(() => { tree = buildTree('resume-engines'); });
  afterAll(() => { if (tree) removeTree(tree); });
  const cli = (cwd: string, args: string[]) => spawnSync(process.execPath, [path.join(tree, 'harness', 'cli', 'main.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

  for (const engine of ['guided', 'jsfuzz']) {
    it(`${engine}: a stopped run continues; nothing found is lost; the same checkpoint resumes the same way`, () => {
      const work = tmpDir(`resume-${engine}`);
      expect(cli(work, ['run', '--engine', engine, '--designs', MUTANT, '--runs', '200', '--no-corpus', '--out', 'a']).status).toBe(1);
      const first = readJson<ReportData>(path.join(work, 'a', 'report.json'));
      const keptDir = engine === 'guided' ? path.join(work, 'a', 'corpus') : path.join(work, 'a', 'corpus', 'bytes');
      const kept = fs.readdirSync(keptDir).sort();
      expect(kept.length).toBeGreaterThan(3);
      fs.cpSync(path.join(work, 'a'), path.join(work, 'b'), { recursive: true });
      const ra = cli(work, ['run', '--resume', 'a', '--runs', '200']);
      expect(ra.stderr).not.toMatch(/only the random engine/);
      expect(ra.status).toBe(1);
      const r = readJson<ReportData>(path.join(work, 'a', 'report.json'));
      expect(r.scope.sequences).toBe(400);
      expect(r.scope.merged!.parts.map(p => p.sequences)).toEqual([200, 200]);
      for (const f of first.findings) expect(r.findings.map(x => x.signature)).toContain(f.signature);
      for (const f of first.findings) expect(fs.existsSync(path.join(work, f.crashFile!))).toBe(true);
      const stats = readJson<{ lanes: { engine: string; generated: number }[] }>(path.join(work, 'a', 'stats.json'));
      expect(stats.lanes.map(l => [l.engine, l.generated])).toEqual([[engine, 400]]);
      // what it kept before is all still there
      for (const n of kept) expect(fs.existsSync(path.join(keptDir, n))).toBe(true);
      // the copy resumes to the same report (timings aside)
      expect(cli(work, ['run', '--resume', 'b', '--runs', '200']).status).toBe(1);
      const rb = readJson<ReportData>(path.join(work, 'b', 'report.json'));
      const norm = (x: ReportData) => JSON.stringify(withoutTiming(x)).replaceAll('"b/', '"a/').replaceAll('b/crashes', 'a/crashes').replaceAll('"from":"b"', '"from":"a"');
      expect(norm(rb)).toBe(norm(r));
    }, 120_000);
  }

  it('guided, SIGKILLed after its first finding: the resumed run has everything the checkpoint had', async () => {
    const work = tmpDir('resume-guided-kill');
    const child = spawn(process.execPath, [path.join(tree, 'harness', 'cli', 'main.js'), 'run', '--engine', 'guided', '--designs', MUTANT,
      '--time', '60', '--no-corpus', '--out', 'k', '--checkpoint-every', '0.2'], { cwd: work, stdio: 'ignore' });
    const cp = path.join(work, 'k', 'checkpoint.json');
    const deadline = Date.now() + 40_000;
    let seen: ReportData | null = null;
    while (Date.now() < deadline) {
      try { seen = readJson<{ report: ReportData }>(cp).report; } catch { seen = null; }
      if (seen && seen.findings.length >= 2 && seen.scope.sequences > 50) break;
      await new Promise(res => setTimeout(res, 100));
    }
    child.kill('SIGKILL');
    await new Promise(res => child.once('exit', res));
    expect(seen?.findings.length).toBeGreaterThanOrEqual(2);
    const atKill = readJson<{ report: ReportData }>(cp).report;
    const r = cli(work, ['run', '--resume', 'k', '--runs', '100']);
    expect(r.status, r.stderr).toBe(1);
    const final = readJson<ReportData>(path.join(work, 'k', 'report.json'));
    expect(final.scope.sequences).toBe(atKill.scope.sequences + 100);
    for (const f of atKill.findings) {
      expect(final.findings.map(x => x.signature)).toContain(f.signature);
      expect(final.findings.find(x => x.signature === f.signature)!.hits).toBeGreaterThanOrEqual(f.hits);
    }
  }, 120_000);
});
