// SPTE packing (impls/machine/spte.ts): flag tests use `& 0xff`, exact for integers below 2^53; this
// checks them against the arithmetic form over the range the models produce (pfns up to 2^41: host
// pfns 2^40 + gfn, page-table page ids, guest pfns) and at the edges.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import {
  F_A, F_D, F_LEAF, F_PRESENT, F_W, FROZEN, flagsOf, isAccessed, isLeaf, isNonLeaf, isPresent, isWritable, makeLeaf, makeNonLeaf,
  makeSpte, pfnOf, withFlags,
} from '../../impls/machine/spte';

const arithFlags = (v: number): number => v % 256;

describe('SPTE flags by bit ops', () => {
  it('agree with the arithmetic form for pfns up to 2^45 and every flag combination', () => {
    const rng = seedrandom('spte');
    const pfns = [0, 1, 0xff, 2 ** 22, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 40 + 2 ** 36, 2 ** 45 - 1];
    for (let i = 0; i < 2000; i++) pfns.push(Math.floor(rng() * 2 ** 45));
    for (const pfn of pfns) {
      for (let flags = 0; flags < 32; flags++) {
        const v = makeSpte(pfn, flags);
        expect(v).toBeLessThan(2 ** 53);
        expect(flagsOf(v)).toBe(arithFlags(v));
        expect(pfnOf(v)).toBe(pfn);
        expect(isPresent(v)).toBe((arithFlags(v) & F_PRESENT) !== 0);
        expect(isLeaf(v)).toBe((arithFlags(v) & (F_PRESENT | F_LEAF)) === (F_PRESENT | F_LEAF));
        expect(isNonLeaf(v)).toBe((arithFlags(v) & (F_PRESENT | F_LEAF)) === F_PRESENT);
        expect(isWritable(v)).toBe((arithFlags(v) & F_W) !== 0);
        expect(isAccessed(v)).toBe((arithFlags(v) & F_A) !== 0);
        expect(withFlags(v, F_D, F_A)).toBe(makeSpte(pfn, (flags | F_D) & ~F_A));
      }
    }
  });

  it('FROZEN is not present; leaves and tables of host pfns decode', () => {
    expect(isPresent(FROZEN)).toBe(false);
    const host = 2 ** 40 + 0x3ffff;
    expect(isLeaf(makeLeaf(host, true))).toBe(true);
    expect(isWritable(makeLeaf(host, false))).toBe(false);
    expect(isNonLeaf(makeNonLeaf(123456))).toBe(true);
    expect(pfnOf(makeLeaf(host, true, true, true))).toBe(host);
  });
});
