// A v2-like step of the series (series.md §3): `after` as posted in v2, before v3's "missing trace"
// fix — no trace_kvm_tdp_mmu_spte_changed on __handle_changed_spte's non-present ↔ non-present return.
import type { Design, VmConfig } from '../../impls/api';
import { AfterDesign } from '../../impls/after/tdp_mmu';
import type { KvmMmuPage } from '../../impls/tdp_mmu/sp';

class AfterV2MissingTrace extends AfterDesign {
  protected override traceNonPresentChange(_sp: KvmMmuPage, _gfn: number, _level: number, _old: number, _new: number): void {}
}

export const v2MissingTrace: Design = {
  name: 'v2-missing-trace',
  description: 'after without the trace of non-present <-> non-present changes (v2, series.md §3)',
  create: (c: VmConfig) => new AfterV2MissingTrace('v2-missing-trace', c),
};
