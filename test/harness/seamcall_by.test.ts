// SeamcallRecord.by (the kernel function that issued a SEAMCALL) is for reading only (issue 12 item
// 2): before and after issue the same SEAMCALLs from differently named functions by design (D1), so a
// difference there must never be a finding. It reaches the reports through the first divergence's
// sides (seamcallBy), which the strict readers accept and check.
import { describe, expect, it } from 'vitest';
import type { Op } from '../../impls/api';
import { after, before } from '../../impls/designs';
import { findMutant } from '../../impls/mutants/catalogue';
import { differences, type Observation } from '../../harness/run/compare';
import { runSequence } from '../../harness/run/runner';
import { makeSequence } from '../../harness/seq/sequence';
import { COMPACT } from './helpers';

const RUNNABLE_ZAP: Op[] = [
  { kind: 'finalize' },
  { kind: 'fault', vcpu: 0, gfn: 9, private: true, write: true, maxLevel: 1 },
  { kind: 'zap', start: 8, end: 16, attr: 'private' },
];

describe('SEAMCALL issuers are never compared', () => {
  it('differences(): observations differing only in `by` agree under strict; differing args do not (the check can fail)', () => {
    const vm = after.create(COMPACT);
    for (const op of RUNNABLE_ZAP.slice(0, 2)) vm.apply(op);
    const o = vm.apply(RUNNABLE_ZAP[2]);
    expect(o.seamcalls.length).toBeGreaterThan(0);
    const a: Observation = { outcome: o, digests: vm.digests() };
    const renamed: Observation = { ...a, outcome: { ...o, seamcalls: o.seamcalls.map(s => ({ ...s, by: 'tdx_sept_remove_private_spte' })) } };
    expect(differences(a, renamed, 'strict')).toEqual([]);
    const otherArgs: Observation = { ...a, outcome: { ...o, seamcalls: o.seamcalls.map(s => ({ ...s, args: `${s.args} x` })) } };
    expect(differences(a, otherArgs, 'strict')).toEqual(['seamcalls']);
  });

  it('before vs after, strict: the leaf removal is issued by differently named functions, and nothing is reported', () => {
    const byOf = (d: typeof before): string[] => {
      const vm = d.create(COMPACT);
      return RUNNABLE_ZAP.map(op => vm.apply(op)).at(-1)!.seamcalls.map(s => s.by);
    };
    expect(byOf(before)).not.toEqual(byOf(after)); // the precondition: by differs
    const r = runSequence(makeSequence(COMPACT, RUNNABLE_ZAP), { designs: [before, after], equiv: 'strict', domain: 'legal', diffs: false });
    expect(r.findings).toEqual([]);
    expect([...r.findings, ...r.explained].filter(f => f.component === 'seamcalls')).toEqual([]);
  });

  it("a finding's first divergence names each side's SEAMCALL issuers, one per SEAMCALL", () => {
    const mutant = findMutant('keeps-external-pointer')!.design;
    const r = runSequence(makeSequence(COMPACT, RUNNABLE_ZAP), { designs: [after, mutant], equiv: 'strict', domain: 'legal', diffs: true });
    const d = r.findings.find(f => f.divergence)?.divergence;
    expect(d).toBeDefined();
    for (const s of d!.sides) {
      expect(s.seamcallBy).toHaveLength(s.seamcalls.length);
      expect(s.seamcallBy).toContain('tdx_mmu_release_hkid'); // the divergence is at the teardown: the leaf was zapped before
      expect(s.seamcallBy).toContain('__tdx_reclaim_page');
    }
  });
});
