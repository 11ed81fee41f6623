// The parts of arch/x86/kvm/vmx/tdx.c the refactor did not change (kernel-model §2.13, §2.14):
// tdh_do_no_vcpus, tdx_track, tdx_reclaim_page, the leaf map/remove SEAMCALL sequences, hkid
// release and TD control-page reclaim, and the binding of the kvm_x86_ops hooks the unchanged MMU
// calls (impls/tdp_mmu/kvm_x86_ops.ts). The hooks that changed live in impls/{before,after}/tdx.ts.
// TDX code sits below the whole MMU in the class chain: tdx/ imports tdp_mmu/, never the reverse.
import type { TdxStatus } from '../machine/tdx_module';
import { isPresent, isWritable, pfnOf } from '../machine/spte';
import { Dpamt } from '../machine/dpamt';
import { EBUSY, EIO } from '../tdp_mmu/core';
import { TdpMmuVm } from '../tdp_mmu/vm_ops';

export function tdxOperandBusy(err: TdxStatus): boolean { return err === 'TDX_OPERAND_BUSY'; }

export abstract class TdxCommon extends TdpMmuVm {
  /**
   * DPAMT (VmConfig.dpamt; tdx-module.md §3): the PAMT refcounts, pair pages and pamt_lock. A
   * pamt_lock usage that is both SOFTIRQ-ON-W and IN-SOFTIRQ-W is lockdep's "inconsistent lock state"
   * (Yan on RFC v5 20/45, aYW5CbUvZrLogsWF: {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} for pamt_lock).
   */
  readonly dpamt: Dpamt | null = this.config.dpamt
    ? new Dpamt((site, usage) => this.diag.lockdep(false, site, 'pamt_lock-inconsistent-lock-state', usage))
    : null;

  /**
   * tdx_pamt_get(pfn, cache) for a page the module is about to use at 4K (tdx-module.md §3.2: S-EPT
   * pages, 4K guest pages; a level > 4K mapping gets nothing, v5 "Get/Put DPAMT page pair if and only
   * if mapping size is 4KB"). The context is the caller's: softirq inside an RCU callback.
   */
  protected tdxPamtGet(page: number): void { this.dpamt?.get(page, this.rcu.inCallback > 0); }
  /** tdx_pamt_put(pfn) (v6 06/11): a no-op for a page without a reference. */
  protected tdxPamtPut(page: number): void { this.dpamt?.put(page, this.rcu.inCallback > 0); }

  // ------------------------------------------------------------ vt_x86_ops (vmx/main.c): the hook binding

  /** .gmem_max_mapping_level = vt_gmem_max_mapping_level → tdx_gmem_max_mapping_level */
  protected gmemMaxMappingLevel(): number { return this.tdxGmemMaxMappingLevel(); }
  /** .vm_pre_destroy = vt_vm_pre_destroy → tdx_mmu_release_hkid */
  protected vmPreDestroy(): string { return this.tdxMmuReleaseHkid(); }
  /** .vm_destroy = vt_vm_destroy → tdx_vm_destroy */
  protected vmDestroy(): void { this.tdxVmDestroy(); }

  // ------------------------------------------------------------ tdx.c

  /** Highest private mapping level TDX accepts: 4K in mainline, 2M with the huge-page series. */
  get tdxMaxPrivateLevel(): number { return this.config.hugePages ? 2 : 1; }

  /**
   * tdx_gmem_max_mapping_level (kernel-model §2.1): before RUNNABLE the page is PAGE.ADDed, which is
   * 4K only; after, the TDX maximum (huge-page series: 2M).
   */
  protected tdxGmemMaxMappingLevel(): number {
    return this.tdx.opState === 'RUNNABLE' ? this.tdxMaxPrivateLevel : 1;
  }

  /**
   * §2.13 tdh_do_no_vcpus: under the write lock, call once; on BUSY kick every vCPU out
   * (wait_for_sept_zap) and call again. A second BUSY is a bug for the callers.
   */
  protected tdhDoNoVcpus(call: () => TdxStatus): TdxStatus {
    this.lockdepAssertHeldWrite('tdx.c:tdh_do_no_vcpus');
    let err = call();
    if (tdxOperandBusy(err)) {
      this.waitForSeptZap = true;
      err = call();
      this.waitForSeptZap = false;
    }
    return err;
  }

  /** §2.13 tdx_track: no-op unless RUNNABLE; TRACK via tdh_do_no_vcpus; then kick all vCPUs. */
  protected tdxTrack(): void {
    if (this.tdx.opState !== 'RUNNABLE') return;
    this.lockdepAssertHeldWrite('tdx.c:tdx_track');
    const err = this.tdhDoNoVcpus(() => this.tdx.track('tdx_track'));
    this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_track:TRACK', 'seamcall-failed', true, err);
  }

  /**
   * tdx.c __tdx_reclaim_page: RECLAIM; error → TDX_BUG_ON_3(…, NULL), i.e. a WARN that bugs nothing
   * → -EIO. (The site id stays 'tdx.c:tdx_reclaim_page': one TDX_BUG_ON, one WARN_ON_ONCE.)
   */
  protected __tdxReclaimPage(page: number): number {
    const err = this.tdx.phymemPageReclaim('__tdx_reclaim_page', page);
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_reclaim_page', 'reclaim-failed', false, err)) return EIO;
    return 0;
  }

  /** §2.13 tdx.c tdx_reclaim_page: __tdx_reclaim_page, then the quirk reset on success. */
  protected tdxReclaimPage(page: number): number {
    if (this.__tdxReclaimPage(page)) return EIO;
    this.tdxQuirkResetPage(page);
    return 0;
  }

  /** tdx.c tdx_reclaim_control_page: reclaim, else leak (the kernel cannot use the page safely); then __free_page. */
  protected tdxReclaimControlPage(page: number): void {
    if (this.tdxReclaimPage(page)) this.ledger.leakOnPurpose(page, 'TD control page: reclaim failed');
    else this.ledger.free(page, 'tdxControl', 'tdx.c:tdx_reclaim_control_page');
  }

  /** tdx_quirk_reset_page: clear the page on affected CPUs; it is an ordinary host page again. */
  protected tdxQuirkResetPage(page: number): void {
    this.ledger.setPurpose(page, this.ledger.poolOf(page) === 'gmem' ? 'guest_memfd page' : 'reclaimed, host-owned');
  }

  /**
   * §2.13 map a private leaf (before: tdx_sept_set_private_spte; after: tdx_sept_map_leaf_spte):
   * 4K only (2M with huge pages); PAGE.ADD while not RUNNABLE, PAGE.AUG after.
   */
  protected tdxSeptMapLeafSpte(gfn: number, level: number, mirrorSpte: number): number {
    if (this.diag.kvmBugOn(level > this.tdxMaxPrivateLevel, 'tdx.c:tdx_sept_map_leaf_spte:level', 'private-level-unsupported')) return EIO;
    this.diag.warnOnce(!isPresent(mirrorSpte) || !isWritable(mirrorSpte), 'tdx.c:tdx_sept_map_leaf_spte:rwx', 'private-leaf-not-rwx');
    const pfn = pfnOf(mirrorSpte);
    if (this.tdx.opState !== 'RUNNABLE') return this.tdxMemPageAdd(gfn, level, pfn);
    return this.tdxMemPageAug(gfn, level, pfn);
  }

  /** tdx_mem_page_add (INIT_MEM_REGION: slots_lock held, page_add_src set). */
  private tdxMemPageAdd(gfn: number, level: number, pfn: number): number {
    if (this.diag.kvmBugOn(level !== 1, 'tdx.c:tdx_mem_page_add:level', 'private-level-unsupported')) return EIO;
    // DPAMT: get before PAGE.ADD, put if it fails (v5 22/45; v6 09/11 tdx_sept_map_leaf_spte)
    this.tdxPamtGet(pfn);
    const err = this.tdx.pageAdd('tdx_mem_page_add', gfn, pfn);
    if (err !== 'SUCCESS') this.tdxPamtPut(pfn);
    if (tdxOperandBusy(err)) return EBUSY;
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_mem_page_add:PAGE.ADD', 'seamcall-failed', true, err)) return EIO;
    return 0;
  }

  /** tdx_mem_page_aug */
  private tdxMemPageAug(gfn: number, level: number, pfn: number): number {
    // DPAMT: get before a 4K PAGE.AUG, put if it fails (v5 22/45; v6 09/11 tdx_sept_map_leaf_spte);
    // nothing for a 2M leaf (v5: "if and only if mapping size is 4KB")
    if (level === 1) this.tdxPamtGet(pfn);
    const err = this.tdx.pageAug('tdx_mem_page_aug', gfn, level, pfn);
    if (level === 1 && err !== 'SUCCESS') this.tdxPamtPut(pfn);
    if (tdxOperandBusy(err)) return EBUSY;
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_mem_page_aug:PAGE.AUG', 'seamcall-failed', true, err)) return EIO;
    return 0;
  }

  /**
   * §2.13 the leaf-removal sequence, unchanged by the refactor apart from its return type
   * (before: void tdx_sept_remove_private_spte; after: int tdx_sept_remove_leaf_spte):
   * BLOCK (no-vCPUs retry), TRACK, REMOVE (no-vCPUs retry), WBINVD, quirk reset. `fn` is the
   * design's name of the function, which issues BLOCK, REMOVE and WBINVD itself (SeamcallRecord.by).
   */
  protected tdxSeptRemoveLeafSequence(fn: string, gfn: number, level: number, oldSpte: number): number {
    this.lockdepAssertHeldWrite('tdx.c:tdx_sept_remove_leaf_spte');
    if (this.diag.kvmBugOn(!this.tdx.hkidAssigned, 'tdx.c:tdx_sept_remove_leaf_spte:hkid', 'leaf-removal-without-hkid')) return EIO;
    if (this.diag.kvmBugOn(level > this.tdxMaxPrivateLevel, 'tdx.c:tdx_sept_remove_leaf_spte:level', 'private-level-unsupported')) return EIO;
    let err = this.tdhDoNoVcpus(() => this.tdx.rangeBlock(fn, gfn, level));
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_remove_leaf_spte:RANGE.BLOCK', 'seamcall-failed', true, err)) return EIO;
    this.tdxTrack();
    err = this.tdhDoNoVcpus(() => this.tdx.pageRemove(fn, gfn, level));
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_remove_leaf_spte:PAGE.REMOVE', 'seamcall-failed', true, err)) return EIO;
    const pfn = pfnOf(oldSpte);
    for (let i = 0; i < this.geo.span(level); i++) {
      err = this.tdx.phymemPageWbinvd(fn, pfn + i);
      if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_remove_leaf_spte:WBINVD', 'seamcall-failed', true, err)) return EIO;
      this.tdxQuirkResetPage(pfn + i);
      // DPAMT: put after REMOVE + WBINVD + reset (v5 25/45; v6 09/11 tdx_sept_remove_leaf_spte); a
      // failed REMOVE or WBINVD returned above: no put, the page and its reference leak
      this.tdxPamtPut(pfn + i);
    }
    return 0;
  }

  /**
   * Huge-page series (kernel-model §2.11, [?] our reading): split a private huge leaf:
   * BLOCK, TRACK, DEMOTE with the new table's external page. Write lock only.
   */
  protected tdxSeptSplitPrivateSpte(gfn: number, level: number, externalSpt: number | null): number {
    this.lockdepAssertHeldWrite('tdx.c:tdx_sept_split_private_spte');
    if (this.diag.kvmBugOn(externalSpt === null, 'tdx.c:tdx_sept_split_private_spte:no-external', 'external-spt-missing')) return EIO;
    let err = this.tdhDoNoVcpus(() => this.tdx.rangeBlock('tdx_sept_split_private_spte', gfn, level));
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_split_private_spte:RANGE.BLOCK', 'seamcall-failed', true, err)) return EIO;
    this.tdxTrack();
    // DPAMT: the new S-EPT page is given to the module at 4K: get before DEMOTE, put if it fails
    // (tdx-module.md §3.5 "SEPT.ADD, DEMOTE (new page) … return MISSING_PAMT_PAGE_PAIR")
    this.tdxPamtGet(externalSpt!);
    err = this.tdhDoNoVcpus(() => this.tdx.pageDemote('tdx_sept_split_private_spte', gfn, level, externalSpt!));
    if (err !== 'SUCCESS') this.tdxPamtPut(externalSpt!);
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_split_private_spte:PAGE.DEMOTE', 'seamcall-failed', true, err)) return EIO;
    return 0;
  }

  /**
   * tdx.c tdx_flush_vp_on_cpu → tdx_flush_vp (IPI): TDH.VP.FLUSH and tdx_disassociate_vp. The model
   * does not track vcpu_load, so every vCPU is taken as associated here (tdx_vcpu_load associated it
   * when it last ran). F11 `vpFlush`: tdx_flush_vp returns early because the vCPU's task migrated
   * ("vcpu->cpu != raw_smp_processor_id()"): the vCPU stays associated.
   */
  protected tdxFlushVpOnCpu(vcpu: number): void {
    this.tdx.vcpuAssociate(vcpu);
    if (this.plan.consult('vpFlush')) return;
    this.tdx.vpFlush(vcpu);
  }

  /**
   * tdx.c smp_func_do_phymem_cache_wb, on one CPU per package (the model has one package):
   * TDX_NO_HKID_READY_TO_WBCACHE counts as success ("Already done by other thread"); any other error
   * is TDX_BUG_ON(err, TDH_PHYMEM_CACHE_WB, NULL): a WARN, the VM is not bugged, and the release
   * goes on (KEY.FREEID then fails: "In the case of error in smp_func_do_phymem_cache_wb(), the
   * following tdh_mng_key_freeid() will fail"). TDX_INTERRUPTED_RESUMABLE retries are not modelled.
   */
  protected smpFuncDoPhymemCacheWb(): void {
    let err = this.tdx.phymemCacheWb('smp_func_do_phymem_cache_wb');
    if (err === 'TDX_NO_HKID_READY_TO_WBCACHE') err = 'SUCCESS';
    this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:smp_func_do_phymem_cache_wb:CACHE.WB', 'cache-wb-failed', false, err);
  }

  /**
   * §2.14 tdx.c tdx_mmu_release_hkid (vt_vm_pre_destroy), as linux-next @564aa69a has it:
   *  1. tdx_flush_vp_on_cpu for every vCPU;
   *  2. MNG.VPFLUSHDONE: TDX_FLUSHVP_NOT_DONE → "goto out", silently (no WARN, no VM bug); any other
   *     error → TDX_BUG_ON(err, …, kvm) ("HKID is leaked"); success moves the TD to BLOCKED, where
   *     every MEM SEAMCALL is refused (TDX_TD_KEYS_NOT_CONFIGURED, tdx-module.md G6);
   *  3. PHYMEM.CACHE.WB per package (smpFuncDoPhymemCacheWb: WARN only on error);
   *  4. MNG.KEY.FREEID, always reached once VPFLUSHDONE succeeded: error → TDX_BUG_ON(kvm), the hkid
   *     is leaked; success → tdx_hkid_free (hkid −1).
   * A leaked hkid stays assigned, so every later reclaim takes the "hkid assigned" branch (F11).
   */
  protected tdxMmuReleaseHkid(): string {
    if (!this.tdx.hkidAssigned) return 'no-hkid';
    for (const v of this.vcpus) this.tdxFlushVpOnCpu(v.id);
    let err = this.tdx.mngVpflushdone('tdx_mmu_release_hkid');
    if (err === 'TDX_FLUSHVP_NOT_DONE') return 'hkid-leaked';
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_mmu_release_hkid:VPFLUSHDONE', 'hkid-release-failed', true, err)) return 'hkid-leaked';
    this.smpFuncDoPhymemCacheWb();
    err = this.tdx.mngKeyFreeid('tdx_mmu_release_hkid');
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_mmu_release_hkid:KEY.FREEID', 'hkid-release-failed', true, err)) return 'hkid-leaked';
    return 'released';
  }

  /** §2.14 tdx.c tdx_vm_destroy: tdx_reclaim_td_control_pages (then kvm_tdx->state = UNINITIALIZED, not modelled). */
  protected tdxVmDestroy(): void { this.tdxReclaimTdControlPages(); }

  /**
   * tdx.c tdx_reclaim_td_control_pages (kernel-model Errata; tdx-module.md §2.4): runs last in
   * kvm_arch_destroy_vm, after every S-EPT page was reclaimed.
   *  1. hkid still assigned → silent return: every control page is leaked on purpose;
   *  2. each TDCS page: tdx_reclaim_control_page (a failure leaks that page);
   *  3. the TDR: __tdx_reclaim_page without the quirk reset; failure (e.g.
   *     TDX_TD_ASSOCIATED_PAGES_EXIST while a child is left: a leaked S-EPT page or a guest page still
   *     mapped) → return, the TDR leaks;
   *  4. tdh_phymem_page_wbinvd_tdr (the module touched the TDR under the global keyid): error →
   *     TDX_BUG_ON(err, …, kvm), return (the TDR leaks);
   *  5. quirk reset, __free_page.
   */
  protected tdxReclaimTdControlPages(): void {
    const tdr = this.tdx.tdr;
    if (this.tdx.hkidAssigned) {
      for (const p of [...this.tdx.tdcs, tdr]) this.ledger.leakOnPurpose(p, 'TD control page: hkid still assigned at vm_destroy');
      return;
    }
    for (const p of this.tdx.tdcs) this.tdxReclaimControlPage(p);
    if (this.__tdxReclaimPage(tdr)) {
      this.ledger.leakOnPurpose(tdr, 'TDR: reclaim failed');
      return;
    }
    const err = this.tdx.phymemPageWbinvdTdr('tdx_reclaim_td_control_pages');
    if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_reclaim_td_control_pages:WBINVD', 'seamcall-failed', true, err)) {
      this.ledger.leakOnPurpose(tdr, 'TDR: WBINVD failed');
      return;
    }
    this.tdxQuirkResetPage(tdr);
    this.ledger.free(tdr, 'tdxControl', 'tdx.c:tdx_reclaim_td_control_pages');
  }
}
