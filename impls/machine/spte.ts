// SPTE values (kernel-model §1.2), packed into a JS number: low 8 bits are flags, the rest the pfn
// (or, for a non-leaf, the page id of the child's spt). Packing and the pfn are arithmetic, not bit
// ops, so that pfns above 2^22 (host pfns of shared memory, 2^40 + gfn: core.ts hostPfn) survive.
// Flag tests are `& 0xff`: a bit op truncates its operand modulo 2^32, which keeps the low 8 bits of
// any integer below 2^53 exact — and SPTEs stay below 2^49 by construction (pfn < 2^41) — while it
// is about 5x cheaper than `% 256` on a double (issue 13 item 1). test/models/spte.test.ts checks
// both forms agree over the whole range.

export const NONPRESENT = 0;
/** FROZEN_SPTE: one magic non-present value; is_frozen_spte is an exact-equality check. */
export const FROZEN = 0x5a0;

export const F_PRESENT = 1;
export const F_LEAF = 2;   // is_last_spte
export const F_W = 4;      // writable (RWX for mirror leaves)
export const F_A = 8;      // accessed
export const F_D = 16;     // dirty

export function makeSpte(pfn: number, flags: number): number { return pfn * 256 + flags; }
export function flagsOf(spte: number): number { return spte & 0xff; }
export function pfnOf(spte: number): number { return Math.floor(spte / 256); }
export function isFrozen(spte: number): boolean { return spte === FROZEN; }
export function isPresent(spte: number): boolean { return spte !== FROZEN && (spte & F_PRESENT) !== 0; }
/** is_last_spte: present and a leaf at its level. */
export function isLeaf(spte: number): boolean { return isPresent(spte) && (spte & F_LEAF) !== 0; }
export function isNonLeaf(spte: number): boolean { return isPresent(spte) && (spte & F_LEAF) === 0; }
export function isWritable(spte: number): boolean { return (spte & F_W) !== 0; }
export function isAccessed(spte: number): boolean { return (spte & F_A) !== 0; }

export function makeLeaf(pfn: number, writable: boolean, accessed = true, dirty = false): number {
  return makeSpte(pfn, F_PRESENT | F_LEAF | (writable ? F_W : 0) | (accessed ? F_A : 0) | (dirty ? F_D : 0));
}
export function makeNonLeaf(childSptPage: number): number {
  return makeSpte(childSptPage, F_PRESENT | F_W | F_A);
}
export function withFlags(spte: number, set: number, clear: number): number {
  return makeSpte(pfnOf(spte), (flagsOf(spte) | set) & ~clear);
}

/** Transition class of a value, for coverage and logs. */
export function spteClass(spte: number): 'NP' | 'FROZEN' | 'LEAF' | 'NONLEAF' {
  if (spte === FROZEN) return 'FROZEN';
  if (!isPresent(spte)) return 'NP';
  return isLeaf(spte) ? 'LEAF' : 'NONLEAF';
}

export function describeSpte(spte: number): string {
  const c = spteClass(spte);
  if (c === 'LEAF') {
    const f = flagsOf(spte);
    return `leaf pfn=0x${pfnOf(spte).toString(16)}${f & F_W ? ' W' : ' RO'}${f & F_A ? ' A' : ''}${f & F_D ? ' D' : ''}`;
  }
  if (c === 'NONLEAF') return 'table';
  return c === 'FROZEN' ? 'FROZEN' : 'nonpresent';
}
