// Structure-aware mutation of op sequences (DESIGN §3 generators), the guided engine's operators:
// pure functions of (op list, Chooser, context) — no corpus bookkeeping, no files — so they can be
// tested on their own and reused by any engine that mutates sequences.
//
//  - Havoc: 1 to 4 stacked mutations among insert a random op (aimed at a gfn the sequence already
//    uses 40% of the time), insert "map, then act" pairs (a fault and a later zap/split/age/walker
//    on its gfn), delete, duplicate, swap, splice with another sequence, tweak arguments (gfn nearby
//    or from the sequence's own gfns, ranges, levels, vcpu, private/shared), re-roll an op, add /
//    remove / retune fail-plan entries, add / remove / retarget races (point, level, nth, racing op
//    aimed into the outer op's range), move or drop finalize, a new teardown ending. Rarer op kinds
//    (split, zap, teardown) are preferred as targets.
//  - Race sweep (a deterministic stage): one op raced at every (level 1..3, nth 1..3); raceSweep.
//  - Every result goes through repair (seq/repair.ts): valid, and legal in the legal domain.
//
// Every choice is drawn from the context's Chooser, in a fixed order: the same chooser state and
// the same input give the same mutant. The guided engine's determinism depends on this order, so a
// change to an operator (even one that draws the same values in another order) changes campaigns.
import type { FaultEntry, Op, VmConfig } from '../../impls/api';
import type { Domain } from './domain';
import { generateRandomOp, policyOf, type GenerateOptions } from './generate';
import {
  chooseFails, chooseGfn, chooseRace, chooseRange, failCandidates, initialState, nearbyGfn, noteOp, pick, randomOp, weighted,
  ENGINE_WALKERS, type Chooser, type GenState, type OpPolicy,
} from './opgen';
import { PROFILES } from './profile';
import { repair, type RepairLimits } from './repair';
import { GEOMETRY_FANOUT, LEVELS, totalGfns, type Sequence } from './sequence';

/** What every operator needs besides the op list: the choices, and the campaign's configuration. */
export interface MutateContext extends RepairLimits {
  readonly ch: Chooser;
  /** the generator options (insert draws ops as the random engine would) */
  readonly gen: GenerateOptions;
  /** policyOf(gen), computed once */
  readonly policy: OpPolicy;
  readonly legal: boolean;
}

export function mutateContext(ch: Chooser, gen: GenerateOptions, maxLength: number): MutateContext {
  const config: VmConfig = gen.config;
  const domain: Domain = gen.domain;
  return { ch, gen, policy: policyOf(gen), config, domain, legal: domain === 'legal', maxLength };
}

/** A sequence splice may take ops from (the guided engine passes its corpus entries). */
export interface SpliceDonor { readonly seq: Sequence }

export type Mutation =
  | 'insert' | 'insertPair' | 'delete' | 'duplicate' | 'swap' | 'splice' | 'tweak' | 'regen'
  | 'addFail' | 'removeFail' | 'tweakFail' | 'addRace' | 'removeRace' | 'retargetRace' | 'finalize' | 'ending';

/** The havoc mix: each mutation with its relative weight. */
export const MUTATIONS: ReadonlyArray<readonly [Mutation, number]> = [
  ['insert', 16], ['insertPair', 8], ['delete', 10], ['duplicate', 4], ['swap', 4], ['splice', 7], ['tweak', 16], ['regen', 10],
  ['addFail', 8], ['removeFail', 4], ['tweakFail', 4], ['addRace', 12], ['removeRace', 3], ['retargetRace', 8],
  ['finalize', 3], ['ending', 5],
];

/** Kinds with a fixed place in a sequence: never inserted, duplicated or swapped by mutation. */
const POSITIONAL = new Set<Op['kind']>(['finalize', 'releaseHkid', 'destroy']);

/** A deep copy of an op (fail entries and race included); much cheaper than structuredClone. */
function cloneOp(op: Op): Op {
  const c = { ...op } as Op;
  if (op.fail) c.fail = op.fail.map(e => ({ ...e }));
  if (op.race) c.race = { ...op.race, op: cloneOp(op.race.op) };
  return c;
}
const cloneOps = (ops: readonly Op[]): Op[] => ops.map(cloneOp);

/**
 * Copy-on-write: the op lists mutateOnce works on share their ops with the parent (havoc copies the
 * list, not the ops: the parent's untouched ops then need no re-validation, seq/sequence.ts
 * sealCanonical), so an operator that changes an op in place first makes ops[p] its own copy.
 */
function own(ops: Op[], p: number): Op {
  return (ops[p] = cloneOp(ops[p]));
}

/** How much addFail prefers an op kind: teardown and zaps have the failure paths that matter most. */
const FAIL_TARGET_WEIGHT: Partial<Record<Op['kind'], number>> = {
  fault: 1, zap: 3, split: 3, age: 1, invalidateDirect: 2, releaseHkid: 4, destroy: 6, atomicZap: 2,
};

/** How much addRace (and the race sweep) prefer an op kind: the rarer kinds have the race points that matter most. */
const RACE_TARGET_WEIGHT: Partial<Record<Op['kind'], number>> = { fault: 1, zap: 2, split: 6, invalidateDirect: 3, atomicZap: 3 };

/**
 * How much tweak and regen prefer an op kind. Faults are about half of every sequence; without
 * this, the rarer ops (where most of the interesting paths start) would hardly ever be changed.
 */
const TWEAK_WEIGHT: Partial<Record<Op['kind'], number>> = {
  fault: 2, zap: 4, split: 6, age: 2, rcuRead: 2, rcuUnlock: 1, atomicZap: 4, invalidateDirect: 2, gracePeriod: 1,
};

const NO_POSITIONAL = { finalize: false, releaseHkid: false, destroy: false };

const BODY_KINDS: Readonly<Record<Domain, readonly Op['kind'][]>> = {
  legal: ['fault', 'zap', 'split', 'age', 'invalidateDirect', 'rcuRead', 'gracePeriod'],
  extended: ['fault', 'zap', 'split', 'age', 'invalidateDirect', 'rcuRead', 'gracePeriod', 'atomicZap'],
};

/** The generator state before ops[p]: what an op inserted or re-rolled there may assume. */
function stateAt(ops: readonly Op[], p: number): GenState {
  const s = initialState();
  for (let i = 0; i < p && i < ops.length; i++) noteOp(s, ops[i]);
  return s;
}

/** Compile-time exhaustiveness of a switch over op kinds: a new kind that is not handled fails to type-check. */
function unhandledKind(op: never): never {
  throw new Error(`mutate: unhandled op kind ${JSON.stringify((op as Op).kind)}`);
}

/** Where ops may be inserted: anywhere before a final destroy. */
function insertLimit(ops: readonly Op[]): number {
  return ops.length && ops[ops.length - 1].kind === 'destroy' ? ops.length - 1 : ops.length;
}

/**
 * The gfns a sequence's ops (and their racing ops) name — fault, walker and atomicZap gfns, range
 * starts — as a weighted list (repeats = weight): faults create the mappings other ops act on, so
 * their gfns count double, and huge-page faults (maxLevel >= 2) triple.
 */
function gfnsOf(ops: readonly Op[]): number[] {
  const out: number[] = [];
  const add = (op: Op): void => {
    switch (op.kind) {
      case 'fault': {
        const w = op.maxLevel >= 2 ? 3 : 2;
        for (let i = 0; i < w; i++) out.push(op.gfn);
        break;
      }
      case 'rcuRead': case 'atomicZap': out.push(op.gfn); break;
      case 'zap': case 'split': case 'age': out.push(op.start); break;
      // no gfn of their own, or (invalidateDirect) shared memory that private faults never touch
      case 'rcuUnlock': case 'invalidateDirect': case 'finalize': case 'gracePeriod': case 'releaseHkid': case 'destroy': break;
      default: unhandledKind(op);
    }
    if (op.race) add(op.race.op);
  };
  ops.forEach(add);
  return out;
}

/** An index drawn with the given weight per op; -1 when every weight is 0. */
function weightedIndex(ch: Chooser, ops: readonly Op[], weight: (op: Op) => number): number {
  const entries: Array<readonly [number, number]> = [];
  ops.forEach((o, i) => { const w = weight(o); if (w > 0) entries.push([i, w]); });
  return entries.length ? weighted(ch, entries) : -1;
}

function tweakable(op: Op): boolean {
  return !POSITIONAL.has(op.kind) && op.kind !== 'invalidateDirect' && op.kind !== 'gracePeriod';
}

// ------------------------------------------------------------------------------------------------
// Argument changes and aiming. Each changes op in place.

/**
 * Change one argument of op. `dict` holds the gfns the sequence already uses (its "dictionary"):
 * moving an op onto one of them makes ops meet — a racing unmap on the huge page the split is
 * splitting, a walker on the table a zap frees — which uniform gfns rarely do. False when op's
 * kind has no argument to change (or none that stays legal).
 */
function tweakOp(mc: MutateContext, op: Op, state: GenState, dict: readonly number[]): boolean {
  const { ch, config, legal } = mc;
  const fan = GEOMETRY_FANOUT[config.geometry];
  const total = totalGfns(config);
  const fromDict = (): number | null => (dict.length ? pick(ch, dict) : null);
  const newRange = (o: { start: number; end: number }): void => {
    const r = ch.int(0, 4);
    if (r === 0) { Object.assign(o, chooseRange(ch, config, PROFILES[mc.policy.profile].range)); return; }
    const g = r === 4 ? fromDict() : null;
    if (g !== null) {
      const nl = pick(ch, [1, 2, fan, fan * fan]);
      o.start = ch.chance(0.7) ? g - (g % nl) : g;
      o.end = Math.min(o.start + nl, total);
      return;
    }
    const len = o.end - o.start;
    if (r === 1) {
      // shift by a little, or by a table
      const start = Math.min(Math.max(nearbyGfn(ch, config, o.start), 0), total - 1);
      o.start = start;
      o.end = Math.min(start + len, total);
    } else if (r === 2) {
      // grow or shrink to an aligned size
      const nl = pick(ch, [1, 2, fan, fan * fan]);
      o.start = ch.chance(0.5) ? o.start - (o.start % nl) : o.start;
      o.end = Math.min(o.start + nl, total);
    } else {
      o.start = 0;
      o.end = total;
    }
  };
  switch (op.kind) {
    case 'fault': {
      const r = ch.int(0, 5);
      if (r === 5) op.gfn = fromDict() ?? op.gfn;
      else if (r === 0) op.gfn = nearbyGfn(ch, config, op.gfn);
      else if (r === 1) op.gfn = chooseGfn(ch, config);
      else if (r === 2) op.vcpu = ch.int(0, config.vcpus - 1);
      else if (r === 3) op.private = !op.private;
      else op.maxLevel = op.private && legal ? (config.hugePages ? Math.max(1, 3 - op.maxLevel) : 1) : PROFILES[mc.policy.profile].sharedMaxLevel(ch);
      if (op.private && legal) {
        op.write = true;
        if (op.maxLevel > (config.hugePages ? 2 : 1)) op.maxLevel = 1;
      } else if (r === 4 && !op.private) {
        op.write = ch.chance(0.5);
      }
      // a racing fault on the same vCPU would be illegal: retarget it
      const nested = op.race?.op;
      if (nested?.kind === 'fault' && nested.vcpu === op.vcpu && config.vcpus > 1) nested.vcpu = (op.vcpu + 1) % config.vcpus;
      return true;
    }
    case 'zap': {
      if (ch.chance(0.3)) op.attr = pick(ch, ['private', 'shared', 'both'] as const);
      else newRange(op);
      return true;
    }
    case 'split': {
      const r = ch.int(0, 2);
      if (r === 0) newRange(op);
      else if (r === 1) op.targetLevel = op.targetLevel === 1 ? 2 : 1;
      else if (legal) {
        if (!config.hugePages) return false;
        op.private = !op.private;
        op.shared = !op.private;
      } else {
        op.private = ch.chance(0.5);
        op.shared = ch.chance(0.7);
      }
      return true;
    }
    case 'age':
      if (!legal && ch.chance(0.3)) op.mirror = !op.mirror;
      else newRange(op);
      return true;
    case 'rcuRead':
      if (ch.chance(0.6)) op.gfn = ch.chance(0.4) ? fromDict() ?? op.gfn : ch.chance(0.5) ? nearbyGfn(ch, config, op.gfn) : chooseGfn(ch, config);
      else if (ch.chance(0.5)) op.private = !op.private;
      else op.walker = ch.int(0, ENGINE_WALKERS - 1);
      return true;
    case 'rcuUnlock': {
      const open = [...state.openWalkers].sort((a, b) => a - b);
      op.walker = open.length ? pick(ch, open) : ch.int(0, ENGINE_WALKERS - 1);
      return true;
    }
    case 'atomicZap':
      if (ch.chance(0.5)) op.gfn = ch.chance(0.5) ? fromDict() ?? op.gfn : nearbyGfn(ch, config, op.gfn);
      else if (ch.chance(0.5)) op.level = ch.int(1, LEVELS - 1);
      else op.private = !op.private;
      return true;
    // nothing to tweak: no arguments, or none a mutation should move
    case 'invalidateDirect': case 'finalize': case 'gracePeriod': case 'releaseHkid': case 'destroy':
      return false;
    default:
      return unhandledKind(op);
  }
}

/**
 * Aim a racing op at what the outer op works on: a gfn the sequence uses that lies in the outer
 * op's range (or the outer op's own gfn). The generator aims near the start of the range; the
 * table that matters (the huge page being split, the leaf being zapped) is often further in.
 */
function aimRace(mc: MutateContext, op: Op, dict: readonly number[]): void {
  const nested = op.race?.op;
  if (!nested) return;
  let targets: number[];
  if (op.kind === 'zap' || op.kind === 'split' || op.kind === 'age') targets = dict.filter(g => g >= op.start && g < op.end);
  else if (op.kind === 'fault' || op.kind === 'atomicZap') targets = [op.gfn];
  else targets = [...dict];
  if (!targets.length) return;
  const g = pick(mc.ch, targets);
  if (nested.kind === 'fault' || nested.kind === 'rcuRead') nested.gfn = g;
  else if (nested.kind === 'zap' || nested.kind === 'age') {
    const len = nested.end - nested.start;
    nested.start = g;
    nested.end = Math.min(g + len, totalGfns(mc.config));
  }
}

/** Aim a new op at a gfn the sequence already uses (the op's race, if any, follows it). */
function aimOp(mc: MutateContext, op: Op, dict: readonly number[]): void {
  const { ch, config } = mc;
  if (!dict.length) return;
  const g = pick(ch, dict);
  const fan = GEOMETRY_FANOUT[config.geometry];
  switch (op.kind) {
    case 'fault': case 'rcuRead': case 'atomicZap':
      op.gfn = ch.chance(0.7) ? g : nearbyGfn(ch, config, g);
      break;
    case 'zap': case 'split': case 'age': {
      const len = pick(ch, [1, 2, fan, fan, fan * fan]);
      op.start = ch.chance(0.7) ? g - (g % len) : g;
      op.end = Math.min(op.start + len, totalGfns(config));
      break;
    }
    case 'rcuUnlock': case 'invalidateDirect': case 'finalize': case 'gracePeriod': case 'releaseHkid': case 'destroy':
      return;
    default:
      unhandledKind(op);
  }
  if (op.race) aimRace(mc, op, dict);
}

/** Change one part of op's race: its level, its nth, its racing op, the racing op's arguments, or all of it. */
function retargetRace(mc: MutateContext, op: Op, state: GenState, dict: readonly number[]): boolean {
  const { ch, policy } = mc;
  const race = op.race;
  if (!race) return false;
  const top = race.at === 'removedPt' ? LEVELS - 1 : LEVELS;
  switch (ch.int(0, 4)) {
    case 0:
      if (ch.chance(0.15)) delete race.level;
      else if (race.level !== undefined && ch.chance(0.6)) race.level = Math.max(1, Math.min(race.level + (ch.chance(0.5) ? 1 : -1), top));
      else race.level = ch.int(1, top);
      return true;
    case 4: {
      // re-roll the whole race (point, level, nth, racing op) as the generator would
      const fresh = chooseRace(ch, op, state, policy);
      if (!fresh) return false;
      op.race = fresh;
      if (ch.chance(0.5)) aimRace(mc, op, dict);
      return true;
    }
    case 1:
      race.nth = Math.max(1, Math.min((race.nth ?? 1) + pick(ch, [-1, 1, 1, 2]), 8));
      return true;
    case 2: {
      // a new racing op at the same point (the generator knows which ones make sense)
      const fresh = chooseRace(ch, op, state, policy);
      if (!fresh) return false;
      race.op = fresh.op;
      if (ch.chance(0.5)) aimRace(mc, op, dict);
      return true;
    }
    default:
      // tweak the racing op's own arguments
      return tweakOp(mc, race.op, state, dict);
  }
}

// ------------------------------------------------------------------------------------------------
// The operators

/**
 * Apply mutation m to ops in place; false when it does not apply (nothing to delete, no race to
 * remove, ...). The result may be invalid or illegal: repair (or havoc, which calls it) fixes that.
 * `donors` are the sequences splice takes ops from.
 */
export function mutateOnce(mc: MutateContext, ops: Op[], m: Mutation, donors: readonly SpliceDonor[]): boolean {
  const { ch, config, legal, policy } = mc;
  const n = ops.length;
  const lim = insertLimit(ops);
  const body = (i: number): boolean => !POSITIONAL.has(ops[i].kind);
  const anyIndex = (pred: (i: number) => boolean): number => {
    const idx = [...Array(n).keys()].filter(pred);
    return idx.length ? pick(ch, idx) : -1;
  };
  switch (m) {
    case 'insert': {
      const p = ch.int(0, lim);
      // half the time the generator's kind mix (mostly faults), half the time any body kind alike
      const state = stateAt(ops, p);
      const op = ch.chance(0.5) || (legal && state.hkidReleased) ? generateRandomOp(ch, state, mc.gen)
        : randomOp(ch, state, policy, NO_POSITIONAL, pick(ch, BODY_KINDS[mc.domain]));
      if (ch.chance(0.4)) aimOp(mc, op, gfnsOf(ops));
      ops.splice(p, 0, op);
      return true;
    }
    case 'insertPair': {
      // "map, then act on it": a fault, and later an op on the same gfn — a zap, a split, aging,
      // a lockless walker — so that the second op has something to work on
      if (legal && stateAt(ops, lim).hkidReleased) return false;
      const p = ch.int(0, lim);
      const state = stateAt(ops, p);
      const fault = randomOp(ch, state, policy, NO_POSITIONAL, 'fault');
      const q = ch.int(p + 1, lim + 1);
      ops.splice(p, 0, fault);
      const later = stateAt(ops, q);
      const kind = pick(ch, ['zap', 'split', 'split', 'age', 'rcuRead'] as const);
      const op = randomOp(ch, later, policy, NO_POSITIONAL, kind);
      if (op.kind === 'split' && legal && config.hugePages && fault.kind === 'fault') {
        // mirror splits exist only with huge pages: split the side the fault mapped
        op.private = fault.private;
        op.shared = !fault.private;
      }
      aimOp(mc, op, fault.kind === 'fault' ? [fault.gfn] : gfnsOf(ops));
      ops.splice(q, 0, op);
      return true;
    }
    case 'delete': {
      if (n <= 1) return false;
      // sometimes a whole chunk
      const p = ch.int(0, n - 1);
      const len = ch.chance(0.2) ? ch.int(2, Math.max(2, Math.min(4, n - 1))) : 1;
      ops.splice(p, Math.min(len, n - 1));
      return true;
    }
    case 'duplicate': {
      const p = anyIndex(body);
      if (p < 0) return false;
      const q = ch.int(p + 1, Math.max(p + 1, lim));
      ops.splice(q, 0, cloneOp(ops[p]));
      return true;
    }
    case 'swap': {
      const p = anyIndex(i => i + 1 < n && body(i) && body(i + 1));
      if (p < 0) return false;
      [ops[p], ops[p + 1]] = [ops[p + 1], ops[p]];
      return true;
    }
    case 'splice': {
      if (donors.length < 2) return false;
      const other = donors[ch.int(0, donors.length - 1)].seq.ops;
      if (ch.chance(0.5)) {
        // prefix of this one + suffix of the other
        const a = ch.int(1, Math.max(1, lim));
        const b = ch.int(0, other.length - 1);
        ops.splice(a, n - a, ...cloneOps(other.slice(b)));
      } else {
        // insert a chunk of the other's body
        const b = ch.int(0, other.length - 1);
        const chunk = other.slice(b, b + ch.int(1, 4)).filter(o => !POSITIONAL.has(o.kind));
        if (!chunk.length) return false;
        ops.splice(ch.int(0, lim), 0, ...cloneOps(chunk));
      }
      return true;
    }
    case 'tweak': {
      const p = weightedIndex(ch, ops, op => (tweakable(op) ? TWEAK_WEIGHT[op.kind] ?? 1 : 0));
      if (p < 0) return false;
      return tweakOp(mc, own(ops, p), stateAt(ops, p), gfnsOf(ops));
    }
    case 'regen': {
      // the op re-rolled as the generator would make it here: same kind, new arguments, fail and race
      const p = weightedIndex(ch, ops, op => (POSITIONAL.has(op.kind) ? 0 : TWEAK_WEIGHT[op.kind] ?? 1));
      if (p < 0) return false;
      const fresh = randomOp(ch, stateAt(ops, p), { ...policy, faultRate: Math.max(policy.faultRate, 0.3), raceRate: Math.max(policy.raceRate, 0.3) }, NO_POSITIONAL, ops[p].kind);
      ops[p] = fresh;
      return true;
    }
    case 'addFail': {
      const p = weightedIndex(ch, ops, op => FAIL_TARGET_WEIGHT[op.kind] ?? 0);
      if (p < 0) return false;
      const state = stateAt(ops, p);
      if (!failCandidates(ops[p], state).length) return false;
      const add = chooseFails(ch, ops[p], state);
      const cur: FaultEntry[] = ops[p].fail ?? [];
      const merged = [...cur];
      for (const e of add) if (!merged.some(x => x.at === e.at && x.call === e.call)) merged.push(e);
      if (merged.length === cur.length) return false;
      own(ops, p).fail = merged;
      return true;
    }
    case 'removeFail': {
      const p = anyIndex(i => !!ops[i].fail?.length);
      if (p < 0) return false;
      const f = own(ops, p).fail!;
      if (f.length === 1 || ch.chance(0.3)) delete ops[p].fail;
      else f.splice(ch.int(0, f.length - 1), 1);
      return true;
    }
    case 'tweakFail': {
      const p = anyIndex(i => !!ops[i].fail?.length);
      if (p < 0) return false;
      const e = pick(ch, own(ops, p).fail!);
      const max = e.at === 'reclaim' ? 10 : 4;
      e.nth = Math.max(1, Math.min((e.nth ?? 1) + pick(ch, [-1, 1, 1, 2]), max));
      if (e.at === 'seamcall' && ch.chance(0.3)) e.error = e.error === 'ERROR' ? 'BUSY' : 'ERROR';
      return true;
    }
    case 'addRace': {
      const targets: Array<readonly [number, number]> = [];
      // an op that already races gets a new race (a re-roll of point, level, nth and racing op)
      ops.forEach((o, i) => { if (RACE_TARGET_WEIGHT[o.kind]) targets.push([i, RACE_TARGET_WEIGHT[o.kind]! * (o.race ? 1 : 2)]); });
      if (!targets.length) return false;
      const p = weighted(ch, targets);
      const race = chooseRace(ch, ops[p], stateAt(ops, p), policy);
      if (!race) return false;
      own(ops, p).race = race;
      if (ch.chance(0.5)) aimRace(mc, ops[p], gfnsOf(ops));
      return true;
    }
    case 'removeRace': {
      const p = anyIndex(i => !!ops[i].race);
      if (p < 0) return false;
      delete own(ops, p).race;
      return true;
    }
    case 'retargetRace': {
      const p = anyIndex(i => !!ops[i].race);
      if (p < 0) return false;
      return retargetRace(mc, own(ops, p), stateAt(ops, p), gfnsOf(ops));
    }
    case 'finalize': {
      const f = ops.findIndex(o => o.kind === 'finalize');
      if (f >= 0) ops.splice(f, 1);
      if (f < 0 || ch.chance(0.6)) ops.splice(ch.int(0, Math.min(lim, 3)), 0, { kind: 'finalize' });
      return true;
    }
    case 'ending': {
      // a new teardown tail: destroy, releaseHkid (+ what may follow it) with or without destroy,
      // or none (the runner appends the real teardown); failures likelier than in the body
      let cut = ops.findIndex(o => o.kind === 'releaseHkid' || o.kind === 'destroy');
      if (cut < 0) cut = ops.length;
      ops.splice(cut);
      const ending = weighted(ch, [['none', 1], ['destroy', 4], ['release', 2], ['release+destroy', 3]] as const);
      const state = stateAt(ops, ops.length);
      const failing = (op: Op): Op => {
        if (ch.chance(0.5)) { const f = chooseFails(ch, op, state); if (f.length) op.fail = f; }
        return op;
      };
      if (ending.startsWith('release')) {
        ops.push(failing({ kind: 'releaseHkid' }));
        ops.push(state.openWalkers.size && ch.chance(0.5) ? { kind: 'rcuUnlock', walker: pick(ch, [...state.openWalkers].sort((a, b) => a - b)) } : { kind: 'gracePeriod' });
      }
      if (ending.endsWith('destroy')) ops.push(failing({ kind: 'destroy' }));
      return true;
    }
  }
}

/** How often havoc starts over from the parent when a stack applied nothing or could not be repaired. */
const HAVOC_ATTEMPTS = 8;

/**
 * A havoc mutant of `parent`: 1 (half the time), 2 (30%) or 3–4 stacked mutations drawn from
 * MUTATIONS, then repaired; null when HAVOC_ATTEMPTS stacks all failed. `parent` is not modified.
 */
export function havoc(mc: MutateContext, parent: readonly Op[], donors: readonly SpliceDonor[]): { seq: Sequence; mutations: Mutation[] } | null {
  const { ch } = mc;
  for (let attempt = 0; attempt < HAVOC_ATTEMPTS; attempt++) {
    // the ops stay the parent's until an operator changes one (own)
    const ops = parent.slice();
    const stack = 1 + (ch.chance(0.5) ? 0 : ch.chance(0.6) ? 1 : ch.int(2, 3));
    const applied: Mutation[] = [];
    for (let i = 0; i < stack; i++) {
      const m = weighted(ch, MUTATIONS);
      if (mutateOnce(mc, ops, m, donors)) applied.push(m);
    }
    if (!applied.length) continue;
    const seq = repair(ops, mc);
    if (!seq) continue;
    return { seq, mutations: applied };
  }
  return null;
}

/** Racing ops tried per (level, nth) of a sweep. */
const SWEEP_ROLLS = 2;

/**
 * The race sweep, a deterministic stage in the manner of AFL's: one of the ops whose kind is in
 * `kinds` (never a fault; split > invalidateDirect, atomicZap > zap, drawn by RACE_TARGET_WEIGHT)
 * is raced at every level 1..3 and occurrence nth 1..3, with SWEEP_ROLLS racing ops each that the
 * generator picks for that op and that are aimed at a gfn the sequence maps there. A race fires at
 * one (point, level, nth) only: a space small enough to sweep, and too sparse to hit by random
 * tweaks. Returns the repaired candidates (up to 18), or null when no op qualifies.
 */
export function raceSweep(mc: MutateContext, ops: readonly Op[], kinds: ReadonlySet<string>): Sequence[] | null {
  const { ch, policy } = mc;
  const p = weightedIndex(ch, ops, op => (op.kind === 'fault' || !kinds.has(op.kind) ? 0 : RACE_TARGET_WEIGHT[op.kind] ?? 0));
  if (p < 0) return null;
  const dict = gfnsOf(ops);
  const state = stateAt(ops, p);
  const out: Sequence[] = [];
  for (let level = 1; level <= 3; level++) {
    for (let nth = 1; nth <= 3; nth++) {
      for (let roll = 0; roll < SWEEP_ROLLS; roll++) {
        // only the raced op is copied (own): the others stay the parent's
        const copy = ops.slice();
        const race = chooseRace(ch, copy[p], state, policy);
        if (!race) continue;
        own(copy, p).race = { ...race, level, nth };
        aimRace(mc, copy[p], dict);
        const seq = repair(copy, mc);
        if (seq) out.push(seq);
      }
    }
  }
  return out;
}
