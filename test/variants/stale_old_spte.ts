// A broken variant of `after` for the iterator-reuse tests (model level and harness level).
import { AfterDesign } from '../../impls/after/tdp_mmu';
import type { TdpIter } from '../../impls/tdp_mmu/sp';

/** old_spte passed by value (before RFC v5 02/45): a failed cmpxchg does not refresh iter.old_spte. */
export class AfterStaleOldSpte extends AfterDesign {
  protected override __tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
    const old = iter.oldSpte;
    const r = super.__tdpMmuSetSpteAtomic(iter, newSpte);
    if (r) iter.oldSpte = old;
    return r;
  }
}
