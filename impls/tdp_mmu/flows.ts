// The TDP MMU flows the refactor did not change (kernel-model §2.1, 2.2, 2.8–2.11): the fault walk
// with FROZEN/retry handling, link, target-level install, leaf zaps, roots (invalidate / zap / put /
// uninit), eager huge-page split, aging. The functions the refactor changed are abstract here.
import type { FaultOp } from '../api';
import {
  FROZEN, NONPRESENT, isFrozen, isLeaf, isNonLeaf, isPresent, isWritable, isAccessed, makeLeaf, makeNonLeaf,
  makeSpte, flagsOf, pfnOf, F_A,
} from '../machine/spte';
import { ENOMEM, PfResult, RET_PF_FIXED, RET_PF_RETRY, RET_PF_SPURIOUS, Vcpu } from './core';
import { KvmX86Ops } from './kvm_x86_ops';
import { KvmMmuPage, TdpIter, nextNonZero } from './sp';


/** The locals of one range walk (TdpMmuFlows.walkFrames): what each walk's body reads and accumulates. */
interface WalkFrame {
  root: KvmMmuPage;
  shared: boolean;
  level: number;
  flag: boolean;
  count: number;
  ret: number;
  sp: KvmMmuPage | null;
}

export type RootTypes = { direct: boolean; mirror: boolean; invalid: boolean; valid: boolean };
const WALK_RESTART = 1;
const WALK_STOP = 2;
const WALK_CONTINUE = 0;

export abstract class TdpMmuFlows extends KvmX86Ops {
  // ------------------------------------------------------------ design-specific (the refactor)

  /** tdp_mmu_set_spte_atomic (§2.3 / §2.3A): 0, -EBUSY, or the TDX hook's error. */
  protected abstract tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number;
  /** tdp_mmu_set_spte (§2.4): non-atomic, write lock; returns the old value. */
  protected abstract tdpMmuSetSpte(sp: KvmMmuPage, index: number, oldSpte: number, newSpte: number, gfn: number, level: number): number;
  /** handle_removed_pt (§2.6) */
  protected abstract handleRemovedPt(sp: KvmMmuPage, shared: boolean): void;
  /**
   * The free of an SP that was never linked (map retry, split leftover; §2.1e, §2.11):
   * before: tdp_mmu_free_sp(); after: tdp_mmu_free_unused_sp().
   */
  protected abstract freeNeverLinkedSp(sp: KvmMmuPage): void;
  /** The leftover SP of tdp_mmu_split_huge_pages_root: the same free as the map-retry path. */
  protected freeSplitLeftoverSp(sp: KvmMmuPage): void { this.freeNeverLinkedSp(sp); }
  /** tdp_mmu_free_sp_rcu_callback (§2.7) */
  protected abstract tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void;

  // ------------------------------------------------------------ shared pieces of the changed functions

  /**
   * Steps 1–5 of handle_changed_spte / __handle_changed_spte (§2.5, unchanged by the refactor):
   * sanity WARNs, BUG() on a pfn change of a present leaf, the old == new and both-non-present
   * early returns. Returns false when the caller must return early.
   */
  protected handleChangedSptePrologue(sp: KvmMmuPage, gfn: number, oldSpte: number, newSpte: number, level: number,
                                      traceHere: boolean): boolean {
    this.diag.warnOnce(level < 1 || level > this.rootLevel, 'tdp_mmu.c:handle_changed_spte:level', 'bad-level');
    this.diag.warnOnce(gfn % this.geo.span(level) !== 0, 'tdp_mmu.c:handle_changed_spte:gfn', 'misaligned-gfn');
    if (isLeaf(oldSpte) && isLeaf(newSpte) && pfnOf(oldSpte) !== pfnOf(newSpte)) {
      this.diag.hostBug('tdp_mmu.c:handle_changed_spte:pfn', 'leaf-pfn-changed', `${sp} gfn 0x${gfn.toString(16)}`);
    }
    if (oldSpte === newSpte) return false;
    // before (tdp_mmu.c:handle_changed_spte, kernel-model §2.5 step 4): the trace right after the
    // old == new return, so every handled change is traced, non-present ↔ non-present included.
    if (traceHere) this.traceKvmTdpMmuSpteChanged(sp, gfn, level, oldSpte, newSpte);
    if (!isPresent(oldSpte) && !isPresent(newSpte)) {
      this.diag.warnOnce(!isFrozen(newSpte), 'tdp_mmu.c:handle_changed_spte:nonpresent', 'nonpresent-to-nonpresent');
      if (!traceHere) this.traceNonPresentChange(sp, gfn, level, oldSpte, newSpte);
      return false;
    }
    return true;
  }

  /**
   * after: the trace of a non-present ↔ non-present change, on __handle_changed_spte's early return.
   * Sean's 2026-02-13 diff (series.md §3, S16) moved the trace below this return, next to the stats,
   * so the v2 posting lost it (MMIO installs/zaps, shared handle_removed_pt freezing non-present
   * entries); v3 fixed "a missing trace issue" (v3 cover, S6) — our reading: traced on this return.
   */
  protected traceNonPresentChange(sp: KvmMmuPage, gfn: number, level: number, oldSpte: number, newSpte: number): void {
    this.traceKvmTdpMmuSpteChanged(sp, gfn, level, oldSpte, newSpte);
  }

  /** Page stats ±1 at the level when "is leaf" changes. */
  protected updateLeafStats(oldSpte: number, newSpte: number, level: number): void {
    const was = isLeaf(oldSpte), is = isLeaf(newSpte);
    if (was !== is) this.kvmUpdatePageStats(level, is ? 1 : -1);
  }

  /** Whether old → new removes the child page table of old (§2.5 step 7); WARNs on a pfn change. */
  protected removesChildTable(oldSpte: number, newSpte: number): boolean {
    if (!isNonLeaf(oldSpte)) return false;
    return isLeaf(newSpte) || !isPresent(newSpte)
      || this.diag.warnOnce(pfnOf(oldSpte) !== pfnOf(newSpte), 'tdp_mmu.c:handle_changed_spte:child-pfn', 'child-table-changed');
  }

  /**
   * One entry of handle_removed_pt's loop (§2.6 step 3): shared → exchange with FROZEN, spinning while
   * another thread holds it frozen; exclusive → skip non-present, else write FROZEN.
   * Returns the old value, or undefined when the entry is skipped.
   */
  protected freezeRemovedPtEntry(sp: KvmMmuPage, index: number, shared: boolean): number | undefined {
    if (shared) {
      this.racePoint('removedPt', sp.level);
      for (;;) {
        const old = this.storeSpte(sp, index, FROZEN, 'handle_removed_pt');
        if (!isFrozen(old)) return old;
        this.spin('handle_removed_pt spin');
      }
    }
    const old = this.readSpte(sp, index, 'handle_removed_pt');
    if (!isPresent(old)) return undefined;
    return this.kvmTdpMmuWriteSpte(sp, index, FROZEN);
  }

  // ------------------------------------------------------------ RCU helpers

  protected rcuReadLock(): void { this.opReader = this.rcu.readLock(); }
  protected rcuReadUnlock(): void { this.rcu.readUnlock(this.opReader); this.opReader = 0; }

  /** call_rcu(&sp->rcu_head, tdp_mmu_free_sp_rcu_callback) */
  protected callRcuFreeSp(sp: KvmMmuPage): void {
    this.rcu.callRcu({
      pendingPages: (out) => {
        if (!this.ledger.isFree(sp.spt)) out.push(sp.spt);
        if (!this.ledger.isFree(sp.header)) out.push(sp.header);
        if (sp.externalSpt !== null && !this.ledger.isFree(sp.externalSpt)) out.push(sp.externalSpt);
      },
      run: () => this.inRcuCallback('tdp_mmu.c:tdp_mmu_free_sp_rcu_callback', () => this.tdpMmuFreeSpRcuCallback(sp)),
    });
  }

  /** tdp_mmu_iter_set_spte */
  protected tdpMmuIterSetSpte(iter: TdpIter, newSpte: number): void {
    iter.oldSpte = this.tdpMmuSetSpte(iter.sp, iter.index, iter.oldSpte, newSpte, iter.gfn, iter.level);
  }

  /**
   * tdp_mmu_iter_cond_resched (F13): drop RCU and mmu_lock, retake them; the walk restarts at the
   * root. Grace periods may complete while the op's own reader is out.
   */
  protected tdpMmuIterCondResched(iter: TdpIter): boolean {
    if (!this.injectFault('yield')) return false;
    this.rcuReadUnlock();
    this.rcuReadLock();
    iter.yielded = true;
    return true;
  }

  // ------------------------------------------------------------ walking

  /**
   * for_each_tdp_pte_min_level over [start, end): pre-order; steps down after re-reading the SPTE
   * (try_step_down), so a body that zaps an entry does not descend and one that links a table does.
   * The body returns WALK_RESTART after a yield: the walk restarts from the root at the same gfn.
   */
  protected forEachTdpPte(root: KvmMmuPage, start: number, end: number, minLevel: number,
                          body: (iter: TdpIter) => number): void {
    let from = start;
    for (;;) {
      const r = this.walkTable(root, root, from, end, minLevel, body);
      if (r === WALK_STOP || r === WALK_CONTINUE) return;
      from = this.restartGfn;
    }
  }

  private restartGfn = 0;

  private walkTable(root: KvmMmuPage, sp: KvmMmuPage, start: number, end: number, minLevel: number,
                    body: (iter: TdpIter) => number): number {
    const span = this.geo.span(sp.level);
    // Every range walk's body ignores non-present entries, so zero entries are skipped without a visit
    // (race and yield counts refer to visited entries, identically in every design): the walk jumps
    // from one non-zero entry to the next (sp.nonzero), re-read after each body, as a test of each
    // entry in turn would see them.
    const limit = Math.min(this.geo.fanout, Math.ceil((end - sp.gfn) / span));
    let idx = nextNonZero(sp.nonzero, start > sp.gfn ? Math.floor((start - sp.gfn) / span) : 0, limit);
    if (idx < 0) return WALK_CONTINUE;
    // One iterator per walk depth, reused: bodies never keep it, a step down or a racing op's walk runs
    // one depth deeper, and apply() resets the depth after a throw.
    const depth = this.walkDepth++;
    const iter = this.iterPool[depth] ??= { root, sp, index: 0, level: 0, gfn: 0, oldSpte: 0, yielded: false };
    iter.root = root;
    iter.sp = sp;
    iter.level = sp.level;
    let r = WALK_CONTINUE;
    for (; idx >= 0; idx = nextNonZero(sp.nonzero, idx + 1, limit)) {
      const gfn = sp.gfn + idx * span;
      this.step('for_each_tdp_pte');
      this.racePoint('walk', sp.level);
      iter.index = idx;
      iter.gfn = gfn;
      iter.oldSpte = this.readSpte(sp, idx, 'tdp_iter');
      iter.yielded = false;
      r = body(iter);
      if (r === WALK_STOP) break;
      if (r === WALK_RESTART) { this.restartGfn = Math.max(gfn, start); break; }
      if (sp.level > minLevel) {
        const cur = this.readSpte(sp, idx, 'try_step_down');
        if (isNonLeaf(cur)) {
          const child = this.childSp(cur);
          if (child) {
            r = this.walkTable(root, child, Math.max(start, gfn), end, minLevel, body);
            if (r !== WALK_CONTINUE) break;
          }
        }
      }
    }
    this.walkDepth = depth;
    return r;
  }

  /** walkTable's iterators, one per depth of the walks in progress (racing ops nest deeper) */
  private readonly iterPool: TdpIter[] = [];
  protected walkDepth = 0;

  /**
   * The locals of the range walks in progress, one frame per walk (a racing op's walk nests a frame
   * above the one it interrupted). The loop bodies are methods bound once per VM that read their
   * walk's frame, so a walk allocates no closure; apply() resets the count after a throw.
   */
  private readonly walkFrames: WalkFrame[] = [];
  protected walkNest = 0;
  private pushWalkFrame(root: KvmMmuPage): WalkFrame {
    const f = this.walkFrames[this.walkNest++] ??= { root, shared: false, level: 0, flag: false, count: 0, ret: 0, sp: null };
    f.root = root; f.shared = false; f.level = 0; f.flag = false; f.count = 0; f.ret = 0; f.sp = null;
    return f;
  }
  private popWalkFrame(): void { this.walkNest--; }
  /** the frame of the walk whose body is running */
  private get walkFrame(): WalkFrame { return this.walkFrames[this.walkNest - 1]; }

  // ------------------------------------------------------------ roots (§1.3, §2.9)

  /** kvm_tdp_mmu_alloc_root: reuse a valid root of the same role, else allocate one (refcount 2). */
  protected kvmTdpMmuAllocRoot(vcpu: Vcpu, mirror: boolean): KvmMmuPage {
    for (const r of this.roots) {
      if (r.mirror === mirror && !r.invalid && r.tdpMmuRootCount > 0) { r.tdpMmuRootCount++; return r; }
    }
    const root = this.tdpMmuAllocSp(vcpu, this.rootLevel, mirror, true);
    root.tdpMmuRootCount = 2;
    this.roots.push(root);
    return root;
  }

  /** kvm_mmu_load / fast_pgd_switch: a vCPU drops an invalid root and loads a valid one. */
  protected kvmMmuLoad(vcpu: Vcpu): void {
    for (const mirror of [true, false]) {
      const cur = mirror ? vcpu.mirrorRoot : vcpu.directRoot;
      if (cur && !cur.invalid) continue;
      if (cur) this.kvmTdpMmuPutRoot(cur);
      const root = this.kvmTdpMmuAllocRoot(vcpu, mirror);
      if (mirror) vcpu.mirrorRoot = root; else vcpu.directRoot = root;
    }
  }

  /** kvm_tdp_mmu_put_root: at refcount 0, unlink the root from the RCU list and free it via RCU. */
  protected kvmTdpMmuPutRoot(root: KvmMmuPage): void {
    if (--root.tdpMmuRootCount > 0) return;
    this.diag.kvmBugOn(!root.invalid, 'tdp_mmu.c:kvm_tdp_mmu_put_root:valid', 'put-valid-root');
    this.roots = this.roots.filter(r => r !== root);
    this.callRcuFreeSp(root);
  }

  protected rootMatches(root: KvmMmuPage, types: RootTypes): boolean {
    if (root.mirror ? !types.mirror : !types.direct) return false;
    return root.invalid ? types.invalid : types.valid;
  }

  /** kvm_tdp_mmu_invalidate_roots */
  protected kvmTdpMmuInvalidateRoots(types: RootTypes): void {
    for (const root of this.roots) {
      if (!root.invalid && this.rootMatches(root, { ...types, valid: true, invalid: false })) {
        root.tdpMmuScheduledRootToZap = true;
        root.invalid = true;
      }
    }
  }

  /** kvm_tdp_mmu_zap_invalidated_roots: takes mmu_lock itself in the given mode. */
  protected kvmTdpMmuZapInvalidatedRoots(shared: boolean): void {
    this.mmuLock.acquire(shared ? 'read' : 'write');
    for (const root of [...this.roots]) {
      if (!root.tdpMmuScheduledRootToZap) continue;
      root.tdpMmuScheduledRootToZap = false;
      this.diag.kvmBugOn(!root.invalid, 'tdp_mmu.c:kvm_tdp_mmu_zap_invalidated_roots', 'zap-valid-root');
      this.tdpMmuZapRoot(root, shared);
      this.kvmTdpMmuPutRoot(root);
    }
    this.mmuLock.release();
  }

  /**
   * tdp_mmu_zap_root (§2.9): passes at 4K, 2M, 1G, then the root level. CONFIG_KVM_PROVE_MMU skips
   * the 4K and 2M passes to mimic the fault path, so handle_removed_pt recurses over whole subtrees
   * (post-order) — the `proveMmu` config option.
   */
  protected tdpMmuZapRoot(root: KvmMmuPage, shared: boolean): void {
    this.diag.warnOnce(root.tdpMmuRootCount === 0, 'tdp_mmu.c:tdp_mmu_zap_root:refcount', 'zap-unreferenced-root');
    this.rcuReadLock();
    if (!this.config.proveMmu) {
      this.tdpMmuZapRootPass(root, shared, 1);
      this.tdpMmuZapRootPass(root, shared, 2);
    }
    this.tdpMmuZapRootPass(root, shared, 3);
    this.tdpMmuZapRootPass(root, shared, root.level);
    this.rcuReadUnlock();
  }

  /** __tdp_mmu_zap_root */
  private tdpMmuZapRootPass(root: KvmMmuPage, shared: boolean, zapLevel: number): void {
    const f = this.pushWalkFrame(root);
    f.shared = shared;
    f.level = zapLevel;
    this.forEachTdpPte(root, 0, this.geo.totalGfns, zapLevel, this.zapRootVisit);
    this.popWalkFrame();
  }

  /** __tdp_mmu_zap_root's loop body (frame: shared, level = zap level) */
  private readonly zapRootVisit = (iter: TdpIter): number => {
    const f = this.walkFrame;
    for (;;) {
      if (this.tdpMmuIterCondResched(iter)) return WALK_RESTART;
      if (!isPresent(iter.oldSpte) || iter.level > f.level) return WALK_CONTINUE;
      if (!f.shared) { this.tdpMmuIterSetSpte(iter, NONPRESENT); return WALK_CONTINUE; }
      if (this.tdpMmuSetSpteAtomic(iter, NONPRESENT) === 0) return WALK_CONTINUE;
      // goto retry: the same iterator, with iter.old_spte as the failed cmpxchg left it
      // (tdp_mmu.c:__tdp_mmu_zap_root; try_cmpxchg64 refreshes it, tdp_iter.h).
      this.spin('__tdp_mmu_zap_root retry');
      this.racePoint('zapRetry', iter.level);
    }
  };

  /** kvm_mmu_uninit_tdp_mmu (§2.9): invalidate all roots, zap them exclusively, rcu_barrier. */
  protected kvmMmuUninitTdpMmu(): void {
    this.kvmTdpMmuInvalidateRoots({ direct: true, mirror: true, valid: true, invalid: false });
    this.kvmTdpMmuZapInvalidatedRoots(false);
    this.diag.warnOnce(this.tdpMmuPages !== 0, 'tdp_mmu.c:kvm_mmu_uninit_tdp_mmu:pages', 'page-tables-leaked');
    this.diag.warnOnce(this.roots.length !== 0, 'tdp_mmu.c:kvm_mmu_uninit_tdp_mmu:roots', 'roots-leaked');
    this.rcuBarrier();
  }

  /** rcu_barrier(): lockless walkers leave their sections first (they cannot block it forever). */
  protected abstract rcuBarrier(): void;

  // ------------------------------------------------------------ fault (§2.1)

  /** kvm_tdp_mmu_page_fault: top up, load roots, read_lock, kvm_tdp_mmu_map. */
  protected kvmTdpMmuPageFault(vcpu: Vcpu, f: FaultOp): PfResult {
    if (this.mmuTopupMemoryCaches(vcpu)) return '-ENOMEM';
    this.kvmMmuLoad(vcpu);
    this.mmuLock.acquire('read');
    try {
      return this.kvmTdpMmuMap(vcpu, f);
    } finally {
      this.mmuLock.release();
    }
  }

  /** Goal level: kvm_mmu_hugepage_adjust; private mappings are capped by the vendor's gmem_max_mapping_level. */
  protected faultGoalLevel(f: FaultOp): number {
    if (!f.private) return f.maxLevel;
    return Math.min(f.maxLevel, this.gmemMaxMappingLevel());
  }

  /** kvm_tdp_mmu_map */
  protected kvmTdpMmuMap(vcpu: Vcpu, f: FaultOp): PfResult {
    const root = f.private ? vcpu.mirrorRoot! : vcpu.directRoot!;
    let goal = this.faultGoalLevel(f);
    this.rcuReadLock();
    try {
      let sp = root;
      for (;;) {
        this.step('kvm_tdp_mmu_map');
        const level = sp.level;
        const index = this.geo.index(f.gfn, level);
        this.racePoint('walk', level);
        const iter: TdpIter = { root, sp, index, level, gfn: this.geo.align(f.gfn, level), oldSpte: this.readSpte(sp, index, 'kvm_tdp_mmu_map'), yielded: false };
        // F4: a concurrent update holds this SPTE frozen: retry without allocating.
        if (isFrozen(iter.oldSpte)) { this.cover('map|frozen-retry'); return RET_PF_RETRY; }
        // TDX does not promote: a private fault stops above an existing table at the goal level (our reading).
        if (level === goal && sp.mirror && goal > 1 && isNonLeaf(iter.oldSpte)) goal = level - 1;
        // A private huge leaf already covers the gfn (huge-page mode): it is the mapping.
        if (sp.mirror && level > goal && isLeaf(iter.oldSpte) && this.config.hugePages) goal = level;
        if (level === goal) return this.tdpMmuMapHandleTargetLevel(vcpu, f, iter);
        if (isNonLeaf(iter.oldSpte)) { sp = this.childSp(iter.oldSpte)!; continue; }
        // Non-present, or a huge leaf that must be split: install a new page table.
        const child = this.tdpMmuAllocSp(vcpu, level - 1, sp.mirror);
        this.tdpMmuInitChildSp(child, iter);
        if (child.mirror) this.kvmMmuAllocExternalSpt(vcpu, child);
        child.nxHugePageDisallowed = false;
        let r: number;
        if (isPresent(iter.oldSpte)) {
          this.diag.kvmBugOn(sp.mirror, 'tdp_mmu.c:kvm_tdp_mmu_map:mirror-huge', 'mirror-huge-page-split-in-fault');
          r = this.tdpMmuSplitHugePage(iter, child, true);
        } else {
          r = this.tdpMmuLinkSp(iter, child, true);
        }
        if (r) {
          // The SP was never reachable: free it at once, no call_rcu.
          this.cover(`map|link-failed|${sp.mirror ? 'M' : 'D'}`);
          this.freeNeverLinkedSp(child);
          return RET_PF_RETRY;
        }
        sp = child;
      }
    } finally {
      this.rcuReadUnlock();
    }
  }

  /** tdp_mmu_link_sp (§2.2) */
  protected tdpMmuLinkSp(iter: TdpIter, sp: KvmMmuPage, shared: boolean): number {
    const spte = makeNonLeaf(sp.spt);
    if (shared) {
      const r = this.tdpMmuSetSpteAtomic(iter, spte);
      if (r) return r;
    } else {
      this.tdpMmuIterSetSpte(iter, spte);
    }
    this.tdpAccountMmuPage(sp);
    return 0;
  }

  /** make_spte for this fault */
  protected makeFaultSpte(f: FaultOp, level: number, old: number): number {
    if (f.private) {
      const pfn = this.kvmGmemGetPfn(f.gfn, level);
      return makeLeaf(pfn, f.write || (isLeaf(old) && isWritable(old)), true, false);
    }
    const pfn = this.hostPfn(this.geo.align(f.gfn, level));
    const writable = f.write || (isLeaf(old) && isWritable(old));
    return makeLeaf(pfn, writable, true, f.write);
  }

  /** tdp_mmu_map_handle_target_level (§2.1 step 3) */
  protected tdpMmuMapHandleTargetLevel(vcpu: Vcpu, f: FaultOp, iter: TdpIter): PfResult {
    void vcpu;
    const old = iter.oldSpte;
    if (isLeaf(old) && (!f.write || isWritable(old))) return RET_PF_SPURIOUS;
    const newSpte = this.makeFaultSpte(f, iter.level, old);
    if (newSpte === old) return RET_PF_SPURIOUS;
    if (this.tdpMmuSetSpteAtomic(iter, newSpte)) return RET_PF_RETRY;
    return RET_PF_FIXED;
  }

  // ------------------------------------------------------------ leaf zaps (§2.8)

  /** tdp_mmu_zap_leafs: write lock; non-atomic zap of every present leaf in [start, end). */
  protected tdpMmuZapLeafs(root: KvmMmuPage, start: number, end: number, canYield: boolean, flush: boolean): boolean {
    end = Math.min(end, this.geo.totalGfns);
    this.lockdepAssertHeldWrite('tdp_mmu.c:tdp_mmu_zap_leafs');
    this.rcuReadLock();
    const f = this.pushWalkFrame(root);
    f.shared = canYield; // frame.shared: may yield
    f.flag = flush;
    this.forEachTdpPte(root, start, end, 1, this.zapLeafsVisit);
    flush = f.flag;
    this.popWalkFrame();
    this.rcuReadUnlock();
    return flush;
  }

  /** tdp_mmu_zap_leafs' loop body (frame: shared = can yield, flag = flush) */
  private readonly zapLeafsVisit = (iter: TdpIter): number => {
    const f = this.walkFrame;
    if (f.shared && this.tdpMmuIterCondResched(iter)) return WALK_RESTART;
    if (!isLeaf(iter.oldSpte)) return WALK_CONTINUE;
    this.tdpMmuIterSetSpte(iter, NONPRESENT);
    if (!f.root.invalid) f.flag = true;
    return WALK_CONTINUE;
  };

  /** kvm_tdp_mmu_unmap_gfn_range: the root types of the attribute filter, invalid roots included. */
  protected kvmTdpMmuUnmapGfnRange(start: number, end: number, types: { mirror: boolean; direct: boolean }, flush: boolean): boolean {
    const roots = this.roots.slice();
    for (const root of roots) {
      if (root.mirror ? !types.mirror : !types.direct) continue; // valid and invalid roots alike
      flush = this.tdpMmuZapLeafs(root, start, end, true, flush);
    }
    return flush;
  }

  // ------------------------------------------------------------ huge-page split (§2.11)

  /** tdp_mmu_split_huge_page: fill the child while unreachable, then link it. */
  protected tdpMmuSplitHugePage(iter: TdpIter, sp: KvmMmuPage, shared: boolean): number {
    const huge = iter.oldSpte;
    const childLevel = iter.level - 1;
    const step = this.geo.span(childLevel);
    const flags = flagsOf(huge);
    const pfn = pfnOf(huge);
    for (let i = 0; i < this.geo.fanout; i++) this.storeSpte(sp, i, makeSpte(pfn + i * step, flags), 'tdp_mmu_split_huge_page');
    const r = this.tdpMmuLinkSp(iter, sp, shared);
    if (r) {
      // the filled entries belong to an unreachable table: clear them so a retry starts clean
      for (let i = 0; i < this.geo.fanout; i++) this.storeSpte(sp, i, NONPRESENT, 'tdp_mmu_split_huge_page');
      return r;
    }
    this.kvmUpdatePageStats(childLevel, this.geo.fanout);
    return 0;
  }

  /** tdp_mmu_split_huge_pages_root */
  protected tdpMmuSplitHugePagesRoot(root: KvmMmuPage, start: number, end: number, targetLevel: number, shared: boolean): number {
    this.rcuReadLock();
    const f = this.pushWalkFrame(root);
    f.shared = shared;
    f.level = targetLevel;
    this.forEachTdpPte(root, start, end, targetLevel + 1, this.splitVisit);
    const sp = f.sp, ret = f.ret;
    this.popWalkFrame();
    this.rcuReadUnlock();
    // A leftover SP was never linked (another task split or zapped the page first).
    if (sp) this.freeSplitLeftoverSp(sp);
    return ret;
  }

  /** tdp_mmu_split_huge_pages_root's loop body (frame: shared, level = target level, sp = the SP in hand, ret) */
  private readonly splitVisit = (iter: TdpIter): number => {
    const f = this.walkFrame;
    for (;;) {
      if (this.tdpMmuIterCondResched(iter)) return WALK_RESTART;
      if (iter.level <= f.level || !isLeaf(iter.oldSpte)) return WALK_CONTINUE;
      if (!f.sp) {
        // Drop RCU and mmu_lock to allocate; another task may run meanwhile (a race point with the
        // lock dropped); the walk then restarts from the root.
        this.rcuReadUnlock();
        const mode = this.mmuLock.mode;
        this.mmuLock.release();
        f.sp = this.tdpMmuAllocSpForSplit(iter.level - 1, f.root.mirror);
        this.racePoint('walk', iter.level);
        // still inside the lock-dropped window: another task may zap or fault the huge leaf, so
        // the iterator must restart (iter.yielded) rather than trust iter.old_spte
        // (tdp_mmu.c:tdp_mmu_split_huge_pages_root).
        this.racePoint('splitAlloc', iter.level);
        this.mmuLock.acquire(mode);
        this.rcuReadLock();
        if (!f.sp) { f.ret = ENOMEM; return WALK_STOP; }
        iter.yielded = true;
        return WALK_RESTART;
      }
      this.tdpMmuInitChildSp(f.sp, iter);
      if (this.tdpMmuSplitHugePage(iter, f.sp, f.shared)) { this.spin('tdp_mmu_split_huge_pages_root retry'); continue; }
      f.sp = null;
      return WALK_CONTINUE;
    }
  };

  // ------------------------------------------------------------ aging (§2.12)

  /** kvm_tdp_mmu_age_spte: with A/D bits, atomically clear Accessed; no handle_changed_spte. */
  protected kvmTdpMmuAgeSpte(iter: TdpIter): boolean {
    if (!isAccessed(iter.oldSpte)) return false;
    const aged = makeSpte(pfnOf(iter.oldSpte), flagsOf(iter.oldSpte) & ~F_A);
    this.storeSpte(iter.sp, iter.index, aged, 'kvm_tdp_mmu_age_spte');
    return true;
  }

  /** __kvm_tdp_mmu_age_gfn_range: RCU only, no mmu_lock. */
  protected kvmTdpMmuAgeGfnRange(start: number, end: number, mirror: boolean): number {
    let young = 0;
    this.rcuReadLock();
    for (const root of [...this.roots]) {
      if (root.mirror && !mirror) continue;
      const f = this.pushWalkFrame(root);
      this.forEachTdpPte(root, start, end, 1, this.ageVisit);
      young += f.count;
      this.popWalkFrame();
    }
    this.rcuReadUnlock();
    return young;
  }

  /** __kvm_tdp_mmu_age_gfn_range's loop body (frame: count = young entries) */
  private readonly ageVisit = (iter: TdpIter): number => {
    if (isLeaf(iter.oldSpte) && this.kvmTdpMmuAgeSpte(iter)) this.walkFrame.count++;
    return WALK_CONTINUE;
  };

  // ------------------------------------------------------------ NX recovery zap (§2.10, extended domain)

  /** kvm_tdp_mmu_zap_possible_nx_huge_page-style atomic zap of one entry, under the read lock. */
  protected atomicZapEntry(root: KvmMmuPage, gfn: number, level: number): number {
    this.mmuLock.acquire('read');
    this.rcuReadLock();
    const f = this.pushWalkFrame(root);
    f.level = level;
    this.forEachTdpPte(root, gfn, gfn + 1, level, this.atomicZapVisit);
    const found = f.flag, r = f.ret;
    this.popWalkFrame();
    this.rcuReadUnlock();
    this.mmuLock.release();
    return found ? r : 1;
  }

  /** atomicZapEntry's loop body (frame: level, flag = found, ret) */
  private readonly atomicZapVisit = (iter: TdpIter): number => {
    const f = this.walkFrame;
    if (iter.level !== f.level || !isPresent(iter.oldSpte)) return WALK_CONTINUE;
    f.flag = true;
    f.ret = this.tdpMmuSetSpteAtomic(iter, NONPRESENT);
    return WALK_STOP;
  };
}
