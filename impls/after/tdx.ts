// AFTER — the TDX side as the series leaves it (kernel-model §2.13, "Hooks — after"): one
// set_external_spte(old, new) dispatcher over map-nonleaf / map-leaf / remove-leaf, and a void
// free_external_spt(sp) that reclaims, frees the page at once and always NULLs the pointer.
import { EBUSY, EIO } from '../tdp_mmu/core';
import { isLeaf, isNonLeaf, isPresent } from '../machine/spte';
import type { KvmMmuPage } from '../tdp_mmu/sp';
import { TdxCommon, tdxOperandBusy } from '../tdx/tdx_common';

/** virt_to_page(NULL): no page of the ledger; the module's PAMT check refuses it */
const NULL_PAGE = -1;

export abstract class AfterTdx extends TdxCommon {
  /**
   * §2.13 kvm_x86_ops.set_external_spte → tdx_sept_set_private_spte(kvm, gfn, old, new, level):
   * old present → remove the leaf (whatever new is); else new must be present; non-leaf → SEPT.ADD,
   * leaf → ADD/AUG. To-present under the shared lock, leaf removal under the write lock.
   */
  protected tdxSeptSetPrivateSpte(gfn: number, oldSpte: number, newSpte: number, level: number): number {
    this.lockdepAssertHeld('tdx.c:tdx_sept_set_private_spte');
    if (isPresent(oldSpte)) {
      // huge-page series (our reading, [?]): a huge leaf becoming a table is a demotion
      if (this.config.hugePages && isLeaf(oldSpte) && isNonLeaf(newSpte)) {
        return this.tdxSeptSplitPrivateSpte(gfn, level, this.childSp(newSpte)?.externalSpt ?? null);
      }
      return this.tdxSeptRemoveLeafSpte(gfn, level, oldSpte);
    }
    if (this.diag.kvmBugOn(!isPresent(newSpte), 'tdx.c:tdx_sept_set_private_spte:not-present', 'nonpresent-propagated')) return EIO;
    if (!isLeaf(newSpte)) return this.tdxSeptMapNonleafSpte(gfn, level, newSpte);
    return this.tdxSeptMapLeafSpte(gfn, level, newSpte);
  }

  /** tdx_sept_map_nonleaf_spte (was tdx_sept_link_private_spt): checks the child SP, then SEPT.ADD. */
  protected tdxSeptMapNonleafSpte(gfn: number, level: number, newSpte: number): number {
    const child = this.childSp(newSpte);
    if (this.diag.kvmBugOn(!child || child.externalSpt === null || child.level !== level - 1 || child.gfn !== gfn,
      'tdx.c:tdx_sept_map_nonleaf_spte:child', 'external-spt-missing')) return EIO;
    // DPAMT (v6 09/11 tdx_sept_map_nonleaf_spte): get just before SEPT.ADD, put if it fails (BUSY too)
    this.tdxPamtGet(child!.externalSpt!);
    const err = this.tdx.septAdd('tdx_sept_map_nonleaf_spte', gfn, level, child!.externalSpt!);
    if (err !== 'SUCCESS') this.tdxPamtPut(child!.externalSpt!);
    if (tdxOperandBusy(err)) return EBUSY;
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_map_nonleaf_spte:SEPT.ADD', 'seamcall-failed', true, err)) return EIO;
    return 0;
  }

  /** tdx_sept_remove_leaf_spte (was tdx_sept_remove_private_spte): now returns -EIO on failure. */
  protected tdxSeptRemoveLeafSpte(gfn: number, level: number, oldSpte: number): number {
    return this.tdxSeptRemoveLeafSequence('tdx_sept_remove_leaf_spte', gfn, level, oldSpte);
  }

  /**
   * §2.13 kvm_x86_ops.free_external_spt → tdx_sept_free_private_spt(kvm, sp), void: skip the free
   * (leak) if the hkid is assigned or reclaim fails; otherwise free_page() right away — RECLAIM
   * guarantees no readers. Always NULL the pointer (seed 000). Like the kernel hook there is no NULL
   * check: called for an SP without an external page (a root, kernel-model §3.3 #12) it hands the
   * module the NULL page, whose reclaim fails (TDX_BUG_ON, WARN), or bugs the VM if the hkid is assigned.
   */
  protected tdxSeptFreePrivateSpt(sp: KvmMmuPage): void {
    const ext = sp.externalSpt;
    if (this.diag.kvmBugOn(this.tdx.hkidAssigned, 'tdx.c:tdx_sept_free_private_spt:hkid', 'page-table-free-with-hkid')
        || this.tdxReclaimPage(ext ?? NULL_PAGE)) {
      if (ext !== null) this.ledger.leakOnPurpose(ext, 'free_external_spt: S-EPT page not reclaimed (TDX leaks it)');
    } else {
      // DPAMT (v6 09/11): tdx_free_control_page = put + free, right after RECLAIM: process context,
      // mmu_lock write, RCU read section; a plain spinlock is fine there (tdx-module.md §3.3 Outcome)
      this.tdxPamtPut(ext!);
      this.freePage(ext!, 'tdx.c:tdx_sept_free_private_spt');
    }
    sp.externalSpt = null;
  }
}
