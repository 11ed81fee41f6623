#!/usr/bin/env node
// The tdpfuzz command line (DESIGN §6, libFuzzer/AFL++ vocabulary where users know it):
//   tdpfuzz run     a campaign: writes out/report.{md,json,junit.xml}, out/stats.json, crashes/*.json
//   tdpfuzz replay  sequence files, crash files or directories of them (regression mode)
// Exit codes: 0 nothing found, 1 an unexplained finding (run) / a finding reproduced (replay),
// 2 usage or input error (one line, no stack trace; TDPFUZZ_DEBUG=1 shows the stack).
import type { CampaignParams } from '../run/campaign_params';
import * as path from 'node:path';
import type { VmConfig } from '../../impls/api';
import { startCampaign, formatStatus, type CampaignEvent, type CampaignStatus } from '../fuzz/campaign';
import { EQUIVALENCES, type Equivalence } from '../run/compare';
import { CRASH_FORMAT } from '../store/crash_store';
import { loadDesigns, splitDesignSpec } from '../run/designs';
import { campaignMinimizer } from '../run/minimize';
import { RESUME_CONFLICTS, resumeRunArgs, startWorkers, workersOptionsFromArgs } from '../fuzz/workers';
import { acceptedSignatures, expandInputs, expectationMismatch, loadInputFile, type InputFile } from '../store/inputs';
import { displayPath, toolVersion } from '../store/fsutil';
import { DEFAULT_FAULT_RATE, DEFAULT_MAX_OPS, DEFAULT_RACE_RATE } from '../seq/generate';
import { DOMAINS, type Domain } from '../seq/domain';
import { ENGINES } from '../fuzz/engines/index';
import { designsPhrase } from '../report/data';
import { runSequence } from '../run/runner';
import { InputError, MAX_VCPUS, SEQUENCE_FORMAT } from '../seq/sequence';
import { formatTrace, traceSequence } from '../run/trace';
import { COMMANDS, type Command } from './commands';
import './commands_all';

/** A command-line mistake: one line naming the flag and what is wrong. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// ------------------------------------------------------------------------------------------------
// Flags

type FlagKind =
  | { type: 'string'; what: string }
  | { type: 'bool' }
  | { type: 'int'; min: number; max: number }
  | { type: 'number'; min: number; max: number; minExclusive?: boolean }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'shard' };

interface FlagSpec { name: string; kind: FlagKind; help: string; metavar?: string }

const GEOMETRIES: readonly VmConfig['geometry'][] = ['compact', 'x86'];

const RUN_FLAGS: FlagSpec[] = [
  { name: 'designs', kind: { type: 'string', what: 'a comma-separated list of design names or module paths' }, metavar: 'A,B', help: 'designs to compare; names (before, after) or paths to modules exporting a design (default before,after)' },
  { name: 'seed', kind: { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, metavar: 'N', help: 'campaign seed: sequence i is generated from (seed, i) (default 1)' },
  { name: 'time', kind: { type: 'number', min: 0, max: 1e9, minExclusive: true }, metavar: 'S', help: 'time budget in seconds (default 60 when --runs is not given)' },
  { name: 'runs', kind: { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, metavar: 'N', help: 'number of sequences to execute, corpus included' },
  { name: 'equiv', kind: { type: 'enum', values: EQUIVALENCES }, metavar: 'E', help: 'equivalence: state (default), strict, final' },
  { name: 'domain', kind: { type: 'enum', values: DOMAINS }, metavar: 'D', help: 'legal (default): only what the kernel can issue; extended: also misuse' },
  { name: 'geometry', kind: { type: 'enum', values: GEOMETRIES }, metavar: 'G', help: 'compact (default, 8 entries per table) or x86 (512)' },
  { name: 'huge-pages', kind: { type: 'bool' }, help: 'model TDX huge pages (2M private leaves, DEMOTE)' },
  { name: 'prove-mmu', kind: { type: 'bool' }, help: 'model CONFIG_KVM_PROVE_MMU (root zaps recurse through handle_removed_pt)' },
  { name: 'vcpus', kind: { type: 'int', min: 1, max: MAX_VCPUS }, metavar: 'N', help: 'vCPUs per VM (default 2)' },
  { name: 'fault-rate', kind: { type: 'number', min: 0, max: 1 }, metavar: 'F', help: `probability of a fault-plan entry per op (default ${DEFAULT_FAULT_RATE})` },
  { name: 'race-rate', kind: { type: 'number', min: 0, max: 1 }, metavar: 'F', help: `probability of a race per op (default ${DEFAULT_RACE_RATE})` },
  { name: 'max-ops', kind: { type: 'int', min: 1, max: 100_000 }, metavar: 'N', help: `longest generated sequence (default ${DEFAULT_MAX_OPS})` },
  { name: 'shard', kind: { type: 'shard' }, metavar: 'I/N', help: 'run only sequences i ≡ I (mod N), for N machines' },
  { name: 'engine', kind: { type: 'string', what: 'an engine name' }, metavar: 'E', help: 'where sequences come from: random (default; sequence i is a function of (seed, i)), guided (mutates kept sequences that reached new model coverage), jsfuzz' },
  { name: 'corpus-out', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: "where coverage-guided engines write the sequences they keep (default OUT/corpus; this is the run's own corpus, not the curated corpus/ of named scenarios that --corpus reads)" },
  { name: 'workers', kind: { type: 'int', min: 1, max: 256 }, metavar: 'N', help: 'worker threads (default 1); the random engine splits its sequences among them, others use seeds SEED/wK' },
  { name: 'resume', kind: { type: 'string', what: 'an output directory' }, metavar: 'OUT', help: 'continue the run whose output is OUT (random engine) at the next index in OUT/stats.json, with its configuration' },
  { name: 'out', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'reports and stats.json (default out)' },
  { name: 'crashes', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'crash files, one per finding signature (default crashes)' },
  { name: 'corpus', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'sequence files run before generated ones (default corpus, if it exists)' },
  { name: 'no-corpus', kind: { type: 'bool' }, help: 'do not run the corpus directory' },
  { name: 'minimize-runs', kind: { type: 'int', min: 1, max: 10_000_000 }, metavar: 'N', help: 'minimize each new finding with at most N predicate runs (default 2000; deterministic)' },
  { name: 'minimize-time', kind: { type: 'number', min: 0, max: 1e6, minExclusive: true }, metavar: 'S', help: 'time safety net per minimization in seconds (default 10)' },
  { name: 'no-minimize', kind: { type: 'bool' }, help: 'store new findings unminimized' },
  { name: 'help', kind: { type: 'bool' }, help: 'show this help' },
];

const REPLAY_FLAGS: FlagSpec[] = [
  { name: 'designs', kind: { type: 'string', what: 'a comma-separated list of design names or module paths' }, metavar: 'A,B', help: 'designs (default: recorded in crash files; before,after for sequence files)' },
  { name: 'equiv', kind: { type: 'enum', values: EQUIVALENCES }, metavar: 'E', help: 'equivalence (default: recorded; state for sequence files)' },
  { name: 'domain', kind: { type: 'enum', values: DOMAINS }, metavar: 'D', help: 'domain (default: recorded; legal for sequence files)' },
  { name: 'trace', kind: { type: 'bool' }, help: "print every op with each design's result, SEAMCALLs and diagnostics side by side" },
  { name: 'help', kind: { type: 'bool' }, help: 'show this help' },
];

function describeKind(k: FlagKind): string {
  switch (k.type) {
    case 'string': return k.what;
    case 'bool': return 'no value';
    case 'int': return k.min === 0 && k.max >= Number.MAX_SAFE_INTEGER ? 'a non-negative integer' : `an integer in ${k.min}..${k.max}`;
    case 'number': return k.minExclusive ? `a number > ${k.min}` : `a number in [${k.min}, ${k.max}]`;
    case 'enum': return `one of ${k.values.join(', ')}`;
    case 'shard': return 'I/N with 0 <= I < N';
  }
}

type FlagValue = string | number | boolean | { index: number; count: number };

function convert(spec: FlagSpec, raw: string): FlagValue {
  const flag = `--${spec.name}`;
  const k = spec.kind;
  const bad = (why: string): never => { throw new UsageError(`${flag}: ${why}`); };
  switch (k.type) {
    case 'string':
      if (raw === '') bad(`empty value (expected ${k.what})`);
      return raw;
    case 'bool':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return bad(`takes no value (got ${JSON.stringify(raw)})`);
    case 'int': {
      if (!/^-?\d+$/.test(raw)) bad(`expected ${describeKind(k)}, got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < k.min || n > k.max) bad(`${raw} is out of range (expected ${describeKind(k)})`);
      return n;
    }
    case 'number': {
      const n = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) bad(`expected ${describeKind(k)}, got ${JSON.stringify(raw)}`);
      if (n < k.min || n > k.max || (k.minExclusive && n === k.min)) bad(`${raw} is out of range (expected ${describeKind(k)})`);
      return n;
    }
    case 'enum':
      if (!k.values.includes(raw)) bad(`unknown value ${JSON.stringify(raw)} (expected ${describeKind(k)})`);
      return raw;
    case 'shard': {
      const m = /^(\d+)\/(\d+)$/.exec(raw);
      if (!m) bad(`expected ${describeKind(k)}, e.g. 0/4, got ${JSON.stringify(raw)}`);
      const index = Number(m![1]), count = Number(m![2]);
      if (count < 1 || index >= count) bad(`${raw} is out of range (expected ${describeKind(k)})`);
      return { index, count };
    }
  }
}

/** Strict flag parser: --flag value and --flag=value; unknown, repeated or value-less flags are errors. */
export function parseFlags(command: string, specs: readonly FlagSpec[], argv: readonly string[]): { flags: Map<string, FlagValue>; positional: string[] } {
  const flags = new Map<string, FlagValue>();
  const positional: string[] = [];
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositional || !arg.startsWith('-') || arg === '-') { positional.push(arg); continue; }
    if (arg === '--') { onlyPositional = true; continue; }
    if (arg === '-h') { flags.set('help', true); continue; }
    if (!arg.startsWith('--')) throw new UsageError(`${arg}: unknown option for "${command}" (flags are long: --name value; see tdpfuzz ${command} --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find(s => s.name === name);
    if (!spec) throw new UsageError(`--${name}: unknown flag for "${command}" (see tdpfuzz ${command} --help)`);
    if (flags.has(name)) throw new UsageError(`--${name}: given more than once`);
    let raw: string;
    if (eq >= 0) {
      raw = arg.slice(eq + 1);
    } else if (spec.kind.type === 'bool') {
      raw = 'true';
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name}: missing value (expected ${describeKind(spec.kind)})`);
      raw = next;
      i++;
    }
    flags.set(name, convert(spec, raw));
  }
  return { flags, positional };
}

export interface RunArgs extends CampaignParams {
  designs: string;
  seed: number;
  time: number | null;
  runs: number | null;
  shard: { index: number; count: number } | null;
  out: string;
  crashes: string;
  /** undefined: "corpus" when it exists; null: none */
  corpus: string | null | undefined;
  /** predicate runs per new finding's minimization; null: no minimization */
  minimizeRuns: number | null;
  minimizeTimeSec: number;
  /** --workers (null: not given, 1 worker unless resuming) */
  workers: number | null;
  /** --resume OUT */
  resume: string | null;
  /** --engine: a name in ENGINES (default random) */
  engine: string;
  /** --corpus-out DIR; null: OUT/corpus */
  corpusOut: string | null;
}

export interface ReplayArgs {
  files: string[];
  designs: string | null;
  equiv: Equivalence | null;
  domain: Domain | null;
  trace: boolean;
}

export type ParsedArgs =
  | { command: 'help'; text: string }
  | { command: 'version' }
  | { command: 'run'; args: RunArgs }
  | { command: 'replay'; args: ReplayArgs }
  | { command: 'command'; cmd: Command; argv: readonly string[] };

function flagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map(s => [`--${s.name}${s.metavar ? ` ${s.metavar}` : ''}`, s.help]);
  const w = Math.max(...rows.map(r => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join('\n');
}

export const mainHelp = (): string => `tdpfuzz ${toolVersion()}: differential fuzzing of the KVM TDP MMU mirror/S-EPT refactor (before vs after)

usage: tdpfuzz <command> [flags]

commands:
  run      run a campaign and write reports (tdpfuzz run --help)
  replay   replay sequence files, crash files or directories of them (tdpfuzz replay --help)
${[...COMMANDS.values()].map(c => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}

exit codes: 0 nothing found, 1 unexplained finding / finding reproduced, 2 usage or input error
set TDPFUZZ_DEBUG=1 to see stack traces of internal errors.`;

export const RUN_HELP = `usage: tdpfuzz run [flags]

Runs corpus sequences, then generated sequences (seed, 0), (seed, 1), ... through all designs in
lockstep until the budget is spent or SIGINT/SIGTERM (the current sequence finishes, everything is
written). Writes OUT/report.md, OUT/report.json, OUT/report.junit.xml, OUT/report.html, OUT/stats.json and one crash
file per finding signature, its reproducer minimized when it is first seen (at most --minimize-runs
predicate runs per finding, so fuzzing is not starved). Exit 0 when no unexplained finding, 1
otherwise, 2 on usage errors.

flags:
${flagHelp(RUN_FLAGS)}

example: tdpfuzz run --designs before,after --seed 7 --runs 100000 --huge-pages
         tdpfuzz run --engine guided --time 600 --out out   (kept sequences in out/corpus/)`;

export const REPLAY_HELP = `usage: tdpfuzz replay [flags] FILE|DIR...

Replays sequence files (${SEQUENCE_FORMAT}) and crash files (${CRASH_FORMAT}); a directory means
its *.json files. Crash files replay with the designs, equivalence and domain they record and
report whether their recorded signature reproduced. A sequence file with meta.expect.explained (the
corpus scenarios) must show exactly those by-design differences when replayed as before,after in the
state equivalence and the legal domain. Exit 0 when nothing is found (crash files marked "expected"
or "explained" that reproduce count as XFAIL, not as failures), 1 when a finding reproduces, 2 on
bad input.

flags:
${flagHelp(REPLAY_FLAGS)}

example: tdpfuzz replay crashes/            (regression mode)`;

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command (expected run or replay; see tdpfuzz --help)');
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = rest[0];
    if (topic === 'run') return { command: 'help', text: RUN_HELP };
    if (topic === 'replay') return { command: 'help', text: REPLAY_HELP };
    if (topic !== undefined && COMMANDS.has(topic)) return { command: 'help', text: COMMANDS.get(topic)!.help };
    if (topic !== undefined) throw new UsageError(`help: unknown command ${JSON.stringify(topic)} (expected ${['run', 'replay', ...COMMANDS.keys()].join(', ')})`);
    return { command: 'help', text: mainHelp() };
  }
  if (command === '--version' || command === 'version') return { command: 'version' };
  if (command === 'run') {
    const { flags, positional } = parseFlags('run', RUN_FLAGS, rest);
    if (flags.get('help')) return { command: 'help', text: RUN_HELP };
    if (positional.length) throw new UsageError(`run: unexpected argument ${JSON.stringify(positional[0])} (run takes only flags; see tdpfuzz run --help)`);
    if (flags.has('corpus') && flags.get('no-corpus')) throw new UsageError('--no-corpus: cannot be combined with --corpus');
    if (flags.has('resume')) {
      for (const f of RESUME_CONFLICTS) if (flags.has(f)) throw new UsageError(`--${f}: cannot be combined with --resume (the configuration is taken from ${flags.get('resume')}/stats.json)`);
      if (flags.has('out') && flags.get('out') !== flags.get('resume')) throw new UsageError('--out: cannot differ from --resume (a resumed run writes into the directory it continues)');
    }
    for (const f of ['minimize-runs', 'minimize-time']) {
      if (flags.has(f) && flags.get('no-minimize')) throw new UsageError(`--no-minimize: cannot be combined with --${f}`);
    }
    if (flags.has('engine') && !ENGINES.has(flags.get('engine') as string)) {
      throw new UsageError(`--engine: unknown engine ${JSON.stringify(flags.get('engine'))} (known: ${[...ENGINES.keys()].join(', ')})`);
    }
    const time = (flags.get('time') as number | undefined) ?? null;
    const runs = (flags.get('runs') as number | undefined) ?? null;
    return {
      command: 'run',
      args: {
        designs: (flags.get('designs') as string | undefined) ?? 'before,after',
        seed: (flags.get('seed') as number | undefined) ?? 1,
        time: time === null && runs === null ? 60 : time,
        runs,
        equiv: (flags.get('equiv') as Equivalence | undefined) ?? 'state',
        domain: (flags.get('domain') as Domain | undefined) ?? 'legal',
        config: {
          geometry: (flags.get('geometry') as VmConfig['geometry'] | undefined) ?? 'compact',
          hugePages: (flags.get('huge-pages') as boolean | undefined) ?? false,
          ...((flags.get('prove-mmu') as boolean | undefined) ? { proveMmu: true } : {}),
          vcpus: (flags.get('vcpus') as number | undefined) ?? 2,
        },
        faultRate: (flags.get('fault-rate') as number | undefined) ?? DEFAULT_FAULT_RATE,
        raceRate: (flags.get('race-rate') as number | undefined) ?? DEFAULT_RACE_RATE,
        maxOps: (flags.get('max-ops') as number | undefined) ?? DEFAULT_MAX_OPS,
        shard: (flags.get('shard') as { index: number; count: number } | undefined) ?? null,
        out: (flags.get('out') as string | undefined) ?? 'out',
        crashes: (flags.get('crashes') as string | undefined) ?? 'crashes',
        corpus: flags.get('no-corpus') ? null : (flags.get('corpus') as string | undefined),
        minimizeRuns: flags.get('no-minimize') ? null : (flags.get('minimize-runs') as number | undefined) ?? 2000,
        minimizeTimeSec: (flags.get('minimize-time') as number | undefined) ?? 10,
        workers: (flags.get('workers') as number | undefined) ?? null,
        resume: (flags.get('resume') as string | undefined) ?? null,
        engine: (flags.get('engine') as string | undefined) ?? 'random',
        corpusOut: (flags.get('corpus-out') as string | undefined) ?? null,
      },
    };
  }
  if (command === 'replay') {
    const { flags, positional } = parseFlags('replay', REPLAY_FLAGS, rest);
    if (flags.get('help')) return { command: 'help', text: REPLAY_HELP };
    if (positional.length === 0) throw new UsageError('replay: missing FILE (a sequence file, a crash file or a directory of them)');
    return {
      command: 'replay',
      args: {
        files: positional,
        designs: (flags.get('designs') as string | undefined) ?? null,
        equiv: (flags.get('equiv') as Equivalence | undefined) ?? null,
        domain: (flags.get('domain') as Domain | undefined) ?? null,
        trace: (flags.get('trace') as boolean | undefined) ?? false,
      },
    };
  }
  const cmd = COMMANDS.get(command);
  if (cmd) {
    if (rest.includes('--help') || rest.includes('-h')) return { command: 'help', text: cmd.help };
    return { command: 'command', cmd, argv: rest };
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)} (expected ${['run', 'replay', ...COMMANDS.keys()].join(', ')}; see tdpfuzz --help)`);
}

// ------------------------------------------------------------------------------------------------
// Commands

export interface Io {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  /** stderr is a terminal: a single updating status line */
  isTTY: boolean;
  env: Record<string, string | undefined>;
}

const processIo = (): Io => ({
  out: t => process.stdout.write(t),
  err: t => process.stderr.write(t),
  cwd: process.cwd(),
  isTTY: !!process.stderr.isTTY,
  env: process.env,
});

async function cmdRun(args: RunArgs, io: Io): Promise<number> {
  // --resume OUT: the configuration recorded in OUT; --workers N, --resume and the jsfuzz engine
  // (istanbul needs a fresh module registry) run the campaign in worker threads (harness/workers.ts).
  const resumed = args.resume !== null ? resumeRunArgs(args, io.cwd) : null;
  const a = resumed?.args ?? args;
  const engineName = a.engine;
  const viaWorkers = (a.workers ?? 1) > 1 || resumed !== null || engineName === 'jsfuzz';
  const specs = splitDesignSpec(a.designs);
  const designs = loadDesigns(a.designs, io.cwd);
  const budget = [a.runs !== null ? `${a.runs} runs` : '', a.time !== null ? `${a.time} s` : ''].filter(Boolean).join(', ');
  io.err(`INFO: tdpfuzz ${toolVersion()} run: seed ${a.seed}${a.shard ? ` shard ${a.shard.index}/${a.shard.count}` : ''}, `
    + `designs ${designsPhrase(designs.map(d => d.name))}, ${a.equiv} equivalence, ${a.domain} domain, ${a.config.geometry} geometry`
    + `${a.config.hugePages ? ', huge pages' : ''}, budget ${budget}`
    + `${viaWorkers ? `, ${a.workers ?? 1} worker thread${(a.workers ?? 1) === 1 ? '' : 's'}` : ''}`
    + `${resumed ? `, resuming ${a.resume} at ${resumed.state.stats.generated} generated` : ''}\n`);

  let statusShown = false;
  const clearStatus = (): void => {
    if (io.isTTY && statusShown) { io.err('\r\x1b[K'); statusShown = false; }
  };
  const onStatus = (s: CampaignStatus): void => {
    if (s.execs === 0 && !s.done) return;
    if (io.isTTY) {
      io.err(`\r\x1b[K${formatStatus(s)}`);
      statusShown = true;
      if (s.done) { io.err('\n'); statusShown = false; }
    } else {
      io.err(`${formatStatus(s)}\n`);
    }
  };

  const statusIntervalMs = io.isTTY ? 250 : 5000;
  const onEvent = (e: CampaignEvent): void => {
    clearStatus();
    if (e.type === 'new-finding') {
      io.err(`#${e.execs} NEW ${e.signature}${e.crashFile ? ` -> ${e.crashFile}` : ''}${e.status !== 'open' ? ` [${e.status}]` : ''}\n`);
    } else {
      io.err(`WARNING: ${e.message}\n`);
    }
  };

  const handle = viaWorkers
    ? startWorkers(workersOptionsFromArgs(a, io.cwd, engineName, resumed?.state ?? null, { onStatus, statusIntervalMs, onEvent }))
    : startCampaign({
      designs, designSpecs: specs, seed: a.seed, runs: a.runs ?? undefined, timeSec: a.time ?? undefined,
      equiv: a.equiv, domain: a.domain, config: a.config, faultRate: a.faultRate, raceRate: a.raceRate, maxOps: a.maxOps,
      shard: a.shard ?? undefined, cwd: io.cwd, outDir: a.out, crashDir: a.crashes, corpusDir: a.corpus,
      ...(engineName !== 'random' ? { engine: ENGINES.get(engineName)!({
        seed: a.seed, shard: a.shard, designs, equiv: a.equiv, domain: a.domain,
        gen: { config: a.config, domain: a.domain, faultRate: a.faultRate, raceRate: a.raceRate, maxOps: a.maxOps },
        corpusOut: path.resolve(io.cwd, a.corpusOut ?? path.join(a.out, 'corpus')),
      }) } : {}),
      ...(a.minimizeRuns !== null ? { minimize: campaignMinimizer({ maxRuns: a.minimizeRuns }), minimizeTimeMs: a.minimizeTimeSec * 1000 } : {}),
      onStatus, statusIntervalMs,
      onEvent,
    });

  // SIGINT/SIGTERM: finish the current sequence and write everything; a second signal exits at once.
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      clearStatus();
      io.err(`${sig} again: exiting without writing the report\n`);
      process.exit(130);
    }
    clearStatus();
    io.err(`${sig}: stopping after the current sequence (send it again to exit at once)\n`);
    handle.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await handle.done;
    clearStatus();
    if (result.reportPaths) io.out(`report: ${displayPath(result.reportPaths.markdown, io.cwd)} (also report.json, report.junit.xml, report.html)\n`);
    io.out(`${result.report.verdict.line}\n`);
    return result.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function cmdReplay(a: ReplayArgs, io: Io): Promise<number> {
  const files = expandInputs(a.files, io.cwd);
  if (files.length === 0) throw new InputError(`${a.files.join(' ')}: no .json files to replay`);
  // Validate everything first: a typo in one file should not cost a long replay of the others.
  const items: InputFile[] = [];
  const errors: string[] = [];
  for (const f of files) {
    try {
      items.push(loadInputFile(f, io.cwd));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push(e.message);
    }
  }
  if (errors.length) {
    for (const e of errors) io.err(`tdpfuzz: ${e}\n`);
    return 2;
  }
  const flagDesigns = a.designs !== null ? loadDesigns(a.designs, io.cwd) : null;
  let pass = 0, fail = 0, xfail = 0;
  // Regression mode: a reproducer may also show a sibling finding that has its own accepted crash file
  // (replayed too, or in the same directory); that is known behaviour, not a new finding.
  const acceptedSigs = acceptedSignatures(items.map(it => it.crash), files.filter((_, k) => items[k].crash));
  for (const it of items) {
    const designs = flagDesigns ?? loadDesigns((it.crash?.designs ?? ['before', 'after']).join(','), io.cwd, it.crash ? `${it.shown}: designs` : '--designs');
    const equiv = a.equiv ?? it.crash?.equiv ?? 'state';
    const domain = a.domain ?? it.crash?.domain ?? 'legal';
    const r = runSequence(it.seq, { designs, equiv, domain });
    const explained = [...new Set(r.explained.map(x => x.explained!.id))];
    const exNote = explained.length ? `, explained: ${explained.join(', ')}` : '';
    const opsNote = `${it.seq.ops.length} ops${r.teardownAppended ? ' + teardown' : ''}`;
    let line: string;
    let failed = r.findings.length > 0;
    if (it.crash) {
      const recorded = r.findings.some(f => f.signature === it.crash!.signature);
      const others = r.findings.filter(f => f.signature !== it.crash!.signature && !acceptedSigs.has(f.signature)).length;
      const accepted = it.crash.status !== 'open';
      if (recorded && accepted && others === 0) {
        line = `XFAIL ${it.shown} [${it.crash.status}]: recorded signature reproduced (${opsNote}${exNote})`;
        failed = false;
        xfail++;
      } else if (recorded) {
        line = `FAIL ${it.shown}: recorded signature reproduced${others ? ` (+${others} other finding${others > 1 ? 's' : ''})` : ''} (${opsNote}${exNote})`;
      } else if (failed) {
        line = `FAIL ${it.shown}: recorded signature NOT reproduced; ${r.findings.length} other finding${r.findings.length > 1 ? 's' : ''} (${opsNote}${exNote})`;
      } else {
        line = `PASS ${it.shown}: recorded signature no longer reproduces (${opsNote}${exNote})`;
      }
    } else {
      // A corpus scenario's meta.expect.explained: the by-design differences it must show.
      const mismatch = expectationMismatch(it.seq, it.shown, r, { designs, equiv, domain });
      if (mismatch) failed = true;
      line = `${failed ? 'FAIL' : 'PASS'} ${it.shown}${mismatch ? `: ${mismatch}` : ''} (${opsNote}${exNote})`;
    }
    if (failed) fail++; else if (!line.startsWith('XFAIL')) pass++;
    io.out(`${line}\n`);
    for (const f of r.findings) io.out(`     ${f.signature}: ${f.message}\n`);
    if (a.trace) io.out(`\n${formatTrace(traceSequence(it.seq, designs))}\n`);
  }
  io.out(`replayed ${items.length} file${items.length === 1 ? '' : 's'}: ${pass} pass, ${fail} fail${xfail ? `, ${xfail} xfail` : ''}\n`);
  return fail ? 1 : 0;
}

/** Run the CLI; returns the exit code (never throws). */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  try {
    const p = parseArgs(argv);
    switch (p.command) {
      case 'help': io.out(`${p.text}\n`); return 0;
      case 'version': io.out(`${toolVersion()}\n`); return 0;
      case 'run': return await cmdRun(p.args, io);
      case 'replay': return await cmdReplay(p.args, io);
      case 'command': return await p.cmd.run(p.argv, io);
    }
  } catch (e) {
    if (e instanceof InputError) {
      io.err(`tdpfuzz: ${e.message}\n`);
    } else {
      const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      io.err(`tdpfuzz: internal error: ${msg}${io.env.TDPFUZZ_DEBUG ? '' : ' (set TDPFUZZ_DEBUG=1 for the stack)'}\n`);
    }
    if (io.env.TDPFUZZ_DEBUG && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return 2;
  }
}

if (require.main === module) {
  // `tdpfuzz replay --trace ... | head`: a closed pipe is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  }
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, () => { process.exitCode = 2; });
}
