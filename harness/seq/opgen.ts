// Structure-aware op construction, shared by the random generator (choices from seedrandom) and the
// byte decoder (choices from input bytes). Sharing it means both engines reach the same op shapes,
// the same collision-heavy gfn window and the same legal-domain restrictions; only the source of the
// choices differs.
//
// Legal by construction: in the legal domain every op built here passes legalityErrors, given the
// state it was built in (see GenState). The tests check this over thousands of sequences.

import { OP_KINDS, type FaultEntry, type Op, type OpKind, type Race, type RacePoint } from '../../impls/api';
import { type Chooser, type GenState, type KindAllowance, type OpPolicy, ENGINE_WALKERS, pick, weighted } from './choices';
import { weightedSlot } from './chooser';
import { LEVELS } from './fields';
import { PROFILES } from './profile';
import { AFTER_RELEASE_HKID_KINDS, OP_KIND_SPECS, specOf, specOfKind, type RacePlan, type WeightContext } from './op_kinds';

// The building blocks live in choices.ts, the per-kind knowledge in op_kinds.ts; engines import both
// through this file.
export {
  type Chooser, type GenState, type KindAllowance, type OpPolicy,
  ENGINE_WALKERS, chooseGfn, chooseRange, initialState, nearbyGfn, pick, weighted, windowGfn,
} from './choices';

/** Record the effects of an emitted op on the state (a racing op's first: it may have fired). */
export function noteOp(state: GenState, op: Op): void {
  if (op.race) specOf(op.race.op).note(state, op.race.op, true);
  specOf(op).note(state, op, false);
}

// ------------------------------------------------------------------------------------------------
// Op kinds and arguments

/** chooseKind's weights, one slot per kind of OP_KINDS (reused: every generated op draws a kind). */
const KIND_WEIGHTS = new Float64Array(OP_KINDS.length);

/**
 * The kind of the next op: weighted() over OP_KINDS with each kind's weight facet (scaled by the
 * profile), or after tdx_mmu_release_hkid over the kinds that may still follow. The weights go
 * into a scratch array instead of a list of pairs; the draw is weighted()'s (weightedSlot).
 */
export function chooseKind(ch: Chooser, state: GenState, policy: OpPolicy, allow: KindAllowance): OpKind {
  const open = state.openWalkers.size;
  const ctx: WeightContext = { state, policy, allow, free: ENGINE_WALKERS - open, open };
  if (state.hkidReleased && policy.domain === 'legal') {
    // Only the rest of the teardown may follow tdx_mmu_release_hkid in the kernel.
    return weighted(ch, AFTER_RELEASE_HKID_KINDS.map((k) => [k, OP_KIND_SPECS[k].afterReleaseHkid!.weight(ctx)] as const));
  }
  const draws = PROFILES[policy.profile];
  for (let i = 0; i < OP_KINDS.length; i++) {
    const k = OP_KINDS[i];
    const w = OP_KIND_SPECS[k].weight(ctx);
    // a kind that cannot come now (weight 0) stays out whatever the profile
    KIND_WEIGHTS[i] = w > 0 ? draws.kindWeight(k, w) : 0;
  }
  return OP_KINDS[weightedSlot(ch, KIND_WEIGHTS, OP_KINDS.length)];
}

/** The arguments of an op of `kind` (no fail, no race). */
export function buildArgs(ch: Chooser, kind: OpKind, state: GenState, policy: OpPolicy): Op {
  return specOfKind(kind).build(ch, state, policy);
}

// ------------------------------------------------------------------------------------------------
// Fault-plan entries: only points the op can plausibly reach, so the budget is not wasted.

/** Fault points the op can reach (nth left to the caller). Empty for ops with none. */
export function failCandidates(op: Op, state: GenState): FaultEntry[] {
  return specOf(op).failCandidates(op, state);
}

function chooseFail(ch: Chooser, candidates: FaultEntry[]): FaultEntry {
  const entry = pick(ch, candidates);
  // Teardown reclaims every S-EPT table first (kvm_mmu_uninit_vm), then the TD control pages (TDCS,
  // TDCS, TDR: vm_destroy runs last in kvm_arch_destroy_vm): reclaims 1-3 are S-EPT tables, later ones
  // deeper tables or the control pages.
  const nth = entry.at === 'reclaim' ? (ch.chance(0.7) ? ch.int(1, 3) : ch.int(4, 8)) : ch.chance(0.75) ? 1 : ch.int(2, 3);
  return entry.at === 'seamcall' ? { at: entry.at, nth, call: entry.call, error: entry.error } : { at: entry.at, nth };
}

/** One fail entry, sometimes two different ones. */
export function chooseFails(ch: Chooser, op: Op, state: GenState): FaultEntry[] {
  return chooseFailsFrom(ch, failCandidates(op, state));
}

/** chooseFails over candidates already computed (failCandidates is pure: decorate computes them once). */
function chooseFailsFrom(ch: Chooser, candidates: FaultEntry[]): FaultEntry[] {
  if (!candidates.length) return [];
  const first = chooseFail(ch, candidates);
  if (!ch.chance(0.2)) return [first];
  const second = chooseFail(ch, candidates);
  const same = second.at === first.at && second.call === first.call;
  return same ? [first] : [first, second];
}

// ------------------------------------------------------------------------------------------------
// Races: a nested op that runs when the outer op reaches a race point.

/** Where op can be raced and by what; null if it has no race points worth using. */
function racePlan(op: Op, state: GenState, policy: OpPolicy): RacePlan | null {
  return specOf(op).racePlan(op, state, policy);
}

function raceLevel(ch: Chooser, at: RacePoint): number | undefined {
  if (ch.chance(0.5)) return undefined;
  // handle_removed_pt only runs on non-root tables (levels 1..3).
  return at === 'removedPt' ? ch.int(1, LEVELS - 1) : ch.int(1, LEVELS);
}

function nestedOp(ch: Chooser, kind: OpKind, plan: RacePlan, state: GenState, policy: OpPolicy): Op {
  const build = specOfKind(kind).nested;
  if (!build) throw new Error(`race plan names ${kind}, which the engines never run as a racing op`);
  return build(ch, plan, state, policy);
}

/** A race for op, or undefined if op has no usable race point. */
export function chooseRace(ch: Chooser, op: Op, state: GenState, policy: OpPolicy): Race | undefined {
  const plan = racePlan(op, state, policy);
  return plan ? chooseRaceFrom(ch, plan, state, policy) : undefined;
}

/** chooseRace over a plan already computed (racePlan is pure: decorate computes it once). */
function chooseRaceFrom(ch: Chooser, plan: RacePlan, state: GenState, policy: OpPolicy): Race | undefined {
  const at = pick(ch, plan.points);
  let level = raceLevel(ch, at);
  let nth = ch.chance(0.8) ? 1 : 2;
  const nested = nestedOp(ch, weighted(ch, plan.nested), plan, state, policy);
  const timing = plan.timing?.(ch, nested);
  if (timing) ({ level, nth } = timing);
  return level === undefined ? { at, nth, op: nested } : { at, level, nth, op: nested };
}

/** Attach fail entries and a race to op at the policy's rates. Mutates and returns op. */
export function decorate(ch: Chooser, op: Op, state: GenState, policy: OpPolicy): Op {
  const candidates = failCandidates(op, state);
  if (candidates.length && ch.chance(policy.faultRate)) op.fail = chooseFailsFrom(ch, candidates);
  // the plan is taken after the fail entries are set, as chooseRace would take it
  const plan = racePlan(op, state, policy);
  if (plan && ch.chance(policy.raceRate)) {
    const race = chooseRaceFrom(ch, plan, state, policy);
    if (race) op.race = race;
  }
  return op;
}

/** One complete op (arguments, maybe fail entries and a race); updates state. */
export function randomOp(ch: Chooser, state: GenState, policy: OpPolicy, allow: KindAllowance, kind?: OpKind): Op {
  const op = decorate(ch, buildArgs(ch, kind ?? chooseKind(ch, state, policy, allow), state, policy), state, policy);
  noteOp(state, op);
  return op;
}
