// SERIES — the TDX side of the external-SPT hooks at any step of the series (series.md §1; kernel-model
// §2.13 "Hooks — before/after"). Step 0 is impls/before/tdx.ts, step 15 impls/after/tdx.ts; each
// `this.at.*` test is one patch's change (impls/series/switches.ts, one file per patch in patches/).
import { EBUSY, EIO } from '../tdp_mmu/core';
import { isLeaf, isNonLeaf, isPresent } from '../machine/spte';
import type { KvmMmuPage } from '../tdp_mmu/sp';
import type { VmConfig } from '../api';
import { TdxCommon, tdxOperandBusy } from '../tdx/tdx_common';
import { switchesOf, type Switches } from './switches';

/** virt_to_page(NULL): no page of the ledger; the module's PAMT check refuses it (as impls/after/tdx.ts) */
const NULL_PAGE = -1;

export abstract class SeriesTdx extends TdxCommon {
  /** the applied patch ids, in series order (DesignInstance.patches) */
  readonly patches: readonly string[];
  protected readonly at: Switches;

  constructor(name: string, config: VmConfig, patches: readonly string[]) {
    super(name, config);
    this.patches = patches;
    this.at = switchesOf(patches);
  }

  /**
   * kvm_x86_ops.set_external_spte → tdx_sept_set_private_spte. Before P1 only leaves come here (the
   * MMU calls link_external_spt for tables); P1 makes it the dispatcher; P4 plumbs `old` (not read
   * until P5); P5 rejects old-present (the KVM_BUG_ON moved from __tdp_mmu_set_spte_atomic); P6 holds
   * the lockdep assert; P12 turns old-present into the leaf removal.
   */
  protected tdxSeptSetPrivateSpte(gfn: number, oldSpte: number, newSpte: number, level: number): number {
    if (this.at.lockdepInTdx) this.lockdepAssertHeld('tdx.c:tdx_sept_set_private_spte');
    if (!this.at.dispatchInTdx) return this.tdxSeptMapLeafSpte(gfn, level, newSpte);
    if (isPresent(oldSpte) && this.at.removalViaSet) {
      // huge-page series (our reading, [?]): a huge leaf becoming a table is a demotion
      if (this.config.hugePages && isLeaf(oldSpte) && isNonLeaf(newSpte)) {
        return this.tdxSeptSplitPrivateSpte(gfn, level, this.childSp(newSpte)?.externalSpt ?? null);
      }
      return this.tdxSeptRemoveLeafSpte(gfn, level, oldSpte);
    }
    if (isPresent(oldSpte) && this.at.tdxRejectsOldPresent
        && this.diag.kvmBugOn(true, 'tdx.c:tdx_sept_set_private_spte:old-present', 'mirror-present-overwrite')) return EIO;
    if (this.diag.kvmBugOn(!isPresent(newSpte), 'tdx.c:tdx_sept_set_private_spte:not-present', 'nonpresent-propagated')) return EIO;
    if (!isLeaf(newSpte)) return this.tdxSeptMapNonleafSpte(gfn, level, newSpte);
    return this.tdxSeptMapLeafSpte(gfn, level, newSpte);
  }

  /** The function's name at this step: P2 renames tdx_sept_link_private_spt → tdx_sept_map_nonleaf_spte. */
  private get nonleafFn(): string { return this.at.mapHelpers ? 'tdx_sept_map_nonleaf_spte' : 'tdx_sept_link_private_spt'; }

  /** From P1: the child SP checks (KVM_BUG_ON, -EIO; they were in the MMU before), then SEPT.ADD. */
  protected tdxSeptMapNonleafSpte(gfn: number, level: number, newSpte: number): number {
    const child = this.childSp(newSpte);
    if (this.diag.kvmBugOn(!child || child.externalSpt === null || child.level !== level - 1 || child.gfn !== gfn,
      `tdx.c:${this.nonleafFn}:child`, 'external-spt-missing')) return EIO;
    return this.tdxSeptLinkPrivateSpt(gfn, level, child!.externalSpt!);
  }

  /**
   * Step 0: kvm_x86_ops.link_external_spt → tdx_sept_link_private_spt; from P1 the SEPT.ADD tail of
   * the non-leaf map. DPAMT: the pair is got before SEPT.ADD, put if it fails (both designs).
   */
  protected tdxSeptLinkPrivateSpt(gfn: number, level: number, externalSpt: number): number {
    this.tdxPamtGet(externalSpt);
    const err = this.tdx.septAdd(this.nonleafFn, gfn, level, externalSpt);
    if (err !== 'SUCCESS') this.tdxPamtPut(externalSpt);
    if (tdxOperandBusy(err)) return EBUSY;
    if (this.diag.tdxBugOn(err !== 'SUCCESS', `tdx.c:${this.nonleafFn}:SEPT.ADD`, 'seamcall-failed', true, err)) return EIO;
    return 0;
  }

  /**
   * Leaf removal: kvm_x86_ops.remove_external_spte (void) until P12, which makes it the int
   * old-present branch of set_external_spte; P13 renames it tdx_sept_remove_leaf_spte (the shared
   * sequence's sites already carry the final name in both endpoint models; the SEAMCALLs' issuer,
   * SeamcallRecord.by, follows the rename).
   */
  protected tdxSeptRemoveLeafSpte(gfn: number, level: number, oldSpte: number): number {
    return this.tdxSeptRemoveLeafSequence(this.at.removeLeafNamed ? 'tdx_sept_remove_leaf_spte' : 'tdx_sept_remove_private_spte', gfn, level, oldSpte);
  }

  /**
   * kvm_x86_ops.free_external_spt before P14: int tdx_sept_free_private_spt(kvm, gfn, level, spt);
   * only legal once the hkid is released; reclaims the page but does not free it.
   */
  protected tdxSeptFreePrivateSptInt(externalSpt: number): number {
    if (this.diag.kvmBugOn(this.tdx.hkidAssigned, 'tdx.c:tdx_sept_free_private_spt:hkid', 'page-table-free-with-hkid')) return EIO;
    return this.tdxReclaimPage(externalSpt);
  }

  /**
   * From P14: void tdx_sept_free_private_spt(kvm, sp): on hkid-assigned or reclaim failure leak the
   * page and NULL the pointer. P14 leaves a reclaimed page attached for the RCU callback to free; P15
   * free_page()s it right away (RECLAIM guarantees no readers) and always NULLs (seed 000).
   */
  protected tdxSeptFreePrivateSpt(sp: KvmMmuPage): void {
    const ext = sp.externalSpt;
    if (this.diag.kvmBugOn(this.tdx.hkidAssigned, 'tdx.c:tdx_sept_free_private_spt:hkid', 'page-table-free-with-hkid')
        || this.tdxReclaimPage(ext ?? NULL_PAGE)) {
      if (ext !== null) this.ledger.leakOnPurpose(ext, 'free_external_spt: S-EPT page not reclaimed (TDX leaks it)');
      sp.externalSpt = null;
      return;
    }
    if (!this.at.tdxFreesExternal) return;
    // DPAMT (v6 09/11): tdx_free_control_page = put + free, right after RECLAIM, in process context
    this.tdxPamtPut(ext!);
    this.freePage(ext!, 'tdx.c:tdx_sept_free_private_spt');
    sp.externalSpt = null;
  }

  /** Huge-page series (our reading, [?]): kvm_x86_ops.split_external_spt, before P12's dispatcher. */
  protected tdxSeptSplitPrivateSpt(gfn: number, level: number, externalSpt: number | null): number {
    return this.tdxSeptSplitPrivateSpte(gfn, level, externalSpt);
  }
}
