import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Op, OpKind, VmConfig } from '../impls/api';
import { generateRandomOp, generateSequence, rngChooser, type GenerateOptions } from '../harness/seq/generate';
import { initialState } from '../harness/seq/opgen';
import { makeSequence, serializeSequence, validateSequence } from '../harness/seq/sequence';
import { legalityErrors } from '../harness/seq/legality';
import seedrandom from 'seedrandom';
import { type Chooser, weighted, weightedSlot } from '../harness/seq/chooser';

const compact: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };
const x86Huge: VmConfig = { geometry: 'x86', hugePages: true, vcpus: 3 };

function many(count: number, opts: GenerateOptions, seed: string | number = 'gen') {
  return Array.from({ length: count }, (_, i) => generateSequence(seed, i, opts));
}

/** Ops whose kind has plausible fault points / race points (see opgen failCandidates / racePlan). */
const FAILABLE = new Set<OpKind>(['fault', 'zap', 'split', 'age', 'invalidateDirect', 'releaseHkid', 'destroy', 'atomicZap']);
const RACEABLE = new Set<OpKind>(['fault', 'zap', 'split', 'invalidateDirect', 'atomicZap']);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('generateSequence', () => {
  it('is a pure function of (seed, index, options)', () => {
    const opts: GenerateOptions = { config: compact, domain: 'legal' };
    for (let i = 0; i < 20; i++) {
      expect(serializeSequence(generateSequence('S', i, opts))).toBe(serializeSequence(generateSequence('S', i, opts)));
    }
    const ops = (seed: string | number, i: number) => JSON.stringify(generateSequence(seed, i, opts).ops);
    expect(ops('S', 0)).not.toBe(ops('S', 1));
    expect(ops('S', 0)).not.toBe(ops('T', 0));
    expect(generateSequence('S', 7, opts).meta).toEqual({ engine: 'random', seed: 'S', index: 7, domain: 'legal' });
  });

  it('never uses Math.random', () => {
    const spy = vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random used');
    });
    many(50, { config: x86Huge, domain: 'extended', faultRate: 0.5, raceRate: 0.5 });
    expect(spy).not.toHaveBeenCalled();
  });

  it('produces only legal, valid sequences in the legal domain (500 sequences per config and profile)', () => {
    const configs: VmConfig[] = [compact, x86Huge, { geometry: 'compact', hugePages: true, vcpus: 1 }, { geometry: 'x86', hugePages: false, vcpus: 8 }];
    for (const config of configs) {
      for (const profile of ['uniform', 'mirror'] as const) {
        for (const seq of many(500, { config, domain: 'legal', faultRate: 0.3, raceRate: 0.3, profile }, `legal/${config.geometry}`)) {
          expect(validateSequence(JSON.parse(JSON.stringify(seq)), 'gen')).toEqual(seq);
          expect(legalityErrors(seq)).toEqual([]);
        }
      }
    }
  });

  it('is canonical by construction: makeSequence() of a generated sequence is byte-identical (campaigns trust the generator)', () => {
    // generateSequence skips validateSequence (issue 13 item 2); a generator change that produced a
    // non-canonical op (a default left out, keys in another order, a value out of range) fails here.
    const configs: VmConfig[] = [compact, x86Huge, { geometry: 'compact', hugePages: true, vcpus: 1, proveMmu: true }, { geometry: 'x86', hugePages: false, vcpus: 8, dpamt: true }];
    for (const config of configs) {
      for (const domain of ['legal', 'extended'] as const) {
        for (const profile of ['uniform', 'mirror'] as const) {
          for (const seq of many(200, { config, domain, faultRate: 0.4, raceRate: 0.4, profile }, `canon/${config.geometry}/${domain}`)) {
            expect(JSON.stringify(makeSequence(seq.config, seq.ops, seq.meta))).toBe(JSON.stringify(seq));
          }
        }
      }
    }
  });

  it('respects the length bounds', () => {
    const lengths = many(300, { config: compact, domain: 'legal' }).map((s) => s.ops.length);
    expect(Math.min(...lengths)).toBe(4);
    expect(Math.max(...lengths)).toBe(24);
    const short = many(200, { config: compact, domain: 'extended', maxOps: 6 }).map((s) => s.ops.length);
    expect(short.every((n) => n >= 4 && n <= 6)).toBe(true);
    expect(many(20, { config: compact, domain: 'legal', maxOps: 1 }).every((s) => s.ops.length === 1)).toBe(true);
    expect(() => generateSequence(1, 0, { config: compact, domain: 'legal', maxOps: 0 })).toThrow(RangeError);
    expect(() => generateSequence(1, 0, { config: compact, domain: 'legal', faultRate: 2 })).toThrow(RangeError);
  });

  // The legal teardown tail (guest_memfd-close zap, releaseHkid, ...) is planned as part of the length,
  // so no sequence exceeds maxOps; with maxOps 2 there is no room for zap + releaseHkid after a body op.
  it('legal domain: the inserted guest_memfd-close zap still respects maxOps', () => {
    for (const maxOps of [2, 3, 6, 24]) {
      const seqs = many(500, { config: compact, domain: 'legal', maxOps }, 'bounds');
      if (maxOps >= 6) expect(seqs.some((s) => s.ops.some((op) => op.kind === 'releaseHkid'))).toBe(true);
      expect(Math.max(...seqs.map((s) => s.ops.length)), `maxOps ${maxOps}`).toBeLessThanOrEqual(maxOps);
    }
  });

  it('attaches fail entries and races at the configured rates', () => {
    const rates = (opts: GenerateOptions) => {
      let failable = 0, failed = 0, raceable = 0, raced = 0;
      for (const seq of many(1500, opts, 'rates')) {
        for (const op of seq.ops) {
          if (FAILABLE.has(op.kind)) { failable++; if (op.fail) failed++; }
          if (RACEABLE.has(op.kind)) { raceable++; if (op.race) raced++; }
        }
      }
      return { fail: failed / failable, race: raced / raceable };
    };
    const def = rates({ config: compact, domain: 'legal' });
    expect(def.fail).toBeGreaterThan(0.12);
    expect(def.fail).toBeLessThan(0.18);
    expect(def.race).toBeGreaterThan(0.08);
    expect(def.race).toBeLessThan(0.12);
    const high = rates({ config: x86Huge, domain: 'extended', faultRate: 0.5, raceRate: 0.4 });
    expect(high.fail).toBeGreaterThan(0.45);
    expect(high.fail).toBeLessThan(0.55);
    expect(high.race).toBeGreaterThan(0.35);
    expect(high.race).toBeLessThan(0.45);
    expect(rates({ config: compact, domain: 'legal', faultRate: 0, raceRate: 0 })).toEqual({ fail: 0, race: 0 });
  });

  it('keeps gfns in a small window so tables collide', () => {
    const gfnsOf = (config: VmConfig) => many(300, { config, domain: 'legal' }).flatMap((s) => s.ops.flatMap((op) => {
      const out: number[] = [];
      for (const o of [op, op.race?.op]) if (o && 'gfn' in o) out.push(o.gfn);
      return out;
    }));
    const c = gfnsOf(compact);
    expect(c.filter((g) => g < 64).length / c.length).toBeGreaterThan(0.8);
    expect(c.every((g) => g < 512 + 8)).toBe(true);
    // x86: small offsets from a few bases (plus one table's worth for racing ops).
    const bases = [0, 512, 262144, 134217728];
    const x = gfnsOf(x86Huge);
    expect(x.every((g) => bases.some((b) => g >= b && g < b + 16 + 512))).toBe(true);
    expect(x.filter((g) => g < 16).length / x.length).toBeGreaterThan(0.4);
  });

  it('finalizes early in most sequences and never in some', () => {
    const seqs = many(1000, { config: compact, domain: 'legal' });
    const at = seqs.map((s) => s.ops.findIndex((op) => op.kind === 'finalize'));
    const never = at.filter((i) => i < 0).length / seqs.length;
    expect(never).toBeGreaterThan(0.1);
    expect(never).toBeLessThan(0.3);
    expect(at.every((i) => i <= 3)).toBe(true);
  });

  it('covers the legal op mix, and the extended domain adds its misuse', () => {
    const kinds = (ops: Op[]) => ops.flatMap((op) => [op.kind, ...(op.race ? [`race:${op.race.op.kind}`] : [])]);
    const legal = many(500, { config: compact, domain: 'legal' }).flatMap((s) => s.ops);
    // race:zap: a conversion / punch hole while a split has dropped mmu_lock to allocate
    expect(new Set(kinds(legal))).toEqual(new Set(['fault', 'zap', 'split', 'age', 'invalidateDirect', 'finalize', 'rcuRead',
      'rcuUnlock', 'gracePeriod', 'releaseHkid', 'destroy', 'race:fault', 'race:zap', 'race:age', 'race:rcuRead', 'race:gracePeriod']));
    // ... and only there (an unmap needs mmu_lock for write)
    const racingZaps = legal.filter((op) => op.race?.op.kind === 'zap');
    expect(racingZaps.length).toBeGreaterThan(0);
    expect(racingZaps.every((op) => op.kind === 'split')).toBe(true);
    // every releaseHkid of the legal domain comes right after the guest_memfd-close zap of all private memory
    const legalSeqs = many(500, { config: compact, domain: 'legal' });
    const releases = legalSeqs.flatMap((s) => s.ops.flatMap((op, i) => (op.kind === 'releaseHkid' ? [s.ops[i - 1]] : [])));
    expect(releases.length).toBeGreaterThan(0);
    expect(releases.every((prev) => prev?.kind === 'zap' && prev.start === 0 && prev.end === 4096 && prev.attr !== 'shared' && !prev.fail))
      .toBe(true);
    const faults = legal.filter((op): op is Extract<Op, { kind: 'fault' }> => op.kind === 'fault');
    expect(faults.filter((f) => f.private).length).toBeGreaterThan(faults.length * 0.4);
    // shared faults only after FINALIZE (no vCPU runs before it), so fewer than private ones
    expect(faults.filter((f) => !f.private).length).toBeGreaterThan(faults.length * 0.2);
    expect(legal.some((op) => op.kind === 'destroy' && op.fail?.some((f) => f.at === 'reclaim' || f.at === 'hkidRelease'))).toBe(true);

    const extended = many(500, { config: compact, domain: 'extended' });
    const ops = extended.flatMap((s) => s.ops);
    expect(ops.some((op) => op.kind === 'fault' && op.private && !op.write)).toBe(true);
    expect(ops.some((op) => op.kind === 'age' && op.mirror)).toBe(true);
    expect(ops.some((op) => op.kind === 'atomicZap' && op.private)).toBe(true);
    const midRelease = extended.some((s) => {
      const i = s.ops.findIndex((op) => op.kind === 'releaseHkid');
      return i >= 0 && s.ops.slice(i + 1).some((op) => !['gracePeriod', 'rcuUnlock', 'destroy'].includes(op.kind));
    });
    expect(midRelease).toBe(true);
    // the extended domain is not legalized: it also releases the hkid with private leaves possibly mapped
    const bareRelease = extended.some((s) => s.ops.some((op, i) => op.kind === 'releaseHkid'
      && !(s.ops[i - 1]?.kind === 'zap' && (s.ops[i - 1] as Extract<Op, { kind: 'zap' }>).end === 4096)));
    expect(bareRelease).toBe(true);
    expect(extended.filter((s) => legalityErrors(s).length > 0).length).toBeGreaterThan(250);
  });
});

describe('generateRandomOp', () => {
  it('builds single legal ops for mutation engines, tracking state', () => {
    const ch = rngChooser(seedrandom('ops'));
    const state = initialState();
    const ops = Array.from({ length: 500 }, () => generateRandomOp(ch, state, { config: compact, domain: 'legal', faultRate: 0.3, raceRate: 0.3 }));
    expect(ops.some((op) => ['finalize', 'releaseHkid', 'destroy'].includes(op.kind))).toBe(false);
    const seq = validateSequence({ format: 'tdpfuzz-seq/1', config: compact, ops }, 'ops');
    expect(legalityErrors(seq)).toEqual([]);
  });
});

describe('weighted draws (seq/chooser.ts)', () => {
  /** A Chooser whose int() returns the given values in turn. */
  const fixed = (...xs: number[]): Chooser => ({ int: (lo, hi) => Math.min(hi, Math.max(lo, xs.shift()!)), chance: () => false });

  it('skips weights <= 0, draws by cumulative weight, and refuses a list without a positive weight', () => {
    const entries = [['a', 0], ['b', 2], ['c', -1], ['d', 3], ['e', 0]] as const;
    // the total is 5: 0..1 are b, 2..4 are d
    expect([0, 1, 2, 4].map(r => weighted(fixed(r), entries))).toEqual(['b', 'b', 'd', 'd']);
    expect(weightedSlot(fixed(1), [0, 2, -1, 3, 0], 5)).toBe(1);
    expect(weightedSlot(fixed(2), [0, 2, -1, 3, 0], 5)).toBe(3);
    // only the first n weights count
    expect(weightedSlot(fixed(4), [0, 2, -1, 3, 9], 4)).toBe(3);
    expect(() => weighted(fixed(0), [['a', 0], ['b', -2]] as const)).toThrow(/no entry has a positive weight/);
    // longer lists than the scratch array starts with
    const many = Array.from({ length: 40 }, (_, i) => [i, i === 37 ? 1 : 0] as const);
    expect(weighted(fixed(0), many)).toBe(37);
  });
});
