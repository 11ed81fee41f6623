// Helpers for the harness tests: temp dirs, a deliberately broken design, a fixed clock, and a
// transpiler that turns a harness module (and its relative imports) into CommonJS in a temp dir,
// so that child processes can load the real code without a prior `npm run build`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import type { Design, Op, VmConfig } from '../../impls/api';
import { after } from '../../impls/designs';
import type { Finding } from '../../harness/run/findings';
import type { Io } from '../../harness/cli/main';

export const ROOT = path.resolve(__dirname, '../..');
export const COMPACT: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temp dir, removed after the test file. */
export function tmpDir(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `tdpfuzz-${tag}-`));
  made.push(d);
  return d;
}

/** `after`, except that gracePeriod results differ: a divergence most random sequences reach. */
export const broken: Design = {
  name: 'broken',
  description: 'after with a wrong gracePeriod result (test design)',
  create(config: VmConfig) {
    const vm = after.create(config);
    const apply = vm.apply.bind(vm);
    vm.apply = (op: Op) => {
      const o = apply(op);
      return op.kind === 'gracePeriod' ? { ...o, result: `${o.result}!` } : o;
    };
    return vm;
  },
};

/** A clock that advances one second per call, from a fixed start. */
export function fixedClock(start = Date.UTC(2025, 0, 1)): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

export function finding(signature = 'divergence|before+after|fault|mirror', extra: Partial<Finding> = {}): Finding {
  const [kind, designs, opKind, component] = signature.split('|');
  return {
    signature, kind: kind as Finding['kind'], designs: designs.split('+'), opIndex: 1, opKind, component,
    message: `test finding ${signature}`, ...extra,
  };
}

export const grace = (n: number): Op[] => Array.from({ length: n }, () => ({ kind: 'gracePeriod' }) as Op);

/**
 * Transpile `entry` (a .ts file under ROOT) and every relative import it reaches into CommonJS under
 * `outDir`, keeping the layout. Returns the path of the entry's .js file.
 */
export function transpileTree(entry: string, outDir: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const seen = new Set<string>();
  const queue = [path.resolve(ROOT, entry)];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = fs.readFileSync(file, 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    }).outputText;
    const out = path.join(outDir, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, js);
    for (const m of src.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)) {
      const base = path.resolve(path.dirname(file), m[1]);
      queue.push(fs.existsSync(`${base}.ts`) ? `${base}.ts` : path.join(base, 'index.ts')); // a directory import means its index
    }
  }
  // toolVersion() looks for package.json above the module.
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(outDir, 'package.json'));
  return path.join(outDir, entry.replace(/\.ts$/, '.js'));
}

/** A CLI Io that captures stdout and stderr (not a terminal, empty environment). */
export function captureIo(cwd: string): Io & { stdout: string; stderr: string } {
  const o = {
    stdout: '', stderr: '', cwd, isTTY: false, env: {},
    out(t: string) { o.stdout += t; },
    err(t: string) { o.stderr += t; },
  };
  return o;
}

/** Every file (relative name → text) and directory (`name/` → '') under dir, {} when dir is absent: to compare a folder before and after. */
export function treeSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { out[`${path.relative(dir, p)}/`] = ''; walk(p); } else out[path.relative(dir, p)] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}
