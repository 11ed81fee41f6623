// P4 — KVM: x86/mmu: Plumb param "old_spte" into set_external_spte() (Sean), commit 291bcb3a.
// Source: v2 cover [S5]; the v5 equivalent only as the hook signature in Sean's Feb diffs [S14].
// Provenance: reconstructed. The hook becomes (kvm, gfn, old_spte, new_spte, level); TDX ignores old.
import type { PatchInfo } from './patch';

export const P4: PatchInfo = {
  id: 'P4', title: 'KVM: x86/mmu: Plumb param "old_spte" into set_external_spte()', author: 'Sean Christopherson', commit: '291bcb3a',
  source: 'series.md §1 P4; v2 cover [S5], hook signature in [S14]', provenance: 'reconstructed', confidence: '[cover]; TDX ignoring old [inferred]',
  kind: 'refactor', differences: [],
  model: 'none: tdxSeptSetPrivateSpte(gfn, old, new, level) has the argument at every step and reads it only from P5',
};
