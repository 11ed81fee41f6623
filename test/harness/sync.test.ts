// Issue 14 item 4: live corpus sync (--sync DIR, AFL++ -M/-S style). Each instance writes only its
// own DIR/<name>/, atomically; every --sync-every S it imports the other instances' new files, which
// its engine keeps when they reach something new for it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import { CorpusSync } from '../../harness/fuzz/corpus_sync';
import { generateSequence } from '../../harness/seq/generate';
import { generatorOptions, DEFAULT_PARAMS } from '../../harness/run/campaign_params';
import { sequenceHash } from '../../harness/seq/sequence';
import { buildTree, removeTree } from '../build_helper';
import { captureIo as io, COMPACT, tmpDir, treeSnapshot } from './helpers';

const gen = generatorOptions({ ...DEFAULT_PARAMS, config: COMPACT });

describe('CorpusSync', () => {
  it('publishes into its own folder only, imports each peer file once, when a poll is due', () => {
    const dir = tmpDir('sync-unit');
    let now = 0;
    const a = new CorpusSync(dir, 'a', 1000, () => now);
    const b = new CorpusSync(dir, 'b', 1000, () => now);
    const s1 = generateSequence(1, 0, gen), s2 = generateSequence(1, 1, gen);
    a.publish(s1);
    a.publish(s1); // idempotent
    expect(fs.readdirSync(path.join(dir, 'a'))).toEqual([`${sequenceHash(s1)}.json`]);
    expect(fs.readdirSync(path.join(dir, 'b'))).toEqual([]);
    expect(b.poll().map(x => sequenceHash(x.seq))).toEqual([sequenceHash(s1)]);
    a.publish(s2);
    expect(b.poll()).toEqual([]); // not due yet
    now += 1000;
    const got = b.poll();
    expect(got.map(x => sequenceHash(x.seq))).toEqual([sequenceHash(s2)]);
    expect(got[0].source).toEqual({ file: path.join(path.basename(dir), 'a', `${sequenceHash(s2)}.json`), engine: 'sync' });
    now += 1000;
    expect(b.poll()).toEqual([]); // each file once
    // a poller never imports its own files, nor what it has already (known hashes)
    b.publish(s1);
    now += 1000;
    expect(a.poll()).toEqual([]);
    // a damaged file is skipped (once); a temp file being written is not read
    fs.writeFileSync(path.join(dir, 'a', 'ffffffffffffffff.json'), '{"format":');
    fs.writeFileSync(path.join(dir, 'a', `.x.tmp`), 'partial');
    now += 1000;
    expect(b.poll()).toEqual([]);
    expect(b.counts.skipped).toBe(1);
  });
});

describe('run --sync', () => {
  let tree = '';
  beforeAll(() => { tree = buildTree('sync'); });
  afterAll(() => { if (tree) removeTree(tree); });
  const cli = (cwd: string, args: string[]) => spawnSync(process.execPath, [path.join(tree, 'harness', 'cli', 'main.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

  for (const engine of ['guided', 'jsfuzz']) {
    it(`${engine}: a second campaign imports and keeps what the first published`, () => {
      const work = tmpDir(`sync-${engine}`);
      const common = ['run', '--engine', engine, '--no-corpus', '--runs', '300', '--sync', 'shared', '--sync-every', '0.05'];
      expect(cli(work, [...common, '--seed', '1', '--sync-name', 'a', '--out', 'a']).status).toBe(0);
      const published = fs.readdirSync(path.join(work, 'shared', 'a'));
      expect(published.length).toBeGreaterThan(3);
      expect(cli(work, [...common, '--seed', '2', '--sync-name', 'b', '--out', 'b']).status).toBe(0);
      // b ran a's files and kept those that were new to it (guided: in b/corpus with their provenance)
      const b = JSON.parse(fs.readFileSync(path.join(work, 'b', 'report.json'), 'utf8'));
      expect(b.scope.sequences).toBe(300);
      if (engine === 'guided') {
        const from = fs.readdirSync(path.join(work, 'b', 'corpus')).map(n => JSON.parse(fs.readFileSync(path.join(work, 'b', 'corpus', n), 'utf8')).meta?.from);
        expect(from.filter(f => typeof f === 'string' && f.startsWith('shared/a/')).length).toBeGreaterThan(0);
      }
      expect(fs.readdirSync(path.join(work, 'shared')).sort()).toEqual(['a', 'b']);
    }, 120_000);
  }

  it('bad flags: one line, exit 2, nothing written', async () => {
    const work = tmpDir('sync-bad');
    const before = treeSnapshot(work);
    const cases: [string[], RegExp][] = [
      [['run', '--sync', 's', '--runs', '5'], /^tdpfuzz: --sync: the random engine keeps nothing to share/],
      [['run', '--engine', 'guided', '--sync-name', 'x', '--runs', '5'], /^tdpfuzz: --sync-name: only with --sync DIR/],
      [['run', '--engine', 'guided', '--sync', 's', '--sync-name', '../x', '--runs', '5'], /^tdpfuzz: --sync-name: "\.\.\/x" is not a folder name/],
      [['run', '--engine', 'guided', '--sync', '/proc/x', '--runs', '5'], /^tdpfuzz: --sync \/proc\/x: cannot write there/],
    ];
    for (const [argv, re] of cases) {
      const o = io(work);
      expect(await main(argv, o), argv.join(' ')).toBe(2);
      expect(o.stderr).toMatch(re);
      expect(o.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(treeSnapshot(work)).toEqual(before);
  });
});
