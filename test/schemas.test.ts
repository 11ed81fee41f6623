// The JSON Schemas of schemas/ (issue 12 item 11): the committed files are what
// harness/store/json_schemas.ts generates from the readers' tables; real files — committed and
// freshly written by the CLI — validate against them and point at them with `$schema`; a malformed
// file is refused by the schema and the strict reader alike; and the schema never refuses what the
// reader accepts (generated sequences in every configuration).
//
// The validator below implements exactly the subset of JSON Schema 2020-12 the schemas use, and
// throws on any other keyword, so the subset cannot grow unnoticed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../harness/cli/main';
import { parseSeries } from '../harness/run/series_file';
import { generateSequence } from '../harness/seq/generate';
import { SCHEMA_FILES, type SchemaFormat } from '../harness/seq/schema_ref';
import { parseSequence } from '../harness/seq/sequence';
import { parseCrash } from '../harness/store/crash_store';
import { schemaFileTexts, type Schema } from '../harness/store/json_schemas';

const ROOT = path.resolve(__dirname, '..');
const schemaOf = (format: SchemaFormat): Schema => JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', SCHEMA_FILES[format]), 'utf8'));

// ------------------------------------------------------------------------------------------------
// The validator of the subset

const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'default', 'format', '$defs']);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The errors of `v` against `s` (empty: valid); `root` resolves `#/$defs/...`. */
function errors(v: unknown, s: Schema, root: Schema, at = '$'): string[] {
  const out: string[] = [];
  for (const [k, x] of Object.entries(s)) {
    if (ANNOTATIONS.has(k)) continue;
    switch (k) {
      case '$ref': {
        const m = /^#\/\$defs\/([\w-]+)$/.exec(x as string);
        if (!m) throw new Error(`unsupported $ref ${x}`);
        const target = (root.$defs as Record<string, Schema>)[m[1]];
        if (!target) throw new Error(`dangling $ref ${x}`);
        out.push(...errors(v, target, root, at));
        break;
      }
      case 'type': {
        const types = Array.isArray(x) ? x as string[] : [x as string];
        const t = typeOf(v);
        if (!types.some(want => want === t || (want === 'number' && t === 'integer'))) out.push(`${at}: expected ${types.join('|')}, got ${t}`);
        break;
      }
      case 'const': if (JSON.stringify(v) !== JSON.stringify(x)) out.push(`${at}: expected ${JSON.stringify(x)}`); break;
      case 'enum': if (!(x as unknown[]).some(e => JSON.stringify(e) === JSON.stringify(v))) out.push(`${at}: ${JSON.stringify(v)} not in enum`); break;
      case 'minimum': if (typeof v === 'number' && v < (x as number)) out.push(`${at}: ${v} < ${x}`); break;
      case 'maximum': if (typeof v === 'number' && v > (x as number)) out.push(`${at}: ${v} > ${x}`); break;
      case 'minLength': if (typeof v === 'string' && v.length < (x as number)) out.push(`${at}: shorter than ${x}`); break;
      case 'pattern': if (typeof v === 'string' && !new RegExp(x as string, 'u').test(v)) out.push(`${at}: does not match ${x}`); break;
      case 'minItems': if (Array.isArray(v) && v.length < (x as number)) out.push(`${at}: fewer than ${x} items`); break;
      case 'uniqueItems': if (x && Array.isArray(v) && new Set(v.map(e => JSON.stringify(e))).size !== v.length) out.push(`${at}: items not unique`); break;
      case 'items': if (Array.isArray(v)) v.forEach((e, i) => out.push(...errors(e, x as Schema, root, `${at}[${i}]`))); break;
      case 'required':
        if (typeOf(v) === 'object') for (const r of x as string[]) if (!(r in (v as object))) out.push(`${at}: ${r} missing`);
        break;
      case 'properties':
        if (typeOf(v) === 'object') {
          for (const [p, ps] of Object.entries(x as Record<string, Schema>)) {
            if (p in (v as object)) out.push(...errors((v as Record<string, unknown>)[p], ps, root, `${at}.${p}`));
          }
        }
        break;
      case 'additionalProperties':
        if (typeOf(v) === 'object') {
          const known = Object.keys((s.properties ?? {}) as object);
          for (const [p, pv] of Object.entries(v as Record<string, unknown>)) {
            if (known.includes(p)) continue;
            if (x === false) out.push(`${at}: unknown field ${p}`);
            else out.push(...errors(pv, x as Schema, root, `${at}.${p}`));
          }
        }
        break;
      case 'oneOf': {
        const matching = (x as Schema[]).filter(alt => errors(v, alt, root, at).length === 0).length;
        if (matching !== 1) out.push(`${at}: matches ${matching} of oneOf's ${(x as unknown[]).length} alternatives`);
        break;
      }
      default: throw new Error(`keyword ${k} is outside the subset this test validates`);
    }
  }
  return out;
}

const valid = (format: SchemaFormat, v: unknown): string[] => { const s = schemaOf(format); return errors(v, s, s); };

/** The strict reader of a format; null when it accepts the text, else its message. */
function readerError(format: SchemaFormat, text: string): string | null {
  try {
    if (format === 'tdpfuzz-seq/1') parseSequence(text, 'f.json');
    else if (format === 'tdpfuzz-crash/1') parseCrash(text, 'f.json');
    else parseSeries(text, 'f.json', path.join(ROOT, 'examples', 'f.json'));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function jsonFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  return fs.readdirSync(abs).filter(n => n.endsWith('.json') && !n.startsWith('.')).sort().map(n => path.join(abs, n));
}

const COMMITTED: [SchemaFormat, string][] = [
  ...jsonFiles('crashes').map(f => ['tdpfuzz-crash/1', f] as [SchemaFormat, string]),
  ...jsonFiles('corpus').map(f => ['tdpfuzz-seq/1', f] as [SchemaFormat, string]),
  ['tdpfuzz-series/1', path.join(ROOT, 'examples', 'series.json')],
];

/** The file's `$schema`, resolved against its directory as an editor resolves it. */
const resolvedRef = (file: string): string => path.resolve(path.dirname(file), JSON.parse(fs.readFileSync(file, 'utf8')).$schema);

// ------------------------------------------------------------------------------------------------

describe('schemas/ is generated from the readers', () => {
  it('every committed schema file is what json_schemas.ts generates (npm run schemas rewrites them)', () => {
    const texts = schemaFileTexts();
    expect(Object.keys(texts).sort()).toEqual(fs.readdirSync(path.join(ROOT, 'schemas')).sort());
    for (const [name, text] of Object.entries(texts)) {
      expect(fs.readFileSync(path.join(ROOT, 'schemas', name), 'utf8'), `schemas/${name} is stale: run npm run schemas`).toBe(text);
    }
  });

  it('each op kind is one oneOf alternative with its fields, ranges and defaults from op_kinds.ts', () => {
    const defs = schemaOf('tdpfuzz-seq/1').$defs as Record<string, Schema>;
    const fault = defs['op-fault'] as { properties: Record<string, Schema>; required: string[] };
    expect(Object.keys(fault.properties)).toEqual(['kind', 'vcpu', 'gfn', 'private', 'write', 'maxLevel', 'fail', 'race']);
    expect(fault.required).toEqual(['kind', 'gfn', 'private']);
    expect(fault.properties.maxLevel).toEqual({ type: 'integer', minimum: 1, maximum: 3, default: 1 });
    expect(defs['op-zap'].properties).toMatchObject({ attr: { enum: ['private', 'shared', 'both'], default: 'both' } });
    // A racing op cannot carry a race of its own, and only the racing kinds can race.
    expect(Object.keys((defs['racing-fault'] as { properties: object }).properties)).not.toContain('race');
    expect((defs.racingOp.oneOf as unknown[]).length).toBe(6);
  });
});

describe('real files validate and reference their schema', () => {
  it.each(COMMITTED.map(([f, file]) => [f, path.relative(ROOT, file)]))('%s %s', (format, rel) => {
    const file = path.join(ROOT, rel);
    const text = fs.readFileSync(file, 'utf8');
    expect(readerError(format as SchemaFormat, text)).toBeNull();
    expect(valid(format as SchemaFormat, JSON.parse(text))).toEqual([]);
    expect(resolvedRef(file)).toBe(path.join(ROOT, 'schemas', SCHEMA_FILES[format as SchemaFormat]));
  });

  it('files the CLI writes (OUT/crashes, the guided corpus, minimize) validate; inside the repository their $schema resolves from where they are', async () => {
    // out/ is the repository's own (ignored) output directory: where an editor opens a campaign's files.
    fs.mkdirSync(path.join(ROOT, 'out'), { recursive: true });
    const work = fs.mkdtempSync(path.join(ROOT, 'out', '.schema-test-'));
    try {
      const io = { out: () => undefined, err: () => undefined, cwd: work, isTTY: false, env: {} };
      const code = await main(['run', '--designs', 'after,mutant:stats-before-hook', '--runs', '30', '--engine', 'guided', '--no-corpus',
        '--minimize-runs', '200', '--out', 'o'], io);
      expect(code).toBe(1);
      const list = (dir: string): string[] => fs.readdirSync(dir).filter(n => n.endsWith('.json')).map(n => path.join(dir, n));
      const crashes = list(path.join(work, 'o', 'crashes'));
      const corpus = list(path.join(work, 'o', 'corpus'));
      expect(crashes.length).toBeGreaterThan(0);
      expect(corpus.length).toBeGreaterThan(0);
      expect(await main(['minimize', crashes[0], '--out', 'min/seq.json'], io)).toBe(0);
      const min = path.join(work, 'min', 'seq.json');
      const written = [...crashes.map(f => ['tdpfuzz-crash/1', f] as const), ...corpus.map(f => ['tdpfuzz-seq/1', f] as const), ['tdpfuzz-crash/1', min] as const];
      for (const [format, file] of written) {
        expect(valid(format, JSON.parse(fs.readFileSync(file, 'utf8'))), file).toEqual([]);
        expect(resolvedRef(file), file).toBe(path.join(ROOT, 'schemas', SCHEMA_FILES[format]));
      }
      // A crash file is `$schema` and then the bytes it had before `$schema` existed.
      expect(fs.readFileSync(crashes[0], 'utf8')).toMatch(/^\{\n {2}"\$schema": "(\.\.\/){4}schemas\/tdpfuzz-crash-1\.schema\.json",\n {2}"format": "tdpfuzz-crash\/1",\n/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('outside the repository the reference is the fixed form of the committed directories (the same in every checkout)', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tdpfuzz-schema-'));
    const io = { out: () => undefined, err: () => undefined, cwd: work, isTTY: false, env: {} };
    expect(await main(['run', '--designs', 'after,mutant:stats-before-hook', '--runs', '10', '--no-corpus', '--no-minimize', '--out', 'o'], io)).toBe(1);
    const dir = path.join(work, 'o', 'crashes');
    for (const n of fs.readdirSync(dir).filter(x => x.endsWith('.json'))) {
      expect(JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')).$schema).toBe('../schemas/tdpfuzz-crash-1.schema.json');
    }
  });

  it('files without $schema (written before it existed) still load; $schema must be a string', () => {
    for (const [format, file] of COMMITTED) {
      const obj = JSON.parse(fs.readFileSync(file, 'utf8'));
      delete obj.$schema;
      expect(readerError(format, JSON.stringify(obj)), file).toBeNull();
      expect(valid(format, obj), file).toEqual([]);
      expect(readerError(format, JSON.stringify({ ...obj, $schema: 3 }))).toMatch(/^f\.json: \$schema: expected a string/);
      expect(valid(format, { ...obj, $schema: 3 })).not.toEqual([]);
    }
  });
});

describe('the schema and the strict reader agree', () => {
  type Mutation = [string, (o: Record<string, any>) => void]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const MALFORMED: Record<SchemaFormat, Mutation[]> = {
    'tdpfuzz-seq/1': [
      ['an unknown top-level field', o => { o.seed = 1; }],
      ['an unknown op field', o => { o.ops[1].gfnn = 3; }],
      ['an unknown config field', o => { o.config.huge = true; }],
      ['a string where an integer goes', o => { o.ops[1].gfn = '3'; }],
      ['a number where a boolean goes', o => { o.config.hugePages = 1; }],
      ['an unknown op kind', o => { o.ops[0].kind = 'teleport'; }],
      ['a missing required field', o => { delete o.config.geometry; }],
      ['call on a non-seamcall fail entry', o => { o.ops[0].fail = [{ at: 'topup', call: 'SEPT.ADD' }]; }],
      ['a race inside a racing op', o => { o.ops[1].race = { at: 'install', op: { kind: 'gracePeriod', race: { at: 'walk', op: { kind: 'gracePeriod' } } } }; }],
      ['a non-racing kind as a racing op', o => { o.ops[1].race = { at: 'install', op: { kind: 'destroy' } }; }],
      ['nth out of range', o => { o.ops[0].fail = [{ at: 'yield', nth: 0 }]; }],
    ],
    'tdpfuzz-crash/1': [
      ['an unknown top-level field', o => { o.statuss = 'open'; }],
      ['an unknown finding field', o => { o.finding.severity = 'high'; }],
      ['an unknown op field in ops', o => { o.ops[0].x = 1; }],
      ['a wrong status', o => { o.status = 'fixed'; }],
      ['hits as a string', o => { o.hits = '3'; }],
      ['hits 0', o => { o.hits = 0; }],
      ['one design', o => { o.designs = ['after']; }],
      ['a missing replay', o => { delete o.replay; }],
      ['a source with both file and seed', o => { o.source = { file: 'x.json', seed: 1, index: 0, engine: 'random' }; }],
      ['a design trace without seamcalls', o => { if (o.firstDivergence) delete o.firstDivergence.sides[0].seamcalls; else o.firstDivergence = 3; }],
    ],
    'tdpfuzz-series/1': [
      ['an unknown top-level field', o => { o.bases = 'x'; }],
      ['an unknown step field', o => { o.steps[0].titel = 'x'; }],
      ['an unknown D-id', o => { o.steps[0].differences = ['D999']; }],
      ['a D-id listed twice', o => { o.steps[0].differences = ['D17', 'D17']; }],
      ['no steps', o => { o.steps = []; }],
      ['a step id with a space', o => { o.steps[0].id = 'P 1'; }],
      ['differences as a string', o => { o.steps[0].differences = 'D17'; }],
    ],
  };
  const SAMPLE: Record<SchemaFormat, string> = {
    'tdpfuzz-seq/1': path.join(ROOT, 'corpus', 'busy-and-retry.json'),
    'tdpfuzz-crash/1': jsonFiles('crashes')[0],
    'tdpfuzz-series/1': path.join(ROOT, 'examples', 'series.json'),
  };
  for (const format of Object.keys(MALFORMED) as SchemaFormat[]) {
    it.each(MALFORMED[format].map(([what, m]) => [format, what, m] as const))('%s: %s is refused by both', (_f, _what, mutate) => {
      const obj = JSON.parse(fs.readFileSync(SAMPLE[format], 'utf8'));
      expect(readerError(format, JSON.stringify(obj))).toBeNull();
      mutate(obj);
      const reader = readerError(format, JSON.stringify(obj));
      expect(reader).toMatch(/^f\.json: /);
      expect(reader).not.toContain('\n');
      expect(valid(format, obj)).not.toEqual([]);
    });
  }

  it('the schema accepts every generated sequence the reader accepts (both domains, both geometries, huge pages, prove-mmu, dpamt)', () => {
    const configs = [
      { geometry: 'compact', hugePages: false, vcpus: 2 }, { geometry: 'x86', hugePages: true, vcpus: 4 },
      { geometry: 'compact', hugePages: true, vcpus: 1, proveMmu: true, dpamt: true },
    ] as const;
    let n = 0;
    for (const config of configs) {
      for (const domain of ['legal', 'extended'] as const) {
        for (let i = 0; i < 40; i++) {
          const seq = generateSequence(7, i, { config, domain, faultRate: 0.5, raceRate: 0.5 });
          const text = JSON.stringify(seq);
          expect(readerError('tdpfuzz-seq/1', text)).toBeNull();
          expect(valid('tdpfuzz-seq/1', JSON.parse(text)), `${domain} ${JSON.stringify(config)} #${i}`).toEqual([]);
          n += seq.ops.length;
        }
      }
    }
    expect(n).toBeGreaterThan(1000);
  });
});
