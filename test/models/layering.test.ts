// The dependency rule of impls/ (impls/README.md, "Class chain and dependency rule"): the MMU and
// the machine never import TDX or design code (tdx/ may import tdp_mmu/, never the reverse; the
// vendor hooks the MMU calls are declared in tdp_mmu/kvm_x86_ops.ts), and impls/ never imports
// anything outside impls/ (in particular harness/). Imports are read with the TypeScript
// pre-processor, so `import type`, `export … from`, `import()` and `require()` all count.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSpecifiers } from '../import_graph';
import { AfterDesign } from '../../impls/after/tdp_mmu';
import { BeforeDesign } from '../../impls/before/tdp_mmu';

const IMPLS = path.resolve(__dirname, '../../impls');

interface ImportEdge { from: string; spec: string; to: string | null }

/** Every import of every .ts file under `root`, with relative specifiers resolved to root-relative paths. */
function importsOf(root: string, files: Record<string, string>): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const [rel, text] of Object.entries(files)) {
    for (const spec of importSpecifiers(text)) {
      const to = spec.startsWith('.') ? path.relative(root, path.resolve(root, path.dirname(rel), spec)).split(path.sep).join('/') : null;
      edges.push({ from: rel, spec, to });
    }
  }
  return edges;
}

function readTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out[path.relative(root, p).split(path.sep).join('/')] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(root);
  return out;
}

const LOWER = ['tdp_mmu/', 'machine/'];
const UPPER = ['tdx/', 'before/', 'after/', 'mutants/', 'designs', 'series/'];

/** The violations of the rule, one line each (empty = clean). */
function layeringViolations(edges: ImportEdge[]): string[] {
  const bad: string[] = [];
  for (const { from, spec, to } of edges) {
    if (to === null) {
      if (/(^|\/)harness(\/|$)/.test(spec)) bad.push(`${from}: imports '${spec}' (impls/ never imports harness/)`);
      continue;
    }
    if (to.startsWith('../') || to === '..') {
      bad.push(`${from}: imports '${spec}', outside impls/ (impls/ never imports harness/ or anything else above it)`);
      continue;
    }
    const lower = LOWER.find(d => from.startsWith(d));
    const upper = UPPER.find(d => to.startsWith(d));
    if (lower && upper) bad.push(`${from}: imports '${spec}' (${lower} must not import ${upper}: tdx/ may import tdp_mmu/, never the reverse)`);
    if (from.startsWith('machine/') && to.startsWith('tdp_mmu/')) bad.push(`${from}: imports '${spec}' (machine/ is below tdp_mmu/)`);
  }
  return bad;
}

describe('impls/ layering', () => {
  const files = readTree(IMPLS);
  const edges = importsOf(IMPLS, files);

  it('reads the imports it checks', () => {
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['tdp_mmu/flows.ts', 'tdx/tdx_common.ts', 'before/tdx.ts', 'machine/spte.ts']));
    expect(edges.filter(e => e.from === 'tdx/tdx_common.ts').map(e => e.to)).toContain('tdp_mmu/vm_ops');
  });

  it('tdp_mmu/ and machine/ import no TDX, design or mutant code; nothing imports outside impls/', () => {
    expect(layeringViolations(edges)).toEqual([]);
  });

  it('the check catches a wrong-way import', () => {
    const bad = { ...files, 'tdp_mmu/flows.ts': `import { TdxCommon } from '../tdx/tdx_common';\n${files['tdp_mmu/flows.ts']}` };
    bad['machine/hash.ts'] = `import type { X } from '../../harness/api';\n${files['machine/hash.ts']}`;
    bad['before/tdx.ts'] = `const m = require('harness/x');\n${files['before/tdx.ts']}`;
    bad['machine/spte.ts'] = `export * from '../tdp_mmu/core';\n${files['machine/spte.ts']}`;
    const v = layeringViolations(importsOf(IMPLS, bad));
    expect(v).toHaveLength(4);
    expect(v.join('\n')).toMatch(/tdp_mmu\/flows\.ts: imports '\.\.\/tdx\/tdx_common'/);
  });

  it('the class chain: TdpMmuCore → KvmX86Ops → TdpMmuFlows → TdpMmuVm → TdxCommon → <design>Tdx → <design>Design', () => {
    const chain = (c: Function): string[] => {
      const names: string[] = [];
      for (let p = c; p && p !== Function.prototype; p = Object.getPrototypeOf(p)) names.push(p.name);
      return names.reverse();
    };
    const shared = ['TdpMmuCore', 'KvmX86Ops', 'TdpMmuFlows', 'TdpMmuVm', 'TdxCommon'];
    expect(chain(BeforeDesign)).toEqual([...shared, 'BeforeTdx', 'BeforeDesign']);
    expect(chain(AfterDesign)).toEqual([...shared, 'AfterTdx', 'AfterDesign']);
  });
});
