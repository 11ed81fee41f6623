// The design loader (DESIGN §6): `--designs before,after` or `--designs before,./my_patch.js`.
// Each item of the comma-separated list is a registered name (BUILTIN_DESIGNS, or anything a
// registered resolver knows, e.g. "mutant:<id>" once the mutant catalogue registers itself), or a
// path to a CommonJS module exporting a Design ({name, description, create}) as its default export,
// as `design`, or as the module itself. Errors are one-line InputErrors naming the flag.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG, type Design, type VmConfig } from '../../impls/api';
import { BUILTIN_DESIGNS } from '../../impls/designs';
import { InputError } from '../seq/sequence';
import { findMutant } from '../../impls/mutants/catalogue';
import { findAlternative } from '../../impls/alternatives/index';
import { findSeriesDesign } from '../../impls/series';

/** Resolves a design name the built-ins do not know (e.g. "mutant:d4-no-warn"); undefined = not mine. */
export type DesignResolver = (name: string) => Design | undefined;

interface ResolverEntry { resolve: DesignResolver; hint?: string }
const resolvers: ResolverEntry[] = [];

/**
 * Register a resolver consulted, in registration order, for names that are not built-in designs.
 * `hint` names what it accepts in error messages (e.g. "mutant:<id>"). Returns an unregister function.
 */
export function registerDesignResolver(resolve: DesignResolver, hint?: string): () => void {
  const entry: ResolverEntry = { resolve, hint };
  resolvers.push(entry);
  return () => {
    const i = resolvers.indexOf(entry);
    if (i >= 0) resolvers.splice(i, 1);
  };
}

/** A Design object: a name and a create() factory (description is optional for user modules). */
function isDesign(x: unknown): x is Design {
  return typeof x === 'object' && x !== null
    && typeof (x as Design).name === 'string' && (x as Design).name.length > 0
    && typeof (x as Design).create === 'function';
}

/** A list item is a path when it looks like one: ./x, ../x, /x, or ends in .js/.ts/.cjs. */
function looksLikePath(item: string): boolean {
  return item.startsWith('.') || item.startsWith('/') || path.isAbsolute(item) || /\.(c?js|ts)$/.test(item);
}

/** The items of a --designs value, trimmed; empty items are an error. */
export function splitDesignSpec(spec: string, flag = '--designs'): string[] {
  const items = spec.split(',').map(s => s.trim());
  if (spec.trim() === '' || items.some(s => s === '')) {
    throw new InputError(`${flag}: expected a comma-separated list of design names or module paths, got ${JSON.stringify(spec)}`);
  }
  return items;
}

function knownList(): string {
  const names = Object.keys(BUILTIN_DESIGNS);
  const hints = resolvers.map(r => r.hint).filter((h): h is string => !!h);
  return [...new Set([...names, ...hints])].join(', ');
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 200);
}

function loadModule(item: string, cwd: string, flag: string): Design {
  const file = path.resolve(cwd, item);
  if (!fs.existsSync(file)) throw new InputError(`${flag}: ${item}: no such file`);
  refuseSpecialFile(file, item, flag);
  let mod: unknown;
  // A module that calls process.exit() while loading must not end the run (with exit 0, a green run).
  const realExit = process.exit;
  process.exit = ((code?: number) => { throw new ExitDuringLoad(code); }) as typeof process.exit;
  try {
    mod = require(file);
  } catch (e) {
    if (e instanceof ExitDuringLoad) throw new InputError(`${flag}: ${item}: called process.exit(${e.code ?? ''}) while loading`);
    const hint = /\.ts$/.test(item) ? ' (compile it to JavaScript first, or load it from vitest)' : '';
    throw new InputError(`${flag}: ${item}: cannot load module: ${firstLine(e)}${hint}`);
  } finally {
    process.exit = realExit;
  }
  const m = mod as Record<string, unknown> | undefined;
  const candidates = [m?.default, m?.design, mod];
  const design = candidates.find(isDesign);
  if (!design) throw new InputError(`${flag}: ${item} does not export a design (needs name and create())`);
  probeCreate(design, item, flag);
  return design;
}

/**
 * require() reads the module with a blocking read: a FIFO (or a device) would hang the command, so
 * what the path resolves to must be a regular file. (The store's non-blocking reader cannot be used
 * here: require does its own reading, and run/ sits below store/.)
 */
function refuseSpecialFile(file: string, item: string, flag: string): void {
  let resolved: string;
  try {
    resolved = require.resolve(file);
  } catch {
    return; // require() itself reports what cannot be resolved
  }
  const st = fs.statSync(resolved);
  if (!st.isFile()) throw new InputError(`${flag}: ${item}: cannot load module: ${path.relative(path.dirname(file), resolved) || path.basename(resolved)} is not a regular file`);
}

class ExitDuringLoad extends Error {
  constructor(readonly code: number | undefined) { super('process.exit during module load'); }
}

/**
 * A create() that returns no instance would make every sequence a no-op for that design (a clean
 * verdict, or "no longer reproduces" on replay): probe it once with the default configuration. A
 * create() that throws here may still work with the configuration actually run: a campaign probes
 * with its own (probeDesigns) before it writes anything.
 */
function probeCreate(design: Design, item: string, flag: string): void {
  let vm: unknown;
  try {
    vm = design.create(DEFAULT_CONFIG);
  } catch {
    return;
  }
  // Only "no instance at all" is refused here; an incomplete instance fails at its first op, where
  // the run reports the exception as a finding.
  if (typeof vm !== 'object' || vm === null) throw new InputError(`${flag}: ${item}: create() returned ${vm === null ? 'null' : String(vm)}, not a design instance`);
}

/**
 * Create one instance of each design with the run's configuration, before a campaign writes anything:
 * a create() that throws (or returns no instance) for that configuration would fail every sequence,
 * so it is bad input, refused with one line, and not a run that overwrites the previous one's outputs.
 */
export function probeDesigns(designs: readonly Design[], config: VmConfig, specs: readonly string[] = designs.map(d => d.name), flag = '--designs'): void {
  designs.forEach((d, k) => {
    let vm: unknown;
    try {
      vm = d.create(config);
    } catch (e) {
      throw new InputError(`${flag}: ${specs[k] ?? d.name}: create() threw for the run's configuration: ${firstLine(e)}`);
    }
    if (typeof vm !== 'object' || vm === null) throw new InputError(`${flag}: ${specs[k] ?? d.name}: create() returned ${vm === null ? 'null' : String(vm)}, not a design instance`);
  });
}

/** One item of the list: a name or a module path. */
function loadDesign(item: string, cwd: string = process.cwd(), flag = '--designs'): Design {
  if (Object.prototype.hasOwnProperty.call(BUILTIN_DESIGNS, item)) return BUILTIN_DESIGNS[item];
  for (const r of resolvers) {
    const d = r.resolve(item);
    if (d) return d;
  }
  if (looksLikePath(item)) return loadModule(item, cwd, flag);
  throw new InputError(`${flag}: unknown design ${JSON.stringify(item)} (known: ${knownList()}, or a path to a module exporting a design)`);
}

/**
 * The file a --designs item loads when it is a module path (absolute, as require() resolves it, e.g.
 * "./variant" -> "/abs/variant.js"), or undefined for a name (built-in, mutant:, alt:, <series>:<step>).
 * Crash files record this path, so that their designs load from any working directory.
 */
export function designModuleFile(item: string, cwd: string = process.cwd()): string | undefined {
  if (Object.prototype.hasOwnProperty.call(BUILTIN_DESIGNS, item)) return undefined;
  if (resolvers.some(r => r.resolve(item) !== undefined)) return undefined;
  if (!looksLikePath(item)) return undefined;
  const file = path.resolve(cwd, item);
  try {
    return require.resolve(file);
  } catch {
    return file;
  }
}

/**
 * Load a comma-separated design list (names or module paths, relative paths from cwd). At least two
 * designs are needed; the same design twice ("before,before") is a self-check run.
 */
export function loadDesigns(spec: string, cwd: string = process.cwd(), flag = '--designs'): Design[] {
  const items = splitDesignSpec(spec, flag);
  if (items.length < 2) {
    throw new InputError(`${flag}: need at least two designs to compare, got ${items.length} (${items.join(', ')}); e.g. before,after or before,before for a self-check`);
  }
  return items.map(item => loadDesign(item, cwd, flag));
}

// The mutant catalogue's designs are addressable as "mutant:<id>" (tdpfuzz mutants --list).
registerDesignResolver(name => (name.startsWith('mutant:') ? findMutant(name.slice('mutant:'.length))?.design : undefined), 'mutant:<id>');
// The alternatives proposed in review (impls/alternatives/) are addressable as "alt:<id>".
registerDesignResolver(name => (name.startsWith('alt:') ? findAlternative(name.slice('alt:'.length))?.design : undefined), 'alt:<id>');
// Each step of a built-in series is addressable as "<series>:<step>", e.g. v3:P7, v1:v1-P7, v3:P0 (impls/series).
registerDesignResolver(findSeriesDesign, '<series>:<step> (e.g. v3:P7)');
