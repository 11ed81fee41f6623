// Campaign scaling and merging (DESIGN §6): --workers N (worker threads), --shard + tdpfuzz merge,
// run --resume. The random engine's workers must run exactly the sequences one process runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as tsMain, type Io } from '../harness/cli/main';
import { generateSequence } from '../harness/seq/generate';
import { combineShards, workerShard } from '../harness/report/merge';
import type { ReportData } from '../harness/report/data';
import { serializeSequence } from '../harness/seq/sequence';
import { splitRuns } from '../harness/fuzz/workers';
import { buildTree, removeTree } from './build_helper';
import { COMPACT, tmpDir, captureIo as io } from './harness/helpers';

const DESIGNS = 'after,mutant:frees-with-hkid-assigned';
const RUNS = 300;

const readReport = (dir: string): ReportData => JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ReportData;
const readStats = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'stats.json'), 'utf8'));

/** What must not depend on how the work was split. */
function essence(r: ReportData) {
  return {
    sequences: r.scope.sequences, generated: r.scope.generated, ops: r.scope.ops, corpusFiles: r.scope.corpus.files,
    findings: r.findings.map(f => ({ signature: f.signature, hits: f.hits, firstSource: f.firstSource, reproducer: f.reproducer })),
    explained: r.explained.map(e => ({ id: e.id, sequences: e.sequences, signatures: e.signatures.map(s => [s.signature, s.sequences]) })),
    coverage: r.coverage,
    verdict: r.verdict.unexplained,
  };
}

function crashHits(dir: string): Record<string, number> {
  return Object.fromEntries(fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort()
    .map(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { signature: string; hits: number })
    .map(c => [c.signature, c.hits]));
}

describe('work splitting', () => {
  it('worker shards partition the parent shard', () => {
    expect(workerShard(null, 1, 1)).toBeNull();
    expect(workerShard(null, 1, 3)).toEqual({ index: 1, count: 3 });
    expect(workerShard({ index: 1, count: 2 }, 1, 2)).toEqual({ index: 3, count: 4 });
    // Worker w of N in shard i/M runs i + wM (mod MN): together exactly i/M.
    for (const [i, M, N] of [[0, 1, 2], [1, 2, 2], [2, 3, 4]]) {
      const parts = Array.from({ length: N }, (_, w) => workerShard({ index: i, count: M }, w, N));
      expect(combineShards(parts)).toEqual({ shard: M === 1 ? null : { index: i, count: M }, exact: true });
    }
    expect(combineShards([{ index: 0, count: 2 }, { index: 1, count: 2 }])).toEqual({ shard: null, exact: true });
    expect(combineShards([{ index: 0, count: 4 }, { index: 2, count: 4 }])).toEqual({ shard: { index: 0, count: 2 }, exact: true });
    expect(combineShards([{ index: 0, count: 4 }, { index: 1, count: 4 }]).exact).toBe(false);
    expect(combineShards([{ index: 0, count: 2 }, { index: 0, count: 4 }]).exact).toBe(false);
  });

  it('splits a run budget like one campaign spends it: corpus files first, then indices mod N', () => {
    expect(splitRuns(10, 2, [])).toEqual([5, 5]);
    expect(splitRuns(7, 3, [])).toEqual([3, 2, 2]);
    expect(splitRuns(10, 2, [0, 0, 1])).toEqual([2 + 4, 1 + 3]);
    expect(splitRuns(2, 2, [1, 1, 0])).toEqual([0, 2]);
    expect(splitRuns(0, 2, [1])).toEqual([0, 0]);
    // Resumed lanes continue the parent's order: after 51 + 50 (indices 0..100), 99 more are 101..199.
    expect(splitRuns(99, 2, [], [51, 50])).toEqual([49, 50]);
    // Unbalanced lanes (a time budget): the lagging lane catches up first.
    expect(splitRuns(5, 2, [], [10, 4])).toEqual([0, 5]);
    expect(splitRuns(1_000_000_001, 2, [], [3, 3])).toEqual([500_000_001, 500_000_000]);
  });
});

describe('workers, shards, merge, resume', () => {
  let tree = '';
  let work = '';
  let single: ReportData;
  let jsMain: (argv: string[], io: Io) => Promise<number>;

  beforeAll(async () => {
    tree = buildTree('workers');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jsMain = (require(path.join(tree, 'harness/cli/main.js')) as typeof import('../harness/cli/main')).main;
    work = tmpDir('workers');
    fs.mkdirSync(path.join(work, 'corp'));
    for (const i of [0, 1, 2]) {
      fs.writeFileSync(path.join(work, 'corp', `s${i}.json`), serializeSequence(generateSequence(99, i, { config: COMPACT, domain: 'legal' })));
    }
    // The reference: one in-process campaign.
    const o = io(work);
    expect(await tsMain(['run', '--designs', DESIGNS, '--runs', String(RUNS), '--corpus', 'corp', '--no-minimize', '--out', 'single', '--crashes', 'single-crashes'], o)).toBe(1);
    single = readReport(path.join(work, 'single'));
    expect(single.findings.length).toBeGreaterThan(0);
  });
  afterAll(() => { if (tree) removeTree(tree); });

  it('--workers 2 and --workers 1 run the same sequences and find the same findings as one process', async () => {
    const run = async (w: number): Promise<ReportData> => {
      const o = io(work);
      const code = await jsMain(['run', '--designs', DESIGNS, '--runs', String(RUNS), '--corpus', 'corp', '--no-minimize', '--workers', String(w),
        '--out', `w${w}`, '--crashes', `w${w}-crashes`], o);
      expect(code, o.stderr).toBe(1);
      return readReport(path.join(work, `w${w}`));
    };
    const [w1, w2] = [await run(1), await run(2)];
    expect(essence(w1)).toEqual(essence(single));
    expect(essence(w2)).toEqual(essence(single));
    expect(w1.scope.merged).toBeUndefined();
    expect(w2.scope.merged!.parts.map(p => p.shard)).toEqual([{ index: 0, count: 2 }, { index: 1, count: 2 }]);
    expect(w2.scope.shard).toBeNull();
    expect(crashHits(path.join(work, 'w2-crashes'))).toEqual(crashHits(path.join(work, 'single-crashes')));
    const stats = readStats(path.join(work, 'w2'));
    expect(stats).toMatchObject({ format: 'tdpfuzz-stats/1', done: true, execs: RUNS, workers: 2, engine: 'random' });
    // 297 generated indices (3 corpus files ran first): worker 0 gets k = 0, 2, ..., worker 1 k = 1, 3, ...
    expect(stats.lanes.map((l: { generated: number }) => l.generated)).toEqual([149, 148]);
  });

  it('tdpfuzz merge combines two shard outputs into the single run', async () => {
    for (const i of [0, 1]) {
      const o = io(work);
      await tsMain(['run', '--designs', DESIGNS, '--runs', String(RUNS / 2), '--shard', `${i}/2`, '--no-corpus', '--no-minimize',
        '--out', `m${i}`, '--crashes', `m${i}/crashes`], o);
    }
    const ref = io(work);
    await tsMain(['run', '--designs', DESIGNS, '--runs', String(RUNS), '--no-corpus', '--no-minimize', '--out', 'whole', '--crashes', 'whole-crashes'], ref);
    const o = io(work);
    expect(await tsMain(['merge', 'm0', 'm1', '--out', 'merged'], o)).toBe(1);
    expect(o.stdout).toMatch(/^merged 2 outputs/m);
    const merged = readReport(path.join(work, 'merged'));
    const whole = readReport(path.join(work, 'whole'));
    expect(merged.scope.shard).toBeNull();
    const { findings: mf, ...mrest } = essence(merged);
    const { findings: wf, ...wrest } = essence(whole);
    expect(mrest).toEqual(wrest);
    // Same signatures and hits; the reproducer and first source are the smallest/earliest of the parts.
    expect(mf.map(f => [f.signature, f.hits])).toEqual(wf.map(f => [f.signature, f.hits]));
    expect(crashHits(path.join(work, 'merged', 'crashes'))).toEqual(crashHits(path.join(work, 'whole-crashes')));
    for (const f of merged.findings) expect(f.crashFile).toMatch(/^merged\/crashes\//);
    expect(readStats(path.join(work, 'merged'))).toMatchObject({ execs: RUNS, findings: whole.findings.length, shard: null });
    // Merging again rebuilds merged/crashes (hits do not double).
    await tsMain(['merge', 'm0', 'm1', '--out', 'merged'], io(work));
    expect(crashHits(path.join(work, 'merged', 'crashes'))).toEqual(crashHits(path.join(work, 'whole-crashes')));
    // Issue 11 item 2: never delete or overwrite an input. `--out .` would rebuild ./crashes, which
    // holds triaged crash files no merge wrote: refused, nothing touched.
    const triaged = path.join(work, 'crashes');
    fs.mkdirSync(triaged, { recursive: true });
    const mine = fs.readdirSync(path.join(work, 'm0', 'crashes')).find(n => n.endsWith('.json'))!;
    fs.copyFileSync(path.join(work, 'm0', 'crashes', mine), path.join(triaged, 'triaged.json'));
    const before = fs.readFileSync(path.join(triaged, 'triaged.json'), 'utf8');
    const dot = io(work);
    expect(await tsMain(['merge', 'm0', 'm1', '--out', '.'], dot)).toBe(2);
    expect(dot.stderr).toMatch(/^tdpfuzz: --out .*: overlaps the input m0 \(merge into a new directory\)\n$/);
    expect(fs.readFileSync(path.join(triaged, 'triaged.json'), 'utf8')).toBe(before);
    // An output inside an input, or an input's own crash directory as OUT/crashes, is refused too.
    const nested = io(work);
    expect(await tsMain(['merge', 'm0', 'm1', '--out', 'm0/merged'], nested)).toBe(2);
    expect(nested.stderr).toMatch(/^tdpfuzz: --out m0\/merged: overlaps the input m0/);
    expect(fs.existsSync(path.join(work, 'm0', 'merged'))).toBe(false);
    // A new --out whose crashes/ already holds crash files no merge wrote: refused, not emptied.
    fs.mkdirSync(path.join(work, 'fresh', 'crashes'), { recursive: true });
    fs.copyFileSync(path.join(work, 'm0', 'crashes', mine), path.join(work, 'fresh', 'crashes', 'triaged.json'));
    const fresh = io(work);
    expect(await tsMain(['merge', 'm0', 'm1', '--out', 'fresh'], fresh)).toBe(2);
    expect(fresh.stderr).toMatch(/^tdpfuzz: --out fresh: fresh\/crashes already holds 1 crash file that no merge wrote; merge into a new directory, or add to it on purpose with --crashes fresh\/crashes\n$/);
    expect(fs.readFileSync(path.join(work, 'fresh', 'crashes', 'triaged.json'), 'utf8')).toBe(before);
    fs.rmSync(triaged, { recursive: true });
    // Different configurations do not merge.
    await tsMain(['run', '--designs', 'before,after', '--runs', '5', '--no-corpus', '--out', 'other', '--crashes', 'other-crashes'], io(work));
    const bad = io(work);
    expect(await tsMain(['merge', 'm0', 'other', '--out', 'x'], bad)).toBe(2);
    expect(bad.stderr).toMatch(/^tdpfuzz: other: cannot merge with m0: designs differ/);
    // Issue 11 item 3 (in part): a refused merge writes nothing, not even into an explicit --crashes DIR.
    const refused = io(work);
    expect(await tsMain(['merge', 'm0', 'other', '--out', 'y', '--crashes', 'y-crashes'], refused)).toBe(2);
    expect(fs.existsSync(path.join(work, 'y-crashes'))).toBe(false);
    expect(fs.existsSync(path.join(work, 'y'))).toBe(false);
    // Shards that shared one --crashes directory: each crash file is merged once, hits do not double.
    for (const i of [0, 1]) {
      await tsMain(['run', '--designs', DESIGNS, '--runs', String(RUNS / 2), '--shard', `${i}/2`, '--no-corpus', '--no-minimize',
        '--out', `s${i}`, '--crashes', 'shared-crashes'], io(work));
    }
    expect(await tsMain(['merge', 's0', 's1', '--out', 'smerged'], io(work))).toBe(1);
    expect(crashHits(path.join(work, 'smerged', 'crashes'))).toEqual(crashHits(path.join(work, 'shared-crashes')));
    expect(crashHits(path.join(work, 'smerged', 'crashes'))).toEqual(crashHits(path.join(work, 'whole-crashes')));
  });

  it('run --resume continues at the next index and reports both parts as one run', async () => {
    const o1 = io(work);
    await jsMain(['run', '--designs', DESIGNS, '--runs', '120', '--no-corpus', '--no-minimize', '--out', 'res', '--crashes', 'res-crashes'], o1);
    expect(readStats(path.join(work, 'res')).generated).toBe(120);
    const o2 = io(work);
    expect(await jsMain(['run', '--resume', 'res', '--runs', String(RUNS - 120), '--no-minimize', '--crashes', 'res-crashes'], o2)).toBe(1);
    expect(o2.stderr).toContain('resuming res at 120 generated');
    const resumed = readReport(path.join(work, 'res'));
    const whole = readReport(path.join(work, 'whole'));
    const { findings: rf, ...rrest } = essence(resumed);
    const { findings: wf, ...wrest } = essence(whole);
    expect(rrest).toEqual(wrest);
    expect(rf.map(f => [f.signature, f.hits, f.firstSource])).toEqual(wf.map(f => [f.signature, f.hits, f.firstSource]));
    expect(crashHits(path.join(work, 'res-crashes'))).toEqual(crashHits(path.join(work, 'whole-crashes')));
    expect(readStats(path.join(work, 'res'))).toMatchObject({ execs: RUNS, generated: RUNS, lanes: [{ seed: 1, shard: null, generated: RUNS, engine: 'random' }] });
    // The configuration comes from the output directory.
    const bad = io(work);
    expect(await jsMain(['run', '--resume', 'res', '--seed', '3'], bad)).toBe(2);
    expect(bad.stderr.trim()).toBe('tdpfuzz: --seed: cannot be combined with --resume (the configuration is taken from res/stats.json)');
    const bad2 = io(work);
    expect(await jsMain(['run', '--resume', 'nothing-here', '--runs', '1'], bad2)).toBe(2);
    expect(bad2.stderr).toMatch(/^tdpfuzz: --resume: nothing-here\/stats.json: no such file/);
  });

  it('a time budget counts from the start of the run, worker start-up (istanbul for jsfuzz) included (issue 12 item 6)', async () => {
    const o = io(work);
    const t0 = Date.now();
    expect(await jsMain(['run', '--engine', 'jsfuzz', '--time', '2', '--no-corpus', '--no-minimize', '--out', 'budget', '--crashes', 'budget/c'], o)).toBe(0);
    const wall = (Date.now() - t0) / 1000;
    expect(wall).toBeLessThan(2 + 2.5); // the report and the worker's exit; it was 2 + start-up (~6 s for --time 5)
    expect(readReport(path.join(work, 'budget')).scope.budget).toEqual({ runs: null, timeSec: 2 });
  }, 30_000);
});
