// Issue 14 items 1–2: examples/slurm/ on a real (one-node) Slurm cluster. submit.sh submits a
// 4-task array of `tdpfuzz run --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT` and a merge
// job (--dependency=afterok); the merged report must have exactly the findings, hit counts,
// sequence and op counts and coverage of one unsharded run of the same sequences. Skipped, with a
// message saying why, where no cluster can be started (Slurm or munge not installed, not root).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../harness/report/data';
import { buildTree, removeTree } from './build_helper';
import { ROOT, tmpDir } from './harness/helpers';
import { cannotStart, SlurmCluster, waitFor } from './slurm_cluster';

const SHARDS = 4;
const RUNS_PER_SHARD = 100;
// Shard I/N with --runs R runs R of the indices ≡ I (mod N): the N shards run indices 0..N·R-1, the
// sequences one --runs N·R run generates (a built-in mutant: examples/*.js need dist/). No corpus: each shard's --runs would count its share of it.
const FLAGS = ['--designs', 'after,mutant:misses-leaf-zap-propagation', '--seed', '5', '--no-corpus'];
const SUBMIT = path.join(ROOT, 'examples/slurm/submit.sh');

const why = cannotStart();
if (why) console.warn(`test/slurm.test.ts: SKIPPED: cannot start a Slurm cluster here: ${why}`);

describe.skipIf(why !== null)('examples/slurm on a one-node Slurm cluster', () => {
  let tree = '';
  let work = '';
  let cluster: SlurmCluster | null = null;
  let tdpfuzz = '';

  beforeAll(async () => {
    tree = buildTree('slurm');
    tdpfuzz = `${process.execPath} ${path.join(tree, 'harness/cli/main.js')}`;
    work = tmpDir('slurm');
    cluster = new SlurmCluster(work);
    try {
      await cluster.start();
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${cluster.logs()}`);
    }
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    if (tree) removeTree(tree);
  }, 60_000);

  const submit = (campaign: string, flags: string[]): { array: string; merge: string } => {
    const r = spawnSync(SUBMIT, [String(SHARDS), campaign, ...flags], { cwd: work, env: cluster!.env({ TDPFUZZ: tdpfuzz }), encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const [array, merge] = r.stdout.trim().split(' ');
    expect(array).toMatch(/^\d+$/);
    return { array, merge };
  };
  const job = (id: string): string => cluster!.client('scontrol', ['show', 'job', id]);
  const finished = (id: string): boolean => /JobState=(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)/.test(job(id));
  const readReport = (dir: string): ReportData => JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ReportData;
  const summary = (r: ReportData) => ({
    sequences: r.scope.sequences, generated: r.scope.generated, ops: r.scope.ops,
    findings: r.findings.map(f => [f.signature, f.hits]).sort(),
    coverage: r.coverage,
  });

  it('4 array tasks + the afterok merge job give the report of one unsharded run', async () => {
    const campaign = path.join(work, 'campaign');
    const { array, merge } = submit(campaign, ['--runs', String(RUNS_PER_SHARD), ...FLAGS]);
    expect(job(merge)).toMatch(new RegExp(`Dependency=afterok:${array}`));
    // The reference meanwhile: one unsharded run of the same seed and N·R sequences.
    const ref = spawnSync(process.execPath, [path.join(tree, 'harness/cli/main.js'), 'run', '--runs', String(SHARDS * RUNS_PER_SHARD), ...FLAGS, '--out', 'ref'],
      { cwd: work, encoding: 'utf8', timeout: 60_000 });
    expect(ref.status, ref.stderr).toBe(1);
    await waitFor(`merge job ${merge}`, 60_000, () => finished(merge)).catch(e => {
      throw new Error(`${(e as Error).message}\n${cluster!.client('squeue', [])}\n${cluster!.logs()}`);
    });
    const log = (f: string) => fs.readFileSync(path.join(campaign, 'logs', f), 'utf8');
    // Each task found something (its tdpfuzz exit 1) yet succeeded, so the merge ran; the merge job
    // exits like `tdpfuzz merge`: 1, unexplained findings.
    for (let i = 0; i < SHARDS; i++) {
      expect(job(`${array}_${i}`), log(`shard-${i}.log`)).toMatch(/JobState=COMPLETED[\s\S]*ExitCode=0:0/);
      expect(log(`shard-${i}.log`)).toContain(`shard ${i}/${SHARDS}: unexplained findings`);
      expect(readReport(path.join(campaign, `shard-${i}`)).scope.shard).toEqual({ index: i, count: SHARDS });
    }
    expect(job(merge), log('merge.log')).toMatch(/ExitCode=1:0/);
    expect(log('merge.log')).toContain(`merged ${SHARDS} outputs (${SHARDS * RUNS_PER_SHARD} sequences)`);

    const merged = readReport(path.join(campaign, 'merged'));
    const one = readReport(path.join(work, 'ref'));
    expect(one.findings.length).toBeGreaterThan(2);
    expect(merged.scope.shard).toBeNull();
    expect(summary(merged)).toEqual(summary(one));
    const crashFiles = fs.readdirSync(path.join(campaign, 'merged', 'crashes')).filter(f => f.endsWith('.json'));
    expect(crashFiles.length).toBe(one.findings.length);
  }, 120_000);

  it('a failing task (bad flag: exit 2) cancels the merge job instead of leaving it pending', async () => {
    const campaign = path.join(work, 'bad');
    const { array, merge } = submit(campaign, ['--runs', '10', '--max-ops', '0', ...FLAGS]);
    await waitFor(`merge job ${merge} to be cancelled`, 60_000, () => finished(merge));
    expect(job(merge)).toMatch(/JobState=CANCELLED/);
    expect(job(`${array}_0`)).toMatch(/JobState=FAILED[\s\S]*ExitCode=2:0/);
    expect(fs.readFileSync(path.join(campaign, 'logs', 'shard-0.log'), 'utf8')).toMatch(/^tdpfuzz: --max-ops: .*\n$/);
    expect(fs.existsSync(path.join(campaign, 'merged'))).toBe(false);
  }, 90_000);

  it('submit.sh refuses a directory that already holds a campaign, and flags the scripts set', () => {
    for (const [dir, flags, msg] of [
      [path.join(work, 'campaign'), ['--runs', '1'], /already holds a campaign/],
      [path.join(work, 'fresh'), ['--shard', '0/2'], /--shard: set by the scripts/],
    ] as const) {
      const r = spawnSync(SUBMIT, [String(SHARDS), dir, ...flags], { cwd: work, env: cluster!.env(), encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
