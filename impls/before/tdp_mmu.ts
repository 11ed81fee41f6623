// BEFORE — the TDP MMU functions the series changes, as they were in the v7.x base (kernel-model
// §2.3, 2.4, 2.5, 2.6, 2.7, 2.12): the mirror branch inside __tdp_mmu_set_spte_atomic with
// set_external_spte_present, the remove_external_spte helper after non-atomic writes,
// handle_removed_pt's per-entry removal and int free hook with an MMU WARN + leak, and
// tdp_mmu_free_sp freeing the external page with the SP in the RCU callback.
import { EBUSY, EIO } from '../tdp_mmu/core';
import { FROZEN, isFrozen, isLeaf, isNonLeaf, isPresent } from '../machine/spte';
import type { KvmMmuPage, TdpIter } from '../tdp_mmu/sp';
import { BeforeTdx } from './tdx';

export class BeforeDesign extends BeforeTdx {
  /** step 0 of the series (impls/series): no patch applied */
  readonly patches: readonly string[] = [];

  // ---------------------------------------------------------------- §2.3 atomic set

  /** tdp_mmu_set_spte_atomic: the __ variant, then handle_changed_spte only on success. */
  protected tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
    this.lockdepAssertHeldRead('tdp_mmu.c:tdp_mmu_set_spte_atomic');
    const r = this.__tdpMmuSetSpteAtomic(iter, newSpte);
    if (r) return r;
    this.handleChangedSpte(iter.sp, iter.gfn, iter.oldSpte, newSpte, iter.level, true);
    return 0;
  }

  /** __tdp_mmu_set_spte_atomic: mirror SPTEs take the TDX path; atomic zaps of mirror SPTEs are a bug (D6). */
  protected __tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
    this.diag.warnOnce(iter.yielded || isFrozen(iter.oldSpte), 'tdp_mmu.c:__tdp_mmu_set_spte_atomic:frozen', 'atomic-set-on-frozen');
    if (iter.sp.mirror && !isFrozen(newSpte)) {
      if (this.diag.kvmBugOn(!isPresent(newSpte), 'tdp_mmu.c:__tdp_mmu_set_spte_atomic:mirror-zap', 'mirror-atomic-zap')) return EBUSY;
      return this.setExternalSptePresent(iter, newSpte);
    }
    return this.cmpxchgSpte(iter, newSpte) ? 0 : EBUSY;
  }

  /**
   * set_external_spte_present: freeze, call link_external_spt / set_external_spte, then publish the
   * new value or restore the old one (I-publish-after).
   */
  protected setExternalSptePresent(iter: TdpIter, newSpte: number): number {
    this.lockdepAssertHeld('tdp_mmu.c:set_external_spte_present');
    // The v7.x base bugs the VM but carries on (the early -EIO arrives with the series' first patch).
    this.diag.kvmBugOn(isPresent(iter.oldSpte), 'tdp_mmu.c:set_external_spte_present:present', 'mirror-present-overwrite');
    if (!this.cmpxchgSpte(iter, FROZEN)) return EBUSY;
    this.racePoint('frozen', iter.level);
    let ret: number;
    if (isLeaf(newSpte)) {
      ret = this.tdxSeptSetPrivateSpte(iter.gfn, iter.level, newSpte);
    } else {
      const ext = this.childSp(newSpte)?.externalSpt ?? null;
      if (this.diag.kvmBugOn(ext === null, 'tdp_mmu.c:set_external_spte_present:no-external', 'external-spt-missing')) ret = EIO;
      else ret = this.tdxSeptLinkPrivateSpt(iter.gfn, iter.level, ext!);
    }
    this.storeSpte(iter.sp, iter.index, ret ? iter.oldSpte : newSpte, 'set_external_spte_present');
    return ret;
  }

  // ---------------------------------------------------------------- §2.4 non-atomic set

  /** tdp_mmu_set_spte: write, handle_changed_spte, then the mirror-only removal helper. */
  protected tdpMmuSetSpte(sp: KvmMmuPage, index: number, oldSpte: number, newSpte: number, gfn: number, level: number): number {
    this.lockdepAssertHeldWrite('tdp_mmu.c:tdp_mmu_set_spte');
    this.diag.warnOnce(isFrozen(oldSpte) || isFrozen(newSpte), 'tdp_mmu.c:tdp_mmu_set_spte:frozen', 'nonatomic-set-frozen');
    oldSpte = this.kvmTdpMmuWriteSpte(sp, index, newSpte);
    this.handleChangedSpte(sp, gfn, oldSpte, newSpte, level, false);
    if (sp.mirror) {
      if (this.config.hugePages && isLeaf(oldSpte) && isNonLeaf(newSpte)) {
        // huge-page series (our reading): a mirror split is propagated by its own hook
        this.tdxSeptSplitPrivateSpt(gfn, level, this.childSp(newSpte)?.externalSpt ?? null);
      } else {
        this.diag.kvmBugOn(isPresent(newSpte), 'tdp_mmu.c:tdp_mmu_set_spte:mirror-present', 'mirror-nonatomic-install');
        this.removeExternalSpte(gfn, oldSpte, level);
      }
    }
    return oldSpte;
  }

  /** remove_external_spte (MMU helper): only leaves; non-leaf children went through handle_removed_pt. */
  protected removeExternalSpte(gfn: number, oldSpte: number, level: number): void {
    if (!isLeaf(oldSpte)) return;
    this.lockdepAssertHeldWrite('tdp_mmu.c:remove_external_spte');
    this.tdxSeptRemovePrivateSpte(gfn, level, oldSpte);
  }

  // ---------------------------------------------------------------- §2.5 handle_changed_spte

  protected handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): void {
    // trace_kvm_tdp_mmu_spte_changed inside the prologue, before the non-present return and before
    // handle_removed_pt: a removed table is traced before its children (tdp_mmu.c:handle_changed_spte).
    if (!this.handleChangedSptePrologue(sp, gfn, oldSpte, newSpte, level, true)) return;
    this.updateLeafStats(oldSpte, newSpte, level);
    if (this.removesChildTable(oldSpte, newSpte)) this.handleRemovedPt(this.childSp(oldSpte)!, shared);
  }

  // ---------------------------------------------------------------- §2.6 handle_removed_pt

  protected handleRemovedPt(sp: KvmMmuPage, shared: boolean): void {
    const level = sp.level;
    const baseGfn = sp.gfn;
    this.tdpMmuUnlinkSp(sp);
    sp.removed = true;
    for (let i = 0; i < this.geo.fanout; i++) {
      const gfn = baseGfn + i * this.geo.span(level);
      const old = this.freezeRemovedPtEntry(sp, i, shared);
      if (old === undefined) continue;
      this.handleChangedSpte(sp, gfn, old, FROZEN, level, shared);
      if (sp.mirror) {
        this.diag.kvmBugOn(shared, 'tdp_mmu.c:handle_removed_pt:shared', 'mirror-removal-shared');
        this.removeExternalSpte(gfn, old, level);
      }
    }
    if (sp.mirror && sp.externalSpt !== null) {
      const r = this.tdxSeptFreePrivateSpt(baseGfn, level, sp.externalSpt);
      if (this.diag.warn(r !== 0, 'tdp_mmu.c:handle_removed_pt:free_external_spt', 'external-spt-free-failed')) {
        // Intentionally leak the page so the kernel never touches the encrypted page.
        this.ledger.leakOnPurpose(sp.externalSpt, 'free_external_spt failed (MMU leaks it)');
        sp.externalSpt = null;
      }
    }
    this.callRcuFreeSp(sp);
  }

  // ---------------------------------------------------------------- §2.7 freeing SPs

  /** tdp_mmu_free_sp: external page (NULL ok), spt, header. */
  protected tdpMmuFreeSp(sp: KvmMmuPage): void {
    if (sp.externalSpt !== null) {
      // DPAMT (v5 20/45): free_external_sp → tdx_free_control_page → __tdx_pamt_put →
      // spin_lock(&pamt_lock). From tdp_mmu_free_sp_rcu_callback this is softirq: Yan's lockdep splat
      // (aYW5CbUvZrLogsWF, tdx-module.md §3.3), the reason for seed 000 (D19).
      this.tdxPamtPut(sp.externalSpt);
      this.freePage(sp.externalSpt, 'tdp_mmu.c:tdp_mmu_free_sp:external_spt');
    }
    this.freePage(sp.spt, 'tdp_mmu.c:tdp_mmu_free_sp:spt');
    this.freeHeader(sp.header, 'tdp_mmu.c:tdp_mmu_free_sp:header');
    sp.freed = true;
  }

  /** Map retry and split leftover: tdp_mmu_free_sp(sp), immediately (the SP was never reachable). */
  protected freeNeverLinkedSp(sp: KvmMmuPage): void { this.tdpMmuFreeSp(sp); }

  /** tdp_mmu_free_sp_rcu_callback: frees everything, the external page included (D2). */
  protected tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void { this.tdpMmuFreeSp(sp); }

}
