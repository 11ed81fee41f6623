import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CRASH_FORMAT, CrashStore, crashFileName, parseCrash, readCrashFile, serializeCrash, type CrashFile,
} from '../../harness/store/crash_store';
import { withFileLock, writeFileAtomic } from '../../harness/store/fsutil';
import { InputError } from '../../harness/seq/sequence';
import { COMPACT, finding, fixedClock, grace, tmpDir, transpileTree } from './helpers';

function store(dir: string): CrashStore {
  return new CrashStore(dir, { cwd: dir, now: fixedClock() });
}

function rec(ops: number, extra: object = {}) {
  return {
    finding: finding(), config: COMPACT, designs: ['before', 'after'], equiv: 'state' as const, domain: 'legal' as const,
    source: { seed: 1, index: ops, engine: 'random' }, ops: grace(ops), originalOps: grace(ops), ...extra,
  };
}

function errorOf(text: string): string {
  try {
    parseCrash(text, 'crashes/x.json');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an InputError');
}

describe('crash file names', () => {
  it('are safe, stable and distinct per signature', () => {
    const a = crashFileName('divergence|before+after|fault|mirror');
    expect(a).toMatch(/^[a-z0-9._-]+\.json$/);
    expect(a).toMatch(/^divergence-fault-mirror-[0-9a-f]{12}\.json$/);
    expect(crashFileName('divergence|before+after|fault|mirror')).toBe(a);
    expect(crashFileName('divergence|before+after|fault|sept')).not.toBe(a);
    const odd = crashFileName('unexpected-diagnostic|before|fault|WARN:../../etc/passwd Ärger|x');
    expect(odd).toMatch(/^[a-z0-9._-]+\.json$/);
    expect(odd).not.toContain('..');
  });
});

describe('CrashStore', () => {
  it('round-trips a crash file and leaves no temp or lock files', () => {
    const dir = tmpDir('crash');
    const r = store(dir).record(rec(5, { minimization: { steps: 3 } }));
    expect(r.created).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([path.basename(r.file)]);
    const c = readCrashFile(r.file);
    expect(c).toEqual(r.crash);
    expect(c.format).toBe(CRASH_FORMAT);
    expect(c.status).toBe('open');
    expect(c.hits).toBe(1);
    expect(c.firstSeen).toBe('2025-01-01T00:00:01.000Z');
    expect(c.replay).toBe(`npx tdpfuzz replay ${path.basename(r.file)}`);
    expect(c.toolVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(c.minimization).toEqual({ steps: 3 });
    // The serialization is stable: re-serializing what was read gives the same bytes.
    expect(serializeCrash(c, r.file)).toBe(fs.readFileSync(r.file, 'utf8'));
  });

  it('same signature: counts hits, updates lastSeen, keeps the smaller reproducer and the triage status', () => {
    const dir = tmpDir('crash');
    const s = store(dir);
    const first = s.record(rec(6));
    // A developer triages the file.
    const triaged: CrashFile = { ...first.crash, status: 'expected' };
    fs.writeFileSync(first.file, serializeCrash(triaged));

    const bigger = s.record(rec(9));
    expect(bigger.created).toBe(false);
    expect(bigger.reproducerReplaced).toBe(false);
    expect(bigger.crash.ops).toHaveLength(6);
    expect(bigger.crash.hits).toBe(2);

    // merge's record of what it merged in accounts for hits the file keeps: a new reproducer keeps it.
    const mergedFrom = { '../m0/crashes/x.json': { hits: 1, firstSeen: first.crash.firstSeen } };
    fs.writeFileSync(first.file, serializeCrash({ ...readCrashFile(first.file), mergedFrom }));
    const smaller = s.record(rec(3));
    expect(smaller.reproducerReplaced).toBe(true);
    expect(readCrashFile(smaller.file).mergedFrom).toEqual(mergedFrom);
    const c = readCrashFile(smaller.file);
    expect(c.ops).toHaveLength(3);
    expect(c.source).toEqual({ seed: 1, index: 3, engine: 'random' });
    expect(c.hits).toBe(3);
    expect(c.status).toBe('expected');
    expect(c.firstSeen).toBe(first.crash.firstSeen);
    expect(Date.parse(c.lastSeen)).toBeGreaterThan(Date.parse(c.firstSeen));

    expect(s.addHits(finding().signature, 10)?.hits).toBe(13);
    expect(s.list().map(x => x.crash.signature)).toEqual([finding().signature]);
    expect(fs.readdirSync(dir)).toHaveLength(1);
  });

  it('writeFileAtomic replaces the file and removes its temp file on failure', () => {
    const dir = tmpDir('atomic');
    const f = path.join(dir, 'a.json');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, 'two');
    expect(fs.readFileSync(f, 'utf8')).toBe('two');
    expect(fs.readdirSync(dir)).toEqual(['a.json']);
    expect(() => writeFileAtomic(path.join(dir, 'missing', 'b.json'), 'x')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['a.json']);
  });

  it('breaks a stale lock (dead holder, or older than staleMs) and times out on a live one', () => {
    const dir = tmpDir('lock');
    const lock = path.join(dir, 'x.lock');
    // A holder on this host that no longer exists.
    fs.writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), token: 't', time: 0 }));
    expect(withFileLock(lock, () => 'ran', { timeoutMs: 2000 })).toBe('ran');
    expect(fs.existsSync(lock)).toBe(false);
    // Garbage content, but old.
    fs.writeFileSync(lock, 'garbage');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    expect(withFileLock(lock, () => 'ran', { timeoutMs: 2000, staleMs: 1000 })).toBe('ran');
    // A fresh lock held by a live process (this one): wait, then give up with a one-line message.
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'other', time: Date.now() }));
    expect(() => withFileLock(lock, () => 'ran', { timeoutMs: 100 })).toThrow(/could not lock .*x\.lock within/);
    expect(fs.existsSync(lock)).toBe(true);
  });

  it('loses no update when several processes record the same signature at once', async () => {
    const work = tmpDir('conc');
    const mod = transpileTree('harness/store/crash_store.ts', path.join(work, 'js'));
    const crashDir = path.join(work, 'crashes');
    const script = path.join(work, 'child.js');
    fs.writeFileSync(script, `
      const { CrashStore } = require(${JSON.stringify(mod)});
      const [dir, id, n] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
      const store = new CrashStore(dir, { cwd: dir });
      const sig = 'divergence|before+after|fault|mirror';
      for (let i = 0; i < n; i++) {
        const len = id === 2 && i === n - 1 ? 1 : 3 + ((id * 7 + i * 3) % 9);
        const ops = Array.from({ length: len }, () => ({ kind: 'gracePeriod' }));
        store.record({
          finding: { signature: sig, kind: 'divergence', designs: ['before', 'after'], opIndex: 0, opKind: 'fault', component: 'mirror', message: 'm' },
          config: { geometry: 'compact', hugePages: false, vcpus: 2 }, designs: ['before', 'after'], equiv: 'state', domain: 'legal',
          source: { seed: id, index: i, engine: 'random' }, ops, originalOps: ops,
        });
      }
    `);
    const P = 4, N = 25;
    const codes = await Promise.all(Array.from({ length: P }, (_, id) => new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [script, crashDir, String(id), String(N)], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', code => resolve(code ?? -1));
    })));
    expect(codes).toEqual(Array(P).fill(0));
    const files = fs.readdirSync(crashDir);
    expect(files).toHaveLength(1);
    const c = readCrashFile(path.join(crashDir, files[0]));
    expect(c.hits).toBe(P * N);
    // Process 2's last record is the unique smallest (length 1).
    expect(c.ops).toHaveLength(1);
    expect(c.source).toEqual({ seed: 2, index: N - 1, engine: 'random' });
  });
});

describe('readCrashFile: strict, one-line errors', () => {
  const good = (): Record<string, unknown> => {
    const dir = tmpDir('good');
    const r = store(dir).record(rec(3));
    return JSON.parse(fs.readFileSync(r.file, 'utf8')) as Record<string, unknown>;
  };
  const text = (patch: Record<string, unknown>): string => JSON.stringify({ ...good(), ...patch });

  it('names the file and what is wrong', () => {
    expect(errorOf('{"format": ')).toMatch(/^crashes\/x\.json: not valid JSON \(/);
    expect(errorOf('[]')).toBe('crashes/x.json: expected a JSON object at the top level, got []');
    expect(errorOf(text({ format: 'tdpfuzz-crash/9' }))).toBe('crashes/x.json: format "tdpfuzz-crash/9" is not supported (expected "tdpfuzz-crash/1")');
    expect(errorOf(text({ format: undefined }))).toBe('crashes/x.json: format: missing (expected "tdpfuzz-crash/1")');
    expect(errorOf(text({ status: 'fixed' }))).toBe('crashes/x.json: status: unknown value "fixed" (allowed: open, explained, expected)');
    expect(errorOf(text({ hits: 0 }))).toBe('crashes/x.json: hits: 0 is out of range (expected >= 1)');
    expect(errorOf(text({ lastSeen: 'yesterday' }))).toBe('crashes/x.json: lastSeen: expected an ISO date-time, got "yesterday"');
    expect(errorOf(text({ designs: ['before'] }))).toBe('crashes/x.json: designs: expected at least 2 entries, got 1');
    expect(errorOf(text({ equiv: 'loose' }))).toMatch(/^crashes\/x\.json: equiv: unknown value "loose" \(allowed: state, strict, final\)$/);
    expect(errorOf(text({ extra: 1 }))).toMatch(/^crashes\/x\.json: extra: unknown field for a crash file/);
    expect(errorOf(text({ source: { seed: 1, index: -1, engine: 'random' } }))).toBe('crashes/x.json: source.index: -1 is out of range (expected >= 0)');
    expect(errorOf(text({ finding: { kind: 'divergence' } }))).toBe('crashes/x.json: finding.designs: missing (required)');
    // merge's record of what was merged into the file (issue 11 item 3)
    expect(errorOf(text({ mergedFrom: [] }))).toBe('crashes/x.json: mergedFrom: expected an object, got []');
    expect(errorOf(text({ mergedFrom: { '../m0/x.json': { hits: -1, firstSeen: '2025-01-01T00:00:00Z' } } })))
      .toBe('crashes/x.json: mergedFrom.../m0/x.json.hits: -1 is out of range (expected >= 0)');
    expect(errorOf(text({ mergedFrom: { a: { hits: 1 } } }))).toBe('crashes/x.json: mergedFrom.a.firstSeen: missing (required)');
  });

  it('validates ops and originalOps with the sequence validator', () => {
    const ops = [{ kind: 'gracePeriod' }, { kind: 'gracePeriod' }, { kind: 'fault', gfn: 99999, private: true }];
    expect(errorOf(text({ ops }))).toBe('crashes/x.json: ops[2].gfn: 99999 is out of range (compact geometry has 4096 gfns)');
    expect(errorOf(text({ originalOps: [{ kind: 'nope' }] }))).toBe('crashes/x.json: originalOps[0].kind: unknown op "nope"');
    expect(errorOf(text({ config: { geometry: 'huge' } }))).toBe('crashes/x.json: config.geometry: unknown geometry "huge" (allowed: x86, compact)');
  });

  it('reports unreadable files in one line', () => {
    expect(() => readCrashFile('/nonexistent/x.json')).toThrow('/nonexistent/x.json: cannot read (no such file)');
  });
});
