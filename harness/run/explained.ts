// The by-design differences between before and after (kernel-model §3.1, D1–D16), declared once
// with their reason. A divergence is "explained" only when it matches one precisely; it is then
// reported as explained, never dropped. Entries with `extendedOnly` never excuse a legal-domain run.
import type { Op, OpOutcome } from '../../impls/api';
import { diagCategories, multisetMinus, type Equivalence, type Observation } from './compare';
import type { Explanation } from './findings';
import type { Domain } from '../seq/domain';

export interface DivergenceContext {
  op: Op;
  component: string;
  equiv: Equivalence;
  domain: Domain;
  sides: [Observation, Observation];
}

export interface ExplainedDifference extends Explanation {
  /** only reachable through misuse the kernel never does */
  extendedOnly: boolean;
  /** the designs' states stay apart afterwards: stop comparing this pair for the rest of the run */
  persistent: boolean;
  /** diagnostics one design raises and the other, by design, does not (diagnostic-only divergences) */
  extraDiagnostics?: string[];
  /** per-design violations this difference leaves behind in one design (reported as explained too) */
  leavesViolations?: string[];
  /**
   * Recognises the violation from one design's own op trace, for when the pair is no longer compared
   * (after an earlier persistent difference) and the divergence itself cannot be seen.
   */
  matchViolation?: (kind: string, op: Op, outcome: OpOutcome) => boolean;
  /** a full matcher, for differences that are not diagnostic-only */
  match?: (ctx: DivergenceContext) => boolean;
}

const opsOf = (op: Op): Op[] => (op.race ? [op, op.race.op] : [op]);
const eitherHas = (ctx: DivergenceContext, cat: string): boolean =>
  ctx.sides.some(s => s.outcome.diagnostics.some(d => `${d.kind}:${d.category}` === cat));

export const EXPLAINED: readonly ExplainedDifference[] = [
  {
    id: 'D2', title: 'external page freed at a different time',
    reason: 'before frees the external page with the SP in the RCU callback; after frees it inside handle_removed_pt right after RECLAIM. Only strict equivalence sees the pending RCU frees.',
    extendedOnly: false, persistent: false,
    match: ctx => ctx.component === 'pending-rcu',
  },
  {
    id: 'D4', title: 'extra MMU WARN when free_external_spt fails',
    reason: 'before: free_external_spt returns -EIO and handle_removed_pt WARNs (not once) before leaking the page; after: the void TDX hook leaks it without an MMU WARN. Same leak, same VM state.',
    extendedOnly: false, persistent: false,
    extraDiagnostics: ['WARN:external-spt-free-failed'],
  },
  {
    id: 'D12', title: 'extra KVM_BUG_ON when a leaf removal fails',
    reason: "after: handle_changed_spte wraps __handle_changed_spte in KVM_BUG_ON, so a failed TDX leaf removal also records the MMU's KVM_BUG_ON (silent: TDX already bugged the VM).",
    extendedOnly: false, persistent: false,
    extraDiagnostics: ['KVM_BUG_ON:external-change-failed'],
  },
  {
    id: 'D11', title: 'leaf stats after a failed propagation',
    reason: "after: __handle_changed_spte returns the hook's error before updating page stats (Sean's fix for to-present changes). For a zap the mirror SPTE is already non-present, so when TDX fails to remove the leaf the 4K stat stays one too high; before updates stats before the removal hook. Only after a TDX failure, with the VM bugged in both.",
    extendedOnly: false, persistent: true,
    match: ctx => ctx.component === 'stats' && ctx.sides.every(s => s.digests.bugged),
  },
  {
    id: 'D16', title: 'KVM_BUG_ON/lockdep sites moved from the MMU to TDX',
    reason: 'the series moves asserts and KVM_BUG_ONs from the TDP MMU into TDX code: the same category is raised from a different site. Only strict equivalence compares sites.',
    extendedOnly: false, persistent: false,
    match: ctx => ctx.component === 'diagnostic-sites',
  },
  {
    id: 'D6', title: 'atomic zap of a mirror leaf is propagated',
    reason: 'before: __tdp_mmu_set_spte_atomic rejects it (KVM_BUG_ON, SPTE unchanged); after: freeze → BLOCK/TRACK/REMOVE/WBINVD under the read lock (lockdep) → non-present.',
    extendedOnly: true, persistent: true,
    match: ctx => opsOf(ctx.op).some(o => o.kind === 'atomicZap' && o.level === 1) && eitherHas(ctx, 'KVM_BUG_ON:mirror-atomic-zap'),
  },
  {
    id: 'D7', title: 'atomic zap of a mirror page table is propagated',
    reason: 'before: KVM_BUG_ON, nothing changes; after: handle_removed_pt(shared) removes the leaves under the read lock and frees the table while the hkid is assigned → KVM_BUG_ON + leak.',
    extendedOnly: true, persistent: true,
    match: ctx => opsOf(ctx.op).some(o => o.kind === 'atomicZap' && o.level > 1) && eitherHas(ctx, 'KVM_BUG_ON:mirror-atomic-zap'),
  },
  {
    id: 'D8', title: 'mirror handle_removed_pt in shared mode',
    reason: 'before bugs the VM for each entry of a mirror table removed under the read lock; after leaves the check to TDX lockdep.',
    extendedOnly: true, persistent: true,
    match: ctx => eitherHas(ctx, 'KVM_BUG_ON:mirror-removal-shared'),
  },
  {
    id: 'D9', title: 'non-atomic install of a present mirror SPTE',
    reason: '[?] before bugs the VM and propagates nothing; after (check dropped per the v2/v3 cover letter) propagates it.',
    extendedOnly: true, persistent: true,
    match: ctx => eitherHas(ctx, 'KVM_BUG_ON:mirror-nonatomic-install'),
  },
  {
    id: 'D10', title: 'present leaf → present leaf on a mirror SPTE',
    reason: 'before: KVM_BUG_ON, PAGE.AUG on a mapped GPA fails, TDX_BUG_ON, mirror restored; after: TDX removes the old leaf and the mirror takes the new value — mirror/S-EPT inconsistency without a bug. Not reachable via real faults.',
    extendedOnly: true, persistent: true, leavesViolations: ['mirror-sept-mismatch'],
    match: ctx => eitherHas(ctx, 'KVM_BUG_ON:mirror-present-overwrite'),
    // after: a private write fault whose TDX call removed the old leaf (PAGE.REMOVE inside a fault)
    matchViolation: (kind, op, outcome) => kind === 'mirror-sept-mismatch'
      && opsOf(op).some(o => o.kind === 'fault' && o.private && o.write)
      && outcome.seamcalls.some(c => c.call === 'PAGE.REMOVE'),
  },
  {
    id: 'D13', title: 'aging a mirror root',
    reason: 'before has no guard and clears the Accessed bit of mirror SPTEs; after WARNs once and skips them.',
    extendedOnly: true, persistent: true,
    match: ctx => opsOf(ctx.op).some(o => o.kind === 'age' && o.mirror),
  },
];

/** Documented differences that never show as a divergence of observable state (for the report). */
export const UNOBSERVABLE: readonly Explanation[] = [
  { id: 'D1', title: 'hook surface', reason: 'four ops vs set_external_spte(old,new) + free_external_spt(sp); the SEAMCALL sequences of legal transitions are identical, and the models compare SEAMCALLs, not hook names.' },
  { id: 'D3', title: 'who frees', reason: 'the MMU vs TDX + tdp_mmu_free_unused_sp; visible only through D2 timing and the ledger, which must agree.' },
  { id: 'D5', title: 'RCU-callback WARN', reason: 'after WARNs (and leaks) if an external page is still attached at the RCU callback; a correct design never reaches it, so any occurrence is a finding.' },
  { id: 'D14', title: 'iter->old_spte after a failed freeze', reason: 'both models refresh it (the base is taken to carry v5 02/45).' },
  { id: 'D15', title: 'return type of the free hook', reason: 'int vs void; observable only as D4.' },
];

/** The explanations that cover this divergence, or undefined when it is unexplained. */
export function explain(ctx: DivergenceContext): ExplainedDifference[] | undefined {
  const allowed = EXPLAINED.filter(e => !(e.extendedOnly && ctx.domain === 'legal'));
  const full = allowed.find(e => e.match?.(ctx));
  if (full) return [full];
  if (ctx.component !== 'diagnostics') return undefined;
  const [a, b] = ctx.sides.map(s => diagCategories(s.outcome));
  const extras = [...multisetMinus(a, b), ...multisetMinus(b, a)];
  const used = new Set<ExplainedDifference>();
  for (const x of extras) {
    const e = allowed.find(d => d.extraDiagnostics?.includes(x));
    if (!e) return undefined;
    used.add(e);
  }
  return used.size ? [...used] : undefined;
}
