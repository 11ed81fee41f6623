// The VM's entry points (DESIGN §3): one method per op kind, each the kernel path a TD really takes
// (vCPU fault with TDX's local retry loop, gmem/notifier unmap, eager split, aging, fast zap,
// FINALIZE, lockless walkers, grace periods, hkid release, VM destruction — kernel-model §2.14),
// plus the dispatcher that turns one op into an observable outcome.
import type {
  AgeOp, AtomicZapOp, DesignInstance, Digests, FaultOp, LeakReport, Op, OpOutcome, RcuReadOp, RcuUnlockOp,
  Snapshot, SplitOp, Violation, ZapOp,
} from '../api';
import { HangError, HostBugError } from '../machine/errors';
import { FaultPlan, RacePlan } from '../machine/fault_plan';
import type { LockMode } from '../machine/mmu_lock';
import { Owner } from '../machine/ledger';
import { isNonLeaf } from '../machine/spte';
import { RET_PF_RETRY, Vcpu } from './core';
import { TdpMmuFlows } from './flows';
import { checkInvariants, digests, snapshot } from './observe';
import type { KvmMmuPage } from './sp';

/** TDX's local re-fault loop ends when an event or signal is pending; the model bounds it. */
const TDX_LOCAL_RETRY_MAX = 8;

/** Lock mode an op needs when it runs as a racing op. */
function nestedLockMode(op: Op): LockMode {
  if (op.kind === 'fault') return 'read';
  return op.kind === 'zap' ? 'write' : 'none';
}

interface Walker { reader: number; pages: number[]; what: string }

export abstract class TdpMmuVm extends TdpMmuFlows implements DesignInstance {
  get design(): string { return this.designName; }
  private walkers = new Map<number, Walker>();
  private nestedResults: string[] = [];

  // ------------------------------------------------------------ dispatcher

  apply(op: Op): OpOutcome {
    this.digestCache = null;
    this.traceLen = 0;
    this.traceHash = 0;
    this.steps = 0;
    this.spins = 0;
    this.walkDepth = 0;
    this.walkNest = 0;
    this.violations = [];
    this.nestedResults = [];
    let result: string;
    let hang = false;
    if (this.destroyed) result = 'vm-destroyed';
    else if (this.hostDead) result = 'host-dead';
    else {
      // the stacks are reused from op to op; an op without faults shares the empty plan (it keeps no counts)
      // (a length store is a runtime call in V8: only when a nested op left a frame behind)
      if (this.planStack.length !== 1) this.planStack.length = 1;
      this.planStack[0] = op.fail?.length ? new FaultPlan(op.fail) : FaultPlan.EMPTY;
      if (this.raceStack.length !== 1) this.raceStack.length = 1;
      this.raceStack[0] = op.race ? new RacePlan(op.race) : null;
      try {
        result = this.dispatch(op);
      } catch (e) {
        if (e instanceof HangError) {
          hang = true;
          result = 'hang';
          this.hostDead = true;
          this.violations.push({ kind: 'hang', site: e.where, detail: e.message });
        } else if (e instanceof HostBugError) {
          result = 'BUG';
          this.hostDead = true;
          this.violations.push({ kind: 'host-bug', site: e.site, detail: e.message });
        } else {
          throw e;
        }
      } finally {
        this.mmuLock.reset();
        this.lockBase = 0;
        if (this.opReader) this.rcuReadUnlock();
        if (this.planStack.length !== 1) this.planStack.length = 1;
        this.planStack[0] = FaultPlan.EMPTY;
        if (this.raceStack.length !== 1) this.raceStack.length = 1;
        this.raceStack[0] = null;
      }
    }
    if (this.nestedResults.length) result += ` [race: ${this.nestedResults.join(', ')}]`;
    const seamcalls = this.tdx.takeLog();
    for (const s of seamcalls) this.coverSeamcall(op.kind, s.call, s.result);
    return { result, seamcalls, diagnostics: this.diag.takeEvents(), violations: this.violations,
      trace: this.traceHash, traceCount: this.traceLen / 4, hang };
  }

  /** A racing op: runs to completion now, as another vCPU, if it can take mmu_lock alongside us. */
  protected runNested(op: Op): void {
    if (!this.mmuLock.compatible(nestedLockMode(op))) {
      this.nestedResults.push(`${op.kind} skipped (mmu_lock held for write)`);
      return;
    }
    const savedReader = this.opReader;
    const savedBase = this.lockBase;
    const savedOp = this.curOp;
    this.opReader = 0;
    this.lockBase = this.mmuLock.depth;
    this.planStack.push(op.fail?.length ? new FaultPlan(op.fail) : FaultPlan.EMPTY);
    this.raceStack.push(null);
    try {
      this.nestedResults.push(`${op.kind}=${this.dispatch(op)}`);
    } finally {
      if (this.opReader) this.rcuReadUnlock();
      this.opReader = savedReader;
      this.lockBase = savedBase;
      this.curOp = savedOp;
      this.planStack.pop();
      this.raceStack.pop();
    }
  }

  private dispatch(op: Op): string {
    this.curOp = op.kind;
    switch (op.kind) {
      case 'fault': return this.faultOp(op);
      case 'zap': return this.zapOp(op);
      case 'split': return this.splitOp(op);
      case 'age': return this.ageOp(op);
      case 'invalidateDirect': return this.kvmMmuZapAllFast();
      case 'finalize': return this.tdx.finalize() ? 'ok' : '-EINVAL';
      case 'rcuRead': return this.rcuReadOp(op);
      case 'rcuUnlock': return this.rcuUnlockOp(op);
      case 'gracePeriod': return `ran=${this.rcu.gracePeriod()}`;
      case 'releaseHkid': return this.vmPreDestroy();
      case 'destroy': return this.kvmDestroyVm();
      case 'atomicZap': return this.atomicZapOp(op);
    }
  }

  // ------------------------------------------------------------ ops

  /** A vCPU fault; private GPAs go through TDX's EPT-violation handler and its local retry loop (§2.1.5). */
  private faultOp(f: FaultOp): string {
    const vcpu = this.vcpus[f.vcpu];
    if (this.diag.bugged) return '-EIO'; // KVM_REQ_VM_DEAD: the vCPU cannot run
    if (!f.private) return this.kvmTdpMmuPageFault(vcpu, f);
    let r = this.kvmTdpMmuPageFault(vcpu, f);
    for (let tries = 1; r === RET_PF_RETRY && tries < TDX_LOCAL_RETRY_MAX; tries++) {
      if (this.diag.bugged) return '-EIO';
      r = this.kvmTdpMmuPageFault(vcpu, f);
    }
    if (r === RET_PF_RETRY && this.diag.bugged) return '-EIO';
    return r;
  }

  /** Conversion / gmem punch hole / memslot removal: kvm_tdp_mmu_unmap_gfn_range under the write lock. */
  private zapOp(z: ZapOp): string {
    return this.kvmMmuUnmapGfnRange(z.start, z.end, { mirror: z.attr !== 'shared', direct: z.attr !== 'private' }) ? 'flush' : 'no-flush';
  }

  /** The callers of kvm_tdp_mmu_unmap_gfn_range (MMU notifier, gmem invalidation) hold mmu_lock for write. */
  protected kvmMmuUnmapGfnRange(start: number, end: number, types: { mirror: boolean; direct: boolean }): boolean {
    this.mmuLock.acquire('write');
    const flush = this.kvmTdpMmuUnmapGfnRange(start, end, types, false);
    this.mmuLock.release();
    return flush;
  }

  /** kvm_tdp_mmu_try_split_huge_pages over the valid roots of the range's kind. */
  private splitOp(s: SplitOp): string {
    this.mmuLock.acquire(s.shared ? 'read' : 'write');
    let r = 0;
    for (const root of [...this.roots]) {
      if (root.invalid || root.mirror !== s.private) continue;
      r = this.tdpMmuSplitHugePagesRoot(root, s.start, Math.min(s.end, this.geo.totalGfns), s.targetLevel, s.shared);
      if (r) break;
    }
    this.mmuLock.release();
    return r ? '-ENOMEM' : '0';
  }

  private ageOp(a: AgeOp): string {
    return `young=${this.kvmTdpMmuAgeGfnRange(a.start, Math.min(a.end, this.geo.totalGfns), a.mirror)}`;
  }

  /** kvm_mmu_zap_all_fast: for a TD, direct roots only; invalidated under the write lock, zapped shared. */
  private kvmMmuZapAllFast(): string {
    this.mmuLock.acquire('write');
    this.kvmTdpMmuInvalidateRoots({ direct: true, mirror: false, valid: true, invalid: false });
    this.mmuLock.release();
    this.kvmTdpMmuZapInvalidatedRoots(true);
    return 'ok';
  }

  private atomicZapOp(z: AtomicZapOp): string {
    const root = this.roots.find(r => r.mirror === z.private && !r.invalid);
    if (!root) return 'no-root';
    const r = this.atomicZapEntry(root, z.gfn, z.level);
    return r === 1 ? 'not-present' : String(r);
  }

  // ------------------------------------------------------------ lockless walkers (RCU readers)

  /** Path from the root to gfn: each table's spt and header, touched now and again at unlock. */
  private walkerPath(root: KvmMmuPage | undefined, gfn: number): number[] {
    const pages: number[] = [];
    let sp = root;
    while (sp) {
      pages.push(sp.spt, sp.header);
      this.ledger.use(sp.spt, 'lockless walker');
      const e = sp.entries[this.geo.index(gfn, sp.level)];
      sp = isNonLeaf(e) ? this.childSp(e) : undefined;
    }
    return pages;
  }

  private rcuReadOp(o: RcuReadOp): string {
    if (this.walkers.has(o.walker)) return 'already-in-section';
    const reader = this.rcu.readLock();
    const root = this.roots.find(r => r.mirror === o.private && !r.invalid);
    const pages = this.walkerPath(root, o.gfn);
    this.walkers.set(o.walker, { reader, pages, what: `walker ${o.walker} (gfn 0x${o.gfn.toString(16)})` });
    return `holds ${pages.length / 2} tables`;
  }

  /** The walker dereferences its path once more, then rcu_read_unlock(). */
  private endWalker(id: number, w: Walker): number {
    let uaf = 0;
    for (const p of w.pages) if (!this.ledger.use(p, w.what)) uaf++;
    this.rcu.readUnlock(w.reader);
    this.walkers.delete(id);
    return uaf;
  }

  private rcuUnlockOp(o: RcuUnlockOp): string {
    const w = this.walkers.get(o.walker);
    if (!w) return 'not-in-section';
    const uaf = this.endWalker(o.walker, w);
    return uaf ? `use-after-free x${uaf}` : 'ok';
  }

  protected rcuBarrier(): void {
    for (const [id, w] of [...this.walkers]) this.endWalker(id, w);
    this.rcu.barrier();
  }

  // ------------------------------------------------------------ destruction (§2.14)

  /** kvm_mmu_free_memory_caches */
  private kvmMmuFreeMemoryCaches(vcpu: Vcpu): void {
    for (const h of vcpu.caches.header) this.freeHeader(h, 'kvm_mmu_free_memory_caches');
    for (const p of vcpu.caches.shadow) this.freePage(p, 'kvm_mmu_free_memory_caches');
    for (const p of vcpu.caches.external) this.freeExternalCachePage(p);
    vcpu.caches = { header: [], shadow: [], external: [] };
  }

  /** The external-page cache goes back where it came from (KVM pages: free_page). */
  protected freeExternalCachePage(page: number): void { this.freePage(page, 'kvm_mmu_free_memory_caches'); }

  /** guest_memfd inode eviction: every guest page goes back to the allocator. */
  private kvmGmemRelease(): void {
    for (const pfn of this.gmem.values()) {
      const owner = this.ledger.ownerOf(pfn);
      if (owner === Owner.Host && this.ledger.isTdxDirty(pfn) && this.diag.bugged) {
        // PAGE.REMOVE succeeded but WBINVD failed (the VM is bugged) and the hkid was not released, so
        // no PHYMEM.CACHE.WB wrote the page back either: kept off the allocator, like a TDX-owned page
        this.ledger.leakOnPurpose(pfn, 'guest page still TDX-dirty (no WBINVD) after a VM bug');
      } else if (owner === Owner.Host) this.ledger.free(pfn, 'gmem', 'kvm_gmem_free_folio');
      else if (owner === Owner.Tdx && this.diag.bugged) {
        this.ledger.leakOnPurpose(pfn, 'guest page still owned by the TDX module after a VM bug');
      }
      // a TDX-owned page of a healthy VM stays: the leak oracle reports it
    }
    this.gmem.clear();
  }

  /** kvm_destroy_vm for a TD, in the kernel's order. */
  private kvmDestroyVm(): string {
    // 1. Closing the guest_memfd files zaps every private leaf, hkid still assigned.
    this.mmuLock.acquire('write');
    this.kvmTdpMmuUnmapGfnRange(0, this.geo.totalGfns, { mirror: true, direct: false }, false);
    this.mmuLock.release();
    // 2. kvm_arch_pre_destroy_vm → kvm_x86_call(vm_pre_destroy) (TDX: release the hkid)
    const hkid = this.vmPreDestroy();
    // 3. kvm_arch_destroy_vm: kvm_unload_vcpu_mmus, vCPU destroy
    for (const vcpu of this.vcpus) {
      if (vcpu.mirrorRoot) this.kvmTdpMmuPutRoot(vcpu.mirrorRoot);
      if (vcpu.directRoot) this.kvmTdpMmuPutRoot(vcpu.directRoot);
      vcpu.mirrorRoot = vcpu.directRoot = null;
      this.kvmMmuFreeMemoryCaches(vcpu);
    }
    // kvm_mmu_uninit_vm → kvm_mmu_uninit_tdp_mmu (every S-EPT page reclaimed, then rcu_barrier), and
    // only then kvm_x86_call(vm_destroy) (TDX: TD control pages, the TDR last): kvm_arch_destroy_vm in
    // arch/x86/kvm/x86.c @042007c262e5 (kernel-model Errata; tdx-module.md §2.3). The TDX module
    // refuses the TDR while any child page is left (tdh_phymem_page_reclaim.c L165).
    this.kvmMmuUninitTdpMmu();
    this.vmDestroy();
    this.kvmGmemRelease();
    this.destroyed = true;
    return `destroyed (hkid ${hkid})`;
  }

  // ------------------------------------------------------------ observation

  /** Digests change only when an op runs: computed once per op. */
  digests(): Digests { return this.digestCache ??= digests(this); }
  private digestCache: Digests | null = null;
  snapshot(): Snapshot { return snapshot(this); }
  pageStats(): readonly number[] { return [this.stats[1], this.stats[2], this.stats[3]]; }
  /**
   * The subtree counts make the FROZEN and stats checks cheap; the mirror/S-EPT walk runs only when
   * the mirror tree, the S-EPT or the VM state changed since the last clean check.
   */
  checkInvariants(): Violation[] {
    const d = this.digests();
    const key = `${d.mirror}|${d.sept}|${d.vm}`;
    const v = checkInvariants(this, key !== this.lastSeptKey);
    this.lastSeptKey = v.some(x => x.kind === 'mirror-sept-mismatch') ? '' : key;
    return v;
  }
  private lastSeptKey = '';
  leakReport(): LeakReport { return this.ledger.unfreed(); }
  coverage(): Set<string> { return this.coverageKeys(); }
}
