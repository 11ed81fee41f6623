// The series file format `tdpfuzz-series/1` (README "File formats"): a reviewer's own patch series
// as an ordered list of variant designs, for `tdpfuzz bisect`. One strict reader (seq/strict_json.ts
// and field tables), one-line errors naming the file and the field:
//
//   {"format": "tdpfuzz-series/1", "name": "my-series", "description"?: "...", "base": "before",
//    "steps": [{"id": "P1", "title": "...", "design": "./p1.js", "differences": ["D17"], "note"?: "..."}]}
//
// `base` and each step's `design` are a design name (before, after, mutant:<id>, ...) or a module
// path, resolved relative to the series file. `differences` are the D-ids of run/explained.ts the
// step may introduce against the previous step ([] claims a pure refactor); an unknown id is an error.
// Both a series file and a built-in series (run/series_builtin.ts) become a SeriesSpec.
import * as path from 'node:path';
import type { Design } from '../../impls/api';
import { EXPLAINED, UNOBSERVABLE } from './explained';
import { Fields, InputError, isObject, parseJsonInput, show } from '../seq/strict_json';
import { optional, readTable, type FieldRead, type FieldTable } from '../seq/field_table';
import { checkSchemaRef } from '../seq/schema_ref';

export const SERIES_FORMAT = 'tdpfuzz-series/1';

/** A design of a series: as given (a name, or a module path made absolute), where it was given, or the design itself. */
export interface SeriesDesignRef {
  spec: string;
  /** where it was given, for messages (`my.series.json: steps[2].design`) */
  at: string;
  /** a built-in series' design object (a file's designs are loaded from `spec`) */
  design?: Design;
}

export interface SeriesStepSpec {
  id: string;
  title: string;
  design: SeriesDesignRef;
  /** the D-ids this step may introduce against the previous one; [] claims a pure refactor */
  differences: string[];
  note?: string;
}

/** A series as bisect runs it: the base, then each step compared against the one before it. */
export interface SeriesSpec {
  name: string;
  description: string;
  /** the series file as shown, or `built-in` */
  source: string;
  base: SeriesDesignRef;
  steps: SeriesStepSpec[];
}

/** Every D-id the harness knows (observable or not): what a step may declare. */
export const KNOWN_DIFFERENCES: readonly string[] = [...EXPLAINED, ...UNOBSERVABLE].map(e => e.id)
  .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));

/** A step id: used in file names of the outputs, so a plain word. */
export const SERIES_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const nonEmpty: FieldRead<string> = (f, k) => {
  const v = f.str(k);
  if (v.trim() === '') f.fail(k, 'expected a non-empty string');
  return v;
};

/** A plain word (a step id, the series name): used in output file names and JUnit class names. */
const word = (what: string): FieldRead<string> => (f, k) => {
  const v = f.str(k);
  if (!SERIES_ID.test(v)) f.fail(k, `${show(v)} is not a ${what} (letters, digits, . _ -; at most 64, starting with a letter or digit)`);
  return v;
};

const differences: FieldRead<string[]> = (f, k) => {
  const v = f.raw(k);
  if (v === undefined) f.fail(k, 'missing (required; [] claims a pure refactor)');
  if (!Array.isArray(v)) return f.fail(k, `expected an array of D-ids, got ${show(v)}`);
  v.forEach((x, i) => {
    if (typeof x !== 'string' || !KNOWN_DIFFERENCES.includes(x)) f.fail(`${k}[${i}]`, `unknown difference ${show(x)} (known: ${KNOWN_DIFFERENCES.join(', ')})`);
    if (v.indexOf(x) !== i) f.fail(`${k}[${i}]`, `${x} is listed twice`);
  });
  return v as string[];
};

interface StepFields { id: string; title: string; design: string; differences: string[]; note?: string }
export const SERIES_STEP: FieldTable<StepFields> = { id: word('step id'), title: nonEmpty, design: nonEmpty, differences, note: optional((f, k) => f.str(k)) };

interface TopFields { $schema?: string; format: string; name: string; description?: string; base: string; steps: StepFields[] }

const steps: FieldRead<StepFields[]> = (f, k) => {
  const v = f.raw(k);
  if (v === undefined) f.fail(k, 'missing (required)');
  if (!Array.isArray(v)) return f.fail(k, `expected an array of steps, got ${show(v)}`);
  if (v.length === 0) f.fail(k, 'expected at least 1 step, got 0');
  const out = v.map((x, i) => {
    const at = `${k}[${i}]`;
    if (!isObject(x)) return f.fail(at, `expected an object, got ${show(x)}`);
    return readTable(new Fields(f.fileName, f.path ? `${f.path}.${at}` : at, x), SERIES_STEP, 'a series step');
  });
  out.forEach((s, i) => {
    const j = out.findIndex(o => o.id === s.id);
    if (j !== i) f.fail(`${k}[${i}].id`, `${show(s.id)} is also the id of steps[${j}] (ids must be unique)`);
  });
  return out;
};

/** The series file's fields (`$schema`: for editors, schemas/; read as a string and dropped). */
export const SERIES_TOP: FieldTable<TopFields> = {
  $schema: optional((f, k) => { checkSchemaRef(f); return f.str(k); }),
  format: (f, k) => f.str(k), name: word('series name'), description: optional((f, k) => f.str(k)), base: nonEmpty, steps,
};

/** A design item is a path when it looks like one (the rule of run/designs.ts): ./x, ../x, /x, *.js/.ts/.cjs. */
function looksLikePath(item: string): boolean {
  return item.startsWith('.') || path.isAbsolute(item) || /\.(c?js|ts)$/.test(item);
}

/** A design item of the file: a name as is, a module path resolved from the series file's directory. */
function designRef(item: string, at: string, absFile: string): SeriesDesignRef {
  return { spec: looksLikePath(item) ? path.resolve(path.dirname(absFile), item) : item, at };
}

/**
 * Parse a series file. `file` is the name messages use, `absFile` its absolute path (module paths
 * are resolved from its directory). Designs are not loaded here: bisect loads them (messages name
 * the field they came from).
 */
export function parseSeries(text: string, file: string, absFile: string): SeriesSpec {
  const obj = parseJsonInput(text, file);
  if (!isObject(obj)) throw new InputError(`${file}: expected a JSON object (a ${SERIES_FORMAT} file), got ${show(obj)}`);
  if (obj.format === undefined) throw new InputError(`${file}: format: missing (expected "${SERIES_FORMAT}")`);
  if (obj.format !== SERIES_FORMAT) throw new InputError(`${file}: format ${show(obj.format)} is not supported (expected "${SERIES_FORMAT}")`);
  const t = readTable(new Fields(file, '', obj), SERIES_TOP, 'a series');
  return {
    name: t.name, description: t.description ?? '', source: file,
    base: designRef(t.base, `${file}: base`, absFile),
    steps: t.steps.map((s, i) => ({
      id: s.id, title: s.title, design: designRef(s.design, `${file}: steps[${i}].design`, absFile),
      differences: [...s.differences], ...(s.note !== undefined ? { note: s.note } : {}),
    })),
  };
}
