// The source of choices every generator draws from, and the two ways of drawing with it. Its own
// module so that both the op-building blocks (choices.ts) and the profiles (profile.ts) use it
// without importing each other.

/** A source of choices. Implementations: seedrandom (generate.ts), input bytes (decode.ts). */
export interface Chooser {
  /** an integer in [lo, hi] (lo when hi <= lo) */
  int(lo: number, hi: number): number;
  /** true with probability p */
  chance(p: number): boolean;
}

export function pick<T>(ch: Chooser, items: readonly T[]): T {
  return items[ch.int(0, items.length - 1)];
}

/** An entry drawn with probability proportional to its weight (entries of weight <= 0 never). */
export function weighted<T>(ch: Chooser, entries: ReadonlyArray<readonly [T, number]>): T {
  if (entries.length > scratch.length) scratch = new Float64Array(2 * entries.length);
  for (let i = 0; i < entries.length; i++) scratch[i] = entries[i][1];
  return entries[weightedSlot(ch, scratch, entries.length)][0];
}

/** weighted()'s weights, copied (the draw reads numbers from one array, without allocating). */
let scratch = new Float64Array(16);

/**
 * The draw itself: an index in 0..n-1 with probability proportional to weights[i] (weights <= 0
 * never), from one ch.int over the total. Loops, not filter/reduce: every generated op draws its
 * kind here (opgen.ts chooseKind fills the weights itself).
 */
export function weightedSlot(ch: Chooser, weights: ArrayLike<number>, n: number): number {
  let total = 0, last = -1;
  for (let i = 0; i < n; i++) if (weights[i] > 0) { total += weights[i]; last = i; }
  if (last < 0) throw new Error('weighted: no entry has a positive weight');
  let r = ch.int(0, total - 1);
  for (let i = 0; i <= last; i++) {
    const w = weights[i];
    if (!(w > 0)) continue;
    if (r < w) return i;
    r -= w;
  }
  return last;
}
