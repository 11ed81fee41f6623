// P13 — KVM: TDX: Rename tdx_sept_remove_private_spte() to show it's for leaf SPTEs (Yan Zhao), commit 0cef26b5.
// Source: v2 cover [S5]. Provenance: reconstructed. Pure rename; the removal sequence's diagnostic
// sites already carry the final name in both endpoint models (impls/tdx/tdx_common.ts); the
// SEAMCALLs' issuer (SeamcallRecord.by) follows the rename (switch removeLeafNamed).
import type { PatchInfo } from './patch';

export const P13: PatchInfo = {
  id: 'P13', title: "KVM: TDX: Rename tdx_sept_remove_private_spte() to show it's for leaf SPTEs", author: 'Yan Zhao', commit: '0cef26b5',
  source: 'series.md §1 P13; v2 cover [S5]', provenance: 'reconstructed', confidence: '[cover]',
  kind: 'refactor', differences: [],
  model: 'tdxSeptRemoveLeafSpte at every step; its SEAMCALLs are issued by tdx_sept_remove_leaf_spte (switch removeLeafNamed)',
};
