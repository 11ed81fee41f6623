// Wall-clock hangs (issue 11 item 6): design code that loops forever is stopped by the watchdog
// (run/watchdog.ts) and reported as a `hang` finding naming design, op and phase; campaigns (in
// process and in worker threads), replay and minimize stay bounded; SIGINT interrupts a hung design
// at once and SIGTERM within the bound, both with the report written; a worker that does not stop
// is terminated and its part of the report says so; --hang-timeout is validated.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Design, Op } from '../../impls/api';
import { after, before } from '../../impls/designs';
import { runBounded } from '../../harness/run/watchdog';
import { runBoundedSequence, type RunOptions } from '../../harness/run/runner';
import { minimizeSequence } from '../../harness/run/minimize';
import { makeSequence } from '../../harness/seq/sequence';
import type { Io } from '../../harness/cli/flags';
import type { ReportData } from '../../harness/report/data';
import type { CrashFile } from '../../harness/store/crash_store';
import { generateSequence } from '../../harness/seq/generate';
import { buildTree, removeTree } from '../build_helper';
import { COMPACT, tmpDir, captureIo as io } from './helpers';

const readReport = (dir: string): ReportData => JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ReportData;
const crashFiles = (dir: string): CrashFile[] => fs.readdirSync(dir).filter(f => f.endsWith('.json'))
  .map(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CrashFile);

/** `after`, except that apply loops forever on the op `hangsOn` picks. */
function hanging(hangsOn: (op: Op, i: number) => boolean): Design {
  return {
    name: 'hangs', description: 'after, looping forever on one op (test design)',
    create(config) {
      const vm = after.create(config);
      const apply = vm.apply.bind(vm);
      let i = 0;
      vm.apply = (op: Op) => {
        if (hangsOn(op, i++)) for (;;) { /* hang */ }
        return apply(op);
      };
      return vm;
    },
  };
}

describe('the watchdog', () => {
  it('stops a loop after the bound, passes values and exceptions through, and nests', () => {
    const t0 = Date.now();
    expect(runBounded(() => { for (;;) { /* hang */ } }, 50)).toEqual({ ok: false, stoppedBy: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(runBounded(() => 42, 50)).toEqual({ ok: true, value: 42 });
    expect(() => runBounded(() => { throw new Error('boom'); }, 50)).toThrow('boom');
    expect(runBounded(() => runBounded(() => { for (;;) { /* hang */ } }, 30), 5000)).toEqual({ ok: true, value: { ok: false, stoppedBy: 'timeout' } });
  });

  it('a bounded run that hangs is a wall-clock hang finding naming the design, op and phase; the findings before it are kept', () => {
    const ops: Op[] = [{ kind: 'gracePeriod' }, { kind: 'gracePeriod' }, { kind: 'gracePeriod' }];
    const run: RunOptions = { designs: [before, hanging((_, i) => i === 2)], equiv: 'state', domain: 'legal', hangMs: 50 };
    const r = runBoundedSequence(makeSequence(COMPACT, ops), run);
    const hang = r.findings.find(f => f.kind === 'hang')!;
    expect(hang).toMatchObject({ signature: 'hang|hangs|gracePeriod|wall-clock', designs: ['hangs'], opIndex: 2, opKind: 'gracePeriod', component: 'wall-clock' });
    expect(hang.message).toBe('hangs hung at op 2 (gracePeriod): no progress for 0.05 s (--hang-timeout)');
    expect(r.coverage.size).toBe(0);
    // A hang while the VM is created, and the next run is a fresh one that does not hang.
    const inCreate: Design = { name: 'slow', description: 'loops in create (test design)', create() { for (;;) { /* hang */ } } };
    const c = runBoundedSequence(makeSequence(COMPACT, ops), { ...run, designs: [before, inCreate] });
    expect(c.findings.map(f => [f.signature, f.message])).toEqual([['hang|slow|create|wall-clock', 'slow hung creating the VM: no progress for 0.05 s (--hang-timeout)']]);
    expect(runBoundedSequence(makeSequence(COMPACT, ops), { ...run, designs: [before, after] }).findings).toEqual([]);
  });

  it('a minimization probe that hangs shows the hang signature: a hang minimizes to the op that hangs', () => {
    // generated sequence 1 of seed 1 has its only gracePeriod at op 3
    const seq = makeSequence(COMPACT, generateSequence(1, 1, { config: COMPACT, domain: 'legal' }).ops.slice(0, 6));
    const run: RunOptions = { designs: [before, hanging(op => op.kind === 'gracePeriod')], equiv: 'state', domain: 'legal', hangMs: 100 };
    const res = minimizeSequence(seq, 'hang|hangs|gracePeriod|wall-clock', run, { maxRuns: 200 });
    expect(res.stats.reproduced).toBe(true);
    expect(res.ops.map(o => o.kind)).toEqual(['gracePeriod']);
  });
});

describe('hangs in campaigns, replay and signals', () => {
  let tree = '';
  let work = '';
  let jsMain: (argv: string[], io: Io) => Promise<number>;
  const cli = (): string => path.join(tree, 'harness/cli/main.js');

  beforeAll(() => {
    tree = buildTree('hang');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jsMain = (require(cli()) as typeof import('../../harness/cli/main')).main;
    work = tmpDir('hang');
    // Loops forever in apply on gracePeriod (generated sequence 1 of seed 1 has one at op 1; 0 has none);
    // says HANGING on stderr first, for the signal tests.
    fs.writeFileSync(path.join(work, 'hang.js'), `const { after } = require(${JSON.stringify(path.join(tree, 'impls/designs.js'))});
module.exports = { name: 'hangs', description: 'after, looping on gracePeriod', create(config) {
  const vm = after.create(config); const apply = vm.apply.bind(vm);
  vm.apply = (op) => { if (op.kind === 'gracePeriod') { process.stderr.write('HANGING\\n'); for (;;) {} } return apply(op); };
  return vm;
} };\n`);
    // Loads fine in the main thread, loops forever when a worker thread loads it (outside any watchdog).
    fs.writeFileSync(path.join(work, 'stuck.js'), `const { after } = require(${JSON.stringify(path.join(tree, 'impls/designs.js'))});
if (!require('node:worker_threads').isMainThread) for (;;) {}
module.exports = { ...after, name: 'stuck' };\n`);
  });
  afterAll(() => { if (tree) removeTree(tree); });

  it('run --hang-timeout 1: a hang finding with the full sequence in its crash file, in bounded time; replay reproduces it', async () => {
    const o = io(work);
    const t0 = Date.now();
    expect(await jsMain(['run', '--designs', 'before,./hang.js', '--runs', '2', '--no-corpus', '--hang-timeout', '1', '--out', 'r1', '--crashes', 'r1/crashes'], o), o.stderr).toBe(1);
    expect(Date.now() - t0).toBeLessThan(6000);
    const report = readReport(path.join(work, 'r1'));
    expect(report.scope).toMatchObject({ sequences: 2, hangTimeoutSec: 1 });
    expect(report.findings.map(f => [f.signature, f.hits, f.minimized, f.message])).toEqual([
      ['hang|hangs|gracePeriod|wall-clock', 1, false, 'hangs hung at op 3 (gracePeriod): no progress for 1 s (--hang-timeout)']]);
    const [crash] = crashFiles(path.join(work, 'r1/crashes'));
    const seq1 = generateSequence(1, 1, { config: COMPACT, domain: 'legal' });
    expect(crash.ops).toEqual(seq1.ops); // not minimized: the whole sequence
    expect(crash.source).toMatchObject({ seed: 1, index: 1 });
    const r = io(work);
    expect(await jsMain(['replay', 'r1/crashes', '--hang-timeout', '0.5'], r)).toBe(1);
    expect(r.stdout).toMatch(/^FAIL r1\/crashes\/hang-graceperiod-wall-clock-[0-9a-f]+\.json: recorded signature reproduced/);
  });

  it('--workers 2: a worker stuck in design code reports the hang too', async () => {
    const o = io(work);
    expect(await jsMain(['run', '--designs', 'before,./hang.js', '--runs', '2', '--no-corpus', '--hang-timeout', '1', '--workers', '2',
      '--out', 'w2', '--crashes', 'w2/crashes'], o), o.stderr).toBe(1);
    expect(readReport(path.join(work, 'w2')).findings.map(f => f.signature)).toEqual(['hang|hangs|gracePeriod|wall-clock']);
  });

  it('a worker that does not stop when asked is terminated; the report is written and names it', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startWorkers } = require(path.join(tree, 'harness/fuzz/workers.js')) as typeof import('../../harness/fuzz/workers');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runParams } = require(path.join(tree, 'harness/run/campaign_params.js')) as typeof import('../../harness/run/campaign_params');
    const warnings: string[] = [];
    const h = startWorkers({
      ...runParams({ designs: ['before', './stuck.js'], runs: 10, hangTimeoutSec: 0.3, workers: 2, corpus: null, minimize: null, out: 'stuck', crashes: 'stuck/crashes' }),
      cwd: work, onEvent: e => { if (e.type === 'warning') warnings.push(e.message); },
    });
    await new Promise(resolve => setTimeout(resolve, 300));
    const t0 = Date.now();
    h.stop();
    const result = await h.done;
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(warnings).toEqual([0, 1].map(w => `worker ${w} did not stop within 1.3 s: terminated; its part of the report is partial`));
    expect(result.report.scope.merged!.parts.map(p => p.from)).toEqual([0, 1].map(w => `worker ${w} (terminated: no report within 1.3 s of the stop)`));
    expect(fs.readFileSync(path.join(work, 'stuck/report.md'), 'utf8')).toContain('worker 1 (terminated: no report within 1.3 s of the stop)');
  });

  /** Spawn the CLI on the hanging design, send the signals once it hangs; exit code, ms from the first signal, stderr. */
  function signalled(out: string, hangTimeout: string, signals: NodeJS.Signals[]): Promise<{ code: number | null; ms: number; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [cli(), 'run', '--designs', 'before,./hang.js', '--runs', '50', '--no-corpus', '--hang-timeout', hangTimeout,
        '--out', out, '--crashes', `${out}/crashes`], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let t0 = 0;
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!t0 && stderr.includes('HANGING')) {
          t0 = Date.now();
          signals.forEach((s, k) => setTimeout(() => child.kill(s), 100 + 200 * k));
        }
      });
      child.on('exit', code => resolve({ code, ms: Date.now() - t0 - 100, stderr }));
    });
  }

  it('SIGINT while hung stops at once (the sequence abandoned, not counted) with the report written', async () => {
    const r = await signalled('int', '30', ['SIGINT']);
    expect(r.code, r.stderr).toBe(130); // interrupted: 128 + SIGINT, after the report is written
    expect(r.ms).toBeLessThan(1500);
    const report = readReport(path.join(work, 'int'));
    expect(report.scope.sequences).toBe(1);
    expect(report.timing.stoppedBy).toBe('signal');
    expect(report.verdict.line).toMatch(/; interrupted \(SIGINT\/SIGTERM\) before its budget was spent$/);
    expect(report.findings).toEqual([]);
  });

  it('SIGTERM while hung stops within the bound with the hang recorded; a second signal exits at once', async () => {
    const r = await signalled('term', '1', ['SIGTERM']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.ms).toBeLessThan(2500);
    const report = readReport(path.join(work, 'term'));
    expect(report.scope.sequences).toBe(2);
    expect(report.findings.map(f => f.signature)).toEqual(['hang|hangs|gracePeriod|wall-clock']);
    const twice = await signalled('twice', '30', ['SIGTERM', 'SIGINT']);
    expect(twice.code).toBe(130);
    expect(twice.ms).toBeLessThan(1500);
    expect(twice.stderr).toContain('again: exiting without writing the report');
  });

  it('bad --hang-timeout values: one line, exit 2, on run, replay, minimize and explain', async () => {
    for (const [cmd, extra] of [['run', []], ['replay', ['x.json']], ['minimize', ['x.json']], ['explain', ['x.json']]] as const) {
      for (const v of ['0', '-1', 'abc', '']) {
        const o = io(work);
        expect(await jsMain([cmd, ...extra, `--hang-timeout=${v}`], o)).toBe(2);
        expect(o.stderr).toMatch(/^tdpfuzz: --hang-timeout: [^\n]*\n$/);
      }
    }
  });
});
