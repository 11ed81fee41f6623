// The op-kind table (issue 8): every kind of impls/api.ts has an entry with every facet, the table
// drives validation, serialization order and descriptions, and nothing falls back to a default for a
// kind the table does not know.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { OP_KINDS, RACE_OP_KINDS, type Op, type OpKind, type VmConfig } from '../impls/api';
import { AFTER_RELEASE_HKID_KINDS, OP_KIND_SPECS, specOfKind, type OpKindSpec } from '../harness/seq/op_kinds';
import { buildArgs, initialState, type OpPolicy } from '../harness/seq/opgen';
import { rngChooser } from '../harness/seq/generate';
import { normalizeOp } from '../harness/seq/sequence';
import { describeOp } from '../harness/run/findings';

/** Every facet of OpKindSpec (the Record type makes this list fail to compile when a facet is added). */
const FACETS: Record<keyof OpKindSpec<Op>, 'function' | 'object' | 'nullable'> = {
  fields: 'object', describe: 'function',
  illegal: 'function', illegalBeforeFinalize: 'function', illegalAfter: 'function', illegalDuring: 'function',
  concurrency: 'object', afterReleaseHkid: 'nullable',
  weight: 'function', build: 'function', nested: 'nullable', failCandidates: 'function', racePlan: 'function', note: 'function',
  simplify: 'function', simplifyWithRace: 'function',
};

const config: VmConfig = { geometry: 'compact', hugePages: true, vcpus: 4 };
const policy: OpPolicy = { config, domain: 'extended', faultRate: 0, raceRate: 0, profile: 'uniform' };

/** A few ops of each kind, built by the table's own generator. */
function samples(kind: OpKind, n = 20): Op[] {
  const ch = rngChooser(seedrandom(`op_kinds/${kind}`));
  return Array.from({ length: n }, () => buildArgs(ch, kind, initialState(), policy));
}

describe('the op-kind table', () => {
  it('has one entry per OP_KINDS entry, in OP_KINDS order', () => {
    expect(Object.keys(OP_KIND_SPECS)).toEqual([...OP_KINDS]);
  });

  it('gives every kind every facet', () => {
    for (const kind of OP_KINDS) {
      const spec = OP_KIND_SPECS[kind] as unknown as Record<string, unknown>;
      expect(Object.keys(spec).sort(), kind).toEqual(Object.keys(FACETS).sort());
      for (const [facet, type] of Object.entries(FACETS)) {
        const v = spec[facet];
        if (type === 'nullable') expect(v === null || typeof v === 'function' || typeof v === 'object', `${kind}.${facet}`).toBe(true);
        else expect(typeof v, `${kind}.${facet}`).toBe(type);
      }
      expect(typeof OP_KIND_SPECS[kind].concurrency.vcpuFault).toBe('boolean');
      expect(typeof OP_KIND_SPECS[kind].concurrency.unmap).toBe('boolean');
    }
  });

  it('lists every field: generated ops have exactly the table fields, and validate to themselves in table order', () => {
    for (const kind of OP_KINDS) {
      const fields = Object.keys(OP_KIND_SPECS[kind].fields);
      for (const op of samples(kind)) {
        expect(op.kind).toBe(kind);
        expect(Object.keys(op).sort(), kind).toEqual(['kind', ...fields].sort());
        const normal = normalizeOp(op, config);
        expect(normal).toEqual(op);
        expect(Object.keys(normal)).toEqual(['kind', ...fields]);
      }
    }
  });

  it('describes each kind distinctly, starting with its name', () => {
    const lines = OP_KINDS.map((kind) => describeOp(samples(kind, 1)[0]));
    expect(new Set(lines).size).toBe(OP_KINDS.length);
    lines.forEach((line, i) => expect(line.split(' ')[0]).toBe(OP_KINDS[i]));
  });

  it('has no fallback for a kind it does not know', () => {
    const bogus = { kind: 'bogus' } as unknown as Op;
    expect(() => describeOp(bogus)).toThrow(/unknown op kind "bogus"/);
    expect(() => specOfKind('toString' as OpKind)).toThrow(/unknown op kind/);
    expect(() => normalizeOp(bogus, config)).toThrow(/unknown op "bogus"/);
  });

  it('ranks the kinds that may follow releaseHkid distinctly', () => {
    expect(AFTER_RELEASE_HKID_KINDS).toEqual(['gracePeriod', 'rcuUnlock', 'destroy']);
    const ranks = AFTER_RELEASE_HKID_KINDS.map((k) => OP_KIND_SPECS[k].afterReleaseHkid!.rank);
    expect(new Set(ranks).size).toBe(ranks.length);
  });

  it('races only with kinds that have a nested builder and may run as racing ops', () => {
    const state = initialState();
    for (const kind of OP_KINDS) {
      for (const op of samples(kind)) {
        const plan = specOfKind(kind).racePlan(op, state, policy);
        for (const [nested] of plan?.nested ?? []) {
          expect(specOfKind(nested).nested, `${kind} races with ${nested}`).not.toBeNull();
          expect((RACE_OP_KINDS as readonly string[]).includes(nested)).toBe(true);
        }
      }
      if (OP_KIND_SPECS[kind].nested) expect((RACE_OP_KINDS as readonly string[]).includes(kind), kind).toBe(true);
    }
  });
});
