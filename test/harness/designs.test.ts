import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { after, before } from '../../impls/designs';
import { loadDesigns, registerDesignResolver } from '../../harness/run/designs';
import { InputError } from '../../harness/seq/sequence';
import { broken, tmpDir } from './helpers';

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an InputError');
}

describe('loadDesigns', () => {
  it('loads built-in names, in order, and allows a self-check pair', () => {
    expect(loadDesigns('before,after')).toEqual([before, after]);
    expect(loadDesigns(' after , before ')).toEqual([after, before]);
    expect(loadDesigns('before,before')).toEqual([before, before]);
  });

  it('loads the steps of the built-in series as <series>:<step> (impls/series)', () => {
    const ds = loadDesigns('v3:P0,v3:P7,tdx-mmu-refactors-v3:P7,v1:v1-P7,v2:v2-P9');
    expect(ds.map(d => d.name)).toEqual(['v3:P0', 'v3:P7', 'v3:P7', 'v1:v1-P7', 'v2:v2-P9']);
    expect(ds[1]).toBe(ds[2]);
    expect(errorOf(() => loadDesigns('before,v3:P16'))).toMatch(/^--designs: unknown design "v3:P16" \(known: .*<series>:<step> \(e\.g\. v3:P7\)/);
  });

  it('loads modules exporting a design as default, as `design`, or as the module itself', () => {
    const dir = tmpDir('designs');
    const body = "{ name: 'mine', description: 'd', create() { return {}; } }";
    fs.writeFileSync(path.join(dir, 'a.js'), `module.exports = ${body};`);
    fs.writeFileSync(path.join(dir, 'b.js'), `exports.design = ${body};`);
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'c.js'), `exports.default = ${body};`);
    const ds = loadDesigns('before,./a.js,b.js,sub/c.js', dir);
    expect(ds.map(d => d.name)).toEqual(['before', 'mine', 'mine', 'mine']);
    expect(loadDesigns(`before,${path.join(dir, 'a.js')}`, '/')[1].name).toBe('mine');
  });

  it('rejects unknown names, bad modules and short lists with one-line messages', () => {
    const dir = tmpDir('designs');
    fs.writeFileSync(path.join(dir, 'x.js'), 'module.exports = { name: "x" };');
    fs.writeFileSync(path.join(dir, 'throws.js'), 'throw new Error("kaput\\nsecond line");');
    expect(errorOf(() => loadDesigns('before,foo', dir)))
      .toBe('--designs: unknown design "foo" (known: before, after, mutant:<id>, alt:<id>, <series>:<step> (e.g. v3:P7), or a path to a module exporting a design)');
    expect(errorOf(() => loadDesigns('before,./x.js', dir))).toBe('--designs: ./x.js does not export a design (needs name and create())');
    expect(errorOf(() => loadDesigns('before,./nope.js', dir))).toBe('--designs: ./nope.js: no such file');
    expect(errorOf(() => loadDesigns('before,./throws.js', dir))).toBe('--designs: ./throws.js: cannot load module: kaput');
    expect(errorOf(() => loadDesigns('before', dir))).toMatch(/^--designs: need at least two designs to compare, got 1 \(before\)/);
    expect(errorOf(() => loadDesigns('before,,after', dir))).toMatch(/^--designs: expected a comma-separated list/);
    expect(errorOf(() => loadDesigns('', dir))).toMatch(/^--designs: expected a comma-separated list/);
  });

  it('consults registered resolvers (e.g. a mutant catalogue) and names them in errors', () => {
    const off = registerDesignResolver(name => (name === 'mutant:broken' ? broken : undefined), 'mutant:<id>');
    try {
      expect(loadDesigns('before,mutant:broken')[1]).toBe(broken);
      expect(errorOf(() => loadDesigns('before,mutant:nope')))
        .toBe('--designs: unknown design "mutant:nope" (known: before, after, mutant:<id>, alt:<id>, <series>:<step> (e.g. v3:P7), or a path to a module exporting a design)');
    } finally {
      off();
    }
    expect(errorOf(() => loadDesigns('before,mutant:broken'))).toMatch(/unknown design "mutant:broken" \(known: before, after, mutant:<id>, alt:<id>, <series>:<step> \(e\.g\. v3:P7\), or/);
  });
  it('refuses a module whose create() returns no instance, or that calls process.exit() while loading (issue 11 item 5)', () => {
    const dir = tmpDir('designs-bad');
    fs.writeFileSync(path.join(dir, 'undef.js'), "module.exports = { name: 'undef', description: 'd', create() { return undefined; } };");
    fs.writeFileSync(path.join(dir, 'nul.js'), "module.exports = { name: 'nul', description: 'd', create() { return null; } };");
    fs.writeFileSync(path.join(dir, 'exits.js'), "process.exit(0); module.exports = { name: 'x', create() { return {}; } };");
    expect(errorOf(() => loadDesigns('before,./undef.js', dir))).toBe('--designs: ./undef.js: create() returned undefined, not a design instance');
    expect(errorOf(() => loadDesigns('before,./nul.js', dir))).toBe('--designs: ./nul.js: create() returned null, not a design instance');
    expect(errorOf(() => loadDesigns('before,./exits.js', dir))).toBe('--designs: ./exits.js: called process.exit(0) while loading');
    expect(typeof process.exit).toBe('function');
    expect(String(process.exit)).not.toContain('ExitDuringLoad'); // restored
  });
});
