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

/**
 * An entry drawn with probability proportional to its weight (entries of weight <= 0 never): one
 * ch.int over the total. Loops, not filter/reduce: every generated op draws its kind here.
 */
export function weighted<T>(ch: Chooser, entries: ReadonlyArray<readonly [T, number]>): T {
  let total = 0, last = -1;
  for (let i = 0; i < entries.length; i++) if (entries[i][1] > 0) { total += entries[i][1]; last = i; }
  if (last < 0) throw new Error('weighted: no entry has a positive weight');
  let r = ch.int(0, total - 1);
  for (let i = 0; i <= last; i++) {
    const w = entries[i][1];
    if (!(w > 0)) continue;
    if (r < w) return entries[i][0];
    r -= w;
  }
  return entries[last][0];
}
