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
