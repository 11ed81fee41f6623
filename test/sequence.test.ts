import { describe, expect, it } from 'vitest';
import type { Op } from '../impls/api';
import {
  InputError, SEQUENCE_FORMAT, legalityErrors, makeSequence, normalizeOp, parseSequence, sequenceHash,
  serializeSequence, totalGfns, validateSequence, type Sequence,
} from '../harness/sequence';

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
      .toBe('seq.json: seed: unknown field for a sequence (fields: format, config, ops, meta)');
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
      .toBe('seq.json: config.tdx: unknown field for config (fields: geometry, hugePages, vcpus)');
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
    const op = { kind: 'fault', gfn: 1, private: false, race: { at: 'walk', op: { kind: 'zap', start: 0, end: 1 } } };
    expect(errorOf(file([op])))
      .toBe('seq.json: ops[0].race.op.kind: "zap" cannot run as a racing op (allowed: fault, age, rcuRead, rcuUnlock, gracePeriod)');
    expect(errorOf(file([fault({ race: { at: 'later', op: { kind: 'gracePeriod' } } })])))
      .toBe('seq.json: ops[0].race.at: unknown race point "later" (allowed: walk, install, frozen, removedPt)');
    expect(errorOf(file([fault({ race: { at: 'walk' } })]))).toBe('seq.json: ops[0].race.op: missing (required)');
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
    expect(lines[1]).toBe('  "format": "tdpfuzz-seq/1",');
    expect(lines[2]).toBe('  "config": {"geometry": "x86", "hugePages": true, "vcpus": 3},');
    expect(lines[3]).toBe('  "ops": [');
    expect(lines[4]).toBe('    {"kind": "finalize"},');
    expect(lines.filter((l) => l.startsWith('    {"kind"'))).toHaveLength(4);
    expect(lines[7]).toBe('    {"kind": "destroy", "fail": [{"at": "reclaim", "nth": 3}]}');
    expect(text.endsWith('}\n')).toBe(true);
    const empty = serializeSequence(makeSequence(compact, []));
    expect(empty).toBe('{\n  "format": "tdpfuzz-seq/1",\n  "config": {"geometry": "compact", "hugePages": false, "vcpus": 2},\n  "ops": []\n}\n');
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
      { kind: 'rcuUnlock', walker: 0 }, { kind: 'releaseHkid' }, { kind: 'gracePeriod' }, { kind: 'destroy' },
    ])).toEqual([]);
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
    const errs = legal([{ kind: 'releaseHkid' }, { kind: 'rcuUnlock', walker: 0 }, pf(), { kind: 'gracePeriod' }, { kind: 'destroy' }]);
    expect(errs).toHaveLength(1);
    expect(errs[0].index).toBe(2);
    expect(errs[0].reason).toContain('after releaseHkid (ops[0])');
  });

  it('checks racing ops too', () => {
    const race = (outer: Op, nested: Op): Op => ({ ...outer, race: { at: 'walk', op: nested } } as Op);
    expect(legal([race(pf(), pf({ vcpu: 1, write: false } as Partial<Op>))])[0].reason).toBe('race.op: private fault with write=false (private faults are always write faults)');
    expect(legal([race(pf(), pf())])[0].reason).toContain('same vcpu 0');
    expect(legal([race({ kind: 'zap', start: 0, end: 1, attr: 'both' }, pf({ vcpu: 1 } as Partial<Op>))])[0].reason)
      .toBe('race.op: a vCPU fault cannot run during zap');
    expect(legal([race({ kind: 'invalidateDirect' }, pf({ private: false, vcpu: 0 } as Partial<Op>))])).toEqual([]);
  });
});
