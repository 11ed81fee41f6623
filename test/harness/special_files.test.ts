// Issue 11 item 7: inputs that are not regular files (FIFOs, devices, a directory holding a FIFO) and
// output places that cannot hold files (/proc, a path under a regular file) are one line and exit 2,
// at once. Before the fix each of these blocked forever (a FIFO's open waits for a writer, /dev/zero
// never ends, Node's recursive mkdir loops on /proc), so every case runs the compiled CLI in a child
// process with a kill timeout: a regression fails the test instead of hanging the suite.
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSequence } from '../../harness/seq/generate';
import { serializeSequence } from '../../harness/seq/sequence';
import { buildTree, removeTree } from '../build_helper';
import { COMPACT, tmpDir } from './helpers';

// Generous for a loaded CI machine; a hang is still caught (and the child killed), just later.
const KILL_MS = 20_000;

interface Outcome { code: number | null; stdout: string; stderr: string; killed: boolean }

let tree = '';
let work = '';

function cli(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(tree, 'harness/cli/main.js'), ...args], { cwd: work, timeout: KILL_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr, killed: !!e?.killed });
    });
  });
}

/** The command ends at once with exit 2 and exactly one error line on stderr (INFO/summary lines aside). */
async function refused(args: string[], line: string | RegExp): Promise<void> {
  const o = await cli(args);
  expect(o.killed, `${args.join(' ')} hung`).toBe(false);
  expect(o.code, `${args.join(' ')}: ${o.stderr}`).toBe(2);
  const errors = o.stderr.split('\n').filter(l => l.startsWith('tdpfuzz: '));
  expect(errors, o.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(line);
  expect(o.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

beforeAll(async () => {
  tree = buildTree('special');
  work = tmpDir('special');
  const at = (...p: string[]): string => path.join(work, ...p);
  fs.writeFileSync(at('regular'), 'not a directory\n');
  fs.writeFileSync(at('ok.json'), serializeSequence(generateSequence(1, 0, { config: COMPACT, domain: 'legal' })));
  for (const d of ['fifo-dir', 'corp', 'mergein', 'jsf']) fs.mkdirSync(at(d));
  const fifo = (p: string): void => { execFileSync('mkfifo', [at(p)]); };
  fifo('f.json');
  fifo('fifo-dir/a.json');
  fs.copyFileSync(at('ok.json'), at('corp/0.json'));
  fifo('corp/1.json');
  fifo('mergein/report.json');
  fifo('jsf/crash-0');
  fifo('design.js');
  // A sparse file larger than the input limit (256 MiB): refused before it is read.
  fs.writeFileSync(at('huge.json'), '');
  fs.truncateSync(at('huge.json'), 257 * 1024 * 1024);
  // A real output directory to merge, and a copy whose crashes/ holds a FIFO.
  expect((await cli(['run', '--runs', '2', '--no-corpus', '--out', 'good', '--crashes', 'good/crashes'])).code).toBe(0);
  fs.mkdirSync(at('good-fifo/crashes'), { recursive: true });
  fs.copyFileSync(at('good/report.json'), at('good-fifo/report.json'));
  fifo('good-fifo/crashes/x.json');
}, 60_000);
afterAll(() => { if (tree) removeTree(tree); });

describe('inputs that are not regular files (issue 11 item 7)', () => {
  it('replay: a FIFO, /dev/zero, a directory holding a FIFO, a file over the size limit', async () => {
    await Promise.all([
      refused(['replay', 'f.json'], 'tdpfuzz: f.json: cannot read (a FIFO, not a regular file)'),
      refused(['replay', '/dev/zero'], 'tdpfuzz: /dev/zero: cannot read (a character device, not a regular file)'),
      refused(['replay', 'fifo-dir'], 'tdpfuzz: fifo-dir/a.json: cannot read (a FIFO, not a regular file)'),
      refused(['replay', 'huge.json'], /^tdpfuzz: huge\.json: cannot read \(269484032 bytes; input files are at most 256 MiB\)$/),
    ]);
  }, 60_000);

  it('run --corpus with a FIFO entry, --designs naming a FIFO, merge and import inputs that are FIFOs', async () => {
    await Promise.all([
      refused(['run', '--runs', '2', '--corpus', 'corp', '--out', 'o1', '--crashes', 'c1'], 'tdpfuzz: corp/1.json: cannot read (a FIFO, not a regular file)'),
      refused(['run', '--runs', '2', '--no-corpus', '--designs', 'before,./design.js', '--out', 'o2'], 'tdpfuzz: --designs: ./design.js: cannot load module: design.js is not a regular file'),
      refused(['merge', 'mergein', '--out', 'merged'], 'tdpfuzz: mergein/report.json: cannot read (a FIFO, not a regular file)'),
      refused(['merge', 'good-fifo', '--out', 'merged'], 'tdpfuzz: good-fifo/crashes/x.json: cannot read (a FIFO, not a regular file)'),
      refused(['import', 'jsf', '--crashes', 'c3'], 'tdpfuzz: jsf/crash-0: cannot read (a FIFO, not a regular file)'),
      refused(['import', 'f.json', '--crashes', 'c3'], 'tdpfuzz: f.json: cannot read (a FIFO, not a regular file)'),
    ]);
    for (const d of ['o1', 'c1', 'o2', 'merged', 'c3']) expect(fs.existsSync(path.join(work, d)), d).toBe(false);
  }, 60_000);
});

describe('output places that cannot hold files (issue 11 item 7)', () => {
  it('--out under /proc or under a regular file, --crashes a file, in-process and with worker threads', async () => {
    await Promise.all([
      refused(['run', '--runs', '2', '--no-corpus', '--out', '/proc/x'], 'tdpfuzz: --out /proc/x: cannot write there: /proc is on the proc pseudo filesystem'),
      refused(['run', '--runs', '2', '--no-corpus', '--out', 'regular/x'], 'tdpfuzz: --out regular/x: cannot be created: regular is not a directory'),
      refused(['run', '--runs', '2', '--no-corpus', '--out', 'o4', '--crashes', 'regular'], 'tdpfuzz: --crashes regular: exists and is not a directory'),
      refused(['run', '--runs', '2', '--no-corpus', '--workers', '2', '--out', 'o5', '--crashes', 'regular/c'], 'tdpfuzz: --crashes regular/c: cannot be created: regular is not a directory'),
      refused(['merge', 'good', '--out', '/proc/m'], 'tdpfuzz: --out /proc/m: cannot write there: /proc is on the proc pseudo filesystem'),
      refused(['merge', 'good', '--out', 'regular/m'], 'tdpfuzz: --out regular/m: cannot be created: regular is not a directory'),
    ]);
    for (const d of ['o4', 'o5']) expect(fs.existsSync(path.join(work, d)), d).toBe(false);
  }, 60_000);
});
