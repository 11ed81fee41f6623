// Structure-aware op construction, shared by the random generator (choices from seedrandom) and the
// byte decoder (choices from input bytes). Sharing it means both engines reach the same op shapes,
// the same collision-heavy gfn window and the same legal-domain restrictions; only the source of the
// choices differs.
//
// Legal by construction: in the legal domain every op built here passes legalityErrors, given the
// state it was built in (see GenState). The tests check this over thousands of sequences.

import type { FaultEntry, Op, OpKind, Race, RacePoint, VmConfig } from '../../impls/api';
import { GEOMETRY_FANOUT, totalGfns } from './sequence';

import type { Domain } from './domain';

/** A source of choices. Implementations: seedrandom (generate.ts), input bytes (decode.ts). */
export interface Chooser {
  /** an integer in [lo, hi] (lo when hi <= lo) */
  int(lo: number, hi: number): number;
  /** true with probability p */
  chance(p: number): boolean;
}

export interface OpPolicy {
  config: VmConfig;
  domain: Domain;
  /** probability that an op with plausible fault points carries a fail entry */
  faultRate: number;
  /** probability that an op with race points carries a race */
  raceRate: number;
}

/** Which rarely useful or position-sensitive kinds the caller lets randomOp pick. */
export interface KindAllowance {
  finalize: boolean;
  releaseHkid: boolean;
  destroy: boolean;
}

/** What the ops emitted so far imply for the next one. */
export interface GenState {
  finalized: boolean;
  hkidReleased: boolean;
  destroyed: boolean;
  /** walkers possibly inside a read section (a racing rcuRead counts: it may have fired) */
  openWalkers: Set<number>;
}

/** Walker ids the engines use: few, so that rcuRead/rcuUnlock pairs actually meet. */
export const ENGINE_WALKERS = 4;

export function initialState(): GenState {
  return { finalized: false, hkidReleased: false, destroyed: false, openWalkers: new Set() };
}

/** Record the effects of an emitted op on the state. */
export function noteOp(state: GenState, op: Op): void {
  if (op.race?.op.kind === 'rcuRead') state.openWalkers.add(op.race.op.walker);
  switch (op.kind) {
    case 'finalize': state.finalized = true; break;
    case 'releaseHkid': state.hkidReleased = true; break;
    case 'destroy': state.destroyed = true; break;
    case 'rcuRead': state.openWalkers.add(op.walker); break;
    case 'rcuUnlock': state.openWalkers.delete(op.walker); break;
    default: break;
  }
}

export function pick<T>(ch: Chooser, items: readonly T[]): T {
  return items[ch.int(0, items.length - 1)];
}

export function weighted<T>(ch: Chooser, entries: ReadonlyArray<readonly [T, number]>): T {
  const live = entries.filter(([, w]) => w > 0);
  if (!live.length) throw new Error('weighted: no entry has a positive weight');
  const total = live.reduce((s, [, w]) => s + w, 0);
  let r = ch.int(0, total - 1);
  for (const [item, w] of live) {
    if (r < w) return item;
    r -= w;
  }
  return live[live.length - 1][0];
}

// ------------------------------------------------------------------------------------------------
// The gfn window. Bugs in this code live where tables are shared, split, zapped and raced on, so the
// engines stay in a few tables instead of spreading over the whole address space (tooling.md §8.5).

/**
 * Map a byte to a gfn in the collision window.
 *  - compact (fanout 8): 7/8 of the bytes land in 0..63 (one level-2 table), the rest in 0..511.
 *  - x86 (fanout 512): a small offset 0..15 from one of the bases 0 (same level-1 table), 512
 *    (neighbouring level-1 table, same level-2), 262144 (neighbouring level-2 table), 2^27
 *    (neighbouring level-3 table), weighted towards 0.
 */
export function windowGfn(config: VmConfig, b: number): number {
  const fanout = GEOMETRY_FANOUT[config.geometry];
  b &= 0xff;
  if (config.geometry === 'compact') {
    if (b < 224) return b % (fanout * fanout);
    return ((b - 224) * 16 + (b & 7)) % (fanout ** 3);
  }
  const offset = b & 15;
  const sel = b >> 4;
  const base = sel <= 8 ? 0 : sel <= 12 ? fanout : sel <= 14 ? fanout ** 2 : fanout ** 3;
  return base + offset;
}

export function chooseGfn(ch: Chooser, config: VmConfig): number {
  return windowGfn(config, ch.int(0, 255));
}

/** A gfn at or next to `gfn`: racing ops mostly target the entry (or the table) the outer op touches. */
export function nearbyGfn(ch: Chooser, config: VmConfig, gfn: number): number {
  const delta = pick(ch, [0, 0, 0, 1, -1, 2, GEOMETRY_FANOUT[config.geometry]]);
  return Math.min(Math.max(gfn + delta, 0), totalGfns(config) - 1);
}

/**
 * A gfn range [start, end): mostly a few pages, or a whole level-1 or level-2 table's worth (aligned,
 * so it covers a huge page or a page table exactly), rarely the whole address space (memslot removal).
 */
export function chooseRange(ch: Chooser, config: VmConfig): { start: number; end: number } {
  const total = totalGfns(config);
  const fanout = GEOMETRY_FANOUT[config.geometry];
  if (ch.chance(0.04)) return { start: 0, end: total };
  const len = weighted(ch, [[1, 4], [2, 2], [4, 1], [fanout, 3], [fanout * fanout, 1]] as const);
  let start = chooseGfn(ch, config);
  if (len >= fanout && !ch.chance(0.3)) start -= start % len;
  return { start, end: Math.min(start + len, total) };
}

// ------------------------------------------------------------------------------------------------
// Op kinds and arguments

function kindWeights(state: GenState, policy: OpPolicy, allow: KindAllowance): Array<readonly [OpKind, number]> {
  const free = ENGINE_WALKERS - state.openWalkers.size;
  const open = state.openWalkers.size;
  const destroy: readonly [OpKind, number] = ['destroy', allow.destroy ? 1 : 0];
  if (state.hkidReleased && policy.domain === 'legal') {
    // Only the rest of the teardown may follow tdx_mmu_release_hkid in the kernel.
    return [['gracePeriod', 4], ['rcuUnlock', open ? 4 : 0], destroy];
  }
  const extended = policy.domain === 'extended';
  return [
    ['fault', 40], ['zap', 9], ['split', 5], ['age', 5], ['invalidateDirect', 4],
    ['finalize', allow.finalize && !state.finalized ? 2 : 0],
    ['rcuRead', free > 0 ? 5 : 0], ['rcuUnlock', open ? 5 : 0], ['gracePeriod', 5],
    ['releaseHkid', allow.releaseHkid && !state.hkidReleased ? 1 : 0], destroy,
    ['atomicZap', extended ? 5 : 0],
  ];
}

export function chooseKind(ch: Chooser, state: GenState, policy: OpPolicy, allow: KindAllowance): OpKind {
  return weighted(ch, kindWeights(state, policy, allow));
}

function freeWalker(ch: Chooser, state: GenState): number {
  const free = [...Array(ENGINE_WALKERS).keys()].filter((w) => !state.openWalkers.has(w));
  return free.length ? pick(ch, free) : ch.int(0, ENGINE_WALKERS - 1);
}

function openWalker(ch: Chooser, state: GenState): number {
  const open = [...state.openWalkers].sort((a, b) => a - b);
  return open.length ? pick(ch, open) : ch.int(0, ENGINE_WALKERS - 1);
}

/** Write and maxLevel of a private fault: the legal domain only does 4K (2M with hugePages) writes. */
function privateFaultShape(ch: Chooser, policy: OpPolicy): { write: boolean; maxLevel: number } {
  if (policy.domain === 'legal') {
    return { write: true, maxLevel: policy.config.hugePages && ch.chance(0.3) ? 2 : 1 };
  }
  return { write: !ch.chance(0.25), maxLevel: ch.chance(0.6) ? 1 : ch.int(2, 3) };
}

function faultOp(ch: Chooser, policy: OpPolicy, vcpu: number, gfn: number, priv: boolean): Op {
  const shape = priv ? privateFaultShape(ch, policy) : { write: ch.chance(0.5), maxLevel: ch.int(1, 3) };
  return { kind: 'fault', vcpu, gfn, private: priv, ...shape };
}

/** The arguments of an op of `kind` (no fail, no race). */
export function buildArgs(ch: Chooser, kind: OpKind, state: GenState, policy: OpPolicy): Op {
  const { config } = policy;
  const legal = policy.domain === 'legal';
  switch (kind) {
    case 'fault': {
      // Before FINALIZE no vCPU runs: the only faults are KVM_TDX_INIT_MEM_REGION's private ones.
      const priv = ch.chance(0.6) || (legal && !state.finalized);
      return faultOp(ch, policy, ch.int(0, config.vcpus - 1), chooseGfn(ch, config), priv);
    }
    case 'zap':
      return { kind, ...chooseRange(ch, config), attr: pick(ch, ['private', 'shared', 'both'] as const) };
    case 'split': {
      const range = chooseRange(ch, config);
      const targetLevel = ch.chance(0.75) ? 1 : 2;
      if (legal) {
        // Mirror splits exist only with Sean's huge-page series, and run apart from direct splits.
        const mirror = config.hugePages && ch.chance(0.25);
        return { kind, ...range, targetLevel, private: mirror, shared: !mirror };
      }
      return { kind, ...range, targetLevel, private: ch.chance(0.3), shared: ch.chance(0.8) };
    }
    case 'age':
      return { kind, ...chooseRange(ch, config), mirror: !legal && ch.chance(0.3) };
    case 'rcuRead':
      return { kind, walker: freeWalker(ch, state), gfn: chooseGfn(ch, config), private: ch.chance(0.5) };
    case 'rcuUnlock':
      return { kind, walker: openWalker(ch, state) };
    case 'atomicZap':
      return { kind, gfn: chooseGfn(ch, config), level: ch.int(1, 3), private: ch.chance(0.85) };
    case 'invalidateDirect':
    case 'finalize':
    case 'gracePeriod':
    case 'releaseHkid':
    case 'destroy':
      return { kind };
  }
}

// ------------------------------------------------------------------------------------------------
// Fault-plan entries: only points the op can plausibly reach, so the budget is not wasted.

const busy = (call: FaultEntry['call'], error: 'BUSY' | 'ERROR' = 'BUSY'): FaultEntry => ({ at: 'seamcall', call, error });

/** Fault points the op can reach (nth left to the caller). Empty for ops with none. */
export function failCandidates(op: Op, state: GenState): FaultEntry[] {
  switch (op.kind) {
    case 'fault':
      return op.private
        ? [{ at: 'topup' }, { at: 'cmpxchg' }, busy('SEPT.ADD'), busy(state.finalized ? 'PAGE.AUG' : 'PAGE.ADD')]
        : [{ at: 'topup' }, { at: 'cmpxchg' }];
    case 'zap': {
      const removal = op.attr === 'shared' ? [] : (['RANGE.BLOCK', 'TRACK', 'PAGE.REMOVE'] as const)
        .flatMap((c) => [busy(c), busy(c, 'ERROR')]);
      return [{ at: 'yield' }, ...removal];
    }
    case 'split':
      return [{ at: 'splitAlloc' }, { at: 'cmpxchg' }, ...(op.private ? [busy('PAGE.DEMOTE')] : [])];
    case 'age':
      return [{ at: 'cmpxchg' }];
    case 'invalidateDirect':
      return [{ at: 'yield' }, { at: 'cmpxchg' }];
    case 'releaseHkid':
      return [{ at: 'hkidRelease' }];
    case 'destroy':
      return [{ at: 'reclaim' }, { at: 'hkidRelease' }, busy('PAGE.REMOVE')];
    case 'atomicZap':
      return [{ at: 'cmpxchg' }, busy('RANGE.BLOCK')];
    default:
      return [];
  }
}

function chooseFail(ch: Chooser, candidates: FaultEntry[]): FaultEntry {
  const entry = pick(ch, candidates);
  // Teardown reclaims the TD control pages (TDCS, TDCS, TDR) before any S-EPT table: a reclaim
  // failure of an S-EPT page is the 4th reclaim or later.
  const nth = entry.at === 'reclaim' ? (ch.chance(0.3) ? ch.int(1, 3) : ch.int(4, 8)) : ch.chance(0.75) ? 1 : ch.int(2, 3);
  return entry.at === 'seamcall' ? { at: entry.at, nth, call: entry.call, error: entry.error } : { at: entry.at, nth };
}

/** One fail entry, sometimes two different ones. */
export function chooseFails(ch: Chooser, op: Op, state: GenState): FaultEntry[] {
  const candidates = failCandidates(op, state);
  if (!candidates.length) return [];
  const first = chooseFail(ch, candidates);
  if (!ch.chance(0.2)) return [first];
  const second = chooseFail(ch, candidates);
  const same = second.at === first.at && second.call === first.call;
  return same ? [first] : [first, second];
}

// ------------------------------------------------------------------------------------------------
// Races: a nested op that runs when the outer op reaches a race point.

type NestedKind = 'fault' | 'zap' | 'age' | 'rcuRead' | 'gracePeriod';

interface RacePlan {
  points: readonly RacePoint[];
  nested: ReadonlyArray<readonly [NestedKind, number]>;
  /** gfn the nested op should be near; anywhere in the window when absent */
  gfn?: number;
  /** for a nested fault: private flag and excluded vcpu */
  private: boolean;
  vcpu?: number;
}

/** Where op can be raced and by what; null if it has no race points worth using. */
function racePlan(op: Op, state: GenState, policy: OpPolicy): RacePlan | null {
  const rcu = state.openWalkers.size < ENGINE_WALKERS ? 2 : 0;
  switch (op.kind) {
    case 'fault': {
      // A racing fault needs another vCPU (one vCPU cannot fault twice at once).
      const other = policy.config.vcpus > 1 ? 6 : 0;
      return {
        points: op.private ? ['install', 'frozen', 'walk'] : ['install', 'walk'],
        nested: [['fault', other], ['gracePeriod', 2], ['rcuRead', rcu]],
        gfn: op.gfn, private: op.private, vcpu: op.vcpu,
      };
    }
    case 'zap':
      // Under the write lock only lockless actors can run: aging, RCU walkers, grace periods.
      return { points: ['walk'], nested: [['age', 3], ['rcuRead', rcu], ['gracePeriod', 2]], gfn: op.start, private: op.attr !== 'shared' };
    case 'split':
      // The split drops mmu_lock to allocate: a conversion or punch hole (zap) or a fault can run then.
      return { points: ['walk'], nested: [['zap', 4], ['fault', 2], ['gracePeriod', 1]], gfn: op.start, private: op.private };
    case 'invalidateDirect':
      // Direct roots are zapped under the read lock: a shared fault can race handle_removed_pt.
      return { points: ['removedPt'], nested: [['fault', 1]], private: false };
    case 'atomicZap':
      return { points: ['frozen', 'removedPt'], nested: [['fault', 3], ['gracePeriod', 1]], gfn: op.gfn, private: op.private };
    default:
      return null;
  }
}

function raceLevel(ch: Chooser, at: RacePoint): number | undefined {
  if (ch.chance(0.5)) return undefined;
  // handle_removed_pt only runs on non-root tables (levels 1..3).
  return at === 'removedPt' ? ch.int(1, 3) : ch.int(1, 4);
}

function nestedOp(ch: Chooser, kind: NestedKind, plan: RacePlan, state: GenState, policy: OpPolicy): Op {
  const { config } = policy;
  const near = (): number => (plan.gfn === undefined ? chooseGfn(ch, config) : nearbyGfn(ch, config, plan.gfn));
  switch (kind) {
    case 'fault': {
      let vcpu = ch.int(0, config.vcpus - 1);
      if (plan.vcpu !== undefined && config.vcpus > 1 && vcpu === plan.vcpu) vcpu = (vcpu + 1) % config.vcpus;
      return faultOp(ch, policy, vcpu, near(), plan.private || (policy.domain === 'legal' && !state.finalized));
    }
    case 'zap': {
      const start = near();
      const end = Math.min(start + pick(ch, [1, 2, GEOMETRY_FANOUT[config.geometry]]), totalGfns(config));
      return { kind: 'zap', start, end, attr: plan.private ? 'private' : 'shared' };
    }
    case 'age': {
      const start = near();
      const end = Math.min(start + pick(ch, [1, 2, GEOMETRY_FANOUT[config.geometry]]), totalGfns(config));
      return { kind: 'age', start, end, mirror: policy.domain === 'extended' && ch.chance(0.3) };
    }
    case 'rcuRead':
      return { kind: 'rcuRead', walker: freeWalker(ch, state), gfn: near(), private: plan.private };
    case 'gracePeriod':
      return { kind: 'gracePeriod' };
  }
}

/** A race for op, or undefined if op has no usable race point. */
export function chooseRace(ch: Chooser, op: Op, state: GenState, policy: OpPolicy): Race | undefined {
  const plan = racePlan(op, state, policy);
  if (!plan) return undefined;
  const at = pick(ch, plan.points);
  let level = raceLevel(ch, at);
  let nth = ch.chance(0.8) ? 1 : 2;
  const nested = nestedOp(ch, weighted(ch, plan.nested), plan, state, policy);
  // An unmap can only run while the split has dropped mmu_lock to allocate: that is the second time
  // the walk reaches the huge leaf's level (the first visit found it and went to allocate).
  if (op.kind === 'split' && nested.kind === 'zap') {
    level = ch.chance(0.7) ? 2 : 3;
    nth = 2;
  }
  return level === undefined ? { at, nth, op: nested } : { at, level, nth, op: nested };
}

/** Attach fail entries and a race to op at the policy's rates. Mutates and returns op. */
export function decorate(ch: Chooser, op: Op, state: GenState, policy: OpPolicy): Op {
  if (failCandidates(op, state).length && ch.chance(policy.faultRate)) op.fail = chooseFails(ch, op, state);
  if (racePlan(op, state, policy) && ch.chance(policy.raceRate)) {
    const race = chooseRace(ch, op, state, policy);
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
