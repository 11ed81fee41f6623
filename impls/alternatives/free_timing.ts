// Review alternatives (series.md §4) about WHEN and BY WHOM the S-EPT page-table page is freed,
// built on `after` (the series' end state) so that each differs from it in exactly what was proposed.
import { AfterDesign } from '../after/tdp_mmu';
import type { KvmMmuPage } from '../tdp_mmu/sp';

/** virt_to_page(NULL), as in after/tdx.ts: no page of the ledger */
const NULL_PAGE = -1;

/**
 * (a) Yan on v1 17/17 (seed 000): free external_spt together with spt in the RCU-time free instead
 * of in TDX code — the series' step-14 state. TDX only reclaims (and NULLs the pointer when reclaim
 * fails, leaking the page); tdp_mmu_free_sp_rcu_callback frees the reclaimed page with spt. Under
 * DPAMT that free drops a PAMT reference from softirq context: the pamt_lock lockdep report
 * (aYW5CbUvZrLogsWF, series.md §4(a) "Why it stayed").
 *
 * (c) RFC v5 09/45's reclaim_external_sp(kvm, gfn, sp) (seed 004) is the same behaviour plus a gfn
 * argument the model has no use for; it is this class under its own name.
 */
export class AfterFreeInRcu extends AfterDesign {
  /** tdx_sept_free_private_spt / reclaim_external_sp: reclaim only; the MMU frees the page later. */
  protected override tdxSeptFreePrivateSpt(sp: KvmMmuPage): void {
    const ext = sp.externalSpt;
    if (this.diag.kvmBugOn(this.tdx.hkidAssigned, 'tdx.c:tdx_sept_free_private_spt:hkid', 'page-table-free-with-hkid')
        || this.tdxReclaimPage(ext ?? NULL_PAGE)) {
      if (ext !== null) this.ledger.leakOnPurpose(ext, 'reclaim_external_spt: S-EPT page not reclaimed (TDX leaks it)');
      sp.externalSpt = null;
    }
  }

  /** tdp_mmu_free_sp_rcu_callback: frees external_spt (reclaimed, or NULL) with spt and the header. */
  protected override tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    if (sp.externalSpt !== null) {
      // DPAMT: tdx_free_control_page → __tdx_pamt_put → spin_lock(&pamt_lock), here in softirq.
      this.tdxPamtPut(sp.externalSpt);
      this.freePage(sp.externalSpt, 'tdp_mmu.c:tdp_mmu_free_sp_rcu_callback:external_spt');
      sp.externalSpt = null;
    }
    this.__tdpMmuFreeSp(sp);
  }
}

/**
 * (e) Kai Huang's diff on v5 20/45 (S20b): tdp_mmu_free_sp only WARN_ON_ONCEs on a non-NULL external
 * page; TDX frees the pages it used. Sean rejected it because unused SPs (map retry, split leftover)
 * carry a non-NULL page: here such a page is WARNed about and leaked.
 */
export class AfterUnusedSpWarns extends AfterDesign {
  protected override tdpMmuFreeUnusedSp(sp: KvmMmuPage): void {
    const ext = sp.externalSpt;
    if (this.diag.warnOnce(ext !== null, 'tdp_mmu.c:tdp_mmu_free_sp:external_spt', 'external-spt-on-unused-sp')) {
      this.ledger.leakOnPurpose(ext!, 'tdp_mmu_free_sp: WARN on an attached external page (Kai Huang\'s diff)');
      sp.externalSpt = null;
    }
    this.__tdpMmuFreeSp(sp);
  }
}
