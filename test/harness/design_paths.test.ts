// Design module paths in crash files (issue 12 item 5): a crash file records a module design by its
// absolute path and the SHA-256 of its content, so that its replay works from any directory and
// says (once) when the module changed since the crash was recorded.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTree, removeTree } from '../build_helper';
import { main } from '../../harness/cli/main';
import { readCrashFile } from '../../harness/store/crash_store';
import { tmpDir, captureIo as io } from './helpers';

// `after` with a wrong gracePeriod result: a divergence most random sequences reach.
// (It loads the models from a transpiled tree: a fresh clone has no dist/ when npm test runs.)
const variantOf = (tree: string): string => `const { after } = require(${JSON.stringify(path.join(tree, 'impls/designs.js'))});
module.exports = {
  name: 'variant', description: 'after with a wrong gracePeriod result (test design)',
  create(config) {
    const vm = after.create(config);
    const apply = vm.apply.bind(vm);
    vm.apply = op => { const o = apply(op); return op.kind === 'gracePeriod' ? { ...o, result: o.result + '!' } : o; };
    return vm;
  },
};
`;
let VARIANT = '';
let tree = '';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const RUN = ['--runs', '40', '--seed', '3', '--no-corpus', '--no-minimize', '--crashes', 'crashes'];

afterAll(() => { if (tree) removeTree(tree); });

describe('crash files of module designs', () => {
  let a: string; // where the campaign ran
  let b: string; // another working directory
  let crashFile: string;
  let module: string;

  beforeAll(async () => {
    tree = buildTree('dpaths');
    VARIANT = variantOf(tree);
    a = tmpDir('dpaths-a');
    b = tmpDir('dpaths-b');
    module = path.join(a, 'variant.js');
    fs.writeFileSync(module, VARIANT);
    const o = io(a);
    expect(await main(['run', '--designs', 'after,./variant.js', ...RUN], o), o.stderr).toBe(1);
    const files = fs.readdirSync(path.join(a, 'crashes')).filter(n => n.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    crashFile = path.join(a, 'crashes', files[0]);
  });

  it('records the absolute path and the content hash', () => {
    const c = readCrashFile(crashFile);
    expect(c.designs).toEqual(['after', module]);
    expect(c.designModules).toEqual([{ spec: './variant.js', path: module, sha256: sha(VARIANT) }]);
  });

  it('replays from another working directory, without a warning while the module is unchanged', async () => {
    const o = io(b);
    expect(await main(['replay', crashFile], o), o.stderr).toBe(1);
    expect(o.stdout).toMatch(/^FAIL .*: recorded signature reproduced/);
    expect(o.stderr).toBe('');
  });

  it('keeps the field when crash files are merged or promoted', async () => {
    const o = io(a);
    await main(['merge', 'out', '--out', 'merged', '--crashes', 'merged-crashes'], o);
    const merged = path.join(a, 'merged-crashes', path.basename(crashFile));
    expect(readCrashFile(crashFile).designModules).toBeDefined();
    expect(readCrashFile(merged).designModules, o.stderr).toEqual(readCrashFile(crashFile).designModules);
    const p = io(a);
    expect(await main(['promote', crashFile, '--to', 'promoted'], p), p.stderr).toBe(0);
    expect(readCrashFile(path.join(a, 'promoted', path.basename(crashFile))).designModules).toEqual(readCrashFile(crashFile).designModules);
  });

  it('a malformed designModules field is a one-line error naming the file and field', async () => {
    const c = JSON.parse(fs.readFileSync(crashFile, 'utf8'));
    const cases: [unknown, string][] = [
      ['x', 'designModules: expected a non-empty array of {spec, path, sha256}, got "x"'],
      [[], 'designModules: expected a non-empty array'],
      [[{ spec: './variant.js', path: 'variant.js', sha256: sha(VARIANT) }], 'designModules[0].path: expected an absolute path, got "variant.js"'],
      [[{ spec: './variant.js', path: '/elsewhere/v.js', sha256: sha(VARIANT) }], 'designModules[0].path: "/elsewhere/v.js" is not one of designs'],
      [[{ spec: './variant.js', path: module, sha256: 'abc' }], 'designModules[0].sha256: expected 64 lowercase hex digits, got "abc"'],
      [[{ spec: './variant.js', path: module, sha256: sha(VARIANT), size: 1 }], 'designModules[0].size: unknown field for a design module'],
      [[{ path: module, sha256: sha(VARIANT) }], 'designModules[0].spec: missing (required)'],
    ];
    for (const [value, message] of cases) {
      fs.writeFileSync(path.join(b, 'bad.json'), JSON.stringify({ ...c, designModules: value }));
      const o = io(b);
      expect(await main(['replay', 'bad.json'], o), JSON.stringify(value)).toBe(2);
      expect(o.stderr).toContain(`tdpfuzz: bad.json: ${message}`);
      expect(o.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('warns exactly once when the module changed since the crash was recorded; the replay still runs', async () => {
    const edited = `${VARIANT}// edited\n`;
    fs.writeFileSync(module, edited);
    try {
      const o = io(b);
      expect(await main(['replay', crashFile], o), o.stderr).toBe(1);
      expect(o.stderr.split('\n').filter(Boolean)).toEqual([
        `WARNING: ${crashFile}: design module ${module} changed since the crash was recorded (sha256 ${sha(VARIANT).slice(0, 12)}…→${sha(edited).slice(0, 12)}…)`,
      ]);
      expect(o.stdout).toMatch(/^FAIL /);
      // explain and minimize --out warn the same way (once each).
      const ex = io(b);
      await main(['explain', crashFile], ex);
      expect(ex.stderr.split('\n').filter(l => l.startsWith('WARNING: '))).toHaveLength(1);
      const mi = io(b);
      expect(await main(['minimize', '--out', 'min.json', crashFile], mi), mi.stderr).toBe(0);
      expect(mi.stderr.split('\n').filter(l => l.startsWith('WARNING: '))).toHaveLength(1);
      expect(readCrashFile(path.join(b, 'min.json')).designModules).toEqual(readCrashFile(crashFile).designModules);
      // With --designs the recorded modules are not used: nothing to warn about.
      const flagged = io(b);
      await main(['replay', '--designs', `after,${module}`, crashFile], flagged);
      expect(flagged.stderr).toBe('');
    } finally {
      fs.writeFileSync(module, VARIANT);
    }
  });
});

describe('crash files of named designs', () => {
  it('have no designModules field and keep the names as given', async () => {
    const dir = tmpDir('dpaths-named');
    const o = io(dir);
    expect(await main(['run', '--designs', 'after,mutant:keeps-external-pointer', ...RUN], o), o.stderr).toBe(1);
    const files = fs.readdirSync(path.join(dir, 'crashes')).filter(n => n.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, 'crashes', f), 'utf8');
      expect(text).not.toContain('designModules');
      expect(readCrashFile(path.join(dir, 'crashes', f)).designs).toEqual(['after', 'mutant:keeps-external-pointer']);
    }
  });
});
