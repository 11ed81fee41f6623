// The minimizer on real runs (DESIGN §5): the signature oracle is a lockstep run of the designs;
// the reduction itself (ddmin, op simplification) is seq/ddmin.ts.
import type { Design, Op } from '../../impls/api';
import type { Equivalence } from './compare';
import type { Finding } from './findings';
import type { Domain } from '../seq/domain';
import { admissibleFor, minimizeOps, statsRecord, type MinimizeOptions, type MinimizeResult, type SignatureOracle } from '../seq/ddmin';
import { runBoundedSequence, type RunOptions } from './runner';
import type { Sequence } from '../seq/sequence';

/** What the campaign's minimize hook returns: the reduced ops (same config) and statistics for the crash file. */
export interface MinimizerOutput { ops: Op[]; stats?: Record<string, unknown> }

export interface MinimizeContext {
  designs: readonly Design[];
  equiv: Equivalence;
  domain: Domain;
  /** stop and return the best reduction so far after this long */
  timeLimitMs: number;
  /** the wall-clock bound of each probe run (--hang-timeout): a probe that hangs shows the hang signature */
  hangMs?: number;
  /** the run's allowedExplanations (a bisect step): the probes judge as the campaign did */
  allowedExplanations?: readonly string[];
}

/**
 * Hook for the minimizer: called once per NEW signature, before the crash file is written. The
 * campaign re-runs the returned ops and keeps them only if they reproduce the same signature.
 */
export type Minimizer = (seq: Sequence, finding: Finding, ctx: MinimizeContext) => MinimizerOutput | Promise<MinimizerOutput>;

/**
 * The signature oracle of a real run: runs the sequence in lockstep, each probe bounded by
 * opts.hangMs (a probe that hangs has the wall-clock `hang` signature, so a hang minimizes too, at
 * the cost of the bound for every probe that still hangs).
 */
export function runnerOracle(seq: Sequence, opts: RunOptions): SignatureOracle {
  // Only signatures are needed: skip building the divergence diffs (a runner without the option
  // ignores it).
  const fast = { ...opts, diffs: false };
  return ops => {
    const r = runBoundedSequence({ ...seq, ops }, fast);
    return [...r.findings, ...r.explained].map(f => f.signature);
  };
}

/** Minimize a sequence for one finding of a real run. */
export function minimizeSequence(seq: Sequence, signature: string, run: RunOptions, opts: MinimizeOptions = {}): MinimizeResult {
  return minimizeOps(seq.ops, signature, runnerOracle(seq, run), { admissible: admissibleFor(seq, run), ...opts });
}

/**
 * The campaign's minimize hook (`tdpfuzz run` minimizes each new signature as it is found): bounded
 * by `maxRuns` predicate runs (deterministic), with the campaign's per-finding time limit as the
 * safety net, so a campaign is never starved by one finding.
 */
export function campaignMinimizer(opts: { maxRuns?: number } = {}): Minimizer {
  const maxRuns = opts.maxRuns ?? 2000;
  return (seq, finding, ctx) => {
    const r = minimizeSequence(seq, finding.signature, { designs: ctx.designs, equiv: ctx.equiv, domain: ctx.domain, hangMs: ctx.hangMs, allowedExplanations: ctx.allowedExplanations },
      { maxRuns, timeLimitMs: ctx.timeLimitMs });
    return { ops: r.ops, stats: statsRecord(r.stats, maxRuns) };
  };
}
