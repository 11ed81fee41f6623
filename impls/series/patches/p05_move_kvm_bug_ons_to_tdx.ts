// P5 — KVM: TDX: Move KVM_BUG_ON()s in __tdp_mmu_set_spte_atomic() to TDX code (Rick Edgecombe), commit 6b1280a7.
// Source: v2 cover [S5]; Sean's plan, step 1 [S14]. Provenance: reconstructed (TDX side [inferred]).
// The mirror branch loses "new not present → bug, -EBUSY" and "old present → bug, go on"; TDX bugs
// on old present (-EIO). Atomic zap: freeze → TDX KVM_BUG_ON → -EIO → restore (was MMU bug, SPTE
// untouched). Present → present: TDX KVM_BUG_ON, no SEAMCALL (was MMU bug + failing PAGE.AUG).
import type { PatchInfo } from './patch';

export const P5: PatchInfo = {
  id: 'P5', title: 'KVM: TDX: Move KVM_BUG_ON()s in __tdp_mmu_set_spte_atomic() to TDX code', author: 'Rick Edgecombe', commit: '6b1280a7',
  source: 'series.md §1 P5, §5 step 5; v2 cover [S5], [S14]', provenance: 'reconstructed', confidence: '[cover]; TDX side [inferred]',
  kind: 'behaviour', differences: ['D6', 'D7', 'D10', 'D16'],
  model: '__tdpMmuSetSpteAtomic drops mirror-atomic-zap; setExternalSptePresent drops mirror-present-overwrite; tdxSeptSetPrivateSpte KVM_BUG_ONs on old present (switch tdxRejectsOldPresent)',
};
