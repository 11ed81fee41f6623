import { describe, expect, it } from 'vitest';
import type { Op, VmConfig } from '../impls/api';
import {
  InputError, SEQUENCE_FORMAT, makeSequence, normalizeOp, parseSequence, sealCanonical, sequenceHash,
  serializeSequence, totalGfns, validateSequence, type Sequence,
} from '../harness/seq/sequence';
import { legalityErrors } from '../harness/seq/legality';

const compact = { geometry: 'compact', hugePages: false, vcpus: 2 } as const;

/** A sequence file text with the given ops (raw JSON values, so malformed ops can be written). */
function file(ops: unknown[], config: object = compact, extra: object = {}): string {
  return JSON.stringify({ format: SEQUENCE_FORMAT, config, ops, ...extra });
}

function errorOf(text: string): string {
  try {
    parseSequence(text, 'seq.json');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an InputError');
}

const fault = (extra: object = {}) => ({ kind: 'fault', vcpu: 0, gfn: 1, private: true, ...extra });

describe('validateSequence: one-line errors naming file, op index and field', () => {
  it('rejects truncated JSON', () => {
    expect(errorOf('{"format": "tdpfuzz-seq/1", "ops": [')).toBe('seq.json: not valid JSON (Unexpected end of JSON input)');
  });

  it('keeps a JSON error quoting multi-line input on one line', () => {
    expect(errorOf('{\n "a": tru\n}')).toMatch(/^seq\.json: not valid JSON \(.+\)$/);
  });

  it('rejects an unsupported format version', () => {
    expect(errorOf(JSON.stringify({ format: 'tdpfuzz-seq/2', config: compact, ops: [] })))
      .toBe('seq.json: format "tdpfuzz-seq/2" is not supported (expected "tdpfuzz-seq/1")');
    expect(errorOf(JSON.stringify({ config: compact, ops: [] }))).toBe('seq.json: format: missing (expected "tdpfuzz-seq/1")');
    // The version is checked before the fields: another version may have other fields.
    expect(errorOf(JSON.stringify({ format: 'tdpfuzz-seq/2', config: compact, steps: [] })))
      .toBe('seq.json: format "tdpfuzz-seq/2" is not supported (expected "tdpfuzz-seq/1")');
  });

  it('rejects a non-object top level and unknown top-level fields', () => {
    expect(errorOf('[1]')).toBe('seq.json: expected a JSON object at the top level, got [1]');
    expect(errorOf(file([], compact, { seed: 3 })))
      .toBe('seq.json: seed: unknown field for a sequence (fields: $schema, format, config, ops, meta)');
    expect(errorOf(file([{ kind: 'finalize', 'a\nb': 1 }])))
      .toBe('seq.json: ops[0]."a\\nb": unknown field for a finalize op (fields: kind, fail, race)');
    expect(errorOf(JSON.stringify({ format: SEQUENCE_FORMAT, config: compact }))).toBe('seq.json: ops: missing (required)');
    expect(errorOf(JSON.stringify({ format: SEQUENCE_FORMAT, config: compact, ops: {} }))).toBe('seq.json: ops: expected an array of ops, got {}');
    expect(errorOf(file([], compact, { meta: [1] }))).toBe('seq.json: meta: expected an object, got [1]');
  });

  it('rejects bad config fields', () => {
    expect(errorOf(file([], { geometry: 'arm' }))).toBe('seq.json: config.geometry: unknown geometry "arm" (allowed: x86, compact)');
    expect(errorOf(file([], { geometry: 'x86', vcpus: 9 }))).toBe('seq.json: config.vcpus: 9 is out of range (expected 1..8)');
    expect(errorOf(file([], { hugePages: true }))).toBe('seq.json: config.geometry: missing (required)');
    expect(errorOf(file([], { geometry: 'x86', tdx: true })))
      .toBe('seq.json: config.tdx: unknown field for config (fields: geometry, hugePages, vcpus, proveMmu, dpamt)');
  });

  it('rejects an unknown op kind', () => {
    expect(errorOf(file([fault(), { kind: 'foo' }]))).toBe('seq.json: ops[1].kind: unknown op "foo"');
    expect(errorOf(file([{ gfn: 1 }]))).toBe('seq.json: ops[0].kind: missing (required)');
  });

  it('rejects an out-of-range gfn with the geometry size', () => {
    const ops = [fault(), fault(), fault(), fault({ gfn: 70000 })];
    expect(errorOf(file(ops))).toBe('seq.json: ops[3].gfn: 70000 is out of range (compact geometry has 4096 gfns)');
    expect(errorOf(file([fault({ gfn: -1 })], { geometry: 'x86' })))
      .toBe('seq.json: ops[0].gfn: -1 is out of range (x86 geometry has 68719476736 gfns)');
    expect(errorOf(file([fault({ gfn: 1.5 })]))).toBe('seq.json: ops[0].gfn: expected an integer, got 1.5');
  });

  it('rejects out-of-range levels, vcpus and walkers', () => {
    expect(errorOf(file([fault({ maxLevel: 4 })]))).toBe('seq.json: ops[0].maxLevel: 4 is out of range (expected 1..3)');
    expect(errorOf(file([{ kind: 'split', start: 0, end: 8, targetLevel: 0 }])))
      .toBe('seq.json: ops[0].targetLevel: 0 is out of range (expected 1..3)');
    expect(errorOf(file([{ kind: 'atomicZap', gfn: 0, level: 4 }]))).toBe('seq.json: ops[0].level: 4 is out of range (expected 1..3)');
    expect(errorOf(file([fault({ vcpu: 2 })]))).toBe('seq.json: ops[0].vcpu: 2 is out of range (the VM has 2 vcpus)');
    expect(errorOf(file([{ kind: 'rcuUnlock', walker: 8 }]))).toBe('seq.json: ops[0].walker: 8 is out of range (expected 0..7)');
    expect(errorOf(file([fault({ race: { at: 'walk', level: 5, op: { kind: 'gracePeriod' } } })])))
      .toBe('seq.json: ops[0].race.level: 5 is out of range (expected 1..4)');
  });

  it('rejects bad ranges', () => {
    expect(errorOf(file([{ kind: 'zap', start: 8, end: 8 }]))).toBe('seq.json: ops[0].end: 8 must be greater than start (8)');
    expect(errorOf(file([{ kind: 'age', start: 0, end: 4097 }])))
      .toBe('seq.json: ops[0].end: 4097 is out of range (compact geometry has 4096 gfns)');
    expect(errorOf(file([{ kind: 'zap', start: 0, end: 8, attr: 'mirror' }])))
      .toBe('seq.json: ops[0].attr: unknown attr "mirror" (allowed: private, shared, both)');
  });

  it('rejects wrong field types', () => {
    expect(errorOf(file([fault({ write: 'yes' })]))).toBe('seq.json: ops[0].write: expected true or false, got "yes"');
    expect(errorOf(file([{ kind: 'fault', gfn: 1 }]))).toBe('seq.json: ops[0].private: missing (required)');
    expect(errorOf(file([7]))).toBe('seq.json: ops[0]: expected an op object, got 7');
  });

  it('rejects an op that cannot race', () => {
    const allowed = '(allowed: fault, zap, age, rcuRead, rcuUnlock, gracePeriod)';
    const op = { kind: 'fault', gfn: 1, private: false, race: { at: 'walk', op: { kind: 'split', start: 0, end: 8 } } };
    expect(errorOf(file([op])))
      .toBe(`seq.json: ops[0].race.op.kind: "split" cannot run as a racing op ${allowed}`);
    expect(errorOf(file([fault({ race: { at: 'walk', op: { kind: 'destroy' } } })])))
      .toBe(`seq.json: ops[0].race.op.kind: "destroy" cannot run as a racing op ${allowed}`);
    expect(errorOf(file([fault({ race: { at: 'walk', op: { kind: 'releaseHkid' } } })])))
      .toBe(`seq.json: ops[0].race.op.kind: "releaseHkid" cannot run as a racing op ${allowed}`);
    expect(errorOf(file([fault({ race: { at: 'later', op: { kind: 'gracePeriod' } } })])))
      .toBe('seq.json: ops[0].race.at: unknown race point "later" (allowed: walk, install, frozen, removedPt, zapRetry, splitAlloc)');
    expect(errorOf(file([fault({ race: { at: 'walk' } })]))).toBe('seq.json: ops[0].race.op: missing (required)');
  });

  it('accepts a racing zap (a conversion or punch hole while a split has dropped mmu_lock) and validates it', () => {
    const split = { kind: 'split', start: 0, end: 64, race: { at: 'walk', level: 2, nth: 2, op: { kind: 'zap', start: 8, end: 16, attr: 'shared' } } };
    expect(parseSequence(file([split]), 'seq.json').ops).toEqual([
      { kind: 'split', start: 0, end: 64, targetLevel: 1, private: false, shared: true,
        race: { at: 'walk', level: 2, nth: 2, op: { kind: 'zap', start: 8, end: 16, attr: 'shared' } } },
    ]);
    // defaults are filled in the racing zap too
    expect(parseSequence(file([{ ...split, race: { at: 'walk', op: { kind: 'zap', start: 0, end: 1 } } }]), 'seq.json').ops[0].race)
      .toEqual({ at: 'walk', nth: 1, op: { kind: 'zap', start: 0, end: 1, attr: 'both' } });
    expect(errorOf(file([{ ...split, race: { at: 'walk', op: { kind: 'zap', start: 8, end: 8 } } }])))
      .toBe('seq.json: ops[0].race.op.end: 8 must be greater than start (8)');
    expect(errorOf(file([{ ...split, race: { at: 'walk', op: { kind: 'zap', start: 0, end: 8, attr: 'mirror' } } }])))
      .toBe('seq.json: ops[0].race.op.attr: unknown attr "mirror" (allowed: private, shared, both)');
  });

  it('rejects a nested race', () => {
    const inner = { kind: 'fault', vcpu: 1, gfn: 2, private: false, race: { at: 'walk', op: { kind: 'gracePeriod' } } };
    expect(errorOf(file([fault(), fault({ race: { at: 'install', op: inner } })])))
      .toBe('seq.json: ops[1].race.op.race: a racing op may not carry a race itself');
  });

  it('rejects any op after destroy', () => {
    expect(errorOf(file([fault(), { kind: 'destroy' }, { kind: 'gracePeriod' }]))).toBe('seq.json: ops[2]: no op may follow destroy');
  });

  it('rejects unknown fields, naming the allowed ones', () => {
    expect(errorOf(file([{ kind: 'fault', gfnn: 1, private: true }])))
      .toBe('seq.json: ops[0].gfnn: unknown field for a fault op (fields: kind, vcpu, gfn, private, write, maxLevel, fail, race)');
    expect(errorOf(file([{ kind: 'gracePeriod', walker: 1 }])))
      .toBe('seq.json: ops[0].walker: unknown field for a gracePeriod op (fields: kind, fail, race)');
  });

  it('checks fail entries', () => {
    expect(errorOf(file([fault({ fail: [{ at: 'topup', call: 'SEPT.ADD' }] })])))
      .toBe('seq.json: ops[0].fail[0].call: only allowed with at "seamcall" (this entry is at "topup")');
    expect(errorOf(file([fault({ fail: [{ at: 'topup' }, { at: 'seamcall' }] })])))
      .toBe('seq.json: ops[0].fail[1].call: missing (required with at "seamcall")');
    expect(errorOf(file([fault({ fail: [{ at: 'seamcall', call: 'SEPT.ADDX' }] })])))
      .toBe('seq.json: ops[0].fail[0].call: unknown SEAMCALL "SEPT.ADDX" (allowed: SEPT.ADD, PAGE.AUG, PAGE.ADD, RANGE.BLOCK, TRACK, PAGE.REMOVE, PHYMEM.PAGE.WBINVD, PHYMEM.PAGE.RECLAIM, PAGE.DEMOTE, MNG.VPFLUSHDONE, PHYMEM.CACHE.WB, MNG.KEY.FREEID)');
    expect(errorOf(file([fault({ fail: [{ at: 'seamcall', call: 'TRACK', error: 'EIO' }] })])))
      .toBe('seq.json: ops[0].fail[0].error: unknown error "EIO" (allowed: BUSY, ERROR)');
    expect(errorOf(file([fault({ fail: [{ at: 'yield', nth: 65 }] })])))
      .toBe('seq.json: ops[0].fail[0].nth: 65 is out of range (expected 1..64)');
    expect(errorOf(file([fault({ fail: { at: 'yield' } })])))
      .toBe('seq.json: ops[0].fail: expected an array of fail entries, got {"at":"yield"}');
  });
});

describe('defaults, serialization and hashing', () => {
  it('fills defaults so the runner sees complete ops', () => {
    const seq = parseSequence(file([
      { kind: 'fault', gfn: 3, private: true, fail: [{ at: 'seamcall', call: 'SEPT.ADD' }, { at: 'topup' }] },
      { kind: 'split', start: 0, end: 64 },
      { kind: 'zap', start: 0, end: 1, fail: [] },
      { kind: 'age', start: 0, end: 1, race: { at: 'walk', op: { kind: 'rcuRead', gfn: 2 } } },
      { kind: 'atomicZap', gfn: 9 },
    ], { geometry: 'compact' }), 'seq.json');
    expect(seq.config).toEqual({ geometry: 'compact', hugePages: false, vcpus: 2 });
    expect(seq.ops).toEqual([
      { kind: 'fault', vcpu: 0, gfn: 3, private: true, write: true, maxLevel: 1,
        fail: [{ at: 'seamcall', nth: 1, call: 'SEPT.ADD', error: 'BUSY' }, { at: 'topup', nth: 1 }] },
      { kind: 'split', start: 0, end: 64, targetLevel: 1, private: false, shared: true },
      { kind: 'zap', start: 0, end: 1, attr: 'both' },
      { kind: 'age', start: 0, end: 1, mirror: false, race: { at: 'walk', nth: 1, op: { kind: 'rcuRead', walker: 0, gfn: 2, private: false } } },
      { kind: 'atomicZap', gfn: 9, level: 1, private: true },
    ]);
    expect(normalizeOp({ kind: 'rcuUnlock' }, compact)).toEqual({ kind: 'rcuUnlock', walker: 0 });
    expect(() => normalizeOp({ kind: 'fault', gfn: 5000, private: false }, compact, 'ops[4]'))
      .toThrow('<op>: ops[4].gfn: 5000 is out of range (compact geometry has 4096 gfns)');
  });

  const sample: Sequence = makeSequence({ geometry: 'x86', hugePages: true, vcpus: 3 }, [
    { kind: 'finalize' },
    { kind: 'fault', vcpu: 2, gfn: 262144, private: true, write: true, maxLevel: 2,
      race: { at: 'frozen', level: 1, nth: 2, op: { kind: 'fault', vcpu: 0, gfn: 262145, private: true, write: true, maxLevel: 1 } } },
    { kind: 'zap', start: 0, end: 512, attr: 'private', fail: [{ at: 'seamcall', nth: 1, call: 'RANGE.BLOCK', error: 'ERROR' }] },
    { kind: 'destroy', fail: [{ at: 'reclaim', nth: 3 }] },
  ], { engine: 'test', note: 'multi\nline' });

  it('round-trips serialize → parse', () => {
    const text = serializeSequence(sample);
    const back = parseSequence(text, 'x.json');
    expect(back).toEqual(sample);
    expect(serializeSequence(back)).toBe(text);
  });

  it('serializes stably: 2-space JSON, one op per line', () => {
    const text = serializeSequence(sample);
    const lines = text.split('\n');
    expect(lines[0]).toBe('{');
    // `$schema` first (editors, schemas/): without a destination, the form of the committed corpus/.
    expect(lines[1]).toBe('  "$schema": "../schemas/tdpfuzz-seq-1.schema.json",');
    expect(lines[2]).toBe('  "format": "tdpfuzz-seq/1",');
    expect(lines[3]).toBe('  "config": {"geometry": "x86", "hugePages": true, "vcpus": 3},');
    expect(lines[4]).toBe('  "ops": [');
    expect(lines[5]).toBe('    {"kind": "finalize"},');
    expect(lines.filter((l) => l.startsWith('    {"kind"'))).toHaveLength(4);
    expect(lines[8]).toBe('    {"kind": "destroy", "fail": [{"at": "reclaim", "nth": 3}]}');
    expect(text.endsWith('}\n')).toBe(true);
    const empty = serializeSequence(makeSequence(compact, []));
    expect(empty).toBe('{\n  "$schema": "../schemas/tdpfuzz-seq-1.schema.json",\n  "format": "tdpfuzz-seq/1",\n  "config": {"geometry": "compact", "hugePages": false, "vcpus": 2},\n  "ops": []\n}\n');
    expect(parseSequence(empty, 'e.json').ops).toEqual([]);
  });

  it('hashes config and ops canonically (meta and key order do not matter)', () => {
    const h = sequenceHash(sample);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    const reordered = JSON.parse(JSON.stringify(sample), (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v);
    expect(sequenceHash({ ...reordered, meta: { other: 1 } })).toBe(h);
    // Defaults and explicit values hash the same.
    const sparse = validateSequence(JSON.parse(file([{ kind: 'fault', gfn: 1, private: false }])), 's');
    const explicit = makeSequence(compact, [{ kind: 'fault', vcpu: 0, gfn: 1, private: false, write: true, maxLevel: 1 }]);
    expect(sequenceHash(sparse)).toBe(sequenceHash(explicit));
    const changed = { ...sample, ops: sample.ops.map((op, i) => (i === 0 ? { kind: 'gracePeriod' as const } : op)) };
    expect(sequenceHash(changed)).not.toBe(h);
  });

  it('seals canonical ops only: validation takes a sealed op as it is, for the configuration it was checked against', () => {
    const seq = makeSequence({ ...compact, vcpus: 4 }, [
      { kind: 'fault', vcpu: 3, gfn: 9, private: true, write: true, maxLevel: 1, fail: [{ at: 'seamcall', nth: 1, call: 'PAGE.AUG', error: 'BUSY' }] },
      { kind: 'zap', start: 0, end: 8, attr: 'private' },
    ]);
    // the same fault with its keys in another order, and one missing its defaults: not canonical
    const reordered = { private: true, gfn: 9, vcpu: 3, kind: 'fault', write: true, maxLevel: 1 } as unknown as Op;
    const sparse = { kind: 'fault', vcpu: 0, gfn: 2, private: true } as unknown as Op;
    const withUndefined = { ...seq.ops[0], race: undefined } as Op;
    const mixed = { ...seq, ops: [...seq.ops, reordered, sparse, withUndefined] };
    sealCanonical(mixed);
    expect(seq.ops.map(op => Object.isFrozen(op))).toEqual([true, true]);
    expect(Object.isFrozen(seq.ops[0].fail![0])).toBe(true);
    expect([reordered, sparse, withUndefined].map(op => Object.isFrozen(op))).toEqual([false, false, false]);
    expect(() => { (seq.ops[0] as { gfn: number }).gfn = 10; }).toThrow(TypeError);
    const again = validateSequence({ format: SEQUENCE_FORMAT, config: { ...compact, vcpus: 4 }, ops: mixed.ops }, 's');
    expect(again.ops[0]).toBe(seq.ops[0]);
    expect(again.ops[1]).toBe(seq.ops[1]);
    expect(again.ops[3]).not.toBe(reordered);
    expect(Object.keys(again.ops[3])).toEqual(['kind', 'vcpu', 'gfn', 'private', 'write', 'maxLevel']);
    // under another configuration a sealed op is read again: vcpu 3 does not exist with 2 vCPUs
    expect(() => validateSequence({ format: SEQUENCE_FORMAT, config: compact, ops: [seq.ops[0]] }, 's.json')).toThrow(/s\.json: ops\[0\]\.vcpu: 3 is out of range/);
    expect(() => sealCanonical({ ...seq, ops: [{ kind: 'fault' } as unknown as Op] })).toThrow(InputError);
  });

  it('knows the geometry sizes', () => {
    expect(totalGfns({ geometry: 'compact', hugePages: false, vcpus: 1 })).toBe(4096);
    expect(totalGfns({ geometry: 'x86', hugePages: false, vcpus: 1 })).toBe(512 ** 4);
  });
});

describe('legalityErrors', () => {
  const legal = (ops: Op[], hugePages = false) => legalityErrors(makeSequence({ ...compact, hugePages }, ops));
  const pf = (extra: Partial<Op> = {}): Op => ({ kind: 'fault', vcpu: 0, gfn: 1, private: true, write: true, maxLevel: 1, ...extra } as Op);

  it('accepts what the kernel does', () => {
    expect(legal([
      { kind: 'finalize' }, pf(), { kind: 'fault', vcpu: 1, gfn: 2, private: false, write: false, maxLevel: 3 },
      { kind: 'zap', start: 0, end: 8, attr: 'private' }, { kind: 'split', start: 0, end: 64, targetLevel: 1, private: false, shared: true },
      { kind: 'age', start: 0, end: 8, mirror: false, race: { at: 'walk', op: { kind: 'rcuRead', walker: 0, gfn: 1, private: true } } },
      { kind: 'rcuUnlock', walker: 0 },
      // closing guest_memfd zaps every private leaf before the hkid is released
      { kind: 'zap', start: 0, end: 4096, attr: 'private' }, { kind: 'releaseHkid' }, { kind: 'gracePeriod' }, { kind: 'destroy' },
    ])).toEqual([]);
    // a conversion / punch hole racing a split while it has dropped mmu_lock to allocate
    expect(legal([
      { kind: 'finalize' }, pf({ maxLevel: 2 } as Partial<Op>),
      { kind: 'split', start: 0, end: 64, targetLevel: 1, private: true, shared: false,
        race: { at: 'walk', level: 2, nth: 2, op: { kind: 'zap', start: 0, end: 8, attr: 'private' } } },
    ], true)).toEqual([]);
    expect(legal([pf({ maxLevel: 2 } as Partial<Op>), { kind: 'split', start: 0, end: 64, targetLevel: 1, private: true, shared: false }], true)).toEqual([]);
  });

  it('flags each misuse at its op index', () => {
    const errs = legal([
      pf({ write: false } as Partial<Op>),
      pf({ maxLevel: 2 } as Partial<Op>),
      { kind: 'age', start: 0, end: 1, mirror: true },
      { kind: 'atomicZap', gfn: 0, level: 1, private: true },
      { kind: 'split', start: 0, end: 8, targetLevel: 1, private: true, shared: false },
    ]);
    expect(errs.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    expect(errs[0].reason).toContain('write=false');
    expect(errs[1].reason).toContain('maxLevel 2');
    expect(errs[2].reason).toContain('mirror=true');
    expect(errs[3].reason).toContain('atomicZap');
    expect(errs[4].reason).toContain('split with private=true');
    expect(legal([pf({ maxLevel: 3 } as Partial<Op>)], true)[0].reason).toContain('maxLevel 3');
    expect(legal([{ kind: 'split', start: 0, end: 8, targetLevel: 1, private: true, shared: true }], true)).toHaveLength(1);
  });

  it('flags ops after releaseHkid other than the rest of teardown', () => {
    const errs = legal([
      { kind: 'zap', start: 0, end: 4096, attr: 'private' },
      { kind: 'releaseHkid' }, { kind: 'rcuUnlock', walker: 0 }, pf(), { kind: 'gracePeriod' }, { kind: 'destroy' },
    ]);
    expect(errs).toHaveLength(1);
    expect(errs[0].index).toBe(3);
    expect(errs[0].reason).toContain('after releaseHkid (ops[1])');
    expect(errs[0].reason).toContain('only gracePeriod, rcuUnlock and destroy may follow');
  });

  it('allows releaseHkid only right after a zap of all private memory (the guest_memfd close)', () => {
    const RELEASE: Op = { kind: 'releaseHkid' };
    const zap = (start: number, end: number, attr: 'private' | 'shared' | 'both', extra: Partial<Op> = {}): Op =>
      ({ kind: 'zap', start, end, attr, ...extra } as Op);
    const reasonAt = (ops: Op[], cfg: VmConfig = compact) => legalityErrors(makeSequence(cfg, ops)).map((e) => [e.index, e.reason]);
    const WHY = 'releaseHkid while private leaves may be mapped: the kernel closes guest_memfd (zapping every private leaf) before releasing the hkid';

    // legal: the whole range, private or both, with no injected failure
    expect(legal([pf(), zap(0, 4096, 'private'), RELEASE, { kind: 'destroy' }])).toEqual([]);
    expect(legal([pf(), zap(0, 4096, 'both'), RELEASE])).toEqual([]);
    expect(legalityErrors(makeSequence({ ...compact, geometry: 'x86' }, [zap(0, 512 ** 4, 'private'), RELEASE]))).toEqual([]);

    // illegal: no zap at all, a zap that is not the previous op, a shared-only zap, a partial range,
    // a zap with a fail entry (it may not have removed every leaf), a compact-sized range on x86
    expect(reasonAt([RELEASE])).toEqual([[0, WHY]]);
    expect(reasonAt([pf(), RELEASE])).toEqual([[1, WHY]]);
    expect(reasonAt([zap(0, 4096, 'private'), { kind: 'gracePeriod' }, RELEASE])).toEqual([[2, WHY]]);
    expect(reasonAt([zap(0, 4096, 'shared'), RELEASE])).toEqual([[1, WHY]]);
    expect(reasonAt([zap(1, 4096, 'private'), RELEASE])).toEqual([[1, WHY]]);
    expect(reasonAt([zap(0, 4095, 'both'), RELEASE])).toEqual([[1, WHY]]);
    expect(reasonAt([zap(0, 4096, 'private', { fail: [{ at: 'seamcall', nth: 1, call: 'RANGE.BLOCK', error: 'BUSY' }] }), RELEASE]))
      .toEqual([[1, WHY]]);
    expect(reasonAt([zap(0, 4096, 'private'), RELEASE], { ...compact, geometry: 'x86' })).toEqual([[1, WHY]]);
    // a racing zap inside the previous op does not count: only a top-level zap closes guest_memfd
    expect(reasonAt([{ kind: 'split', start: 0, end: 64, targetLevel: 1, private: false, shared: true,
      race: { at: 'walk', op: zap(0, 4096, 'both') } }, RELEASE])).toEqual([[1, WHY]]);
  });

  it('checks racing ops too', () => {
    const race = (outer: Op, nested: Op): Op => ({ ...outer, race: { at: 'walk', op: nested } } as Op);
    expect(legal([race(pf(), pf({ vcpu: 1, write: false } as Partial<Op>))])[0].reason).toBe('race.op: private fault with write=false (private faults are always write faults)');
    expect(legal([race(pf(), pf())])[0].reason).toContain('same vcpu 0');
    expect(legal([race({ kind: 'zap', start: 0, end: 1, attr: 'both' }, pf({ vcpu: 1 } as Partial<Op>))])[0].reason)
      .toBe('race.op: a vCPU fault cannot run during zap');
    expect(legal([{ kind: 'finalize' }, race({ kind: 'invalidateDirect' }, pf({ private: false, vcpu: 0 } as Partial<Op>))])).toEqual([]);
    // no vCPU runs before FINALIZE: a shared fault then, plain or racing, is not something KVM does
    expect(legal([race({ kind: 'invalidateDirect' }, pf({ private: false, vcpu: 0 } as Partial<Op>))])[0].reason)
      .toBe('race.op: shared fault before finalize: no vCPU runs before the TD is RUNNABLE');
    expect(legal([pf({ private: false } as Partial<Op>), { kind: 'finalize' }, pf({ private: false } as Partial<Op>)]))
      .toEqual([{ index: 0, reason: 'shared fault before finalize: no vCPU runs before the TD is RUNNABLE' }]);
    // a racing unmap needs mmu_lock for write: legal only in the split's allocation window
    const unmap: Op = { kind: 'zap', start: 0, end: 8, attr: 'shared' };
    const split: Op = { kind: 'split', start: 0, end: 64, targetLevel: 1, private: false, shared: true };
    expect(legal([race(split, unmap)])).toEqual([]);
    expect(legal([race(pf(), unmap)])).toEqual([{ index: 0, reason: 'race.op: an unmap cannot run during fault (it needs mmu_lock for write)' }]);
    expect(legal([race({ kind: 'zap', start: 0, end: 8, attr: 'both' }, unmap)])[0].reason)
      .toBe('race.op: an unmap cannot run during zap (it needs mmu_lock for write)');
    expect(legal([race({ kind: 'invalidateDirect' }, unmap)])[0].reason)
      .toBe('race.op: an unmap cannot run during invalidateDirect (it needs mmu_lock for write)');
    expect(legal([race({ kind: 'age', start: 0, end: 8, mirror: false }, unmap)])[0].reason)
      .toBe('race.op: an unmap cannot run during age (it needs mmu_lock for write)');
  });
});
