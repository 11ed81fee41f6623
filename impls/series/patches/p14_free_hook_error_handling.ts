// P14 — KVM: x86: Move error handling inside free_external_spt() (Sean), commit b35bda69.
// Source: v2 14/15 (opening) [S8]; v1 16/17 review [S11]; ancestor RFC v5 09/45 in full (seed 004).
// Provenance: patch text (partial). Void free_external_spt(kvm, sp): TDX NULLs external_spt (leak)
// on hkid-assigned or reclaim failure; the MMU's WARN_ON goes (D4); the RCU callback still frees.
import type { PatchInfo } from './patch';

export const P14: PatchInfo = {
  id: 'P14', title: 'KVM: x86: Move error handling inside free_external_spt()', author: 'Sean Christopherson', commit: 'b35bda69',
  source: 'series.md §1 P14; v2 14/15 [S8], v1 16/17 [S11], seed 004', provenance: 'patch', confidence: '[patch partial]',
  kind: 'behaviour', differences: ['D4', 'D15'],
  model: 'handleRemovedPt calls the void tdxSeptFreePrivateSpt(sp), which NULLs on failure (switch voidFreeHook)',
};
