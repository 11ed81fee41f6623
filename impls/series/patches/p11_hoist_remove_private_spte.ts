// P11 — KVM: TDX: Hoist tdx_sept_remove_private_spte() above set_private_spte() (Sean), commit c74893aa.
// Source: v2 cover [S5]. Provenance: reconstructed. Code motion.
import type { PatchInfo } from './patch';

export const P11: PatchInfo = {
  id: 'P11', title: 'KVM: TDX: Hoist tdx_sept_remove_private_spte() above set_private_spte()', author: 'Sean Christopherson', commit: 'c74893aa',
  source: 'series.md §1 P11; v2 cover [S5]', provenance: 'reconstructed', confidence: '[cover]',
  kind: 'refactor', differences: [],
  model: 'none',
};
