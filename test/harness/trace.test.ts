// `replay --trace` / explain's per-op view (harness/run/trace.ts) shows each op's
// kvm_tdp_mmu_spte_changed events next to its SEAMCALLs, so a lost or reordered trace is visible.
import { describe, expect, it } from 'vitest';
import { after, before } from '../../impls/designs';
import { formatTrace, traceSequence } from '../../harness/run/trace';
import { makeSequence } from '../../harness/seq/sequence';

describe('per-op trace view', () => {
  it('prints the kvm_tdp_mmu_spte_changed events of each design, per op', () => {
    const seq = makeSequence({ geometry: 'compact', hugePages: false, vcpus: 2 }, [
      { kind: 'finalize' },
      { kind: 'fault', vcpu: 0, gfn: 9, private: true, write: true, maxLevel: 1 },
    ]);
    const steps = traceSequence(seq, [before, after]);
    for (const side of steps[1].sides) {
      expect(side.spteChanged).toHaveLength(4); // three tables linked, then the leaf
      expect(side.spteChanged[3]).toMatch(/mirror gfn=0x9 level=1 old=0x0 new=0x/);
    }
    expect(steps[0].sides.every(s => s.spteChanged.length === 0)).toBe(true); // finalize changes no SPTE
    const text = formatTrace(steps);
    expect(text).toMatch(/trace mirror gfn=0x9 level=1 old=0x0 new=0x\w+ +\| trace mirror gfn=0x9 level=1/);
  });
});
