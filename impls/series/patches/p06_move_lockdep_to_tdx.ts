// P6 — KVM: TDX: Move lockdep assert in __tdp_mmu_set_spte_atomic() to TDX code (Rick), commit 40342185.
// Source: v2 cover [S5]; Sean on v5 06/45 [S13]. Provenance: reconstructed.
// lockdep_assert_held(mmu_lock) moves into tdx_sept_set_private_spte. The atomic path always holds
// mmu_lock for read, so no op of the model makes the assert fire (only its site would change).
import type { PatchInfo } from './patch';

export const P6: PatchInfo = {
  id: 'P6', title: 'KVM: TDX: Move lockdep assert in __tdp_mmu_set_spte_atomic() to TDX code', author: 'Rick Edgecombe', commit: '40342185',
  source: 'series.md §1 P6; v2 cover [S5], [S13]', provenance: 'reconstructed', confidence: '[cover]',
  kind: 'unreachable', differences: ['D16'],
  model: 'lockdepAssertHeld moves from setExternalSptePresent to tdxSeptSetPrivateSpte (switch lockdepInTdx)',
};
