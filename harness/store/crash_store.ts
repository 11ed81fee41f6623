// The crash corpus (DESIGN §5): one JSON file per finding signature in a directory (default
// crashes/), written atomically, updated under a lock file so that several processes (workers,
// shards on one machine) can record the same signature without losing hits.
//
//   {"$schema", "format": "tdpfuzz-crash/1", "toolVersion", "signature", "status", "config", "designs", "equiv",
//    "domain", "source", "ops", "originalOps", "finding", "firstDivergence", "replay", "hits",
//    "firstSeen", "lastSeen", "minimization"?, "mergedFrom"?, "designModules"?}
//
// `ops` is the reproducer (the minimizer replaces it, keeping `originalOps`); a later finding with the
// same signature adds its hits and replaces the reproducer only when it has fewer ops. `status` is
// the triage state: "open" (new), or "explained"/"expected" when a developer has accepted it; the
// store never changes a status it finds in a file.
//
// A design given as a module path is recorded by its absolute path (a relative one would resolve
// against whatever directory the crash file is replayed from), and `designModules` keeps the
// module file's SHA-256 at record time, so a replay can say when the module changed since.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Op, VmConfig } from '../../impls/api';
import { EQUIVALENCES, type Equivalence } from '../run/compare';
import { designModuleFile } from '../run/designs';
import type { DesignTrace, Finding, FindingKind, FirstDivergence } from '../run/findings';
import { displayPath, removeStaleTemps, toolVersion, withFileLock, writeFileAtomic, type LockOptions } from './fsutil';
import { DOMAINS, type Domain } from '../seq/domain';
import { InputError, SEQUENCE_FORMAT, parseJsonInput, validateSequence } from '../seq/sequence';
import { readInputFile } from './input_file';
import { Fields, isObject, show } from '../seq/strict_json';
import { checkSchemaRef, schemaRef } from '../seq/schema_ref';

export const CRASH_FORMAT = 'tdpfuzz-crash/1';
export type CrashStatus = 'open' | 'explained' | 'expected';
export const CRASH_STATUSES: readonly CrashStatus[] = ['open', 'explained', 'expected'];

/**
 * Where the reproducer came from: a generated sequence (seed, index, engine) or a file (a corpus
 * sequence file, or with `engine` an input another tool produced, e.g. a jsfuzz crash file).
 */
export type CrashSource =
  | { seed: string | number; index: number; engine: string }
  | { file: string; engine?: string };

/** The finding as stored (the divergence lives in firstDivergence; the signature at the top level). */
export type CrashFinding = Pick<Finding, 'kind' | 'designs' | 'opIndex' | 'opKind' | 'component' | 'message' | 'explained'>;

export interface CrashFile {
  format: typeof CRASH_FORMAT;
  toolVersion: string;
  signature: string;
  status: CrashStatus;
  config: VmConfig;
  /** design names, or module paths made absolute (as given on the command line in older files) */
  designs: string[];
  equiv: Equivalence;
  domain: Domain;
  source: CrashSource;
  /** the reproducer (minimized when a minimizer ran) */
  ops: Op[];
  /** the ops of the sequence the finding was first seen in */
  originalOps: Op[];
  finding: CrashFinding;
  firstDivergence: FirstDivergence | null;
  /** the exact command that replays this file */
  replay: string;
  hits: number;
  firstSeen: string;
  lastSeen: string;
  /** minimizer statistics, free-form (set by the minimizer hook) */
  minimization?: Record<string, unknown>;
  /**
   * `tdpfuzz merge`'s record of the crash files merged into this one: per source (its path relative
   * to this file's directory), the hits it had and its firstSeen when last merged, so that merging
   * it again adds only the hits it gained since (store/crash_merge.ts).
   */
  mergedFrom?: Record<string, MergedSource>;
  /** the designs given as module paths: as given, the absolute path in `designs`, and its content's sha256 */
  designModules?: DesignModule[];
}

export interface MergedSource { hits: number; firstSeen: string }

export interface DesignModule { spec: string; path: string; sha256: string }

/** The top-level fields in file order (`$schema` is the writer's, not part of CrashFile: schema_ref.ts). */
export const CRASH_FIELDS = ['$schema', 'format', 'toolVersion', 'signature', 'status', 'config', 'designs', 'equiv', 'domain', 'source',
  'ops', 'originalOps', 'finding', 'firstDivergence', 'replay', 'hits', 'firstSeen', 'lastSeen', 'minimization', 'mergedFrom', 'designModules'] as const;

// ------------------------------------------------------------------------------------------------
// File names

/**
 * A safe, stable file name for a signature: kind, a short slug of op kind and component, and the
 * first 12 hex digits of the signature's sha256. Only [a-z0-9-] before ".json".
 */
export function crashFileName(signature: string): string {
  const [kind = 'finding', , opKind = '', ...rest] = signature.split('|');
  const clean = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const slug = clean(`${opKind}-${rest.join('-')}`).slice(0, 40).replace(/-+$/, '');
  const hash = createHash('sha256').update(signature).digest('hex').slice(0, 12);
  return `${[clean(kind) || 'finding', slug, hash].filter(Boolean).join('-')}.json`;
}

// ------------------------------------------------------------------------------------------------
// Serialization: 2-space JSON, but one op per line (as in sequence files) so diffs stay readable.

function oneLine(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(oneLine).join(', ')}]`;
  if (isObject(v)) {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${oneLine(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

/** Indented JSON, but arrays of scalars and small scalar-only objects stay on one line. */
function prettyJson(v: unknown, indent: string): string {
  const scalar = (x: unknown): boolean => x === null || typeof x !== 'object';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every(scalar)) { const one = oneLine(v); if (one.length <= 100) return one; }
    return `[\n${v.map(x => `${indent}  ${prettyJson(x, `${indent}  `)}`).join(',\n')}\n${indent}]`;
  }
  if (isObject(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${indent}  ${JSON.stringify(k)}: ${prettyJson(x, `${indent}  `)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v);
}

/** The file's text; `file` is where it will be written (its `$schema` is the path from there). */
export function serializeCrash(c: CrashFile, file?: string): string {
  const lines: string[] = ['{'];
  const withRef = { ...c, $schema: schemaRef(CRASH_FORMAT, file) };
  const entries = CRASH_FIELDS.filter(k => withRef[k] !== undefined).map(k => [k, withRef[k]] as const);
  entries.forEach(([k, v], i) => {
    const comma = i < entries.length - 1 ? ',' : '';
    let text: string;
    if ((k === 'ops' || k === 'originalOps') && Array.isArray(v)) {
      text = v.length === 0 ? '[]' : `[\n${(v as Op[]).map(op => `    ${oneLine(op)}`).join(',\n')}\n  ]`;
    } else if (k === 'config' || k === 'designs' || k === 'source') {
      text = oneLine(v);
    } else {
      text = prettyJson(v, '  ');
    }
    lines.push(`  ${JSON.stringify(k)}: ${text}${comma}`);
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

// ------------------------------------------------------------------------------------------------
// Strict reading

/** The fields of the nested objects, as the readers below accept them (the schema generator lists them too). */
export const CRASH_OBJECT_FIELDS = {
  fileSource: ['file', 'engine'],
  generatedSource: ['seed', 'index', 'engine'],
  finding: ['kind', 'designs', 'opIndex', 'opKind', 'component', 'message', 'explained'],
  explanation: ['id', 'title', 'reason'],
  divergence: ['opIndex', 'op', 'prefix', 'component', 'sides', 'stateDiff', 'traceDiff'],
  designTrace: ['design', 'result', 'seamcalls', 'seamcallBy', 'diagnostics', 'trace'],
  mergedSource: ['hits', 'firstSeen'],
  designModule: ['spec', 'path', 'sha256'],
} as const;
const F = CRASH_OBJECT_FIELDS;

/** A crash source at `key` (report.json's findings read their firstSource with it too). */
export function readSource(r: Fields, key = 'source'): CrashSource {
  const s: Fields = r.object(key);
  if (s.raw('file') !== undefined) {
    s.onlyKnown(F.fileSource, 'a file source');
    return s.raw('engine') === undefined ? { file: s.str('file') } : { file: s.str('file'), engine: s.str('engine') };
  }
  s.onlyKnown(F.generatedSource, 'a generated source');
  const seed = s.raw('seed');
  if (seed === undefined) s.fail('seed', 'missing (required unless source.file is given)');
  if (typeof seed !== 'string' && !(typeof seed === 'number' && Number.isFinite(seed))) s.fail('seed', `expected a number or string, got ${show(seed)}`);
  return { seed: seed as string | number, index: s.atLeast('index', 0), engine: s.str('engine') };
}

function readFinding(r: Fields): CrashFinding {
  const f: Fields = r.object('finding');
  f.onlyKnown(F.finding, 'a finding');
  const out: CrashFinding = {
    kind: f.str('kind') as FindingKind,
    designs: f.strings('designs', 1),
    opIndex: f.atLeast('opIndex', 0),
    opKind: f.str('opKind'),
    component: f.str('component'),
    message: f.str('message'),
  };
  if (f.raw('explained') !== undefined) {
    const e: Fields = f.object('explained');
    e.onlyKnown(F.explanation, 'an explanation');
    out.explained = { id: e.str('id'), title: e.str('title'), reason: e.str('reason') };
  }
  return out;
}

/** A first divergence, or null (report.json's findings read theirs with it too). */
export function readDivergence(r: Fields, key = 'firstDivergence'): FirstDivergence | null {
  if (r.raw(key) === null || r.raw(key) === undefined) return null;
  const d: Fields = r.object(key);
  d.onlyKnown(F.divergence, 'a first divergence');
  const sidesRaw = d.raw('sides');
  if (!Array.isArray(sidesRaw)) d.fail('sides', `expected an array, got ${show(sidesRaw)}`);
  const sides = (sidesRaw as unknown[]).map((s, i) => {
    if (!isObject(s)) d.fail(`sides[${i}]`, `expected an object, got ${show(s)}`);
    const t: Fields = new Fields(d.fileName, `${d.path}.sides[${i}]`, s);
    t.onlyKnown(F.designTrace, 'a design trace');
    const list = (k: string): string[] => {
      const v = t.raw(k);
      if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) t.fail(k, `expected an array of strings, got ${show(v)}`);
      return v as string[];
    };
    const side: DesignTrace = { design: t.str('design'), result: t.str('result'), seamcalls: list('seamcalls'), diagnostics: list('diagnostics') };
    if (t.raw('seamcallBy') !== undefined) {
      const by = list('seamcallBy');
      if (by.length !== side.seamcalls.length) t.fail('seamcallBy', `expected one kernel function per SEAMCALL (${side.seamcalls.length}), got ${by.length}`);
      side.seamcallBy = by;
    }
    if (t.raw('trace') !== undefined) side.trace = list('trace');
    return side;
  });
  const prefix = d.raw('prefix');
  if (!Array.isArray(prefix) || prefix.some(x => typeof x !== 'string')) d.fail('prefix', `expected an array of strings, got ${show(prefix)}`);
  return {
    opIndex: d.atLeast('opIndex', 0), op: d.str('op'), prefix: prefix as string[], component: d.str('component'),
    sides, stateDiff: d.str('stateDiff'), traceDiff: d.str('traceDiff'),
  };
}

function readMergedFrom(r: Fields): Record<string, MergedSource> | undefined {
  if (!r.has('mergedFrom')) return undefined;
  const m: Fields = r.object('mergedFrom');
  const out: Record<string, MergedSource> = {};
  for (const key of m.keys()) {
    const e: Fields = m.object(key);
    e.onlyKnown(F.mergedSource, 'a merged source');
    out[key] = { hits: e.atLeast('hits', 0), firstSeen: e.time('firstSeen') };
  }
  return out;
}

function readDesignModules(r: Fields, designs: readonly string[]): DesignModule[] | undefined {
  if (!r.has('designModules')) return undefined;
  const v = r.raw('designModules');
  if (!Array.isArray(v) || v.length === 0) r.fail('designModules', `expected a non-empty array of {spec, path, sha256}, got ${show(v)}`);
  return (v as unknown[]).map((x, i) => {
    if (!isObject(x)) r.fail(`designModules[${i}]`, `expected an object {spec, path, sha256}, got ${show(x)}`);
    const e: Fields = new Fields(r.fileName, `designModules[${i}]`, x);
    e.onlyKnown(F.designModule, 'a design module');
    const m: DesignModule = { spec: e.str('spec'), path: e.str('path'), sha256: e.str('sha256') };
    if (m.spec === '') e.fail('spec', 'expected a non-empty string');
    if (!path.isAbsolute(m.path)) e.fail('path', `expected an absolute path, got ${show(m.path)}`);
    if (!designs.includes(m.path)) e.fail('path', `${show(m.path)} is not one of designs`);
    if (!/^[0-9a-f]{64}$/.test(m.sha256)) e.fail('sha256', `expected 64 lowercase hex digits, got ${show(m.sha256)}`);
    return m;
  });
}

/** The SHA-256 of a file's content (hex), or null when it cannot be read. */
export function fileSha256(file: string): string | null {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

/** A design spec's module (absolute path and content hash), or null for a name or an unreadable file. */
function designModuleOf(spec: string, cwd: string): DesignModule | null {
  const file = designModuleFile(spec, cwd);
  const sha256 = file === undefined ? null : fileSha256(file);
  return file !== undefined && sha256 !== null ? { spec, path: file, sha256 } : null;
}

/**
 * The `designs` (module paths made absolute) and `designModules` fields a crash file records for
 * design specs given relative to `cwd`; no designModules when no spec is a module path, so crash
 * files of named designs stay as they were.
 */
export function recordedDesigns(specs: readonly string[], cwd: string, lookup = (spec: string) => designModuleOf(spec, cwd)):
  Pick<CrashFile, 'designs' | 'designModules'> {
  const modules = specs.map(lookup);
  if (!modules.some(m => m)) return { designs: [...specs], designModules: undefined };
  return { designs: specs.map((spec, k) => modules[k]?.path ?? spec), designModules: modules.filter((m): m is DesignModule => !!m) };
}

/** Validate ops against a config with the sequence validator; errors name `field` (ops/originalOps). */
function readOps(file: string, config: unknown, ops: unknown, field: string): { config: VmConfig; ops: Op[] } {
  try {
    const seq = validateSequence({ format: SEQUENCE_FORMAT, config, ops }, file);
    return { config: seq.config, ops: seq.ops };
  } catch (e) {
    if (e instanceof InputError && field !== 'ops') {
      const prefix = `${file}: ops`;
      if (e.message.startsWith(prefix)) throw new InputError(`${file}: ${field}${e.message.slice(prefix.length)}`);
    }
    throw e;
  }
}

/** Strictly validate a parsed crash file object. Throws InputError with a one-line message. */
export function validateCrash(obj: unknown, file: string): CrashFile {
  if (!isObject(obj)) throw new InputError(`${file}: expected a JSON object at the top level, got ${show(obj)}`);
  if (obj.format === undefined) throw new InputError(`${file}: format: missing (expected "${CRASH_FORMAT}")`);
  if (obj.format !== CRASH_FORMAT) throw new InputError(`${file}: format ${show(obj.format)} is not supported (expected "${CRASH_FORMAT}")`);
  const r: Fields = new Fields(file, '', obj);
  r.onlyKnown(CRASH_FIELDS, 'a crash file');
  checkSchemaRef(r);
  if (obj.config === undefined) r.fail('config', 'missing (required)');
  if (obj.ops === undefined) r.fail('ops', 'missing (required)');
  const { config, ops } = readOps(file, obj.config, obj.ops, 'ops');
  const originalOps = obj.originalOps === undefined ? r.fail('originalOps', 'missing (required)') : readOps(file, obj.config, obj.originalOps, 'originalOps').ops;
  let minimization: Record<string, unknown> | undefined;
  if (obj.minimization !== undefined) {
    const m = obj.minimization;
    if (!isObject(m)) r.fail('minimization', `expected an object, got ${show(m)}`);
    minimization = m as Record<string, unknown>;
  }
  const out: CrashFile = {
    format: CRASH_FORMAT,
    toolVersion: r.str('toolVersion'),
    signature: r.str('signature'),
    status: r.oneOf('status', CRASH_STATUSES),
    config,
    designs: r.strings('designs', 2),
    equiv: r.oneOf('equiv', EQUIVALENCES),
    domain: r.oneOf('domain', DOMAINS),
    source: readSource(r),
    ops,
    originalOps,
    finding: readFinding(r),
    firstDivergence: readDivergence(r),
    replay: r.str('replay'),
    hits: r.atLeast('hits', 1),
    firstSeen: r.time('firstSeen'),
    lastSeen: r.time('lastSeen'),
  };
  if (minimization) out.minimization = minimization;
  const mergedFrom = readMergedFrom(r);
  if (mergedFrom) out.mergedFrom = mergedFrom;
  const designModules = readDesignModules(r, out.designs);
  if (designModules) out.designModules = designModules;
  return out;
}

/** Parse and validate crash-file text. */
export function parseCrash(text: string, file: string): CrashFile {
  return validateCrash(parseJsonInput(text, file), file);
}

/** Read and validate a crash file; `shown` is the name used in messages (default: the path). */
export function readCrashFile(file: string, shown: string = file): CrashFile {
  return parseCrash(readInputFile(file, shown).toString('utf8'), shown);
}

/**
 * Read-modify-write one crash file (anywhere, not only in a store's directory) under the same lock
 * file CrashStore.record uses, then write it atomically. `update` gets the current content and
 * returns the new one, or null to leave the file as it is. The result is validated before it is
 * written, so a file updated here always reads back. Returns what the file holds afterwards.
 */
export function updateCrashFile(file: string, update: (c: CrashFile) => CrashFile | null,
                                opts: { shown?: string; lock?: LockOptions } = {}): CrashFile {
  const shown = opts.shown ?? file;
  return withFileLock(`${file}.lock`, () => {
    const old = readCrashFile(file, shown);
    const next = update(old);
    if (!next) return old;
    const checked = validateCrash(JSON.parse(serializeCrash(next)), shown);
    writeFileAtomic(file, serializeCrash(checked, file));
    return checked;
  }, opts.lock);
}

// ------------------------------------------------------------------------------------------------
// The store

/** What a campaign (or a replay) records for one finding. */
export interface CrashRecord extends Pick<CrashFile, 'config' | 'designs' | 'equiv' | 'domain' | 'source' | 'ops' | 'originalOps'> {
  finding: Finding;
  minimization?: Record<string, unknown>;
  /** how many times it was seen since the last record (default 1) */
  hits?: number;
}

export interface RecordResult {
  file: string;
  /** the signature had no file before */
  created: boolean;
  /** the stored reproducer was replaced by a smaller one (or written for the first time) */
  reproducerReplaced: boolean;
  crash: CrashFile;
}

export interface CrashStoreOptions {
  /** injectable clock for firstSeen/lastSeen (tests) */
  now?: () => Date;
  /** working directory for replay commands (default process.cwd()) */
  cwd?: string;
  /** the replay command for a crash file's display path */
  replayCommand?: (shownPath: string) => string;
  lock?: LockOptions;
  /** called when an existing file cannot be read and is moved aside */
  warn?: (message: string) => void;
}

export class CrashStore {
  readonly dir: string;
  private readonly now: () => Date;
  private readonly cwd: string;
  private readonly replayCommand: (shown: string) => string;
  /** module-path designs resolved once per store: the module as the run loaded it, not as edited since */
  private readonly modules = new Map<string, DesignModule | null>();

  constructor(dir: string, private readonly opts: CrashStoreOptions = {}) {
    this.cwd = opts.cwd ?? process.cwd();
    this.dir = path.resolve(this.cwd, dir);
    this.now = opts.now ?? (() => new Date());
    this.replayCommand = opts.replayCommand ?? (p => `npx tdpfuzz replay ${p}`);
    // A writer killed between open and rename leaves its temp file; nobody else will remove it.
    removeStaleTemps(this.dir);
  }

  pathFor(signature: string): string {
    return path.join(this.dir, crashFileName(signature));
  }

  /** The file's path for messages and reports (relative to cwd). */
  shownPath(signature: string): string {
    return displayPath(this.pathFor(signature), this.cwd);
  }

  /** Read the crash file of a signature, or undefined. */
  get(signature: string): CrashFile | undefined {
    const file = this.pathFor(signature);
    if (!fs.existsSync(file)) return undefined;
    return readCrashFile(file, displayPath(file, this.cwd));
  }

  /** All crash files of the directory (sorted by name), validated. */
  list(): { file: string; crash: CrashFile }[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir).filter(n => n.endsWith('.json') && !n.startsWith('.')).sort()
      .map(n => path.join(this.dir, n)).map(file => ({ file, crash: readCrashFile(file, displayPath(file, this.cwd)) }));
  }

  /**
   * Record a finding: create its file, or add the hits to the existing one, updating lastSeen and
   * keeping the smaller reproducer (fewer ops; ties keep the stored one). Read-modify-write under
   * the signature's lock file, then an atomic write.
   */
  record(rec: CrashRecord): RecordResult {
    fs.mkdirSync(this.dir, { recursive: true });
    const signature = rec.finding.signature;
    const file = this.pathFor(signature);
    const shown = displayPath(file, this.cwd);
    return withFileLock(`${file}.lock`, () => {
      const time = this.now().toISOString();
      let old: CrashFile | undefined;
      if (fs.existsSync(file)) {
        try {
          old = readCrashFile(file, shown);
        } catch (e) {
          const aside = `${file}.corrupt-${time.replace(/[^0-9]/g, '')}`;
          fs.renameSync(file, aside);
          this.opts.warn?.(`${(e as Error).message}; moved aside to ${displayPath(aside, this.cwd)}`);
        }
        if (old && old.signature !== signature) {
          throw new Error(`${shown}: holds signature ${JSON.stringify(old.signature)}, not ${JSON.stringify(signature)} (file-name hash collision?)`);
        }
      }
      const hits = rec.hits ?? 1;
      const fresh = this.build(rec, shown, time);
      let crash: CrashFile;
      let replaced: boolean;
      if (!old) {
        crash = fresh;
        replaced = true;
      } else if (rec.ops.length < old.ops.length) {
        // A smaller reproducer: take everything that describes it; keep the history and the triage.
        // (mergedFrom too: it accounts for hits this file still holds.)
        crash = { ...fresh, status: old.status, hits: old.hits + hits, firstSeen: old.firstSeen, lastSeen: time };
        if (old.mergedFrom) crash.mergedFrom = old.mergedFrom;
        replaced = true;
      } else {
        crash = { ...old, hits: old.hits + hits, lastSeen: time, replay: this.replayCommand(shown) };
        replaced = false;
      }
      writeFileAtomic(file, serializeCrash(crash, file));
      return { file, created: !old, reproducerReplaced: replaced, crash };
    }, this.opts.lock);
  }

  /** Add hits to an existing signature without offering a reproducer. */
  addHits(signature: string, hits: number): CrashFile | undefined {
    const file = this.pathFor(signature);
    if (!fs.existsSync(file)) return undefined;
    const shown = displayPath(file, this.cwd);
    return withFileLock(`${file}.lock`, () => {
      const old = readCrashFile(file, shown);
      const crash = { ...old, hits: old.hits + hits, lastSeen: this.now().toISOString() };
      writeFileAtomic(file, serializeCrash(crash, file));
      return crash;
    }, this.opts.lock);
  }

  /** A design spec's module (absolute path and content hash), or null for a name or an unreadable file. */
  private designModule(spec: string): DesignModule | null {
    let m = this.modules.get(spec);
    if (m === undefined) {
      m = designModuleOf(spec, this.cwd);
      this.modules.set(spec, m);
    }
    return m;
  }

  private build(rec: CrashRecord, shown: string, time: string): CrashFile {
    const f = rec.finding;
    const finding: CrashFinding = {
      kind: f.kind, designs: f.designs, opIndex: f.opIndex, opKind: f.opKind, component: f.component, message: f.message,
    };
    if (f.explained) finding.explained = f.explained;
    const crash: CrashFile = {
      format: CRASH_FORMAT,
      toolVersion: toolVersion(),
      signature: f.signature,
      status: 'open',
      config: rec.config,
      designs: rec.designs,
      equiv: rec.equiv,
      domain: rec.domain,
      source: rec.source,
      ops: rec.ops,
      originalOps: rec.originalOps,
      finding,
      firstDivergence: f.divergence ?? null,
      replay: this.replayCommand(shown),
      hits: rec.hits ?? 1,
      firstSeen: time,
      lastSeen: time,
    };
    if (rec.minimization) crash.minimization = rec.minimization;
    Object.assign(crash, recordedDesigns(rec.designs, this.cwd, spec => this.designModule(spec)));
    // Validate what we write, so that a file the store wrote always reads back.
    return validateCrash(JSON.parse(serializeCrash(crash)), shown);
  }
}
