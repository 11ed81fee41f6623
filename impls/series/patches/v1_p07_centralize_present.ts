// v1 07/17 — KVM: x86/tdp_mmu: Centralize updates to present external PTEs (Rick Edgecombe, v1,
// 2026-03-27). Source: v1 07/17 [S2] and its reviews (Rick, Binbin, Yan's transition table, seed 003);
// series.md §2. Provenance: reconstructed ([inferred]). Not merged: v2 split it into P8 + P9.
// v1 07 hoists the mirror branch into tdp_mmu_set_spte_atomic (the atomic-path KVM_BUG_ONs go) and
// forwards only to-present changes, before old_spte is plumbed and before TDX can reject anything.
// THE ATOMIC-ZAP WINDOW: an atomic zap of a mirror leaf is frozen, not forwarded, counted in the
// stats and published non-present with no VM bug; the S-EPT keeps the mapping (a silent mirror/S-EPT
// divergence, and a guest page leaked at teardown) until v1 drops remove_external_spte (P12 here).
// Review moved P1–P4 in front of it in v2 (Sashiko's "Issue #2", [S5, S6]). Trace placement and the
// aging WARN as P9 (v3) has them [inferred], so the window is this step's only other difference.
import type { PatchInfo } from './patch';

export const V1_P7: PatchInfo = {
  id: 'v1-P7', title: 'KVM: x86/tdp_mmu: Centralize updates to present external PTEs', author: 'Rick Edgecombe', commit: '',
  source: 'series.md §2; v1 07/17 [S2] and reviews, seed 003', provenance: 'reconstructed', confidence: '[inferred]',
  kind: 'behaviour', differences: ['D13', 'D16', 'D17'],
  model: 'as P8 + P9, but __handleChangedSpte forwards a shared mirror change only when the new SPTE is present (switch central without forwardsAtomicZaps)',
};
