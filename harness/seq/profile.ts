// Generator profiles (issue 13 item 3): which code a campaign's ops spend the models' time in.
//
// `uniform` is the generator as it always was: its draws are the exact expressions the op builders
// used before profiles existed (same choices in the same order), so compact campaigns, byte corpora
// and `--profile uniform` x86 campaigns reproduce their sequences and findings unchanged
// (test/profile.test.ts pins them by hash).
//
// `mirror` aims the generator at the code the refactor changed: private (mirror/S-EPT) faults, their
// zaps and teardown, the free paths. On the x86 geometry (512 entries per table) uniform spends most
// of the model time elsewhere: a 1G shared leaf is a level-3 table of 512 level-2 tables whose every
// entry handle_removed_pt freezes when a zap or invalidateDirect removes it, and a split of a
// 512^2-gfn range to 4K builds 512 tables of 512 entries each. Measured on x86 with uniform: 57% of
// model time in invalidateDirect, 15% in 2^18-gfn splits, 16% in teardown, 3.4% in private faults.
// The mirror profile keeps every one of those shapes reachable (rare, not absent) and keeps the
// whole-space zaps (guest_memfd close, memslot removal): they drive the teardown paths.
//
// On the compact geometry (8 entries per table) nothing is expensive, so its default stays uniform.
import type { OpKind, VmConfig } from '../../impls/api';
import { type Chooser, weighted } from './chooser';
import { LEVELS } from './fields';

export type GenProfile = 'uniform' | 'mirror';

/** The profiles, in the order flags and messages list them. */
export const GEN_PROFILES: readonly GenProfile[] = ['uniform', 'mirror'];

/** The profile a campaign runs when none is given: mirror on x86 (where uniform measures the direct paths), uniform on compact. */
export function defaultProfile(config: VmConfig): GenProfile {
  return config.geometry === 'x86' ? 'mirror' : 'uniform';
}

/** How a gfn range is drawn (chooseRange): the whole space with probability `whole`, else a length from `lengths`. */
export interface RangeShape {
  whole: number;
  lengths(fanout: number): ReadonlyArray<readonly [number, number]>;
}

/** The draws a profile decides. Each uniform entry is the expression the builders used before profiles. */
export interface ProfileDraws {
  /** probability that a top-level fault is private (after FINALIZE; before it every legal fault is) */
  privateFault: number;
  /** maxLevel of a shared fault (1: 4K, 2: 2M, 3: 1G) */
  sharedMaxLevel(ch: Chooser): number;
  /** ranges of zap and age (and the guided engine's range tweak) */
  range: RangeShape;
  /** ranges of split */
  splitRange: RangeShape;
  /** a split's target level, given the length of its range */
  splitTarget(ch: Chooser, len: number, fanout: number): number;
  /** a kind's generation weight given its base weight (> 0) from op_kinds.ts */
  kindWeight(kind: OpKind, base: number): number;
}

const UNIFORM_RANGE: RangeShape = {
  whole: 0.04,
  lengths: (fanout) => [[1, 4], [2, 2], [4, 1], [fanout, 3], [fanout * fanout, 1]],
};

const UNIFORM: ProfileDraws = {
  privateFault: 0.6,
  sharedMaxLevel: (ch) => ch.int(1, LEVELS - 1),
  range: UNIFORM_RANGE,
  splitRange: UNIFORM_RANGE,
  splitTarget: (ch) => (ch.chance(0.75) ? 1 : 2),
  kindWeight: (_kind, base) => base,
};

/**
 * Mirror: every kind weight doubled (weights are integers: room for a half), except kinds that never
 * touch mirror state in the legal domain. invalidateDirect zaps the direct roots alone
 * (kvm_tdp_mmu_invalidate_roots of shared roots) and removes every direct table, each at 512 frozen
 * entries on x86 (~400 us an op, 8% of mirror model time at weight 2): 1 of 8 uniform's share still
 * reaches its handle_removed_pt-in-shared-mode and zap-retry races. age never ages mirror roots: 5 → 3.
 */
const MIRROR_KIND_WEIGHTS: Partial<Record<OpKind, number>> = { invalidateDirect: 1, age: 6 };

const MIRROR: ProfileDraws = {
  // 0.85: mirror faults (SEPT.ADD, PAGE.AUG, the unused-SP free after a lost install race) are the
  // refactored code; 15% shared faults still build the direct tables that zaps, splits and
  // invalidateDirect work on.
  privateFault: 0.85,
  // 1G shared leaves 3% (each one's removal freezes 512 tables' worth of entries), 2M 20%, 4K 77%:
  // the 1G paths (level-3 leaves, their split and removal) stay covered, at a fraction of the cost.
  sharedMaxLevel: (ch) => weighted(ch, [[1, 77], [2, 20], [3, 3]] as const),
  // Zaps and aging: whole-space zaps as often as uniform (guest_memfd close runs the private-zap
  // and teardown paths); a level-2 table's worth (fanout^2 gfns) 1/21 of the rest instead of 1/11,
  // shorter ranges (a few pages, one level-1 table) the rest, where mirror leaves are.
  range: { whole: 0.04, lengths: (fanout) => [[1, 8], [2, 4], [4, 2], [fanout, 6], [fanout * fanout, 1]] },
  // Splits of direct huge pages are unchanged code: a whole-space split 1%, a fanout^2 range 1/23.
  splitRange: { whole: 0.01, lengths: (fanout) => [[1, 8], [2, 4], [4, 2], [fanout, 8], [fanout * fanout, 1]] },
  // A range of fanout^2 gfns or more split to 4K can create fanout tables of fanout entries each:
  // mostly to 2M (85%); shorter ranges as uniform.
  splitTarget: (ch, len, fanout) => (len >= fanout * fanout ? (ch.chance(0.15) ? 1 : 2) : ch.chance(0.75) ? 1 : 2),
  kindWeight: (kind, base) => MIRROR_KIND_WEIGHTS[kind] ?? base * 2,
};

export const PROFILES: Readonly<Record<GenProfile, ProfileDraws>> = { uniform: UNIFORM, mirror: MIRROR };

