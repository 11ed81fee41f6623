// Small machine parts the models build per VM (impls/machine): the coverage code set and the
// geometry cache. Their speed tricks (lazily allocated blocks, one Geometry per name) must not
// change what they hold.
import { describe, expect, it } from 'vitest';
import { CoverageBits } from '../../impls/machine/coverage_bits';
import { Geometry, geometryOf } from '../../impls/machine/geometry';
import { Ledger, Owner } from '../../impls/machine/ledger';

describe('CoverageBits', () => {
  it('holds each code once, in the order first added, across block boundaries and far codes', () => {
    const s = new CoverageBits();
    const codes = [5, 511, 512, 5, 0, 31, 32, 1023, 1 << 20, 511, 1 << 20, 12287, 0, 33];
    for (const c of codes) s.add(c);
    expect(s.members).toEqual([5, 511, 512, 0, 31, 32, 1023, 1 << 20, 12287, 33]);
    // two sets share nothing
    const t = new CoverageBits();
    t.add(512);
    t.add(5);
    expect(t.members).toEqual([512, 5]);
  });

  it('agrees with a Set over many random codes', () => {
    const s = new CoverageBits();
    const ref = new Set<number>();
    let x = 12345;
    for (let i = 0; i < 20000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const c = x % 24576;
      s.add(c);
      ref.add(c);
    }
    expect(s.members).toEqual([...ref]);
  });
});

describe('geometryOf', () => {
  it('gives one immutable Geometry per name, equal to a fresh one', () => {
    expect(geometryOf('x86')).toBe(geometryOf('x86'));
    expect(geometryOf('compact')).not.toBe(geometryOf('x86'));
    for (const name of ['compact', 'x86'] as const) {
      const g = geometryOf(name), f = new Geometry(name);
      expect([g.fanout, g.totalGfns, g.span(1), g.span(4), g.index(4097, 2), g.align(4097, 3)])
        .toEqual([f.fanout, f.totalGfns, f.span(1), f.span(4), f.index(4097, 2), f.align(4097, 3)]);
    }
  });
});

describe('Ledger digest', () => {
  it('is the same for the same counts whichever ledger computes it (the scratch copy is shared)', () => {
    const a = new Ledger(() => undefined), b = new Ledger(() => undefined);
    const pa = [a.alloc('shadow', 'x'), a.alloc('shadow', 'y'), a.alloc('external', 'z', Owner.Tdx)];
    const pb = [b.alloc('shadow', 'x'), b.alloc('shadow', 'y'), b.alloc('external', 'z', Owner.Tdx)];
    expect(a.digest([])).toBe(b.digest([]));
    // pending RCU frees count as free: a's pending page and b's freed page give the same digest
    const pending = a.digest([pa[0]]);
    b.free(pb[0], 'page', 'test');
    expect(b.digest([])).toBe(pending);
    const own = a.digest([]);
    expect(own).not.toBe(pending);
    // and a's own counts were not changed by the scratch copy
    a.digest([pa[0]]);
    expect(a.digest([])).toBe(own);
    expect(a.counts_([], false)).toEqual({ 'shadow:host': 2, 'external:tdx': 1 });
    expect(a.counts_([pa[0]], true)).toEqual({ 'shadow:host': 1, 'shadow:free': 1, 'external:tdx': 1 });
  });
});
