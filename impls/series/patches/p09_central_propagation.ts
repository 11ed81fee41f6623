// P9 — KVM: x86/tdp_mmu: Centrally propagate to-present/atomic zap updates to external PTEs (Sean,
// Not-yet-SoB), commit 28c77a03. Source: Sean's diffs of 2026-02-06 [S14], 02-10 [S15], 02-13 [S16];
// v2/v3 text not read; scope from the cover [S5]. Provenance: reconstructed.
// tdp_mmu_set_spte_atomic freezes mirror SPTEs and calls __handle_changed_spte, which forwards to
// set_external_spte(old, new) — for atomic (shared) changes only until P12 (the gate is [inferred]);
// trace and stats after the hook (a removed table traced after its children); aging WARNs on mirror.
// An atomic zap of a mirror table is now published (handle_removed_pt(shared)). v3's patch traces a
// non-present ↔ non-present change (v2's did not: v2_p09_missing_trace.ts).
import type { PatchInfo } from './patch';

export const P9: PatchInfo = {
  id: 'P9', title: 'KVM: x86/tdp_mmu: Centrally propagate to-present/atomic zap updates to external PTEs', author: 'Sean Christopherson', commit: '28c77a03',
  source: 'series.md §1 P9, §3, §5 step 9; [S14] [S15] [S16], v2 cover [S5], v3 cover [S6]', provenance: 'reconstructed',
  confidence: '[patch] (Sean\'s diffs); shared gate and trace fix [inferred]',
  kind: 'behaviour', differences: ['D7', 'D11', 'D12', 'D13', 'D16', 'D17', 'D18'],
  model: 'tdpMmuSetSpteAtomic / __tdpMmuSetSpteAtomic become after\'s; __handleChangedSpte (TDX only when shared); handleChangedSpte = KVM_BUG_ON wrapper; kvmTdpMmuAgeSpte WARN (switches central, forwardsAtomicZaps, tracesNonPresent)',
};
