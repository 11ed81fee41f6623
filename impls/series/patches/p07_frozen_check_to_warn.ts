// P7 — KVM: x86/tdp_mmu: Morph !is_frozen_spte() check into a KVM_MMU_WARN_ON() (Rick), commit c1d3af13.
// Source: v2 07/15 (opening) [S7]. Provenance: patch text (partial).
// The mirror branch tests "mirror" alone; a WARN on FROZEN as the new value, mirror and direct. No
// op of the model freezes through the atomic API, so the change is unreachable here.
import type { PatchInfo } from './patch';

export const P7: PatchInfo = {
  id: 'P7', title: 'KVM: x86/tdp_mmu: Morph !is_frozen_spte() check into a KVM_MMU_WARN_ON()', author: 'Rick Edgecombe', commit: 'c1d3af13',
  source: 'series.md §1 P7; v2 07/15 [S7]', provenance: 'patch', confidence: '[patch partial]',
  kind: 'unreachable', differences: [],
  model: '__tdpMmuSetSpteAtomic: mirror branch on sp.mirror alone, warnOnce(isFrozen(new)) (switch mirrorBranchOnMirror)',
};
