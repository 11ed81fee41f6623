// Issue 11 item 3: `tdpfuzz merge ... --crashes DIR` is idempotent and all or nothing. Shards with
// separate crash directories are merged into one DIR; merging them again changes nothing; a shard
// that gained hits since adds only those; a merge refused on a later input, or one whose writes fail
// midway, leaves DIR and --out as they were (or converges on the re-run).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../harness/cli/main';
import { CrashStore } from '../../harness/store/crash_store';
import { tmpDir, captureIo as io, treeSnapshot as snapshot } from './helpers';

// Fail the Nth crash-file write of a merge (a full disk in the middle of the merge).
const failing = vi.hoisted(() => ({ crashWrite: 0, seen: 0 }));
vi.mock('../../harness/store/fsutil', async (orig) => {
  const real = await orig<typeof import('../../harness/store/fsutil')>();
  return {
    ...real,
    writeFileAtomic(file: string, data: string | Uint8Array): void {
      if (failing.crashWrite && /\/D-fail\/[^/.][^/]*\.json$/.test(file) && ++failing.seen === failing.crashWrite) {
        throw new real.WriteError(`${real.displayPath(file)}: not written (no space left on device); nothing was written`);
      }
      real.writeFileAtomic(file, data);
    },
  };
});

const DESIGNS = 'after,mutant:frees-with-hkid-assigned';

function hits(dir: string): Record<string, number> {
  return Object.fromEntries(fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort()
    .map(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { signature: string; hits: number })
    .map(c => [c.signature, c.hits]));
}

function sumHits(...dirs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of dirs) for (const [s, n] of Object.entries(hits(d))) out[s] = (out[s] ?? 0) + n;
  return Object.fromEntries(Object.keys(out).sort().map(s => [s, out[s]]));
}

describe('merge --crashes DIR: idempotent, all or nothing', () => {
  let work = '';
  const merge = async (dest: string, out: string, ...inputs: string[]) => {
    const o = io(work);
    const code = await main(['merge', ...inputs, '--out', out, '--crashes', dest], o);
    return { code, o };
  };

  beforeAll(async () => {
    work = tmpDir('merge-idem');
    for (const i of [0, 1]) {
      const o = io(work);
      expect(await main(['run', '--designs', DESIGNS, '--runs', '60', '--shard', `${i}/2`, '--no-corpus', '--no-minimize',
        '--out', `m${i}`, '--crashes', `m${i}/crashes`], o), o.stderr).toBe(1);
    }
    expect(Object.keys(hits(path.join(work, 'm0', 'crashes'))).length).toBeGreaterThan(1);
  });

  it('merging the same shards twice adds their hits once; DIR stays byte-identical', async () => {
    const dir = path.join(work, 'D');
    expect((await merge('D', 'o1', 'm0', 'm1')).code).toBe(1);
    const once = snapshot(dir);
    expect(hits(dir)).toEqual(sumHits(path.join(work, 'm0', 'crashes'), path.join(work, 'm1', 'crashes')));
    expect((await merge('D', 'o2', 'm0', 'm1')).code).toBe(1);
    expect(snapshot(dir)).toEqual(once);
    // One shard at a time, in either order, repeated: still the same counts.
    for (const m of ['m1', 'm0', 'm1']) expect((await merge('D', 'o3', m)).code).toBe(1);
    expect(snapshot(dir)).toEqual(once);
  });

  it('a shard crash file that gained hits since the last merge adds only the difference', async () => {
    fs.cpSync(path.join(work, 'm0'), path.join(work, 'g0'), { recursive: true });
    const dir = path.join(work, 'G');
    expect((await merge('G', 'og', 'g0', 'm1')).code).toBe(1);
    const before = hits(dir);
    const sig = Object.keys(before)[0];
    // g0's campaign saw that signature 5 more times (a resumed or continued run).
    new CrashStore(path.join(work, 'g0', 'crashes')).addHits(sig, 5);
    expect((await merge('G', 'og', 'g0', 'm1')).code).toBe(1);
    expect(hits(dir)).toEqual({ ...before, [sig]: before[sig] + 5 });
    expect((await merge('G', 'og', 'g0', 'm1')).code).toBe(1);
    expect(hits(dir)).toEqual({ ...before, [sig]: before[sig] + 5 });
  });

  it('a merge refused on a later input writes nothing into DIR or --out', async () => {
    // DIR already holds a good merge; the refused one must not touch it.
    expect((await merge('R', 'or', 'm0')).code).toBe(1);
    const before = snapshot(path.join(work, 'R'));
    const outBefore = snapshot(path.join(work, 'or'));
    // A later input whose crash file is corrupt.
    fs.cpSync(path.join(work, 'm1'), path.join(work, 'm1bad'), { recursive: true });
    const bad = fs.readdirSync(path.join(work, 'm1bad', 'crashes')).filter(n => n.endsWith('.json')).sort().at(-1)!;
    fs.writeFileSync(path.join(work, 'm1bad', 'crashes', bad), '{"format": "tdpfuzz-crash/1", "hits": "many"}\n');
    const r1 = await merge('R', 'or', 'm0', 'm1bad');
    expect(r1.code).toBe(2);
    expect(r1.o.stderr).toMatch(new RegExp(`^tdpfuzz: m1bad/crashes/${bad.replace(/\./g, '\\.')}: .*\\n$`));
    // A crash file of DIR itself that cannot be read (the last signature the merge would update).
    const later = Object.keys(snapshot(path.join(work, 'R'))).filter(n => n.endsWith('.json')).sort().at(-1)!;
    fs.writeFileSync(path.join(work, 'R', later), 'not json\n');
    const corrupt = snapshot(path.join(work, 'R'));
    const r2 = await merge('R', 'or', 'm0', 'm1');
    expect(r2.code).toBe(2);
    expect(r2.o.stderr).toMatch(new RegExp(`^tdpfuzz: R/${later.replace(/\./g, '\\.')}: not valid JSON .*\\n$`));
    expect(snapshot(path.join(work, 'R'))).toEqual(corrupt);
    expect(snapshot(path.join(work, 'or'))).toEqual(outBefore);
    fs.writeFileSync(path.join(work, 'R', later), before[later]);
    expect(snapshot(path.join(work, 'R'))).toEqual(before);
  });

  it('a write that fails midway says so in one line; the re-run converges to the single merge', async () => {
    failing.crashWrite = 2;
    failing.seen = 0;
    const r = await merge('D-fail', 'of', 'm0', 'm1');
    failing.crashWrite = 0;
    expect(r.code).toBe(2);
    expect(r.o.stderr).toMatch(/^tdpfuzz: \S*D-fail\/\S+\.json: not written \(no space left on device\); nothing was written; the merge stopped after updating 1 of \d+ crash files: run it again to complete it \(nothing is added twice\)\n$/);
    expect(fs.existsSync(path.join(work, 'of'))).toBe(false);
    expect((await merge('D-fail', 'of', 'm0', 'm1')).code).toBe(1);
    expect(hits(path.join(work, 'D-fail'))).toEqual(hits(path.join(work, 'D')));
    // Same content as the uninterrupted merge (replay commands name their own directory).
    const norm = (s: Record<string, string>) => JSON.stringify(s).replaceAll('D-fail/', 'D/');
    expect(norm(snapshot(path.join(work, 'D-fail')))).toBe(norm(snapshot(path.join(work, 'D'))));
  });
});
