// BEFORE — the TDX side of the four external-SPT hooks (kernel-model §2.13, "Hooks — before"):
// link_external_spt, set_external_spte, remove_external_spte (void) and free_external_spt (int).
// The external page is NOT freed here: the MMU frees it with the SP in the RCU callback.
import { EBUSY, EIO } from '../tdp_mmu/core';
import { TdxCommon, tdxOperandBusy } from '../tdx/tdx_common';

export abstract class BeforeTdx extends TdxCommon {
  /** §2.13 kvm_x86_ops.link_external_spt → tdx_sept_link_private_spt: SEPT.ADD; the page becomes the module's. */
  protected tdxSeptLinkPrivateSpt(gfn: number, level: number, externalSpt: number): number {
    // DPAMT: the pair is got before SEPT.ADD, put if SEPT.ADD fails. (v5 20/45 got it earlier, when the
    // page entered mmu_external_spt_cache, tdx_alloc_control_page; the models take the get at the
    // SEAMCALL in both designs, tdx-module.md §3.5 [inferred]: only the put's context is the point.)
    this.tdxPamtGet(externalSpt);
    const err = this.tdx.septAdd('tdx_sept_link_private_spt', gfn, level, externalSpt);
    if (err !== 'SUCCESS') this.tdxPamtPut(externalSpt);
    if (tdxOperandBusy(err)) return EBUSY;
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_link_private_spt:SEPT.ADD', 'seamcall-failed', true, err)) return EIO;
    return 0;
  }

  /** §2.13 kvm_x86_ops.set_external_spte → tdx_sept_set_private_spte: PAGE.ADD / PAGE.AUG of a 4K leaf. */
  protected tdxSeptSetPrivateSpte(gfn: number, level: number, mirrorSpte: number): number {
    return this.tdxSeptMapLeafSpte(gfn, level, mirrorSpte);
  }

  /** §2.13 kvm_x86_ops.remove_external_spte → tdx_sept_remove_private_spte (void since 6.19: TDX bugs the VM itself). */
  protected tdxSeptRemovePrivateSpte(gfn: number, level: number, mirrorSpte: number): void {
    this.tdxSeptRemoveLeafSequence('tdx_sept_remove_private_spte', gfn, level, mirrorSpte);
  }

  /**
   * §2.13 kvm_x86_ops.free_external_spt → tdx_sept_free_private_spt (int): only legal once the hkid is
   * released; reclaims the page but does not free it.
   */
  protected tdxSeptFreePrivateSpt(gfn: number, level: number, externalSpt: number): number {
    void gfn; void level;
    if (this.diag.kvmBugOn(this.tdx.hkidAssigned, 'tdx.c:tdx_sept_free_private_spt:hkid', 'page-table-free-with-hkid')) return EIO;
    return this.tdxReclaimPage(externalSpt);
  }

  /** Huge-page series (our reading, [?]): kvm_x86_ops.split_external_spt → BLOCK, TRACK, DEMOTE. */
  protected tdxSeptSplitPrivateSpt(gfn: number, level: number, externalSpt: number | null): number {
    return this.tdxSeptSplitPrivateSpte(gfn, level, externalSpt);
  }
}
