// P12 — KVM: TDX: Drop kvm_x86_ops.remove_external_spte() (Sean), commit 6eae9ce9.
// Source: RFC v5 34/45 and 08/45 in full [S18, S12]; v2 folds both in (cover [S5]). Provenance: patch text (v5).
// TDX: old present → leaf removal (int, -EIO on failure). MMU: remove_external_spte, tdp_mmu_set_spte's
// mirror block and handle_removed_pt's per-child call go; __handle_changed_spte forwards every mirror
// change in either lock mode. Write-lock leaf zap: write → TDX → stats; a failed removal skips the
// stat (D11) and adds the MMU KVM_BUG_ON (D12) and loses the trace (D18); atomic zaps are real removals.
import type { PatchInfo } from './patch';

export const P12: PatchInfo = {
  id: 'P12', title: 'KVM: TDX: Drop kvm_x86_ops.remove_external_spte()', author: 'Sean Christopherson', commit: '6eae9ce9',
  source: 'series.md §1 P12, §5 step 12; RFC v5 34/45 [S18], 08/45 [S12], v2 cover [S5]', provenance: 'patch',
  confidence: '[patch] (v5); D9 [?]',
  kind: 'behaviour', differences: ['D1', 'D6', 'D7', 'D9', 'D10', 'D11', 'D12', 'D16', 'D18'],
  model: 'tdxSeptSetPrivateSpte sends old-present to tdxSeptRemoveLeafSpte; __handleChangedSpte loses the shared gate; tdpMmuSetSpte and handleRemovedPt drop removeExternalSpte (switch removalViaSet)',
};
