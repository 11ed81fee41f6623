// The strict field reader of the sequence format and the limits of field values. Every check of
// sequence.ts and of the op-kind table (op_kinds.ts) goes through Fields/Field, so every message has
// the same one-line shape: `<file>: <path>.<field>: <what is wrong>`.

import { GEOMETRY_FANOUT, PAGING_LEVELS, type GeometryName, type VmConfig } from '../../impls/api';

export { GEOMETRY_FANOUT };

/** A malformed input file or op. The message is one line: `<file>: <path>: <what is wrong>`. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Both geometries have 4 levels; level 1 is the 4K leaf level, level 4 the root table. */
export const LEVELS = PAGING_LEVELS;
/** The geometries, in the order flags and messages list them. */
export const GEOMETRIES: readonly GeometryName[] = ['compact', 'x86'];
export const MAX_VCPUS = 8;
/** Lockless walker ids (rcuRead/rcuUnlock). */
export const MAX_WALKER = 7;
/** Upper bound for `nth` in fail and race entries: beyond this the point is never reached in practice. */
export const MAX_NTH = 64;

/** Number of gfns the 4-level tree maps: fanout^4 (4096 for compact, 2^36 for x86). */
export function totalGfns(config: VmConfig): number {
  return GEOMETRY_FANOUT[config.geometry] ** LEVELS;
}

/** Number of gfns one entry at `level` covers (1 at level 1). */
export function gfnsPerEntry(config: VmConfig, level: number): number {
  return GEOMETRY_FANOUT[config.geometry] ** (level - 1);
}

export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One field of an object being read: the readers of Fields with the key bound. */
export interface Field {
  readonly key: string;
  fail(msg: string): never;
  int(lo: number, hi: number, def?: number, why?: string): number;
  bool(def?: boolean): boolean;
  oneOf<T extends string>(allowed: readonly T[], def?: T, noun?: string): T;
}

export class Fields {
  constructor(
    private readonly file: string,
    readonly path: string,
    private readonly obj: Record<string, unknown>,
  ) {}

  fail(field: string | null, msg: string): never {
    const at = field === null ? this.path : this.path ? `${this.path}.${field}` : field;
    throw new InputError(`${this.file}: ${at}: ${msg}`);
  }

  /** Reject unknown keys first: a typo ("gfnn") is a better message than the "gfn: missing" it causes. */
  onlyKnown(allowed: readonly string[], what: string): void {
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) {
        const list = allowed.length ? ` (fields: ${allowed.join(', ')})` : ' (it takes no fields)';
        // Quote odd keys so that the message stays one line and the path stays readable.
        this.fail(/^[A-Za-z_$][\w$]*$/.test(key) ? key : show(key), `unknown field for ${what}${list}`);
      }
    }
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  int(key: string, lo: number, hi: number, def?: number, why?: string): number {
    const v = this.obj[key];
    if (v === undefined) {
      if (def === undefined) this.fail(key, 'missing (required)');
      return def;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `expected an integer, got ${show(v)}`);
    if (v < lo || v > hi) this.fail(key, `${v} is out of range (${why ?? `expected ${lo}..${hi}`})`);
    return v;
  }

  bool(key: string, def?: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined) {
      if (def === undefined) this.fail(key, 'missing (required)');
      return def;
    }
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${show(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], def?: T, noun = 'value'): T {
    const v = this.obj[key];
    if (v === undefined) {
      if (def === undefined) this.fail(key, 'missing (required)');
      return def;
    }
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `unknown ${noun} ${show(v)} (allowed: ${allowed.join(', ')})`);
    }
    return v as T;
  }

  /** The readers for one key. */
  at(key: string): Field {
    return {
      key,
      fail: (msg) => this.fail(key, msg),
      int: (lo, hi, def, why) => this.int(key, lo, hi, def, why),
      bool: (def) => this.bool(key, def),
      oneOf: (allowed, def, noun) => this.oneOf(key, allowed, def, noun),
    };
  }
}
