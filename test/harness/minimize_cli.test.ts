// `tdpfuzz minimize`, `tdpfuzz explain`, `run`'s minimization of new findings, meta.expect in replay,
// and concurrent in-place updates of one crash file (minimize vs a campaign recording hits).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Op } from '../../impls/api';
import { after } from '../../impls/designs';
import { findMutant } from '../../impls/mutants/catalogue';
import { main, parseArgs } from '../../harness/cli/main';
import { CrashStore, readCrashFile, serializeCrash, updateCrashFile } from '../../harness/store/crash_store';
import { generateSequence } from '../../harness/seq/generate';
import { runSequence } from '../../harness/run/runner';
import { makeSequence, parseSequence, serializeSequence, type Sequence } from '../../harness/seq/sequence';
import { COMPACT, fixedClock, tmpDir, transpileTree, captureIo as io } from './helpers';

// A mutant whose findings come as a divergence with a state diff (and two sibling signatures), and one
// whose reproducer shows exactly one finding (a double free in the RCU callback).
const MUTANT = 'frees-on-reclaim-failure';
const SINGLE = 'rcu-cb-frees-external';
const designsOf = (id: string): string[] => ['after', `mutant:${id}`];
const DESIGNS = designsOf(MUTANT);
const runOf = (id: string) => ({ designs: [after, findMutant(id)!.design], equiv: 'state' as const, domain: 'legal' as const });
const RUN = runOf(MUTANT);

/** A long generated sequence on which the mutant shows a finding (unminimized). */
function longReproducer(id = MUTANT): { seq: Sequence; signature: string } {
  for (let i = 0; i < 2000; i++) {
    const seq = generateSequence(2, i, { config: COMPACT, domain: 'legal', faultRate: 0.3, raceRate: 0.3 });
    if (seq.ops.length < 10) continue;
    const r = runSequence(seq, runOf(id));
    if (r.findings.length) return { seq, signature: r.findings[0].signature };
  }
  throw new Error('no finding');
}

/** An unminimized crash file of the mutant in DIR/crashes; returns its path. */
function crashFile(dir: string, status: 'open' | 'expected' = 'open', id = MUTANT): { file: string; seq: Sequence; signature: string } {
  const { seq, signature } = longReproducer(id);
  const f = runSequence(seq, runOf(id)).findings.find(x => x.signature === signature)!;
  const store = new CrashStore('crashes', { cwd: dir, now: fixedClock() });
  const r = store.record({ finding: f, config: seq.config, designs: designsOf(id), equiv: 'state', domain: 'legal', source: { seed: 2, index: 0, engine: 'random' }, ops: seq.ops, originalOps: seq.ops, hits: 3 });
  if (status !== 'open') fs.writeFileSync(r.file, serializeCrash({ ...r.crash, status }));
  return { file: r.file, seq, signature };
}

const SUMMARY = /^(\d+) ops -> (\d+) ops in (\d+) runs \((\d+) ms\)$/m;

describe('tdpfuzz minimize', () => {
  it('minimizes a crash file in place: smaller ops, originalOps, stats, status and hits kept; it still replays', async () => {
    const dir = tmpDir('min');
    const { file, seq, signature } = crashFile(dir, 'expected', SINGLE);
    const o = io(dir);
    const rel = path.relative(dir, file);
    expect(await main(['minimize', rel], o)).toBe(0);
    const m = SUMMARY.exec(o.stdout)!;
    expect(Number(m[1])).toBe(seq.ops.length);
    expect(Number(m[2])).toBeLessThanOrEqual(4);
    expect(Number(m[2])).toBeLessThan(Number(m[1]));
    expect(o.stdout).toContain(`updated ${rel}\n`);
    expect(o.stdout).toContain(`replay: npx tdpfuzz replay ${rel}`);
    const c = readCrashFile(file);
    expect(c.signature).toBe(signature);
    expect(c.ops.length).toBe(Number(m[2]));
    expect(c.originalOps).toEqual(seq.ops);
    expect(c.status).toBe('expected');
    expect(c.hits).toBe(3);
    expect(c.minimization).toMatchObject({ opsBefore: seq.ops.length, opsAfter: c.ops.length, truncated: false, from: 'ops' });
    expect(c.finding.opIndex).toBeLessThanOrEqual(c.ops.length);
    expect(fs.readdirSync(path.dirname(file)).filter(n => n !== path.basename(file))).toEqual([]); // no temp or lock file left
    // the one replay command of the file: XFAIL (expected), exit 0
    const x = io(dir);
    expect(await main(['replay', rel], x)).toBe(0);
    expect(x.stdout).toMatch(/^XFAIL /);
    // minimizing again: already minimal, nothing changes but the stats
    const again = io(dir);
    expect(await main(['minimize', rel], again)).toBe(0);
    expect(readCrashFile(file).ops).toEqual(c.ops);
  });

  it('--out writes a new crash file and leaves the input alone; overrides need --out', async () => {
    const dir = tmpDir('min');
    const { file } = crashFile(dir);
    const before = fs.readFileSync(file, 'utf8');
    const o = io(dir);
    expect(await main(['minimize', path.relative(dir, file), '--out', 'min/x.json', '--max-runs', '500'], o)).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    const c = readCrashFile(path.join(dir, 'min/x.json'));
    expect(c.replay).toBe('npx tdpfuzz replay min/x.json');
    expect(c.originalOps).toEqual(readCrashFile(file).originalOps);
    expect(c.status).toBe('open');
    expect(c.ops.length).toBeLessThanOrEqual(4);
    expect((c.minimization as { maxRuns: number }).maxRuns).toBe(500);
    // a stored reproducer that no longer reproduces: minimized from originalOps instead
    const stale = readCrashFile(file);
    fs.writeFileSync(path.join(dir, 'stale.json'), serializeCrash({ ...stale, ops: [{ kind: 'finalize' }] }));
    const so = io(dir);
    expect(await main(['minimize', 'stale.json'], so)).toBe(0);
    expect(so.stdout).toMatch(new RegExp(`^${stale.originalOps.length} ops -> \\d ops in`));
    expect(readCrashFile(path.join(dir, 'stale.json')).minimization).toMatchObject({ from: 'originalOps' });
    const bad = io(dir);
    expect(await main(['minimize', path.relative(dir, file), '--equiv', 'strict'], bad)).toBe(2);
    expect(bad.stderr).toMatch(/^tdpfuzz: --equiv: differs from what crashes\/.*\.json records; write the result to another file with --out\n$/);
  });

  it('a sequence file: first unexplained finding, written to FILE.min.json, never over the input', async () => {
    const dir = tmpDir('min');
    const { seq, signature } = longReproducer();
    fs.writeFileSync(path.join(dir, 'long.json'), serializeSequence(seq));
    const o = io(dir);
    expect(await main(['minimize', 'long.json', '--designs', DESIGNS.join(',')], o)).toBe(0);
    expect(o.stdout).toMatch(SUMMARY);
    expect(o.stdout).toContain('wrote long.min.json');
    expect(o.stdout).toContain(`replay: npx tdpfuzz replay long.min.json --designs ${DESIGNS.join(',')}`);
    const min = parseSequence(fs.readFileSync(path.join(dir, 'long.min.json'), 'utf8'), 'long.min.json');
    expect(min.ops.length).toBeLessThanOrEqual(4);
    expect(min.meta).toMatchObject({ minimizedFrom: 'long.json', signature, designs: DESIGNS, equiv: 'state', domain: 'legal' });
    expect(runSequence(min, RUN).findings.map(f => f.signature)).toContain(signature);
    expect(parseSequence(fs.readFileSync(path.join(dir, 'long.json'), 'utf8'), 'long.json').ops).toEqual(seq.ops);
    // never overwrite the input
    const same = io(dir);
    expect(await main(['minimize', 'long.json', '--designs', DESIGNS.join(','), '--out', './long.json'], same)).toBe(2);
    expect(same.stderr).toBe('tdpfuzz: --out: ./long.json is the input file (minimize never overwrites an input sequence file)\n');
    // budget reported
    const tight = io(dir);
    expect(await main(['minimize', 'long.json', '--designs', DESIGNS.join(','), '--max-runs', '2', '--out', 't.json'], tight)).toBe(0);
    expect(tight.stdout).toMatch(/ops in 2 runs \(\d+ ms\) — stopped by the run budget, not 1-minimal/);
  });

  it('exit 1 when there is nothing to minimize, 2 on bad input (one line)', async () => {
    const dir = tmpDir('min');
    fs.writeFileSync(path.join(dir, 'clean.json'), serializeSequence(makeSequence(COMPACT, [{ kind: 'finalize' }, { kind: 'gracePeriod' }])));
    const none = io(dir);
    expect(await main(['minimize', 'clean.json'], none)).toBe(1);
    expect(none.stderr).toBe('tdpfuzz: clean.json: nothing to minimize: no unexplained finding with designs before,after\n');
    expect(fs.existsSync(path.join(dir, 'clean.min.json'))).toBe(false);
    const sig = io(dir);
    expect(await main(['minimize', 'clean.json', '--signature', 'leak|before|teardown|x'], sig)).toBe(1);
    expect(sig.stderr).toMatch(/nothing to minimize: leak\|before\|teardown\|x is not found/);
    // a crash file whose signature no longer reproduces (fixed design)
    const { file } = crashFile(dir);
    const fixed = io(dir);
    expect(await main(['minimize', path.relative(dir, file), '--designs', 'after,after', '--out', 'f.json'], fixed)).toBe(1);
    expect(fixed.stderr).toMatch(/does not reproduce with designs after,after/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"format": "tdpfuzz-seq/1", "config": {"geometry": "compact"}, "ops": [{"kind": "fault"}]}');
    for (const [argv, msg] of [
      [['minimize'], 'tdpfuzz: minimize: missing FILE (a crash file or a sequence file)\n'],
      [['minimize', 'bad.json'], 'tdpfuzz: bad.json: ops[0].gfn: missing (required)\n'],
      [['minimize', 'nope.json'], 'tdpfuzz: nope.json: cannot read (no such file)\n'],
      [['minimize', 'clean.json', '--max-runs', '0'], 'tdpfuzz: --max-runs: 0 is out of range (expected an integer in 1..10000000)\n'],
      [['explain', 'bad.json'], 'tdpfuzz: bad.json: ops[0].gfn: missing (required)\n'],
      [['explain', 'a.json', 'b.json'], 'tdpfuzz: explain: expected one FILE, got 2 (a.json b.json)\n'],
    ] as const) {
      const e = io(dir);
      expect(await main([...argv], e), argv.join(' ')).toBe(2);
      expect(e.stderr).toBe(msg);
    }
    const h = io(dir);
    expect(await main(['minimize', '--help'], h)).toBe(0);
    expect(h.stdout).toContain('usage: tdpfuzz minimize [flags] FILE');
  });
});

describe('tdpfuzz explain', () => {
  it('prints numbered ops, the finding, side-by-side traces and the first-divergence diffs; exit like replay', async () => {
    const dir = tmpDir('explain');
    const { file } = crashFile(dir);
    expect(await main(['minimize', path.relative(dir, file)], io(dir))).toBe(0);
    const c = readCrashFile(file);
    const o = io(dir);
    expect(await main(['explain', path.relative(dir, file)], o)).toBe(1); // an open finding reproduces
    const out = o.stdout;
    expect(out).toContain(`designs after vs mutant:${MUTANT}; state equivalence; legal domain`);
    expect(out).toMatch(/^ops \(\d+(, then the teardown the runner appends)?\):\n {4}0 {2}\S/m);
    expect(out).toContain(`finding: ${c.signature} [open] — reproduced at op`);
    expect(out).toMatch(/^trace \(each design side by side/m);
    expect(out).toMatch(/after +\| mutant:frees-on-reclaim-failure/);
    expect(out).toContain('seamcall PHYMEM.PAGE.RECLAIM');
    expect(out).toMatch(/^first divergence: op \d+ \(/m);
    expect(out).toContain(`state after the op (unified diff, after vs mutant:${MUTANT}):`);
    expect(out).toMatch(/^--- after\n\+\+\+ mutant:frees-on-reclaim-failure\n@@/m);
    expect(out).toContain(`FAIL ${path.relative(dir, file)}: recorded signature reproduced (+2 other findings)`);
    expect(out).toMatch(/^other unexplained findings:\n {2}- (leak|tdx-owned-free)\|mutant:frees-on-reclaim-failure\|/m);
    // expected, with a reproducer showing only its own finding: XFAIL, exit 0
    const single = crashFile(dir, 'expected', SINGLE);
    const x = io(dir);
    expect(await main(['explain', path.relative(dir, single.file)], x)).toBe(0);
    expect(x.stdout).toContain(`finding: ${single.signature} [expected] — reproduced at op`);
    expect(x.stdout).toMatch(/^XFAIL .* \[expected\]: recorded signature reproduced/m);
  });

  it('explains a corpus scenario: description, explained differences, exit 0', async () => {
    const root = path.resolve(__dirname, '../..');
    const o = io(root);
    expect(await main(['explain', 'corpus/teardown-reclaim-failure.json'], o)).toBe(0);
    expect(o.stdout).toMatch(/^description: PHYMEM\.PAGE\.RECLAIM fails/m);
    expect(o.stdout).toMatch(/^ {2}- D4 extra MMU WARN when free_external_spt fails: /m);
    expect(o.stdout).toContain('first divergence: op 2 (destroy fail[reclaim#1]), in diagnostics (explained: D4');
    expect(o.stdout).toContain('-diag WARN external-spt-free-failed @ tdp_mmu.c:handle_removed_pt:free_external_spt');
    expect(o.stdout).toContain('state after the op (unified diff, before vs after):\n  (same canonical state)');
    expect(o.stdout).toContain('PASS corpus/teardown-reclaim-failure.json (3 ops, explained: D4)');
  });
});

describe('replay honours a corpus scenario\'s meta.expect', () => {
  it('fails, naming the file, when the explained differences are not the expected ones; bad meta.expect is bad input', async () => {
    const dir = tmpDir('expect');
    const ops: Op[] = [{ kind: 'finalize' }, { kind: 'fault', vcpu: 0, gfn: 9, private: true, write: true, maxLevel: 1 }, { kind: 'destroy', fail: [{ at: 'reclaim', nth: 1 }] }];
    const write = (name: string, meta: Record<string, unknown>): void => fs.writeFileSync(path.join(dir, name), serializeSequence(makeSequence(COMPACT, ops, meta)));
    write('good.json', { expect: { explained: ['D4'] } });
    write('wrong.json', { expect: { explained: [] } });
    write('malformed.json', { expect: { explained: 'D4' } });
    const ok = io(dir);
    expect(await main(['replay', 'good.json'], ok)).toBe(0);
    const bad = io(dir);
    expect(await main(['replay', 'wrong.json'], bad)).toBe(1);
    expect(bad.stdout).toContain('FAIL wrong.json: explained differences D4, expected none (meta.expect.explained) (3 ops, explained: D4)');
    // with other designs the expectation does not apply
    expect(await main(['replay', 'wrong.json', '--designs', 'before,before'], io(dir))).toBe(0);
    const m = io(dir);
    expect(await main(['replay', 'malformed.json'], m)).toBe(2);
    expect(m.stderr).toBe('tdpfuzz: malformed.json: meta.expect.explained: expected an array of D-ids like "D4", got "D4"\n');
  });
});

describe('tdpfuzz run minimizes each new signature', () => {
  it('parses --minimize-runs/--minimize-time/--no-minimize', () => {
    expect(parseArgs(['run'])).toMatchObject({ args: { minimize: { maxRuns: 2000, timeMs: 10_000 } } });
    expect(parseArgs(['run', '--minimize-runs', '50', '--minimize-time', '2.5'])).toMatchObject({ args: { minimize: { maxRuns: 50, timeMs: 2500 } } });
    expect(parseArgs(['run', '--no-minimize'])).toMatchObject({ args: { minimize: null } });
    expect(() => parseArgs(['run', '--no-minimize', '--minimize-runs', '5'])).toThrow('--no-minimize: cannot be combined with --minimize-runs');
  });

  it('stores minimized reproducers (with stats) by default, the original with --no-minimize', async () => {
    const dir = tmpDir('runmin');
    const o = io(dir);
    const d = designsOf('stats-before-hook').join(',');
    expect(await main(['run', '--designs', d, '--runs', '40', '--seed', '1'], o)).toBe(1);
    const files = fs.readdirSync(path.join(dir, 'out', 'crashes'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const c = readCrashFile(path.join(dir, 'out', 'crashes', f));
      expect(c.ops.length, f).toBeLessThanOrEqual(4);
      expect(c.minimization, f).toMatchObject({ opsAfter: c.ops.length, maxRuns: 2000, truncated: false });
      expect(c.originalOps.length).toBeGreaterThan(c.ops.length);
    }
    const report = fs.readFileSync(path.join(dir, 'out', 'report.md'), 'utf8');
    expect(report).toMatch(/minimized from \d+/);
    const raw = io(dir);
    expect(await main(['run', '--designs', d, '--runs', '40', '--seed', '1', '--no-minimize', '--crashes', 'raw', '--out', 'o2'], raw)).toBe(1);
    for (const f of fs.readdirSync(path.join(dir, 'raw'))) {
      const c = readCrashFile(path.join(dir, 'raw', f));
      expect(c.minimization).toBeUndefined();
      expect(c.ops).toEqual(c.originalOps);
    }
  });
});

describe('crash store: concurrent in-place minimization and hit recording', () => {
  it('loses no hit and keeps the smallest reproducer when minimize and campaigns update one file at once', async () => {
    const work = tmpDir('conc-min');
    const mod = transpileTree('harness/store/crash_store.ts', path.join(work, 'js'));
    const crashDir = path.join(work, 'crashes');
    const sig = 'divergence|before+after|fault|mirror';
    const finding = { signature: sig, kind: 'divergence', designs: ['before', 'after'], opIndex: 0, opKind: 'fault', component: 'mirror', message: 'm' };
    const ops = (n: number): Op[] => Array.from({ length: n }, () => ({ kind: 'gracePeriod' }) as Op);
    const store = new CrashStore(crashDir, { cwd: work });
    const first = store.record({ finding: finding as never, config: COMPACT, designs: ['before', 'after'], equiv: 'state', domain: 'legal', source: { seed: 0, index: 0, engine: 'random' }, ops: ops(12), originalOps: ops(12) });
    const script = path.join(work, 'child.js');
    fs.writeFileSync(script, `
      const { CrashStore, updateCrashFile } = require(${JSON.stringify(mod)});
      const [dir, file, role, n] = [process.argv[2], process.argv[3], process.argv[4], Number(process.argv[5])];
      const ops = k => Array.from({ length: k }, () => ({ kind: 'gracePeriod' }));
      const store = new CrashStore(dir, { cwd: dir });
      for (let i = 0; i < n; i++) {
        if (role === 'min') {
          // what "tdpfuzz minimize FILE" does in place: replace the reproducer unless a smaller one is stored
          const k = 11 - (i % 10);
          updateCrashFile(file, c => (c.ops.length < k ? null : { ...c, ops: ops(k), minimization: { opsAfter: k } }));
        } else {
          store.record({ finding: ${JSON.stringify(finding)}, config: { geometry: 'compact', hugePages: false, vcpus: 2 },
            designs: ['before', 'after'], equiv: 'state', domain: 'legal', source: { seed: 1, index: i, engine: 'random' },
            ops: ops(13 + (i % 3)), originalOps: ops(13) });
        }
      }
    `);
    const N = 25;
    const roles = ['min', 'rec', 'rec', 'rec'];
    const codes = await Promise.all(roles.map(role => new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [script, crashDir, first.file, role, String(N)], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', code => resolve(code ?? -1));
    })));
    expect(codes).toEqual([0, 0, 0, 0]);
    const c = readCrashFile(first.file);
    expect(c.hits).toBe(1 + 3 * N);
    expect(c.ops).toHaveLength(2); // the smallest the minimizer offered (11 - 9)
    expect(c.minimization).toEqual({ opsAfter: 2 });
    expect(fs.readdirSync(crashDir)).toEqual([path.basename(first.file)]);
    // updateCrashFile validates what it writes
    expect(() => updateCrashFile(first.file, cur => ({ ...cur, hits: 0 }))).toThrow(/hits: 0 is out of range/);
    expect(readCrashFile(first.file).hits).toBe(1 + 3 * N);
  });
});
