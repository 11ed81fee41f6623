// Conformance of the fake TDX module (impls/machine/tdx_module.ts) with the real TDX module 1.5
// (issue 9 item 3): every MEM SEAMCALL × op state × S-EPT entry state the model can produce, checked
// against the real module's rules. The expectations below are written from the module source as
// transcribed in ../shared/reference/tdx-module.md (§1.2 op_state_lookup.c, §1.3
// sept_state_lookup.c, §1.4 the tdh_mem_* handlers, §1.9 test vectors) — independently of the data
// tables the fake consults (impls/machine/tdx_tables.ts), so a wrong table row fails here.
import { describe, expect, it } from 'vitest';
import { FaultPlan } from '../../impls/machine/fault_plan';
import { Geometry } from '../../impls/machine/geometry';
import { Ledger, Owner } from '../../impls/machine/ledger';
import { FakeTdxModule, type TdxStatus } from '../../impls/machine/tdx_module';
import { ANY_BLOCKED, LIFECYCLE_TABLE, OP_STATE_TABLE, SEPT_STATES, SEPT_STATE_TABLE, type Lifecycle, type SeptState } from '../../impls/machine/tdx_tables';

type Op = 'INITIALIZED' | 'RUNNABLE';
type Call = 'SEPT.ADD' | 'PAGE.AUG' | 'PAGE.ADD' | 'RANGE.BLOCK' | 'PAGE.REMOVE' | 'PAGE.DEMOTE';
const CALLS: readonly Call[] = ['SEPT.ADD', 'PAGE.AUG', 'PAGE.ADD', 'RANGE.BLOCK', 'PAGE.REMOVE', 'PAGE.DEMOTE'];

/** the issuing kernel function the module logs (SeamcallRecord.by): here the test calls the module itself */
const BY = 'test';

interface Fixture { tdx: FakeTdxModule; ledger: Ledger; page(): number; guest(n: number): number }

/** A module with S-EPT tables linked down to level 2 for gfn 0 (the level-1 entries of gfns 0..7 are reachable). */
function fixture(): Fixture {
  const geo = new Geometry('compact');
  const ledger = new Ledger(() => {});
  const plan = new FaultPlan([]);
  const tdx = new FakeTdxModule(geo, ledger, () => plan, () => {});
  const page = (): number => ledger.alloc('external', 'S-EPT page', Owner.Host);
  const guest = (n: number): number => { const first = ledger.alloc('gmem', 'guest', Owner.Host); for (let i = 1; i < n; i++) ledger.alloc('gmem', 'guest', Owner.Host); return first; };
  for (const level of [4, 3]) expect(tdx.septAdd(BY, 0, level, page())).toBe('SUCCESS');
  return { tdx, ledger, page, guest };
}

/** States the model can produce at a level: no table entry at the 4K level; no 2M MAPPED leaf (PAGE.ADD is 4K only). */
function producible(level: number, state: SeptState): boolean {
  if (level === 1) return state !== 'NL_MAPPED' && state !== 'NL_BLOCKED';
  return state !== 'MAPPED' && state !== 'BLOCKED';
}

/**
 * Bring the entry at (level, gfn) to `state` (made in INITIALIZED, where PAGE.ADD works), then move
 * the TD to `op`; `tracked`: a TRACK after the BLOCK.
 */
function setUp(f: Fixture, level: number, gfn: number, state: SeptState, op: Op, tracked: boolean): void {
  const { tdx } = f;
  if (level === 1) expect(tdx.septAdd(BY, gfn, 2, f.page())).toBe('SUCCESS');
  if (state === 'NL_MAPPED' || state === 'NL_BLOCKED') expect(tdx.septAdd(BY, gfn, level, f.page())).toBe('SUCCESS');
  if (state === 'MAPPED' || state === 'BLOCKED') expect(tdx.pageAdd(BY, gfn, f.guest(1))).toBe('SUCCESS');
  if (state === 'PENDING' || state === 'PENDING_BLOCKED') expect(tdx.pageAug(BY, gfn, level, f.guest(level === 2 ? 8 : 1))).toBe('SUCCESS');
  if (op === 'RUNNABLE') expect(tdx.finalize()).toBe(true);
  if (ANY_BLOCKED.has(state)) {
    expect(tdx.rangeBlock(BY, gfn, level)).toBe('SUCCESS');
    if (tracked) expect(tdx.track(BY)).toBe('SUCCESS');
  }
  expect(tdx.stateAt(level, gfn)).toBe(state);
}

function call(f: Fixture, c: Call, level: number, gfn: number): TdxStatus {
  switch (c) {
    case 'SEPT.ADD': return f.tdx.septAdd(BY, gfn, level, f.page());
    case 'PAGE.AUG': return f.tdx.pageAug(BY, gfn, level, f.guest(level === 2 ? 8 : 1));
    case 'PAGE.ADD': return f.tdx.pageAdd(BY, gfn, f.guest(1));
    case 'RANGE.BLOCK': return f.tdx.rangeBlock(BY, gfn, level);
    case 'PAGE.REMOVE': return f.tdx.pageRemove(BY, gfn, level);
    case 'PAGE.DEMOTE': return f.tdx.pageDemote(BY, gfn, level, f.page());
  }
}

const isLeaf = (s: SeptState): boolean => s === 'MAPPED' || s === 'BLOCKED' || s === 'PENDING' || s === 'PENDING_BLOCKED';
const isBlocked = (s: SeptState): boolean => s === 'BLOCKED' || s === 'PENDING_BLOCKED' || s === 'NL_BLOCKED';

/** The real module's answer and resulting entry state (tdx-module.md §1.2-1.4, §1.9), written out rule by rule. */
function expected(c: Call, op: Op, s: SeptState, tracked: boolean): { result: TdxStatus; after: SeptState } {
  const fail = (result: TdxStatus): { result: TdxStatus; after: SeptState } => ({ result, after: s });
  switch (c) {
    case 'PAGE.ADD': // op_state_lookup.c L34: INITIALIZED only; sept_state_lookup.c: FREE; tdh_mem_page_add.c L189: MAPPED
      if (op === 'RUNNABLE') return fail('TDX_OP_STATE_INCORRECT');
      return s === 'FREE' ? { result: 'SUCCESS', after: 'MAPPED' } : fail('TDX_EPT_ENTRY_STATE_INCORRECT');
    case 'PAGE.AUG': // op_state_lookup.c L38: I and R; FREE only; tdh_mem_page_aug.c L176: PENDING
      return s === 'FREE' ? { result: 'SUCCESS', after: 'PENDING' } : fail('TDX_EPT_ENTRY_STATE_INCORRECT');
    case 'SEPT.ADD': // version 0: FREE only (sept_state_lookup.c); tdh_mem_sept_add.c L217: NL_MAPPED
      return s === 'FREE' ? { result: 'SUCCESS', after: 'NL_MAPPED' } : fail('TDX_EPT_ENTRY_STATE_INCORRECT');
    case 'RANGE.BLOCK': // tdh_mem_range_block.c L39-65, L213-227
      if (isBlocked(s)) return fail('TDX_GPA_RANGE_ALREADY_BLOCKED');
      if (s === 'FREE') return fail('TDX_EPT_ENTRY_STATE_INCORRECT');
      return { result: 'SUCCESS', after: s === 'NL_MAPPED' ? 'NL_BLOCKED' : s === 'MAPPED' ? 'BLOCKED' : 'PENDING_BLOCKED' };
    case 'PAGE.REMOVE': // leaf required (L146); RUNNABLE: blocked (L171-192) and tracked (helpers.h L1218-1236)
      if (!isLeaf(s)) return fail('TDX_EPT_ENTRY_STATE_INCORRECT');
      if (op === 'RUNNABLE' && !isBlocked(s)) return fail('TDX_GPA_RANGE_NOT_BLOCKED');
      if (op === 'RUNNABLE' && !tracked) return fail('TDX_TLB_TRACKING_NOT_DONE');
      return { result: 'SUCCESS', after: 'FREE' };
    case 'PAGE.DEMOTE': // 2M/1G leaf (L152); same RUNNABLE rule as REMOVE (L215-236); parent NL_MAPPED (L405)
      if (!isLeaf(s)) return fail('TDX_EPT_ENTRY_STATE_INCORRECT');
      if (op === 'RUNNABLE' && !isBlocked(s)) return fail('TDX_GPA_RANGE_NOT_BLOCKED');
      if (op === 'RUNNABLE' && !tracked) return fail('TDX_TLB_TRACKING_NOT_DONE');
      return { result: 'SUCCESS', after: 'NL_MAPPED' };
  }
}

/** The level each call is tried at: leaf calls at 4K; SEPT.ADD and DEMOTE at the 2M entry; BLOCK at both. */
const LEVELS_OF: Readonly<Record<Call, readonly number[]>> = {
  'SEPT.ADD': [2], 'PAGE.AUG': [1, 2], 'PAGE.ADD': [1], 'RANGE.BLOCK': [1, 2], 'PAGE.REMOVE': [1, 2], 'PAGE.DEMOTE': [2],
};

describe('fake TDX module conforms to the TDX module 1.5 tables', () => {
  const rows: string[] = [];
  for (const c of CALLS) for (const level of LEVELS_OF[c]) for (const op of ['INITIALIZED', 'RUNNABLE'] as const) {
    for (const s of SEPT_STATES) for (const tracked of ANY_BLOCKED.has(s) && op === 'RUNNABLE' ? [false, true] : [false]) {
      const name = `${c} L${level} ${op} ${s}${tracked ? ' +TRACK' : ''}`;
      if (!producible(level, s)) continue;
      rows.push(name);
      it(name, () => {
        const f = fixture();
        setUp(f, level, 0, s, op, tracked);
        const want = expected(c, op, s, tracked);
        expect(call(f, c, level, 0)).toBe(want.result);
        expect(f.tdx.stateAt(level, 0)).toBe(want.after);
      });
    }
  }

  it('walks every call the module implements in every state the model can produce', () => {
    expect(new Set(rows.map(r => r.split(' ')[0]))).toEqual(new Set(CALLS));
    expect(rows.length).toBeGreaterThanOrEqual(70);
  });

  it('the walk fails at a FREE ancestor, an NL_BLOCKED ancestor and a huge leaf above the target (G12)', () => {
    for (const c of ['PAGE.AUG', 'RANGE.BLOCK', 'PAGE.REMOVE'] as const) {
      const free = fixture(); // no level-2 table at gfn 0: the level-2 entry is FREE
      expect(call(free, c, 1, 0)).toBe('TDX_EPT_WALK_FAILED');
      const nlBlocked = fixture();
      expect(nlBlocked.tdx.septAdd(BY, 0, 2, nlBlocked.page())).toBe('SUCCESS');
      expect(nlBlocked.tdx.rangeBlock(BY, 0, 2)).toBe('SUCCESS');
      expect(call(nlBlocked, c, 1, 0)).toBe('TDX_EPT_WALK_FAILED');
      const huge = fixture();
      expect(huge.tdx.pageAug(BY, 0, 2, huge.guest(8))).toBe('SUCCESS');
      expect(call(huge, c, 1, 0)).toBe('TDX_EPT_WALK_FAILED');
    }
  });

  it('DEMOTE of a 4K leaf is an operand error (tdh_mem_page_demote.c L152)', () => {
    const f = fixture();
    expect(f.tdx.septAdd(BY, 0, 2, f.page())).toBe('SUCCESS');
    expect(f.tdx.pageAdd(BY, 0, f.guest(1))).toBe('SUCCESS');
    expect(f.tdx.pageDemote(BY, 0, 1, f.page())).toBe('TDX_OPERAND_INVALID');
  });

  it('a demoted PENDING 2M leaf gives 8 PENDING children under an NL_MAPPED entry (L304-313)', () => {
    const f = fixture();
    expect(f.tdx.pageAug(BY, 0, 2, f.guest(8))).toBe('SUCCESS');
    expect(f.tdx.rangeBlock(BY, 0, 2)).toBe('SUCCESS');
    expect(f.tdx.pageDemote(BY, 0, 2, f.page())).toBe('SUCCESS');
    expect(f.tdx.stateAt(2, 0)).toBe('NL_MAPPED');
    for (let g = 0; g < 8; g++) expect(f.tdx.stateAt(1, g)).toBe('PENDING');
  });

  it('every table row cites its source file', () => {
    for (const row of [...Object.values(OP_STATE_TABLE), ...Object.values(SEPT_STATE_TABLE), ...Object.values(LIFECYCLE_TABLE)]) expect(row.src).toMatch(/\.(c|h) L\d+/);
  });
});

/** Move a fresh fixture's TD to `lc` the way the kernel does (VPFLUSHDONE, then CACHE.WB and FREEID). */
function toLifecycle(f: Fixture, lc: Lifecycle): void {
  if (lc === 'KEYS_CONFIGURED') return;
  expect(f.tdx.mngVpflushdone(BY)).toBe('SUCCESS');
  if (lc === 'TEARDOWN') {
    expect(f.tdx.phymemCacheWb(BY)).toBe('SUCCESS');
    expect(f.tdx.mngKeyFreeid(BY)).toBe('SUCCESS');
  }
}

const LIFECYCLES: readonly Lifecycle[] = ['KEYS_CONFIGURED', 'BLOCKED', 'TEARDOWN'];
const TD_STATE_OF: Readonly<Record<Lifecycle, string>> = { KEYS_CONFIGURED: 'INITIALIZED', BLOCKED: 'BLOCKED', TEARDOWN: 'TEARDOWN' };

// tdx-module.md §1.9, the lifecycle rows (K = KEYS_CONFIGURED, B = BLOCKED after VPFLUSHDONE, T = TEARDOWN after FREEID).
describe('fake TDX module lifecycle calls conform to the TDX module 1.5', () => {
  for (const lc of LIFECYCLES) {
    it(`${lc}: every MEM call ${lc === 'KEYS_CONFIGURED' ? 'passes the lifecycle gate' : 'is refused with TDX_TD_KEYS_NOT_CONFIGURED (helpers.c L507-511)'}`, () => {
      const f = fixture();
      expect(f.tdx.septAdd(BY, 0, 2, f.page())).toBe('SUCCESS');
      toLifecycle(f, lc);
      const results = [call(f, 'PAGE.AUG', 1, 0), call(f, 'RANGE.BLOCK', 2, 0), call(f, 'PAGE.REMOVE', 1, 0), call(f, 'SEPT.ADD', 2, 8), f.tdx.track(BY)];
      if (lc === 'KEYS_CONFIGURED') expect(results).not.toContain('TDX_TD_KEYS_NOT_CONFIGURED');
      else expect(results).toEqual(Array(5).fill('TDX_TD_KEYS_NOT_CONFIGURED'));
      expect(f.tdx.tdState).toBe(TD_STATE_OF[lc]);
    });

    it(`${lc}: VPFLUSHDONE (tdh_mng_vpflushdone.c L89, L104-116, L127)`, () => {
      const f = fixture();
      toLifecycle(f, lc);
      if (lc !== 'KEYS_CONFIGURED') { expect(f.tdx.mngVpflushdone(BY)).toBe('TDX_LIFECYCLE_STATE_INCORRECT'); return; }
      f.tdx.vcpuAssociate(0);
      expect(f.tdx.mngVpflushdone(BY)).toBe('TDX_FLUSHVP_NOT_DONE');
      expect(f.tdx.tdState).toBe('INITIALIZED'); // no state change
    });

    it(`${lc}: KEY.FREEID (tdh_mng_key_freeid.c L75, L97, L106-107)`, () => {
      const f = fixture();
      toLifecycle(f, lc);
      if (lc !== 'BLOCKED') { expect(f.tdx.mngKeyFreeid(BY)).toBe('TDX_LIFECYCLE_STATE_INCORRECT'); return; }
      expect(f.tdx.mngKeyFreeid(BY)).toBe('TDX_WBCACHE_NOT_COMPLETE'); // no CACHE.WB yet
      expect(f.tdx.tdState).toBe('BLOCKED');
      expect(f.tdx.phymemCacheWb(BY)).toBe('SUCCESS');
      expect(f.tdx.mngKeyFreeid(BY)).toBe('SUCCESS');
      expect(f.tdx.tdState).toBe('TEARDOWN');
      expect(f.tdx.hkidAssigned).toBe(false);
    });

    it(`${lc}: PHYMEM.PAGE.RECLAIM of a child and of the TDR (tdh_phymem_page_reclaim.c L98, L140, L157, L165)`, () => {
      const f = fixture();
      toLifecycle(f, lc);
      const child = f.tdx.tdcs[0];
      if (lc !== 'TEARDOWN') {
        expect(f.tdx.phymemPageReclaim(BY, child)).toBe('TDX_LIFECYCLE_STATE_INCORRECT');
        expect(f.tdx.phymemPageReclaim(BY, f.tdx.tdr)).toBe('TDX_LIFECYCLE_STATE_INCORRECT');
        return;
      }
      // children left (two S-EPT tables and two TDCS pages): the TDR must go last
      expect(f.tdx.phymemPageReclaim(BY, f.tdx.tdr)).toBe('TDX_TD_ASSOCIATED_PAGES_EXIST');
      expect(f.tdx.phymemPageReclaim(BY, child)).toBe('SUCCESS');
      expect(f.tdx.phymemPageReclaim(BY, child)).toBe('TDX_PAGE_METADATA_INCORRECT'); // now PT_NDA
    });

    it(`${lc}: PHYMEM.PAGE.WBINVD has no TD check and is repeatable (tdh_phymem_page_wbinvd.c L51-55)`, () => {
      const f = fixture();
      toLifecycle(f, lc);
      const host = f.guest(1);
      expect(f.tdx.phymemPageWbinvd(BY, host)).toBe('SUCCESS');
      expect(f.tdx.phymemPageWbinvd(BY, host)).toBe('SUCCESS');
      expect(f.tdx.phymemPageWbinvd(BY, f.tdx.tdcs[0])).toBe('TDX_PAGE_METADATA_INCORRECT'); // still owned by the TD
    });
  }

  it('PHYMEM.CACHE.WB: nothing flushed yet → TDX_NO_HKID_READY_TO_WBCACHE (tdh_phymem_cache_wb.c L100-122)', () => {
    const f = fixture();
    expect(f.tdx.phymemCacheWb(BY)).toBe('TDX_NO_HKID_READY_TO_WBCACHE');
    toLifecycle(f, 'BLOCKED');
    expect(f.tdx.phymemCacheWb(BY)).toBe('SUCCESS');
  });

  it('the whole teardown: children first, then the TDR (chldcnt back to 0)', () => {
    const f = fixture();
    toLifecycle(f, 'TEARDOWN');
    for (const level of [3, 4]) {
      const page = [...f.tdx.entries()].find(e => e.kind === 'table' && e.level === level) as { page: number };
      expect(f.tdx.phymemPageReclaim(BY, page.page)).toBe('SUCCESS');
    }
    for (const p of f.tdx.tdcs) expect(f.tdx.phymemPageReclaim(BY, p)).toBe('SUCCESS');
    expect(f.tdx.phymemPageReclaim(BY, f.tdx.tdr)).toBe('SUCCESS');
    expect(f.tdx.tdState).toBe('DESTROYED');
  });
});
