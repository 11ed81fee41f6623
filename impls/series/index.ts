// The series patch by patch (issue 10; series.md §1–§3): each step is a design, the base with the
// patches up to that step applied (impls/series/patches/, one file per patch; the switches they turn
// on: switches.ts). Designs are named "<series>:<step>", e.g. "v3:P7" ("v3:P0" is the base with no
// patch applied), and resolve wherever designs are named (harness/run/designs.ts).
//
// Built in: tdx-mmu-refactors-v3 (alias v3; the merged order), -v2 (v2's P9 without the
// non-present trace, §3) and -v1 (v1 07/17 before P1–P4: the atomic-zap window of §2).
import type { Design, VmConfig } from '../api';
import type { PatchInfo, PatchKind } from './patches/patch';
import { SeriesDesign } from './series_tdp_mmu';
import { P1 } from './patches/p01_drop_link_external_spt';
import { P2 } from './patches/p02_wrap_mapping_helpers';
import { P3 } from './patches/p03_fold_set_external_spte_present';
import { P4 } from './patches/p04_plumb_old_spte';
import { P5 } from './patches/p05_move_kvm_bug_ons_to_tdx';
import { P6 } from './patches/p06_move_lockdep_to_tdx';
import { P7 } from './patches/p07_frozen_check_to_warn';
import { P8 } from './patches/p08_plumb_sp_pointer';
import { P9 } from './patches/p09_central_propagation';
import { P10 } from './patches/p10_drop_shared_child_bug';
import { P11 } from './patches/p11_hoist_remove_private_spte';
import { P12 } from './patches/p12_drop_remove_external_spte';
import { P13 } from './patches/p13_rename_remove_leaf_spte';
import { P14 } from './patches/p14_free_hook_error_handling';
import { P15 } from './patches/p15_tdx_frees_external_spt';
import { V1_P7 } from './patches/v1_p07_centralize_present';
import { V2_P9 } from './patches/v2_p09_missing_trace';

export interface SeriesStep {
  /** 'P1'..'P15'; v1's own patches 'v1-P7', 'v1-P8', 'v1-P16', 'v1-P17' (v1 numbering) */
  id: string;
  title: string;
  source: string;
  provenance: 'patch' | 'reconstructed';
  /** the previous step's design plus this step's patch; its instances expose `patches` */
  design: Design;
  /** D-ids (harness/run/explained.ts) this step is expected to introduce vs the previous step; [] = claimed pure refactor */
  differences: string[];
  /** what the tool can observe of this step (patches/patch.ts) */
  kind: PatchKind;
  /** the patch this step applies (for v1-P8 that is P1's content, under v1's number) */
  patch: PatchInfo;
}

export interface Series {
  name: string;
  /** the short name used in design names ("v3" in "v3:P7") */
  alias: string;
  description: string;
  /** step 0: no patch applied (behaves as the `before` design) */
  base: Design;
  steps: SeriesStep[];
}

function stepDesign(name: string, patches: readonly string[], description: string): Design {
  return { name, description, create: (config: VmConfig) => new SeriesDesign(name, config, patches) };
}

/** Builds a series: each entry is [step id, patch, title override?]. */
function series(name: string, alias: string, description: string, entries: [string, PatchInfo, string?][]): Series {
  const base = stepDesign(`${alias}:P0`, [], `${name} step 0: no patch applied (the before design)`);
  const applied: string[] = [];
  const steps = entries.map(([id, patch, title]): SeriesStep => {
    applied.push(patch.id);
    return {
      id, title: title ?? patch.title, source: patch.source, provenance: patch.provenance,
      design: stepDesign(`${alias}:${id}`, [...applied], `${name} after ${id}: ${title ?? patch.title}`),
      differences: patch.differences, kind: patch.kind, patch,
    };
  });
  return { name, alias, description, base, steps };
}

const V3_ORDER: PatchInfo[] = [P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15];

export const BUILTIN_SERIES: Record<string, Series> = {
  'tdx-mmu-refactors-v3': series('tdx-mmu-refactors-v3', 'v3',
    'TDX MMU refactors v3 (Yan Zhao, 2026-05-28; merged 2026-06-19): base = before, step 15 = after',
    V3_ORDER.map(p => [p.id, p] as [string, PatchInfo])),
  'tdx-mmu-refactors-v2': series('tdx-mmu-refactors-v2', 'v2',
    "TDX MMU refactors v2 (2026-05-09): v3's order, with v2's patch 9 (no trace for non-present <-> non-present changes, series.md §3)",
    V3_ORDER.map(p => (p === P9 ? ['v2-P9', V2_P9] : [p.id, p]) as [string, PatchInfo])),
  'tdx-mmu-refactors-v1': series('tdx-mmu-refactors-v1', 'v1',
    "TDX MMU refactors v1 (Rick Edgecombe, 2026-03-27), reconstructed: v1 07/17 (P8 + P9 for to-present changes only) before "
    + 'P1-P4, which opens the atomic-zap window (series.md §2) until P12; v1 01-06 and 09-15 are not found, so the other '
    + "patches are v2's, in v2's order",
    [
      ['v1-P7', V1_P7],
      ['v1-P8', P1, 'KVM: TDX: Drop kvm_x86_ops.link_external_spt() (v1 08/17)'],
      ...[P2, P3, P4, P5, P6, P7, P10, P11, P12, P13].map(p => [p.id, p] as [string, PatchInfo]),
      ['v1-P16', P14, 'KVM: x86: Move error handling inside free_external_spt() (v1 16/17)'],
      ['v1-P17', P15, 'KVM: TDX: Move external page table freeing to TDX code (v1 17/17)'],
    ]),
};

/** "v3:P7", "tdx-mmu-refactors-v3:P7", "v3:P0" (the base) → that step's design; undefined when not a step name. */
export function findSeriesDesign(name: string): Design | undefined {
  const at = name.lastIndexOf(':');
  if (at < 0) return undefined;
  const [s, step] = [name.slice(0, at), name.slice(at + 1)];
  const ser = Object.values(BUILTIN_SERIES).find(x => x.name === s || x.alias === s);
  if (!ser) return undefined;
  if (step === 'P0') return ser.base;
  return ser.steps.find(x => x.id === step)?.design;
}
