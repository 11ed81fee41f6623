// Field tables for the strict reader (strict_json.ts): a file format whose objects are plain records
// (stats.json, report.json) is described as one table per object — field name → how it is read —
// and readTable reads an object with it: unknown fields first, then every field in table order, each
// with the one-line `<file>: <path>.<field>: <what is wrong>` message of Fields. The table's type
// lists every field of the interface it reads (optional ones too), so adding a field to the
// interface without saying how it is read does not compile.
import { Fields, show } from './strict_json';

/** How one field is read: from its object's reader, at `key`. undefined: absent (optional fields). */
export type FieldRead<T> = (f: Fields, key: string) => T;

/** One reader per field of T, optional fields included. */
export type FieldTable<T> = { readonly [K in keyof T]-?: FieldRead<T[K]> };

/** Read an object with a table: unknown fields are refused, absent optional ones left out. */
export function readTable<T>(f: Fields, table: FieldTable<T>, what: string): T {
  const keys = Object.keys(table) as (keyof T & string)[];
  f.onlyKnown(keys, what);
  const out: Partial<T> = {};
  for (const k of keys) {
    const v = table[k](f, k);
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

/** The raw value of a required field (fails when absent). */
function raw(f: Fields, k: string): unknown {
  const v = f.raw(k);
  if (v === undefined) f.fail(k, 'missing (required)');
  return v;
}

export const str: FieldRead<string> = (f, k) => f.str(k);
export const time: FieldRead<string> = (f, k) => f.time(k);
export const bool: FieldRead<boolean> = (f, k) => f.bool(k);
/** A counter: an integer >= 0. */
export const count: FieldRead<number> = (f, k) => f.atLeast(k, 0);
export const atLeast = (lo: number): FieldRead<number> => (f, k) => f.atLeast(k, lo);
export const oneOf = <T extends string>(allowed: readonly T[]): FieldRead<T> => (f, k) => f.oneOf(k, allowed);
/** At least `min` non-empty strings. */
export const strings = (min: number): FieldRead<string[]> => (f, k) => f.strings(k, min);

/** A finite number in lo..hi (rates, seconds). */
export const finite = (lo: number, hi = Infinity): FieldRead<number> => (f: Fields, k: string) => {
  const v = raw(f, k);
  if (typeof v !== 'number' || !Number.isFinite(v)) f.fail(k, `expected a number, got ${show(v)}`);
  if (v < lo || v > hi) f.fail(k, `${v} is out of range (expected ${hi === Infinity ? `>= ${lo}` : `${lo}..${hi}`})`);
  return v;
};

/** A list of strings, possibly empty (lines of text, class names). */
export const lines: FieldRead<string[]> = (f: Fields, k: string) => {
  const v = raw(f, k);
  if (!Array.isArray(v)) f.fail(k, `expected an array of strings, got ${show(v)}`);
  v.forEach((x, i) => { if (typeof x !== 'string') f.fail(`${k}[${i}]`, `expected a string, got ${show(x)}`); });
  return v as string[];
};

/** name → counter (e.g. coverage per family). */
export const counts: FieldRead<Record<string, number>> = (f, k) => {
  const o = f.object(k);
  return Object.fromEntries(o.keys().map(name => [name, o.atLeast(name, 0)]));
};

/** name → non-negative finite number (seconds or ms per family, signature or op kind). */
export const finiteRecord: FieldRead<Record<string, number>> = (f, k) => {
  const o = f.object(k);
  return Object.fromEntries(o.keys().map(name => [name, finite(0)(o, name)]));
};

/** The field may be absent. */
export const optional = <T>(read: FieldRead<T>): FieldRead<T | undefined> => (f, k) => (f.raw(k) === undefined ? undefined : read(f, k));
/** The field may be null. */
export const nullable = <T>(read: FieldRead<T>): FieldRead<T | null> => (f, k) => (f.raw(k) === null ? null : read(f, k));

/** A nested object, read with its own table. */
export const object = <T>(table: FieldTable<T>, what: string): FieldRead<T> => (f, k) => readTable(f.object(k), table, what);

/** An array, each element read with `read` (messages name `key[i]`). */
export const array = <T>(read: FieldRead<T>): FieldRead<T[]> => (f: Fields, k: string) => {
  const v = raw(f, k);
  if (!Array.isArray(v)) f.fail(k, `expected an array, got ${show(v)}`);
  return v.map((x, i) => read(new Fields(f.fileName, f.path, { [`${k}[${i}]`]: x }), `${k}[${i}]`));
};

/** An array of objects, each read with the table (messages name `key[i].field`). */
export const list = <T>(table: FieldTable<T>, what: string): FieldRead<T[]> => array(object(table, what));

/** A campaign seed: a number or a non-empty string. */
export const seed: FieldRead<string | number> = (f: Fields, k: string) => {
  const v = raw(f, k);
  if (!(typeof v === 'string' && v !== '') && !(typeof v === 'number' && Number.isFinite(v))) f.fail(k, `expected a number or string, got ${show(v)}`);
  return v as string | number;
};

/** A shard i/N (0 <= i < N), or null for the whole space. */
export const shard: FieldRead<{ index: number; count: number } | null> = nullable((f: Fields, k: string) => {
  const s = readTable<{ count: number; index: number }>(f.object(k), { count: atLeast(1), index: count }, 'a shard');
  if (s.index >= s.count) f.fail(`${k}.index`, `${s.index} is out of range (expected < count ${s.count})`);
  return { index: s.index, count: s.count };
});
