// The kernel function that issues each SEAMCALL (SeamcallRecord.by; issue 12 item 2: reports print
// `TDH.MEM.PAGE.REMOVE(...) = SUCCESS  <- tdx_sept_remove_private_spte`). Fidelity rows, from
// arch/x86/kvm/vmx/tdx.c (kernel-model §2.13, §2.14; linux-next @564aa69a and Sean's "KVM: TDX: Add
// macro to retry SEAMCALLs when forcing vCPUs out of guest", v3 20/25, which shows the call sites):
// - tdx_sept_link_private_spt (before) / tdx_sept_map_nonleaf_spte (after): tdh_mem_sept_add;
// - tdx_mem_page_add: tdh_mem_page_add; tdx_mem_page_aug: tdh_mem_page_aug (both designs, called
//   from tdx_sept_set_private_spte / tdx_sept_map_leaf_spte);
// - tdx_sept_remove_private_spte (before) / tdx_sept_remove_leaf_spte (after, P13's rename):
//   tdh_mem_range_block and tdh_mem_page_remove through the tdh_do_no_vcpus() macro (no frame of
//   its own, so the retry is issued by the same function), then tdh_phymem_page_wbinvd_hkid;
// - tdx_track: tdh_mem_track (via tdh_do_no_vcpus);
// - __tdx_reclaim_page: tdh_phymem_page_reclaim (for tdx_reclaim_page, i.e. S-EPT pages from
//   tdx_sept_free_private_spt and TDCS pages, and directly for the TDR);
// - tdx_mmu_release_hkid: tdh_mng_vpflushdone, tdh_mng_key_freeid; smp_func_do_phymem_cache_wb:
//   tdh_phymem_cache_wb; tdx_reclaim_td_control_pages: tdh_phymem_page_wbinvd_tdr;
// - huge-page series (the model's reading, [?]): tdx_sept_split_private_spte: BLOCK and DEMOTE.
import { describe, expect, it } from 'vitest';
import type { Design, DesignInstance, Op, OpOutcome, SeamcallName } from '../../impls/api';
import { BUILTIN_SERIES } from '../../impls/series';
import { MUTANTS } from '../../impls/mutants/catalogue';
import { ALTERNATIVES } from '../../impls/alternatives';
import { generateSequence } from '../../harness/seq/generate';
import { opsWithTeardown } from '../../harness/run/runner';
import { COMPACT, COMPACT_HUGE, DESTROY, FINALIZE, after, before, pf, runnableWith, vmWith, zapPrivate } from './helpers';

/** "CALL <- by" of each SEAMCALL of an outcome. */
function by(o: OpOutcome): string[] { return o.seamcalls.map(s => `${s.call} <- ${s.by}`); }

const V3 = BUILTIN_SERIES['tdx-mmu-refactors-v3'];
const stepOf = (id: string): Design => V3.steps.find(s => s.design.name === `v3:${id}`)!.design;

/** Each design's names for the functions the refactor renamed. */
const NAMES = [
  { design: before, nonleaf: 'tdx_sept_link_private_spt', removeLeaf: 'tdx_sept_remove_private_spte' },
  { design: after, nonleaf: 'tdx_sept_map_nonleaf_spte', removeLeaf: 'tdx_sept_remove_leaf_spte' },
];

describe.each(NAMES)('SEAMCALL issuers — $design.name', ({ design, nonleaf, removeLeaf }) => {
  it('private fault before FINALIZE: SEPT.ADD from the non-leaf link, PAGE.ADD from tdx_mem_page_add', () => {
    const o = design.create(COMPACT).apply(pf(9));
    expect(by(o)).toEqual([
      `SEPT.ADD <- ${nonleaf}`, `SEPT.ADD <- ${nonleaf}`, `SEPT.ADD <- ${nonleaf}`, 'PAGE.ADD <- tdx_mem_page_add',
    ]);
  });

  it('private fault in RUNNABLE: PAGE.AUG from tdx_mem_page_aug', () => {
    const vm = vmWith(design, [FINALIZE, pf(9)]);
    expect(by(vm.apply(pf(0x11)))).toEqual([`SEPT.ADD <- ${nonleaf}`, 'PAGE.AUG <- tdx_mem_page_aug']);
  });

  it('leaf removal: BLOCK, REMOVE and WBINVD from the removal function, TRACK from tdx_track', () => {
    const vm = runnableWith(design, [9]);
    expect(by(vm.apply(zapPrivate(8, 16)))).toEqual([
      `RANGE.BLOCK <- ${removeLeaf}`, 'TRACK <- tdx_track', `PAGE.REMOVE <- ${removeLeaf}`, `PHYMEM.PAGE.WBINVD <- ${removeLeaf}`,
    ]);
  });

  it('a BUSY retried by tdh_do_no_vcpus is issued by the same function (the macro has no frame)', () => {
    const vm = runnableWith(design, [9]);
    const zap: Op = { ...zapPrivate(8, 16), fail: [{ at: 'seamcall', call: 'PAGE.REMOVE', error: 'BUSY', nth: 1 }] };
    expect(by(vm.apply(zap))).toEqual([
      `RANGE.BLOCK <- ${removeLeaf}`, 'TRACK <- tdx_track', `PAGE.REMOVE <- ${removeLeaf}`, `PAGE.REMOVE <- ${removeLeaf}`,
      `PHYMEM.PAGE.WBINVD <- ${removeLeaf}`,
    ]);
  });

  it('destroy: leaf removal, hkid release, S-EPT and control-page reclaim, each from its function', () => {
    const vm = runnableWith(design, [9]);
    expect(by(vm.apply(DESTROY))).toEqual([
      `RANGE.BLOCK <- ${removeLeaf}`, 'TRACK <- tdx_track', `PAGE.REMOVE <- ${removeLeaf}`, `PHYMEM.PAGE.WBINVD <- ${removeLeaf}`,
      'MNG.VPFLUSHDONE <- tdx_mmu_release_hkid', 'PHYMEM.CACHE.WB <- smp_func_do_phymem_cache_wb', 'MNG.KEY.FREEID <- tdx_mmu_release_hkid',
      // tdx_sept_free_private_spt → tdx_reclaim_page → __tdx_reclaim_page, post-order
      'PHYMEM.PAGE.RECLAIM <- __tdx_reclaim_page', 'PHYMEM.PAGE.RECLAIM <- __tdx_reclaim_page', 'PHYMEM.PAGE.RECLAIM <- __tdx_reclaim_page',
      // tdx_reclaim_td_control_pages: two TDCS pages (tdx_reclaim_control_page), the TDR, its WBINVD
      'PHYMEM.PAGE.RECLAIM <- __tdx_reclaim_page', 'PHYMEM.PAGE.RECLAIM <- __tdx_reclaim_page', 'PHYMEM.PAGE.RECLAIM <- __tdx_reclaim_page',
      'PHYMEM.PAGE.WBINVD <- tdx_reclaim_td_control_pages',
    ]);
  });

  it('huge-page split: BLOCK and DEMOTE from tdx_sept_split_private_spte, TRACK from tdx_track', () => {
    const vm = vmWith(design, [FINALIZE, pf(9, { maxLevel: 2 })], COMPACT_HUGE);
    const o = vm.apply({ kind: 'split', start: 0, end: 512, targetLevel: 1, private: true, shared: false });
    expect(by(o)).toEqual(['RANGE.BLOCK <- tdx_sept_split_private_spte', 'TRACK <- tdx_track', 'PAGE.DEMOTE <- tdx_sept_split_private_spte']);
  });
});

describe('SEAMCALL issuers — the series follows the renames', () => {
  it('P2 renames the non-leaf link (tdx_sept_map_nonleaf_spte), P13 the leaf removal (tdx_sept_remove_leaf_spte)', () => {
    const issuers = (d: Design): string[] => {
      const vm = runnableWith(d, [9]);
      return [...by(vm.apply(pf(0x11))), ...by(vm.apply(zapPrivate(8, 16)))];
    };
    const at = (nonleaf: string, removeLeaf: string): string[] => [
      `SEPT.ADD <- ${nonleaf}`, 'PAGE.AUG <- tdx_mem_page_aug',
      `RANGE.BLOCK <- ${removeLeaf}`, 'TRACK <- tdx_track', `PAGE.REMOVE <- ${removeLeaf}`, `PHYMEM.PAGE.WBINVD <- ${removeLeaf}`,
    ];
    expect(issuers(V3.base)).toEqual(at('tdx_sept_link_private_spt', 'tdx_sept_remove_private_spte'));
    expect(issuers(stepOf('P1'))).toEqual(at('tdx_sept_link_private_spt', 'tdx_sept_remove_private_spte'));
    expect(issuers(stepOf('P2'))).toEqual(at('tdx_sept_map_nonleaf_spte', 'tdx_sept_remove_private_spte'));
    expect(issuers(stepOf('P12'))).toEqual(at('tdx_sept_map_nonleaf_spte', 'tdx_sept_remove_private_spte'));
    expect(issuers(stepOf('P13'))).toEqual(at('tdx_sept_map_nonleaf_spte', 'tdx_sept_remove_leaf_spte'));
  });
});

/** The functions that may issue each SEAMCALL, in any design (the rows above, both names of a rename). */
const ISSUERS: Partial<Record<SeamcallName, readonly string[]>> = {
  'SEPT.ADD': ['tdx_sept_link_private_spt', 'tdx_sept_map_nonleaf_spte'],
  'PAGE.ADD': ['tdx_mem_page_add'],
  'PAGE.AUG': ['tdx_mem_page_aug'],
  'RANGE.BLOCK': ['tdx_sept_remove_private_spte', 'tdx_sept_remove_leaf_spte', 'tdx_sept_split_private_spte'],
  'TRACK': ['tdx_track'],
  'PAGE.REMOVE': ['tdx_sept_remove_private_spte', 'tdx_sept_remove_leaf_spte'],
  'PAGE.DEMOTE': ['tdx_sept_split_private_spte'],
  'PHYMEM.PAGE.WBINVD': ['tdx_sept_remove_private_spte', 'tdx_sept_remove_leaf_spte', 'tdx_reclaim_td_control_pages'],
  'PHYMEM.PAGE.RECLAIM': ['__tdx_reclaim_page'],
  'MNG.VPFLUSHDONE': ['tdx_mmu_release_hkid'],
  'PHYMEM.CACHE.WB': ['smp_func_do_phymem_cache_wb'],
  'MNG.KEY.FREEID': ['tdx_mmu_release_hkid'],
};

describe('SEAMCALL issuers — every design, generated sequences', () => {
  // A call site that forgot to name itself, or a name left over from the previous call, shows here.
  const designs: Design[] = [before, after, V3.base, ...V3.steps.map(s => s.design),
    ...MUTANTS.map(m => m.design), ...ALTERNATIVES.map(a => a.design)];
  it('each SEAMCALL names one of its call\'s issuing functions', () => {
    const seen = new Set<string>();
    const wrong = new Set<string>();
    for (const [i, config] of [COMPACT, COMPACT_HUGE].entries()) {
      for (let n = 0; n < 5; n++) {
        const seq = generateSequence('seamcall-by', i * 100 + n, { config, domain: 'extended' });
        for (const d of designs) {
          const vm: DesignInstance = d.create(seq.config);
          for (const op of opsWithTeardown(seq).ops) {
            let o: OpOutcome;
            try { o = vm.apply(op); } catch { break; }
            for (const s of o.seamcalls) {
              const row = `${s.call} <- ${s.by}`;
              if (!ISSUERS[s.call]?.includes(s.by)) wrong.add(`${d.name}: ${row}`);
              seen.add(row);
            }
            if (o.hang || o.violations.some(v => v.kind === 'host-bug')) break;
          }
        }
      }
    }
    expect([...wrong]).toEqual([]);
    // the sweep reached the issuers it checks (not vacuous)
    for (const row of ['SEPT.ADD <- tdx_sept_link_private_spt', 'SEPT.ADD <- tdx_sept_map_nonleaf_spte', 'PAGE.AUG <- tdx_mem_page_aug',
      'PAGE.REMOVE <- tdx_sept_remove_private_spte', 'PAGE.REMOVE <- tdx_sept_remove_leaf_spte', 'TRACK <- tdx_track',
      'PHYMEM.PAGE.RECLAIM <- __tdx_reclaim_page', 'MNG.KEY.FREEID <- tdx_mmu_release_hkid']) expect([...seen]).toContain(row);
  });
});
