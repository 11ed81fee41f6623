// A set of small non-negative integers as a bitmap plus the insertion-ordered list of its members
// (issue 13 item 1): the models record a coverage code on every SPTE write and SEAMCALL, and a bit
// test is several times cheaper than Set.add. Members iterate in insertion order, as a Set's do, so
// the coverage keys a model reports come out in the same order as before.
//
// Two levels: a block of 512 codes gets its 64-byte bitmap when a code in it is first added. Every
// VM has two of these sets and a run creates a VM per design, so creation is on the hot path: a
// typed array of up to 64 bytes lives on V8's heap (cheap to allocate and collect), a larger one
// gets an off-heap backing store (measured: 27% of creating a VM when each set was one 1.5 KB
// array). A VM touches a few blocks only (the code's high bits are the op kind and the tree).
const BLOCK_SHIFT = 9;
const BLOCK_WORDS = 1 << (BLOCK_SHIFT - 5);

export class CoverageBits {
  private readonly blocks: (Uint32Array | undefined)[] = [];
  /** the members, in the order they were first added */
  readonly members: number[] = [];

  add(code: number): void {
    const blk = code >>> BLOCK_SHIFT;
    const bits = this.blocks[blk] ?? (this.blocks[blk] = new Uint32Array(BLOCK_WORDS));
    const w = (code >>> 5) & (BLOCK_WORDS - 1);
    const b = 1 << (code & 31);
    if ((bits[w] & b) === 0) { bits[w] |= b; this.members.push(code); }
  }
}
