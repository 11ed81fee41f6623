// `tdpfuzz bisect --series NAME|FILE`: a patch series step by step (fuzz/bisect.ts). Writes
// OUT/bisect.{md,json,junit.xml,html}, each campaign's reports under OUT/steps/ and crash files under
// --crashes (default OUT/crashes). Exit 0 when no step has an unexplained divergence, 1 otherwise,
// 2 on usage errors or a bad series.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MATRIX, runBisect, type BisectOptions } from '../fuzz/bisect';
import { ENGINES } from '../fuzz/engines/index';
import { EQUIVALENCES, type Equivalence } from '../run/compare';
import { DEFAULT_PARAMS } from '../run/campaign_params';
import { builtinSeries, builtinSeriesNames } from '../run/series_builtin';
import { parseSeries, type SeriesSpec } from '../run/series_file';
import { DOMAINS, type Domain } from '../seq/domain';
import { GEOMETRIES } from '../seq/fields';
import { GEN_PROFILES } from '../seq/profile';
import { readInputFile } from '../store/input_file';
import { displayPath } from '../store/fsutil';
import { flagHelp, flagTable, HANG_TIMEOUT_FLAG, parseFlags, splitList, UsageError, type Command, type Io } from './flags';

const BISECT_FLAGS = flagTable([
  { name: 'series', kind: { type: 'string', what: 'a built-in series name or a tdpfuzz-series/1 file' }, metavar: 'NAME|FILE', help: 'the series: a built-in name or a tdpfuzz-series/1 file (required)' },
  { name: 'seed', kind: { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, metavar: 'N', help: 'campaign seed, the same for every step and mode (default 1)' },
  { name: 'runs', kind: { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, metavar: 'N', help: 'sequences per step and mode' },
  { name: 'time', kind: { type: 'number', min: 0, max: 1e9, minExclusive: true }, metavar: 'S', help: 'time budget per step and mode in seconds (default 60 when --runs is not given)' },
  { name: 'equiv', kind: { type: 'string', what: 'a comma-separated list of equivalences' }, metavar: 'E,E', help: 'equivalences of the matrix (default state,strict)' },
  { name: 'domain', kind: { type: 'string', what: 'a comma-separated list of domains' }, metavar: 'D,D', help: 'domains of the matrix (default legal,extended)' },
  { name: 'geometry', kind: { type: 'enum', values: GEOMETRIES }, metavar: 'G', help: 'compact (default) or x86' },
  { name: 'huge-pages', kind: { type: 'bool' }, help: 'model TDX huge pages' },
  { name: 'dpamt', kind: { type: 'bool' }, help: 'model Dynamic PAMT' },
  { name: 'profile', kind: { type: 'enum', values: GEN_PROFILES }, metavar: 'P', help: 'generator profile, as for run (default mirror on x86, uniform on compact)' },
  { name: 'engine', kind: { type: 'string', what: 'an engine name' }, metavar: 'E', help: 'random (default), guided, jsfuzz: as for run' },
  { name: 'workers', kind: { type: 'int', min: 1, max: 256 }, metavar: 'N', help: 'worker threads per campaign (default: in-process)' },
  { name: 'out', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'bisect.{md,json,junit.xml,html} and per-step reports (default out)' },
  { name: 'crashes', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'crash files, one store per step and mode (default OUT/crashes)' },
  { name: 'minimize-runs', kind: { type: 'int', min: 1, max: 10_000_000 }, metavar: 'N', help: 'minimize each new finding with at most N predicate runs (default 2000)' },
  { name: 'minimize-time', kind: { type: 'number', min: 0, max: 1e6, minExclusive: true }, metavar: 'S', help: 'time safety net per minimization in seconds (default 10)' },
  { name: 'no-minimize', kind: { type: 'bool' }, default: false, help: 'store new findings unminimized' },
  HANG_TIMEOUT_FLAG,
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

const BISECT_HELP = `usage: tdpfuzz bisect --series NAME|FILE [flags]

Runs each adjacent pair of a series (base vs step 1, step 1 vs step 2, ...) as
one campaign per mode (default {state, strict} x {legal, extended}), with the
same seed, engine and budget. Only the differences a step declares may explain a
divergence between it and the step before. Per step: pure refactor (verified),
behaviour change matched by declared differences, declared but not seen (a
warning), or unexplained divergence (with its minimized first-divergence
reproducer and crash file); the first diverging step is named. Writes
OUT/bisect.md, bisect.json, bisect.junit.xml (one testcase per step),
bisect.html. Exit 0 when no step diverges unexplained, 1 otherwise, 2 on usage
errors or a bad series.

flags:
${flagHelp(BISECT_FLAGS)}

example: tdpfuzz bisect --series examples/series.json --runs 500 --out out/mine`;

function listOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[], dflt: readonly T[]): T[] {
  if (v === undefined) return [...dflt];
  return splitList(flag, v).map((x) => {
    if (!(allowed as readonly string[]).includes(x)) throw new UsageError(`${flag}: unknown value ${JSON.stringify(x)} (allowed: ${allowed.join(', ')})`);
    return x as T;
  });
}

/**
 * --series: a file when it names a regular file (or looks like a path), else a built-in name — a
 * directory that happens to be called `v3` (e.g. an earlier `--out v3`) does not hide the series.
 */
function loadSeries(v: string, cwd: string): SeriesSpec {
  const abs = path.resolve(cwd, v);
  const isFileLike = (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) || v.includes('/') || v.endsWith('.json');
  if (!isFileLike) {
    const s = builtinSeries(v);
    if (s) return s;
    const names = builtinSeriesNames();
    throw new UsageError(`--series: unknown series ${JSON.stringify(v)} (built-in: ${names.length ? names.join(', ') : 'none yet'}; or a path to a tdpfuzz-series/1 file)`);
  }
  const shown = displayPath(abs, cwd);
  if (!fs.existsSync(abs)) throw new UsageError(`--series: ${v}: no such file`);
  return parseSeries(readInputFile(abs, shown).toString('utf8'), shown, abs);
}

function parseBisectArgs(argv: readonly string[], cwd: string): BisectOptions | null {
  const { flags, given, positional } = parseFlags('bisect', BISECT_FLAGS, argv);
  if (flags.help) return null;
  if (positional.length) throw new UsageError(`bisect: unexpected argument ${JSON.stringify(positional[0])} (bisect takes only flags; see tdpfuzz bisect --help)`);
  if (flags.series === undefined) throw new UsageError('--series: missing (a built-in series name or a tdpfuzz-series/1 file)');
  for (const f of ['minimize-runs', 'minimize-time'] as const) {
    if (given.has(f) && flags['no-minimize']) throw new UsageError(`--no-minimize: cannot be combined with --${f}`);
  }
  if (flags.engine !== undefined && !ENGINES.has(flags.engine)) {
    throw new UsageError(`--engine: unknown engine ${JSON.stringify(flags.engine)} (known: ${[...ENGINES.keys()].join(', ')})`);
  }
  const equivs = listOf<Equivalence>('--equiv', flags.equiv, EQUIVALENCES, ['state', 'strict']);
  const domains = listOf<Domain>('--domain', flags.domain, DOMAINS, ['legal', 'extended']);
  const matrix = DEFAULT_MATRIX.filter(m => equivs.includes(m.equiv) && domains.includes(m.domain));
  for (const e of equivs) for (const d of domains) if (!matrix.some(m => m.equiv === e && m.domain === d)) matrix.push({ equiv: e, domain: d });
  const out = flags.out ?? DEFAULT_PARAMS.out!;
  const dflt = DEFAULT_PARAMS.minimize!;
  const runs = flags.runs ?? null;
  return {
    series: loadSeries(flags.series, cwd),
    seed: flags.seed ?? 1,
    runs,
    timeSec: flags.time ?? (runs === null ? 60 : null),
    engine: flags.engine ?? DEFAULT_PARAMS.engine,
    workers: flags.workers ?? null,
    config: { geometry: flags.geometry, hugePages: flags['huge-pages'], ...(flags.dpamt ? { dpamt: true } : {}) },
    ...(flags.profile ? { profile: flags.profile } : {}),
    matrix,
    out,
    crashes: flags.crashes ?? path.join(out, 'crashes'),
    minimize: flags['no-minimize'] ? null : { maxRuns: flags['minimize-runs'] ?? dflt.maxRuns, timeMs: (flags['minimize-time'] ?? dflt.timeMs / 1000) * 1000 },
    hangTimeoutSec: flags['hang-timeout'],
    cwd,
  };
}

export const bisectCommand: Command = {
  name: 'bisect',
  summary: 'run a patch series step by step and name the first step that diverges (tdpfuzz bisect --help)',
  help: BISECT_HELP,
  async run(argv, io: Io) {
    const o = parseBisectArgs(argv, io.cwd);
    if (!o) { io.out(`${BISECT_HELP}\n`); return 0; }
    const r = await runBisect({ ...o, onLine: line => io.err(`${line}\n`) });
    for (const s of r.data.steps) io.out(`step ${s.index} ${s.id}: ${s.line}\n`);
    for (const s of r.data.steps) if (s.notSeen.length) io.err(`WARNING: step ${s.index} ${s.id} declares ${s.notSeen.join(', ')}, never seen (${s.sequences} sequences)\n`);
    io.out(`report: ${displayPath(r.paths.markdown, io.cwd)} (also bisect.json, bisect.junit.xml, bisect.html)\n`);
    io.out(`${r.data.verdict.line}\n`);
    return r.exitCode;
  },
};
