import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import type { Op, VmConfig } from '../impls/api';
import { ByteChooser, MAX_DECODED_OPS, decodeBytes } from '../harness/seq/decode';
import { serializeSequence, validateSequence, type Sequence } from '../harness/seq/sequence';
import { legalityErrors } from '../harness/seq/legality';

const CONFIGS: Record<'compact' | 'x86', VmConfig[]> = {
  compact: [
    { geometry: 'compact', hugePages: false, vcpus: 2 },
    { geometry: 'compact', hugePages: true, vcpus: 1 },
    { geometry: 'compact', hugePages: false, vcpus: 8 },
  ],
  x86: [
    { geometry: 'x86', hugePages: false, vcpus: 2 },
    { geometry: 'x86', hugePages: true, vcpus: 3 },
  ],
};

/** Deterministic random byte strings: lengths 0..300, and a few long ones. */
function randomBuffers(seed: string, count: number): Uint8Array[] {
  const rng = seedrandom(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = i % 100 === 99 ? 4096 : Math.floor(rng() * 301);
    const buf = new Uint8Array(len);
    for (let j = 0; j < len; j++) buf[j] = Math.floor(rng() * 256);
    out.push(buf);
  }
  return out;
}

/** The decoded sequence validates and is already in normalized form (validation changes nothing). */
function expectValid(seq: Sequence): void {
  const again = validateSequence(JSON.parse(JSON.stringify(seq)), 'decoded');
  expect(again).toEqual(seq);
  expect(seq.ops.length).toBeLessThanOrEqual(MAX_DECODED_OPS);
}

describe('decodeBytes is total', () => {
  for (const geometry of ['compact', 'x86'] as const) {
    for (const domain of ['legal', 'extended'] as const) {
      it(`decodes 3000 random byte strings to valid sequences (${geometry}, ${domain})`, () => {
        const kinds = new Set<string>();
        let fails = 0;
        let races = 0;
        randomBuffers(`decode/${geometry}/${domain}`, 3000).forEach((buf, i) => {
          const config = CONFIGS[geometry][i % CONFIGS[geometry].length];
          const seq = decodeBytes(buf, { config, domain });
          expectValid(seq);
          if (domain === 'legal') expect(legalityErrors(seq)).toEqual([]);
          for (const op of seq.ops) {
            kinds.add(op.kind);
            if (op.fail) fails++;
            if (op.race) races++;
          }
        });
        // The byte space reaches every kind of its domain, fault plans and races included.
        const expected = ['fault', 'zap', 'split', 'age', 'invalidateDirect', 'finalize', 'rcuRead', 'rcuUnlock',
          'gracePeriod', 'releaseHkid', 'destroy', ...(domain === 'extended' ? ['atomicZap'] : [])];
        expect([...kinds].sort()).toEqual(expected.sort());
        expect(fails).toBeGreaterThan(100);
        expect(races).toBeGreaterThan(100);
      });
    }
  }

  it('decodes the empty input and degenerate inputs', () => {
    const config = CONFIGS.compact[0];
    const empty = decodeBytes(new Uint8Array(0), { config, domain: 'legal' });
    expect(empty.ops).toEqual([]);
    expectValid(empty);
    for (const fill of [0x00, 0xff, 0x80]) {
      for (const domain of ['legal', 'extended'] as const) {
        const seq = decodeBytes(new Uint8Array(4096).fill(fill), { config, domain });
        expectValid(seq);
        if (domain === 'legal') expect(legalityErrors(seq)).toEqual([]);
      }
    }
  });

  it('caps sequences at 64 ops and stops at destroy', () => {
    // All zero bytes pick the first kind (fault) with no extras: never destroy, so the cap applies.
    // The legal domain keeps one slot for the guest_memfd-close zap its teardown may need.
    expect(decodeBytes(new Uint8Array(4096), { config: CONFIGS.compact[0], domain: 'extended' }).ops).toHaveLength(MAX_DECODED_OPS);
    expect(decodeBytes(new Uint8Array(4096), { config: CONFIGS.compact[0], domain: 'legal' }).ops).toHaveLength(MAX_DECODED_OPS - 1);
    for (const buf of randomBuffers('destroy', 300)) {
      const ops = decodeBytes(buf, { config: CONFIGS.compact[0], domain: 'extended' }).ops;
      const at = ops.findIndex((op) => op.kind === 'destroy');
      if (at >= 0) expect(at).toBe(ops.length - 1);
    }
  });

  it('is deterministic, and a truncated input decodes to a prefix-shaped sequence', () => {
    const buf = randomBuffers('det', 20).find((b) => b.length > 50) ?? new Uint8Array(64).fill(7);
    const opts = { config: CONFIGS.x86[1], domain: 'extended' as const };
    expect(serializeSequence(decodeBytes(buf, opts))).toBe(serializeSequence(decodeBytes(Uint8Array.from(buf), opts)));
    for (let cut = 0; cut <= buf.length; cut++) expectValid(decodeBytes(buf.subarray(0, cut), opts));
  });

  it('keeps gfns in the collision window', () => {
    const gfns: number[] = [];
    const collect = (op: Op) => {
      if ('gfn' in op) gfns.push(op.gfn);
      if (op.race) collect(op.race.op);
    };
    for (const buf of randomBuffers('window', 500)) decodeBytes(buf, { config: CONFIGS.compact[0], domain: 'extended' }).ops.forEach(collect);
    expect(gfns.length).toBeGreaterThan(1000);
    // Racing ops may step one table (8 gfns) past the window.
    expect(gfns.every((g) => g < 512 + 8)).toBe(true);
    expect(gfns.filter((g) => g < 64 + 8).length / gfns.length).toBeGreaterThan(0.8);
  });
});

describe('ByteChooser', () => {
  it('reads one byte per choice up to 256 values, more beyond, and zeros past the end', () => {
    const ch = new ByteChooser(new Uint8Array([5, 1, 2, 200]));
    expect(ch.int(0, 3)).toBe(1); // 5 % 4
    expect(ch.int(0, 65535)).toBe(0x0102);
    expect(ch.chance(0.5)).toBe(false); // 200 >= 128
    expect(ch.exhausted).toBe(true);
    expect(ch.int(10, 20)).toBe(10);
    expect(ch.chance(0.01)).toBe(true); // 0 < 3
    expect(ch.chance(0)).toBe(false);
    expect(ch.int(4, 4)).toBe(4);
  });
});
