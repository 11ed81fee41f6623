// Repair of mutated op lists (the guided engine's mutants, DESIGN §3): a mutation may break the
// shape of a sequence (a second finalize, ops after destroy) or, in the legal domain, put an op
// outside it (a shared fault moved before finalize, a racing fault during a zap). Rather than throw
// the candidate away, repair makes it valid and legal with the smallest edits it knows — the rest of
// the mutant is usually still worth running. Pure, no randomness: the same raw ops give the same
// sequence (or null) every time, so repair never perturbs an engine's random stream.
import type { Op, VmConfig } from '../../impls/api';
import type { Domain } from './domain';
import { legalityErrors, legalizeTeardown } from './legality';
import { InputError, makeSequence, type Sequence } from './sequence';

export interface RepairLimits {
  config: VmConfig;
  domain: Domain;
  /** longest sequence kept; a longer candidate is not shortened (that would change what it tests) but dropped */
  maxLength: number;
}

/** How many legality errors repair fixes one by one before it gives up on a candidate. */
const MAX_LEGALITY_FIXES = 8;

/**
 * `raw` as a valid sequence — and legal in the legal domain — or null when it cannot be saved.
 * Only the first finalize is kept, everything after a destroy is cut, the teardown order is
 * legalized, and then each remaining legality error drops its race (when the racing op is the
 * offender) or its op. The list `raw` is not modified.
 */
export function repair(raw: readonly Op[], limits: RepairLimits): Sequence | null {
  const { config, maxLength } = limits;
  const legal = limits.domain === 'legal';
  let ops: Op[] = [];
  let finalized = false;
  for (const op of raw) {
    if (op.kind === 'finalize') { if (finalized) continue; finalized = true; }
    ops.push(op);
    if (op.kind === 'destroy') break;
  }
  if (legal) ops = legalizeTeardown(ops, config);
  if (ops.length === 0 || ops.length > maxLength) return null;
  let seq: Sequence;
  try {
    seq = makeSequence(config, ops);
  } catch (e) {
    if (e instanceof InputError) return null;
    throw e;
  }
  if (!legal) return seq;
  for (let tries = 0; tries < MAX_LEGALITY_FIXES; tries++) {
    const errs = legalityErrors(seq);
    if (!errs.length) return seq;
    const { index, reason } = errs[0];
    const next = seq.ops.slice();
    if (reason.startsWith('race.op') && next[index].race) {
      const { race: _dropped, ...rest } = next[index];
      next[index] = rest as Op;
    } else {
      next.splice(index, 1);
    }
    if (next.length === 0) return null;
    seq = makeSequence(config, legalizeTeardown(next, config));
  }
  return legalityErrors(seq).length ? null : seq;
}
