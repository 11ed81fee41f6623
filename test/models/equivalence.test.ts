// Determinism and before/after equivalence on legal, fault-free sequences (DESIGN §4 `state` and
// `strict` equivalence; kernel-model §3.1: "everything else … should be identical between the two
// models, including page-alloc events and the SEAMCALL order").
import { describe, expect, it } from 'vitest';
import type { Op, VmConfig } from '../../impls/api';
import { legalityErrors } from '../../harness/seq/legality';
import { makeSequence } from '../../harness/seq/sequence';
import {
  comparable,
  COMPACT, COMPACT_HUGE, DESIGNS, DESTROY, FINALIZE, GRACE, after, before, expectClean, pf, sf, zapPrivate,
} from './helpers';

const ALL = 8 ** 4;
const X86: VmConfig = { geometry: 'x86', hugePages: false, vcpus: 2 };

/** Hand-written legal sequences (no fault injection): the designs must agree after every op. */
const LEGAL: { name: string; config: VmConfig; ops: Op[] }[] = [
  {
    name: 'init-time PAGE.ADD, finalize, faults, conversion, teardown',
    config: COMPACT,
    ops: [pf(3), pf(0x200, { vcpu: 1 }), FINALIZE, pf(9), pf(10, { vcpu: 1 }), pf(0x1ff), zapPrivate(9, 11), pf(9), DESTROY],
  },
  {
    name: 'shared and private side by side, huge direct leaves, eager split, aging, fast zap',
    config: COMPACT,
    ops: [
      FINALIZE, pf(9), sf(9, { maxLevel: 3, vcpu: 1 }), sf(0x100, { maxLevel: 2, write: false }), sf(0x100, { maxLevel: 2 }),
      { kind: 'split', start: 0, end: ALL, targetLevel: 1, private: false, shared: true },
      { kind: 'age', start: 0, end: ALL, mirror: false }, { kind: 'invalidateDirect' }, GRACE, sf(9), pf(0x41, { vcpu: 1 }),
      { kind: 'zap', start: 0, end: 64, attr: 'both' }, DESTROY,
    ],
  },
  {
    name: 'lockless walkers across zaps, grace periods, explicit hkid release',
    config: COMPACT,
    ops: [
      FINALIZE, pf(9), pf(0x41), sf(9, { vcpu: 1 }), { kind: 'rcuRead', walker: 1, gfn: 9, private: true },
      { kind: 'rcuRead', walker: 2, gfn: 9, private: false }, { kind: 'invalidateDirect' }, GRACE,
      { kind: 'rcuUnlock', walker: 2 }, GRACE, zapPrivate(0, 0x40), { kind: 'rcuUnlock', walker: 1 },
      zapPrivate(0, ALL), { kind: 'releaseHkid' }, GRACE, DESTROY,
    ],
  },
  {
    name: 'racing vCPUs at the walk, install and frozen points',
    config: COMPACT,
    ops: [
      FINALIZE, pf(9),
      pf(0x41, { race: { at: 'install', level: 3, op: pf(0x42, { vcpu: 1 }) } }),
      pf(0x81, { race: { at: 'walk', level: 2, op: pf(0x82, { vcpu: 1 }) } }),
      pf(0xc1, { race: { at: 'frozen', level: 2, op: pf(0xc2, { vcpu: 1 }) } }),
      pf(11, { race: { at: 'install', level: 1, op: pf(11, { vcpu: 1 }) } }),
      sf(0x41, { race: { at: 'install', level: 2, op: sf(0x42, { vcpu: 1 }) } }),
      pf(0x100, { race: { at: 'walk', op: { kind: 'rcuRead', walker: 3, gfn: 0x100, private: true } } }),
      { kind: 'rcuUnlock', walker: 3 }, DESTROY,
    ],
  },
  {
    name: 'huge pages: 2M private leaves, mirror split, zaps',
    config: COMPACT_HUGE,
    ops: [
      pf(1), FINALIZE, pf(9, { maxLevel: 2 }), pf(0x41, { maxLevel: 2, vcpu: 1 }), sf(0x80, { maxLevel: 3 }),
      { kind: 'split', start: 0, end: 0x40, targetLevel: 1, private: true, shared: false },
      zapPrivate(0x40, 0x48), pf(0x44, { maxLevel: 2 }), zapPrivate(0, ALL), { kind: 'releaseHkid' }, DESTROY,
    ],
  },
  {
    name: 'x86 geometry smoke test',
    config: X86,
    ops: [pf(5), FINALIZE, pf(0x200), pf(0x40000, { vcpu: 1 }), sf(5), zapPrivate(0, 0x1000), DESTROY],
  },
];

describe('the hand-written sequences are in the legal domain', () => {
  it.each(LEGAL)('$name', ({ config, ops }) => {
    expect(legalityErrors(makeSequence(config, ops))).toEqual([]);
  });
});

/** The trace as a sorted multiset of (gfn, level, old, new) events. */
function traceEvents(t: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.length; i += 4) out.push(t.slice(i, i + 4).join(','));
  return out.sort();
}

describe('before and after agree after every op of a legal sequence with no injected fault', () => {
  it.each(LEGAL)('$name', ({ config, ops }) => {
    const b = before.create(config);
    const a = after.create(config);
    ops.forEach((op, i) => {
      const ob = b.apply(op);
      const oa = a.apply(op);
      const where = `op ${i} (${op.kind})`;
      expectClean(ob, `before ${where}`); // legal domain, no fault: no WARN, no KVM_BUG_ON, no violation
      const { trace: _ha, ...ra } = comparable(oa);
      const { trace: _hb, ...rb } = comparable(ob);
      expect(ra, where).toEqual(rb); // result, SEAMCALL log, diagnostics (none), trace event count
      // the same kvm_tdp_mmu_spte_changed events; their order differs by design around a removed table (D17)
      expect(traceEvents(a.lastTrace!()), `${where} trace`).toEqual(traceEvents(b.lastTrace!()));
      expect(a.digests(), where).toEqual(b.digests()); // including pendingRcu (pages held by queued RCU callbacks)
      expect(b.checkInvariants(), `before ${where}`).toEqual([]);
      expect(a.checkInvariants(), `after ${where}`).toEqual([]);
    });
    expect(a.snapshot()).toEqual(b.snapshot());
    expect(b.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
    expect(a.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
  });
});

describe('determinism', () => {
  // a sequence with races, injected faults and extended-domain ops: whatever it does, it must do it
  // identically every time
  const ops: Op[] = [
    pf(3), FINALIZE, pf(9, { fail: [{ at: 'seamcall', call: 'SEPT.ADD', error: 'BUSY', nth: 2 }] }),
    pf(0x41, { race: { at: 'install', level: 3, op: pf(0x42, { vcpu: 1 }) } }), sf(9, { maxLevel: 2 }),
    { kind: 'rcuRead', walker: 1, gfn: 9, private: true }, { ...zapPrivate(9, 10), fail: [{ at: 'seamcall', call: 'RANGE.BLOCK', error: 'BUSY' }] },
    { kind: 'invalidateDirect', fail: [{ at: 'yield', nth: 2 }] }, GRACE, { kind: 'age', start: 0, end: ALL, mirror: true },
    { kind: 'atomicZap', gfn: 0x41, level: 1, private: true }, { kind: 'rcuUnlock', walker: 1 },
    { kind: 'destroy', fail: [{ at: 'reclaim', nth: 5 }] },
  ];

  it.each(DESIGNS)('$name: the same op list twice gives identical outcomes, digests, snapshots and leak reports', design => {
    const runOnce = () => {
      const vm = design.create(COMPACT);
      const trace = ops.map(op => ({ outcome: vm.apply(op), digests: vm.digests(), invariants: vm.checkInvariants() }));
      return { trace, snapshot: vm.snapshot(), leaks: vm.leakReport(), coverage: [...vm.coverage()].sort() };
    };
    const first = runOnce();
    const second = runOnce();
    expect(second).toEqual(first);
    // and the run did something: SEAMCALLs were issued and pages were freed
    expect(first.trace.some(t => t.outcome.seamcalls.length > 0)).toBe(true);
    expect(first.snapshot.vm.destroyed).toBe(true);
  });

  it('two instances of one design are independent (no shared state between VMs)', () => {
    const x = before.create(COMPACT);
    const y = before.create(COMPACT);
    x.apply(FINALIZE);
    x.apply(pf(9));
    expect(y.snapshot().mirror).toEqual([]);
    expect(y.apply(pf(9)).seamcalls.map(c => c.call)).toEqual(['SEPT.ADD', 'SEPT.ADD', 'SEPT.ADD', 'PAGE.ADD']);
  });
});
