// Issue 14 item 3: the Kubernetes Indexed Job (examples/k8s/) and the GitHub Actions matrix
// workflow (examples/github-actions/) cannot run here, so they are checked as far as offline tools
// allow: the YAML parses (python3's yaml module; no npm YAML package), the shard counts agree
// (completions = parallelism = SHARDS; matrix = 0..SHARDS-1), the shared volume and artifacts line
// up, and — the contract test/slurm.test.ts checks on a real Slurm cluster — the shell each shard
// and the merge would run is run here as the engine would run it (its environment, one shard index
// at a time, artifacts copied like download-artifact does), and the merged report equals one
// unsharded run of the same seed and sequences.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../harness/report/data';
import { buildTree, removeTree } from './build_helper';
import { ROOT, tmpDir } from './harness/helpers';

const K8S = ['campaign-pvc.yaml', 'shards-job.yaml', 'merge-job.yaml'].map(f => path.join(ROOT, 'examples/k8s', f));
const GHA = path.join(ROOT, 'examples/github-actions/tdpfuzz-campaign.yml');
const RUNS_PER_SHARD = 25;
// The small budget the test gives instead of the manifests' --time 3600 (the only value replaced).
const TEST_FLAGS = `--runs ${RUNS_PER_SHARD} --no-corpus --designs after,mutant:misses-leaf-zap-propagation`;

/** Every YAML document of each file, as JSON, via python3 -c 'import yaml'; null when unavailable. */
function loadYaml(files: string[]): unknown[][] | null {
  const r = spawnSync('python3', ['-c', 'import json, sys, yaml\nprint(json.dumps([list(yaml.safe_load_all(open(f))) for f in sys.argv[1:]], default=str))', ...files], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return JSON.parse(r.stdout) as unknown[][];
}

const probe = spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' });
const why = probe.error ? 'python3 is not installed' : probe.status !== 0 ? "python3's yaml module is missing (Debian: apt-get install python3-yaml; .ci/run does this)" : null;
if (why) console.warn(`test/campaign_manifests.test.ts: SKIPPED: cannot parse the YAML manifests: ${why}`);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Y = any;

describe.skipIf(why !== null)('examples/k8s and examples/github-actions: the shard/merge contract, offline', () => {
  let tree = '';
  let work = '';
  let bin = '';
  let reference: ReturnType<typeof summary> | null = null;
  const cli = () => path.join(tree, 'harness/cli/main.js');

  beforeAll(() => {
    tree = buildTree('manifests');
    work = tmpDir('manifests');
    // `tdpfuzz` on PATH, as the image has it (examples/k8s/Dockerfile).
    bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'tdpfuzz'), `#!/bin/sh\nexec "${process.execPath}" "${cli()}" "$@"\n`, { mode: 0o755 });
  }, 60_000);
  afterAll(() => { if (tree) removeTree(tree); });

  const summary = (r: ReportData) => ({
    sequences: r.scope.sequences, generated: r.scope.generated, ops: r.scope.ops, seed: r.scope.seed, shard: r.scope.shard,
    findings: r.findings.map(f => [f.signature, f.hits]).sort(), coverage: r.coverage,
  });
  const readReport = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ReportData;
  /** One unsharded run of N·R sequences of `seed`, the report the shards must add up to. */
  const unsharded = (n: number, seed: string) => {
    if (reference && reference.seed === Number(seed) && reference.sequences === n * RUNS_PER_SHARD) return reference;
    const out = path.join(work, `ref-${seed}-${n}`);
    const r = spawnSync(process.execPath, [cli(), 'run', '--seed', seed, ...TEST_FLAGS.replace(`--runs ${RUNS_PER_SHARD}`, `--runs ${n * RUNS_PER_SHARD}`).split(' '), '--out', out], { encoding: 'utf8', cwd: work });
    expect(r.status, r.stderr).toBe(1);
    return (reference = summary(readReport(out)));
  };
  const sh = (shell: string[], script: string, cwd: string, env: Record<string, string>) => {
    fs.mkdirSync(cwd, { recursive: true });
    return spawnSync(shell[0], [...shell.slice(1), script], { cwd, encoding: 'utf8', timeout: 60_000, env: { PATH: `${bin}:${process.env.PATH}`, HOME: work, ...env } });
  };
  const envOf = (c: Y): Record<string, string> => Object.fromEntries((c.env ?? []).map((e: Y) => [e.name, String(e.value)]));

  it('the Kubernetes and GitHub Actions examples describe the same campaign (SHARDS, SEED, budget)', () => {
    const [shards] = loadYaml([K8S[1]])! as Y[][];
    const [[wf]] = loadYaml([GHA])! as Y[][];
    const env = envOf(shards[0].spec.template.spec.containers[0]);
    expect([env.SHARDS, env.SEED, env.TDPFUZZ_RUN_FLAGS]).toEqual([String(wf.env.SHARDS), String(wf.env.SEED), wf.env.TDPFUZZ_RUN_FLAGS]);
  });

  it('k8s: an Indexed Job of SHARDS pods on the shared volume, then the merge Job: one unsharded run', () => {
    const [[pvc], [shards], [merge]] = loadYaml(K8S)! as Y[][];
    expect(pvc.kind).toBe('PersistentVolumeClaim');
    expect(pvc.spec.accessModes).toContain('ReadWriteMany');
    expect(shards.kind).toBe('Job');
    expect(shards.spec.completionMode).toBe('Indexed');
    const shard = shards.spec.template.spec.containers[0];
    const mergeC = merge.spec.template.spec.containers[0];
    const env = envOf(shard);
    const n = Number(env.SHARDS);
    expect(n).toBeGreaterThan(1);
    expect(shards.spec.completions).toBe(n);
    expect(shards.spec.parallelism).toBe(n);
    expect(envOf(mergeC).SHARDS).toBe(env.SHARDS);
    expect(shard.args).toBeUndefined();
    // Both Jobs mount the claim where CAMPAIGN_DIR points.
    for (const job of [shards, merge]) {
      const c = job.spec.template.spec.containers[0];
      expect(job.spec.template.spec.volumes).toEqual([{ name: 'campaign', persistentVolumeClaim: { claimName: pvc.metadata.name } }]);
      expect(c.volumeMounts).toEqual([{ name: 'campaign', mountPath: envOf(c).CAMPAIGN_DIR }]);
      expect(c.image).toBe(shard.image);
    }
    expect(shard.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(env.TDPFUZZ_RUN_FLAGS).toMatch(/^--time \d+ /);

    // Each pod as the Job controller starts it (JOB_COMPLETION_INDEX = 0..completions-1), on one volume.
    const volume = path.join(work, 'k8s-volume');
    for (let i = 0; i < n; i++) {
      const r = sh(shard.command.slice(0, 2), shard.command[2], work, { ...env, CAMPAIGN_DIR: volume, TDPFUZZ_RUN_FLAGS: TEST_FLAGS, JOB_COMPLETION_INDEX: String(i) });
      expect(r.status, r.stderr).toBe(0); // findings (tdpfuzz exit 1) are a successful pod
      expect(r.stdout).toContain(`shard ${i}/${n}: unexplained findings`);
      expect(summary(readReport(path.join(volume, `shard-${i}`))).shard).toEqual({ index: i, count: n });
    }
    const m = sh(mergeC.command.slice(0, 2), mergeC.command[2], work, { ...envOf(mergeC), CAMPAIGN_DIR: volume });
    expect(m.status, m.stderr).toBe(1);
    expect(m.stdout).toContain(`merged ${n} outputs`);
    expect(summary(readReport(path.join(volume, 'merged')))).toEqual({ ...unsharded(n, env.SEED), shard: null });

    // A pod given bad flags fails (exit 2), so the Job fails and the merge is never applied.
    const bad = sh(shard.command.slice(0, 2), shard.command[2], work, { ...env, CAMPAIGN_DIR: path.join(work, 'k8s-bad'), TDPFUZZ_RUN_FLAGS: '--max-ops 0', JOB_COMPLETION_INDEX: '0' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^tdpfuzz: --max-ops: /);
  }, 120_000);

  it('GitHub Actions: a matrix 0..SHARDS-1 uploading shard-I, a merge job downloading them: one unsharded run', () => {
    const [[wf]] = loadYaml([GHA])! as Y[][];
    const n = Number(wf.env.SHARDS);
    expect(n).toBeGreaterThan(1);
    const shardJob = wf.jobs.shard;
    const mergeJob = wf.jobs.merge;
    expect(shardJob.strategy.matrix.shard).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(shardJob.strategy['fail-fast']).toBe(false);
    expect(mergeJob.needs).toBe('shard');
    expect(String(wf.env.TDPFUZZ_RUN_FLAGS)).toMatch(/^--time \d+ /);
    const step = (job: Y, pred: (s: Y) => boolean): Y => { const s = job.steps.find(pred); expect(s).toBeDefined(); return s; };
    const runStep = step(shardJob, (s: Y) => /--shard/.test(s.run ?? ''));
    const upload = step(shardJob, (s: Y) => /upload-artifact/.test(s.uses ?? ''));
    const download = step(mergeJob, (s: Y) => /download-artifact/.test(s.uses ?? ''));
    const mergeStep = step(mergeJob, (s: Y) => /\bmerge\b/.test(s.run ?? ''));
    const expand = (v: string, i: number): string => {
      const out = String(v).replaceAll('${{ matrix.shard }}', String(i));
      expect(out, `unexpected expression in ${v}`).not.toContain('${{');
      return out;
    };
    // download-artifact with a pattern and no merge-multiple puts artifact NAME into PATH/NAME.
    expect(download.with).toEqual({ pattern: 'shard-*', path: path.dirname(upload.with.path) });
    expect(upload.with.name).toBe(path.basename(upload.with.path));

    const base = { SHARDS: String(wf.env.SHARDS), SEED: String(wf.env.SEED), TDPFUZZ_RUN_FLAGS: TEST_FLAGS };
    const checkout = (dir: string) => { fs.mkdirSync(dir, { recursive: true }); fs.symlinkSync(tree, path.join(dir, 'dist')); return dir; };
    const mergeRunner = checkout(path.join(work, 'gha-merge'));
    for (const i of shardJob.strategy.matrix.shard as number[]) {
      // Each matrix job on its own runner: a checkout with dist/ built.
      const runner = checkout(path.join(work, `gha-shard-${i}`));
      const env = Object.fromEntries(Object.entries(runStep.env).map(([k, v]) => [k, expand(v as string, i)]));
      const r = sh(['bash', '-e', '-c'], runStep.run, runner, { ...base, ...env });
      expect(r.status, r.stderr).toBe(0);
      const artifact = path.join(runner, expand(upload.with.path, i));
      expect(summary(readReport(artifact)).shard).toEqual({ index: i, count: n });
      fs.cpSync(artifact, path.join(mergeRunner, download.with.path, expand(upload.with.name, i)), { recursive: true });
    }
    const m = sh(['bash', '-e', '-c'], mergeStep.run, mergeRunner, base);
    expect(m.status, m.stderr).toBe(1);
    expect(summary(readReport(path.join(mergeRunner, 'campaign/merged')))).toEqual({ ...unsharded(n, base.SEED), shard: null });
  }, 120_000);
});
