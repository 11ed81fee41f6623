// Op kinds described once (issue 8). Everything the harness knows about an op kind — its fields
// (validation, defaults, serialization order), its legal-domain rules, how the engines generate it
// (weight, arguments, fault-plan candidates, race plan, effect on the generator state), its one-line
// description and the minimizer's simplifications — is one entry of OP_KIND_SPECS. The table is
// typed over OpKind, so a kind added to impls/api.ts does not compile until it has an entry here.
//
// Consumers: sequence.ts (readOp), legality.ts (legalityErrors), opgen.ts (chooseKind, buildArgs,
// failCandidates, racePlan, nestedOp, noteOp), ddmin.ts (variants), run/findings.ts (describeOp).
//
// The generator facets consume choices in a fixed order (seeded campaigns are reproducible from
// (seed, index)): never reorder the draws inside `build`, `nested`, `race` or `timing`.

import type {
  AgeOp, FaultEntry, FaultOp, Op, OpKind, Race, RacePoint, SplitOp, VmConfig, ZapOp,
} from '../../impls/api';
import {
  type Chooser, type GenState, type KindAllowance, type OpPolicy, ENGINE_WALKERS, chooseGfn, chooseRange, nearbyGfn, pick,
} from './choices';
import { GEOMETRY_FANOUT, LEVELS, MAX_WALKER, totalGfns } from './fields';
import { PROFILES } from './profile';
import type { Field } from './strict_json';

/** The fields of an op of type O other than kind, fail and race. */
export type FieldName<O extends Op> = Exclude<keyof O, 'kind' | 'fail' | 'race'>;

/**
 * Reads and validates one field of a raw op, filling its default; `sofar` holds the fields read
 * before it (in table order), e.g. `start` for the check of `end`.
 */
export type FieldReader<O extends Op, F extends FieldName<O>> = (v: Field, config: VmConfig, sofar: Partial<O>) => O[F];

/** What kindWeights passes to the weight facets. */
export interface WeightContext {
  state: GenState;
  policy: OpPolicy;
  allow: KindAllowance;
  /** engine walker ids not inside a read section */
  free: number;
  /** engine walker ids possibly inside a read section */
  open: number;
}

/** Where an op can be raced and by what. */
export interface RacePlan {
  points: readonly RacePoint[];
  /** kinds of nested op with their weights (each must have a `nested` builder) */
  nested: ReadonlyArray<readonly [OpKind, number]>;
  /** gfn the nested op should be near; anywhere in the window when absent */
  gfn?: number;
  /** for a nested fault: private flag and excluded vcpu */
  private: boolean;
  vcpu?: number;
  /** level and nth that replace the drawn ones for this nested op (the draws happen only when it applies) */
  timing?(ch: Chooser, nested: Op): { level: number; nth: number } | undefined;
}

/** While an op runs, which other actors can race with it. */
export interface Concurrency {
  /** a vCPU fault (it takes mmu_lock for read, and needs the vCPUs alive) */
  vcpuFault: boolean;
  /** an unmap (it needs mmu_lock for write) */
  unmap: boolean;
}

/** Everything about one op kind. Every facet is required: a kind without one says so explicitly. */
export interface OpKindSpec<O extends Op> {
  /**
   * Every field (the compiler checks that none is missing), in the canonical order of serialized
   * ops and of validation, each with its reader.
   */
  fields: { readonly [F in FieldName<O>]-?: FieldReader<O, F> };
  /** One readable line (fail entries and race are appended by describeOp). */
  describe(op: O): string;

  /** Why the op (top level or racing) is outside the legal domain, or null. */
  illegal(op: O, config: VmConfig): string | null;
  /** Why the op (top level or racing) is illegal before FINALIZE, when no vCPU runs, or null. */
  illegalBeforeFinalize(op: O): string | null;
  /** Why the op is illegal right after `prev` (the op before it, if any), or null. */
  illegalAfter(prev: Op | undefined, config: VmConfig): string | null;
  /** Why the op cannot run as the racing op of `outer`: its reasons, empty when it can. */
  illegalDuring(op: O, outer: Op): string[];
  /** Which racing ops can run while this op runs. */
  concurrency: Concurrency;
  /**
   * Whether the kernel may still issue it after tdx_mmu_release_hkid (the rest of VM teardown), and
   * then with which weight the legal-domain generator picks it; `rank` is its place in that weight
   * list (fixed: the position decides which kind a draw maps to).
   */
  afterReleaseHkid: { rank: number; weight(ctx: WeightContext): number } | null;

  /** Generation weight among all kinds (0: not now). */
  weight(ctx: WeightContext): number;
  /** The arguments of a generated op (no fail, no race). */
  build(ch: Chooser, state: GenState, policy: OpPolicy): O;
  /** The arguments of a generated racing op of this kind, or null if the engines never race with it. */
  nested: ((ch: Chooser, plan: RacePlan, state: GenState, policy: OpPolicy) => O) | null;
  /** Fault points the op can plausibly reach (nth left to the caller); empty for none. */
  failCandidates(op: O, state: GenState): FaultEntry[];
  /** Where the op can be raced and by what; null if it has no race points worth using. */
  racePlan(op: O, state: GenState, policy: OpPolicy): RacePlan | null;
  /** Record the op's effects on the generator state (`racing`: it is the nested op of a race). */
  note(state: GenState, op: O, racing: boolean): void;

  /** Simpler versions of the op's own fields, most aggressive first (the minimizer). */
  simplify(op: O): Iterable<O>;
  /** Simplifications that involve the op's race as well (tried after the race's own ones). */
  simplifyWithRace(op: O, race: Race): Iterable<O>;
}

export type OpKindTable = { readonly [K in OpKind]: OpKindSpec<Extract<Op, { kind: K }>> };

// ------------------------------------------------------------------------------------------------
// Shared pieces

const hex = (n: number): string => `0x${n.toString(16)}`;
const privacy = (priv: boolean): string => (priv ? 'private' : 'shared');

/** The range message of gfn fields, per geometry; built once, since every gfn field read passes it. */
const GFN_WHY = new Map<string, string>();
function gfnWhy(config: VmConfig): string {
  let why = GFN_WHY.get(config.geometry);
  if (why === undefined) GFN_WHY.set(config.geometry, why = `${config.geometry} geometry has ${totalGfns(config)} gfns`);
  return why;
}

const gfnField = (v: Field, config: VmConfig): number => v.int(0, totalGfns(config) - 1, undefined, gfnWhy(config));
/** [start, end) with 0 <= start < end <= total gfns. */
const startField = gfnField;
const endField = (v: Field, config: VmConfig, sofar: { start?: number }): number => {
  const end = v.int(1, totalGfns(config), undefined, gfnWhy(config));
  const start = sofar.start as number;
  if (end <= start) v.fail(`${end} must be greater than start (${start})`);
  return end;
};
const walkerField = (v: Field): number => v.int(0, MAX_WALKER, 0);

const legal = (): null => null;
const noRaceRules = (): string[] => [];
const noEffect = (): void => undefined;
const nothing = (): [] => [];
const noFaultPoints = (): FaultEntry[] => [];
const noRacePoints = (): null => null;
const ANY_RACER: Concurrency = { vcpuFault: true, unmap: false };
const NO_RACER: Concurrency = { vcpuFault: false, unmap: false };

/** Candidate values below v, most aggressive first (the minimizer's lowering of a number). */
export const lower = (v: number, floor: number): number[] => {
  const out: number[] = [];
  for (const c of [floor, Math.floor(v / 2), v - 1]) if (c >= floor && c < v && !out.includes(c)) out.push(c);
  return out;
};

function* lowerRange<O extends ZapOp | AgeOp | SplitOp>(op: O): Generator<O> {
  const len = op.end - op.start;
  for (const s of lower(op.start, 0)) yield { ...op, start: s, end: s + len };
  for (const l of lower(len, 1)) yield { ...op, end: op.start + l };
}

const busy = (call: FaultEntry['call'], error: 'BUSY' | 'ERROR' = 'BUSY'): FaultEntry => ({ at: 'seamcall', call, error });

/**
 * A fault's fail candidates (asked for every generated fault): constant lists, frozen because
 * callers only read them (chooseFail copies the entry it picks).
 */
const frozenFails = (entries: FaultEntry[]): FaultEntry[] => Object.freeze(entries.map(e => Object.freeze(e))) as FaultEntry[];
const FAULT_FAILS_SHARED = frozenFails([{ at: 'topup' }, { at: 'cmpxchg' }]);
const FAULT_FAILS_AUG = frozenFails([{ at: 'topup' }, { at: 'cmpxchg' }, busy('SEPT.ADD'), busy('PAGE.AUG')]);
const FAULT_FAILS_ADD = frozenFails([{ at: 'topup' }, { at: 'cmpxchg' }, busy('SEPT.ADD'), busy('PAGE.ADD')]);

/** Weight 2 for a racing rcuRead while an engine walker id is free. */
const rcuWeight = (state: GenState): number => (state.openWalkers.size < ENGINE_WALKERS ? 2 : 0);

/** The gfn a nested op targets: near the plan's gfn, or anywhere in the window. */
function nearPlan(ch: Chooser, plan: RacePlan, config: VmConfig): number {
  return plan.gfn === undefined ? chooseGfn(ch, config) : nearbyGfn(ch, config, plan.gfn);
}

/** A short range from a nested op's start: one or two pages or one level-1 table's worth. */
function nestedEnd(ch: Chooser, config: VmConfig, start: number): number {
  return Math.min(start + pick(ch, [1, 2, GEOMETRY_FANOUT[config.geometry]]), totalGfns(config));
}

/** Write and maxLevel of a private fault: the legal domain only does 4K (2M with hugePages) writes. */
function privateFaultShape(ch: Chooser, policy: OpPolicy): { write: boolean; maxLevel: number } {
  if (policy.domain === 'legal') {
    return { write: true, maxLevel: policy.config.hugePages && ch.chance(0.3) ? 2 : 1 };
  }
  return { write: !ch.chance(0.25), maxLevel: ch.chance(0.6) ? 1 : ch.int(2, LEVELS - 1) };
}

function faultOp(ch: Chooser, policy: OpPolicy, vcpu: number, gfn: number, priv: boolean): FaultOp {
  const shape = priv ? privateFaultShape(ch, policy) : { write: ch.chance(0.5), maxLevel: PROFILES[policy.profile].sharedMaxLevel(ch) };
  return { kind: 'fault', vcpu, gfn, private: priv, ...shape };
}

function freeWalker(ch: Chooser, state: GenState): number {
  const free = [...Array(ENGINE_WALKERS).keys()].filter((w) => !state.openWalkers.has(w));
  return free.length ? pick(ch, free) : ch.int(0, ENGINE_WALKERS - 1);
}

function openWalker(ch: Chooser, state: GenState): number {
  const open = [...state.openWalkers].sort((a, b) => a - b);
  return open.length ? pick(ch, open) : ch.int(0, ENGINE_WALKERS - 1);
}

/** A zap of the whole gfn space that covers private memory (what closing guest_memfd does). */
export function zapsAllPrivate(op: Op | undefined, config: VmConfig): boolean {
  return !!op && op.kind === 'zap' && op.attr !== 'shared' && op.start === 0 && op.end === totalGfns(config) && !op.fail?.length;
}

/** Kinds without fields or rules of their own share these facets. */
const plain = {
  fields: {},
  illegal: legal,
  illegalBeforeFinalize: legal,
  illegalAfter: legal,
  illegalDuring: noRaceRules,
  afterReleaseHkid: null,
  nested: null,
  failCandidates: noFaultPoints,
  racePlan: noRacePoints,
  note: noEffect,
  simplify: nothing,
  simplifyWithRace: nothing,
} as const;

// ------------------------------------------------------------------------------------------------
// The table. Entries in OP_KINDS order (which is also the order of the generation weight list).

export const OP_KIND_SPECS: OpKindTable = {
  fault: {
    fields: {
      vcpu: (v, config) => v.int(0, config.vcpus - 1, 0, `the VM has ${config.vcpus} vcpus`),
      gfn: gfnField,
      private: (v) => v.bool(),
      write: (v) => v.bool(true),
      maxLevel: (v) => v.int(1, LEVELS - 1, 1),
    },
    describe: (op) => `fault vcpu${op.vcpu} ${privacy(op.private)} gfn=${hex(op.gfn)}${op.write ? ' write' : ' read'} maxLevel=${op.maxLevel}`,
    illegal(op, config) {
      if (!op.private) return null;
      // TDX maps private memory RWX: KVM handles every private EPT violation as a write fault.
      if (!op.write) return 'private fault with write=false (private faults are always write faults)';
      if (!config.hugePages && op.maxLevel > 1) return `private fault with maxLevel ${op.maxLevel} (mirror leaves are 4K without hugePages)`;
      if (config.hugePages && op.maxLevel > 2) return `private fault with maxLevel ${op.maxLevel} (TDX huge pages are at most 2M)`;
      return null;
    },
    // Before FINALIZE no vCPU runs: only KVM_TDX_INIT_MEM_REGION maps (private) memory.
    illegalBeforeFinalize: (op) => (op.private ? null : 'shared fault before finalize: no vCPU runs before the TD is RUNNABLE'),
    illegalAfter: legal,
    illegalDuring(op, outer) {
      const reasons: string[] = [];
      if (!OP_KIND_SPECS[outer.kind].concurrency.vcpuFault) reasons.push(`a vCPU fault cannot run during ${outer.kind}`);
      // A vCPU is one thread: it cannot fault again while its own fault is in progress.
      if (outer.kind === 'fault' && op.vcpu === outer.vcpu) reasons.push(`racing fault on the same vcpu ${outer.vcpu} as the outer fault`);
      return reasons;
    },
    concurrency: ANY_RACER,
    afterReleaseHkid: null,
    weight: () => 40,
    build(ch, state, policy) {
      // Before FINALIZE no vCPU runs: the only faults are KVM_TDX_INIT_MEM_REGION's private ones.
      const priv = ch.chance(PROFILES[policy.profile].privateFault) || (policy.domain === 'legal' && !state.finalized);
      return faultOp(ch, policy, ch.int(0, policy.config.vcpus - 1), chooseGfn(ch, policy.config), priv);
    },
    nested(ch, plan, state, policy) {
      const { config } = policy;
      let vcpu = ch.int(0, config.vcpus - 1);
      if (plan.vcpu !== undefined && config.vcpus > 1 && vcpu === plan.vcpu) vcpu = (vcpu + 1) % config.vcpus;
      return faultOp(ch, policy, vcpu, nearPlan(ch, plan, config), plan.private || (policy.domain === 'legal' && !state.finalized));
    },
    failCandidates: (op, state) => (op.private ? (state.finalized ? FAULT_FAILS_AUG : FAULT_FAILS_ADD) : FAULT_FAILS_SHARED),
    racePlan(op, state, policy) {
      // A racing fault needs another vCPU (one vCPU cannot fault twice at once).
      const other = policy.config.vcpus > 1 ? 6 : 0;
      return {
        points: op.private ? ['install', 'frozen', 'walk'] : ['install', 'walk'],
        nested: [['fault', other], ['gracePeriod', 2], ['rcuRead', rcuWeight(state)]],
        gfn: op.gfn, private: op.private, vcpu: op.vcpu,
      };
    },
    note: noEffect,
    *simplify(op) {
      for (const g of lower(op.gfn, 0)) yield { ...op, gfn: g };
      for (const l of lower(op.maxLevel, 1)) yield { ...op, maxLevel: l };
      if (op.vcpu > 0) for (const c of lower(op.vcpu, 0)) yield { ...op, vcpu: c };
    },
    *simplifyWithRace(op, race) {
      // A racing fault on a lower vCPU than the outer fault: swap them (both end up on low ids).
      if (race.op.kind === 'fault' && race.op.vcpu < op.vcpu) {
        yield { ...op, vcpu: race.op.vcpu, race: { ...race, op: { ...race.op, vcpu: op.vcpu } } };
      }
    },
  },

  zap: {
    fields: {
      start: startField,
      end: endField,
      attr: (v) => v.oneOf(['private', 'shared', 'both'] as const, 'both', 'attr'),
    },
    describe: (op) => `zap ${op.attr} [${hex(op.start)}, ${hex(op.end)})`,
    illegal: legal,
    illegalBeforeFinalize: legal,
    illegalAfter: legal,
    // An unmap needs mmu_lock for write: only the split's allocation window (lock dropped) allows it.
    illegalDuring: (_op, outer) => (OP_KIND_SPECS[outer.kind].concurrency.unmap ? [] : [`an unmap cannot run during ${outer.kind} (it needs mmu_lock for write)`]),
    // Holds mmu_lock for write.
    concurrency: NO_RACER,
    afterReleaseHkid: null,
    weight: () => 9,
    build: (ch, _state, { config, profile }) => ({ kind: 'zap', ...chooseRange(ch, config, PROFILES[profile].range), attr: pick(ch, ['private', 'shared', 'both'] as const) }),
    nested(ch, plan, _state, { config }) {
      const start = nearPlan(ch, plan, config);
      const end = nestedEnd(ch, config, start);
      return { kind: 'zap', start, end, attr: plan.private ? 'private' : 'shared' };
    },
    failCandidates(op) {
      const removal = op.attr === 'shared' ? [] : (['RANGE.BLOCK', 'TRACK', 'PAGE.REMOVE'] as const)
        .flatMap((c) => [busy(c), busy(c, 'ERROR')]);
      return [{ at: 'yield' }, ...removal];
    },
    // Under the write lock only lockless actors can run: aging, RCU walkers, grace periods.
    racePlan: (op, state) => ({ points: ['walk'], nested: [['age', 3], ['rcuRead', rcuWeight(state)], ['gracePeriod', 2]], gfn: op.start, private: op.attr !== 'shared' }),
    note: noEffect,
    *simplify(op) {
      yield* lowerRange(op);
      if (op.attr === 'both') { yield { ...op, attr: 'private' }; yield { ...op, attr: 'shared' }; }
    },
    simplifyWithRace: nothing,
  },

  split: {
    fields: {
      start: startField,
      end: endField,
      targetLevel: (v) => v.int(1, LEVELS - 1, 1),
      private: (v) => v.bool(false),
      shared: (v) => v.bool(true),
    },
    describe: (op) => `split ${privacy(op.private)} [${hex(op.start)}, ${hex(op.end)}) to L${op.targetLevel} ${op.shared ? 'read-lock' : 'write-lock'}`,
    illegal(op, config) {
      if (!op.private) return null;
      if (config.hugePages && !op.shared) return null;
      return config.hugePages
        ? 'split with private=true and shared=true (mirror splits run on their own)'
        : 'split with private=true (no mirror huge pages without hugePages)';
    },
    illegalBeforeFinalize: legal,
    illegalAfter: legal,
    illegalDuring: noRaceRules,
    // Drops mmu_lock to allocate: a conversion or punch hole (unmap) or a fault can run then.
    concurrency: { vcpuFault: true, unmap: true },
    afterReleaseHkid: null,
    weight: () => 5,
    build(ch, _state, { config, domain, profile }) {
      const draws = PROFILES[profile];
      const range = chooseRange(ch, config, draws.splitRange);
      const targetLevel = draws.splitTarget(ch, range.end - range.start, GEOMETRY_FANOUT[config.geometry]);
      if (domain === 'legal') {
        // Mirror splits exist only with Sean's huge-page series, and run apart from direct splits.
        const mirror = config.hugePages && ch.chance(0.25);
        return { kind: 'split', ...range, targetLevel, private: mirror, shared: !mirror };
      }
      return { kind: 'split', ...range, targetLevel, private: ch.chance(0.3), shared: ch.chance(0.8) };
    },
    nested: null,
    failCandidates: (op) => [{ at: 'splitAlloc' }, { at: 'cmpxchg' }, ...(op.private ? [busy('PAGE.DEMOTE')] : [])],
    racePlan: (op) => ({
      points: ['walk'], nested: [['zap', 4], ['fault', 2], ['gracePeriod', 1]], gfn: op.start, private: op.private,
      // An unmap can only run while the split has dropped mmu_lock to allocate: that is the second
      // time the walk reaches the huge leaf's level (the first visit found it and went to allocate).
      // (The dedicated point `splitAlloc` is that window too; sequences and tests name it.)
      timing: (ch, nested) => (nested.kind === 'zap' ? { level: ch.chance(0.7) ? 2 : 3, nth: 2 } : undefined),
    }),
    note: noEffect,
    *simplify(op) {
      yield* lowerRange(op);
      for (const t of lower(op.targetLevel, 1)) yield { ...op, targetLevel: t };
    },
    simplifyWithRace: nothing,
  },

  age: {
    fields: {
      start: startField,
      end: endField,
      mirror: (v) => v.bool(false),
    },
    describe: (op) => `age [${hex(op.start)}, ${hex(op.end)})${op.mirror ? ' incl. mirror' : ''}`,
    illegal: (op) => (op.mirror ? 'age with mirror=true (mirror roots are never aged)' : null),
    illegalBeforeFinalize: legal,
    illegalAfter: legal,
    illegalDuring: noRaceRules,
    concurrency: ANY_RACER,
    afterReleaseHkid: null,
    weight: () => 5,
    build: (ch, _state, { config, domain, profile }) => ({ kind: 'age', ...chooseRange(ch, config, PROFILES[profile].range), mirror: domain !== 'legal' && ch.chance(0.3) }),
    nested(ch, plan, _state, { config, domain }) {
      const start = nearPlan(ch, plan, config);
      const end = nestedEnd(ch, config, start);
      return { kind: 'age', start, end, mirror: domain === 'extended' && ch.chance(0.3) };
    },
    failCandidates: () => [{ at: 'cmpxchg' }],
    racePlan: noRacePoints,
    note: noEffect,
    simplify: lowerRange,
    simplifyWithRace: nothing,
  },

  invalidateDirect: {
    ...plain,
    describe: (op) => op.kind,
    concurrency: ANY_RACER,
    weight: () => 4,
    build: () => ({ kind: 'invalidateDirect' }),
    failCandidates: () => [{ at: 'yield' }, { at: 'cmpxchg' }],
    // Direct roots are zapped under the read lock: a shared fault can race handle_removed_pt; after a
    // lost cmpxchg, aging can change the entry before __tdp_mmu_zap_root retries with the same iterator.
    racePlan: () => ({ points: ['removedPt', 'zapRetry'], nested: [['fault', 1], ['age', 1]], private: false }),
  },

  finalize: {
    ...plain,
    describe: (op) => op.kind,
    concurrency: ANY_RACER,
    weight: ({ allow, state }) => (allow.finalize && !state.finalized ? 2 : 0),
    build: () => ({ kind: 'finalize' }),
    note(state, _op, racing) { if (!racing) state.finalized = true; },
  },

  rcuRead: {
    fields: {
      walker: walkerField,
      gfn: gfnField,
      private: (v) => v.bool(false),
    },
    describe: (op) => `rcuRead walker${op.walker} ${privacy(op.private)} gfn=${hex(op.gfn)}`,
    illegal: legal,
    illegalBeforeFinalize: legal,
    illegalAfter: legal,
    illegalDuring: noRaceRules,
    concurrency: ANY_RACER,
    afterReleaseHkid: null,
    weight: ({ free }) => (free > 0 ? 5 : 0),
    build: (ch, state, { config }) => ({ kind: 'rcuRead', walker: freeWalker(ch, state), gfn: chooseGfn(ch, config), private: ch.chance(0.5) }),
    nested: (ch, plan, state, { config }) => ({ kind: 'rcuRead', walker: freeWalker(ch, state), gfn: nearPlan(ch, plan, config), private: plan.private }),
    failCandidates: noFaultPoints,
    racePlan: noRacePoints,
    // A racing rcuRead counts too: it may have fired.
    note(state, op) { state.openWalkers.add(op.walker); },
    *simplify(op) {
      for (const g of lower(op.gfn, 0)) yield { ...op, gfn: g };
    },
    simplifyWithRace: nothing,
  },

  rcuUnlock: {
    ...plain,
    fields: { walker: walkerField },
    describe: (op) => `rcuUnlock walker${op.walker}`,
    concurrency: ANY_RACER,
    afterReleaseHkid: { rank: 1, weight: ({ open }) => (open ? 4 : 0) },
    weight: ({ open }) => (open ? 5 : 0),
    build: (ch, state) => ({ kind: 'rcuUnlock', walker: openWalker(ch, state) }),
    note(state, op, racing) { if (!racing) state.openWalkers.delete(op.walker); },
  },

  gracePeriod: {
    ...plain,
    describe: (op) => op.kind,
    concurrency: ANY_RACER,
    afterReleaseHkid: { rank: 0, weight: () => 4 },
    weight: () => 5,
    build: () => ({ kind: 'gracePeriod' }),
    nested: () => ({ kind: 'gracePeriod' }),
  },

  releaseHkid: {
    ...plain,
    describe: (op) => op.kind,
    illegalAfter: (prev, config) => (zapsAllPrivate(prev, config) ? null
      : 'releaseHkid while private leaves may be mapped: the kernel closes guest_memfd (zapping every private leaf) before releasing the hkid'),
    // The vCPUs are gone.
    concurrency: NO_RACER,
    weight: ({ allow, state }) => (allow.releaseHkid && !state.hkidReleased ? 1 : 0),
    build: () => ({ kind: 'releaseHkid' }),
    failCandidates: () => [{ at: 'hkidRelease' }, { at: 'vpFlush' }, busy('PHYMEM.CACHE.WB', 'ERROR')],
    note(state, _op, racing) { if (!racing) state.hkidReleased = true; },
  },

  destroy: {
    ...plain,
    describe: (op) => op.kind,
    concurrency: NO_RACER,
    afterReleaseHkid: { rank: 2, weight: ({ allow }) => (allow.destroy ? 1 : 0) },
    weight: ({ allow }) => (allow.destroy ? 1 : 0),
    build: () => ({ kind: 'destroy' }),
    failCandidates: () => [{ at: 'reclaim' }, { at: 'hkidRelease' }, { at: 'vpFlush' }, busy('PHYMEM.CACHE.WB', 'ERROR'), busy('PAGE.REMOVE')],
    note(state, _op, racing) { if (!racing) state.destroyed = true; },
  },

  atomicZap: {
    fields: {
      gfn: gfnField,
      level: (v) => v.int(1, LEVELS - 1, 1),
      private: (v) => v.bool(true),
    },
    describe: (op) => `atomicZap ${privacy(op.private)} gfn=${hex(op.gfn)} L${op.level}`,
    illegal: () => 'atomicZap (the kernel never zaps mirror SPTEs under the read lock)',
    illegalBeforeFinalize: legal,
    illegalAfter: legal,
    illegalDuring: noRaceRules,
    concurrency: ANY_RACER,
    afterReleaseHkid: null,
    weight: ({ policy }) => (policy.domain === 'extended' ? 5 : 0),
    build: (ch, _state, { config }) => ({ kind: 'atomicZap', gfn: chooseGfn(ch, config), level: ch.int(1, LEVELS - 1), private: ch.chance(0.85) }),
    nested: null,
    failCandidates: () => [{ at: 'cmpxchg' }, busy('RANGE.BLOCK')],
    racePlan: (op) => ({ points: ['frozen', 'removedPt'], nested: [['fault', 3], ['gracePeriod', 1]], gfn: op.gfn, private: op.private }),
    note: noEffect,
    *simplify(op) {
      for (const g of lower(op.gfn, 0)) yield { ...op, gfn: g };
      for (const l of lower(op.level, 1)) yield { ...op, level: l };
    },
    simplifyWithRace: nothing,
  },
};

/** The entry for op's kind. */
export function specOf<O extends Op>(op: O): OpKindSpec<O> {
  return specOfKind(op.kind) as unknown as OpKindSpec<O>;
}

/** The entry for a kind, for callers that hold a kind, not an op (its facets take any op). */
export function specOfKind(kind: OpKind): OpKindSpec<Op> {
  const spec = Object.prototype.hasOwnProperty.call(OP_KIND_SPECS, kind) ? OP_KIND_SPECS[kind] : undefined;
  // Unreachable for validated ops; an unvalidated one must not get some other kind's behaviour.
  if (!spec) throw new Error(`unknown op kind ${JSON.stringify(kind)}`);
  return spec as unknown as OpKindSpec<Op>;
}

/** The kinds the kernel may still issue after tdx_mmu_release_hkid, in rank order. */
export const AFTER_RELEASE_HKID_KINDS: readonly OpKind[] = (Object.keys(OP_KIND_SPECS) as OpKind[])
  .filter((k) => OP_KIND_SPECS[k].afterReleaseHkid)
  .sort((a, b) => OP_KIND_SPECS[a].afterReleaseHkid!.rank - OP_KIND_SPECS[b].afterReleaseHkid!.rank);
