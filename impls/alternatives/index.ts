// The alternatives proposed in review (series.md §4), as designs addressable as "alt:<id>": each
// answers a reviewer's question by running against `after` (see README "Questions from the review
// threads, answered"). Two of them were seeded bugs before; they keep their mutant classes.
import type { Design, VmConfig } from '../api';
import type { TdpMmuVm } from '../tdp_mmu/vm_ops';
import { AfterExternalFromTdxPrealloc } from '../mutants/free_paths';
import { AfterStatsBeforeHook } from '../mutants/propagation';
import { AfterFreeInRcu, AfterUnusedSpWarns } from './free_timing';
import { AfterUnifyAfterRemovedPt, AfterUnifyInRemovedPt, AfterWarnsMirrorShared } from './unification';

export interface AlternativeInfo {
  id: string;
  /** the letter of series.md §4 */
  section: string;
  /** who proposed it, where */
  source: string;
  /** the question the review thread left open */
  question: string;
  /** what series.md predicts against after */
  predicted: string;
  design: Design;
}

type Ctor = new (name: string, config: VmConfig) => TdpMmuVm;

function alt(id: string, section: string, ctor: Ctor, description: string, source: string, question: string, predicted: string): AlternativeInfo {
  const name = `alt:${id}`;
  return { id, section, source, question, predicted, design: { name, description, create: (c: VmConfig) => new ctor(name, c) } };
}

export const ALTERNATIVES: readonly AlternativeInfo[] = [
  alt('free-in-rcu', '4(a)', AfterFreeInRcu,
    'TDX only reclaims; the RCU callback frees external_spt with spt (the step-14 state)',
    'Yan Zhao on v1 17/17 (seed 000)', 'why not free external_spt with spt in the RCU-time free instead of in TDX code?',
    'free timing only (D2); under DPAMT the RCU-time put takes pamt_lock in softirq (lockdep)'),
  alt('reclaim-external-sp', '4(c)', AfterFreeInRcu,
    'RFC v5 09/45 reclaim_external_sp(kvm, gfn, sp): reclaim in TDX, free in the RCU callback',
    'RFC v5 09/45 (seed 004)', 'does the v5 reclaim_external_sp hook behave like the final free_external_spt?',
    'free timing only (D2, D3, D5)'),
  alt('unify-in-removed-pt', '4(b)1', AfterUnifyInRemovedPt,
    'handle_removed_pt calls set_external_spte(parent old, parent new) instead of the free hook',
    'Yan Zhao, 2026-04-07 on v1 07/17 (seed 003), option 1', 'can the free hook be folded into set_external_spte?',
    'identical SEAMCALLs and order: equivalent under strict'),
  alt('unify-after-removed-pt', '4(b)2', AfterUnifyAfterRemovedPt,
    '__handle_changed_spte calls set_external_spte for table removals too, after handle_removed_pt',
    'Yan Zhao, 2026-04-07 on v1 07/17 (seed 003), option 2', 'can table removals go through set_external_spte after call_rcu is queued?',
    'identical SEAMCALLs and order: equivalent under strict'),
  alt('tdx-prealloc-pool', '4(d)', AfterExternalFromTdxPrealloc,
    'DPAMT v4 11/16: fault-path external pages from the TDX prealloc pool, freed by KVM with free_page()',
    'DPAMT v4 11/16, NAK\'d by Sean (seed 001)', 'may KVM free S-EPT pages that came from TDX\'s PAMT prealloc pool?',
    'wrong pool on every free of such a page'),
  alt('unused-sp-warns', '4(e)', AfterUnusedSpWarns,
    'tdp_mmu_free_sp only WARNs on a non-NULL external page; TDX frees the used ones',
    'Kai Huang\'s diff on v5 20/45 (S20b)', 'can common KVM leave all external-page freeing to TDX?',
    'a WARN and a leak on every link failure (install race, SEPT.ADD BUSY)'),
  alt('warn-mirror-shared', '4(f)', AfterWarnsMirrorShared,
    'handle_changed_spte WARNs on a mirror change made under the shared lock',
    'Yan Zhao on v5 08 (S16)', 'should the error-ignoring wrapper WARN for mirror + shared?',
    'fires only where mirror children are zapped under the read lock (extended domain)'),
  alt('stats-before-hook', '4(f)', AfterStatsBeforeHook,
    'v5 08\'s order: stats and trace before the fallible set_external_spte',
    'RFC v5 08/45, Yan\'s BUSY report, fixed in S16', 'does bumping stats before the hook matter?',
    'a SEPT.ADD/AUG BUSY leaves the page stats wrong (D11)'),
];

export function findAlternative(id: string): AlternativeInfo | undefined {
  return ALTERNATIVES.find(a => a.id === id || a.design.name === id);
}
