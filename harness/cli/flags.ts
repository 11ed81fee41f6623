// The flag layer of the CLI: one-line usage errors, a declarative typed flag table per command
// (name, type and validation, default, help), the strict parser whose result is typed from the
// table (no casts), the help rows, the I/O a command writes to, and the command contract.
//
//   const FLAGS = flagTable([{ name: 'seeds', kind: { type: 'int', min: 1, max: 1000 }, default: 5, help: '...' }, ...]);
//   const { flags, given, positional } = parseFlags('mutants', FLAGS, argv);
//   flags.seeds   // number (it has a default); a flag without one is `T | undefined`
//   given.has('seeds')  // was it on the command line (for "cannot be combined" checks)
import { wrap } from '../report/text';
import { InputError } from '../seq/sequence';

/** A command-line mistake: one line naming the flag and what is wrong. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// ------------------------------------------------------------------------------------------------
// The flag table

export type FlagKind =
  | { readonly type: 'string'; readonly what: string }
  | { readonly type: 'bool' }
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'number'; readonly min: number; readonly max: number; readonly minExclusive?: boolean }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'shard' };

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly help: string;
  readonly metavar?: string;
  /** the value when the flag is not given (then the parsed value is never undefined) */
  readonly default?: unknown;
}

/** The value a flag of this kind parses to. */
export type FlagValueOf<K extends FlagKind> =
  K extends { type: 'string' } ? string
    : K extends { type: 'bool' } ? boolean
      : K extends { type: 'int' | 'number' } ? number
        : K extends { type: 'enum'; values: readonly (infer V)[] } ? V
          : K extends { type: 'shard' } ? { index: number; count: number }
            : never;

/** The parse result of a table: each flag by name, typed by its kind; `| undefined` unless it has a default. */
export type FlagValues<T extends readonly FlagSpec[]> = {
  readonly [S in T[number] as S['name']]: S extends { default: unknown } ? FlagValueOf<S['kind']> : FlagValueOf<S['kind']> | undefined;
};

/** Declare a command's flags (keeps the literal types the parse result is typed from). */
export function flagTable<const T extends readonly FlagSpec[]>(specs: T): T {
  return specs;
}

export interface ParsedFlags<T extends readonly FlagSpec[]> {
  flags: FlagValues<T>;
  /** the flags given on the command line */
  given: ReadonlySet<T[number]['name']>;
  positional: string[];
}

/** --hang-timeout, shared by run, replay, minimize and explain (libFuzzer's -timeout). */
export const HANG_TIMEOUT_FLAG = {
  name: 'hang-timeout', kind: { type: 'number', min: 0, max: 1e6, minExclusive: true }, metavar: 'S',
  help: 'a sequence whose designs make no progress for S seconds is stopped and reported as a hang (default 10)',
} as const satisfies FlagSpec;

// ------------------------------------------------------------------------------------------------
// Parsing

function describeKind(k: FlagKind): string {
  switch (k.type) {
    case 'string': return k.what;
    case 'bool': return 'no value';
    case 'int': return k.min === 0 && k.max >= Number.MAX_SAFE_INTEGER ? 'a non-negative integer' : `an integer in ${k.min}..${k.max}`;
    case 'number': return k.minExclusive ? `a number > ${k.min}` : `a number in [${k.min}, ${k.max}]`;
    case 'enum': return `one of ${k.values.join(', ')}`;
    case 'shard': return 'I/N with 0 <= I < N';
  }
}

type AnyFlagValue = FlagValueOf<FlagKind>;

function convert(spec: FlagSpec, raw: string): AnyFlagValue {
  const flag = `--${spec.name}`;
  const k = spec.kind;
  const bad = (why: string): never => { throw new UsageError(`${flag}: ${why}`); };
  switch (k.type) {
    case 'string':
      if (raw === '') bad(`empty value (expected ${k.what})`);
      return raw;
    case 'bool':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return bad(`takes no value (got ${JSON.stringify(raw)})`);
    case 'int': {
      if (!/^-?\d+$/.test(raw)) bad(`expected ${describeKind(k)}, got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < k.min || n > k.max) bad(`${raw} is out of range (expected ${describeKind(k)})`);
      return n;
    }
    case 'number': {
      const n = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) bad(`expected ${describeKind(k)}, got ${JSON.stringify(raw)}`);
      if (n < k.min || n > k.max || (k.minExclusive && n === k.min)) bad(`${raw} is out of range (expected ${describeKind(k)})`);
      return n;
    }
    case 'enum':
      if (!k.values.includes(raw)) bad(`unknown value ${JSON.stringify(raw)} (expected ${describeKind(k)})`);
      return raw;
    case 'shard': {
      const m = /^(\d+)\/(\d+)$/.exec(raw);
      if (!m) bad(`expected ${describeKind(k)}, e.g. 0/4, got ${JSON.stringify(raw)}`);
      const index = Number(m![1]), count = Number(m![2]);
      if (count < 1 || index >= count) bad(`${raw} is out of range (expected ${describeKind(k)})`);
      return { index, count };
    }
  }
}

/**
 * Strict flag parser: --flag value and --flag=value; unknown, repeated or value-less flags are
 * errors (one line naming the flag); `-h` is --help; after `--` everything is positional.
 * (Node's util.parseArgs would tokenize the same, but its error messages are not ours.)
 */
export function parseFlags<const T extends readonly FlagSpec[]>(command: string, specs: T, argv: readonly string[]): ParsedFlags<T> {
  const values = new Map<string, AnyFlagValue>();
  const positional: string[] = [];
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositional || !arg.startsWith('-') || arg === '-') { positional.push(arg); continue; }
    if (arg === '--') { onlyPositional = true; continue; }
    if (arg === '-h') { values.set('help', true); continue; }
    if (!arg.startsWith('--')) throw new UsageError(`${arg}: unknown option for "${command}" (flags are long: --name value; see tdpfuzz ${command} --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find(s => s.name === name);
    if (!spec) throw new UsageError(`--${name}: unknown flag for "${command}" (see tdpfuzz ${command} --help)`);
    if (values.has(name)) throw new UsageError(`--${name}: given more than once`);
    let raw: string;
    if (eq >= 0) {
      raw = arg.slice(eq + 1);
    } else if (spec.kind.type === 'bool') {
      raw = 'true';
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name}: missing value (expected ${describeKind(spec.kind)})`);
      raw = next;
      i++;
    }
    values.set(name, convert(spec, raw));
  }
  const flags: Record<string, unknown> = {};
  for (const s of specs) flags[s.name] = values.has(s.name) ? values.get(s.name) : s.default;
  // The one widening from the runtime record to the table's type: convert() produced each value
  // from its spec's kind, which is what FlagValues<T> says.
  return { flags: flags as FlagValues<T>, given: new Set(values.keys()) as ReadonlySet<T[number]['name']>, positional };
}

/**
 * The `flags:` rows of a command's help: `  --name METAVAR  help`, aligned (to `width`, default the
 * longest), the help wrapped under itself so that every line fits 80 columns (issue 12 item 12).
 */
export function flagHelp(specs: readonly FlagSpec[], width?: number): string {
  const rows = specs.map(s => [`--${s.name}${s.metavar ? ` ${s.metavar}` : ''}`, s.help]);
  const w = width ?? Math.max(...rows.map(r => r[0].length));
  return rows.map(([a, b]) => wrap(b, ' '.repeat(w + 4), `  ${a.padEnd(w)}  `).join('\n')).join('\n');
}

/** A comma-separated flag value as a list (no empty items). */
export function splitList(flag: string, v: string): string[] {
  const items = v.split(',').map(s => s.trim());
  if (items.some(s => s === '')) throw new UsageError(`${flag}: expected a comma-separated list, got ${JSON.stringify(v)}`);
  const dup = items.find((s, i) => items.indexOf(s) !== i);
  if (dup) throw new UsageError(`${flag}: ${JSON.stringify(dup)} given more than once`);
  return items;
}

// ------------------------------------------------------------------------------------------------
// I/O and the command contract

export interface Io {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  /** stderr is a terminal: a single updating status line */
  isTTY: boolean;
  /** stderr's width in characters when it is a terminal (default 80): the status line is fitted to it */
  columns?: number;
  env: Record<string, string | undefined>;
}

export const processIo = (): Io => ({
  out: t => process.stdout.write(t),
  err: t => process.stderr.write(t),
  cwd: process.cwd(),
  isTTY: !!process.stderr.isTTY,
  // read at each status line, so a resized terminal is followed
  get columns() { return process.stderr.columns || 80; },
  env: process.env,
});

/** One `tdpfuzz <name>` command (cli/cmd_<name>.ts); the registry is cli/commands.ts. */
export interface Command {
  name: string;
  /** one line for `tdpfuzz --help` */
  summary: string;
  /** full `tdpfuzz <name> --help` text */
  help: string;
  /** parse argv (everything after the command name) and run; returns the exit code. Throw InputError on bad input. */
  run(argv: readonly string[], io: Io): Promise<number>;
}
