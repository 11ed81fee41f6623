// The simulated KVM instance's state and the primitives every flow uses: SPTE reads/writes with
// incremental digests, SP allocation from the per-vCPU caches (kernel-model §1.4), race points,
// the fault plan, the step budget. Design-specific functions are declared abstract here and
// implemented in impls/before and impls/after under their kernel names.
import { OP_KINDS, SEAMCALL_NAMES, type SeamcallName, type Op, type RacePoint, type VmConfig, type Violation } from '../api';
import { CoverageBits } from '../machine/coverage_bits';
import { Diagnostics } from '../machine/diag';
import { HangError } from '../machine/errors';
import { FaultPlan, RacePlan } from '../machine/fault_plan';
import { Geometry, ROOT_LEVEL, geometryOf } from '../machine/geometry';
import { hash4 } from '../machine/hash';
import { MV_LEAF, MV_TABLE, mirrorViewHash } from '../machine/mirror_view';
import { Ledger } from '../machine/ledger';
import { MmuLock } from '../machine/mmu_lock';
import { Rcu } from '../machine/rcu';
import { isLeaf, isNonLeaf, isPresent, pfnOf, FROZEN, flagsOf } from '../machine/spte';

/** "mirror spt L<level>", described only when a report needs it (the level of a split SP is set late) */
class SptOf { constructor(private readonly sp: KvmMmuPage) {} toString(): string { return `${this.sp.mirror ? 'mirror' : 'direct'} spt L${this.sp.level}`; } }
/** "external_spt of <sp>", described only when a report needs it */
class ExternalOf { constructor(private readonly sp: KvmMmuPage) {} toString(): string { return `external_spt of ${this.sp}`; } }

/**
 * Mirror-view hash of a mirror SPTE (what the S-EPT should hold for it); 0 when not present. A table
 * entry's view names the child SP's external_spt: the S-EPT table there must be that very page (the
 * page handed to SEPT.ADD / DEMOTE), so a wrong page makes the digests differ and the walk name it.
 */
function mirrorView(level: number, gfn: number, spte: number, child: KvmMmuPage | undefined): number {
  if (spte === 0 || spte === FROZEN || !isPresent(spte)) return 0;
  return isLeaf(spte) ? mirrorViewHash(level, gfn, MV_LEAF, pfnOf(spte))
    : mirrorViewHash(level, gfn, MV_TABLE, child?.externalSpt ?? -1);
}

/** scratch delta of subtree counts (storeSpte is not re-entrant) */
const DELTA = new Int32Array(5);

const CLASS_NAMES = ['NP', 'FROZEN', 'LEAF', 'NONLEAF'];
const SPTE_KEY_CACHE = new Map<number, string>();
const SEAM_KEY_CACHE = new Map<number, string>();
/** SEAMCALL result names seen so far (the fake module's error classes). */
const SEAM_RESULTS: string[] = ['SUCCESS', 'TDX_OPERAND_BUSY'];
/** indexOf for the coverage codes of every SEAMCALL (the same numbers, without a linear search) */
const SEAM_RESULT_INDEX = new Map<string, number>(SEAM_RESULTS.map((r, i) => [r, i]));
const OP_KIND_CODE = new Map<string, number>(OP_KINDS.map((k, i) => [k, i]));
const SEAMCALL_CODE = new Map<string, number>(SEAMCALL_NAMES.map((c, i) => [c, i]));
const LOCK_NAMES = ['none', 'read', 'write', '?'];
const LOCK_CODES: Record<string, number> = { none: 0, read: 1, write: 2 };
function classCode(spte: number): number {
  if (spte === 0) return 0;
  if (spte === FROZEN) return 1;
  if (!isPresent(spte)) return 0;
  return isNonLeaf(spte) ? 3 : 2;
}
import { FakeTdxModule } from '../machine/tdx_module';
import { KvmMmuPage, TdpIter, nextNonZero } from './sp';

/** Minimum fill of each per-vCPU cache (PT64_ROOT_MAX_LEVEL-ish: one SP per level of a walk). */
export const CACHE_MIN = 5;
/** Steps one op may take before the design is declared hung. */
export const STEP_BUDGET = 5_000_000;
/** Retry/spin iterations one op may take (each may issue SEAMCALLs, so keep it small). */
export const SPIN_BUDGET = 10_000;

export interface VcpuCaches { header: number[]; shadow: number[]; external: number[] }
export interface Vcpu { id: number; caches: VcpuCaches; mirrorRoot: KvmMmuPage | null; directRoot: KvmMmuPage | null }

export const RET_PF_FIXED = 'FIXED';
export const RET_PF_SPURIOUS = 'SPURIOUS';
export const RET_PF_RETRY = 'RETRY';
export type PfResult = 'FIXED' | 'SPURIOUS' | 'RETRY' | '-ENOMEM' | '-EIO' | '-EFAULT';

export const EBUSY = -16;
export const EIO = -5;
export const ENOMEM = -12;

export abstract class TdpMmuCore {
  readonly geo: Geometry;
  readonly ledger: Ledger;
  readonly rcu = new Rcu();
  readonly mmuLock = new MmuLock();
  readonly diag = new Diagnostics();
  readonly tdx: FakeTdxModule;
  readonly vcpus: Vcpu[] = [];
  /** kvm->arch.tdp_mmu_roots */
  roots: KvmMmuPage[] = [];
  /** page_private of each spt page */
  readonly spByPage = new Map<number, KvmMmuPage>();
  /** kvm->stat.pages[level]: leaf mappings per level */
  readonly stats = [0, 0, 0, 0, 0];
  /** tdp_mmu_pages (PROVE_MMU counter) = page tables accounted */
  tdpMmuPages = 0;
  /** guest_memfd: private gfn → pfn */
  readonly gmem = new Map<number, number>();
  destroyed = false;
  hostDead = false;
  /** TDX: vCPU entry refused while a "no vCPUs" SEAMCALL retry runs */
  waitForSeptZap = false;

  /**
   * trace_kvm_tdp_mmu_spte_changed events of the current op (mmutrace.h: kvm_tdp_mmu_spte_changed(
   * as_id, gfn, level, old, new)), flat in a reused buffer: (gfn, level + 8·mirror + 16 when a racing
   * op (another actor) made the change, old, new) per event, SPTE values canonical (a non-leaf's page
   * id is not compared: -1). The outcome carries only a rolling hash and the count; the list is
   * materialised (lastTrace) only when a report needs it. Reset by apply().
   */
  private traceBuf: number[] = [];
  protected traceLen = 0;
  protected traceHash = 0;
  /** the current actor's own rcu_read_lock section (re-taken when it yields); 0 outside one */
  protected opReader = 0;
  /** mmu_lock holders below this depth belong to other actors (the op a racing op interrupted) */
  protected lockBase = 0;

  protected planStack: FaultPlan[] = [FaultPlan.EMPTY];
  protected raceStack: (RacePlan | null)[] = [null];
  protected steps = 0;
  protected spins = 0;
  violations: Violation[] = [];
  readonly coverageSet = new Set<string>();
  /** kind of the op running (for coverage keys) */
  protected get curOp(): string { return OP_KINDS[this.curOpCode] ?? 'none'; }
  protected set curOp(kind: string) { this.curOpCode = OP_KIND_CODE.get(kind) ?? 0; }
  private curOpCode = 0;
  /** SPTE-transition codes (coverSpteTransition): op kind × tree × level × old class × new class × lock mode */
  private readonly spteCoverage = new CoverageBits();

  /** (op kind, SEAMCALL, result) codes (coverSeamcall) */
  private readonly seamCoverage = new CoverageBits();
  /** (op kind, SEAMCALL, result) coverage, as a small integer. */
  protected coverSeamcall(op: string, call: SeamcallName, result: string): void {
    let r = SEAM_RESULT_INDEX.get(result);
    if (r === undefined) { SEAM_RESULTS.push(result); r = SEAM_RESULTS.length - 1; SEAM_RESULT_INDEX.set(result, r); }
    this.seamCoverage.add(((OP_KIND_CODE.get(op) ?? 0) * 16 + (SEAMCALL_CODE.get(call) ?? -1)) * 64 + r);
  }

  /** Coverage: named transition classes plus the decoded SPTE-transition codes. */
  coverageKeys(): Set<string> {
    const out = new Set(this.coverageSet);
    for (const c of this.seamCoverage.members) {
      let key = SEAM_KEY_CACHE.get(c);
      if (!key) {
        key = `seam|${OP_KINDS[Math.floor(c / 1024)]}|${SEAMCALL_NAMES[Math.floor(c / 64) % 16]}|${SEAM_RESULTS[c % 64]}`;
        SEAM_KEY_CACHE.set(c, key);
      }
      out.add(key);
    }
    for (const c of this.spteCoverage.members) {
      const cached = SPTE_KEY_CACHE.get(c);
      if (cached) { out.add(cached); continue; }
      let x = c;
      const lock = LOCK_NAMES[x % 4]; x = Math.floor(x / 4);
      const nw = CLASS_NAMES[x % 4]; x = Math.floor(x / 4);
      const old = CLASS_NAMES[x % 4]; x = Math.floor(x / 4);
      const level = x % 8; x = Math.floor(x / 8);
      const mirror = x % 2 ? 'M' : 'D'; x = Math.floor(x / 2);
      const key = `spte|${OP_KINDS[x]}|${mirror}|L${level}|${old}>${nw}|${lock}`;
      SPTE_KEY_CACHE.set(c, key);
      out.add(key);
    }
    return out;
  }
  private spSerial = 0;

  constructor(readonly designName: string, readonly config: VmConfig) {
    this.geo = geometryOf(config.geometry);
    this.ledger = new Ledger(v => this.violations.push(v));
    this.tdx = new FakeTdxModule(this.geo, this.ledger, () => this.plan, v => this.violations.push(v));
    this.mmuLock.diag = this.diag;
    for (let i = 0; i < config.vcpus; i++) {
      this.vcpus.push({ id: i, caches: { header: [], shadow: [], external: [] }, mirrorRoot: null, directRoot: null });
    }
  }

  get plan(): FaultPlan { return this.planStack[this.planStack.length - 1]; }

  /** KVM has mirrored TDP (VM type TDX): always, in this model. */
  get hasMirroredTdp(): boolean { return true; }

  // ---------------------------------------------------------------- bookkeeping

  protected step(where: string): void {
    if (++this.steps > STEP_BUDGET) throw new HangError(where);
  }

  /** A retry or spin loop iteration ("goto retry"): livelocks are caught long before the walk budget. */
  protected spin(where: string): void {
    if (++this.spins > SPIN_BUDGET) throw new HangError(where);
  }

  protected cover(key: string): void { this.coverageSet.add(key); }

  /** A race point (DESIGN §2): the armed nested op, if any, runs to completion here. */
  protected racePoint(point: RacePoint, level: number): void {
    const plan = this.raceStack[this.raceStack.length - 1];
    if (!plan) return;
    const op = plan.reach(point, level);
    if (op) {
      this.cover(`race|${point}|${op.kind}`);
      this.runNested(op);
    }
  }

  /** Runs a racing op as another vCPU / actor; implemented by the op dispatcher. */
  protected abstract runNested(op: Op): void;

  /** Fault-plan consultation with coverage of what fired. */
  protected injectFault(point: 'topup' | 'splitAlloc' | 'cmpxchg' | 'yield'): boolean {
    const e = this.plan.consult(point);
    if (e) this.cover(`fault|${point}`);
    return e !== undefined;
  }

  // ---------------------------------------------------------------- SPTE access

  /** Digest contribution of one entry: page-table page ids never count, leaf pfns do. */
  private contrib(level: number, gfn: number, spte: number): number {
    if (spte === 0) return 0;
    if (spte === FROZEN) return hash4(level, gfn, 9, 0);
    if (isNonLeaf(spte)) return hash4(level, gfn, 5, 0);
    return hash4(level, gfn, flagsOf(spte) + 16, pfnOf(spte));
  }

  spteGfn(sp: KvmMmuPage, index: number): number { return sp.gfn + index * this.geo.span(sp.level); }

  /** spte_to_child_sp */
  childSp(spte: number): KvmMmuPage | undefined { return this.spByPage.get(pfnOf(spte)); }

  readSpte(sp: KvmMmuPage, index: number, site: string): number {
    if (this.opReader === 0 && this.mmuLock.depth <= this.lockBase) this.spteDerefUnprotected(site);
    this.ledger.use(sp.spt, site);
    return sp.entries[index];
  }

  /**
   * The one primitive that stores an SPTE (WRITE_ONCE / xchg / successful cmpxchg). Maintains the
   * reachability links and the XOR digests of every table above it, and records coverage.
   */
  protected storeSpte(sp: KvmMmuPage, index: number, newSpte: number, site: string): number {
    if (this.opReader === 0 && this.mmuLock.depth <= this.lockBase) this.spteDerefUnprotected(site);
    this.ledger.use(sp.spt, site);
    const old = sp.entries[index];
    if (old === newSpte) return old;
    sp.entries[index] = newSpte;
    if (old === 0) sp.nonzero[index >>> 5] |= 1 << (index & 31);
    else if (newSpte === 0) sp.nonzero[index >>> 5] &= ~(1 << (index & 31));
    const oldChild = isNonLeaf(old) ? this.spByPage.get(pfnOf(old)) : undefined;
    const newChild = isNonLeaf(newSpte) ? this.spByPage.get(pfnOf(newSpte)) : undefined;
    if (newChild?.stale) this.refreshStaleSubtree(newChild);
    this.coverSpteTransition(sp, old, newSpte);
    if (sp.removed && sp.linkedTo === null && !sp.isRoot) {
      // A table handle_removed_pt has taken off the tree: no digest or count above it can see this
      // store, so only the links are kept; the subtree values are rebuilt if it is ever linked again.
      if (oldChild?.linkedTo === sp) oldChild.linkedTo = null;
      if (newChild) newChild.linkedTo = sp;
      sp.stale = true;
      return old;
    }
    const gfn = sp.gfn + index * this.geo.span(sp.level);
    let delta = this.contrib(sp.level, gfn, old) ^ this.contrib(sp.level, gfn, newSpte);
    let mvDelta = sp.mirror ? mirrorView(sp.level, gfn, old, oldChild) ^ mirrorView(sp.level, gfn, newSpte, newChild) : 0;
    // Subtree counts (FROZEN entries, leaves per level) move with the digest, for cheap invariants.
    const dc = DELTA;
    // five stores, not fill(): a builtin call on every SPTE store
    dc[0] = 0; dc[1] = 0; dc[2] = 0; dc[3] = 0; dc[4] = 0;
    if (old === FROZEN) dc[0]--; else if (isLeaf(old)) dc[sp.level]--;
    if (newSpte === FROZEN) dc[0]++; else if (isLeaf(newSpte)) dc[sp.level]++;
    if (oldChild) {
      const c = oldChild;
      if (c.linkedTo === sp) {
        delta ^= c.sub;
        mvDelta ^= c.subMirrorView;
        c.linkedTo = null;
        for (let i = 0; i < 5; i++) dc[i] -= c.subCounts[i];
      }
    }
    if (newChild) {
      const c = newChild;
      delta ^= c.sub;
      mvDelta ^= c.subMirrorView;
      c.linkedTo = sp;
      for (let i = 0; i < 5; i++) dc[i] += c.subCounts[i];
    }
    for (let p: KvmMmuPage | null = sp; p; p = p.linkedTo) {
      p.sub ^= delta;
      p.subMirrorView ^= mvDelta;
      const pc = p.subCounts;
      pc[0] += dc[0]; pc[1] += dc[1]; pc[2] += dc[2]; pc[3] += dc[3]; pc[4] += dc[4];
    }
    return old;
  }

  /** Transition class (op, tree, level, old→new, lock mode) as a small integer: this is the hot path. */
  private coverSpteTransition(sp: KvmMmuPage, old: number, newSpte: number): void {
    this.spteCoverage.add(((((this.curOpCode * 2 + (sp.mirror ? 1 : 0)) * 8 + sp.level) * 4 + classCode(old)) * 4 + classCode(newSpte)) * 4
      + LOCK_CODES[this.mmuLock.mode]);
  }

  /**
   * A removed table's digest, mirror view and counts, rebuilt from its entries and the tables linked
   * below it (storeSpte stopped keeping them once it was off the tree). Only a design that links a
   * removed table again needs this.
   */
  private refreshStaleSubtree(sp: KvmMmuPage): void {
    let sub = 0, mv = 0;
    const counts = sp.subCounts;
    counts.fill(0);
    const span = this.geo.span(sp.level);
    for (let i = nextNonZero(sp.nonzero, 0, this.geo.fanout); i >= 0; i = nextNonZero(sp.nonzero, i + 1, this.geo.fanout)) {
      const e = sp.entries[i];
      const gfn = sp.gfn + i * span;
      sub ^= this.contrib(sp.level, gfn, e);
      if (e === FROZEN) counts[0]++; else if (isLeaf(e)) counts[sp.level]++;
      const child = isNonLeaf(e) ? this.spByPage.get(pfnOf(e)) : undefined;
      if (sp.mirror) mv ^= mirrorView(sp.level, gfn, e, child);
      if (child && child.linkedTo === sp) {
        if (child.stale) this.refreshStaleSubtree(child);
        sub ^= child.sub;
        mv ^= child.subMirrorView;
        for (let l = 0; l < 5; l++) counts[l] += child.subCounts[l];
      }
    }
    sp.sub = sub;
    sp.subMirrorView = mv;
    sp.stale = false;
  }

  /**
   * cmpxchg64(sptep, iter->old_spte, new): fails when the SPTE changed under us, or when the
   * fault plan injects contention (F3). On failure iter->old_spte is refreshed.
   */
  protected cmpxchgSpte(iter: TdpIter, newSpte: number): boolean {
    this.racePoint('install', iter.level);
    const cur = this.readSpte(iter.sp, iter.index, 'cmpxchg');
    if (cur !== iter.oldSpte || this.injectFault('cmpxchg')) {
      iter.oldSpte = cur;
      this.cover(`cmpxchg-fail|L${iter.level}|${iter.sp.mirror ? 'M' : 'D'}`);
      return false;
    }
    this.storeSpte(iter.sp, iter.index, newSpte, 'cmpxchg');
    return true;
  }

  /** kvm_tdp_mmu_write_spte: xchg or plain store; returns the real old value. */
  protected kvmTdpMmuWriteSpte(sp: KvmMmuPage, index: number, newSpte: number): number {
    return this.storeSpte(sp, index, newSpte, 'kvm_tdp_mmu_write_spte');
  }

  // ---------------------------------------------------------------- execution context (kernel-model §1.6)
  //
  // Every model function runs as one actor: a process (a vCPU or ioctl: mmu_lock read/write or none,
  // inside its own RCU read-side section or not) or an RCU callback (softirq, rcu_do_batch). A racing
  // op is another actor: it does not inherit the interrupted op's lock or RCU section.

  /** Whether the current actor holds mmu_lock (either mode). */
  protected mmuLockHeldByActor(): boolean { return this.mmuLock.depth > this.lockBase; }

  /**
   * An SPTE pointer dereferenced (rcu_dereference(sptep), is_mirror_sptep → sptep_to_sp) outside an
   * RCU read-side section and without mmu_lock: the page-table page may be freed under the reader
   * (tdp_iter.c: every walker holds rcu_read_lock; lockdep's RCU "suspicious rcu_dereference_check() usage").
   */
  protected spteDerefUnprotected(site: string): void {
    this.diag.lockdep(false, `rcu:${site}`, this.rcu.inCallback ? 'spte-deref-in-rcu-callback' : 'spte-deref-outside-rcu');
  }

  /**
   * might_sleep() of a GFP_KERNEL(_ACCOUNT) allocation: illegal in softirq (the RCU callback), under
   * mmu_lock (an rwlock: spinning) and inside an RCU read-side section ("BUG: sleeping function called
   * from invalid context"; tdp_mmu.c:tdp_mmu_split_huge_pages_root drops both before allocating).
   */
  protected mightSleep(site: string): void {
    if (this.rcu.inCallback) this.diag.lockdep(false, site, 'sleeping-alloc-in-softirq');
    else if (this.mmuLockHeldByActor()) this.diag.lockdep(false, site, 'sleeping-alloc-under-mmu_lock');
    else if (this.opReader !== 0) this.diag.lockdep(false, site, 'sleeping-alloc-in-rcu-read-section');
  }

  /** is_mirror_sptep(sptep): is_mirror_sp(sptep_to_sp(sptep)) — a dereference of the SPTE pointer. */
  protected isMirrorSptep(sptep: { sp: KvmMmuPage; index: number }): boolean {
    if (this.opReader === 0 && !this.mmuLockHeldByActor()) this.spteDerefUnprotected('is_mirror_sptep');
    return sptep.sp.mirror;
  }

  /**
   * Runs fn as an RCU callback: softirq context, no mmu_lock, no RCU read-side section of its own.
   * A SEAMCALL from here (TDX SEAMCALLs need a TD-context-safe path and may spin on TDX_OPERAND_BUSY;
   * DPAMT's put takes pamt_lock, which is not softirq-safe: Yan on RFC v5 20/45, series.md §4a) is
   * reported as a lockdep-style diagnostic.
   */
  protected inRcuCallback(site: string, fn: () => void): void {
    const savedReader = this.opReader, savedBase = this.lockBase;
    this.opReader = 0;
    this.lockBase = this.mmuLock.depth;
    const calls = this.tdx.log.length;
    this.rcu.inCallback++;
    this.mmuLock.softirq++;
    try {
      fn();
    } finally {
      this.rcu.inCallback--;
      this.mmuLock.softirq--;
      this.opReader = savedReader;
      this.lockBase = savedBase;
    }
    if (this.tdx.log.length !== calls) {
      this.diag.lockdep(false, site, 'seamcall-in-softirq');
    }
  }

  // ---------------------------------------------------------------- tracepoints

  /**
   * trace_kvm_tdp_mmu_spte_changed (mmutrace.h), called from handle_changed_spte (tdp_mmu.c): one
   * event per handled change. Recorded as four numbers appended to the op's trace.
   */
  protected traceKvmTdpMmuSpteChanged(sp: KvmMmuPage, gfn: number, level: number, oldSpte: number, newSpte: number): void {
    const lvl = level + (sp.mirror ? 8 : 0) + (this.raceStack.length > 1 ? 16 : 0);
    const o = isNonLeaf(oldSpte) ? -1 : oldSpte, n = isNonLeaf(newSpte) ? -1 : newSpte;
    const buf = this.traceBuf;
    const at = this.traceLen;
    if (at === buf.length) buf.push(gfn, lvl, o, n);
    else { buf[at] = gfn; buf[at + 1] = lvl; buf[at + 2] = o; buf[at + 3] = n; }
    this.traceLen = at + 4;
    this.traceHash = hash4(hash4(this.traceHash, gfn, lvl, o), n, at, 0);
  }

  /** The last op's trace events, flat (gfn, level code, old, new); valid until the next op. */
  lastTrace(): number[] { return this.traceBuf.slice(0, this.traceLen); }

  // ---------------------------------------------------------------- allocation (kernel-model §1.4)

  /** mmu_topup_memory_caches: before taking mmu_lock; F1 makes it fail with -ENOMEM. */
  protected mmuTopupMemoryCaches(vcpu: Vcpu): number {
    this.mightSleep('mmu.c:mmu_topup_memory_caches');
    if (this.injectFault('topup')) return ENOMEM;
    const c = vcpu.caches;
    while (c.header.length < CACHE_MIN) c.header.push(this.ledger.alloc('header', `vcpu${vcpu.id} mmu_page_header_cache`));
    while (c.shadow.length < CACHE_MIN) c.shadow.push(this.ledger.alloc('shadow', `vcpu${vcpu.id} mmu_shadow_page_cache`));
    if (this.hasMirroredTdp) {
      while (c.external.length < CACHE_MIN) c.external.push(this.externalCacheAlloc(vcpu));
    }
    return 0;
  }

  /** Where the external-page cache is filled from: KVM's own pages (mutants may change the pool). */
  protected externalCacheAlloc(vcpu: Vcpu): number {
    return this.ledger.alloc('external', `vcpu${vcpu.id} mmu_external_spt_cache`);
  }

  /** kvm_mmu_memory_cache_alloc: cannot fail after a successful top-up (WARN + atomic alloc otherwise). */
  protected kvmMmuMemoryCacheAlloc(vcpu: Vcpu, cache: keyof VcpuCaches): number {
    const c = vcpu.caches[cache];
    if (c.length === 0) {
      this.diag.warnOnce(true, `mmu.c:kvm_mmu_memory_cache_alloc:${cache}`, 'cache-empty');
      const pool = cache === 'header' ? 'header' : cache === 'shadow' ? 'shadow' : 'external';
      return this.ledger.alloc(pool, `vcpu${vcpu.id} atomic fallback`);
    }
    return c.pop()!;
  }

  protected newSp(spt: number, header: number, level: number, mirror: boolean, isRoot: boolean): KvmMmuPage {
    const sp = new KvmMmuPage(++this.spSerial, spt, header, level, mirror, isRoot, this.geo.fanout);
    this.spByPage.set(spt, sp);
    return sp;
  }

  /** tdp_mmu_alloc_sp: header + spt from the vCPU caches. */
  protected tdpMmuAllocSp(vcpu: Vcpu, level: number, mirror: boolean, isRoot = false): KvmMmuPage {
    const header = this.kvmMmuMemoryCacheAlloc(vcpu, 'header');
    const spt = this.kvmMmuMemoryCacheAlloc(vcpu, 'shadow');
    this.ledger.setPurpose(header, 'sp header');
    const sp = this.newSp(spt, header, level, mirror, isRoot);
    this.ledger.setPurpose(spt, new SptOf(sp));
    return sp;
  }

  /**
   * tdp_mmu_init_child_sp: role = parent role with level − 1, gfn = iter->gfn, ptep = iter->sptep.
   * A split SP is allocated before it knows which huge leaf it will replace, so the level is set here.
   */
  protected tdpMmuInitChildSp(sp: KvmMmuPage, iter: TdpIter): void {
    sp.level = iter.level - 1;
    sp.gfn = iter.gfn;
    sp.ptep = { sp: iter.sp, index: iter.index };
  }

  /** kvm_mmu_alloc_external_spt: only for mirror SPs, from the external cache (not zeroed). */
  protected kvmMmuAllocExternalSpt(vcpu: Vcpu, sp: KvmMmuPage): void {
    sp.externalSpt = this.kvmMmuMemoryCacheAlloc(vcpu, 'external');
    this.ledger.setPurpose(sp.externalSpt, new ExternalOf(sp));
  }

  /**
   * tdp_mmu_alloc_sp_for_split: header via kmem_cache_zalloc, spt via a fresh page; may fail (F2).
   * Mainline allocates no external page; Sean's huge-page series does for mirror splits.
   */
  protected tdpMmuAllocSpForSplit(level: number, mirror: boolean): KvmMmuPage | null {
    this.mightSleep('tdp_mmu.c:tdp_mmu_alloc_sp_for_split');
    if (this.injectFault('splitAlloc')) return null;
    const header = this.ledger.alloc('header', 'sp header (split)');
    const spt = this.ledger.alloc('split', `${mirror ? 'mirror' : 'direct'} spt L${level} (split)`);
    const sp = this.newSp(spt, header, level, mirror, false);
    if (mirror && this.config.hugePages) sp.externalSpt = this.splitExternalSptAlloc(sp);
    return sp;
  }

  /** The huge-page series' external page for a mirror split: a KVM page, not a TDX prealloc page. */
  protected splitExternalSptAlloc(sp: KvmMmuPage): number {
    return this.ledger.alloc('split', `external_spt of ${sp} (split)`);
  }

  /** free_page() */
  protected freePage(id: number, site: string): void { this.ledger.free(id, 'page', site); }
  /** kmem_cache_free(mmu_page_header_cache, sp) */
  protected freeHeader(id: number, site: string): void { this.ledger.free(id, 'headerCache', site); }

  // ---------------------------------------------------------------- accounting

  /** kvm_update_page_stats */
  protected kvmUpdatePageStats(level: number, delta: number): void { this.stats[level] += delta; }

  /** tdp_account_mmu_page */
  protected tdpAccountMmuPage(sp: KvmMmuPage): void { sp.accounted = true; this.tdpMmuPages++; }
  /** tdp_unaccount_mmu_page */
  protected tdpUnaccountMmuPage(sp: KvmMmuPage): void { if (sp.accounted) { sp.accounted = false; this.tdpMmuPages--; } }

  /** tdp_mmu_unlink_sp: unaccount; untrack NX under tdp_mmu_pages_lock. */
  protected tdpMmuUnlinkSp(sp: KvmMmuPage): void {
    this.tdpUnaccountMmuPage(sp);
    sp.nxTracked = false;
  }

  // ---------------------------------------------------------------- lock assertions

  protected lockdepAssertHeldWrite(site: string): void {
    this.diag.lockdep(this.mmuLock.isHeldWrite(), site, 'mmu_lock-not-held-for-write');
  }
  protected lockdepAssertHeldRead(site: string): void {
    this.diag.lockdep(this.mmuLock.isHeldRead(), site, 'mmu_lock-not-held-for-read');
  }
  protected lockdepAssertHeld(site: string): void {
    this.diag.lockdep(this.mmuLock.isHeld(), site, 'mmu_lock-not-held');
  }

  // ---------------------------------------------------------------- helpers shared by the flows

  get rootLevel(): number { return ROOT_LEVEL; }

  /** Guest page for a private gfn (kvm_gmem_get_pfn); huge-page mode allocates aligned 2M folios. */
  protected kvmGmemGetPfn(gfn: number, level: number): number {
    const blk = this.config.hugePages ? this.geo.span(2) : 1;
    const base = gfn - (gfn % blk);
    if (!this.gmem.has(base)) {
      for (let i = 0; i < blk; i++) this.gmem.set(base + i, this.ledger.alloc('gmem', `guest_memfd page gfn 0x${(base + i).toString(16)}`));
    }
    return this.gmem.get(this.geo.align(gfn, level))!;
  }

  /** Host pfn backing a shared gfn (not a ledger page: ordinary host memory). */
  protected hostPfn(gfn: number): number { return 0x10000000000 + gfn; }

}
