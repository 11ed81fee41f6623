// The design API: everything the harness may know about a model. The harness drives designs only
// through these types (DESIGN §3, §4); impls/ never imports harness/.

export type GeometryName = 'x86' | 'compact';

export interface VmConfig {
  /** x86: 4 levels × 512 entries; compact: 4 levels × 8 entries (collisions and splits are frequent). */
  geometry: GeometryName;
  /** Model Sean's TDX huge-page series: 2M private leaves, mirror split with DEMOTE (kernel-model §2.11). */
  hugePages: boolean;
  /** Number of vCPUs (each has its own memory caches). */
  vcpus: number;
  /**
   * CONFIG_KVM_PROVE_MMU: tdp_mmu_zap_root skips its 4K and 2M passes, so zapping a root recurses
   * through handle_removed_pt over whole subtrees (kernel-model §2.9). Absent = false.
   */
  proveMmu?: boolean;
  /**
   * Dynamic PAMT (tdx-module.md §3; "Dynamic PAMT" v6, Rick Edgecombe): per-2M PAMT reference counts,
   * a PAMT page pair per referenced region, tdx_pamt_get/put around the S-EPT and 4K guest SEAMCALLs,
   * under a pamt_lock that is not softirq-safe (impls/machine/dpamt.ts). Absent = false.
   */
  dpamt?: boolean;
}

export const DEFAULT_CONFIG: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };

/** Levels of every geometry's paging structures: level 1 is the 4K leaf level, level 4 the root table. */
export const PAGING_LEVELS = 4;
/** Entries per page table, by geometry (the one statement of the fan-out; the models and the harness read it). */
export const GEOMETRY_FANOUT: Readonly<Record<GeometryName, number>> = { x86: 512, compact: 8 };

/** SEAMCALLs of the fake TDX module (DESIGN §2). */
export type SeamcallName =
  | 'SEPT.ADD' | 'PAGE.AUG' | 'PAGE.ADD' | 'RANGE.BLOCK' | 'TRACK' | 'PAGE.REMOVE'
  | 'PHYMEM.PAGE.WBINVD' | 'PHYMEM.PAGE.RECLAIM' | 'PAGE.DEMOTE'
  | 'MNG.VPFLUSHDONE' | 'PHYMEM.CACHE.WB' | 'MNG.KEY.FREEID';

export const SEAMCALL_NAMES: readonly SeamcallName[] = [
  'SEPT.ADD', 'PAGE.AUG', 'PAGE.ADD', 'RANGE.BLOCK', 'TRACK', 'PAGE.REMOVE',
  'PHYMEM.PAGE.WBINVD', 'PHYMEM.PAGE.RECLAIM', 'PAGE.DEMOTE',
  'MNG.VPFLUSHDONE', 'PHYMEM.CACHE.WB', 'MNG.KEY.FREEID',
];

/**
 * Fault-plan entry (kernel-model §4.2). `nth` counts occurrences of the point within the op that
 * carries the entry (1-based, default 1).
 *  - topup       F1  cache top-up fails → -ENOMEM before any lock
 *  - splitAlloc  F2  tdp_mmu_alloc_sp_for_split fails → -ENOMEM
 *  - cmpxchg     F3  the nth atomic install/freeze loses its cmpxchg (contention)
 *  - seamcall    F6/F7/F8  the nth call of `call` returns `error` (BUSY or a non-BUSY error)
 *  - reclaim     F9  the nth PHYMEM.PAGE.RECLAIM fails
 *  - hkidRelease F11 tdx_mmu_release_hkid fails (MNG.KEY.FREEID); the hkid stays assigned
 *  - vpFlush     F11 the nth vCPU stays associated through tdx_flush_vp (its task migrated: vcpu->cpu is
 *                not this CPU, tdx.c tdx_flush_vp), so MNG.VPFLUSHDONE returns TDX_FLUSHVP_NOT_DONE
 *  - yield       F13 the nth tdp_mmu_iter_cond_resched yields; the walk restarts at the root
 */
export type FaultPoint = 'topup' | 'splitAlloc' | 'cmpxchg' | 'seamcall' | 'reclaim' | 'hkidRelease' | 'vpFlush' | 'yield';
export const FAULT_POINTS: readonly FaultPoint[] = ['topup', 'splitAlloc', 'cmpxchg', 'seamcall', 'reclaim', 'hkidRelease', 'vpFlush', 'yield'];

export interface FaultEntry {
  at: FaultPoint;
  nth?: number;
  /** only for at = 'seamcall' */
  call?: SeamcallName;
  /** only for at = 'seamcall'; default BUSY */
  error?: 'BUSY' | 'ERROR';
}

/**
 * Race points (DESIGN §2): the same semantic points in both designs.
 *  - walk       before a walk reads the SPTE at `level`
 *  - install    just before an atomic install (cmpxchg) at `level`
 *  - frozen     while a mirror SPTE at `level` is FROZEN around the TDX call
 *  - removedPt  inside handle_removed_pt in shared mode, before an entry of a level-`level` table is frozen
 *  - zapRetry   at __tdp_mmu_zap_root's "goto retry" after a failed atomic zap of a level-`level` entry
 *               (the same iterator is reused: iter.old_spte must have been refreshed)
 *  - splitAlloc inside tdp_mmu_split_huge_pages_root's allocation window, mmu_lock and RCU dropped,
 *               for a huge leaf at `level`
 */
export type RacePoint = 'walk' | 'install' | 'frozen' | 'removedPt' | 'zapRetry' | 'splitAlloc';
export const RACE_POINTS: readonly RacePoint[] = ['walk', 'install', 'frozen', 'removedPt', 'zapRetry', 'splitAlloc'];

/**
 * Op kinds that may run as a nested (racing) op: another vCPU, a lockless/RCU actor, or an unmap
 * (conversion, punch hole). A nested op that cannot take mmu_lock in its mode at that point is skipped.
 */
export const RACE_OP_KINDS = ['fault', 'zap', 'age', 'rcuRead', 'rcuUnlock', 'gracePeriod'] as const;

export interface Race {
  at: RacePoint;
  /** only fire at this level (any level when absent) */
  level?: number;
  /** fire at the nth time the point (and level) is reached; default 1 */
  nth?: number;
  /** the nested op; it runs to completion when the point is reached. It may not carry a race itself. */
  op: Op;
}

interface OpCommon { fail?: FaultEntry[]; race?: Race }

/** A vCPU fault: kvm_tdp_mmu_page_fault (+ TDX's local retry loop for private GPAs). */
export interface FaultOp extends OpCommon { kind: 'fault'; vcpu: number; gfn: number; private: boolean; write: boolean; maxLevel: number }
/** Unmap [start, end) under the write lock: conversion, gmem punch hole, memslot removal. */
export interface ZapOp extends OpCommon { kind: 'zap'; start: number; end: number; attr: 'private' | 'shared' | 'both' }
/** Eager huge-page split of [start, end) down to targetLevel. */
export interface SplitOp extends OpCommon { kind: 'split'; start: number; end: number; targetLevel: number; private: boolean; shared: boolean }
/** MMU-notifier aging of [start, end). `mirror` ages mirror roots too (extended domain only). */
export interface AgeOp extends OpCommon { kind: 'age'; start: number; end: number; mirror: boolean }
/** kvm_mmu_zap_all_fast: invalidate direct roots, zap them under the read lock. */
export interface InvalidateDirectOp extends OpCommon { kind: 'invalidateDirect' }
/** KVM_TDX_FINALIZE_VM: the TD becomes RUNNABLE. */
export interface FinalizeOp extends OpCommon { kind: 'finalize' }
/** A lockless walker enters an RCU read section and holds the path to gfn. */
export interface RcuReadOp extends OpCommon { kind: 'rcuRead'; walker: number; gfn: number; private: boolean }
/** The walker touches its path again and leaves its read section. */
export interface RcuUnlockOp extends OpCommon { kind: 'rcuUnlock'; walker: number }
/** One RCU grace period elapses: callbacks whose readers have all left run. */
export interface GracePeriodOp extends OpCommon { kind: 'gracePeriod' }
/** vt_vm_pre_destroy → tdx_mmu_release_hkid. */
export interface ReleaseHkidOp extends OpCommon { kind: 'releaseHkid' }
/** VM destruction: gmem close zaps private leaves, release hkid, destroy, uninit TDP MMU, rcu_barrier. */
export interface DestroyOp extends OpCommon { kind: 'destroy' }
/** Extended domain: an atomic (shared-lock) zap of the entry covering gfn at `level` — misuse the kernel never does (D6/D7). */
export interface AtomicZapOp extends OpCommon { kind: 'atomicZap'; gfn: number; level: number; private: boolean }

export type Op = FaultOp | ZapOp | SplitOp | AgeOp | InvalidateDirectOp | FinalizeOp | RcuReadOp | RcuUnlockOp
  | GracePeriodOp | ReleaseHkidOp | DestroyOp | AtomicZapOp;
export type OpKind = Op['kind'];
export const OP_KINDS: readonly OpKind[] = ['fault', 'zap', 'split', 'age', 'invalidateDirect', 'finalize', 'rcuRead',
  'rcuUnlock', 'gracePeriod', 'releaseHkid', 'destroy', 'atomicZap'];

/** Design-independent diagnostic categories: what went wrong, not which file noticed it. */
export type DiagKind = 'WARN' | 'WARN_ON_ONCE' | 'KVM_BUG_ON' | 'TDX_BUG_ON' | 'BUG' | 'lockdep';
export interface Diagnostic {
  kind: DiagKind;
  /** stable site id, e.g. "tdp_mmu.c:handle_removed_pt:free_external_spt" */
  site: string;
  /** design-independent category, e.g. "hkid-assigned-pt-free", "reclaim-failed" */
  category: string;
  /** false when suppressed (WARN_ON_ONCE already fired, VM already bugged) */
  printed: boolean;
  detail?: string;
}

export interface SeamcallRecord {
  call: SeamcallName;
  args: string;
  result: string;
  /**
   * the kernel function that issued it (tdx.c name: tdx_sept_remove_private_spte, tdx_track, …), for
   * reports only. Never compared, hashed or part of a signature: the designs issue the same SEAMCALL
   * from differently named functions on purpose (kernel-model §3.1 D1).
   */
  by: string;
}

/** Memory-safety or invariant violations detected by the machine itself (ledger, RCU, TDX module). */
export interface Violation {
  kind: 'double-free' | 'tdx-owned-free' | 'wrong-pool' | 'use-after-free' | 'leaked-free' | 'frozen-reachable'
    | 'mirror-sept-mismatch' | 'stats-mismatch' | 'reclaim-order' | 'host-bug' | 'hang'
    /** a page freed or given to the TDX module again before its cache lines were written back (WBINVD) */
    | 'tdx-dirty-page';
  /** where it was noticed (kernel function or model site), stable across runs */
  site: string;
  detail: string;
}

/** Ledger counts by category. */
export interface LedgerCounts {
  [category: string]: number;
}

export interface VmState { bugged: boolean; hkid: number; tdState: string; destroyed: boolean }

/** What one op did, as seen from outside. */
export interface OpOutcome {
  result: string;
  seamcalls: SeamcallRecord[];
  diagnostics: Diagnostic[];
  violations: Violation[];
  /**
   * trace_kvm_tdp_mmu_spte_changed events of the op: a rolling hash of the sequence (0 when none) and
   * their count. Compared under `strict` only; the events themselves come from
   * DesignInstance.lastTrace() and are attached as `traceList` when a report needs them.
   */
  trace: number;
  traceCount: number;
  /**
   * the events, flat: (gfn, level + 8 if mirror + 16 if a racing op made it, old, new) per event;
   * old/new canonical (a non-leaf is -1: page-table page ids do not compare). Filled on demand.
   */
  traceList?: readonly number[];
  /** a model step budget was exceeded (livelock) */
  hang: boolean;
}

/** Cheap per-op digests; equal digests mean equal canonical state (up to hash collisions). */
export interface Digests {
  mirror: number; sept: number; direct: number; guest: number;
  /** ledger counts with pending-RCU frees counted as freed */
  ledger: number;
  /** bugged, hkid, TD state, destroyed, page-table accounting */
  vm: number;
  /** kvm->stat.pages[] (leaf mappings per level) */
  stats: number;
  /** whether the VM is bugged (for the explained-difference matchers) */
  bugged: boolean;
  /** pages held by RCU callbacks queued and not yet run (strict equivalence only: the free-timing change D2) */
  pendingRcu: number;
}

/** Canonical state dump (built only on digest mismatch or for reports). */
export interface Snapshot {
  mirror: string[];
  sept: string[];
  direct: string[];
  guest: string[];
  vm: VmState;
  ledger: LedgerCounts;
  pendingRcu: number;
}

/** A page still allocated after teardown. */
export interface LeakedPage {
  /** the pool it was allocated from ("gmem", "external", …) */
  pool: string;
  /** one readable line: id, pool, owner, purpose */
  page: string;
}

/** End-of-run accounting for the leak oracle. */
export interface LeakReport {
  /** pages neither freed nor leaked on purpose */
  leaked: LeakedPage[];
  /** pages deliberately leaked (reclaim failure, hkid assigned) */
  leakedOnPurpose: string[];
}

/** One running VM of one design. */
export interface DesignInstance {
  readonly design: string;
  apply(op: Op): OpOutcome;
  digests(): Digests;
  snapshot(): Snapshot;
  /** per-design invariant check (FROZEN reachable, mirror/S-EPT consistency); cheap enough per op */
  checkInvariants(): Violation[];
  leakReport(): LeakReport;
  /** the kvm_tdp_mmu_spte_changed events of the last applied op (OpOutcome.traceList's format) */
  lastTrace?(): readonly number[];
  /** transition classes reached (coverage for the guided engine) */
  coverage(): Set<string>;
  /**
   * The kvm_stat page counters [pages_4k, pages_2m, pages_1g]: the snapshot's ledger `stats.*`
   * without building a snapshot (the harness reads them on every op once a stats lag is explained).
   * Optional: without it the harness takes them from snapshot().
   */
  pageStats?(): readonly number[];
  /**
   * The patches of the TDX MMU refactors series this instance has applied, in series order
   * (impls/series/: 'P1'..'P15', 'v1-P7', 'v2-P9'): [] for before, P1..P15 for after and its
   * mutants, the step's list for a series step. Absent for a user's design that does not say.
   */
  readonly patches?: readonly string[];
}

/** A design: a factory of instances. A user's variant module exports one of these. */
export interface Design {
  name: string;
  description: string;
  create(config: VmConfig): DesignInstance;
}
