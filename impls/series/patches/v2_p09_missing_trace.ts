// v2 09/15 — P9 as posted in v2 (2026-05-09), with the missing trace the v3 changelog fixes (reported
// by Sashiko, reference [7] of the v3 cover [S6]; patch and report not found). Source: series.md §3;
// Sean's 2026-02-13 diff [S16]. Provenance: reconstructed ([inferred]).
// The trace moved below __handle_changed_spte's "neither present → return", so v2 stops tracing every
// non-present ↔ non-present change, direct roots included (MMIO-like installs and zaps of non-present
// entries, shared handle_removed_pt freezing non-present entries). Only strict equivalence sees it.
import type { PatchInfo } from './patch';

export const V2_P9: PatchInfo = {
  id: 'v2-P9', title: 'KVM: x86/tdp_mmu: Centrally propagate to-present/atomic zap updates to external PTEs (v2)', author: 'Sean Christopherson', commit: '',
  source: 'series.md §3; v3 cover [S6], [S16]', provenance: 'reconstructed', confidence: '[inferred]',
  kind: 'behaviour', differences: ['D7', 'D11', 'D12', 'D13', 'D16', 'D17', 'D18'],
  model: 'as P9 without the trace on the non-present return (switch tracesNonPresent off)',
};
