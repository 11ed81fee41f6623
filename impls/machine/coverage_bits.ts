// A set of small non-negative integers as a bitmap plus the insertion-ordered list of its members
// (issue 13 item 1): the models record a coverage code on every SPTE write and SEAMCALL, and a bit
// test is several times cheaper than Set.add. Members iterate in insertion order, as a Set's do, so
// the coverage keys a model reports come out in the same order as before.
export class CoverageBits {
  private bits: Uint32Array;
  /** the members, in the order they were first added */
  readonly members: number[] = [];

  /** `size`: codes below it need no growth (a larger code grows the bitmap; nothing is lost). */
  constructor(size: number) { this.bits = new Uint32Array((size + 31) >>> 5); }

  add(code: number): void {
    const w = code >>> 5;
    if (w >= this.bits.length) this.grow(w + 1);
    const b = 1 << (code & 31);
    if ((this.bits[w] & b) === 0) { this.bits[w] |= b; this.members.push(code); }
  }

  private grow(words: number): void {
    const next = new Uint32Array(Math.max(words, this.bits.length * 2));
    next.set(this.bits);
    this.bits = next;
  }
}
