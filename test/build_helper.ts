// Compiles the project's harness/ and impls/ TypeScript into CommonJS under a temp directory (with
// the typescript API's transpileModule: no type checking, about a second), for tests that need real
// JavaScript files: worker threads (harness/fuzz/worker_main.js), the jsfuzz CLI and the istanbul hook.
// node_modules is symlinked next to it so that package imports resolve. Tests therefore never rely
// on a prior `npm run build` (nor on a dist/ another build may be rewriting concurrently).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Set by test/global_tree.ts (vitest globalSetup): the run's one shared tree. */
export const SHARED_TREE_ENV = 'TDPFUZZ_TEST_TREE';

/**
 * The transpiled tree for a test file: the run's shared one when vitest's globalSetup built it,
 * else a fresh one (transpileTree). Read-only for its users.
 */
export function buildTree(tag: string): string {
  const shared = process.env[SHARED_TREE_ENV];
  if (shared && fs.existsSync(path.join(shared, 'harness/cli/main.js'))) return shared;
  return transpileTree(tag);
}

/** Transpile harness/ and impls/ into `<tmp>/harness`, `<tmp>/impls`; returns `<tmp>`. */
export function transpileTree(tag: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `tdpfuzz-${tag}-`));
  for (const dir of ['harness', 'impls']) {
    for (const file of tsFiles(path.join(ROOT, dir))) {
      const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        fileName: file,
      }).outputText;
      const dest = path.join(out, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, js);
    }
  }
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(out, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  return out;
}

/** Remove a tree buildTree gave; the shared one stays until globalSetup's teardown. */
export function removeTree(dir: string): void {
  if (dir === process.env[SHARED_TREE_ENV]) return;
  fs.rmSync(dir, { recursive: true, force: true });
}
