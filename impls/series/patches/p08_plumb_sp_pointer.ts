// P8 — KVM: x86/mmu: Plumb "sp" pointer into handle_changed_spte() (Sean), commit c1ec7f36.
// Source: Sean's 2026-02-10 diff aYuMaRbVQyUfYJTP [S15]; v2 cover [S5]. Provenance: patch text.
// (as_id, sptep) → the owning kvm_mmu_page; the model always passed the SP. Refactor.
import type { PatchInfo } from './patch';

export const P8: PatchInfo = {
  id: 'P8', title: 'KVM: x86/mmu: Plumb "sp" pointer into handle_changed_spte()', author: 'Sean Christopherson', commit: 'c1ec7f36',
  source: 'series.md §1 P8; [S15], v2 cover [S5]', provenance: 'patch', confidence: '[patch]',
  kind: 'refactor', differences: [],
  model: 'none (handleChangedSpte takes the SP at every step)',
};
