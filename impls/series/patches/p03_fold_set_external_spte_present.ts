// P3 — KVM: x86/mmu: Fold set_external_spte_present() into its sole caller (Sean), commit 78d23e29.
// Source: v3 03/15 (opening) [S10]; v5 06/45 in full [S12]. Provenance: patch text (partial).
// No functional change (changelog); v3 folds a function that warns and goes on, so warn-and-continue
// stays [inferred]. The folded checks' sites now name __tdp_mmu_set_spte_atomic.
import type { PatchInfo } from './patch';

export const P3: PatchInfo = {
  id: 'P3', title: 'KVM: x86/mmu: Fold set_external_spte_present() into its sole caller', author: 'Sean Christopherson', commit: '78d23e29',
  source: 'series.md §1 P3; v3 03/15 [S10], RFC v5 06/45 [S12]', provenance: 'patch', confidence: '[patch partial]; warn-and-continue [inferred]',
  kind: 'rename', differences: ['D16'],
  model: 'setExternalSptePresent: its lockdep and KVM_BUG_ON sites read __tdp_mmu_set_spte_atomic (switch folded)',
};
