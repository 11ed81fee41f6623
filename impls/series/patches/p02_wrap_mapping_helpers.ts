// P2 — KVM: TDX: Wrap mapping of leaf and non-leaf S-EPT entries into helpers (Sean), commit 176dcd88.
// Source: v2 cover shortlog [S5]; the v5 helper patch was not read. Provenance: reconstructed.
// tdx_sept_link_private_spt becomes tdx_sept_map_nonleaf_spte (placing the rename here is [inferred]).
// Pure refactor in the kernel; in the model the renamed function's diagnostic sites change (SEPT.ADD
// failure, child checks), which strict equivalence sees.
import type { PatchInfo } from './patch';

export const P2: PatchInfo = {
  id: 'P2', title: 'KVM: TDX: Wrap mapping of leaf and non-leaf S-EPT entries into helpers', author: 'Sean Christopherson', commit: '176dcd88',
  source: 'series.md §1 P2; v2 cover [S5]', provenance: 'reconstructed', confidence: '[cover]; rename placement [inferred]',
  kind: 'rename', differences: ['D16'],
  model: 'tdxSeptMapNonleafSpte / tdxSeptLinkPrivateSpt sites named tdx_sept_map_nonleaf_spte (switch mapHelpers)',
};
