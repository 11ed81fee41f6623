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
  /** the SPTE values (written only by TdpMmuCore.storeSpte) */
  readonly entries: Float64Array;
  /**
   * Bit i set ⇔ entries[i] !== 0, kept by storeSpte: a walk jumps straight to the next non-zero
   * entry (an x86 table is 512 entries, mostly empty) and skips an empty table at once.
   */
  readonly nonzero: Uint32Array;

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
  /** removed and off the tree: sub, subMirrorView and subCounts are not kept (TdpMmuCore.storeSpte) */
  stale = false;
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
    this.nonzero = new Uint32Array((fanout + 31) >>> 5);
  }

  toString(): string {
    return `${this.mirror ? 'mirror' : 'direct'} ${this.isRoot ? 'root' : 'sp'}#${this.serial} L${this.level} gfn=0x${this.gfn.toString(16)}`;
  }
}

/**
 * The first index in [from, limit) whose entry is non-zero (its bit in `mask` is set), or -1.
 * Same entries, same order as testing each entry for zero in turn.
 */
export function nextNonZero(mask: Uint32Array, from: number, limit: number): number {
  for (let w = from >>> 5; (w << 5) < limit; w++) {
    let bits = mask[w];
    if (w === from >>> 5) bits &= ~0 << (from & 31);
    if (bits === 0) continue;
    const i = (w << 5) + (31 - Math.clz32(bits & -bits));
    return i < limit ? i : -1;
  }
  return -1;
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
