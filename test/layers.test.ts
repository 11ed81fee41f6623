// The dependency rule of harness/ (README "Layout"): cli → fuzz → report → store → run → seq →
// impls/api, nothing imports cli, seq imports only impls/api, impls/ imports nothing from harness/,
// and no import cycle anywhere. Imports are read from the sources (static `import`/`export … from`,
// `require(...)`, `import(...)`; test/import_graph.ts), so a rule broken by a type-only import fails too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSpecifiers } from './import_graph';

const ROOT = path.resolve(__dirname, '..');
/** Layers bottom-up: a file may import its own layer or a lower one. */
export const LAYERS = ['seq', 'run', 'store', 'report', 'fuzz', 'cli'] as const;
/** The only impls/ modules the harness may use: the contract, and the design registries (design loading). */
const IMPLS_ENTRY_POINTS = new Set(['impls/api.ts', 'impls/designs.ts', 'impls/mutants/catalogue.ts', 'impls/alternatives/index.ts', 'impls/series/index.ts']);

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const p = path.posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Project files imported by `file` (relative specifiers resolved to repo paths; packages dropped). */
export function projectImports(file: string, text: string = fs.readFileSync(path.join(ROOT, file), 'utf8')): string[] {
  const out: string[] = [];
  for (const spec of importSpecifiers(text)) {
    if (!spec.startsWith('.')) continue;
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
    const candidates = [`${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts'), base];
    const hit = candidates.find(c => fs.existsSync(path.join(ROOT, c)) && fs.statSync(path.join(ROOT, c)).isFile());
    out.push(hit ?? base);
  }
  return out;
}

const layerOf = (file: string): string | null => {
  const m = /^harness\/([^/]+)\//.exec(file);
  return m ? m[1] : null;
};

/** Every violation of the rule in the given import graph, one line each. */
export function ruleViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const bad: string[] = [];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      if (file.startsWith('impls/')) {
        if (dep.startsWith('harness/')) bad.push(`${file} imports ${dep}: impls/ never imports harness/`);
        continue;
      }
      const from = layerOf(file);
      if (file.startsWith('harness/') && !from) { bad.push(`${file}: harness/ files live in a layer folder`); continue; }
      if (!from) continue;
      if (dep.startsWith('impls/')) {
        if (from === 'seq' ? dep !== 'impls/api.ts' : !IMPLS_ENTRY_POINTS.has(dep))
          bad.push(`${file} imports ${dep}: ${from === 'seq' ? 'seq/ imports only impls/api' : 'the harness uses impls/ only through api.ts and the design registries'}`);
        continue;
      }
      const to = layerOf(dep);
      if (!to) { bad.push(`${file} imports ${dep}: outside the layers`); continue; }
      if (to === 'cli' && from !== 'cli') bad.push(`${file} imports ${dep}: nothing imports cli/`);
      else if (LAYERS.indexOf(to as typeof LAYERS[number]) > LAYERS.indexOf(from as typeof LAYERS[number]))
        bad.push(`${file} imports ${dep}: ${from}/ is below ${to}/ (cli → fuzz → report → store → run → seq)`);
    }
  }
  return bad;
}

/** Every import cycle (as a path a → b → … → a), found by DFS over strongly connected parts. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (!graph.has(d)) continue;
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

function projectGraph(): Map<string, string[]> {
  return new Map([...tsFiles('harness'), ...tsFiles('impls')].map(f => [f, projectImports(f)]));
}

describe('layers: the dependency rule of harness/ and impls/', () => {
  const graph = projectGraph();

  it('every import points down the layers, and impls/ never imports harness/', () => {
    expect(ruleViolations(graph)).toEqual([]);
  });

  it('no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('every harness file is in a layer folder', () => {
    expect([...graph.keys()].filter(f => f.startsWith('harness/') && !LAYERS.some(l => f.startsWith(`harness/${l}/`)))).toEqual([]);
  });

  it('one strict JSON reader: only seq/strict_json.ts defines a field-reader class or parses input JSON with its own message', () => {
    const offenders: string[] = [];
    for (const f of graph.keys()) {
      if (!f.startsWith('harness/') || f === 'harness/seq/strict_json.ts') continue;
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      if (/\bclass \w*(Reader|Fields)\b/.test(text)) offenders.push(`${f}: defines a reader class`);
      if (/not valid JSON/.test(text)) offenders.push(`${f}: its own "not valid JSON" message (use parseJsonInput)`);
    }
    expect(offenders).toEqual([]);
  });

  // The checker itself must bite: each broken rule below is reported.
  it('catches an upward import, an import of cli/, a seq/ import beyond impls/api, impls/ → harness/ and a cycle', () => {
    const bad = new Map<string, string[]>([
      ['harness/run/runner.ts', ['harness/report/report.ts']],
      ['harness/report/report.ts', ['harness/cli/flags.ts']],
      ['harness/seq/sequence.ts', ['impls/machine/spte.ts', 'harness/seq/legality.ts']],
      ['harness/seq/legality.ts', ['harness/seq/sequence.ts']],
      ['impls/tdp_mmu/core.ts', ['harness/seq/opgen.ts']],
      ['harness/fuzz/engines/guided.ts', ['impls/tdp_mmu/core.ts', 'harness/seq/opgen.ts']],
    ]);
    const v = ruleViolations(bad);
    expect(v).toHaveLength(5);
    expect(v.join('\n')).toMatch(/run\/ is below report\//);
    expect(v.join('\n')).toMatch(/nothing imports cli\//);
    expect(v.join('\n')).toMatch(/seq\/ imports only impls\/api/);
    expect(v.join('\n')).toMatch(/impls\/ never imports harness\//);
    expect(v.join('\n')).toMatch(/only through api.ts/);
    expect(cycles(bad)).toEqual(['harness/seq/legality.ts → harness/seq/sequence.ts → harness/seq/legality.ts']);
  });

  it('reads type-only imports, re-exports, require() and dynamic import()', () => {
    const text = [
      "import type { A } from './a';",
      "export { B } from '../run/b';",
      "const c = require('./c');",
      "void import('./d');",
      "import './e';",
      "// import { X } from './commented';",
      "import * as fs from 'node:fs';",
    ].join('\n');
    expect(projectImports('harness/seq/x.ts', text)).toEqual([
      'harness/seq/a', 'harness/run/b', 'harness/seq/c', 'harness/seq/d', 'harness/seq/e',
    ]);
  });
});
