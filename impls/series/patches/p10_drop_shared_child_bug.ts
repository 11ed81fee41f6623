// P10 — KVM: x86/mmu: Drop KVM_BUG_ON() on shared lock to zap child external PTEs (Rick), commit 41367d77.
// Source: v2 cover [S5]. Provenance: reconstructed.
// handle_removed_pt(shared) on a mirror table no longer bugs the VM per child (lockdep remains).
import type { PatchInfo } from './patch';

export const P10: PatchInfo = {
  id: 'P10', title: 'KVM: x86/mmu: Drop KVM_BUG_ON() on shared lock to zap child external PTEs', author: 'Rick Edgecombe', commit: '41367d77',
  source: 'series.md §1 P10; v2 cover [S5]', provenance: 'reconstructed', confidence: '[cover]',
  kind: 'behaviour', differences: ['D8'],
  model: 'handleRemovedPt drops mirror-removal-shared (switch noSharedChildBug)',
};
