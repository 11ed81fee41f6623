// P15 — KVM: TDX: Move external page table freeing to TDX code (Sean, Not-yet-SoB), commit 110d4d26.
// Source: v1 17/17 = seed 000 [S4]; final comment from DPAMT v6 context [S19]. Provenance: patch text.
// TDX free_page()s right after a successful reclaim and always NULLs; tdp_mmu_free_sp splits into
// __tdp_mmu_free_sp and tdp_mmu_free_unused_sp (map retry, split leftover); the RCU callback WARNs on
// a still-attached external page (D5). Free timing (D2), who frees (D3), pamt_lock context (D19).
import type { PatchInfo } from './patch';

export const P15: PatchInfo = {
  id: 'P15', title: 'KVM: TDX: Move external page table freeing to TDX code', author: 'Sean Christopherson', commit: '110d4d26',
  source: 'series.md §1 P15; seed 000 (v1 17/17) [S4], DPAMT v6 09/11 [S19]', provenance: 'patch', confidence: '[patch]',
  kind: 'behaviour', differences: ['D2', 'D3', 'D5', 'D19'],
  model: '__tdpMmuFreeSp, tdpMmuFreeUnusedSp, freeNeverLinkedSp, tdpMmuFreeSpRcuCallback; tdxSeptFreePrivateSpt frees (switch tdxFreesExternal)',
};
