// Issue 14 items 5 and 7: `tdpfuzz status DIR...` shows each campaign and each worker of a live
// --workers run (alive / stale / done), with the fleet total; stats.json carries what long campaigns
// read: last new coverage, time to first finding, the findings per bug bucket, and stability.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Design } from '../../impls/api';
import { after } from '../../impls/designs';
import { main } from '../../harness/cli/main';
import { runCampaign } from '../../harness/fuzz/campaign';
import { fleetStatus } from '../../harness/report/fleet_status';
import type { ReportData } from '../../harness/report/data';
import type { StatsFile } from '../../harness/report/stats';
import { buildTree, removeTree } from '../build_helper';
import { captureIo as io, ROOT, tmpDir, treeSnapshot } from './helpers';

// a mutant whose one bug shows as several signatures (examples/*.js need a build: not in a fresh clone's npm test)
const readJson = <T>(f: string): T => JSON.parse(fs.readFileSync(f, 'utf8')) as T;

describe('stats.json for long campaigns', () => {
  it('last new coverage, time to first finding, buckets as the report has them, stability', async () => {
    const work = tmpDir('stats-progress');
    expect(await main(['run', '--designs', 'before,mutant:misses-leaf-zap-propagation', '--runs', '400', '--seed', '1', '--no-corpus'], io(work))).toBe(1);
    const s = readJson<StatsFile>(path.join(work, 'out', 'stats.json'));
    const r = readJson<ReportData>(path.join(work, 'out', 'report.json'));
    expect(s.buckets).toEqual(r.buckets);
    expect(s.firstFindingSec).toBe(Math.min(...Object.values(r.timing.foundAtSec!)));
    expect(s.lastNewCoverageSec).toBe(r.timing.lastNewClassSec);
    // every sequence with a new class or a new finding was re-run once; the models are deterministic
    expect(s.stability!.reruns).toBeGreaterThan(10);
    expect(s.stability!.repeated).toBe(s.stability!.reruns);
  });

  it('stability counts a re-run whose outcome changed', async () => {
    // a design whose gracePeriod result differs on every other VM it creates: a re-run differs
    let made = 0;
    const flaky: Design = {
      name: 'flaky', description: 'differs on every other VM (test design)',
      create(config) {
        const vm = after.create(config);
        const odd = made++ % 2 === 1;
        const apply = vm.apply.bind(vm);
        vm.apply = (op) => { const o = apply(op); return odd && op.kind === 'gracePeriod' ? { ...o, result: `${o.result}!` } : o; };
        return vm;
      },
    };
    const work = tmpDir('stats-unstable');
    await runCampaign({ designs: [after, flaky], seed: 1, runs: 60, cwd: work, outDir: path.join(work, 'out'), crashDir: null });
    const s = readJson<StatsFile>(path.join(work, 'out', 'stats.json'));
    expect(s.stability!.reruns).toBeGreaterThan(0);
    expect(s.stability!.repeated).toBeLessThan(s.stability!.reruns);
  });
});

describe('fleetStatus', () => {
  const base = (over: Partial<StatsFile>): StatsFile => ({
    format: 'tdpfuzz-stats/1', toolVersion: 't', done: false, stoppedBy: null, startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:01:00.000Z', seed: 1, shard: null, designs: ['a', 'b'], equiv: 'state', domain: 'legal',
    config: { geometry: 'compact', hugePages: false, vcpus: 2 }, elapsedSec: 60, execs: 100, generated: 100, corpus: 0, ops: 1000,
    execsPerSec: 10, opsPerSec: 100, coverage: 50, findings: 0, openFindings: 0, explained: 0, series: [], ...over,
  });
  const bucket = (sigs: string[], status: 'open' | 'accepted' = 'open') => ({ id: sigs[0], status, signatures: sigs, groupedBy: [], hits: 1 });
  it('alive, stale and done by the update time; bugs counted once over shards', () => {
    const now = Date.parse('2026-01-01T00:01:10.000Z');
    const f = fleetStatus([
      { where: 's0', stats: base({ findings: 2, buckets: [bucket(['x', 'y'])], stability: { reruns: 4, repeated: 4 } }) },
      { where: 's1', stats: base({ updatedAt: '2026-01-01T00:00:00.000Z', findings: 2, buckets: [bucket(['y']), bucket(['z'])], stability: { reruns: 4, repeated: 3 } }) },
      { where: 's2', stats: base({ done: true, updatedAt: '2025-01-01T00:00:00.000Z', execs: 7 }) },
    ], now, 30);
    expect(f.rows.map(r => r.state)).toEqual(['alive', 'stale', 'done']);
    expect(f.rows[1].ageSec).toBe(70);
    // x+y in s0 and y in s1 are one bug (they share y); z is another
    expect(f.total).toMatchObject({ campaigns: 3, alive: 1, stale: 1, done: 1, execs: 207, execsPerSec: 10, findings: 3, bugs: 2, stability: 7 / 8 });
  });
});

describe('tdpfuzz status', () => {
  let tree = '';
  beforeAll(() => { tree = buildTree('status'); });
  afterAll(() => { if (tree) removeTree(tree); });

  it('a live 2-worker run: both workers alive, then done', async () => {
    const work = tmpDir('status-live');
    const child = spawn(process.execPath, [path.join(tree, 'harness', 'cli', 'main.js'), 'run', '--workers', '2', '--time', '20', '--no-corpus', '--out', 'live'],
      { cwd: work, stdio: 'ignore' });
    try {
      const stats = path.join(work, 'live', 'stats.json');
      const deadline = Date.now() + 30_000;
      let live: StatsFile | null = null;
      while (Date.now() < deadline) {
        try { live = readJson<StatsFile>(stats); } catch { live = null; }
        if (live?.perWorker?.every(w => w.execs > 0)) break;
        await new Promise(r => setTimeout(r, 200));
      }
      const o = io(work);
      expect(await main(['status', 'live'], o)).toBe(0);
      expect(o.stdout).toMatch(/^live worker 0 +alive +[\d,]+ /m);
      expect(o.stdout).toMatch(/^live worker 1 +alive +[\d,]+ /m);
      expect(o.stdout).toMatch(/^live +alive /m);
      expect(o.stdout).toMatch(/^fleet +1\/1 up /m);
      expect(o.stdout).toContain('1 campaign: 1 alive, 0 stale, 0 done');
      for (const l of o.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    } finally {
      child.kill('SIGTERM');
      await new Promise(r => child.once('exit', r));
    }
    const o = io(work);
    await main(['status', '--json', 'live'], o);
    const f = JSON.parse(o.stdout) as ReturnType<typeof fleetStatus>;
    expect(f.rows.map(r => [r.where, r.state])).toEqual([['live', 'done'], ['live worker 0', 'done'], ['live worker 1', 'done']]);
  }, 60_000);

  it('a directory of shard outputs; bad input is one line, exit 2, nothing written', async () => {
    const work = tmpDir('status-dirs');
    for (const k of [0, 1]) await main(['run', '--runs', '20', '--no-corpus', '--shard', `${k}/2`, '--out', `job/task-${k}`], io(work));
    const o = io(work);
    expect(await main(['status', 'job'], o)).toBe(0);
    expect(o.stdout).toMatch(/^job\/task-0 +done +20 /m);
    expect(o.stdout).toMatch(/^job\/task-1 +done +20 /m);
    expect(o.stdout).toMatch(/^fleet +0\/2 up +40 /m);
    fs.writeFileSync(path.join(work, 'job', 'task-1', 'stats.json'), '{"format":"tdpfuzz-stats/1","execs":"x"}');
    fs.mkdirSync(path.join(work, 'empty'));
    const before = treeSnapshot(work);
    const cases: [string[], RegExp][] = [
      [['status', 'job'], /^tdpfuzz: job\/task-1\/stats\.json: /],
      [['status', 'empty'], /^tdpfuzz: empty: no stats\.json here or in its subdirectories/],
      [['status', 'nope'], /^tdpfuzz: nope: no such directory/],
      [['status', 'job/task-0', '--stale', '0'], /^tdpfuzz: --stale/],
      [['status'], /^tdpfuzz: status: missing DIR/],
    ];
    for (const [argv, re] of cases) {
      const e = io(work);
      expect(await main(argv, e), argv.join(' ')).toBe(2);
      expect(e.stderr).toMatch(re);
      expect(e.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(treeSnapshot(work)).toEqual(before);
  });
});
