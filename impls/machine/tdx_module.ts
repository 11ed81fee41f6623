// The fake TDX module (DESIGN §2, kernel-model §1.5, §2.13): the S-EPT tree, hkid and TD state, PAMT-
// style ownership of the pages it was given (through the ledger), and the SEAMCALLs, each checking its
// architectural preconditions and returning a real error class. Every call is logged, with the kernel function that issued it.
import type { SeamcallName, SeamcallRecord, Violation } from '../api';
import type { FaultPlan } from './fault_plan';
import type { Geometry } from './geometry';
import { hash4 } from './hash';
import { MV_BLOCKED, MV_LEAF, MV_TABLE, mirrorViewHash } from './mirror_view';
import { Ledger, Owner } from './ledger';
import {
  ANY_BLOCKED, BLOCK_TRANSITION, LIFECYCLE_TABLE, MAPPED_BY, NEEDS_BLOCK_AND_TRACK_WHEN_RUNNABLE, OP_STATE_TABLE, SEPT_STATE_TABLE, unblocked,
  type Lifecycle, type LifecycleCall, type MemLeaf, type SeptState,
} from './tdx_tables';

export type TdxStatus =
  | 'SUCCESS'
  | 'TDX_OPERAND_BUSY'
  | 'TDX_EPT_ENTRY_STATE_INCORRECT'   // entry state not accepted by the call (sept_state_lookup.c)
  | 'TDX_EPT_WALK_FAILED'             // the walk to the level meets a FREE or NL_BLOCKED entry or a leaf
  | 'TDX_OP_STATE_INCORRECT'          // op state forbids it (op_state_lookup.c: ADD after FINALIZE)
  | 'TDX_GPA_RANGE_NOT_BLOCKED'       // REMOVE/DEMOTE of an unblocked leaf in RUNNABLE
  | 'TDX_GPA_RANGE_ALREADY_BLOCKED'   // BLOCK of a blocked entry (bit 63 clear; KVM still fails on it)
  | 'TDX_TLB_TRACKING_NOT_DONE'       // REMOVE/DEMOTE without TRACK after BLOCK, in RUNNABLE
  | 'TDX_PAGE_METADATA_INCORRECT'     // PAMT: page not in the expected owner state
  | 'TDX_LIFECYCLE_STATE_INCORRECT'   // TDR lifecycle forbids it (RECLAIM before TEARDOWN, FREEID before BLOCKED)
  | 'TDX_TD_KEYS_NOT_CONFIGURED'      // a MEM call after VPFLUSHDONE (lifecycle BLOCKED or TEARDOWN)
  | 'TDX_TD_ASSOCIATED_PAGES_EXIST'   // RECLAIM of the TDR while it still has children (chldcnt ≠ 0)
  | 'TDX_FLUSHVP_NOT_DONE'            // VPFLUSHDONE while a vCPU is still associated
  | 'TDX_WBCACHE_NOT_COMPLETE'        // FREEID while a package still has to run PHYMEM.CACHE.WB
  | 'TDX_NO_HKID_READY_TO_WBCACHE'    // CACHE.WB with nothing to write back (not an error: bit 63 clear)
  | 'TDX_OPERAND_INVALID';            // injected non-BUSY error (F8)

/**
 * The observable TD state: the TDCS op_state (INITIALIZED, RUNNABLE) until VPFLUSHDONE, then the TDR
 * lifecycle (BLOCKED, TEARDOWN), DESTROYED once the TDR is reclaimed.
 */
export type TdState = 'INITIALIZED' | 'RUNNABLE' | 'BLOCKED' | 'TEARDOWN' | 'DESTROYED';

/** A non-leaf entry: NL_MAPPED, or NL_BLOCKED after RANGE.BLOCK (tdh_mem_range_block.c L39-65). */
interface SeptTable { kind: 'table'; level: number; gfn: number; page: number; blocked: boolean; blockEpoch: number }
/** A leaf: MAPPED (PAGE.ADD) or PENDING (PAGE.AUG), each possibly BLOCKED. */
interface SeptLeaf { kind: 'leaf'; level: number; gfn: number; pfn: number; blocked: boolean; blockEpoch: number; pending: boolean }
type SeptEntry = SeptTable | SeptLeaf;

const ROOT = 4;

export class FakeTdxModule {
  /** TDCS op_state: INITIALIZED from MNG.INIT, RUNNABLE from MR.FINALIZE (tdh_mr_finalize.c L171) */
  opState: 'INITIALIZED' | 'RUNNABLE' = 'INITIALIZED';
  /** TDR lifecycle_state: BLOCKED from VPFLUSHDONE (tdh_mng_vpflushdone.c L127), TEARDOWN from FREEID (tdh_mng_key_freeid.c L107) */
  private lifecycle: Lifecycle = 'KEYS_CONFIGURED';
  /** the TDR page was reclaimed (PT_NDA): every later call naming it fails its PAMT check (helpers.c L180-185) */
  private tdrReclaimed = false;
  /**
   * TDR.chldcnt: every 4K page the TD owns (tdx-module.md §1.7): MNG.ADDCX +1 (tdh_mng_add_cx.c L185),
   * SEPT.ADD +1 (tdh_mem_sept_add.c L56), PAGE.AUG +512^lvl (tdh_mem_page_aug.c L180), PAGE.ADD +1
   * (tdh_mem_page_add.c L223), DEMOTE +1 (tdh_mem_page_demote.c L408-412); PAGE.REMOVE −512^lvl
   * (tdh_mem_page_remove.c L220), RECLAIM of a child −1 (tdh_phymem_page_reclaim.c L148).
   */
  private chldcnt = 0;
  /** vCPUs associated with a CPU (TDVPR); VP.FLUSH disassociates (not a logged call) */
  private associatedVcpus = new Set<number>();
  /** wbinvd_bitmap ≠ 0: set by VPFLUSHDONE (L124), cleared by CACHE.WB (tdh_phymem_cache_wb.c L180-191); one package */
  private wbcachePending = false;
  hkid = 1;
  private epoch = 1;
  private sept = new Map<number, SeptEntry>();
  private tableByPage = new Map<number, SeptTable>();
  /** S-EPT tables reclaimed so far (key), for the children-first check */
  private reclaimedTables = new Set<number>();
  /** TDR and TDCS pages, owned by the module from KVM_TDX_INIT_VM */
  readonly tdr: number;
  readonly tdcs: number[];
  log: SeamcallRecord[] = [];
  /** the kernel function issuing the current call: each logged call's first parameter sets it (SeamcallRecord.by) */
  private by = '';
  septDigest = 0;
  guestDigest = 0;
  /** XOR of the entries' mirror-view hashes: equals the valid mirror root's when the trees agree */
  mirrorViewDigest = 0;

  constructor(private readonly geo: Geometry, private readonly ledger: Ledger,
              private readonly plan: () => FaultPlan, private readonly report: (v: Violation) => void) {
    this.tdr = ledger.alloc('tdxControl', 'TDR', Owner.Tdx);
    this.tdcs = [ledger.alloc('tdxControl', 'TDCS', Owner.Tdx), ledger.alloc('tdxControl', 'TDCS', Owner.Tdx)];
    this.chldcnt = this.tdcs.length; // MNG.ADDCX: chldcnt+1 per TDCS page (tdh_mng_add_cx.c L185)
  }

  get hkidAssigned(): boolean { return this.hkid > 0; }

  /** The observable TD state (see TdState). */
  get tdState(): TdState {
    if (this.tdrReclaimed) return 'DESTROYED';
    return this.lifecycle === 'KEYS_CONFIGURED' ? this.opState : this.lifecycle;
  }

  /** TDH.VP.FLUSH of one vCPU (tdx.c tdx_flush_vp): it is no longer associated. Not a logged call. */
  vpFlush(vcpu: number): void { this.associatedVcpus.delete(vcpu); }
  /** A vCPU ran on a CPU (tdx.c tdx_vcpu_load adds it to associated_tdvcpus). */
  vcpuAssociate(vcpu: number): void { this.associatedVcpus.add(vcpu); }

  /**
   * The gates of every TD-scoped MEM call (tdx-module.md §1.1): G4 the TDR is still a TDR (helpers.c
   * L180-185: a call naming a reclaimed TDR gets TDX_PAGE_METADATA_INCORRECT), G6 lifecycle
   * KEYS_CONFIGURED (helpers.c L507-511: TDX_TD_KEYS_NOT_CONFIGURED after VPFLUSHDONE and after FREEID).
   */
  private memGate(): TdxStatus | undefined {
    if (this.tdrReclaimed) return 'TDX_PAGE_METADATA_INCORRECT';
    return this.lifecycleGate('MEM');
  }

  /** The lifecycle gate of a call (LIFECYCLE_TABLE): its refusal, or undefined when the state allows it. */
  private lifecycleGate(call: LifecycleCall): TdxStatus | undefined {
    const row = LIFECYCLE_TABLE[call];
    return row.requires === null || this.lifecycle === row.requires ? undefined : row.refusal ?? undefined;
  }

  private key(level: number, gfn: number): number { return gfn * 8 + level; }
  private entry(level: number, gfn: number): SeptEntry | undefined {
    return this.sept.get(this.key(level, this.geo.align(gfn, level)));
  }
  private parentOk(level: number, gfn: number): SeptTable | null | undefined {
    if (level === ROOT) return null; // the S-EPT root lives in the TDCS
    const p = this.entry(level + 1, gfn);
    return p && p.kind === 'table' ? p : undefined;
  }

  private entryHash(e: SeptEntry): number {
    return e.kind === 'table' ? hash4(e.level, e.gfn, e.blocked ? 5 : 1, 0) : hash4(e.level, e.gfn, e.blocked ? 3 : 2, e.pfn);
  }
  private mirrorViewOf(e: SeptEntry): number {
    // An NL_BLOCKED table has no mirror-view equivalent: KVM never blocks a non-leaf entry, so the
    // hash differs from the mirror's table and the consistency oracle names it. An unblocked table's
    // view names the page TDX was given for it (SEPT.ADD / DEMOTE): the mirror side hashes the SP's
    // external_spt, so a table held in the wrong page is named too.
    if (e.kind === 'table') return e.blocked ? mirrorViewHash(e.level, e.gfn, MV_BLOCKED, 1) : mirrorViewHash(e.level, e.gfn, MV_TABLE, e.page);
    return mirrorViewHash(e.level, e.gfn, e.blocked ? MV_BLOCKED : MV_LEAF, e.pfn);
  }
  private insert(e: SeptEntry): void {
    this.sept.set(this.key(e.level, e.gfn), e);
    this.septDigest ^= this.entryHash(e);
    this.mirrorViewDigest ^= this.mirrorViewOf(e);
    if (e.kind === 'table') this.tableByPage.set(e.page, e);
    else if (!e.blocked) this.guestDigest ^= hash4(e.level, e.gfn, 7, e.pfn);
  }
  private delete(e: SeptEntry): void {
    this.sept.delete(this.key(e.level, e.gfn));
    this.septDigest ^= this.entryHash(e);
    this.mirrorViewDigest ^= this.mirrorViewOf(e);
    if (e.kind === 'table') this.tableByPage.delete(e.page);
    else if (!e.blocked) this.guestDigest ^= hash4(e.level, e.gfn, 7, e.pfn);
  }
  private setBlocked(e: SeptEntry, blocked: boolean): void {
    this.mirrorViewDigest ^= this.mirrorViewOf(e);
    this.septDigest ^= this.entryHash(e);
    if (e.kind === 'leaf' && !e.blocked) this.guestDigest ^= hash4(e.level, e.gfn, 7, e.pfn);
    e.blocked = blocked;
    e.blockEpoch = this.epoch;
    this.septDigest ^= this.entryHash(e);
    if (e.kind === 'leaf' && !e.blocked) this.guestDigest ^= hash4(e.level, e.gfn, 7, e.pfn);
    this.mirrorViewDigest ^= this.mirrorViewOf(e);
  }

  /** The entry's state in the module's terms (sept_state_lookup.c). */
  private stateOf(e: SeptEntry | undefined): SeptState {
    if (!e) return 'FREE';
    if (e.kind === 'table') return e.blocked ? 'NL_BLOCKED' : 'NL_MAPPED';
    if (e.pending) return e.blocked ? 'PENDING_BLOCKED' : 'PENDING';
    return e.blocked ? 'BLOCKED' : 'MAPPED';
  }

  /**
   * G12 (helpers.c L744-758; sept_manager.c L385-393): the walk from the root to `level` stops at an
   * entry with RWX=0 — FREE, or a table entry that RANGE.BLOCK cleared — or at a leaf above the
   * target; each gives TDX_EPT_WALK_FAILED.
   */
  private walkReaches(level: number, gfn: number): boolean {
    for (let l = ROOT; l > level; l--) {
      const e = this.entry(l, gfn);
      if (!e || e.kind !== 'table' || e.blocked) return false;
    }
    return true;
  }

  /**
   * The gates every TD-scoped MEM call passes, in the module's order (tdx-module.md §1.1): lifecycle
   * (G6), op state (G9, OP_STATE_TABLE), the walk (G12) and the entry state (G14, SEPT_STATE_TABLE).
   * Returns the failure, or the entry the call may act on.
   */
  private memGates(call: Exclude<MemLeaf, 'TRACK'>, level: number, gfn: number): TdxStatus | { entry: SeptEntry | undefined; state: SeptState } {
    const gate = this.memGate(); // G4, G6
    if (gate) return gate;
    if (!this.opStateAllows(call)) return 'TDX_OP_STATE_INCORRECT';
    if (!this.walkReaches(level, gfn)) return 'TDX_EPT_WALK_FAILED';
    const entry = this.entry(level, gfn);
    const state = this.stateOf(entry);
    const row = SEPT_STATE_TABLE[call];
    if (!row.allowed.includes(state) || (row.leafOnly && entry?.kind !== 'leaf')) {
      // RANGE.BLOCK of a blocked entry has its own status (tdh_mem_range_block.c L213-227).
      if (call === 'RANGE.BLOCK' && ANY_BLOCKED.has(state)) return 'TDX_GPA_RANGE_ALREADY_BLOCKED';
      return 'TDX_EPT_ENTRY_STATE_INCORRECT';
    }
    return { entry, state };
  }

  /** G9 (op_state_lookup.c) for the model's op states; the model never calls MEM SEAMCALLs in others. */
  private opStateAllows(call: MemLeaf): boolean {
    const row = OP_STATE_TABLE[call];
    return this.opState === 'INITIALIZED' ? row.INITIALIZED : row.RUNNABLE;
  }

  /** Common prologue: the fault plan may make this call fail before it touches any state (F6–F9, F11). */
  private injected(call: SeamcallName): TdxStatus | undefined {
    const plan = this.plan();
    let e = plan.consult('seamcall', call);
    if (!e && call === 'PHYMEM.PAGE.RECLAIM') e = plan.consult('reclaim');
    if (!e && call === 'MNG.KEY.FREEID') e = plan.consult('hkidRelease');
    if (!e) return undefined;
    return e.at === 'seamcall' && (e.error ?? 'BUSY') === 'BUSY' ? 'TDX_OPERAND_BUSY' : 'TDX_OPERAND_INVALID';
  }

  private done(call: SeamcallName, args: string, result: TdxStatus): TdxStatus {
    this.log.push({ call, args, result, by: this.by });
    return result;
  }

  private gpa(gfn: number, level: number): string { return `gfn=0x${gfn.toString(16)} level=${level}`; }

  /** TDH.MEM.SEPT.ADD: link a new S-EPT table page under the entry at `level`. */
  septAdd(by: string, gfn: number, level: number, page: number): TdxStatus {
    this.by = by;
    const args = this.gpa(this.geo.align(gfn, level), level);
    const inj = this.injected('SEPT.ADD');
    if (inj) return this.done('SEPT.ADD', args, inj);
    const g = this.memGates('SEPT.ADD', level, gfn);
    if (typeof g === 'string') return this.done('SEPT.ADD', args, g);
    // G15: the new page must be PT_NDA (tdh_mem_sept_add.c L93).
    if (this.ledger.ownerOf(page) !== Owner.Host) return this.done('SEPT.ADD', args, 'TDX_PAGE_METADATA_INCORRECT');
    this.insert({ kind: 'table', level, gfn: this.geo.align(gfn, level), page, blocked: false, blockEpoch: 0 });
    this.ledger.giveToTdx(page, `S-EPT table for level-${level} entry gfn 0x${this.geo.align(gfn, level).toString(16)}`, 'SEPT.ADD');
    this.chldcnt++; // tdh_mem_sept_add.c L56
    return this.done('SEPT.ADD', args, 'SUCCESS');
  }

  private mapLeaf(call: 'PAGE.AUG' | 'PAGE.ADD', gfn: number, level: number, pfn: number): TdxStatus {
    const args = `${this.gpa(gfn, level)} pfn=0x${pfn.toString(16)}`;
    const inj = this.injected(call);
    if (inj) return this.done(call, args, inj);
    const g = this.memGates(call, level, gfn);
    if (typeof g === 'string') return this.done(call, args, g);
    const n = this.geo.span(level);
    for (let i = 0; i < n; i++) {
      if (this.ledger.ownerOf(pfn + i) !== Owner.Host || this.ledger.poolOf(pfn + i) !== 'gmem') {
        return this.done(call, args, 'TDX_PAGE_METADATA_INCORRECT');
      }
    }
    this.insert({ kind: 'leaf', level, gfn: this.geo.align(gfn, level), pfn, blocked: false, blockEpoch: 0, pending: MAPPED_BY[call] === 'PENDING' });
    for (let i = 0; i < n; i++) this.ledger.giveToTdx(pfn + i, `guest private page gfn 0x${(gfn + i).toString(16)}`, call);
    this.chldcnt += n; // AUG: +512^lvl (tdh_mem_page_aug.c L180); ADD: +1 (tdh_mem_page_add.c L223)
    return this.done(call, args, 'SUCCESS');
  }

  /** TDH.MEM.PAGE.AUG: map a guest page into a RUNNABLE TD. */
  pageAug(by: string, gfn: number, level: number, pfn: number): TdxStatus { this.by = by; return this.mapLeaf('PAGE.AUG', gfn, level, pfn); }
  /** TDH.MEM.PAGE.ADD: add (and measure) an initial page before FINALIZE. */
  pageAdd(by: string, gfn: number, pfn: number): TdxStatus { this.by = by; return this.mapLeaf('PAGE.ADD', gfn, 1, pfn); }

  /** TDH.MEM.RANGE.BLOCK */
  rangeBlock(by: string, gfn: number, level: number): TdxStatus {
    this.by = by;
    const args = this.gpa(gfn, level);
    const inj = this.injected('RANGE.BLOCK');
    if (inj) return this.done('RANGE.BLOCK', args, inj);
    const g = this.memGates('RANGE.BLOCK', level, gfn);
    if (typeof g === 'string') return this.done('RANGE.BLOCK', args, g);
    if (BLOCK_TRANSITION[g.state] === undefined) throw new Error(`RANGE.BLOCK: no transition from ${g.state}`);
    this.setBlocked(g.entry!, true);
    return this.done('RANGE.BLOCK', args, 'SUCCESS');
  }

  /** TDH.MEM.TRACK: bump the TLB epoch. */
  track(by: string): TdxStatus {
    this.by = by;
    const inj = this.injected('TRACK');
    if (inj) return this.done('TRACK', '', inj);
    const gate = this.memGate();
    if (gate) return this.done('TRACK', '', gate);
    this.epoch++;
    return this.done('TRACK', '', 'SUCCESS');
  }

  private tracked(e: SeptEntry): boolean {
    // Before RUNNABLE no vCPU has entered the TD, so there is nothing to track (KVM skips TRACK).
    return this.opState !== 'RUNNABLE' || this.epoch > e.blockEpoch;
  }

  /**
   * REMOVE and DEMOTE in RUNNABLE (tdh_mem_page_remove.c L171-192, tdh_mem_page_demote.c L215-236):
   * the leaf must be blocked, then tracked (helpers.h L1218-1236). In INITIALIZED neither is needed.
   */
  private blockedAndTracked(call: MemLeaf, e: SeptEntry): TdxStatus | null {
    if (this.opState !== 'RUNNABLE' || !NEEDS_BLOCK_AND_TRACK_WHEN_RUNNABLE.has(call)) return null;
    if (!e.blocked) return 'TDX_GPA_RANGE_NOT_BLOCKED';
    if (!this.tracked(e)) return 'TDX_TLB_TRACKING_NOT_DONE';
    return null;
  }

  /** TDH.MEM.PAGE.REMOVE: the guest page leaves the TD; its cache lines still carry the hkid. */
  pageRemove(by: string, gfn: number, level: number): TdxStatus {
    this.by = by;
    const args = this.gpa(gfn, level);
    const inj = this.injected('PAGE.REMOVE');
    if (inj) return this.done('PAGE.REMOVE', args, inj);
    const g = this.memGates('PAGE.REMOVE', level, gfn);
    if (typeof g === 'string') return this.done('PAGE.REMOVE', args, g);
    const e = g.entry as SeptLeaf;
    const rt = this.blockedAndTracked('PAGE.REMOVE', e);
    if (rt) return this.done('PAGE.REMOVE', args, rt);
    this.delete(e);
    const n = this.geo.span(level);
    for (let i = 0; i < n; i++) {
      // PT_NDA, owner not cleared (tdh_mem_page_remove.c L223): the host has the page back, but its
      // cache lines still carry the TD's keyid until PHYMEM.PAGE.WBINVD (tdx.c tdx_sept_remove_leaf_spte)
      this.ledger.returnToHost(e.pfn + i, 'guest page removed, cache not yet written back');
      this.ledger.markTdxDirty(e.pfn + i, 'PAGE.REMOVE');
    }
    this.chldcnt -= n; // tdh_mem_page_remove.c L220
    return this.done('PAGE.REMOVE', args, 'SUCCESS');
  }

  /**
   * TDH.PHYMEM.PAGE.WBINVD: write back and invalidate the page's cache lines for its keyid. The page
   * must be PT_NDA (tdh_phymem_page_wbinvd.c L55); no TD or hkid check (the keyid is in the PA, L51);
   * no state change, so it may be repeated.
   */
  phymemPageWbinvd(by: string, pfn: number): TdxStatus {
    this.by = by;
    return this.wbinvd(pfn, `pfn=0x${pfn.toString(16)}`);
  }

  /** tdh_phymem_page_wbinvd_tdr: the same leaf on the TDR with the global keyid (tdx.c tdx_reclaim_td_control_pages). */
  phymemPageWbinvdTdr(by: string): TdxStatus { this.by = by; return this.wbinvd(this.tdr, 'control=TDR'); }

  private wbinvd(page: number, args: string): TdxStatus {
    const inj = this.injected('PHYMEM.PAGE.WBINVD');
    if (inj) return this.done('PHYMEM.PAGE.WBINVD', args, inj);
    if (this.ledger.ownerOf(page) === Owner.Tdx) return this.done('PHYMEM.PAGE.WBINVD', args, 'TDX_PAGE_METADATA_INCORRECT');
    this.ledger.writeBack(page);
    return this.done('PHYMEM.PAGE.WBINVD', args, 'SUCCESS');
  }

  /**
   * TDH.PHYMEM.PAGE.RECLAIM (tdh_phymem_page_reclaim.c): a child (S-EPT, TDCS) needs a live TDR in
   * TEARDOWN (L123, L140); the TDR needs TEARDOWN and chldcnt 0 (L157, L165), so it goes last.
   */
  phymemPageReclaim(by: string, page: number): TdxStatus {
    this.by = by;
    const t = this.tableByPage.get(page);
    const args = t ? this.gpa(t.gfn, t.level) : page === this.tdr ? 'control=TDR' : this.tdcs.includes(page) ? 'control=TDCS' : `page=${page}`;
    const inj = this.injected('PHYMEM.PAGE.RECLAIM');
    if (inj) return this.done('PHYMEM.PAGE.RECLAIM', args, inj);
    // the page must not be PT_NDA (tdh_phymem_page_reclaim.c L98)
    if (this.ledger.ownerOf(page) !== Owner.Tdx) return this.done('PHYMEM.PAGE.RECLAIM', args, 'TDX_PAGE_METADATA_INCORRECT');
    if (page !== this.tdr) {
      // a child: its owner TDR is locked implicitly (L123) and must still be a TDR (helpers.c L180-185),
      // and the TD must be in TEARDOWN (L140)
      if (this.tdrReclaimed) return this.done('PHYMEM.PAGE.RECLAIM', args, 'TDX_PAGE_METADATA_INCORRECT');
      const gate = this.lifecycleGate('RECLAIM.child');
      if (gate) return this.done('PHYMEM.PAGE.RECLAIM', args, gate);
    } else {
      // the TDR: TEARDOWN (L157) and no child left (L165) — every TDCS, S-EPT and guest page first
      const gate = this.lifecycleGate('RECLAIM.TDR');
      if (gate) return this.done('PHYMEM.PAGE.RECLAIM', args, gate);
      if (this.chldcnt !== 0) return this.done('PHYMEM.PAGE.RECLAIM', args, 'TDX_TD_ASSOCIATED_PAGES_EXIST');
    }
    if (t) {
      // I-children-first: teardown reclaims a table only after its children. RECLAIM does not read a
      // table's contents (tdx-module.md §1.4), so the module accepts any order: a child reclaimed after
      // its parent is a violation the machine reports, not an error the module returns (a leaked child
      // never blocks its parent; it blocks the TDR through chldcnt).
      if (t.level < ROOT && this.parentOk(t.level, t.gfn) === undefined && this.reclaimedTables.has(this.key(t.level + 1, this.geo.align(t.gfn, t.level + 1)))) {
        this.report({ kind: 'reclaim-order', site: 'PHYMEM.PAGE.RECLAIM', detail: `S-EPT table for L${t.level} gfn 0x${t.gfn.toString(16)} reclaimed after its parent table` });
      }
      this.reclaimedTables.add(this.key(t.level, t.gfn));
      this.delete(t);
    }
    this.ledger.returnToHost(page, 'reclaimed from the TDX module');
    if (page === this.tdr) {
      this.tdrReclaimed = true;
      // the module touched the TDR under the global keyid while reclaiming (tdx.c tdx_reclaim_td_control_pages)
      this.ledger.markTdxDirty(page, 'PHYMEM.PAGE.RECLAIM of the TDR');
    } else {
      this.chldcnt--; // tdh_phymem_page_reclaim.c L148 (a 4K PAMT entry)
    }
    return this.done('PHYMEM.PAGE.RECLAIM', args, 'SUCCESS');
  }

  /** TDH.MEM.PAGE.DEMOTE (huge-page series): split a blocked huge leaf into a new S-EPT table. */
  pageDemote(by: string, gfn: number, level: number, page: number): TdxStatus {
    this.by = by;
    const args = this.gpa(gfn, level);
    const inj = this.injected('PAGE.DEMOTE');
    if (inj) return this.done('PAGE.DEMOTE', args, inj);
    // G10: only a 2M or 1G leaf can be demoted (tdh_mem_page_demote.c L152).
    if (level < 2) return this.done('PAGE.DEMOTE', args, 'TDX_OPERAND_INVALID');
    const g = this.memGates('PAGE.DEMOTE', level, gfn);
    if (typeof g === 'string') return this.done('PAGE.DEMOTE', args, g);
    const e = g.entry as SeptLeaf;
    const rt = this.blockedAndTracked('PAGE.DEMOTE', e);
    if (rt) return this.done('PAGE.DEMOTE', args, rt);
    // G15: the new S-EPT page must be PT_NDA (tdh_mem_page_demote.c L243).
    if (this.ledger.ownerOf(page) !== Owner.Host) return this.done('PAGE.DEMOTE', args, 'TDX_PAGE_METADATA_INCORRECT');
    this.delete(e);
    this.insert({ kind: 'table', level, gfn: e.gfn, page, blocked: false, blockEpoch: 0 });
    this.ledger.giveToTdx(page, `S-EPT table (demoted) for level-${level} entry gfn 0x${e.gfn.toString(16)}`, 'PAGE.DEMOTE');
    this.chldcnt++; // tdh_mem_page_demote.c L408-412
    const step = this.geo.span(level - 1);
    for (let i = 0; i < this.geo.fanout; i++) {
      // The children take the parent's unblocked state (tdh_mem_page_demote.c L304-313).
      this.insert({ kind: 'leaf', level: level - 1, gfn: e.gfn + i * step, pfn: e.pfn + i * step, blocked: false, blockEpoch: 0, pending: unblocked(g.state) === 'PENDING' });
    }
    return this.done('PAGE.DEMOTE', args, 'SUCCESS');
  }

  /**
   * TDH.MNG.VPFLUSHDONE (tdh_mng_vpflushdone.c): lifecycle KEYS_CONFIGURED, else
   * TDX_LIFECYCLE_STATE_INCORRECT (L89); a vCPU still associated → TDX_FLUSHVP_NOT_DONE, no state
   * change (L104-116); success: wbinvd_bitmap = every package (L124), lifecycle BLOCKED (L127).
   */
  mngVpflushdone(by: string): TdxStatus {
    this.by = by;
    const inj = this.injected('MNG.VPFLUSHDONE');
    if (inj) return this.done('MNG.VPFLUSHDONE', '', inj);
    if (this.tdrReclaimed) return this.done('MNG.VPFLUSHDONE', '', 'TDX_PAGE_METADATA_INCORRECT');
    const gate = this.lifecycleGate('MNG.VPFLUSHDONE');
    if (gate) return this.done('MNG.VPFLUSHDONE', '', gate);
    if (this.associatedVcpus.size) return this.done('MNG.VPFLUSHDONE', '', 'TDX_FLUSHVP_NOT_DONE');
    this.wbcachePending = true;
    this.lifecycle = LIFECYCLE_TABLE['MNG.VPFLUSHDONE'].next!;
    return this.done('MNG.VPFLUSHDONE', '', 'SUCCESS');
  }
  /**
   * TDH.PHYMEM.CACHE.WB on one package (the model has one; tdh_phymem_cache_wb.c): nothing FLUSHED at
   * start → TDX_NO_HKID_READY_TO_WBCACHE (L100-122, not an error); else this package's bit is cleared
   * (L180-191): every cache line of the keyid is written back, so no page stays TDX-dirty.
   */
  phymemCacheWb(by: string): TdxStatus {
    this.by = by;
    const inj = this.injected('PHYMEM.CACHE.WB');
    if (inj) return this.done('PHYMEM.CACHE.WB', '', inj);
    if (!this.wbcachePending) return this.done('PHYMEM.CACHE.WB', '', 'TDX_NO_HKID_READY_TO_WBCACHE');
    this.wbcachePending = false;
    for (const p of this.ledger.tdxDirtyPages()) if (p !== this.tdr) this.ledger.writeBack(p);
    return this.done('PHYMEM.CACHE.WB', '', 'SUCCESS');
  }
  /**
   * TDH.MNG.KEY.FREEID (tdh_mng_key_freeid.c): lifecycle BLOCKED, else TDX_LIFECYCLE_STATE_INCORRECT
   * (L75); a package that missed CACHE.WB → TDX_WBCACHE_NOT_COMPLETE (L97); success: the hkid is free,
   * lifecycle TEARDOWN (L106-107).
   */
  mngKeyFreeid(by: string): TdxStatus {
    this.by = by;
    const inj = this.injected('MNG.KEY.FREEID');
    if (inj) return this.done('MNG.KEY.FREEID', '', inj);
    if (this.tdrReclaimed) return this.done('MNG.KEY.FREEID', '', 'TDX_PAGE_METADATA_INCORRECT');
    const gate = this.lifecycleGate('MNG.KEY.FREEID');
    if (gate) return this.done('MNG.KEY.FREEID', '', gate);
    if (this.wbcachePending) return this.done('MNG.KEY.FREEID', '', 'TDX_WBCACHE_NOT_COMPLETE');
    this.hkid = -1;
    this.lifecycle = LIFECYCLE_TABLE['MNG.KEY.FREEID'].next!;
    return this.done('MNG.KEY.FREEID', '', 'SUCCESS');
  }

  /** KVM_TDX_FINALIZE_VM (TDH.MR.FINALIZE is not modelled as a logged call): op_state RUNNABLE (tdh_mr_finalize.c L171). */
  finalize(): boolean {
    if (this.tdState !== 'INITIALIZED' || !this.hkidAssigned) return false;
    this.opState = 'RUNNABLE';
    return true;
  }

  /** S-EPT lookup for the consistency oracle. */
  lookup(level: number, gfn: number): { kind: 'table'; page: number } | { kind: 'leaf'; pfn: number; blocked: boolean } | undefined {
    const e = this.entry(level, gfn);
    if (!e) return undefined;
    return e.kind === 'table' ? { kind: 'table', page: e.page } : { kind: 'leaf', pfn: e.pfn, blocked: e.blocked };
  }

  /** The S-EPT entry state at (level, gfn) in the module's terms (conformance tests, explain). */
  stateAt(level: number, gfn: number): SeptState { return this.stateOf(this.entry(level, gfn)); }

  get entryCount(): number { return this.sept.size; }

  /** Canonical S-EPT entries (page ids excluded: they need not match across designs). */
  canonical(): string[] {
    const out: string[] = [];
    for (const e of this.sept.values()) {
      out.push(e.kind === 'table'
        ? `L${e.level} gfn=0x${e.gfn.toString(16)} table`
        : `L${e.level} gfn=0x${e.gfn.toString(16)} leaf pfn=0x${e.pfn.toString(16)}${e.blocked ? ' BLOCKED' : ''}`);
    }
    return out.sort();
  }

  /** Guest-visible private mappings: mapped, unblocked S-EPT leaves. */
  guestMappings(): string[] {
    const out: string[] = [];
    for (const e of this.sept.values()) {
      if (e.kind === 'leaf' && !e.blocked) out.push(`gfn=0x${e.gfn.toString(16)} L${e.level} -> pfn=0x${e.pfn.toString(16)}`);
    }
    return out.sort();
  }

  /** All S-EPT entries, for the mirror/S-EPT consistency oracle. */
  entries(): Iterable<Readonly<SeptEntry>> { return this.sept.values(); }

  takeLog(): SeamcallRecord[] {
    const l = this.log;
    this.log = [];
    return l;
  }
}
