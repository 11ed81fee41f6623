import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, parseArgs, UsageError } from '../../harness/cli/main';
import { CrashStore, serializeCrash } from '../../harness/store/crash_store';
import { registerDesignResolver } from '../../harness/run/designs';
import { runSequence } from '../../harness/run/runner';
import { makeSequence, serializeSequence } from '../../harness/seq/sequence';
import { before } from '../../impls/designs';
import { broken, COMPACT, fixedClock, grace, tmpDir, captureIo as io } from './helpers';

function usage(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a UsageError');
}

describe('parseArgs', () => {
  it('parses run flags in both forms, with defaults', () => {
    const p = parseArgs(['run', '--seed', '7', '--runs=100', '--huge-pages', '--equiv', 'strict', '--shard=1/4', '--fault-rate', '.5']);
    expect(p).toMatchObject({
      command: 'run',
      args: {
        seed: 7, runs: 100, timeSec: null, equiv: 'strict', domain: 'legal', designs: ['before', 'after'], faultRate: 0.5,
        config: { geometry: 'compact', hugePages: true, vcpus: 2 }, shard: { index: 1, count: 4 }, out: 'out', crashes: 'out/crashes',
      },
    });
    expect(parseArgs(['run'])).toMatchObject({ args: { timeSec: 60, runs: null, seed: 1, corpus: undefined } });
    // findings go with the run's output, not into the triaged corpus crashes/ (issue 12 item 1)
    expect(parseArgs(['run', '--out', 'o7'])).toMatchObject({ args: { crashes: 'o7/crashes' } });
    expect(parseArgs(['run', '--resume', 'res'])).toMatchObject({ args: { crashes: 'res/crashes' } });
    expect(parseArgs(['run', '--crashes', 'crashes'])).toMatchObject({ args: { crashes: 'crashes' } });
    expect(parseArgs(['run', '--no-corpus'])).toMatchObject({ args: { corpus: null } });
    expect(parseArgs(['run'])).toMatchObject({ args: { hangTimeoutSec: 10 } });
    expect(parseArgs(['run', '--hang-timeout', '2.5'])).toMatchObject({ args: { hangTimeoutSec: 2.5 } });
    expect(parseArgs(['run', '--help'])).toMatchObject({ command: 'help' });
    expect(parseArgs(['replay', '-h'])).toMatchObject({ command: 'help' });
    expect(parseArgs(['replay', 'a.json', '--trace', 'b'])).toEqual({
      command: 'replay', args: { files: ['a.json', 'b'], designs: null, equiv: null, domain: null, trace: true, hangMs: 10_000, junit: null },
    });
  });

  it('rejects bad input with one line naming the flag', () => {
    // no command at all: the command list, exit 2 (test/cli_help.test.ts)
    expect(usage(['fuzz'])).toMatch(/^unknown command "fuzz" \(expected run, replay(, [a-z]+)*; see tdpfuzz --help\)$/);
    expect(usage(['run', '--sed', '1'])).toBe('--sed: unknown flag for "run" (see tdpfuzz run --help)');
    expect(usage(['run', '--seed'])).toBe('--seed: missing value (expected a non-negative integer)');
    expect(usage(['run', '--seed', '--runs', '5'])).toBe('--seed: missing value (expected a non-negative integer)');
    expect(usage(['run', '--seed', 'x1'])).toBe('--seed: expected a non-negative integer, got "x1"');
    expect(usage(['run', '--seed=-1'])).toBe('--seed: -1 is out of range (expected a non-negative integer)');
    expect(usage(['run', '--time', '0'])).toBe('--time: 0 is out of range (expected a number > 0)');
    expect(usage(['run', '--time', '10s'])).toBe('--time: expected a number > 0, got "10s"');
    expect(usage(['run', '--vcpus', '9'])).toBe('--vcpus: 9 is out of range (expected an integer in 1..8)');
    expect(usage(['run', '--fault-rate', '1.5'])).toBe('--fault-rate: 1.5 is out of range (expected a number in [0, 1])');
    expect(usage(['run', '--equiv', 'loose'])).toBe('--equiv: unknown value "loose" (expected one of state, strict, final)');
    expect(usage(['run', '--shard', '4/4'])).toBe('--shard: 4/4 is out of range (expected I/N with 0 <= I < N)');
    expect(usage(['run', '--huge-pages=yes'])).toBe('--huge-pages: takes no value (got "yes")');
    expect(usage(['run', '--seed', '1', '--seed', '2'])).toBe('--seed: given more than once');
    expect(usage(['run', 'extra'])).toBe('run: unexpected argument "extra" (run takes only flags; see tdpfuzz run --help)');
    expect(usage(['run', '-s', '1'])).toMatch(/^-s: unknown option for "run"/);
    expect(usage(['run', '--out='])).toBe('--out: empty value (expected a directory)');
    expect(usage(['replay'])).toBe('replay: missing FILE (a sequence file, a crash file or a directory of them)');
    expect(usage(['replay', 'x', '--designs'])).toBe('--designs: missing value (expected a comma-separated list of design names or module paths)');
  });
});

describe('main', () => {
  it('prints usage errors in one line with exit 2, help with exit 0', async () => {
    const o = io(tmpDir('cli'));
    expect(await main(['run', '--runs', 'many'], o)).toBe(2);
    expect(o.stderr).toBe('tdpfuzz: --runs: expected a non-negative integer, got "many"\n');
    const h = io(tmpDir('cli'));
    expect(await main(['run', '--help'], h)).toBe(0);
    expect(h.stdout).toContain('--time S');
    const d = io(tmpDir('cli'));
    expect(await main(['run', '--designs', 'before,nope', '--runs', '1'], d)).toBe(2);
    expect(d.stderr).toBe('tdpfuzz: --designs: unknown design "nope" (known: before, after, mutant:<id>, alt:<id>, <series>:<step> (e.g. v3:P7), or a path to a module exporting a design)\n');
  });

  it('run: exit 1 with unexplained findings, prints the report path and verdict', async () => {
    const dir = tmpDir('cli');
    const off = registerDesignResolver(n => (n === 'broken' ? broken : undefined));
    try {
      const o = io(dir);
      expect(await main(['run', '--designs', 'before,broken', '--runs', '40', '--seed', '3'], o)).toBe(1);
      expect(o.stdout).toMatch(/^report: out\/report\.md \(also report\.json, report\.junit\.xml, report\.html, report\.txt\)\nVERDICT: 1 unexplained bug \(1 signature\) in 40 sequences/);
      expect(o.stderr).toMatch(/NEW divergence\|before\+broken\|gracePeriod\|result -> out\/crashes\/divergence-graceperiod-result-/);
      const clean = io(dir);
      expect(await main(['run', '--runs', '20', '--out', 'o2', '--crashes', 'c2'], clean)).toBe(0);
      expect(clean.stdout).toContain('VERDICT: no unexplained divergence in 20 sequences');
      expect(fs.existsSync(path.join(dir, 'c2'))).toBe(false);
    } finally {
      off();
    }
  });

  it('replay: 0 when nothing is found, 1 when a finding reproduces, 2 on bad input', async () => {
    const dir = tmpDir('cli');
    const off = registerDesignResolver(n => (n === 'broken' ? broken : undefined));
    try {
      const seq = makeSequence(COMPACT, [{ kind: 'finalize' }, ...grace(2)]);
      fs.writeFileSync(path.join(dir, 'clean.json'), serializeSequence(seq));
      const ok = io(dir);
      expect(await main(['replay', 'clean.json'], ok)).toBe(0);
      expect(ok.stdout).toMatch(/^PASS clean\.json \(3 ops \+ teardown\)\nreplayed 1 file: 1 pass, 0 fail\n$/);

      // A crash file recorded against before vs broken reproduces its signature.
      const r = runSequence(seq, { designs: [before, broken], equiv: 'state', domain: 'legal' });
      const store = new CrashStore('crashes', { cwd: dir, now: fixedClock() });
      const rec = store.record({
        finding: r.findings[0], config: COMPACT, designs: ['before', 'broken'], equiv: 'state', domain: 'legal',
        source: { file: 'clean.json' }, ops: seq.ops, originalOps: seq.ops,
      });
      const bad = io(dir);
      expect(await main(['replay', 'crashes'], bad)).toBe(1);
      expect(bad.stdout).toContain(`FAIL crashes/${path.basename(rec.file)}: recorded signature reproduced`);
      expect(bad.stdout).toContain('divergence|before+broken|gracePeriod|result: before and broken diverge in result at op 1');

      // Replayed against a fixed design, it passes (regression mode).
      const fixed = io(dir);
      expect(await main(['replay', '--designs', 'before,after', 'crashes'], fixed)).toBe(0);
      expect(fixed.stdout).toContain('recorded signature no longer reproduces');

      // Marked expected: XFAIL, exit 0.
      fs.writeFileSync(rec.file, serializeCrash({ ...rec.crash, status: 'expected' }));
      const x = io(dir);
      expect(await main(['replay', rec.file], x)).toBe(0);
      expect(x.stdout).toMatch(/^XFAIL .* \[expected\]: recorded signature reproduced/);

      // --trace prints every op side by side.
      const t = io(dir);
      expect(await main(['replay', '--trace', '--designs', 'before,broken', 'clean.json'], t)).toBe(1);
      expect(t.stdout).toMatch(/!= op 1: gracePeriod\n\s+before\s+\| broken\n/);
      expect(t.stdout).toContain('op 3: destroy  (teardown appended by the runner)');

      // Bad input: every bad file is named in one line, nothing is run.
      fs.writeFileSync(path.join(dir, 'broken.json'), '{"format": "tdpfuzz-seq/1", "config": {"geometry": "compact"}, "ops": [{"kind": "fault"}]}');
      fs.writeFileSync(path.join(dir, 'other.json'), '{"format": "something/2"}');
      const e = io(dir);
      expect(await main(['replay', 'clean.json', 'broken.json', 'other.json', 'missing.json'], e)).toBe(2);
      expect(e.stderr).toBe('tdpfuzz: missing.json: no such file or directory\n');
      const e2 = io(dir);
      expect(await main(['replay', 'clean.json', 'broken.json', 'other.json'], e2)).toBe(2);
      expect(e2.stdout).toBe('');
      expect(e2.stderr).toBe('tdpfuzz: broken.json: ops[0].gfn: missing (required)\n'
        + 'tdpfuzz: other.json: format "something/2" is not supported (expected "tdpfuzz-seq/1" or "tdpfuzz-crash/1")\n');
    } finally {
      off();
    }
  });
});
