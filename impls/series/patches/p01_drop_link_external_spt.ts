// P1 — KVM: TDX: Drop kvm_x86_ops.link_external_spt() (Sean Christopherson), commit 12d59579.
// Source: RFC v5 05/45 in full [S12]; v3 03/15 hunk [S10]; v2 01/15 changelog [S9]. Provenance: patch text.
// set_external_spte_present calls set_external_spte for leaf and non-leaf; tdx_sept_set_private_spte
// dispatches (new not present → KVM_BUG_ON, -EIO; table → link after the child checks, which move
// MMU → TDX). Observable only through checks that corruption triggers.
import type { PatchInfo } from './patch';

export const P1: PatchInfo = {
  id: 'P1', title: 'KVM: TDX: Drop kvm_x86_ops.link_external_spt()', author: 'Sean Christopherson', commit: '12d59579',
  source: 'series.md §1 P1; RFC v5 05/45 [S12], v3 03/15 hunk [S10], v2 01/15 changelog [S9]',
  provenance: 'patch', confidence: '[patch]', kind: 'unreachable', differences: ['D1', 'D16'],
  model: 'setExternalSpte: one tdxSeptSetPrivateSpte call; tdxSeptSetPrivateSpte dispatches to tdxSeptMapNonleafSpte (child checks, external-spt-missing in TDX) / tdxSeptMapLeafSpte (switch dispatchInTdx)',
};
