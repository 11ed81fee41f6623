// Broken variants of `after` that do in the RCU callback (softirq) what only process context may:
// shared by the model-level and harness-level execution-context tests.
import { AfterDesign } from '../../impls/after/tdp_mmu';
import { FROZEN } from '../../impls/machine/spte';
import type { KvmMmuPage } from '../../impls/tdp_mmu/sp';

/** Yan's alternative (a) taken one step further: TDX reclaims the S-EPT page in the RCU callback. */
export class AfterReclaimInRcuCallback extends AfterDesign {
  protected override handleRemovedPt(sp: KvmMmuPage, shared: boolean): void {
    this.tdpMmuUnlinkSp(sp);
    sp.removed = true;
    for (let i = 0; i < this.geo.fanout; i++) {
      const old = this.freezeRemovedPtEntry(sp, i, shared);
      if (old !== undefined) this.handleChangedSpte(sp, sp.gfn + i * this.geo.span(sp.level), old, FROZEN, sp.level, shared);
    }
    this.callRcuFreeSp(sp);
  }
  protected override tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    if (sp.mirror && !sp.isRoot) this.tdxSeptFreePrivateSpt(sp);
    super.tdpMmuFreeSpRcuCallback(sp);
  }
}
/** Refills vCPU 0's caches from the RCU callback (GFP_KERNEL_ACCOUNT in softirq). */
export class AfterAllocInRcuCallback extends AfterDesign {
  protected override tdpMmuFreeSpRcuCallback(sp: KvmMmuPage): void {
    super.tdpMmuFreeSpRcuCallback(sp);
    this.mmuTopupMemoryCaches(this.vcpus[0]);
  }
}
