// The jsfuzz engine (DESIGN §3): the CLI fuzz target, `tdpfuzz import`, the jsfuzz CLI end to end,
// and the in-process engine (deterministic per seed; istanbul coverage of impls/ in a worker).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../harness/cli/main';
import { readCrashFile } from '../harness/store/crash_store';
import { jsfuzzEngine } from '../harness/fuzz/engines/jsfuzz';
import { FuzzFinding, makeFuzzTarget, resolveTargetOptions, targetOptionsFromEnv } from '../harness/fuzz/fuzz_bytes';
import { targetConfigOf, writeTargetConfig } from '../harness/fuzz/jsfuzz_config';
import type { ReportData } from '../harness/report/data';
import { runSequence } from '../harness/run/runner';
import { InputError } from '../harness/seq/sequence';
import { loadDesigns } from '../harness/run/designs';
import { buildTree, removeTree, ROOT } from './build_helper';
import { COMPACT, tmpDir } from './harness/helpers';

const MUTANT = 'mutant:misses-leaf-zap-propagation';

function randomBuffers(seed: string, n: number, maxLen = 48): Buffer[] {
  const rng = seedrandom(seed);
  return Array.from({ length: n }, () => Buffer.from(Array.from({ length: Math.floor(rng() * maxLen) }, () => Math.floor(rng() * 256))));
}

function io(cwd: string, env: Record<string, string | undefined> = {}): Io & { stdout: string; stderr: string } {
  const o = {
    stdout: '', stderr: '', cwd, isTTY: false, env,
    out(t: string) { o.stdout += t; },
    err(t: string) { o.stderr += t; },
  };
  return o;
}

/** The first of the seeded random buffers on which the mutant target throws. */
function crashingInput(): { buf: Buffer; error: FuzzFinding } {
  const fuzz = makeFuzzTarget({ designs: `after,${MUTANT}` });
  for (const buf of randomBuffers('crash', 200)) {
    try {
      fuzz(buf);
    } catch (e) {
      return { buf, error: e as FuzzFinding };
    }
  }
  throw new Error('no crashing input among 200 random buffers');
}

describe('fuzz target (jsfuzz CLI)', () => {
  it('throws a FuzzFinding naming the signatures on a mutant design', () => {
    const { buf, error } = crashingInput();
    expect(error).toBeInstanceOf(FuzzFinding);
    expect(error.signatures.length).toBeGreaterThan(0);
    for (const s of error.signatures) expect(error.message).toContain(s);
    expect(error.signatures.join(' ')).toContain(MUTANT);
    // The signatures are those of a plain run of the decoded sequence.
    const r = runSequence(error.seq, { designs: loadDesigns(`after,${MUTANT}`), equiv: 'state', domain: 'legal' });
    expect(r.findings.map(f => f.signature)).toEqual(error.signatures);
    expect(buf.length).toBeGreaterThan(0);
  });

  it('does not throw for before,after on 500 random inputs', () => {
    const fuzz = makeFuzzTarget({ designs: 'before,after' });
    for (const buf of randomBuffers('clean', 500, 96)) fuzz(buf);
  });

  it('reads its configuration from TDPFUZZ_* variables, with one-line errors', () => {
    const o = targetOptionsFromEnv({ TDPFUZZ_DESIGNS: 'after,before', TDPFUZZ_DOMAIN: 'extended', TDPFUZZ_GEOMETRY: 'x86', TDPFUZZ_EQUIV: 'strict', TDPFUZZ_HUGE_PAGES: '1' });
    expect(o).toMatchObject({ designs: 'after,before', domain: 'extended', equiv: 'strict', config: { geometry: 'x86', hugePages: true, vcpus: 2 } });
    expect(targetOptionsFromEnv({})).toMatchObject({ designs: 'before,after', domain: 'legal', equiv: 'state', config: COMPACT });
    for (const env of [{ TDPFUZZ_DOMAIN: 'illegal' }, { TDPFUZZ_GEOMETRY: 'arm' }, { TDPFUZZ_VCPUS: '0' }, { TDPFUZZ_HUGE_PAGES: 'yes' }]) {
      expect(() => targetOptionsFromEnv(env)).toThrow(InputError);
      try { targetOptionsFromEnv(env); } catch (e) { expect((e as Error).message).not.toContain('\n'); }
    }
    expect(() => makeFuzzTarget({ designs: 'before,nonesuch' })).toThrow(/unknown design "nonesuch"/);
  });
});

describe('tdpfuzz import', () => {
  it('converts a jsfuzz crash file (raw bytes) into a crash file; exit 1', async () => {
    const dir = tmpDir('import');
    const { buf, error } = crashingInput();
    fs.writeFileSync(path.join(dir, 'crash-abc'), buf);
    const o = io(dir, { TDPFUZZ_DESIGNS: `after,${MUTANT}` });
    expect(await main(['import', 'crash-abc', '--crashes', 'found'], o)).toBe(1);
    const files = fs.readdirSync(path.join(dir, 'found')).filter(f => f.endsWith('.json')).sort();
    expect(files).toHaveLength(error.signatures.length);
    const crashes = files.map(f => readCrashFile(path.join(dir, 'found', f)));
    expect(crashes.map(c => c.signature).sort()).toEqual([...error.signatures].sort());
    for (const c of crashes) {
      expect(c.source).toEqual({ file: 'crash-abc', engine: 'jsfuzz' });
      expect(c.designs).toEqual(['after', MUTANT]);
      expect(c.ops).toEqual(error.seq.ops);
      expect(c.firstDivergence === null || c.firstDivergence.stateDiff.length > 0).toBe(true);
    }
    expect(o.stdout).toMatch(/^IMPORT crash-abc/m);
    // The flags override the environment: with before,after nothing reproduces (exit 0).
    const o2 = io(dir, { TDPFUZZ_DESIGNS: `after,${MUTANT}` });
    expect(await main(['import', 'crash-abc', '--designs', 'before,after', '--crashes', 'none'], o2)).toBe(0);
    expect(o2.stdout).toMatch(/^NOREPRO crash-abc/m);
    expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
    // Unreadable files: one line each, exit 2 when nothing was recorded.
    const o3 = io(dir);
    expect(await main(['import', 'missing', '--crashes', 'none'], o3)).toBe(2);
    expect(o3.stderr.trim().split('\n').filter(l => !l.startsWith('WARNING: no tdpfuzz-target.json'))).toEqual(['tdpfuzz: missing: cannot read (no such file or directory)']);
    // without the fuzzer's recorded configuration the import says what it decodes with
    expect(o2.stderr).toContain('WARNING: no tdpfuzz-target.json next to the inputs: decoding with the flags and TDPFUZZ_* environment');
  });

  it('reads the configuration the fuzzer recorded next to its crash files; a contradicting flag is an error (issue 12 item 6)', async () => {
    const dir = tmpDir('import-config');
    const { buf, error } = crashingInput();
    fs.mkdirSync(path.join(dir, 'crashes-jsfuzz'));
    fs.writeFileSync(path.join(dir, 'crashes-jsfuzz', 'crash-abc'), buf);
    // what the target writes when jsfuzz loads it (fuzz_target.ts)
    writeTargetConfig(path.join(dir, 'crashes-jsfuzz'), targetConfigOf(resolveTargetOptions({ designs: `after,${MUTANT}` }), dir));
    // no TDPFUZZ_DESIGNS in this shell: the recorded designs are used, the finding reproduces
    const o = io(dir, {});
    expect(await main(['import', 'crashes-jsfuzz/', '--crashes', 'found'], o)).toBe(1);
    expect(fs.readdirSync(path.join(dir, 'found')).filter(f => f.endsWith('.json'))).toHaveLength(error.signatures.length);
    const clash = io(dir, {});
    expect(await main(['import', 'crashes-jsfuzz/', '--designs', 'before,after', '--crashes', 'none'], clash)).toBe(2);
    expect(clash.stderr.trim()).toBe(`tdpfuzz: --designs: "before,after" differs from what tdpfuzz-target.json records for these crash files ("after,${MUTANT}")`);
    expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
  });
});

describe('compiled target and worker engine', () => {
  let tree = '';
  beforeAll(() => { tree = buildTree('jsfuzz'); });
  afterAll(() => { if (tree) removeTree(tree); });

  it('the compiled target requires nothing from node_modules (lean for the CLI)', () => {
    const script = `
      const t = require(${JSON.stringify(path.join(tree, 'harness/fuzz/fuzz_target.js'))});
      for (let i = 0; i < 300; i++) { try { t.fuzz(require('crypto').randomBytes(i % 64)); } catch (e) { if (e.name !== 'FuzzFinding') throw e; } }
      console.log(JSON.stringify(Object.keys(require.cache).filter(k => k.includes('node_modules'))));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('the jsfuzz CLI loads the compiled target and writes crash-<sha256> for a throwing input', () => {
    const work = tmpDir('jsfuzz-cli');
    const { buf } = crashingInput();
    fs.mkdirSync(path.join(work, 'crashes'));
    fs.mkdirSync(path.join(work, 'seeds'));
    fs.writeFileSync(path.join(work, 'seeds', 'seed'), buf); // seeds run first: an immediate crash
    const target = path.relative(path.join(work, 'crashes'), path.join(tree, 'harness/fuzz/fuzz_target.js'));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/jsfuzz/build/src/index.js'), target, '../seeds'], {
      cwd: path.join(work, 'crashes'), encoding: 'utf8', timeout: 30_000,
      env: { ...process.env, TDPFUZZ_DESIGNS: `after,${MUTANT}` },
    });
    expect(r.stdout).toMatch(/crash was written to crash-[0-9a-f]{64}/);
    expect(r.stdout).toContain(MUTANT);
    const crash = fs.readdirSync(path.join(work, 'crashes')).find(f => f.startsWith('crash-'))!;
    expect(fs.readFileSync(path.join(work, 'crashes', crash))).toEqual(buf);
  });

  it('run --engine jsfuzz runs in a worker with istanbul coverage of impls/ only, deterministically', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jsMain = (require(path.join(tree, 'harness/cli/main.js')) as typeof import('../harness/cli/main')).main;
    const run = async (cwd: string): Promise<ReportData> => {
      const o = io(cwd);
      const code = await jsMain(['run', '--engine', 'jsfuzz', '--seed', '5', '--runs', '150', '--no-corpus', '--no-minimize', '--out', 'out', '--crashes', 'crashes'], o);
      expect(code, o.stderr).toBe(0);
      expect(o.stderr).toContain('1 worker thread');
      return JSON.parse(fs.readFileSync(path.join(cwd, 'out', 'report.json'), 'utf8')) as ReportData;
    };
    const [a, b] = [tmpDir('jsw'), tmpDir('jsw')];
    const [ra, rb] = await Promise.all([run(a), run(b)]);
    const stats = JSON.parse(fs.readFileSync(path.join(a, 'out', 'stats.json'), 'utf8'));
    expect(stats.engine).toBe('jsfuzz');
    expect(stats.engineCoverage).toHaveLength(1);
    expect(stats.engineCoverage[0].source).toBe('istanbul');
    expect(stats.engineCoverage[0].count).toBeGreaterThan(100);
    expect(ra.scope.sequences).toBe(150);
    const strip = (r: ReportData) => ({ ...r, timing: null });
    expect(strip(rb)).toEqual(strip(ra));
    // The kept inputs (the jsfuzz corpus, <out>/corpus/bytes/<sha256>) are the same files.
    const kept = (d: string) => fs.readdirSync(path.join(d, 'out', 'corpus', 'bytes')).sort();
    expect(kept(a).length).toBeGreaterThan(5);
    expect(kept(b)).toEqual(kept(a));
  });
});

describe('in-process jsfuzz engine', () => {
  const designs = loadDesigns('before,after');
  const ctx = (seed: string | number) => ({
    seed, gen: { config: COMPACT, domain: 'legal' as const }, shard: null, designs, equiv: 'state' as const, domain: 'legal' as const, corpusOut: null,
  });
  const drive = (seed: string | number, n: number): string[] => {
    const e = jsfuzzEngine(ctx(seed));
    expect(e.coverageSource).toBe('model'); // impls/ is not instrumented under vitest
    const out: string[] = [];
    for (let k = 0; k < n; k++) {
      const item = e.next(k);
      out.push(JSON.stringify(item.seq.ops));
      e.feedback(item, runSequence(item.seq, { designs, equiv: 'state', domain: 'legal' }));
    }
    expect(e.corpusSize()).toBeGreaterThan(1);
    return out;
  };

  it('is deterministic per seed and leaves Math.random alone', () => {
    const random = Math.random;
    const a = drive(3, 150);
    expect(Math.random).toBe(random);
    expect(drive(3, 150)).toEqual(a);
    expect(drive(4, 150)).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(20);
  });
});
