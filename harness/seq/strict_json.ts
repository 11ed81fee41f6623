// The one strict JSON reader of every tdpfuzz file format (sequences, op kinds, crash files): the
// JSON parse and the field readers, with one message shape — `<file>: <path>.<field>: <what is
// wrong>`, one line — and unknown fields rejected before missing ones. It lives in seq/, the bottom
// layer, because the sequence format is read with it; store/ reads crash files with the same class.

/** A malformed input file or op. The message is one line: `<file>: <path>: <what is wrong>`. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** JSON.parse with a one-line InputError naming the file (shared by every input format). */
export function parseJsonInput(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // V8 may quote a snippet of the input, newlines included: keep the message on one line.
    const why = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
    throw new InputError(`${file}: not valid JSON (${why})`);
  }
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

  /** The object's keys (for maps keyed by name, e.g. a crash file's mergedFrom). */
  keys(): string[] {
    return Object.keys(this.obj);
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

  str(key: string): string {
    const v = this.obj[key];
    if (v === undefined) this.fail(key, 'missing (required)');
    if (typeof v !== 'string') this.fail(key, `expected a string, got ${show(v)}`);
    return v;
  }

  /** An integer with only a lower bound (counters: hits, sequence counts). */
  atLeast(key: string, lo: number): number {
    const v = this.obj[key];
    if (v === undefined) this.fail(key, 'missing (required)');
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `expected an integer, got ${show(v)}`);
    if (v < lo) this.fail(key, `${v} is out of range (expected >= ${lo})`);
    return v;
  }

  /** A list of at least `min` non-empty strings. */
  strings(key: string, min: number): string[] {
    const v = this.obj[key];
    if (v === undefined) this.fail(key, 'missing (required)');
    if (!Array.isArray(v)) this.fail(key, `expected an array of strings, got ${show(v)}`);
    v.forEach((x, i) => { if (typeof x !== 'string' || x === '') this.fail(`${key}[${i}]`, `expected a non-empty string, got ${show(x)}`); });
    if (v.length < min) this.fail(key, `expected at least ${min} entries, got ${v.length}`);
    return v as string[];
  }

  /** An ISO 8601 date-time string. */
  time(key: string): string {
    const v = this.str(key);
    if (Number.isNaN(Date.parse(v))) this.fail(key, `expected an ISO date-time, got ${show(v)}`);
    return v;
  }

  /** The reader of a nested object (its messages name the path: `source.file`). */
  object(key: string): Fields {
    const v = this.obj[key];
    if (v === undefined) this.fail(key, 'missing (required)');
    if (!isObject(v)) this.fail(key, `expected an object, got ${show(v)}`);
    return new Fields(this.file, this.path ? `${this.path}.${key}` : key, v);
  }

  /** The file this reader reports against. */
  get fileName(): string {
    return this.file;
  }

  /** The readers for one key (one small object per field read: sequences are read in campaign loops). */
  at(key: string): Field {
    return new FieldAt(this, key);
  }
}

/** Fields' readers with the key bound; methods on the prototype, so binding a key allocates no closures. */
class FieldAt implements Field {
  constructor(private readonly fields: Fields, readonly key: string) {}
  fail(msg: string): never { return this.fields.fail(this.key, msg); }
  int(lo: number, hi: number, def?: number, why?: string): number { return this.fields.int(this.key, lo, hi, def, why); }
  bool(def?: boolean): boolean { return this.fields.bool(this.key, def); }
  oneOf<T extends string>(allowed: readonly T[], def?: T, noun?: string): T { return this.fields.oneOf(this.key, allowed, def, noun); }
}
