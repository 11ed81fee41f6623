// SERIES — the TDP MMU functions the series changes, at any step (series.md §1, §5 hook-routing table;
// kernel-model §2.3/2.3A, 2.4, 2.5/2.5A, 2.6, 2.7, 2.12). With no patch applied every method is
// impls/before/tdp_mmu.ts; with all fifteen, impls/after/tdp_mmu.ts (test/models/series_steps.test.ts
// checks both endpoints). Each `this.at.*` test is one patch (impls/series/patches/, switches.ts).
import { EBUSY, EIO } from '../tdp_mmu/core';
import { FROZEN, isFrozen, isLeaf, isNonLeaf, isPresent } from '../machine/spte';
import type { KvmMmuPage, TdpIter } from '../tdp_mmu/sp';
import { Owner } from '../machine/ledger';
import { SeriesTdx } from './series_tdx';

export class SeriesDesign extends SeriesTdx {
  // ---------------------------------------------------------------- §2.3 / §2.3A atomic set

  /**
   * tdp_mmu_set_spte_atomic. Until P9: the __ variant (which holds the mirror branch), then
   * handle_changed_spte on success. From P9 (v1: 07/17): mirror → freeze, __handle_changed_spte
   * (which calls set_external_spte), then publish or restore; direct → cmpxchg, handle, KVM_BUG_ON.
   */
  protected tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
    this.lockdepAssertHeldRead('tdp_mmu.c:tdp_mmu_set_spte_atomic');
    if (!this.at.central) {
      const r = this.__tdpMmuSetSpteAtomic(iter, newSpte);
      if (r) return r;
      this.handleChangedSpte(iter.sp, iter.gfn, iter.oldSpte, newSpte, iter.level, true);
      return 0;
    }
    // P9 moves P7's KVM_MMU_WARN_ON(FROZEN as new value) here
    this.diag.warnOnce(isFrozen(newSpte), 'tdp_mmu.c:tdp_mmu_set_spte_atomic:freeze', 'freeze-via-high-level-api');
    const sp = iter.sp;
    if (sp.mirror) {
      const r = this.__tdpMmuSetSpteAtomic(iter, FROZEN);
      if (r) return r;
      this.racePoint('frozen', iter.level);
    } else {
      const r = this.__tdpMmuSetSpteAtomic(iter, newSpte);
      if (r) return r;
    }
    const r = this.__handleChangedSpte(sp, iter.gfn, iter.oldSpte, newSpte, iter.level, true);
    if (sp.mirror) this.storeSpte(sp, iter.index, r ? iter.oldSpte : newSpte, 'tdp_mmu_set_spte_atomic');
    else this.diag.kvmBugOn(r !== 0, 'tdp_mmu.c:tdp_mmu_set_spte_atomic:direct', 'direct-change-failed');
    return r;
  }

  /**
   * __tdp_mmu_set_spte_atomic. Until P9 it holds the mirror branch: P5 drops its atomic-zap
   * KVM_BUG_ON (an atomic zap now reaches TDX, which rejects it), P7 branches on "mirror" alone and
   * adds the FROZEN-as-new WARN. From P9 it is a plain cmpxchg.
   */
  protected __tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
    this.diag.warnOnce(iter.yielded || isFrozen(iter.oldSpte), 'tdp_mmu.c:__tdp_mmu_set_spte_atomic:frozen', 'atomic-set-on-frozen');
    if (!this.at.central) {
      // P7: KVM_MMU_WARN_ON(is_frozen_spte(new_spte)) for mirror and direct (unconditional, as the after model has it)
      if (this.at.mirrorBranchOnMirror) this.diag.warnOnce(isFrozen(newSpte), 'tdp_mmu.c:__tdp_mmu_set_spte_atomic:freeze', 'freeze-via-high-level-api');
      if (iter.sp.mirror && (this.at.mirrorBranchOnMirror || !isFrozen(newSpte))) {
        if (!this.at.tdxRejectsOldPresent
            && this.diag.kvmBugOn(!isPresent(newSpte), 'tdp_mmu.c:__tdp_mmu_set_spte_atomic:mirror-zap', 'mirror-atomic-zap')) return EBUSY;
        return this.setExternalSptePresent(iter, newSpte);
      }
    }
    return this.cmpxchgSpte(iter, newSpte) ? 0 : EBUSY;
  }

  /** The function holding the mirror branch's code: P3 folds set_external_spte_present into its caller. */
  private get presentFn(): string { return this.at.folded ? '__tdp_mmu_set_spte_atomic' : 'set_external_spte_present'; }

  /**
   * set_external_spte_present (until P9; inlined by P3): freeze, the hook, then publish the new value
   * or restore the old one (I-publish-after). The old-present KVM_BUG_ON (carry on) goes at P5, the
   * lockdep assert moves to TDX at P6.
   */
  protected setExternalSptePresent(iter: TdpIter, newSpte: number): number {
    if (!this.at.lockdepInTdx) this.lockdepAssertHeld(`tdp_mmu.c:${this.presentFn}`);
    if (!this.at.tdxRejectsOldPresent) {
      this.diag.kvmBugOn(isPresent(iter.oldSpte), `tdp_mmu.c:${this.presentFn}:present`, 'mirror-present-overwrite');
    }
    if (!this.cmpxchgSpte(iter, FROZEN)) return EBUSY;
    this.racePoint('frozen', iter.level);
    const ret = this.setExternalSpte(iter.gfn, iter.oldSpte, newSpte, iter.level);
    this.storeSpte(iter.sp, iter.index, ret ? iter.oldSpte : newSpte, 'set_external_spte_present');
    return ret;
  }

  /**
   * The MMU's call of the to-present hook(s). Step 0: leaf → set_external_spte, table →
   * link_external_spt after the MMU's NULL-page KVM_BUG_ON. P1: one set_external_spte for both
   * (TDX dispatches and checks the child); P4: with old_spte.
   */
  protected setExternalSpte(gfn: number, oldSpte: number, newSpte: number, level: number): number {
    if (this.at.dispatchInTdx || isLeaf(newSpte)) return this.tdxSeptSetPrivateSpte(gfn, oldSpte, newSpte, level);
    const ext = this.childSp(newSpte)?.externalSpt ?? null;
    if (this.diag.kvmBugOn(ext === null, 'tdp_mmu.c:set_external_spte_present:no-external', 'external-spt-missing')) return EIO;
    return this.tdxSeptLinkPrivateSpt(gfn, level, ext!);
  }

  // ---------------------------------------------------------------- §2.4 non-atomic set

  /** tdp_mmu_set_spte: write, handle_changed_spte; until P12 the mirror block after it. */
  protected tdpMmuSetSpte(sp: KvmMmuPage, index: number, oldSpte: number, newSpte: number, gfn: number, level: number): number {
    this.lockdepAssertHeldWrite('tdp_mmu.c:tdp_mmu_set_spte');
    this.diag.warnOnce(isFrozen(oldSpte) || isFrozen(newSpte), 'tdp_mmu.c:tdp_mmu_set_spte:frozen', 'nonatomic-set-frozen');
    oldSpte = this.kvmTdpMmuWriteSpte(sp, index, newSpte);
    this.handleChangedSpte(sp, gfn, oldSpte, newSpte, level, false);
    if (sp.mirror && !this.at.removalViaSet) {
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

  /** remove_external_spte (MMU helper, until P12): only leaves; non-leaf children went through handle_removed_pt. */
  protected removeExternalSpte(gfn: number, oldSpte: number, level: number): void {
    if (!isLeaf(oldSpte)) return;
    this.lockdepAssertHeldWrite('tdp_mmu.c:remove_external_spte');
    this.tdxSeptRemoveLeafSpte(gfn, level, oldSpte);
  }

  // ---------------------------------------------------------------- §2.5 / §2.5A handle_changed_spte

  /**
   * Until P9: handle_changed_spte traces in its prologue, updates stats, then handles a removed table
   * (parent traced before its children). From P9: KVM_BUG_ON(__handle_changed_spte(...)).
   */
  protected handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): void {
    if (this.at.central) {
      const r = this.__handleChangedSpte(sp, gfn, oldSpte, newSpte, level, shared);
      this.diag.kvmBugOn(r !== 0, 'tdp_mmu.c:handle_changed_spte', 'external-change-failed');
      return;
    }
    if (!this.handleChangedSptePrologue(sp, gfn, oldSpte, newSpte, level, true)) return;
    this.updateLeafStats(oldSpte, newSpte, level);
    if (this.removesChildTable(oldSpte, newSpte)) this.handleRemovedPt(this.childSp(oldSpte)!, shared);
  }

  /**
   * __handle_changed_spte (P9; v1 07/17): a removed table → handle_removed_pt; a mirror change →
   * set_external_spte(old, new), returning its error before trace and stats (Sean's 2026-02-13 fix).
   * Which mirror changes reach TDX: v1 07/17 only to-present ones under the read lock (the atomic
   * zap is published silently: the window of series.md §2); P9 every atomic one (write-lock leaf zaps
   * keep remove_external_spte: series.md P9 "Scope [inferred]"); P12 all of them.
   */
  protected __handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): number {
    if (!this.handleChangedSptePrologue(sp, gfn, oldSpte, newSpte, level, false)) return 0;
    if (this.removesChildTable(oldSpte, newSpte)) {
      this.handleRemovedPt(this.childSp(oldSpte)!, shared);
    } else if (sp.mirror && (this.at.removalViaSet
        || (shared && (this.at.forwardsAtomicZaps || isPresent(newSpte))))) {
      const r = this.setExternalSpte(gfn, oldSpte, newSpte, level);
      if (r) return r;
    }
    this.traceKvmTdpMmuSpteChanged(sp, gfn, level, oldSpte, newSpte);
    this.updateLeafStats(oldSpte, newSpte, level);
    return 0;
  }

  /** v3's P9 traces a non-present ↔ non-present change on the early return; v2's did not (series.md §3). */
  protected traceNonPresentChange(sp: KvmMmuPage, gfn: number, level: number, oldSpte: number, newSpte: number): void {
    if (this.at.tracesNonPresent) super.traceNonPresentChange(sp, gfn, level, oldSpte, newSpte);
  }

  // ---------------------------------------------------------------- §2.6 handle_removed_pt

  /**
   * Children first: until P12 each mirror child goes to remove_external_spte after
   * handle_changed_spte (with a KVM_BUG_ON on shared until P10); from P12 handle_changed_spte
   * propagates it. Then the free hook: int with an MMU WARN + leak until P14, void (TDX NULLs) after.
   */
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
      if (sp.mirror && !this.at.removalViaSet) {
        if (!this.at.noSharedChildBug) this.diag.kvmBugOn(shared, 'tdp_mmu.c:handle_removed_pt:shared', 'mirror-removal-shared');
        this.removeExternalSpte(gfn, old, level);
      }
    }
    if (this.at.voidFreeHook) {
      if (sp.mirror) this.tdxSeptFreePrivateSpt(sp);
    } else if (sp.mirror && sp.externalSpt !== null) {
      const r = this.tdxSeptFreePrivateSptInt(sp.externalSpt);
      if (this.diag.warn(r !== 0, 'tdp_mmu.c:handle_removed_pt:free_external_spt', 'external-spt-free-failed')) {
        // Intentionally leak the page so the kernel never touches the encrypted page.
        this.ledger.leakOnPurpose(sp.externalSpt, 'free_external_spt failed (MMU leaks it)');
        sp.externalSpt = null;
      }
    }
    this.callRcuFreeSp(sp);
  }

  // ---------------------------------------------------------------- §2.7 freeing SPs

  /** Until P15: tdp_mmu_free_sp frees the external page (NULL ok), spt and header. */
  protected tdpMmuFreeSp(sp: KvmMmuPage): void {
    if (sp.externalSpt !== null) {
      // DPAMT: free_external_sp → tdx_free_control_page → __tdx_pamt_put, in softirq from the RCU callback (D19)
      this.tdxPamtPut(sp.externalSpt);
      this.freePage(sp.externalSpt, 'tdp_mmu.c:tdp_mmu_free_sp:external_spt');
    }
    this.freePage(sp.spt, 'tdp_mmu.c:tdp_mmu_free_sp:spt');
    this.freeHeader(sp.header, 'tdp_mmu.c:tdp_mmu_free_sp:header');
    sp.freed = true;
  }

  /** P15: __tdp_mmu_free_sp, spt + header only. */
  protected __tdpMmuFreeSp(sp: KvmMmuPage): void {
    this.freePage(sp.spt, 'tdp_mmu.c:__tdp_mmu_free_sp:spt');
    this.freeHeader(sp.header, 'tdp_mmu.c:__tdp_mmu_free_sp:header');
    sp.freed = true;
  }

  /** P15: tdp_mmu_free_unused_sp, for an SP that never left the TDP MMU. */
  protected tdpMmuFreeUnusedSp(sp: KvmMmuPage): void {
    if (sp.externalSpt !== null) this.freePage(sp.externalSpt, 'tdp_mmu.c:tdp_mmu_free_unused_sp:external_spt');
    this.__tdpMmuFreeSp(sp);
  }

  /** Map retry and split leftover: tdp_mmu_free_sp, from P15 tdp_mmu_free_unused_sp. */
  protected freeNeverLinkedSp(sp: KvmMmuPage): void {
    if (this.at.tdxFreesExternal) this.tdpMmuFreeUnusedSp(sp);
    else this.tdpMmuFreeSp(sp);
  }

  /** tdp_mmu_free_sp_rcu_callback: frees everything until P15; then WARN_ON_ONCE(sp->external_spt) and leak it. */
  protected tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    if (!this.at.tdxFreesExternal) { this.tdpMmuFreeSp(sp); return; }
    const ext = sp.externalSpt;
    if (this.diag.warnOnce(ext !== null, 'tdp_mmu.c:tdp_mmu_free_sp_rcu_callback', 'external-spt-attached-at-rcu-free')
        && this.ledger.ownerOf(ext!) === Owner.Host) {
      this.ledger.leakOnPurpose(ext!, 'external_spt still attached in the RCU callback (WARN)');
    }
    this.__tdpMmuFreeSp(sp);
  }

  // ---------------------------------------------------------------- §2.12 aging

  /** kvm_tdp_mmu_age_spte: from P9, WARN_ON_ONCE on a mirror SPTE and skip it (D13). */
  protected kvmTdpMmuAgeSpte(iter: TdpIter): boolean {
    if (this.at.central && this.diag.warnOnce(iter.sp.mirror, 'tdp_mmu.c:kvm_tdp_mmu_age_spte:mirror', 'aging-mirror-spte')) return false;
    return super.kvmTdpMmuAgeSpte(iter);
  }
}
