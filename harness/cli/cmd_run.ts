// `tdpfuzz run`: a campaign (docs/DESIGN.md §6): corpus sequences, then generated ones, through all designs
// in lockstep; writes OUT/report.{md,json,junit.xml,html}, OUT/stats.json and OUT/crashes/*.json.
// Exit 0 when no unexplained finding, 1 otherwise, 2 on usage errors, 130 after SIGINT.
import * as os from 'node:os';
import * as path from 'node:path';
import { campaignOptionsOf, startCampaign, type CampaignEvent, type CampaignStatus } from '../fuzz/campaign';
import { formatStatus } from '../fuzz/status_line';
import { EQUIVALENCES } from '../run/compare';
import { DEFAULT_PARAMS, generatorOptions, runParams, type RunParams } from '../run/campaign_params';
import { loadDesigns, splitDesignSpec } from '../run/designs';
import { RESUME_CONFLICTS, resumeRunParams, startWorkers } from '../fuzz/workers';
import { displayPath, removeStaleTemps, toolVersion } from '../store/fsutil';
import { DOMAINS } from '../seq/domain';
import { GEOMETRIES } from '../seq/fields';
import { GEN_PROFILES } from '../seq/profile';
import { ENGINES } from '../fuzz/engines/index';
import { preflight } from '../fuzz/preflight';
import { designsPhrase } from '../report/data';
import { MAX_VCPUS } from '../seq/sequence';
import { flagHelp, flagTable, HANG_TIMEOUT_FLAG, parseFlags, UsageError, type Command, type Io } from './flags';


const RUN_FLAGS = flagTable([
  { name: 'designs', kind: { type: 'string', what: 'a comma-separated list of design names or module paths' }, metavar: 'A,B', help: 'designs to compare; names (before, after) or paths to modules exporting a design (default before,after)' },
  { name: 'seed', kind: { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, metavar: 'N', help: 'campaign seed: sequence i is generated from (seed, i) (default 1)' },
  { name: 'time', kind: { type: 'number', min: 0, max: 1e9, minExclusive: true }, metavar: 'S', help: 'time budget in seconds (default 60 when --runs is not given)' },
  { name: 'runs', kind: { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER }, metavar: 'N', help: 'number of sequences to execute, corpus included' },
  { name: 'equiv', kind: { type: 'enum', values: EQUIVALENCES }, metavar: 'E', help: 'equivalence: state (default), strict, final' },
  { name: 'domain', kind: { type: 'enum', values: DOMAINS }, metavar: 'D', help: 'legal (default): only what the kernel can issue; extended: also misuse' },
  { name: 'geometry', kind: { type: 'enum', values: GEOMETRIES }, metavar: 'G', help: 'compact (default, 8 entries per table) or x86 (512)' },
  { name: 'huge-pages', kind: { type: 'bool' }, help: 'model TDX huge pages (2M private leaves, DEMOTE)' },
  { name: 'prove-mmu', kind: { type: 'bool' }, help: 'model CONFIG_KVM_PROVE_MMU (root zaps recurse through handle_removed_pt)' },
  { name: 'dpamt', kind: { type: 'bool' }, help: 'model Dynamic PAMT (per-2M PAMT refcounts, pamt_lock not softirq-safe; docs/reference/tdx-module.md §3)' },
  { name: 'vcpus', kind: { type: 'int', min: 1, max: MAX_VCPUS }, metavar: 'N', help: 'vCPUs per VM (default 2)' },
  { name: 'fault-rate', kind: { type: 'number', min: 0, max: 1 }, metavar: 'F', help: `probability of a fault-plan entry per op (default ${DEFAULT_PARAMS.faultRate})` },
  { name: 'race-rate', kind: { type: 'number', min: 0, max: 1 }, metavar: 'F', help: `probability of a race per op (default ${DEFAULT_PARAMS.raceRate})` },
  { name: 'profile', kind: { type: 'enum', values: GEN_PROFILES }, metavar: 'P', help: 'generator profile: mirror weights ops toward the mirror/private paths the refactor changed (rare 1G shared leaves and fanout^2-gfn splits), uniform is the unweighted generator (default mirror on x86, uniform on compact)' },
  { name: 'max-ops', kind: { type: 'int', min: 1, max: 100_000 }, metavar: 'N', help: `longest generated sequence (default ${DEFAULT_PARAMS.maxOps})` },
  { name: 'shard', kind: { type: 'shard' }, metavar: 'I/N', help: 'run only sequences i ≡ I (mod N), for N machines' },
  { name: 'engine', kind: { type: 'string', what: 'an engine name' }, metavar: 'E', help: 'where sequences come from: random (default; sequence i is a function of (seed, i)), guided (mutates kept sequences that reached new model coverage), jsfuzz' },
  { name: 'corpus-out', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: "where coverage-guided engines write the sequences they keep (default OUT/corpus; this is the run's own corpus, not the curated corpus/ of named scenarios that --corpus reads)" },
  { name: 'workers', kind: { type: 'int', min: 1, max: 256 }, metavar: 'N', help: 'worker threads (default 1); the random engine splits its sequences among them, others use seeds SEED/wK' },
  { name: 'resume', kind: { type: 'string', what: 'an output directory' }, metavar: 'OUT', help: 'continue the run whose output is OUT (stopped or killed) from its last checkpoint, with its configuration and, without --runs/--time, the rest of its budget; random exactly, guided and jsfuzz from what they kept' },
  { name: 'sync', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'share kept inputs live with the other campaigns (workers, shards, machines) pointed at DIR, AFL++ -M/-S style: publish to DIR/NAME/, import the others every --sync-every S (guided and jsfuzz; not deterministic)' },
  { name: 'sync-name', kind: { type: 'string', what: 'a name' }, metavar: 'NAME', help: "this campaign's folder in --sync DIR (default HOST-PID; workers add -wI)" },
  { name: 'sync-every', kind: { type: 'number', min: 0.05, max: 3600 }, metavar: 'S', help: 'seconds between imports from --sync DIR (default 5)' },
  { name: 'checkpoint-every', kind: { type: 'number', min: 0.01, max: 3600 }, metavar: 'S', help: 'write checkpoint.json and stats.json every S seconds and after each new finding (default 1): a killed run resumes from the last one' },
  { name: 'stop-on-first', kind: { type: 'bool' }, help: 'end the run at its first unexplained finding (libFuzzer stops at its first crash; the default here is to go on)' },
  { name: 'out', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'reports and stats.json (default out)' },
  { name: 'crashes', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'crash files, one per finding signature (default OUT/crashes; crashes/ is the triaged corpus: tdpfuzz promote adds to it)' },
  { name: 'corpus', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'sequence files run before generated ones (default corpus, if it exists)' },
  { name: 'no-corpus', kind: { type: 'bool' }, default: false, help: 'do not run the corpus directory' },
  { name: 'minimize-runs', kind: { type: 'int', min: 1, max: 10_000_000 }, metavar: 'N', help: 'minimize each new finding with at most N predicate runs (default 2000; deterministic)' },
  { name: 'minimize-time', kind: { type: 'number', min: 0, max: 1e6, minExclusive: true }, metavar: 'S', help: 'time safety net per minimization in seconds (default 10)' },
  { name: 'no-minimize', kind: { type: 'bool' }, default: false, help: 'store new findings unminimized' },
  HANG_TIMEOUT_FLAG,
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

export const RUN_HELP = `usage: tdpfuzz run [flags]

Runs corpus sequences, then generated sequences (seed, 0), (seed, 1), ...
through all designs in lockstep until the budget is spent or SIGINT/SIGTERM
(SIGTERM lets the current sequence finish, SIGINT abandons it; everything is
written). A sequence making no progress for --hang-timeout seconds is stopped
and stored as a hang finding (not minimized). Writes OUT/report.md,
OUT/report.json, OUT/report.junit.xml, OUT/report.html, OUT/stats.json and one
crash file per finding signature in OUT/crashes (crashes/ is the triaged
regression corpus: tdpfuzz promote adds to it), its reproducer minimized when it
is first seen (at most --minimize-runs predicate runs per finding, so fuzzing is
not starved). Exit 0 when no unexplained finding, 1 otherwise, 2 on usage
errors, 130 after a SIGINT (the reports are written and the verdict says
"interrupted"; SIGTERM keeps the verdict's code). --stop-on-first ends the run
at its first unexplained finding.

flags:
${flagHelp(RUN_FLAGS)}

example: tdpfuzz run --designs before,after --seed 7 --runs 100000 --huge-pages
         tdpfuzz run --engine guided --time 600 --out out  # kept: out/corpus/`;

/** `tdpfuzz run` flags → the run's parameters (defaults from run/campaign_params.ts); null for --help. */
export function parseRunArgs(argv: readonly string[]): RunParams | null {
  const { flags, given, positional } = parseFlags('run', RUN_FLAGS, argv);
  if (flags.help) return null;
  if (positional.length) throw new UsageError(`run: unexpected argument ${JSON.stringify(positional[0])} (run takes only flags; see tdpfuzz run --help)`);
  if (given.has('corpus') && flags['no-corpus']) throw new UsageError('--no-corpus: cannot be combined with --corpus');
  if (flags.resume !== undefined) {
    for (const f of RESUME_CONFLICTS) if (given.has(f)) throw new UsageError(`--${f}: cannot be combined with --resume (the configuration is taken from ${flags.resume}/stats.json)`);
    if (flags.out !== undefined && flags.out !== flags.resume) throw new UsageError('--out: cannot differ from --resume (a resumed run writes into the directory it continues)');
  }
  for (const f of ['minimize-runs', 'minimize-time'] as const) {
    if (given.has(f) && flags['no-minimize']) throw new UsageError(`--no-minimize: cannot be combined with --${f}`);
  }
  for (const f of ['sync-name', 'sync-every'] as const) {
    if (given.has(f) && flags.sync === undefined) throw new UsageError(`--${f}: only with --sync DIR`);
  }
  if (flags.sync !== undefined && (flags.engine ?? 'random') === 'random' && flags.resume === undefined) {
    throw new UsageError('--sync: the random engine keeps nothing to share (use --engine guided or --engine jsfuzz)');
  }
  if (flags['sync-name'] !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(flags['sync-name'])) {
    throw new UsageError(`--sync-name: ${JSON.stringify(flags['sync-name'])} is not a folder name (letters, digits, '.', '_', '-')`);
  }
  if (flags.engine !== undefined && !ENGINES.has(flags.engine)) {
    throw new UsageError(`--engine: unknown engine ${JSON.stringify(flags.engine)} (known: ${[...ENGINES.keys()].join(', ')})`);
  }
  const dflt = DEFAULT_PARAMS.minimize!;
  const params = runParams({
    designs: flags.designs !== undefined ? splitDesignSpec(flags.designs) : undefined,
    seed: flags.seed,
    timeSec: flags.time,
    runs: flags.runs,
    equiv: flags.equiv,
    domain: flags.domain,
    config: {
      geometry: flags.geometry,
      hugePages: flags['huge-pages'],
      ...(flags['prove-mmu'] ? { proveMmu: true } : {}),
      ...(flags.dpamt ? { dpamt: true } : {}),
      vcpus: flags.vcpus,
    },
    faultRate: flags['fault-rate'],
    raceRate: flags['race-rate'],
    maxOps: flags['max-ops'],
    profile: flags.profile,
    hangTimeoutSec: flags['hang-timeout'],
    shard: flags.shard,
    // a resumed run writes into the directory it continues (so its crash store defaults to OUT/crashes)
    out: flags.out ?? flags.resume,
    crashes: flags.crashes,
    corpus: flags['no-corpus'] ? null : flags.corpus,
    minimize: flags['no-minimize'] ? null : { maxRuns: flags['minimize-runs'] ?? dflt.maxRuns, timeMs: (flags['minimize-time'] ?? dflt.timeMs / 1000) * 1000 },
    workers: flags.workers,
    resume: flags.resume,
    engine: flags.engine,
    corpusOut: flags['corpus-out'],
    checkpointSec: flags['checkpoint-every'],
    stopOnFirst: flags['stop-on-first'],
    sync: flags.sync === undefined ? null
      : { dir: flags.sync, name: flags['sync-name'] ?? `${os.hostname().split('.')[0]}-${process.pid}`, everySec: flags['sync-every'] ?? 5 },
  });
  // --resume without --runs or --time: the rest of the interrupted run's budget (resumeRunParams).
  if (flags.resume !== undefined && flags.runs === undefined && flags.time === undefined) params.timeSec = null;
  return params;
}

/** The INFO line a run starts with. */
function startLine(a: RunParams, designNames: string[], viaWorkers: boolean, resumedAt: number | null): string {
  const budget = [a.runs !== null ? `${a.runs} runs` : '', a.timeSec !== null ? `${a.timeSec} s` : ''].filter(Boolean).join(', ');
  return `INFO: tdpfuzz ${toolVersion()} run: seed ${a.seed}${a.shard ? ` shard ${a.shard.index}/${a.shard.count}` : ''}, `
    + `designs ${designsPhrase(designNames)}, ${a.equiv} equivalence, ${a.domain} domain, ${a.config.geometry} geometry`
    + `${a.config.hugePages ? ', huge pages' : ''}${a.config.dpamt ? ', DPAMT' : ''}, profile ${a.profile}, budget ${budget}`
    + `${viaWorkers ? `, ${a.workers ?? 1} worker thread${(a.workers ?? 1) === 1 ? '' : 's'}` : ''}`
    + `${resumedAt !== null ? `, resuming ${a.resume} at ${resumedAt} generated` : ''}\n`;
}

/**
 * Status lines and events on stderr: one updating line on a terminal, fitted to its width so that
 * `\r\x1b[K` clears it (a wrapped line would leave its first part behind); one full line each otherwise.
 */
class ConsoleProgress {
  private shown = false;
  readonly statusIntervalMs: number;
  constructor(private readonly io: Io) { this.statusIntervalMs = io.isTTY ? 250 : 5000; }

  clear(): void {
    if (this.io.isTTY && this.shown) { this.io.err('\r\x1b[K'); this.shown = false; }
  }

  readonly onStatus = (s: CampaignStatus): void => {
    if (s.execs === 0 && !s.done) return;
    if (this.io.isTTY) {
      this.io.err(`\r\x1b[K${formatStatus(s, this.io.columns ?? 80)}`);
      this.shown = true;
      if (s.done) { this.io.err('\n'); this.shown = false; }
    } else {
      this.io.err(`${formatStatus(s)}\n`);
    }
  };

  readonly onEvent = (e: CampaignEvent): void => {
    this.clear();
    if (e.type === 'new-finding') {
      this.io.err(`#${e.execs} NEW ${e.signature}${e.crashFile ? ` -> ${e.crashFile}` : ''}${e.status !== 'open' ? ` [${e.status}]` : ''}\n`);
    } else {
      this.io.err(`WARNING: ${e.message}\n`);
    }
  };
}

export async function cmdRun(args: RunParams, io: Io): Promise<number> {
  // --resume OUT: the configuration recorded in OUT; --workers N, --resume and the jsfuzz engine
  // (istanbul needs a fresh module registry) run the campaign in worker threads (fuzz/workers.ts).
  const resumed = args.resume !== null ? resumeRunParams(args, io.cwd) : null;
  const a = resumed?.params ?? args;
  const viaWorkers = (a.workers ?? 1) > 1 || resumed !== null || a.engine === 'jsfuzz' || a.sync !== null;
  const designs = loadDesigns(a.designs.join(','), io.cwd);
  const corpusOut = path.resolve(io.cwd, a.corpusOut ?? path.join(a.out ?? 'out', 'corpus'));
  // Everything that can refuse the run, before anything is written (worker threads write stats.json
  // from the main thread; an in-process campaign checks the same in its constructor).
  preflight({
    designs, designSpecs: a.designs, config: a.config, cwd: io.cwd, out: a.out, crashes: a.crashes,
    corpusOut: a.engine !== 'random' ? a.corpusOut ?? path.join(a.out ?? 'out', 'corpus') : null,
    syncDir: a.sync?.dir ?? null,
  });
  io.err(startLine(a, designs.map(d => d.name), viaWorkers, resumed ? resumed.state.stats.generated : null));

  // Temp files of a writer that was killed (SIGKILL) before it could rename them (the crash store cleans its own).
  for (const d of [a.out === null ? null : path.resolve(io.cwd, a.out), corpusOut]) if (d !== null) removeStaleTemps(d);
  const progress = new ConsoleProgress(io);
  const callbacks = { onStatus: progress.onStatus, statusIntervalMs: progress.statusIntervalMs, onEvent: progress.onEvent };
  const handle = viaWorkers
    ? startWorkers({ ...a, corpusOut, cwd: io.cwd, ...(resumed ? { resumeState: resumed.state } : {}), ...callbacks })
    : startCampaign({
      ...campaignOptionsOf(a, designs, io.cwd),
      ...(a.engine !== 'random' ? { engine: ENGINES.get(a.engine)!({
        seed: a.seed, shard: a.shard, designs, equiv: a.equiv, domain: a.domain, gen: generatorOptions(a), corpusOut,
      }) } : {}),
      ...callbacks,
    });

  // SIGINT/SIGTERM: stop and write everything; a second signal exits at once. A SIGINT also
  // interrupts a sequence that hangs (run/watchdog.ts breakOnSigint re-emits it here); a SIGTERM
  // waits for the current sequence, at most --hang-timeout.
  let signals = 0;
  let first: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    first ??= sig;
    progress.clear();
    if (signals > 1) {
      io.err(`${sig} again: exiting without writing the report\n`);
      process.exit(130);
    }
    io.err(`${sig}: stopping${sig === 'SIGINT' ? '' : ' after the current sequence'} (send it again to exit at once)\n`);
    handle.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await handle.done;
    progress.clear();
    if (result.reportPaths) io.out(`report: ${displayPath(result.reportPaths.markdown, io.cwd)} (also report.json, report.junit.xml, report.html, report.txt)\n`);
    io.out(`${result.report.verdict.line}\n`);
    // SIGINT: 130 (128 + 2), as an interrupted shell command, after the reports are written. SIGTERM
    // (a scheduler's or CI's time limit) keeps the verdict's exit code: the run ends as if its budget ran out.
    return first === 'SIGINT' ? 130 : result.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run a campaign and write reports (tdpfuzz run --help)',
  help: RUN_HELP,
  async run(argv, io) {
    const args = parseRunArgs(argv);
    if (!args) { io.out(`${RUN_HELP}\n`); return 0; }
    return cmdRun(args, io);
  },
};
