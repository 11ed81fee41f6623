// The parameters of a campaign, stated once. `CampaignParams` is what defines a campaign's sequences
// and how they are judged: it travels from the CLI (cli/cmd_run.ts) to the campaign
// (fuzz/campaign.ts), the workers (fuzz/workers.ts, fuzz/worker_run.ts), into stats.json, into the
// report's scope (report/data.ts ReportScope extends it), and back out of a stats file on `run
// --resume`. `RunParams` adds what one `tdpfuzz run` decides besides: designs, engine, budget,
// output places, minimization, workers, resume.
//
// Defaults live in DEFAULT_PARAMS and are applied in one place, campaignParams() / runParams():
// the CLI passes only the flags it was given, programmatic callers (tests, workers) only the
// fields they set.
import * as path from 'node:path';
import { DEFAULT_CONFIG, type VmConfig } from '../../impls/api';
import type { Equivalence } from './compare';
import type { Domain } from '../seq/domain';
import { DEFAULT_FAULT_RATE, DEFAULT_MAX_OPS, DEFAULT_RACE_RATE, type GenerateOptions } from '../seq/generate';
import { defaultProfile, GEN_PROFILES, type GenProfile } from '../seq/profile';
import { InputError } from '../seq/sequence';

/** Run only generated indices i ≡ index (mod count), and every count-th corpus file; null: all. */
export type Shard = { index: number; count: number } | null;

export interface CampaignParams {
  seed: string | number;
  shard: Shard;
  equiv: Equivalence;
  domain: Domain;
  config: VmConfig;
  faultRate: number;
  raceRate: number;
  maxOps: number;
  /** --profile: which draws the generator makes (seq/profile.ts); default by geometry (defaultProfile) */
  profile: GenProfile;
  /** --hang-timeout: a run making no progress for this long is a `hang` finding (wall-clock) */
  hangTimeoutSec: number;
}

/** Everything a `tdpfuzz run` decides: the campaign parameters plus designs, engine, budget and places. */
export interface RunParams extends CampaignParams {
  /** --designs as given: design names or module paths (resolved from the run's cwd) */
  designs: string[];
  /** --engine: a name in fuzz/engines ENGINES */
  engine: string;
  /** sequences to execute, corpus included; null: no run budget */
  runs: number | null;
  /** time budget in seconds; null: none (a run without --runs and --time has 60 s) */
  timeSec: number | null;
  /** reports and stats.json; null writes nothing */
  out: string | null;
  /** the crash store; null keeps findings in memory only (default OUT/crashes) */
  crashes: string | null;
  /** sequence files run first; undefined: "corpus" when it exists; null: none */
  corpus: string | null | undefined;
  /** where coverage-guided engines write the sequences they keep; null: OUT/corpus (none without OUT) */
  corpusOut: string | null;
  /** minimization of each new finding; null: store it unminimized */
  minimize: { maxRuns: number; timeMs: number } | null;
  /** --workers (null: not given: one worker when resuming or for jsfuzz, else in-process) */
  workers: number | null;
  /** --resume OUT */
  resume: string | null;
  /** --checkpoint-every: seconds between checkpoints (checkpoint.json with stats.json), which is what a killed run resumes from */
  checkpointSec: number;
  /** --stop-on-first: end the run at its first unexplained finding (libFuzzer's default behaviour) */
  stopOnFirst: boolean;
  /**
   * --sync DIR (AFL++'s -M/-S sync directory): guided/jsfuzz lanes publish what they keep to
   * DIR/<name>/ and import what the other instances there kept, every `everySec` seconds
   * (fuzz/corpus_sync.ts); null: no syncing
   */
  sync: { dir: string; name: string; everySec: number } | null;
  /** bisect: only these D-ids may explain (RunOptions.allowedExplanations); absent: all (never recorded in stats.json: `run` does not set it) */
  allowedExplanations?: readonly string[];
}

/** --hang-timeout's default (libFuzzer's -timeout is 1200 s; a model op takes microseconds). */
export const DEFAULT_HANG_TIMEOUT_SEC = 10;

/** Time budget of a campaign given neither a run nor a time budget. */
const DEFAULT_TIME_WHEN_NO_BUDGET = 60;

/** The defaults (the time budget, crash store and profile depend on other parameters: timeBudget, runParams, defaultProfile). */
export const DEFAULT_PARAMS: Readonly<Omit<RunParams, 'timeSec' | 'crashes' | 'profile'>> = {
  seed: 1,
  shard: null,
  equiv: 'state',
  domain: 'legal',
  config: DEFAULT_CONFIG,
  faultRate: DEFAULT_FAULT_RATE,
  raceRate: DEFAULT_RACE_RATE,
  maxOps: DEFAULT_MAX_OPS,
  hangTimeoutSec: DEFAULT_HANG_TIMEOUT_SEC,
  designs: ['before', 'after'],
  engine: 'random',
  runs: null,
  out: 'out',
  corpus: undefined,
  corpusOut: null,
  minimize: { maxRuns: 2000, timeMs: 10_000 },
  workers: null,
  resume: null,
  checkpointSec: 1,
  stopOnFirst: false,
  sync: null,
};

/** What a caller may leave out: any field, and any field of the VM configuration. */
export type GivenParams<P> = { [K in keyof P]?: K extends 'config' ? Partial<VmConfig> : P[K] };

/** The campaign parameters with defaults for what is not given (the one place they are applied). */
export function campaignParams(given: GivenParams<CampaignParams>): CampaignParams {
  const shard = given.shard ?? DEFAULT_PARAMS.shard;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new InputError(`--shard: expected i/N with 0 <= i < N, got ${shard.index}/${shard.count}`);
  }
  const config = { ...DEFAULT_PARAMS.config, ...definedOnly(given.config ?? {}) };
  if (given.profile !== undefined && !GEN_PROFILES.includes(given.profile)) {
    throw new InputError(`--profile: unknown profile ${JSON.stringify(given.profile)} (expected one of ${GEN_PROFILES.join(', ')})`);
  }
  return {
    seed: given.seed ?? DEFAULT_PARAMS.seed,
    shard,
    equiv: given.equiv ?? DEFAULT_PARAMS.equiv,
    domain: given.domain ?? DEFAULT_PARAMS.domain,
    config,
    faultRate: given.faultRate ?? DEFAULT_PARAMS.faultRate,
    raceRate: given.raceRate ?? DEFAULT_PARAMS.raceRate,
    maxOps: given.maxOps ?? DEFAULT_PARAMS.maxOps,
    profile: given.profile ?? defaultProfile(config),
    hangTimeoutSec: hangTimeout(given.hangTimeoutSec),
  };
}

/** --hang-timeout as given (a positive number of seconds) or the default. */
function hangTimeout(sec: number | undefined): number {
  if (sec === undefined) return DEFAULT_PARAMS.hangTimeoutSec;
  if (!(Number.isFinite(sec) && sec > 0)) throw new InputError(`--hang-timeout: expected a number of seconds > 0, got ${sec}`);
  return sec;
}

/** The fields that are set (a field given as undefined does not override a default). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The time budget: as given, else 60 s when there is no run budget either. */
export function timeBudget(runs: number | null, timeSec: number | null | undefined): number | null {
  return timeSec ?? (runs === null ? DEFAULT_TIME_WHEN_NO_BUDGET : null);
}

/** The run parameters with defaults for what is not given (the one place they are applied). */
export function runParams(given: GivenParams<RunParams>): RunParams {
  const runs = given.runs ?? DEFAULT_PARAMS.runs;
  const out = given.out === undefined ? DEFAULT_PARAMS.out : given.out;
  return {
    ...campaignParams(given),
    designs: given.designs ?? DEFAULT_PARAMS.designs,
    engine: given.engine ?? DEFAULT_PARAMS.engine,
    runs,
    timeSec: timeBudget(runs, given.timeSec),
    out,
    // OUT/crashes: a campaign's findings stay with its output; crashes/ is the triaged corpus one adds to on purpose (promote).
    crashes: given.crashes !== undefined ? given.crashes : out === null ? null : path.join(out, 'crashes'),
    corpus: given.corpus,
    corpusOut: given.corpusOut ?? DEFAULT_PARAMS.corpusOut,
    minimize: given.minimize === undefined ? DEFAULT_PARAMS.minimize : given.minimize,
    workers: given.workers ?? DEFAULT_PARAMS.workers,
    resume: given.resume ?? DEFAULT_PARAMS.resume,
    checkpointSec: given.checkpointSec ?? DEFAULT_PARAMS.checkpointSec,
    stopOnFirst: given.stopOnFirst ?? DEFAULT_PARAMS.stopOnFirst,
    sync: given.sync ?? DEFAULT_PARAMS.sync,
    ...(given.allowedExplanations ? { allowedExplanations: given.allowedExplanations } : {}),
  };
}

/** The generator's options of a campaign. */
export function generatorOptions(p: CampaignParams): GenerateOptions {
  return { config: p.config, domain: p.domain, faultRate: p.faultRate, raceRate: p.raceRate, maxOps: p.maxOps, profile: p.profile };
}
