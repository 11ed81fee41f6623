// The real TDX module's acceptance tables for the TD-scoped MEM SEAMCALLs, as data (issue 9 item 3).
// Each row cites the TDX module 1.5 source it is taken from (github.com/intel/tdx-module, branch
// tdx_1.5; line numbers as in ../shared/reference/tdx-module.md §1). The fake module
// (tdx_module.ts) consults these tables instead of hand-written conditions, and
// test/models/tdx_conformance.test.ts walks every call × op state × entry state against them.

/** The MEM SEAMCALLs whose gates these tables describe. */
export type MemLeaf = 'SEPT.ADD' | 'PAGE.AUG' | 'PAGE.ADD' | 'RANGE.BLOCK' | 'PAGE.REMOVE' | 'PAGE.DEMOTE' | 'TRACK';

/** TDCS op_state values the model reaches (the migration states are never reached). */
export type OpState = 'INITIALIZED' | 'RUNNABLE';

/**
 * S-EPT entry states the model produces (sept_state_lookup.c L31-51). FREE = no entry; NL_* a
 * non-leaf (table) entry; PENDING = AUGed, not yet accepted by the guest (the model has no
 * TDG.MEM.PAGE.ACCEPT, so an AUGed page stays PENDING; the guest sees it as mapped once it faults
 * it in, which is what guestMappings() reports).
 */
export type SeptState = 'FREE' | 'NL_MAPPED' | 'NL_BLOCKED' | 'MAPPED' | 'BLOCKED' | 'PENDING' | 'PENDING_BLOCKED';

export const SEPT_STATES: readonly SeptState[] = ['FREE', 'NL_MAPPED', 'NL_BLOCKED', 'MAPPED', 'BLOCKED', 'PENDING', 'PENDING_BLOCKED'];

type OpStateRow = { readonly [S in OpState]: boolean } & { readonly src: string };

/**
 * G9: `seamcall_state_lookup[leaf][op_state]` (op_state_lookup.c; gate in helpers.c L560-582).
 * A refused call fails with TDX_OP_STATE_INCORRECT. Every MEM call is refused in UNINITIALIZED,
 * which the model never is (KVM_TDX_INIT_VM runs MNG.INIT before any op).
 */
export const OP_STATE_TABLE: Readonly<Record<MemLeaf, OpStateRow>> = {
  'PAGE.ADD': { INITIALIZED: true, RUNNABLE: false, src: 'op_state_lookup.c L34' },
  'SEPT.ADD': { INITIALIZED: true, RUNNABLE: true, src: 'op_state_lookup.c L35' },
  'PAGE.AUG': { INITIALIZED: true, RUNNABLE: true, src: 'op_state_lookup.c L38' },
  'RANGE.BLOCK': { INITIALIZED: true, RUNNABLE: true, src: 'op_state_lookup.c L39' },
  'PAGE.DEMOTE': { INITIALIZED: true, RUNNABLE: true, src: 'op_state_lookup.c L45' },
  'PAGE.REMOVE': { INITIALIZED: true, RUNNABLE: true, src: 'op_state_lookup.c L54' },
  'TRACK': { INITIALIZED: true, RUNNABLE: true, src: 'op_state_lookup.c L56' },
};

interface SeptStateRow { readonly allowed: readonly SeptState[]; readonly leafOnly: boolean; readonly src: string }

/**
 * G14: the entry states each call accepts (sept_state_lookup.c L31-51; REMOVE's leaf requirement
 * tdh_mem_page_remove.c L146, DEMOTE's tdh_mem_page_demote.c L152). A refused state fails with
 * TDX_EPT_ENTRY_STATE_INCORRECT | RCX — except BLOCK of an already-blocked entry (BLOCKED_TO_... below).
 * SEPT.ADD of an NL_MAPPED entry is allowed only with version 1 and allow_existing, which KVM
 * never passes (it uses version 0), so the row is FREE only. AUG also accepts REMOVED, a state that
 * exists only during import.
 */
export const SEPT_STATE_TABLE: Readonly<Record<Exclude<MemLeaf, 'TRACK'>, SeptStateRow>> = {
  'PAGE.ADD': { allowed: ['FREE'], leafOnly: false, src: 'sept_state_lookup.c L31-51 (PAGE.ADD: FREE)' },
  'SEPT.ADD': { allowed: ['FREE'], leafOnly: false, src: 'sept_state_lookup.c L31-51 (SEPT.ADD: FREE; NL_MAPPED only v1+allow_existing)' },
  'PAGE.AUG': { allowed: ['FREE'], leafOnly: false, src: 'sept_state_lookup.c L31-51 (PAGE.AUG: FREE, REMOVED)' },
  'RANGE.BLOCK': { allowed: ['NL_MAPPED', 'MAPPED', 'PENDING'], leafOnly: false, src: 'sept_state_lookup.c L31-51 (RANGE.BLOCK: NL_MAPPED, MAPPED, BLOCKEDW, PENDING, PENDING_BLOCKEDW)' },
  'PAGE.DEMOTE': { allowed: ['MAPPED', 'BLOCKED', 'PENDING', 'PENDING_BLOCKED'], leafOnly: true, src: 'sept_state_lookup.c L31-51; tdh_mem_page_demote.c L152 (2M or 1G leaf)' },
  'PAGE.REMOVE': { allowed: ['MAPPED', 'BLOCKED', 'PENDING', 'PENDING_BLOCKED'], leafOnly: true, src: 'sept_state_lookup.c L31-51; tdh_mem_page_remove.c L146 (leaf required)' },
};

/** `any_blocked` (sept_state_lookup.c L63-431). */
export const ANY_BLOCKED: ReadonlySet<SeptState> = new Set<SeptState>(['NL_BLOCKED', 'BLOCKED', 'PENDING_BLOCKED']);

/**
 * RANGE.BLOCK's transitions (tdh_mem_range_block.c L39-65): RWX cleared, and bepoch := td_epoch
 * (L267-279). A blocked entry gives TDX_GPA_RANGE_ALREADY_BLOCKED (a status with bit 63 clear:
 * not an error to the module, but KVM's `if (err)` treats any non-zero status as failure).
 */
export const BLOCK_TRANSITION: Readonly<Partial<Record<SeptState, SeptState>>> = {
  NL_MAPPED: 'NL_BLOCKED',
  MAPPED: 'BLOCKED',
  PENDING: 'PENDING_BLOCKED',
};

/**
 * REMOVE and DEMOTE in RUNNABLE only (tdh_mem_page_remove.c L171-192, tdh_mem_page_demote.c
 * L215-236): an unblocked leaf fails with TDX_GPA_RANGE_NOT_BLOCKED | RCX, a blocked one not yet
 * tracked (helpers.h L1218-1236) with TDX_TLB_TRACKING_NOT_DONE. In INITIALIZED neither BLOCK nor
 * TRACK is needed (tlb_tracking_required is 0 there, op_state_lookup.c L106-123).
 */
export const NEEDS_BLOCK_AND_TRACK_WHEN_RUNNABLE: ReadonlySet<MemLeaf> = new Set<MemLeaf>(['PAGE.REMOVE', 'PAGE.DEMOTE']);

/** After DEMOTE the 512 children take the parent's *unblocked* state (tdh_mem_page_demote.c L304-313). */
export function unblocked(s: SeptState): SeptState {
  return s === 'BLOCKED' ? 'MAPPED' : s === 'PENDING_BLOCKED' ? 'PENDING' : s === 'NL_BLOCKED' ? 'NL_MAPPED' : s;
}

/** The state a successful AUG / ADD leaves (tdh_mem_page_aug.c L176: PENDING; tdh_mem_page_add.c L189: MAPPED). */
export const MAPPED_BY: Readonly<Record<'PAGE.AUG' | 'PAGE.ADD', SeptState>> = { 'PAGE.AUG': 'PENDING', 'PAGE.ADD': 'MAPPED' };

/** TDR lifecycle_state values the model reaches (td_control_structures.h L57-63; HKID_ASSIGNED is never observed). */
export type Lifecycle = 'KEYS_CONFIGURED' | 'BLOCKED' | 'TEARDOWN';

/** The calls whose lifecycle gate differs: every TD-scoped MEM call shares one row. */
export type LifecycleCall = 'MEM' | 'MNG.VPFLUSHDONE' | 'MNG.KEY.FREEID' | 'RECLAIM.child' | 'RECLAIM.TDR' | 'PHYMEM.CACHE.WB' | 'PHYMEM.PAGE.WBINVD';

interface LifecycleRow {
  /** the lifecycle the call needs; null: no lifecycle check at all */
  readonly requires: Lifecycle | null;
  readonly refusal: 'TDX_TD_KEYS_NOT_CONFIGURED' | 'TDX_LIFECYCLE_STATE_INCORRECT' | null;
  /** the lifecycle a successful call moves the TD to */
  readonly next: Lifecycle | null;
  readonly src: string;
}

/**
 * The lifecycle gate and transition of each call (tdx-module.md §0, §1.1 G6, §1.4). RECLAIM,
 * WBINVD, VPFLUSHDONE, FREEID and CACHE.WB skip the MEM gates G5-G9 and check their own state.
 */
export const LIFECYCLE_TABLE: Readonly<Record<LifecycleCall, LifecycleRow>> = {
  'MEM': { requires: 'KEYS_CONFIGURED', refusal: 'TDX_TD_KEYS_NOT_CONFIGURED', next: null, src: 'helpers.c L507-511 (G6)' },
  'MNG.VPFLUSHDONE': { requires: 'KEYS_CONFIGURED', refusal: 'TDX_LIFECYCLE_STATE_INCORRECT', next: 'BLOCKED', src: 'tdh_mng_vpflushdone.c L89, L127' },
  'MNG.KEY.FREEID': { requires: 'BLOCKED', refusal: 'TDX_LIFECYCLE_STATE_INCORRECT', next: 'TEARDOWN', src: 'tdh_mng_key_freeid.c L75, L106-107' },
  'RECLAIM.child': { requires: 'TEARDOWN', refusal: 'TDX_LIFECYCLE_STATE_INCORRECT', next: null, src: 'tdh_phymem_page_reclaim.c L140' },
  'RECLAIM.TDR': { requires: 'TEARDOWN', refusal: 'TDX_LIFECYCLE_STATE_INCORRECT', next: null, src: 'tdh_phymem_page_reclaim.c L157' },
  'PHYMEM.CACHE.WB': { requires: null, refusal: null, next: null, src: 'tdh_phymem_cache_wb.c L70-122 (KOT only)' },
  'PHYMEM.PAGE.WBINVD': { requires: null, refusal: null, next: null, src: 'tdh_phymem_page_wbinvd.c L51-55 (no TD or hkid check)' },
};
