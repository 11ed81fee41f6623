// AFTER — the TDP MMU functions as the series leaves them (kernel-model §2.3A, 2.4, 2.5A, 2.6, 2.7,
// 2.12): __tdp_mmu_set_spte_atomic without mirror logic; tdp_mmu_set_spte_atomic freezes mirror
// SPTEs and propagates through __handle_changed_spte → set_external_spte(old, new); handle_removed_pt
// calls the void free hook; __tdp_mmu_free_sp / tdp_mmu_free_unused_sp; the RCU callback WARNs if an
// external page is still attached; aging WARNs on mirror roots.
import { EBUSY } from '../tdp_mmu/core';
import { FROZEN, isFrozen } from '../machine/spte';
import type { KvmMmuPage, TdpIter } from '../tdp_mmu/sp';
import { Owner } from '../machine/ledger';
import { AfterTdx } from './tdx';

export class AfterDesign extends AfterTdx {
  /** the last step of tdx-mmu-refactors-v3 (impls/series): all fifteen patches, in order */
  readonly patches: readonly string[] = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8', 'P9', 'P10', 'P11', 'P12', 'P13', 'P14', 'P15'];

  // ---------------------------------------------------------------- §2.3A atomic set

  /** __tdp_mmu_set_spte_atomic: a plain cmpxchg now; it no longer knows about mirrors. */
  protected __tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
    this.diag.warnOnce(iter.yielded || isFrozen(iter.oldSpte), 'tdp_mmu.c:__tdp_mmu_set_spte_atomic:frozen', 'atomic-set-on-frozen');
    return this.cmpxchgSpte(iter, newSpte) ? 0 : EBUSY;
  }

  /**
   * tdp_mmu_set_spte_atomic: mirror → freeze, __handle_changed_spte (which calls set_external_spte),
   * then publish the new value or restore the old one. Direct → cmpxchg, then handle the change.
   */
  protected tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
    this.lockdepAssertHeldRead('tdp_mmu.c:tdp_mmu_set_spte_atomic');
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

  // ---------------------------------------------------------------- §2.4 non-atomic set

  /**
   * tdp_mmu_set_spte: no mirror code left; handle_changed_spte propagates. [?] whether the "mirror
   * and new present" KVM_BUG_ON survives: we follow the v2/v3 cover letter (moved to TDX), i.e. dropped.
   */
  protected tdpMmuSetSpte(sp: KvmMmuPage, index: number, oldSpte: number, newSpte: number, gfn: number, level: number): number {
    this.lockdepAssertHeldWrite('tdp_mmu.c:tdp_mmu_set_spte');
    this.diag.warnOnce(isFrozen(oldSpte) || isFrozen(newSpte), 'tdp_mmu.c:tdp_mmu_set_spte:frozen', 'nonatomic-set-frozen');
    oldSpte = this.kvmTdpMmuWriteSpte(sp, index, newSpte);
    this.handleChangedSpte(sp, gfn, oldSpte, newSpte, level, false);
    return oldSpte;
  }

  // ---------------------------------------------------------------- §2.5A __handle_changed_spte

  /**
   * __handle_changed_spte: non-leaf removal → handle_removed_pt; any other mirror change →
   * set_external_spte(old, new), returning its error before stats/trace (Sean's fix for D11).
   * A non-present ↔ non-present change is traced on the prologue's early return (the v3 fix of v2's
   * missing trace: traceNonPresentChange).
   */
  protected __handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): number {
    if (!this.handleChangedSptePrologue(sp, gfn, oldSpte, newSpte, level, false)) return 0;
    if (this.removesChildTable(oldSpte, newSpte)) {
      this.handleRemovedPt(this.childSp(oldSpte)!, shared);
    } else if (sp.mirror) {
      const r = this.tdxSeptSetPrivateSpte(gfn, oldSpte, newSpte, level);
      if (r) return r;
    }
    // Sean's 2026-02-13 placement (series.md §3, S16): trace and stats only after handle_removed_pt /
    // a successful set_external_spte — a removed table is traced after its children, a failed
    // propagation is not traced.
    this.traceKvmTdpMmuSpteChanged(sp, gfn, level, oldSpte, newSpte);
    this.updateLeafStats(oldSpte, newSpte, level);
    return 0;
  }

  /** handle_changed_spte = KVM_BUG_ON(__handle_changed_spte(...)) */
  protected handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): void {
    const r = this.__handleChangedSpte(sp, gfn, oldSpte, newSpte, level, shared);
    this.diag.kvmBugOn(r !== 0, 'tdp_mmu.c:handle_changed_spte', 'external-change-failed');
  }

  // ---------------------------------------------------------------- §2.6 handle_removed_pt

  /** Leaf children were already propagated by set_external_spte(old leaf → FROZEN). */
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
    }
    if (sp.mirror) this.tdxSeptFreePrivateSpt(sp);
    this.callRcuFreeSp(sp);
  }

  // ---------------------------------------------------------------- §2.7 freeing SPs (seed 000)

  /** __tdp_mmu_free_sp: spt + header only. */
  protected __tdpMmuFreeSp(sp: KvmMmuPage): void {
    this.freePage(sp.spt, 'tdp_mmu.c:__tdp_mmu_free_sp:spt');
    this.freeHeader(sp.header, 'tdp_mmu.c:__tdp_mmu_free_sp:header');
    sp.freed = true;
  }

  /** tdp_mmu_free_unused_sp: an SP that never left the TDP MMU; its external page is an ordinary page. */
  protected tdpMmuFreeUnusedSp(sp: KvmMmuPage): void {
    if (sp.externalSpt !== null) this.freePage(sp.externalSpt, 'tdp_mmu.c:tdp_mmu_free_unused_sp:external_spt');
    this.__tdpMmuFreeSp(sp);
  }

  protected freeNeverLinkedSp(sp: KvmMmuPage): void { this.tdpMmuFreeUnusedSp(sp); }

  /** tdp_mmu_free_sp_rcu_callback: WARN_ON_ONCE(sp->external_spt) — such a page is leaked, not freed. */
  protected tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    const ext = sp.externalSpt;
    if (this.diag.warnOnce(ext !== null, 'tdp_mmu.c:tdp_mmu_free_sp_rcu_callback', 'external-spt-attached-at-rcu-free')
        && this.ledger.ownerOf(ext!) === Owner.Host) {
      this.ledger.leakOnPurpose(ext!, 'external_spt still attached in the RCU callback (WARN)');
    }
    this.__tdpMmuFreeSp(sp);
  }

  // ---------------------------------------------------------------- §2.12 aging

  /** kvm_tdp_mmu_age_spte: WARN_ON_ONCE on a mirror SPTE and skip it (D13). */
  protected kvmTdpMmuAgeSpte(iter: TdpIter): boolean {
    if (this.diag.warnOnce(iter.sp.mirror, 'tdp_mmu.c:kvm_tdp_mmu_age_spte:mirror', 'aging-mirror-spte')) return false;
    return super.kvmTdpMmuAgeSpte(iter);
  }
}
