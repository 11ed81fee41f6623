// `tdpfuzz mutants` (DESIGN §8, oracle power): the flags and the printing of the mutant hunt
// (fuzz/mutant_hunt.ts): a table (found in how many seeds, median time and executions to the first
// finding, the signature found) and each engine's mutation score (mutants found / total); --json
// for machines; --list prints the catalogue. Exit code 0 unless the arguments are bad (2): this is
// a measurement, not a test.
import * as path from 'node:path';
import { MUTANTS, findMutant, type MutantInfo } from '../../impls/mutants/catalogue';
import { flagTable, parseFlags, splitList, UsageError, type Command, type Io } from './flags';
import { ENGINES } from '../fuzz/engines/index';
import {
  DEFAULT_MUTANT_ENGINES, MUTANTS_FORMAT, huntMutants, medianOf, summarize, type EngineScore, type MutantRow,
} from '../fuzz/mutant_hunt';
import { toolVersion, writeFileAtomic } from '../store/fsutil';
import { checkOutputFile } from '../store/output_place';
import { InputError } from '../seq/sequence';

const HELP = `usage: tdpfuzz mutants [flags]

Oracle power (docs/DESIGN.md §8): for each mutant of the catalogue × engine ×
seed 1..K, runs the engine's sequences on [base design, mutant] (compact
geometry, legal domain, state equivalence, the configuration the mutant needs)
until the first unexplained finding or the time budget. Prints one row per
mutant and engine: seeds that found it, median time and executions to the first
finding (over all seeds, "not found" counting as infinitely late), the signature
found; then each engine's mutation score (mutants found / total). Nothing is
written unless --out is given. The engines run in this thread: jsfuzz is then
guided by the models' coverage classes, not by istanbul counters (for the jsfuzz
CLI itself, see bench/jsfuzz_workers.sh).

flags:
  --list          print the catalogue (id, base, expected finding kind, source,
                  description) and exit
  --engines E,F   engines to compare (default: ${DEFAULT_MUTANT_ENGINES.join(',')}, those
                  registered in this build)
  --seeds K       seeds per mutant and engine (default 5)
  --time S        time budget per hunt in seconds (default 10)
  --ids A,B       only these mutants (default all)
  --json          print JSON (format ${MUTANTS_FORMAT}) instead of the table
  --out FILE      also write the JSON to FILE
  --help          show this help

example: tdpfuzz mutants --engines random,guided --seeds 5 --time 20`;

interface MutantsArgs {
  list: boolean;
  engines: string[];
  /** engines of the default list that are not registered */
  missing: string[];
  seeds: number;
  timeSec: number;
  ids: MutantInfo[];
  json: boolean;
  out: string | null;
}

const FLAGS = flagTable([
  { name: 'list', kind: { type: 'bool' }, default: false, help: '' },
  { name: 'engines', kind: { type: 'string', what: 'a comma-separated list of engine names' }, help: '' },
  { name: 'seeds', kind: { type: 'int', min: 1, max: 1000 }, default: 5, help: '' },
  { name: 'time', kind: { type: 'number', min: 0, max: 1e6, minExclusive: true }, default: 10, help: '' },
  { name: 'ids', kind: { type: 'string', what: 'a comma-separated list of mutant ids' }, help: '' },
  { name: 'json', kind: { type: 'bool' }, default: false, help: '' },
  { name: 'out', kind: { type: 'string', what: 'a file' }, help: '' },
  { name: 'help', kind: { type: 'bool' }, default: false, help: '' },
]);

function parseMutantsArgs(argv: readonly string[]): MutantsArgs {
  const { flags, positional } = parseFlags('mutants', FLAGS, argv);
  if (positional.length) throw new UsageError(`mutants: unexpected argument ${JSON.stringify(positional[0])} (mutants takes only flags; see tdpfuzz mutants --help)`);
  const known = [...ENGINES.keys()];
  let engines: string[];
  let missing: string[] = [];
  if (flags.engines !== undefined) {
    engines = splitList('--engines', flags.engines);
    for (const e of engines) {
      if (!ENGINES.has(e)) throw new UsageError(`--engines: unknown engine ${JSON.stringify(e)} (known: ${known.join(', ')})`);
    }
  } else {
    engines = DEFAULT_MUTANT_ENGINES.filter(e => ENGINES.has(e));
    missing = DEFAULT_MUTANT_ENGINES.filter(e => !ENGINES.has(e));
  }
  let ids = [...MUTANTS];
  if (flags.ids !== undefined) {
    ids = splitList('--ids', flags.ids).map((id) => {
      const m = findMutant(id);
      if (!m) throw new UsageError(`--ids: unknown mutant ${JSON.stringify(id)} (see tdpfuzz mutants --list)`);
      return m;
    });
  }
  return { list: flags.list, engines, missing, ids, seeds: flags.seeds, timeSec: flags.time, json: flags.json, out: flags.out ?? null };
}

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(header), line(w.map(n => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

function formatCatalogue(): string {
  return table(['id', 'base', 'expect', 'needs', 'source', 'description'], MUTANTS.map(m => [
    m.id, m.base, m.expect,
    [m.needs?.hugePages ? 'huge-pages' : '', m.needs?.proveMmu ? 'prove-mmu' : ''].filter(Boolean).join(',') || '-',
    m.source, m.description,
  ]));
}

const fmtMs = (ms: number | null, budgetSec: number): string => (ms === null ? `>${budgetSec}s` : ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const fmtExecs = (x: number | null): string => (x === null ? '-' : String(Math.round(x)));

function formatMutantsReport(rows: readonly MutantRow[], scores: readonly EngineScore[], seeds: number, timeSec: number): string {
  const t = table(['mutant', 'engine', 'found', 'median time', 'median execs', 'signature'], rows.map(r => [
    r.mutant, r.engine, `${r.found}/${r.seeds}`, fmtMs(r.medianMs, timeSec), fmtExecs(r.medianExecs), r.signature ?? '-',
  ]));
  const need = Math.ceil(0.8 * seeds);
  const s = scores.map(e => `${e.engine}: mutation score ${e.found}/${e.total} (${Math.round(100 * e.score)}%), `
    + `found in >= ${need}/${seeds} seeds: ${e.robust}/${e.total}, median of medians ${fmtMs(e.medianMs, timeSec)}, `
    + `worst median ${fmtMs(e.worstMedianMs, timeSec)}`);
  return `${t}\n\n${s.join('\n')}`;
}

async function runMutants(argv: readonly string[], io: Io): Promise<number> {
  const a = parseMutantsArgs(argv);
  if (a.list) {
    if (a.json) {
      io.out(`${JSON.stringify(MUTANTS.map(m => ({ id: m.id, base: m.base, expect: m.expect, needs: m.needs ?? {}, source: m.source, description: m.description })), null, 2)}\n`);
    } else {
      io.out(`${formatCatalogue()}\n`);
    }
    return 0;
  }
  if (!a.engines.length) throw new InputError('mutants: no engine is registered');
  // Before the hunts (minutes): a --out that cannot be written is one line now, not a lost result later.
  if (a.out) checkOutputFile(a.out, `--out ${a.out}`, io.cwd);
  for (const e of a.missing) io.err(`note: engine ${e} is not registered in this build; skipped\n`);
  io.err(`INFO: tdpfuzz ${toolVersion()} mutants: ${a.ids.length} mutants × ${a.engines.join(',')} × ${a.seeds} seeds, ${a.timeSec} s per hunt\n`);
  const started = new Date();
  const results = huntMutants(a.ids, a.engines, a.seeds, a.timeSec, {
    onMutant(m, i, byEngine) {
      const parts = byEngine.map(({ engine, results: mine }) => `${engine} ${mine.filter(r => r.found).length}/${a.seeds} (median ${fmtMs(medianOf(mine.map(r => r.ms)), a.timeSec)})`);
      io.err(`[${i + 1}/${a.ids.length}] ${m.id}: ${parts.join(', ')}\n`);
    },
  });
  const { rows, scores } = summarize(results, a.ids, a.engines, a.seeds);
  const json = {
    format: MUTANTS_FORMAT, toolVersion: toolVersion(), startedAt: started.toISOString(), finishedAt: new Date().toISOString(),
    settings: { engines: a.engines, skipped: a.missing, seeds: a.seeds, timeSec: a.timeSec, geometry: 'compact', domain: 'legal', equiv: 'state' },
    scores, rows, runs: results,
  };
  if (a.out) writeFileAtomic(path.resolve(io.cwd, a.out), `${JSON.stringify(json, null, 2)}\n`);
  io.out(a.json ? `${JSON.stringify(json, null, 2)}\n` : `${formatMutantsReport(rows, scores, a.seeds, a.timeSec)}\n`);
  return 0;
}

export const mutantsCommand: Command = {
  name: 'mutants',
  summary: 'oracle power: find each seeded-bug mutant per engine; mutation score (--list: catalogue)',
  help: HELP,
  run: runMutants,
};
