// The sequence mutation operators (harness/seq/mutate.ts) and repair (harness/seq/repair.ts), on
// their own: no engine, no runs. Parents are random sequences and, so that races, fail plans and
// teardown tails pile up as they do in a campaign, earlier mutants.
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import type { Op, VmConfig } from '../impls/api';
import type { Domain } from '../harness/seq/domain';
import { generateSequence, rngChooser, type GenerateOptions } from '../harness/seq/generate';
import { legalityErrors } from '../harness/seq/legality';
import { havoc, mutateContext, mutateOnce, MUTATIONS, raceSweep, type MutateContext, type Mutation, type SpliceDonor } from '../harness/seq/mutate';
import { repair } from '../harness/seq/repair';
import { makeSequence, normalizeOp, sealCanonical, serializeSequence, validateSequence, type Sequence } from '../harness/seq/sequence';

const CASES: ReadonlyArray<readonly [string, VmConfig, Domain]> = [
  ['compact, huge pages, legal', { geometry: 'compact', hugePages: true, vcpus: 2 }, 'legal'],
  ['compact, 4K, legal', { geometry: 'compact', hugePages: false, vcpus: 2 }, 'legal'],
  ['compact, huge pages, 1 vcpu, legal', { geometry: 'compact', hugePages: true, vcpus: 1 }, 'legal'],
  ['compact, huge pages, extended', { geometry: 'compact', hugePages: true, vcpus: 2 }, 'extended'],
  ['x86, huge pages, legal', { geometry: 'x86', hugePages: true, vcpus: 3 }, 'legal'],
];

function contextOf(seed: string, config: VmConfig, domain: Domain): MutateContext {
  const gen: GenerateOptions = { config, domain };
  return mutateContext(rngChooser(seedrandom(seed)), gen, 48);
}

/** A pool of parents: random sequences of the configuration (their own stream, not the context's). */
function seedPool(config: VmConfig, domain: Domain, n = 24): SpliceDonor[] {
  return Array.from({ length: n }, (_, i) => {
    const s = generateSequence('mutate-test', i, { config, domain });
    return { seq: makeSequence(s.config, s.ops) };
  });
}

/** A valid and, in the legal domain, legal sequence of the configuration; fails the test otherwise. */
function expectGood(seq: Sequence, config: VmConfig, domain: Domain, what: string): void {
  const again = validateSequence(JSON.parse(serializeSequence(seq)), what);
  expect(again.config, what).toEqual(config);
  expect(again.ops.length, what).toBeGreaterThan(0);
  expect(again.ops.length, what).toBeLessThanOrEqual(48);
  if (domain === 'legal') expect(legalityErrors(seq), what).toEqual([]);
}

/** Everything mutateOnce leaves for repair: nothing but the shape (a second finalize, ops after destroy). */
function expectValidOps(ops: readonly Op[], config: VmConfig, what: string): void {
  ops.forEach((op, i) => {
    expect(() => normalizeOp(JSON.parse(JSON.stringify(op)), config, `${what}: ops[${i}]`)).not.toThrow();
  });
}

describe('mutation operators', () => {
  it('are deterministic for a seed', () => {
    const [, config, domain] = CASES[0];
    const produce = (seed: string): string[] => {
      const mc = contextOf(seed, config, domain);
      const pool = seedPool(config, domain);
      const out: string[] = [];
      for (let i = 0; i < 200; i++) {
        const m = havoc(mc, pool[i % pool.length].seq.ops, pool);
        out.push(m ? `${m.mutations.join(',')} ${serializeSequence(m.seq)}` : 'null');
        if (m) pool.push({ seq: m.seq });
      }
      const sweep = raceSweep(mc, pool[pool.length - 1].seq.ops, new Set(['split', 'zap', 'invalidateDirect']));
      out.push(JSON.stringify(sweep?.map(s => s.ops)));
      return out;
    };
    const a = produce('det');
    expect(produce('det')).toEqual(a);
    expect(produce('other')).not.toEqual(a);
  });

  it('do not modify the parent or the donors', () => {
    const [, config, domain] = CASES[0];
    const mc = contextOf('pure', config, domain);
    const pool = seedPool(config, domain);
    const before = JSON.stringify(pool);
    for (let i = 0; i < 300; i++) havoc(mc, pool[i % pool.length].seq.ops, pool);
    raceSweep(mc, pool[0].seq.ops, new Set(['split', 'zap', 'fault']));
    expect(JSON.stringify(pool)).toBe(before);
  });

  it('give the same mutants from sealed (frozen, shared) parents as from private copies, and never write a parent op', () => {
    // havoc copies the op list, not the ops (copy-on-write, mutate.ts own): an operator that wrote
    // to a parent op in place would throw on a sealed one, or change what the copies produce
    for (const [name, config, domain] of CASES) {
      const produce = (seal: boolean): string[] => {
        const mc = contextOf(`seal/${name}`, config, domain);
        const pool = seedPool(config, domain);
        if (seal) for (const d of pool) sealCanonical(d.seq);
        const out: string[] = [];
        for (let i = 0; i < 300; i++) {
          const parent = pool[(i * 7) % pool.length];
          const m = havoc(mc, parent.seq.ops, pool);
          out.push(m ? `${m.mutations.join(',')} ${serializeSequence(m.seq)}` : 'null');
          if (m && pool.length < 200) {
            if (seal) sealCanonical(m.seq);
            pool.push({ seq: m.seq });
          }
          if (i % 10 === 0) out.push(JSON.stringify(raceSweep(mc, parent.seq.ops, new Set(['split', 'zap', 'invalidateDirect', 'atomicZap']))?.map(x => x.ops)));
        }
        return out;
      };
      expect(produce(true), name).toEqual(produce(false));
    }
    // untouched ops are the parent's own objects (not re-read), changed ones are fresh copies
    const [, config, domain] = CASES[1];
    const mc = contextOf('share', config, domain);
    const pool = seedPool(config, domain);
    for (const d of pool) sealCanonical(d.seq);
    let shared = 0, fresh = 0;
    for (let i = 0; i < 100; i++) {
      const parent = pool[i % pool.length].seq.ops;
      const m = havoc(mc, parent, pool);
      if (!m) continue;
      for (const op of m.seq.ops) if (parent.includes(op)) { shared++; expect(Object.isFrozen(op)).toBe(true); } else fresh++;
    }
    expect(shared).toBeGreaterThan(fresh);
    expect(fresh).toBeGreaterThan(0);
  });

  for (const [name, config, domain] of CASES) {
    it(`each operator makes valid ops, and repaired mutants are valid and legal (${name})`, () => {
      const mc = contextOf(`ops/${name}`, config, domain);
      const pool = seedPool(config, domain);
      const applied = new Map<Mutation, number>();
      const repaired = new Map<Mutation, number>();
      let tries = 0;
      for (let round = 0; round < 40; round++) {
        for (const [m] of MUTATIONS) {
          // a stride through the pool, so each operator sees random parents and earlier mutants alike
          const parent = pool[(tries++ * 7) % pool.length].seq.ops;
          const ops = parent.map(op => JSON.parse(JSON.stringify(op)) as Op);
          if (!mutateOnce(mc, ops, m, pool)) continue;
          const what = `${name}: ${m} (round ${round})`;
          applied.set(m, (applied.get(m) ?? 0) + 1);
          expectValidOps(ops, config, what);
          const seq = repair(ops, mc);
          if (!seq) continue;
          repaired.set(m, (repaired.get(m) ?? 0) + 1);
          expectGood(seq, config, domain, what);
          if (pool.length < 200) pool.push({ seq });
        }
      }
      for (const [m] of MUTATIONS) {
        // every operator was exercised, and repair saved most of what it made
        expect(applied.get(m) ?? 0, `${name}: ${m} applied`).toBeGreaterThan(5);
        expect(repaired.get(m) ?? 0, `${name}: ${m} repaired`).toBeGreaterThan((applied.get(m) ?? 0) / 2);
      }
    });

    it(`havoc and the race sweep give valid, legal sequences (${name})`, () => {
      const mc = contextOf(`havoc/${name}`, config, domain);
      const pool = seedPool(config, domain);
      let made = 0, swept = 0;
      for (let i = 0; i < 300; i++) {
        const parent = pool[(i * 7) % pool.length];
        const m = havoc(mc, parent.seq.ops, pool);
        if (m) {
          made++;
          expect(m.mutations.length).toBeGreaterThanOrEqual(1);
          expect(m.mutations.length).toBeLessThanOrEqual(4);
          expectGood(m.seq, config, domain, `${name}: havoc ${i} (${m.mutations.join(', ')})`);
          if (pool.length < 200) pool.push({ seq: m.seq });
        }
        if (i % 10 === 0) {
          const sweep = raceSweep(mc, parent.seq.ops, new Set(['split', 'zap', 'invalidateDirect', 'atomicZap']));
          for (const s of sweep ?? []) {
            swept++;
            expectGood(s, config, domain, `${name}: race sweep ${i}`);
            const raced = s.ops.filter(op => op.race && op.race.level !== undefined && op.race.level <= 3 && (op.race.nth ?? 1) <= 3);
            expect(raced.length).toBeGreaterThan(0);
          }
        }
      }
      expect(made).toBeGreaterThan(280);
      expect(swept).toBeGreaterThan(0);
    });
  }

  it('the race sweep races only the kinds it is given, never a fault', () => {
    const [, config, domain] = CASES[0];
    const mc = contextOf('sweep', config, domain);
    const faultsOnly = makeSequence(config, [{ kind: 'finalize' }, { kind: 'fault', gfn: 3, vcpu: 0, private: false, write: true, maxLevel: 1 }]);
    expect(raceSweep(mc, faultsOnly.ops, new Set(['fault']))).toBeNull();
    const withSplit = makeSequence(config, [
      { kind: 'finalize' },
      { kind: 'fault', gfn: 8, vcpu: 0, private: false, write: true, maxLevel: 2 },
      { kind: 'split', start: 8, end: 16, targetLevel: 1, private: false, shared: true },
    ]);
    expect(raceSweep(mc, withSplit.ops, new Set(['zap']))).toBeNull();
    const sweep = raceSweep(mc, withSplit.ops, new Set(['split']))!;
    expect(sweep.length).toBeGreaterThan(0);
    for (const s of sweep) {
      expect(s.ops[2].race).toBeDefined();
      expect(s.ops[0].race ?? s.ops[1].race).toBeUndefined();
    }
    // every (level, nth) of 1..3 × 1..3 that the split has a race for
    const points = new Set(sweep.map(s => `${s.ops[2].race!.level}/${s.ops[2].race!.nth}`));
    expect(points.size).toBeGreaterThan(1);
  });
});

describe('repair', () => {
  const config: VmConfig = { geometry: 'compact', hugePages: true, vcpus: 2 };
  const limits = { config, domain: 'legal' as const, maxLength: 8 };
  const fault = (gfn: number, priv = false): Op => ({ kind: 'fault', gfn, vcpu: 0, private: priv, write: true, maxLevel: 1 });

  it('keeps the first finalize, cuts after destroy, and drops what is illegal', () => {
    const seq = repair([{ kind: 'finalize' }, fault(1), { kind: 'finalize' }, { kind: 'destroy' }, fault(2)], limits)!;
    expect(seq.ops.map(o => o.kind)).toEqual(['finalize', 'fault', 'destroy']);
    // a shared fault before finalize is outside the legal domain: dropped
    const early = repair([fault(1), { kind: 'finalize' }, fault(2)], limits)!;
    expect(early.ops.map(o => o.kind)).toEqual(['finalize', 'fault']);
    expect(legalityErrors(early)).toEqual([]);
    // the extended domain keeps it
    expect(repair([fault(1), { kind: 'finalize' }], { ...limits, domain: 'extended' })!.ops).toHaveLength(2);
    // releaseHkid gets its guest_memfd-close zap
    const rel = repair([{ kind: 'finalize' }, fault(1), { kind: 'releaseHkid' }], limits)!;
    expect(rel.ops.map(o => o.kind)).toEqual(['finalize', 'fault', 'zap', 'releaseHkid']);
  });

  it('drops an illegal race rather than its op', () => {
    const outer: Op = { ...fault(5), race: { at: 'install', op: { ...fault(6), vcpu: 0 } } } as Op;
    const seq = repair([{ kind: 'finalize' }, outer], limits);
    expect(seq).not.toBeNull();
    expect(seq!.ops).toHaveLength(2);
    expect(seq!.ops[1].race).toBeUndefined();
  });

  it('gives null for what cannot be saved: too long, empty, or invalid', () => {
    expect(repair(Array.from({ length: 9 }, () => ({ kind: 'gracePeriod' }) as Op), limits)).toBeNull();
    expect(repair([], limits)).toBeNull();
    expect(repair([{ kind: 'zap', start: 4, end: 2, attr: 'both' } as Op], limits)).toBeNull();
    expect(repair([fault(1)], limits)).toBeNull();
  });
});
