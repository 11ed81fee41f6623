// The JSON Schemas (draft 2020-12) of schemas/ (issue 12 item 11), generated from what the strict
// readers read, so that an editor completes and checks the fields of a sequence, crash or series
// file. `npm run schemas` writes them; test/schemas.test.ts fails when the committed files differ
// from what this module generates, and checks that the schemas and the readers agree on real and
// malformed files.
//
// Where each part comes from (so that a reader change changes the schema):
//  - the field lists of every object: the readers' own lists (sequence.ts TOP/CONFIG/FAIL/RACE
//    fields, crash_store.ts CRASH_FIELDS and CRASH_OBJECT_FIELDS, series_file.ts's field tables);
//    `object` below refuses a property list that is not exactly the reader's, in its order;
//  - each op kind's fields, their types, ranges, enums and defaults: probed from the op-kind table
//    (op_kinds.ts): each field reader is called with a recording Field under the widest
//    configuration (x86 geometry, the most vCPUs), so a range is the widest any file may use;
//  - enums: the same constants the readers check against (FAULT_POINTS, SEAMCALL_NAMES, ...).
// A schema never refuses what the reader accepts; the reader still checks what a schema cannot say
// (end > start, a gfn within the file's own geometry, a designModules path among designs, legality).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FAULT_POINTS, OP_KINDS, RACE_OP_KINDS, RACE_POINTS, SEAMCALL_NAMES, type OpKind, type VmConfig } from '../../impls/api';
import { EQUIVALENCES } from '../run/compare';
import { KNOWN_DIFFERENCES, SERIES_FORMAT, SERIES_ID, SERIES_STEP, SERIES_TOP } from '../run/series_file';
import { DOMAINS } from '../seq/domain';
import { GEOMETRIES } from '../seq/fields';
import { OP_KIND_SPECS } from '../seq/op_kinds';
import { SCHEMA_FILES, type SchemaFormat } from '../seq/schema_ref';
import {
  COMMON_FIELDS, CONFIG_FIELDS, FAIL_ERRORS, FAIL_FIELDS, GEOMETRY_FANOUT, LEVELS, MAX_NTH, MAX_VCPUS, RACE_FIELDS,
  SEQUENCE_FORMAT, TOP_FIELDS, totalGfns,
} from '../seq/sequence';
import type { Field } from '../seq/strict_json';
import { CRASH_FIELDS, CRASH_FORMAT, CRASH_OBJECT_FIELDS, CRASH_STATUSES } from './crash_store';

/** A JSON Schema (the subset these files use: test/schemas.test.ts validates with that subset). */
export type Schema = { [key: string]: unknown };

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const nonEmpty = (description?: string): Schema => ({ ...str(description), minLength: 1 });
const bool = (description?: string): Schema => ({ type: 'boolean', ...(description ? { description } : {}) });
const int = (minimum: number, maximum?: number): Schema => ({ type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}) });
const strings = (minItems = 0, item: Schema = str()): Schema => ({ type: 'array', items: item, ...(minItems ? { minItems } : {}) });
const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const SCHEMA_REF = str('the JSON Schema of this file (for editors; tdpfuzz writes the path from the file to its schemas/)');

/**
 * A closed object: `props` must list exactly the reader's `fields`, in order (a field the reader
 * gained or lost without the schema following is an error here, not a silent drift).
 */
function object(what: string, fields: readonly string[], props: Record<string, Schema>, required: readonly string[], extra: Schema = {}): Schema {
  const keys = Object.keys(props);
  if (keys.join(',') !== fields.join(',')) throw new Error(`schema of ${what}: properties ${keys.join(',')} are not the reader's fields ${fields.join(',')}`);
  for (const r of required) if (!fields.includes(r)) throw new Error(`schema of ${what}: required ${r} is not a field`);
  return { ...extra, type: 'object', properties: props, ...(required.length ? { required: [...required] } : {}), additionalProperties: false };
}

// ------------------------------------------------------------------------------------------------
// Sequences

/** The widest configuration: every range probed under it is the widest a file may use. */
const WIDEST: VmConfig = { geometry: 'x86', hugePages: true, vcpus: MAX_VCPUS };

/** What one op-field reader reads: its schema, and whether it has a default (is optional). */
function probeField(kind: OpKind, key: string, read: (v: Field, config: VmConfig, sofar: object) => unknown): { schema: Schema; optional: boolean } {
  let seen: { schema: Schema; optional: boolean } | undefined;
  const note = (schema: Schema, def: unknown): void => {
    if (seen) throw new Error(`op ${kind}.${key}: its reader reads more than one value`);
    seen = { schema: def === undefined ? schema : { ...schema, default: def }, optional: def !== undefined };
  };
  const probe: Field = {
    key,
    fail: () => { throw new Error(`op ${kind}.${key}: its reader failed on the probe`); },
    int: (lo, hi, def) => { note(int(lo, hi), def); return def ?? lo; },
    bool: (def) => { note(bool(), def); return def ?? false; },
    oneOf: (allowed, def) => { note({ enum: [...allowed] }, def); return def ?? allowed[0]; },
  };
  read(probe, WIDEST, {});
  if (!seen) throw new Error(`op ${kind}.${key}: its reader reads nothing`);
  return seen;
}

/** One op kind's object: kind, its fields from the table, fail, and race unless it is a racing op. */
function opSchema(kind: OpKind, racing: boolean): Schema {
  const fields = OP_KIND_SPECS[kind].fields as Record<string, (v: Field, config: VmConfig, sofar: object) => unknown>;
  const props: Record<string, Schema> = { kind: { const: kind } };
  const required = ['kind'];
  for (const [key, read] of Object.entries(fields)) {
    const p = probeField(kind, key, read);
    props[key] = p.schema;
    if (!p.optional) required.push(key);
  }
  props.fail = { type: 'array', items: ref('failEntry'), description: 'fault-plan entries: inject a failure the nth time the op reaches a point' };
  const own = ['kind', ...Object.keys(fields)];
  if (racing) return object(`racing ${kind}`, [...own, 'fail'], props, required, { title: `${kind} (racing)` });
  props.race = ref('race');
  return object(`op ${kind}`, [...own, ...COMMON_FIELDS], props, required, { title: kind });
}

function sequenceDefs(): Record<string, Schema> {
  const otherPoints = FAULT_POINTS.filter(p => p !== 'seamcall');
  const nth = { ...int(1, MAX_NTH), default: 1 };
  const defs: Record<string, Schema> = {
    config: object('config', CONFIG_FIELDS, {
      geometry: { enum: [...GEOMETRIES], description: `compact: ${LEVELS} levels x ${GEOMETRY_FANOUT.compact} entries; x86: ${LEVELS} x ${GEOMETRY_FANOUT.x86}` },
      hugePages: { ...bool('TDX huge pages (2M private leaves, DEMOTE)'), default: false },
      vcpus: { ...int(1, MAX_VCPUS), default: 2 },
      proveMmu: { ...bool('CONFIG_KVM_PROVE_MMU (written only when true)'), default: false },
      dpamt: { ...bool('Dynamic PAMT (written only when true)'), default: false },
    }, ['geometry']),
    op: { oneOf: OP_KINDS.map(k => ref(`op-${k}`)), description: 'one kernel entry point; `kind` selects its fields' },
    racingOp: { oneOf: RACE_OP_KINDS.map(k => ref(`racing-${k}`)), description: 'the op another vCPU runs when the outer op reaches the race point' },
    failEntry: {
      oneOf: [
        object('a seamcall fail entry', FAIL_FIELDS, {
          at: { const: 'seamcall' }, nth, call: { enum: [...SEAMCALL_NAMES] }, error: { enum: [...FAIL_ERRORS], default: 'BUSY' },
        }, ['at', 'call']),
        // The other points take no call or error: the reader refuses them ("only allowed with at seamcall").
        object('a fail entry', FAIL_FIELDS.filter(k => k === 'at' || k === 'nth'), { at: { enum: otherPoints }, nth }, ['at']),
      ],
    },
    race: object('a race', RACE_FIELDS, {
      at: { enum: [...RACE_POINTS] }, level: { ...int(1, LEVELS), description: 'the walk level (absent: any level)' }, nth, op: ref('racingOp'),
    }, ['at', 'op']),
  };
  for (const k of OP_KINDS) defs[`op-${k}`] = opSchema(k, false);
  for (const k of RACE_OP_KINDS) defs[`racing-${k}`] = opSchema(k, true);
  return defs;
}

function sequenceSchema(): Schema {
  return {
    $schema: DRAFT,
    title: `${SEQUENCE_FORMAT}: a tdpfuzz sequence file`,
    description: `A VM configuration and the ops run on every design in lockstep. gfn ranges here are the x86 geometry's (${totalGfns(WIDEST)} gfns); the reader checks them against the file's own geometry.`,
    ...object('a sequence', TOP_FIELDS, {
      $schema: SCHEMA_REF,
      format: { const: SEQUENCE_FORMAT },
      config: ref('config'),
      ops: { type: 'array', items: ref('op') },
      meta: { type: 'object', description: 'free-form provenance (not part of the sequence hash)' },
    }, ['format', 'config', 'ops']),
    $defs: sequenceDefs(),
  };
}

// ------------------------------------------------------------------------------------------------
// Crash files

function crashSchema(): Schema {
  const F = CRASH_OBJECT_FIELDS;
  const time = { type: 'string', format: 'date-time' };
  const defs: Record<string, Schema> = {
    ...sequenceDefs(),
    source: {
      oneOf: [
        object('a generated source', F.generatedSource, { seed: { type: ['number', 'string'] }, index: int(0), engine: str() }, ['seed', 'index', 'engine'], { title: 'a generated sequence' }),
        object('a file source', F.fileSource, { file: str(), engine: str('the tool that produced the input (e.g. jsfuzz)') }, ['file'], { title: 'a file' }),
      ],
    },
    finding: object('a finding', F.finding, {
      kind: str(), designs: strings(1, nonEmpty()), opIndex: int(0), opKind: str(), component: str(), message: str(),
      explained: object('an explanation', F.explanation, { id: str(), title: str(), reason: str() }, F.explanation),
    }, F.finding.filter(k => k !== 'explained')),
    designTrace: object('a design trace', F.designTrace, {
      design: str(), result: str(), seamcalls: strings(),
      seamcallBy: { ...strings(), description: 'the kernel function that issued each SEAMCALL, one per entry of seamcalls (for reading; never compared)' },
      diagnostics: strings(), trace: strings(),
    }, F.designTrace.filter(k => k !== 'trace' && k !== 'seamcallBy')),
    divergence: object('a first divergence', F.divergence, {
      opIndex: int(0), op: str(), prefix: strings(), component: str(), sides: { type: 'array', items: ref('designTrace') }, stateDiff: str(), traceDiff: str(),
    }, F.divergence),
  };
  return {
    $schema: DRAFT,
    title: `${CRASH_FORMAT}: a tdpfuzz crash file`,
    description: 'One finding signature: its reproducer, the finding, the first divergence, its history and triage status.',
    ...object('a crash file', CRASH_FIELDS, {
      $schema: SCHEMA_REF,
      format: { const: CRASH_FORMAT },
      toolVersion: str(),
      signature: str('kind|designs|op kind|component'),
      status: { enum: [...CRASH_STATUSES], description: 'open (new), or explained/expected once accepted (replays as XFAIL)' },
      config: ref('config'),
      designs: strings(2, nonEmpty()),
      equiv: { enum: [...EQUIVALENCES] },
      domain: { enum: [...DOMAINS] },
      source: ref('source'),
      ops: { type: 'array', items: ref('op'), description: 'the reproducer (minimized)' },
      originalOps: { type: 'array', items: ref('op') },
      finding: ref('finding'),
      firstDivergence: { oneOf: [{ type: 'null' }, ref('divergence')] },
      replay: str('the command that replays this file'),
      hits: int(1),
      firstSeen: time,
      lastSeen: time,
      minimization: { type: 'object', description: 'minimizer statistics (free-form)' },
      mergedFrom: {
        type: 'object', description: 'tdpfuzz merge: per source file, its hits and firstSeen when last merged',
        additionalProperties: object('a merged source', F.mergedSource, { hits: int(0), firstSeen: time }, F.mergedSource),
      },
      designModules: {
        type: 'array', minItems: 1,
        items: object('a design module', F.designModule, {
          spec: nonEmpty('as given'), path: str('absolute, one of designs'), sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        }, F.designModule),
      },
    }, ['format', 'toolVersion', 'signature', 'status', 'config', 'designs', 'equiv', 'domain', 'source', 'ops', 'originalOps',
      'finding', 'replay', 'hits', 'firstSeen', 'lastSeen']),
    $defs: defs,
  };
}

// ------------------------------------------------------------------------------------------------
// Series files

function seriesSchema(): Schema {
  const word = { type: 'string', pattern: SERIES_ID.source };
  const text = { type: 'string', pattern: '\\S' };
  return {
    $schema: DRAFT,
    title: `${SERIES_FORMAT}: a patch series for tdpfuzz bisect`,
    ...object('a series', Object.keys(SERIES_TOP), {
      $schema: SCHEMA_REF,
      format: { const: SERIES_FORMAT },
      name: word,
      description: str(),
      base: { ...text, description: 'a design name (before, after, mutant:<id>) or a module path relative to this file' },
      steps: { type: 'array', minItems: 1, items: ref('step') },
    }, ['format', 'name', 'base', 'steps']),
    $defs: {
      step: object('a series step', Object.keys(SERIES_STEP), {
        id: word,
        title: text,
        design: { ...text, description: 'a design name or a module path relative to this file' },
        differences: { type: 'array', items: { enum: [...KNOWN_DIFFERENCES] }, uniqueItems: true, description: 'the D-ids the step may introduce; [] claims a pure refactor' },
        note: str(),
      }, ['id', 'title', 'design', 'differences']),
    },
  };
}

// ------------------------------------------------------------------------------------------------

/** Every schema, by format. */
function jsonSchemas(): Record<SchemaFormat, Schema> {
  return { [SEQUENCE_FORMAT]: sequenceSchema(), [CRASH_FORMAT]: crashSchema(), [SERIES_FORMAT]: seriesSchema() } as Record<SchemaFormat, Schema>;
}

/** The text of each schema file of schemas/, by file name. */
export function schemaFileTexts(): Record<string, string> {
  const schemas = jsonSchemas();
  return Object.fromEntries((Object.keys(SCHEMA_FILES) as SchemaFormat[]).map(f => [SCHEMA_FILES[f], `${JSON.stringify(schemas[f], null, 2)}\n`]));
}

// `npm run schemas`: write schemas/ (from dist/harness/store/, the repository is three levels up).
if (require.main === module) {
  const dir = path.resolve(__dirname, '../../../schemas');
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(schemaFileTexts())) {
    fs.writeFileSync(path.join(dir, name), text);
    process.stdout.write(`wrote schemas/${name}\n`);
  }
}
