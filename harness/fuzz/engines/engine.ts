// The fuzzing engine interface (DESIGN §3 generators): where the campaign's next sequence comes from,
// and what an engine learns from each run. Engines must be deterministic from their seed.
import type { Design } from '../../../impls/api';
import type { CampaignParams } from '../../run/campaign_params';
import type { GenerateOptions } from '../../seq/generate';
import type { CrashSource } from '../../store/crash_store';
import type { RunResult } from '../../run/runner';
import type { Sequence } from '../../seq/sequence';

export interface EngineSequence { seq: Sequence; source: CrashSource }

export interface Engine {
  readonly name: string;
  /** The k-th sequence this engine produces in this campaign (k = 0, 1, ...). */
  next(k: number): EngineSequence;
  /** The result of running it: coverage-guided engines keep sequences that reach new classes. */
  feedback(item: EngineSequence, result: RunResult): void;
  /**
   * Optional: the result of a sequence the engine did not produce (a corpus file the campaign ran
   * first), so coverage-guided engines can seed their corpus from it without running it again.
   */
  observe?(item: EngineSequence, result: RunResult): void;
  /** Sequences the engine keeps (its in-memory corpus), for the status line; null: it keeps none (random). */
  corpusSize(): number | null;
}

/** What a campaign tells an engine when it creates it (the engine contract; the registry is engines/index.ts). */
export interface EngineContext extends Pick<CampaignParams, 'seed' | 'shard' | 'equiv' | 'domain'> {
  /** the generator options of the campaign's parameters (run/campaign_params.ts generatorOptions) */
  gen: GenerateOptions;
  designs: readonly Design[];
  /** where an engine may persist the sequences it keeps (guided: new-coverage sequences) */
  corpusOut: string | null;
  /**
   * run --resume: the lane's generated count where the interrupted run stopped. A coverage-guided
   * engine then starts from what it kept there (corpusOut), re-running it to rebuild its corpus and
   * coverage, and draws from a stream of its own for the resumed part (`…/resume<N>`), so that it
   * does not repeat the first part's choices. Deterministic for a given checkpoint; the interrupted
   * run's mid-stream RNG position is not restored (issue 14 item 6: nothing found is lost).
   */
  resumeAt?: number;
}
