// SIGKILL, then `run --resume` (issue 11 item 4): however a random campaign ends — killed in its
// corpus phase, killed in its engine phase, in-process or in worker threads — resuming it gives the
// report of the run that was never interrupted: the same findings with the same hits and first
// sources, the same sequence, op and corpus counts, coverage and explained differences, and a
// stats.json that agrees with it. Kills are aimed by watching the checkpoint the victim writes
// (--checkpoint-every 0.02), so each test knows which phase it interrupted.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../../harness/report/data';
import { generateSequence } from '../../harness/seq/generate';
import { serializeSequence } from '../../harness/seq/sequence';
import { buildTree, removeTree } from '../build_helper';
import { COMPACT, ROOT, tmpDir } from './helpers';

const DESIGNS = 'after,mutant:frees-with-hkid-assigned';
const RUNS = 900;
const CORPUS_FILES = 100;

let tree = '';
let work = '';
let cli = '';
beforeAll(() => {
  tree = buildTree('sigkill');
  cli = path.join(tree, 'harness/cli/main.js');
  work = tmpDir('sigkill');
  // A corpus phase long enough to be killed in: the scenario seeds (findings only they reach) and
  // long generated sequences.
  const corpus = path.join(work, 'corpus');
  fs.mkdirSync(corpus);
  for (const f of fs.readdirSync(path.join(ROOT, 'corpus'))) fs.copyFileSync(path.join(ROOT, 'corpus', f), path.join(corpus, f));
  for (let i = 0; i < CORPUS_FILES; i++) {
    fs.writeFileSync(path.join(corpus, `long-${String(i).padStart(3, '0')}.json`),
      serializeSequence(generateSequence(77, i, { maxOps: 120, config: COMPACT, domain: 'legal' })));
  }
  expect(runCli([...common('ref', 'ref-crashes')]).status).toBe(1);
}, 60_000);
afterAll(() => removeTree(tree));

function common(out: string, crashes: string, extra: string[] = []): string[] {
  return ['run', '--designs', DESIGNS, '--runs', String(RUNS), '--no-minimize', '--corpus', 'corpus', '--out', out, '--crashes', crashes, ...extra];
}

function runCli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

interface CheckpointView { stats: { execs: number; lanes: { generated: number; corpusDone?: number }[] }; corpus: { files: string[]; done: number }[] }

function readCheckpoint(out: string): CheckpointView | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(work, out, 'checkpoint.json'), 'utf8')) as CheckpointView;
  } catch {
    return null;
  }
}

/** Start a campaign and SIGKILL it as soon as its checkpoint satisfies `when`; returns the last checkpoint it wrote. */
async function killWhen(args: string[], out: string, when: (c: CheckpointView) => boolean): Promise<CheckpointView> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: work, stdio: 'ignore' });
  const exited = new Promise<void>(resolve => child.on('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = readCheckpoint(out);
    if (c && when(c)) { child.kill('SIGKILL'); break; }
    if (child.exitCode !== null || Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('the campaign ended before the kill point'); }
    await new Promise(r => setTimeout(r, 3));
  }
  await exited;
  return readCheckpoint(out)!;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(path.join(work, file), 'utf8')) as T;

/** What an interruption must not change. */
function essence(r: ReportData) {
  return {
    sequences: r.scope.sequences, generated: r.scope.generated, ops: r.scope.ops, corpus: r.scope.corpus.files, budget: r.scope.budget,
    findings: r.findings.map(f => [f.signature, f.hits, f.firstSource, f.reproducer.length]),
    explained: r.explained.map(e => [e.id, e.sequences, e.signatures.map(s => [s.signature, s.sequences])]),
    coverage: r.coverage, verdict: r.verdict.line,
  };
}

function expectSameAsUninterrupted(out: string): void {
  const got = readJson<ReportData>(`${out}/report.json`);
  expect(essence(got)).toEqual(essence(readJson<ReportData>('ref/report.json')));
  const stats = readJson<{ execs: number; generated: number; ops: number; findings: number; done: boolean }>(`${out}/stats.json`);
  expect(stats).toMatchObject({ done: true, execs: got.scope.sequences, generated: got.scope.generated, ops: got.scope.ops, findings: got.findings.length });
}

describe('SIGKILL, then run --resume, equals the run that was never interrupted', () => {
  it('killed in the corpus phase: the rest of the corpus runs, then the engine phase', async () => {
    const cp = await killWhen([...common('k1', 'k1-crashes', ['--checkpoint-every', '0.02'])], 'k1',
      c => c.corpus[0].done >= 20 && c.corpus[0].done < c.corpus[0].files.length - 40);
    expect(cp.corpus[0].done).toBeLessThan(cp.corpus[0].files.length);
    expect(cp.stats.lanes[0].generated).toBe(0);
    const r = runCli(['run', '--resume', 'k1', '--crashes', 'k1-crashes', '--no-minimize']);
    expect(r.status, r.stderr).toBe(1);
    expectSameAsUninterrupted('k1');
  }, 60_000);

  it('killed in the engine phase, after findings were recorded', async () => {
    const cp = await killWhen([...common('k2', 'k2-crashes', ['--checkpoint-every', '0.02'])], 'k2',
      c => c.stats.lanes[0].generated >= 200);
    expect(cp.corpus[0].done).toBe(cp.corpus[0].files.length);
    expect(runCli(['run', '--resume', 'k2', '--crashes', 'k2-crashes', '--no-minimize']).status).toBe(1);
    expectSameAsUninterrupted('k2');
    // Resumed again once finished: nothing is left of its budget.
    const again = runCli(['run', '--resume', 'k2', '--crashes', 'k2-crashes', '--no-minimize']);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toBe(`tdpfuzz: --resume: k2 spent its budget (${RUNS} runs); give --runs or --time to run more`);
  }, 60_000);

  it('worker threads: each lane continues where its own checkpoint stands', async () => {
    const cp = await killWhen([...common('k3', 'k3-crashes', ['--checkpoint-every', '0.02', '--workers', '2'])], 'k3',
      c => c.corpus.some(l => l.done > 10 && l.done < l.files.length - 20));
    expect(cp.corpus).toHaveLength(2);
    expect(runCli(['run', '--resume', 'k3', '--crashes', 'k3-crashes', '--no-minimize']).status).toBe(1);
    expectSameAsUninterrupted('k3');
  }, 60_000);

  it('a kill, a resume killed again, and a second resume', async () => {
    await killWhen([...common('k4', 'k4-crashes', ['--checkpoint-every', '0.02'])], 'k4', c => c.corpus[0].done >= 30);
    await killWhen(['run', '--resume', 'k4', '--crashes', 'k4-crashes', '--no-minimize', '--checkpoint-every', '0.02'], 'k4',
      c => c.stats.lanes[0].generated >= 150);
    expect(runCli(['run', '--resume', 'k4', '--crashes', 'k4-crashes', '--no-minimize']).status).toBe(1);
    expectSameAsUninterrupted('k4');
  }, 60_000);
});

describe('temp files a killed writer left behind', () => {
  it('are removed on start when their process is gone; a live or another host\'s temp file is kept', () => {
    const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_');
    const dead = 2 ** 22 + 12345; // above the default pid_max: no such process
    const out = path.join(work, 'tmps');
    const crashes = path.join(work, 'tmps-crashes');
    fs.mkdirSync(out);
    fs.mkdirSync(crashes);
    const names = {
      deadOut: path.join(out, `.stats.json.${host}~${dead}-0.3.tmp`),
      deadOld: path.join(out, `.report.md.${dead}.7.tmp`),
      deadCrash: path.join(crashes, `.leak-x.json.${host}~${dead}-1.1.tmp`),
      live: path.join(out, `.stats.json.${host}~${process.pid}-0.1.tmp`),
      otherHost: path.join(crashes, `.leak-x.json.elsewhere~${dead}-0.1.tmp`),
    };
    for (const f of Object.values(names)) fs.writeFileSync(f, 'partial');
    expect(runCli(['run', '--designs', 'before,after', '--runs', '3', '--no-corpus', '--out', 'tmps', '--crashes', 'tmps-crashes']).status).toBe(0);
    expect(fs.existsSync(names.deadOut)).toBe(false);
    expect(fs.existsSync(names.deadOld)).toBe(false);
    expect(fs.existsSync(names.deadCrash)).toBe(false);
    expect(fs.existsSync(names.live)).toBe(true);
    expect(fs.existsSync(names.otherHost)).toBe(true);
  });
});
