// The per-patch behaviour switches of the series model (series.md §1, §5): a step is a set of applied
// patch ids, and every place the kernel text changes between `before` and `after` asks one of these
// booleans. Computed once per instance: the model's hot paths read plain fields.

export interface Switches {
  /** P1: set_external_spte for leaf and non-leaf; link_external_spt gone, child checks in TDX */
  dispatchInTdx: boolean;
  /** P2: tdx_sept_link_private_spt is tdx_sept_map_nonleaf_spte (a rename: diagnostic sites only) */
  mapHelpers: boolean;
  /** P3: set_external_spte_present folded into __tdp_mmu_set_spte_atomic (diagnostic sites only) */
  folded: boolean;
  /** P5: the mirror-branch KVM_BUG_ONs of __tdp_mmu_set_spte_atomic move to TDX (old present → -EIO) */
  tdxRejectsOldPresent: boolean;
  /** P6: lockdep_assert_held(mmu_lock) moves into tdx_sept_set_private_spte */
  lockdepInTdx: boolean;
  /** P7: the mirror branch tests "mirror" alone; KVM_MMU_WARN_ON(FROZEN as new value) */
  mirrorBranchOnMirror: boolean;
  /** P9 (or v1 07/17): tdp_mmu_set_spte_atomic freezes and propagates through __handle_changed_spte */
  central: boolean;
  /** P9: atomic (shared) changes of any kind are forwarded; v1 07/17 forwarded to-present ones only */
  forwardsAtomicZaps: boolean;
  /** P9 as v3 has it: a non-present ↔ non-present change is still traced (v2's P9 lost it, §3) */
  tracesNonPresent: boolean;
  /** P10: handle_removed_pt no longer KVM_BUG_ONs on shared for mirror children */
  noSharedChildBug: boolean;
  /** P12: remove_external_spte gone; every mirror leaf change goes through set_external_spte */
  removalViaSet: boolean;
  /** P13: tdx_sept_remove_private_spte is tdx_sept_remove_leaf_spte (a rename: SeamcallRecord.by only) */
  removeLeafNamed: boolean;
  /** P14: void free_external_spt(kvm, sp); TDX NULLs on failure; the MMU's WARN goes */
  voidFreeHook: boolean;
  /** P15: TDX frees the external page right after reclaim; tdp_mmu_free_unused_sp; RCU-callback WARN */
  tdxFreesExternal: boolean;
}

export function switchesOf(patches: readonly string[]): Switches {
  const has = (...ids: string[]): boolean => ids.some(id => patches.includes(id));
  return {
    dispatchInTdx: has('P1'),
    mapHelpers: has('P2'),
    folded: has('P3'),
    tdxRejectsOldPresent: has('P5'),
    lockdepInTdx: has('P6'),
    mirrorBranchOnMirror: has('P7'),
    central: has('P9', 'v2-P9', 'v1-P7'),
    forwardsAtomicZaps: has('P9', 'v2-P9'),
    tracesNonPresent: has('P9', 'v1-P7'),
    noSharedChildBug: has('P10'),
    removalViaSet: has('P12'),
    removeLeafNamed: has('P13'),
    voidFreeHook: has('P14'),
    tdxFreesExternal: has('P15'),
  };
}
