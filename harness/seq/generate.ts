// The `random` engine (DESIGN §3): sequence i of campaign seed S is a pure function of (S, i, options),
// so a finding is reproducible from two numbers. All randomness comes from seedrandom, never
// Math.random. Op construction is shared with the byte decoder (opgen.ts); this file adds the
// sequence-level shape: length, an early finalize in most sequences (the rest exercise PAGE.ADD),
// and sometimes a teardown tail.

import { legalizeTeardown } from './legality';
import seedrandom from 'seedrandom';
import type { Op, VmConfig } from '../../impls/api';
import { type Chooser, type GenState, type KindAllowance, type OpPolicy, initialState, randomOp, weighted } from './opgen';
import type { Domain } from './domain';
import { defaultProfile, type GenProfile } from './profile';
import { SEQUENCE_FORMAT, type Sequence } from './sequence';

export interface GenerateOptions {
  config: VmConfig;
  domain: Domain;
  /** per op with plausible fault points: probability of a fail entry (default 0.15) */
  faultRate?: number;
  /** per op with race points: probability of a race (default 0.1) */
  raceRate?: number;
  /** longest sequence (default 24); lengths are uniform in 4..maxOps */
  maxOps?: number;
  /** which draws the op builders make (profile.ts; default defaultProfile(config): mirror on x86, uniform on compact) */
  profile?: GenProfile;
}

export const DEFAULT_FAULT_RATE = 0.15;
export const DEFAULT_RACE_RATE = 0.1;
export const DEFAULT_MAX_OPS = 24;

/** Probability that a sequence finalizes the TD (early); the others stay pre-RUNNABLE throughout. */
const FINALIZE_PROBABILITY = 0.8;

/** A Chooser over a seedrandom stream. */
export function rngChooser(rng: () => number): Chooser {
  return {
    int: (lo, hi) => (hi <= lo ? lo : lo + Math.floor(rng() * (hi - lo + 1))),
    chance: (p) => rng() < p,
  };
}

/** The Chooser for sequence `index` of campaign `seed`. */
function sequenceChooser(seed: string | number, index: number): Chooser {
  return rngChooser(seedrandom(`${seed}/${index}`));
}

export function policyOf(opts: GenerateOptions): OpPolicy {
  const faultRate = opts.faultRate ?? DEFAULT_FAULT_RATE;
  const raceRate = opts.raceRate ?? DEFAULT_RACE_RATE;
  for (const [name, v] of [['faultRate', faultRate], ['raceRate', raceRate]] as const) {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${v}`);
  }
  return { config: opts.config, domain: opts.domain, faultRate, raceRate, profile: profileOf(opts) };
}

/** The profile these options generate with: theirs, else their geometry's default. */
export function profileOf(opts: Pick<GenerateOptions, 'config' | 'profile'>): GenProfile {
  return opts.profile ?? defaultProfile(opts.config);
}

/**
 * One random op for mutation engines: kinds that only make sense at a fixed position (finalize,
 * releaseHkid in the legal domain, destroy) are left out. Updates state.
 */
export function generateRandomOp(ch: Chooser, state: GenState, opts: GenerateOptions): Op {
  return randomOp(ch, state, policyOf(opts), bodyAllowance(opts.domain));
}

function bodyAllowance(domain: Domain): KindAllowance {
  // The extended domain releases the hkid mid-sequence on purpose (teardown misuse).
  return { finalize: false, releaseHkid: domain === 'extended', destroy: false };
}

type Ending = 'none' | 'destroy' | 'release' | 'release+destroy';

/** How many ops the teardown tail takes (planned before the body, so the body can leave room). */
function tailLength(ending: Ending, domain: Domain): number {
  const n = { none: 0, destroy: 1, release: 2, 'release+destroy': 3 }[ending];
  // The legal domain closes guest_memfd (a full private zap) before releasing the hkid.
  return domain === 'legal' && ending.startsWith('release') ? n + 1 : n;
}

/**
 * The teardown tail: destroy, or releaseHkid followed by one of the ops the kernel can still issue
 * after it (an RCU walker leaving, a grace period) and maybe destroy. Truncated to `room` ops.
 */
function tailOps(ch: Chooser, ending: Ending, state: GenState, policy: OpPolicy, room: number): Op[] {
  const kinds: Op['kind'][] = [];
  if (ending === 'destroy') kinds.push('destroy');
  if (ending === 'release' || ending === 'release+destroy') {
    // The extended domain may already have released the hkid mid-sequence.
    kinds.push(state.hkidReleased ? 'gracePeriod' : 'releaseHkid', state.openWalkers.size ? 'rcuUnlock' : 'gracePeriod');
    if (ending === 'release+destroy') kinds.push('destroy');
  }
  const none = { finalize: false, releaseHkid: false, destroy: false };
  const ops = kinds.map((kind) => randomOp(ch, state, policy, none, kind));
  const legal = policy.domain === 'legal' ? legalizeTeardown(ops, policy.config) : ops;
  return legal.slice(0, room);
}

export function generateSequence(seed: string | number, index: number, opts: GenerateOptions): Sequence {
  const policy = policyOf(opts);
  const maxOps = opts.maxOps ?? DEFAULT_MAX_OPS;
  if (!Number.isInteger(maxOps) || maxOps < 1) throw new RangeError(`maxOps must be a positive integer, got ${maxOps}`);
  const ch = sequenceChooser(seed, index);
  const state = initialState();

  const length = ch.int(Math.min(4, maxOps), maxOps);
  const ending = weighted<Ending>(ch, [['none', 55], ['destroy', 30], ['release', 7], ['release+destroy', 8]]);
  // The body leaves room for the tail but never shrinks to nothing.
  const bodyLength = length - Math.min(tailLength(ending, opts.domain), length - 1);
  const finalizeAt = ch.chance(FINALIZE_PROBABILITY) ? ch.int(0, Math.min(3, bodyLength - 1)) : -1;

  const ops: Op[] = [];
  const allow = bodyAllowance(opts.domain);
  for (let i = 0; i < bodyLength; i++) {
    ops.push(randomOp(ch, state, policy, allow, i === finalizeAt ? 'finalize' : undefined));
  }
  ops.push(...tailOps(ch, ending, state, policy, length - ops.length));

  // A tail truncated by a short length may end in the zap alone: still legal.
  const legal = opts.domain === 'legal' ? legalizeTeardown(ops, opts.config) : ops;
  // Trusted, not re-validated (issue 13 item 2: validation was a third of generation): the generator
  // builds canonical ops by construction. test/generate.test.ts checks that makeSequence() of every
  // generated sequence is byte-identical to it, across domains and configurations.
  return { format: SEQUENCE_FORMAT, config: opts.config, ops: legal, meta: { engine: 'random', seed, index, domain: opts.domain } };
}
