// struct kvm_mmu_page (kernel-model §1.1) and the TDP iterator position (struct tdp_iter).

export class KvmMmuPage {
  /** page holding the mirror (or direct) SPTEs; its page_private points back here (spByPage) */
  spt: number;
  /** kmem_cache object for this struct */
  header: number;
  /** only on non-root mirror SPs: the S-EPT page handed to the TDX module; null when freed/leaked */
  externalSpt: number | null = null;
  /** role.level: set at allocation for roots and fault SPs, and (again) by tdp_mmu_init_child_sp */
  level: number;
  gfn = 0;
  readonly mirror: boolean;
  readonly isRoot: boolean;
  /** role.invalid */
  invalid = false;
  tdpMmuRootCount = 0;
  tdpMmuScheduledRootToZap = false;
  /** sp->ptep: the parent SPTE that links (or was going to link) this table */
  ptep: { sp: KvmMmuPage; index: number } | null = null;
  nxHugePageDisallowed = false;
  /** on tdp_mmu_pages NX list */
  nxTracked = false;
  /** accounted by tdp_account_mmu_page */
  accounted = false;
  /** the SPTE values */
  readonly entries: Float64Array;

  // --- model bookkeeping (not kernel state) ---
  /** the table currently pointing at this one (reachability), for incremental digests */
  linkedTo: KvmMmuPage | null = null;
  /** XOR digest of this table's reachable subtree */
  sub = 0;
  /** XOR over this (mirror) subtree of the entries as the S-EPT should hold them (machine/mirror_view) */
  subMirrorView = 0;
  /** counts over this table's reachable subtree: [FROZEN entries, leaves at L1, L2, L3, L4] */
  readonly subCounts = new Int32Array(5);
  /** handle_removed_pt has started on it */
  removed = false;
  /** freed by an RCU callback or an unused-SP path */
  freed = false;
  /** serial number, for readable reports */
  readonly serial: number;

  constructor(serial: number, spt: number, header: number, level: number, mirror: boolean, isRoot: boolean, fanout: number) {
    this.serial = serial;
    this.spt = spt;
    this.header = header;
    this.level = level;
    this.mirror = mirror;
    this.isRoot = isRoot;
    this.entries = new Float64Array(fanout);
  }

  toString(): string {
    return `${this.mirror ? 'mirror' : 'direct'} ${this.isRoot ? 'root' : 'sp'}#${this.serial} L${this.level} gfn=0x${this.gfn.toString(16)}`;
  }
}

/** struct tdp_iter: a position in the walk plus the value last read there. */
export interface TdpIter {
  root: KvmMmuPage;
  /** table containing the SPTE (sptep = &sp->spt[index]) */
  sp: KvmMmuPage;
  index: number;
  level: number;
  /** base gfn of the entry */
  gfn: number;
  oldSpte: number;
  yielded: boolean;
}
