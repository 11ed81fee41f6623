// Issue 11 item 8: a run (or merge, minimize, mutants) that is refused leaves its output folder
// byte-identical: everything that can refuse it is checked before the first write. Before the fix a
// design whose create() throws, or --crashes naming a file, failed only after the campaign had
// already rewritten OUT/stats.json (or, with no finding to record, after the whole run).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import { tmpDir, captureIo as io, treeSnapshot as snapshot } from './helpers';

let work = '';
const at = (...p: string[]): string => path.join(work, ...p);

/** The command is refused with exit 2 and exactly this one line, and OUT (and crashes/) are untouched. */
async function refusedUntouched(args: string[], line: string): Promise<string> {
  const before = [snapshot(at('out')), snapshot(at('crashes'))];
  const o = io(work);
  const code = await main(args, o);
  expect(o.stderr.split('\n').filter(l => l.startsWith('tdpfuzz: ')), o.stderr).toEqual([line]);
  expect(code).toBe(2);
  expect(snapshot(at('out'))).toEqual(before[0]);
  expect(snapshot(at('crashes'))).toEqual(before[1]);
  return o.stderr;
}

beforeAll(async () => {
  work = tmpDir('validate-first');
  fs.writeFileSync(at('regular'), 'a file, not a directory\n');
  fs.writeFileSync(at('throws.js'), "module.exports = { name: 'throws', description: 'd', create() { throw new Error('kaput'); } };");
  // Passes the loader's probe (default configuration) and throws only with huge pages.
  fs.writeFileSync(at('no_huge.js'), "module.exports = { name: 'no-huge', description: 'd', create(c) { if (c.hugePages) throw new Error('no huge pages here'); return {}; } };");
  // The previous run whose outputs must survive, with a crash file (a self-check against a mutant).
  const o = io(work);
  expect(await main(['run', '--runs', '20', '--seed', '3', '--no-corpus', '--no-minimize', '--designs', 'after,mutant:keeps-external-pointer', '--crashes', 'crashes'], o), o.stderr).toBe(1);
  expect(fs.readdirSync(at('out')).sort()).toEqual(['checkpoint.json', 'report.html', 'report.json', 'report.junit.xml', 'report.md', 'report.txt', 'stats.json']);
  expect(fs.readdirSync(at('crashes')).length).toBeGreaterThan(0);
});

describe('run validates everything before it writes (issue 11 item 8)', () => {
  it('a design whose create() throws: with every configuration, or only with the run\'s', async () => {
    await refusedUntouched(['run', '--runs', '5', '--no-corpus', '--designs', 'before,./throws.js'],
      "tdpfuzz: --designs: ./throws.js: create() threw for the run's configuration: kaput");
    await refusedUntouched(['run', '--runs', '5', '--no-corpus', '--huge-pages', '--designs', 'before,./no_huge.js'],
      "tdpfuzz: --designs: ./no_huge.js: create() threw for the run's configuration: no huge pages here");
  });

  it('--crashes naming a file, or a path under one; --out a file; --corpus-out under a file', async () => {
    await refusedUntouched(['run', '--runs', '5', '--no-corpus', '--crashes', 'regular'], 'tdpfuzz: --crashes regular: exists and is not a directory');
    await refusedUntouched(['run', '--runs', '5', '--no-corpus', '--designs', 'after,mutant:keeps-external-pointer', '--crashes', 'regular/c'],
      'tdpfuzz: --crashes regular/c: cannot be created: regular is not a directory');
    await refusedUntouched(['run', '--runs', '5', '--no-corpus', '--out', 'regular'], 'tdpfuzz: --out regular: exists and is not a directory');
    await refusedUntouched(['run', '--runs', '5', '--no-corpus', '--engine', 'guided', '--corpus-out', 'regular/k'],
      'tdpfuzz: --corpus-out regular/k: cannot be created: regular is not a directory');
  });

  it('a bad corpus file', async () => {
    fs.mkdirSync(at('corp'));
    fs.writeFileSync(at('corp', 'bad.json'), '{"format": "tdpfuzz-seq/1", "ops": 3}');
    await refusedUntouched(['run', '--runs', '5', '--corpus', 'corp'], 'tdpfuzz: corp/bad.json: config: missing (required)');
  });
});

describe('merge, minimize and mutants validate their outputs first (issue 11 item 8)', () => {
  it('merge --crashes naming a file leaves --out as it was', async () => {
    const o = io(work);
    expect(await main(['merge', 'out', '--out', 'merged'], o), o.stderr).toBe(1);
    const before = snapshot(at('merged'));
    const o2 = io(work);
    expect(await main(['merge', 'out', '--out', 'merged', '--crashes', 'regular'], o2)).toBe(2);
    expect(o2.stderr).toBe('tdpfuzz: --crashes regular: exists and is not a directory\n');
    expect(snapshot(at('merged'))).toEqual(before);
  });

  it('minimize --out under a regular file is refused before minimizing; mutants --out before hunting', async () => {
    const crash = fs.readdirSync(at('crashes')).find(n => n.endsWith('.json'))!;
    const o = io(work);
    expect(await main(['minimize', path.join('crashes', crash), '--out', 'regular/min.json'], o)).toBe(2);
    expect(o.stdout).toBe(''); // no "N ops -> M ops" summary: nothing was minimized
    expect(o.stderr).toBe('tdpfuzz: --out regular/min.json: cannot be created: regular is not a directory\n');
    const o2 = io(work);
    expect(await main(['mutants', '--ids', 'keeps-external-pointer', '--engines', 'random', '--seeds', '1', '--time', '1', '--out', 'regular/m.json'], o2)).toBe(2);
    expect(o2.stderr).not.toMatch(/\[1\/1\]/); // the hunt did not run
    expect(o2.stderr.split('\n').filter(l => l.startsWith('tdpfuzz: '))).toEqual(['tdpfuzz: --out regular/m.json: cannot be created: regular is not a directory']);
  });
});
