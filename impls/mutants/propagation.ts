// Seeded bugs in how mirror changes reach the S-EPT (kernel-model §3.3 #5–#9, #13).
import { AfterDesign } from '../after/tdp_mmu';
import { EBUSY } from '../tdp_mmu/core';
import { FROZEN, isLeaf, isPresent } from '../machine/spte';
import type { KvmMmuPage, TdpIter } from '../tdp_mmu/sp';

/** §3.3 #5 (Yan, Feb 2026): stats/trace before the fallible hook — a BUSY leaves the leaf count bumped. */
export class AfterStatsBeforeHook extends AfterDesign {
  protected override __handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): number {
    if (!this.handleChangedSptePrologue(sp, gfn, oldSpte, newSpte, level, false)) return 0;
    this.traceKvmTdpMmuSpteChanged(sp, gfn, level, oldSpte, newSpte);
    this.updateLeafStats(oldSpte, newSpte, level);
    if (this.removesChildTable(oldSpte, newSpte)) this.handleRemovedPt(this.childSp(oldSpte)!, shared);
    else if (sp.mirror) return this.tdxSeptSetPrivateSpte(gfn, oldSpte, newSpte, level);
    return 0;
  }
}

/** §3.3 #7: the old value is not restored when TDX fails: the SPTE stays FROZEN and faults retry forever. */
export class AfterFrozenNotRestored extends AfterDesign {
  protected override tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
    if (!iter.sp.mirror) return super.tdpMmuSetSpteAtomic(iter, newSpte);
    this.lockdepAssertHeldRead('tdp_mmu.c:tdp_mmu_set_spte_atomic');
    if (this.__tdpMmuSetSpteAtomic(iter, FROZEN)) return EBUSY;
    this.racePoint('frozen', iter.level);
    const r = this.__handleChangedSpte(iter.sp, iter.gfn, iter.oldSpte, newSpte, iter.level, true);
    if (!r) this.storeSpte(iter.sp, iter.index, newSpte, 'tdp_mmu_set_spte_atomic');
    return r;
  }
}

/** §3.3 #8: a non-leaf removal is also propagated through set_external_spte (TDX is asked to remove a table as a leaf). */
export class AfterNonLeafRemovalPropagated extends AfterDesign {
  protected override __handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): number {
    const r = super.__handleChangedSpte(sp, gfn, oldSpte, newSpte, level, shared);
    if (r || !sp.mirror || !this.removesChildTableQuiet(oldSpte, newSpte)) return r;
    return this.tdxSeptSetPrivateSpte(gfn, oldSpte, newSpte, level);
  }
  private removesChildTableQuiet(oldSpte: number, newSpte: number): boolean {
    return isPresent(oldSpte) && !isLeaf(oldSpte) && (isLeaf(newSpte) || !isPresent(newSpte));
  }
}

/** §3.3 #8: handle_removed_pt reclaims the table before its children (I-children-first). */
export class AfterParentReclaimedFirst extends AfterDesign {
  protected override handleRemovedPt(sp: KvmMmuPage, shared: boolean): void {
    this.tdpMmuUnlinkSp(sp);
    sp.removed = true;
    if (sp.mirror) this.tdxSeptFreePrivateSpt(sp);
    for (let i = 0; i < this.geo.fanout; i++) {
      const old = this.freezeRemovedPtEntry(sp, i, shared);
      if (old !== undefined) this.handleChangedSpte(sp, sp.gfn + i * this.geo.span(sp.level), old, FROZEN, sp.level, shared);
    }
    this.callRcuFreeSp(sp);
  }
}

/** §3.3 #9: the unmap path holds mmu_lock for read: leaf-removal SEAMCALLs run unserialised (lockdep; BUSY → TDX_BUG_ON). */
export class AfterUnmapUnderReadLock extends AfterDesign {
  protected override kvmMmuUnmapGfnRange(start: number, end: number, types: { mirror: boolean; direct: boolean }): boolean {
    this.mmuLock.acquire('read');
    const flush = this.kvmTdpMmuUnmapGfnRange(start, end, types, false);
    this.mmuLock.release();
    return flush;
  }
}

/** §3.3 #13 (I-no-dup inverse): one transition — a non-atomic leaf zap — is never forwarded to TDX. */
export class AfterMissesLeafZapPropagation extends AfterDesign {
  protected override __handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): number {
    if (sp.mirror && !shared && isLeaf(oldSpte) && newSpte === 0) {
      if (!this.handleChangedSptePrologue(sp, gfn, oldSpte, newSpte, level, false)) return 0;
      this.traceKvmTdpMmuSpteChanged(sp, gfn, level, oldSpte, newSpte);
      this.updateLeafStats(oldSpte, newSpte, level);
      return 0;
    }
    return super.__handleChangedSpte(sp, gfn, oldSpte, newSpte, level, shared);
  }
}
