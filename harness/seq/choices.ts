// The building blocks of generated ops: the generator's policy and state, and the collision-heavy gfn
// window, over a Chooser (chooser.ts: seedrandom in generate.ts, input bytes in decode.ts). The op-kind
// table (op_kinds.ts) builds every op from these.

import type { VmConfig } from '../../impls/api';
import { GEOMETRY_FANOUT, totalGfns } from './fields';

import type { Domain } from './domain';
import type { GenProfile, RangeShape } from './profile';
import { type Chooser, pick, weighted } from './chooser';

// The Chooser and weighted picks live in chooser.ts (profile.ts draws with them too); engines import them from here.
export { type Chooser, pick, weighted };


export interface OpPolicy {
  config: VmConfig;
  domain: Domain;
  /** probability that an op with plausible fault points carries a fail entry */
  faultRate: number;
  /** probability that an op with race points carries a race */
  raceRate: number;
  /** which draws the op builders make (profile.ts PROFILES) */
  profile: GenProfile;
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
 * How often each comes is the profile's (profile.ts RangeShape).
 */
export function chooseRange(ch: Chooser, config: VmConfig, shape: RangeShape): { start: number; end: number } {
  const total = totalGfns(config);
  const fanout = GEOMETRY_FANOUT[config.geometry];
  if (ch.chance(shape.whole)) return { start: 0, end: total };
  const len = weighted(ch, shape.lengths(fanout));
  let start = chooseGfn(ch, config);
  if (len >= fanout && !ch.chance(0.3)) start -= start % len;
  return { start, end: Math.min(start + len, total) };
}
