// Review alternatives (series.md §4(b), §4(f)) about HOW table removals and shared updates reach
// TDX, built on `after`.
import { AfterDesign } from '../after/tdp_mmu';
import { isLeaf, isNonLeaf, isPresent } from '../machine/spte';
import type { KvmMmuPage } from '../tdp_mmu/sp';

/**
 * Yan's dispatcher for full unification (seed 003): old non-leaf present means a table removal —
 * reclaim and free the child's external page (what free_external_spt did) and return 0, because
 * freeing must not fail. Everything else is after's set_external_spte.
 */
function removesTable(oldSpte: number, newSpte: number, hugePages: boolean): boolean {
  if (!isPresent(oldSpte) || isLeaf(oldSpte)) return false;
  return !(hugePages && isNonLeaf(newSpte));
}

/** after with Yan's dispatcher: set_external_spte(old non-leaf, new) reclaims and frees the child's page, returning 0. */
abstract class AfterYanDispatcher extends AfterDesign {
  /** after's free_external_spt, reached through the dispatcher */
  protected freeChildExternalSpt(child: KvmMmuPage): void { super.tdxSeptFreePrivateSpt(child); }

  protected override tdxSeptSetPrivateSpte(gfn: number, oldSpte: number, newSpte: number, level: number): number {
    if (removesTable(oldSpte, newSpte, this.config.hugePages)) {
      const child = this.childSp(oldSpte);
      if (child) this.freeChildExternalSpt(child);
      return 0;
    }
    return super.tdxSeptSetPrivateSpte(gfn, oldSpte, newSpte, level);
  }
}

/**
 * (b) option 1 (seed 003, on v1 07/17): handle_removed_pt gets the parent's old and new SPTE and calls
 * set_external_spte(parent old, parent new) where it called the free hook — after the children, as
 * before. The SEAMCALLs and their order are those of after: any divergence is a bug.
 */
export class AfterUnifyInRemovedPt extends AfterYanDispatcher {
  private parent: { gfn: number; oldSpte: number; newSpte: number; level: number } | null = null;

  protected override __handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): number {
    const saved = this.parent;
    this.parent = { gfn, oldSpte, newSpte, level };
    try {
      return super.__handleChangedSpte(sp, gfn, oldSpte, newSpte, level, shared);
    } finally {
      this.parent = saved;
    }
  }

  /** handle_removed_pt(kvm, sp, old_parent, new_parent, shared): the free hook becomes set_external_spte. */
  protected override tdxSeptFreePrivateSpt(sp: KvmMmuPage): void {
    const p = this.parent;
    if (!p || !removesTable(p.oldSpte, p.newSpte, this.config.hugePages)) { this.freeChildExternalSpt(sp); return; }
    this.tdxSeptSetPrivateSpte(p.gfn, p.oldSpte, p.newSpte, p.level);
  }

}

/**
 * (b) option 2 (seed 003): handle_removed_pt no longer calls the free hook; __handle_changed_spte calls
 * set_external_spte(old, new) for a table removal too, right after handle_removed_pt — call_rcu is
 * queued by then but cannot run (the RCU read lock is held). The SEAMCALLs and their order are those
 * of after (children, then the table's reclaim); only the reclaim now follows the parent's trace
 * event, and the two are separate observables.
 */
export class AfterUnifyAfterRemovedPt extends AfterYanDispatcher {
  protected override tdxSeptFreePrivateSpt(sp: KvmMmuPage): void {
    void sp; // the removal is propagated by __handle_changed_spte below
  }

  protected override __handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): number {
    const child = removesTable(oldSpte, newSpte, this.config.hugePages) ? this.childSp(oldSpte) : null;
    const r = super.__handleChangedSpte(sp, gfn, oldSpte, newSpte, level, shared);
    if (r || !child || !child.mirror || !child.removed) return r;
    // Yan's RCU_LOCKDEP_WARN(!rcu_read_lock_held()) is not modelled: it holds on every path here.
    return this.tdxSeptSetPrivateSpte(gfn, oldSpte, newSpte, level);
  }

}

/**
 * (f) Yan: WARN in handle_changed_spte (the KVM_BUG_ON wrapper, which ignores the error) when a
 * mirror change is made under the shared lock. Sean omitted it: a caller that can guarantee success
 * may use the wrapper (S16). It fires only where mirror children are zapped under the read lock.
 */
export class AfterWarnsMirrorShared extends AfterDesign {
  protected override handleChangedSpte(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number, shared: boolean): void {
    this.diag.warnOnce(sp.mirror && shared, 'tdp_mmu.c:handle_changed_spte:mirror-shared', 'mirror-change-shared');
    super.handleChangedSpte(sp, gfn, oldSpte, newSpte, level, shared);
  }
}
