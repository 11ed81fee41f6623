// The versioned sequence file format (DESIGN §3): parsing, strict validation with one-line errors that
// name the file, the op and the field, default filling, stable serialization and the sequence hash.
//
//   {"format": "tdpfuzz-seq/1", "config": {geometry, hugePages, vcpus}, "ops": [...], "meta"?: {...}}
//
// Defaults (filled by validation, so the runner always sees complete ops and serialized files are
// explicit):
//   config:  hugePages false, vcpus 2, proveMmu false, dpamt false (geometry is required: it changes what every gfn means)
//   ops:     each kind's fields, their ranges and defaults are its `fields` in op_kinds.ts
//   fail[i]: nth 1; error "BUSY" when at = "seamcall"
//   race:    nth 1; level stays absent (= any level)
// An empty `fail` list is dropped so that equivalent sequences hash equally.

import { createHash } from 'node:crypto';
import {
  FAULT_POINTS, OP_KINDS, RACE_OP_KINDS, RACE_POINTS, SEAMCALL_NAMES,
  type FaultEntry, type GeometryName, type Op, type OpKind, type Race, type VmConfig,
} from '../../impls/api';
import { GEOMETRY_FANOUT, LEVELS, MAX_NTH, MAX_VCPUS } from './fields';
import { type Field, Fields, InputError, isObject, parseJsonInput, show } from './strict_json';
import { OP_KIND_SPECS } from './op_kinds';
import { checkSchemaRef, schemaRef } from './schema_ref';

// The field reader and the limits of field values live in fields.ts, each op kind's fields in
// op_kinds.ts; re-exported so sequence.ts is the one import for everything about a sequence's content.
export { GEOMETRY_FANOUT, LEVELS, MAX_NTH, MAX_VCPUS, MAX_WALKER, gfnsPerEntry, totalGfns } from './fields';
export { InputError, parseJsonInput } from './strict_json';

export const SEQUENCE_FORMAT = 'tdpfuzz-seq/1';

export interface Sequence {
  format: typeof SEQUENCE_FORMAT;
  config: VmConfig;
  ops: Op[];
  /** free-form provenance (seed, index, engine, source file); not part of the hash */
  meta?: Record<string, unknown>;
}

/** A field reader of the op-kind table, for any kind. */
type FieldReader = (v: Field, config: VmConfig, sofar: object) => unknown;

/** The fields of a sequence file, of its config and of fail and race entries (the schema generator lists them too). */
export const TOP_FIELDS = ['$schema', 'format', 'config', 'ops', 'meta'] as const;
export const CONFIG_FIELDS = ['geometry', 'hugePages', 'vcpus', 'proveMmu', 'dpamt'] as const;
export const FAIL_FIELDS = ['at', 'nth', 'call', 'error'] as const;
export const RACE_FIELDS = ['at', 'level', 'nth', 'op'] as const;
/** The errors a seamcall fail entry can inject. */
export const FAIL_ERRORS = ['BUSY', 'ERROR'] as const;
/** The fields any op may carry besides its kind's. */
export const COMMON_FIELDS = ['fail', 'race'] as const;

// ------------------------------------------------------------------------------------------------
// Ops

function readFailEntry(file: string, path: string, raw: unknown): FaultEntry {
  if (!isObject(raw)) throw new InputError(`${file}: ${path}: expected an object, got ${show(raw)}`);
  const f: Fields = new Fields(file, path, raw);
  f.onlyKnown(FAIL_FIELDS, 'a fail entry');
  const at = f.oneOf('at', FAULT_POINTS, undefined, 'fault point');
  const nth = f.int('nth', 1, MAX_NTH, 1);
  if (at !== 'seamcall') {
    if (f.has('call')) f.fail('call', `only allowed with at "seamcall" (this entry is at "${at}")`);
    if (f.has('error')) f.fail('error', `only allowed with at "seamcall" (this entry is at "${at}")`);
    return { at, nth };
  }
  if (!f.has('call')) f.fail('call', 'missing (required with at "seamcall")');
  const call = f.oneOf('call', SEAMCALL_NAMES, undefined, 'SEAMCALL');
  const error = f.oneOf('error', FAIL_ERRORS, 'BUSY', 'error');
  return { at, nth, call, error };
}

function readRace(file: string, path: string, raw: unknown, config: VmConfig): Race {
  if (!isObject(raw)) throw new InputError(`${file}: ${path}: expected an object, got ${show(raw)}`);
  const f: Fields = new Fields(file, path, raw);
  f.onlyKnown(RACE_FIELDS, 'a race');
  const at = f.oneOf('at', RACE_POINTS, undefined, 'race point');
  const level = f.has('level') ? f.int('level', 1, LEVELS) : undefined;
  const nth = f.int('nth', 1, MAX_NTH, 1);
  if (!f.has('op')) f.fail('op', 'missing (required)');
  const op = readOp(file, `${path}.op`, f.raw('op'), config, true);
  return level === undefined ? { at, nth, op } : { at, level, nth, op };
}

/** Per op kind, its allowed keys and its field readers in table order; built once per kind. */
const KIND_READERS = new Map<OpKind, { allowed: readonly string[]; readers: ReadonlyArray<readonly [string, FieldReader]> }>();
function kindReaders(kind: OpKind): { allowed: readonly string[]; readers: ReadonlyArray<readonly [string, FieldReader]> } {
  let r = KIND_READERS.get(kind);
  if (!r) {
    const fields = OP_KIND_SPECS[kind].fields;
    r = { allowed: ['kind', ...Object.keys(fields), ...COMMON_FIELDS], readers: Object.entries(fields) as [string, FieldReader][] };
    KIND_READERS.set(kind, r);
  }
  return r;
}

/**
 * Validate one op and return it complete (defaults filled) with its keys in canonical order.
 * `racing` is true for the nested op of a race: restricted kinds, and no race of its own.
 */
function readOp(file: string, path: string, raw: unknown, config: VmConfig, racing: boolean): Op {
  if (!isObject(raw)) throw new InputError(`${file}: ${path}: expected an op object, got ${show(raw)}`);
  const f: Fields = new Fields(file, path, raw);
  const kindRaw = raw.kind;
  if (kindRaw === undefined) f.fail('kind', 'missing (required)');
  if (typeof kindRaw !== 'string' || !(OP_KINDS as readonly string[]).includes(kindRaw)) {
    f.fail('kind', `unknown op ${show(kindRaw)}`);
  }
  const kind = kindRaw as OpKind;
  if (racing) {
    if (!(RACE_OP_KINDS as readonly string[]).includes(kind)) {
      f.fail('kind', `"${kind}" cannot run as a racing op (allowed: ${RACE_OP_KINDS.join(', ')})`);
    }
    if (f.has('race')) f.fail('race', 'a racing op may not carry a race itself');
  }
  const { allowed, readers } = kindReaders(kind);
  f.onlyKnown(allowed, `a ${kind} op`);

  // The kind's fields in table order: validation order, and the canonical key order of the op.
  const op = { kind } as Op;
  for (const [key, read] of readers) {
    (op as unknown as Record<string, unknown>)[key] = read(f.at(key), config, op);
  }

  if (f.has('fail')) {
    const fails = f.raw('fail');
    if (!Array.isArray(fails)) f.fail('fail', `expected an array of fail entries, got ${show(fails)}`);
    if (fails.length > 0) op.fail = fails.map((e, i) => readFailEntry(file, `${path}.fail[${i}]`, e));
  }
  if (f.has('race')) op.race = readRace(file, `${path}.race`, f.raw('race'), config);
  return op;
}

// ------------------------------------------------------------------------------------------------
// Sequences

/** Read a VM configuration (defaults filled in); `at` is its path in messages (stats.json, report.json read it too). */
export function readConfig(file: string, raw: unknown, at = 'config'): VmConfig {
  if (!isObject(raw)) throw new InputError(`${file}: ${at}: expected an object, got ${show(raw)}`);
  const f: Fields = new Fields(file, at, raw);
  f.onlyKnown(CONFIG_FIELDS, 'config');
  const config: VmConfig = {
    geometry: f.oneOf('geometry', Object.keys(GEOMETRY_FANOUT) as GeometryName[], undefined, 'geometry'),
    hugePages: f.bool('hugePages', false),
    vcpus: f.int('vcpus', 1, MAX_VCPUS, 2),
  };
  // proveMmu is written only when set, so files and hashes from before the option stay the same.
  if (f.bool('proveMmu', false)) config.proveMmu = true;
  // dpamt likewise (issue 9 item 7)
  if (f.bool('dpamt', false)) config.dpamt = true;
  return config;
}

// ------------------------------------------------------------------------------------------------
// Sealed canonical ops

/**
 * Ops that sealCanonical found already in canonical form, frozen, with the configuration they were
 * checked against (configKey). validateSequence takes such an op as it is: readOp would return a
 * deep-equal copy of it. Frozen, so nothing can change it after the check.
 */
const SEALED = new WeakMap<object, string>();

/** What readOp's result depends on in a configuration (every field of a validated VmConfig). */
function configKey(c: VmConfig): string {
  return `${c.geometry}/${c.hugePages}/${c.vcpus}/${!!c.proveMmu}/${!!c.dpamt}`;
}

function deepFreeze(op: Op): void {
  if (op.fail) { for (const e of op.fail) Object.freeze(e); Object.freeze(op.fail); }
  if (op.race) { deepFreeze(op.race.op); Object.freeze(op.race); }
  Object.freeze(op);
}

/**
 * Freeze the ops of `seq` that are in canonical form for its configuration (each checked against
 * readOp's own result, key order included) and remember them, so that validating a sequence that
 * reuses them skips their re-validation. For the guided engine's kept sequences: a mutant shares
 * its parent's untouched ops (seq/mutate.ts copies an op before changing it), so repair re-reads
 * only the ops its mutations made. Ops that are not canonical are left as they are. Throws
 * InputError when seq is not valid.
 */
export function sealCanonical(seq: Sequence): void {
  const valid = validateSequence({ format: SEQUENCE_FORMAT, config: seq.config, ops: seq.ops }, '<sequence>');
  const key = configKey(valid.config);
  seq.ops.forEach((op, i) => {
    if (SEALED.get(op) === key) return;
    if (canonicalText(op) !== canonicalText(valid.ops[i])) return;
    deepFreeze(op);
    SEALED.set(op, key);
  });
}

/** JSON of an op with its own key order (canonical form includes it) and its keys set to undefined. */
const canonicalText = (op: Op): string => JSON.stringify(op, (_k, v: unknown) => (v === undefined ? '\u0000undefined' : v));

/** Strictly validate a parsed sequence; returns it with every default filled in. Throws InputError. */
export function validateSequence(obj: unknown, file: string): Sequence {
  if (!isObject(obj)) throw new InputError(`${file}: expected a JSON object at the top level, got ${show(obj)}`);
  // The version first: a file of another version is expected to have other fields.
  if (obj.format === undefined) throw new InputError(`${file}: format: missing (expected "${SEQUENCE_FORMAT}")`);
  if (obj.format !== SEQUENCE_FORMAT) {
    throw new InputError(`${file}: format ${show(obj.format)} is not supported (expected "${SEQUENCE_FORMAT}")`);
  }
  const top = new Fields(file, '', obj);
  top.onlyKnown(TOP_FIELDS, 'a sequence');
  // `$schema` is for editors (schemas/): accepted, not kept; the writer puts its own.
  checkSchemaRef(top);
  if (obj.config === undefined) throw new InputError(`${file}: config: missing (required)`);
  const config = readConfig(file, obj.config);
  if (obj.ops === undefined) throw new InputError(`${file}: ops: missing (required)`);
  if (!Array.isArray(obj.ops)) throw new InputError(`${file}: ops: expected an array of ops, got ${show(obj.ops)}`);
  const ops: Op[] = [];
  const key = configKey(config);
  obj.ops.forEach((raw, i) => {
    if (i > 0 && ops[i - 1].kind === 'destroy') throw new InputError(`${file}: ops[${i}]: no op may follow destroy`);
    // a sealed op is canonical for this configuration already (sealCanonical)
    ops.push(isObject(raw) && SEALED.get(raw) === key ? raw as unknown as Op : readOp(file, `ops[${i}]`, raw, config, false));
  });
  const seq: Sequence = { format: SEQUENCE_FORMAT, config, ops };
  if (obj.meta !== undefined) {
    if (!isObject(obj.meta)) throw new InputError(`${file}: meta: expected an object, got ${show(obj.meta)}`);
    seq.meta = obj.meta;
  }
  return seq;
}

/** Parse and validate sequence text. Throws InputError with a one-line message. */
export function parseSequence(text: string, file: string): Sequence {
  return validateSequence(parseJsonInput(text, file), file);
}

/**
 * Validate one op against a config and return its complete canonical form (defaults filled, keys in
 * canonical order). For engines that build or mutate ops; throws InputError naming `path`.
 */
export function normalizeOp(op: unknown, config: VmConfig, path = 'op'): Op {
  return readOp('<op>', path, op, config, false);
}

/** Build a validated, normalized sequence from parts (throws InputError on an invalid op). */
export function makeSequence(config: VmConfig, ops: Op[], meta?: Record<string, unknown>): Sequence {
  return validateSequence({ format: SEQUENCE_FORMAT, config, ops, ...(meta ? { meta } : {}) }, '<sequence>');
}

// ------------------------------------------------------------------------------------------------
// Serialization and hashing

/** JSON on one line with a space after ':' and ',' — readable in diffs and review mails. */
function oneLine(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(oneLine).join(', ')}]`;
  if (isObject(v)) {
    const parts = Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${oneLine(x)}`);
    return `{${parts.join(', ')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Stable text form: 2-space indented, one op per line. The sequence is re-validated first, so the
 * output is always complete (defaults explicit) and always parses back to an equal sequence.
 * `file` is where the text will be written: its `$schema` is the path from there (schema_ref.ts).
 */
export function serializeSequence(seq: Sequence, file?: string): string {
  const s = validateSequence(seq, '<sequence>');
  const lines = ['{', `  "$schema": ${JSON.stringify(schemaRef(SEQUENCE_FORMAT, file))},`, `  "format": ${JSON.stringify(s.format)},`, `  "config": ${oneLine(s.config)},`];
  const tail = s.meta !== undefined ? ',' : '';
  if (s.ops.length === 0) {
    lines.push(`  "ops": []${tail}`);
  } else {
    lines.push('  "ops": [');
    s.ops.forEach((op, i) => lines.push(`    ${oneLine(op)}${i < s.ops.length - 1 ? ',' : ''}`));
    lines.push(`  ]${tail}`);
  }
  if (s.meta !== undefined) lines.push(`  "meta": ${JSON.stringify(s.meta, null, 2).replace(/\n/g, '\n  ')}`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** JSON with object keys sorted recursively: independent of how the object was built. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Identity of a sequence for memoization, dedup and file names: sha256 of the canonical JSON of the
 * normalized config and ops (meta excluded), first 16 hex digits.
 */
export function sequenceHash(seq: Sequence): string {
  const s = validateSequence({ format: SEQUENCE_FORMAT, config: seq.config, ops: seq.ops }, '<sequence>');
  return createHash('sha256').update(canonicalJson({ config: s.config, ops: s.ops })).digest('hex').slice(0, 16);
}
