// Istanbul coverage of the design models, for the in-process jsfuzz engine (DESIGN §3): the
// compiled impls/ modules are instrumented as they are first required (istanbul-lib-hook 2.0.7 +
// istanbul-lib-instrument 3.3.0, the versions jsfuzz 1.0.15 was built for; reference/tooling.md
// §1, §8.3), and the feedback signal is jsfuzz's own: the number of statement, function and branch
// counters that are non-zero, summed over the instrumented files.
//
// Only impls/ is instrumented: the harness, node_modules and user design modules outside impls/
// are not (instrumenting everything, as the jsfuzz CLI does, adds noise and costs half the speed).
// The hook only sees modules required after it is installed, so it must be installed before the
// first impls/ module loads: in a fresh worker thread (fuzz/worker_main.ts), never in a process
// that has already loaded the designs. This module must therefore not import anything from impls/
// (or anything that does).
import * as path from 'node:path';

/** impls/ next to this module's harness/ (dist/impls for dist/harness/fuzz/engines/istanbul.js). */
const IMPLS_DIR = path.resolve(__dirname, '..', '..', '..', 'impls');

interface FileCoverage {
  s: Record<string, number>;
  f: Record<string, number>;
  b: Record<string, number[]>;
}

declare global {
  // eslint-disable-next-line no-var
  var __coverage__: Record<string, FileCoverage> | undefined;
}

let installedFor: string | null = null;

/**
 * Install the require hook that instruments `implsDir` (default IMPLS_DIR). Throws when a module of
 * that directory is already loaded (its coverage would silently be missing). Idempotent.
 */
export function installImplsCoverageHook(implsDir: string = IMPLS_DIR): void {
  const dir = path.resolve(implsDir) + path.sep;
  if (installedFor === dir) return;
  if (installedFor) throw new Error(`istanbul hook already installed for ${installedFor}`);
  const loaded = Object.keys(require.cache).filter(f => f.startsWith(dir));
  if (loaded.length) {
    throw new Error(`cannot instrument ${dir}: ${loaded.length} of its modules are already loaded (e.g. ${loaded[0]}); install the hook in a fresh worker`);
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { createInstrumenter } = require('istanbul-lib-instrument') as typeof import('istanbul-lib-instrument');
  const { hookRequire } = require('istanbul-lib-hook') as typeof import('istanbul-lib-hook');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const instrumenter = createInstrumenter({ compact: true, esModules: false, produceSourceMap: false });
  hookRequire(f => f.startsWith(dir) && f.endsWith('.js'), (code, { filename }) => instrumenter.instrumentSync(code, filename));
  installedFor = dir;
}

/** Whether impls/ modules in this thread carry istanbul counters. */
export function istanbulActive(implsDir: string = IMPLS_DIR): boolean {
  const cov = globalThis.__coverage__;
  if (!cov) return false;
  const dir = path.resolve(implsDir) + path.sep;
  return Object.keys(cov).some(f => f.startsWith(dir));
}

/**
 * jsfuzz's coverage number over the instrumented impls/ files: how many statement, function and
 * branch counters are non-zero. It never decreases within a thread.
 */
export function istanbulCoverageCount(implsDir: string = IMPLS_DIR): number {
  const cov = globalThis.__coverage__;
  if (!cov) return 0;
  const dir = path.resolve(implsDir) + path.sep;
  let total = 0;
  for (const file in cov) {
    if (!file.startsWith(dir)) continue;
    const c = cov[file];
    for (const k in c.s) if (c.s[k]) total++;
    for (const k in c.f) if (c.f[k]) total++;
    for (const k in c.b) for (const n of c.b[k]) if (n) total++;
  }
  return total;
}
