// Seeded bugs in the freeing of page-table pages (kernel-model §3.3 #1–#4, #11, seeds 000/001).
// Each is one overridden method of a design.
import { AfterDesign } from '../after/tdp_mmu';
import { BeforeDesign } from '../before/tdp_mmu';
import type { KvmMmuPage } from '../tdp_mmu/sp';
import type { Vcpu } from '../tdp_mmu/core';

/** §3.3 #1: TDX frees the reclaimed page but leaves sp->external_spt pointing at it (v5 09/45 NULLs only on failure). */
export class AfterKeepsExternalPointer extends AfterDesign {
  protected override tdxSeptFreePrivateSpt(sp: KvmMmuPage): void {
    const ext = sp.externalSpt;
    if (ext === null) return;
    if (this.diag.kvmBugOn(this.tdx.hkidAssigned, 'tdx.c:tdx_sept_free_private_spt:hkid', 'page-table-free-with-hkid')
        || this.tdxReclaimPage(ext)) {
      this.ledger.leakOnPurpose(ext, 'free_external_spt: not reclaimed');
      sp.externalSpt = null;
      return;
    }
    this.freePage(ext, 'tdx.c:tdx_sept_free_private_spt');
  }
}

/** §3.3 #1: on top of the dangling pointer, the RCU callback still frees external_spt as before did → double free. */
export class AfterRcuCallbackFreesExternal extends AfterKeepsExternalPointer {
  protected override tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    if (sp.externalSpt !== null) this.freePage(sp.externalSpt, 'tdp_mmu.c:tdp_mmu_free_sp_rcu_callback:external_spt');
    this.__tdpMmuFreeSp(sp);
  }
}

/** §3.3 #3: the map-retry (and split-leftover) path uses __tdp_mmu_free_sp: the unused external page leaks. */
export class AfterRetryFreeSkipsExternal extends AfterDesign {
  protected override freeNeverLinkedSp(sp: KvmMmuPage): void { this.__tdpMmuFreeSp(sp); }
}

/** §3.3 #3 (huge-page mode): only the leftover SP of a mirror split is freed without its external page. */
export class AfterSplitLeftoverSkipsExternal extends AfterDesign {
  protected override freeSplitLeftoverSp(sp: KvmMmuPage): void { this.__tdpMmuFreeSp(sp); }
}

/** §3.3 #2: TDX frees the S-EPT page even when PHYMEM.PAGE.RECLAIM failed — the module still owns it. */
export class AfterFreesOnReclaimFailure extends AfterDesign {
  protected override tdxSeptFreePrivateSpt(sp: KvmMmuPage): void {
    const ext = sp.externalSpt;
    if (ext === null) return;
    if (this.diag.kvmBugOn(this.tdx.hkidAssigned, 'tdx.c:tdx_sept_free_private_spt:hkid', 'page-table-free-with-hkid')) {
      this.ledger.leakOnPurpose(ext, 'hkid assigned');
    } else {
      this.tdxReclaimPage(ext);
      this.freePage(ext, 'tdx.c:tdx_sept_free_private_spt');
    }
    sp.externalSpt = null;
  }
}

/** §3.3 #2: the "hkid still assigned" branch frees the page instead of leaking it. */
export class AfterFreesWithHkidAssigned extends AfterDesign {
  protected override tdxSeptFreePrivateSpt(sp: KvmMmuPage): void {
    const ext = sp.externalSpt;
    if (ext === null) return;
    if (this.tdx.hkidAssigned || !this.tdxReclaimPage(ext)) this.freePage(ext, 'tdx.c:tdx_sept_free_private_spt');
    else this.ledger.leakOnPurpose(ext, 'reclaim failed');
    sp.externalSpt = null;
  }
}

/** Seed 001 (Sean's NAK): the fault path's external pages come from a TDX prealloc list, KVM frees them with free_page(). */
export class AfterExternalFromTdxPrealloc extends AfterDesign {
  protected override externalCacheAlloc(vcpu: Vcpu): number {
    return this.ledger.alloc('tdxPrealloc', `vcpu${vcpu.id} get_tdx_prealloc_page`);
  }
}

/** §3.3 #11: the external-free move also dropped the RCU deferral: spt and header are freed at once (walker UAF). */
export class AfterSptFreedImmediately extends AfterDesign {
  protected override callRcuFreeSp(sp: KvmMmuPage): void { this.tdpMmuFreeSpRcuCallback(sp); }
}

/** The never-linked SP is queued for RCU instead of freed: its (unused) external page reaches the RCU-callback WARN. */
export class AfterUnusedSpViaRcu extends AfterDesign {
  protected override freeNeverLinkedSp(sp: KvmMmuPage): void { this.callRcuFreeSp(sp); }
}

/** before: the RCU callback frees spt and header but forgets the external page (it leaks). */
export class BeforeRcuCallbackSkipsExternal extends BeforeDesign {
  protected override tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    this.freePage(sp.spt, 'tdp_mmu.c:tdp_mmu_free_sp:spt');
    this.freeHeader(sp.header, 'tdp_mmu.c:tdp_mmu_free_sp:header');
    sp.freed = true;
  }
}
