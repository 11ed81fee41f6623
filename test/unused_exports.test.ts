// No unused exports (issue 8 item 6): every `export` of harness/ and impls/ is used by another
// module — harness, impls, a test, a bench script or an example — or belongs to a public contract
// (impls/api.ts: the design contract that user design modules are written against). An export nobody
// imports is dead code or a name that should not be exported; it hides which parts of a file are its
// interface. Resolved with the TypeScript checker, so a name imported under an alias, a re-export
// and a type-only import all count.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts = require('typescript') as typeof import('typescript');

const REPO = path.resolve(__dirname, '..');
/** Modules whose every export is a public contract, used from outside this repository. */
const PUBLIC_CONTRACTS = new Set(['impls/api.ts']);

function files(ROOT: string, dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return out;
  for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
    const p = path.posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(ROOT, p, ext));
    else if (ext.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The unused exports of the tree at ROOT (harness/, impls/; users also in test/, bench/, examples/). */
export function unusedExports(ROOT: string = REPO): string[] {
  const sources = [...files(ROOT, 'harness', /\.ts$/), ...files(ROOT, 'impls', /\.ts$/)];
  const users = files(ROOT, 'test', /\.ts$/);
  const program = ts.createProgram([...sources, ...users].map(f => path.join(ROOT, f)), {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    strict: true, noEmit: true, skipLibCheck: true, types: ['node'],
  });
  const checker = program.getTypeChecker();
  const rel = (f: string): string => path.relative(ROOT, f).split(path.sep).join('/');
  const used = new Set<ts.Symbol>();
  const wholeModuleUsed = new Set<string>();

  const resolveModule = (from: ts.SourceFile, spec: string): string | null => {
    const r = ts.resolveModuleName(spec, from.fileName, program.getCompilerOptions(), ts.sys).resolvedModule;
    return r && !r.isExternalLibraryImport ? rel(r.resolvedFileName) : null;
  };
  const mark = (node: ts.Node): void => {
    const s = checker.getSymbolAtLocation(node);
    if (!s) return;
    used.add(s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  };

  for (const sf of program.getSourceFiles()) {
    const name = rel(sf.fileName);
    if (name.startsWith('node_modules') || name.startsWith('..')) continue;
    const visit = (n: ts.Node): void => {
      if (ts.isImportDeclaration(n) && n.importClause) {
        const b = n.importClause.namedBindings;
        if (b && ts.isNamedImports(b)) b.elements.forEach(e => mark(e.name));
        if (b && ts.isNamespaceImport(b)) {
          const m = resolveModule(sf, (n.moduleSpecifier as ts.StringLiteral).text);
          if (m) wholeModuleUsed.add(m);
        }
      } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) {
        if (n.exportClause && ts.isNamedExports(n.exportClause)) n.exportClause.elements.forEach(e => mark(e.propertyName ?? e.name));
        else { const m = resolveModule(sf, (n.moduleSpecifier as ts.StringLiteral).text); if (m) wholeModuleUsed.add(m); }
      } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
        const m = resolveModule(sf, n.argument.literal.text);
        if (m) wholeModuleUsed.add(m);
      } else if (ts.isCallExpression(n) && n.arguments.length && ts.isStringLiteral(n.arguments[0])
        && (ts.isIdentifier(n.expression) && n.expression.text === 'require' || n.expression.kind === ts.SyntaxKind.ImportKeyword)) {
        const m = resolveModule(sf, n.arguments[0].text);
        if (m) wholeModuleUsed.add(m);
      } else if (ts.isStringLiteral(n) && users.includes(name)) {
        // Tests that compile the tree and load a module by path ('harness/store/crash_store.ts').
        const m = /^(harness|impls)\/[\w/]+\.(ts|js)$/.exec(n.text);
        if (m) wholeModuleUsed.add(n.text.replace(/\.js$/, '.ts'));
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  // Plain JavaScript users (bench scripts, example variants) load dist/ modules by path and use
  // names: count a name they mention as used in the module they load.
  const jsText = [...files(ROOT, 'bench', /\.js$/), ...files(ROOT, 'examples', /\.js$/)].map(f => fs.readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
  const jsModules = new Set([...jsText.matchAll(/(?:dist\/|DIST, ')((?:harness|impls)\/[\w/]+)/g)].map(m => `${m[1]}.ts`));

  const bad: string[] = [];
  for (const file of sources) {
    if (PUBLIC_CONTRACTS.has(file) || wholeModuleUsed.has(file)) continue;
    const sf = program.getSourceFile(path.join(ROOT, file));
    const modSym = sf && checker.getSymbolAtLocation(sf);
    if (!modSym) continue;
    for (const exp of checker.getExportsOfModule(modSym)) {
      const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      if (used.has(exp) || used.has(target)) continue;
      if (jsModules.has(file) && new RegExp(`\\b${exp.name}\\b`).test(jsText)) continue;
      // A type named in its own file's signatures is part of that file's interface (the parameter or
      // result type of an exported function), not dead: keep it exported so callers can name it.
      if (target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)
        && (sf.text.match(new RegExp(`\\b${exp.name}\\b`, 'g')) ?? []).length > 1) continue;
      bad.push(`${file}: ${exp.name}`);
    }
  }
  return bad.sort();
}

describe('no unused exports', () => {
  it('every export of harness/ and impls/ has a user outside its file (types: or in its own signatures; impls/api.ts is contract)', () => {
    expect(unusedExports()).toEqual([]);
  }, 120_000);

  it('bites: an export nobody imports is reported; imported, aliased, re-exported and own-signature types are not', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tdpfuzz-unused-'));
    const put = (f: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), text);
    };
    put('harness/seq/a.ts', [
      'export const used = 1;', 'export const aliased = 2;', 'export const dead = 3;',
      'export interface Opts { n: number }', 'export function f(o: Opts): number { return o.n; }',
      'export const reexported = 4;',
    ].join('\n'));
    put('harness/seq/b.ts', "export { reexported } from './a';\n");
    put('harness/run/c.ts', "import { used, aliased as x, f } from '../seq/a';\nexport const sum = used + x + f({ n: 1 });\n");
    put('test/c.test.ts', "import { sum } from '../harness/run/c';\nimport { reexported } from '../harness/seq/b';\nvoid sum; void reexported;\n");
    try {
      expect(unusedExports(root)).toEqual(['harness/seq/a.ts: dead']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
