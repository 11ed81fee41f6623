// The by-design differences between before and after (kernel-model §3.1, D1–D16), declared once
// with their reason. A divergence is "explained" only when it matches one precisely; it is then
// reported as explained, never dropped. Entries with `extendedOnly` never excuse a legal-domain run.
import type { Op, OpOutcome } from '../../impls/api';
import type { DesignBase } from '../../impls/designs';
import { BUILTIN_SERIES } from '../../impls/series/index';
import { multisetMinus, type Equivalence, type Observation } from './compare';
import type { Explanation } from './findings';
import type { Domain } from '../seq/domain';

export interface DivergenceContext {
  op: Op;
  component: string;
  equiv: Equivalence;
  domain: Domain;
  sides: [Observation, Observation];
  /** the design each side derives from (a mutant or variant of after is an after), null if neither */
  bases: [DesignBase | null, DesignBase | null];
  /** kvm->stat.pages[1..3] of each side, read only when a matcher needs them */
  stats: () => [readonly number[], readonly number[]];
  /** the stats lag (second − first, per level) already explained earlier in the run */
  statsOffset: readonly number[];
  /** the run's VM configuration has Dynamic PAMT on (VmConfig.dpamt) */
  dpamt?: boolean;
  /** the patch ids each side reports applied (DesignInstance.patches; a series step), undefined if it does not */
  patches?: [readonly string[] | undefined, readonly string[] | undefined];
  /** only these D-ids may explain (RunOptions.allowedExplanations: a bisect step's declared differences); undefined: all */
  allowed?: readonly string[];
}

/**
 * A per-design violation a difference leaves behind in one design. It is recognised at the op that
 * causes it (from that design's own op trace, so also when the pair is no longer compared), and only
 * for the entries it damaged then: a later violation of the same kind elsewhere is not excused.
 */
export interface LeftViolation {
  kind: string;
  /** this design's op trace shows the difference happening at this op */
  origin: (op: Op, outcome: OpOutcome) => boolean;
  /** the damaged entry a violation detail names, if it is the damage this difference leaves (else null) */
  entry: (detail: string, op: Op, atOrigin: boolean) => string | null;
  /** only in a design that derives from this one (a variant of the other design is never excused) */
  base?: DesignBase;
  /** only when the run's configuration has DPAMT on */
  dpamtOnly?: boolean;
}

export interface ExplainedDifference extends Explanation {
  /** only reachable through misuse the kernel never does */
  extendedOnly: boolean;
  /** the designs' states stay apart afterwards: stop comparing this pair for the rest of the run */
  persistent: boolean;
  /**
   * diagnostics one design raises and the other, by design, does not (diagnostic-only divergences):
   * only when the side with the extra diagnostic derives from `extraOn` and the other side from the
   * other design
   */
  extraDiagnostics?: string[];
  extraOn?: DesignBase;
  /** a further condition on the divergence for `extraDiagnostics` (configuration, sites) */
  extraWhen?: (ctx: DivergenceContext) => boolean;
  /** the per-design violation this difference leaves behind (reported as explained too) */
  leaves?: LeftViolation;
  /** a full matcher, for differences that are not diagnostic-only */
  match?: (ctx: DivergenceContext) => boolean;
}

const opsOf = (op: Op): Op[] => (op.race ? [op, op.race.op] : [op]);

// ---- kvm_tdp_mmu_spte_changed traces: flat (gfn, level + 8·mirror + 16·racing, old, new), non-leaf = -1.
type TraceEvent = [number, number, number, number];
function eventsOf(t: readonly number[] = []): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let i = 0; i + 3 < t.length; i += 4) out.push([t[i], t[i + 1], t[i + 2], t[i + 3]]);
  return out;
}
/** A trace event of a page-table removal (old is a table, new is not): handle_removed_pt runs for it. */
const removesTable = (e: TraceEvent): boolean => e[2] === -1 && e[3] !== -1;
const levelOf = (e: TraceEvent): number => e[1] % 8;
const treeOf = (e: TraceEvent): number => Math.floor(e[1] / 8) % 2;
const actorOf = (e: TraceEvent): number => Math.floor(e[1] / 16);
/**
 * before's order (parent traced, then handle_removed_pt traces its children) turned into after's
 * (handle_removed_pt first, the parent traced after its subtree). A child event is one of the same
 * actor that follows the parent, in the same tree, at a lower level, inside the parent's gfn range
 * (span = fanout^(L-1)); a racing op's events inside the subtree move with it.
 */
function parentAfterChildren(ev: readonly TraceEvent[], fanout: number): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let i = 0; i < ev.length;) {
    const e = ev[i];
    if (!removesTable(e)) { out.push(e); i++; continue; }
    const span = fanout ** (levelOf(e) - 1);
    let endSub = i + 1;
    for (let j = i + 1; j < ev.length; j++) {
      const x = ev[j];
      if (actorOf(x) !== actorOf(e)) continue;
      if (treeOf(x) !== treeOf(e) || levelOf(x) >= levelOf(e) || x[0] < e[0] || x[0] >= e[0] + span) break;
      endSub = j + 1;
    }
    out.push(...parentAfterChildren(ev.slice(i + 1, endSub), fanout), e);
    i = endSub;
  }
  return out;
}
const sameEvent = (a: TraceEvent, b: TraceEvent): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
/** The (before, after) sides of a before-vs-after pair, in either order; null for any other pair. */
function beforeAfter(ctx: DivergenceContext): [Observation, Observation] | null {
  if (ctx.bases[0] === 'before' && ctx.bases[1] === 'after') return [ctx.sides[0], ctx.sides[1]];
  if (ctx.bases[0] === 'after' && ctx.bases[1] === 'before') return [ctx.sides[1], ctx.sides[0]];
  return null;
}
/** The traces are equal once before's removals are moved after their subtrees (either geometry). */
function traceReordered(ctx: DivergenceContext): boolean {
  const ba = ctx.component === 'trace' ? beforeAfter(ctx) : null;
  if (!ba) return false;
  const [a, b] = ba.map(s => eventsOf(s.outcome.traceList));
  return [8, 512].some(f => {
    const x = parentAfterChildren(a, f);
    return x.length === b.length && x.every((e, i) => sameEvent(e, b[i]));
  });
}
/**
 * As traceReordered, except that after lacks the events of mirror leaf removals that TDX failed
 * (__handle_changed_spte returns the hook's error before the trace); both VMs bugged.
 */
function traceLacksFailedRemovals(ctx: DivergenceContext): boolean {
  const ba = ctx.component === 'trace' ? beforeAfter(ctx) : null;
  if (!ba || !ba.every(s => s.digests.bugged)) return false;
  // after's handle_changed_spte reported the failed propagation (its KVM_BUG_ON)
  if (!ba[1].outcome.diagnostics.some(d => d.category === 'external-change-failed')) return false;
  const [a, b] = ba.map(s => eventsOf(s.outcome.traceList));
  return [8, 512].some(f => {
    const x = parentAfterChildren(a, f);
    let j = 0, missing = 0;
    for (const e of x) {
      if (j < b.length && sameEvent(e, b[j])) { j++; continue; }
      // only a mirror leaf going non-present (zap) or FROZEN (a removed table's child) may be missing
      if (treeOf(e) !== 1 || e[2] === 0 || e[2] === -1 || e[2] === 0x5a0 || (e[3] !== 0 && e[3] !== 0x5a0)) return false;
      missing++;
    }
    return j === b.length && missing > 0;
  });
}
const eitherHas = (ctx: DivergenceContext, cat: string): boolean =>
  ctx.sides.some(s => s.outcome.diagnostics.some(d => `${d.kind}:${d.category}` === cat));
const countOf = (o: OpOutcome, cat: string): number => {
  let n = 0;
  for (const d of o.diagnostics) if (`${d.kind}:${d.category}` === cat) n++;
  return n;
};
const isPrivateWriteFault = (o: Op): boolean => o.kind === 'fault' && o.private && o.write;

/**
 * D11, exactly: one side before, the other after (either order), both VMs bugged, and at this op the after side's
 * 4K/2M/1G stats lag grew by at least one and at most one per failed leaf propagation it reported
 * (handle_changed_spte's KVM_BUG_ON), never in the other direction. Only the stats component.
 */
function d11(ctx: DivergenceContext): boolean {
  if (ctx.component !== 'stats') return false;
  // the pair in either order; sign turns "second − first" into "after − before"
  const ai = ctx.bases[0] === 'before' && ctx.bases[1] === 'after' ? 1 : ctx.bases[0] === 'after' && ctx.bases[1] === 'before' ? 0 : -1;
  if (ai < 0) return false;
  const sign = ai === 1 ? 1 : -1;
  const [a, b] = ai === 1 ? [ctx.sides[1], ctx.sides[0]] : [ctx.sides[0], ctx.sides[1]];
  if (!b.digests.bugged || !a.digests.bugged) return false;
  const failed = countOf(a.outcome, 'KVM_BUG_ON:external-change-failed');
  if (!failed) return false;
  const [s0, s1] = ctx.stats();
  let lag = 0;
  for (let l = 0; l < s0.length; l++) {
    const grew = sign * (s1[l] - s0[l] - (ctx.statsOffset[l] ?? 0));
    if (grew < 0) return false;
    lag += grew;
  }
  return lag >= 1 && lag <= failed;
}

/** D19: the one site where before takes pamt_lock in softirq (free_external_sp from the RCU callback). */
const PAMT_LOCK_SOFTIRQ_SITE = 'tdx.c:__tdx_pamt_put:pamt_lock';
const PAMT_LOCK_DIAG = 'lockdep:pamt_lock-inconsistent-lock-state';
/** the diagnostics oracle's detail for it (harness/run/oracles/diagnostics.ts) */
const PAMT_LOCK_NOTE = `lockdep pamt_lock-inconsistent-lock-state at ${PAMT_LOCK_SOFTIRQ_SITE} (SOFTIRQ-ON-W -> IN-SOFTIRQ-W)`;
/**
 * D19 holds only with DPAMT on, for the before/after pair (either order), and when every
 * pamt_lock diagnostic of the op is before's, at the put site, and printed as the softirq-after-
 * process-context usage Yan reported (SOFTIRQ-ON-W -> IN-SOFTIRQ-W).
 */
function pamtLockInSoftirq(ctx: DivergenceContext): boolean {
  if (!ctx.dpamt) return false;
  const b = ctx.bases.indexOf('before');
  if (b < 0 || ctx.bases[1 - b] !== 'after') return false;
  if (ctx.sides[1 - b].outcome.diagnostics.some(d => `${d.kind}:${d.category}` === PAMT_LOCK_DIAG)) return false;
  const mine = ctx.sides[b].outcome.diagnostics.filter(d => `${d.kind}:${d.category}` === PAMT_LOCK_DIAG);
  return mine.length > 0 && mine.every(d => d.site === PAMT_LOCK_SOFTIRQ_SITE && d.detail === 'SOFTIRQ-ON-W -> IN-SOFTIRQ-W');
}

/** "mirror L1 gfn=0x9 is a present leaf but the S-EPT has nothing" → "L1:9" */
const PRESENT_LEAF_NO_SEPT = /^mirror L(\d) gfn=0x([0-9a-f]+) is a present leaf but the S-EPT has nothing$/;

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
    extraDiagnostics: ['WARN:external-spt-free-failed'], extraOn: 'before',
  },
  {
    id: 'D19', title: 'pamt_lock taken in softirq (DPAMT, Yan on RFC v5 20/45)',
    reason: "with DPAMT (--dpamt), before frees a used S-EPT page in tdp_mmu_free_sp_rcu_callback (free_external_sp → tdx_free_control_page → __tdx_pamt_put → spin_lock(&pamt_lock)), i.e. in softirq, while pamt_lock is a plain spinlock also taken with BH enabled (tdx_pamt_get at SEPT.ADD): lockdep's \"inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage\" Yan reported (aYW5CbUvZrLogsWF, 2026-02-06; tdx-module.md §3.3). after frees it in tdx_sept_free_private_spt right after RECLAIM, in process context (Sean's aYpjNrtGmogNzqwT diff; DPAMT v6 09/11 makes it tdx_free_control_page). This is why the last patch of the series exists (seed 000, v1 17/17 → P15): only the lockdep report differs; refcounts, pairs and pages agree once the RCU callbacks ran.",
    extendedOnly: false, persistent: false,
    extraDiagnostics: [PAMT_LOCK_DIAG], extraOn: 'before', extraWhen: pamtLockInSoftirq,
    // before's own lockdep report (the legal-domain diagnostics oracle): only before, only under
    // DPAMT, only the put site with Yan's usage, at the op whose RCU callbacks ran the put
    leaves: {
      kind: 'unexpected-diagnostic', base: 'before', dpamtOnly: true,
      origin: (_op, outcome) => outcome.diagnostics.some(d => `${d.kind}:${d.category}` === PAMT_LOCK_DIAG
        && d.site === PAMT_LOCK_SOFTIRQ_SITE && d.detail === 'SOFTIRQ-ON-W -> IN-SOFTIRQ-W'),
      entry: (detail, _op, atOrigin) => (atOrigin && detail === PAMT_LOCK_NOTE ? 'pamt_lock' : null),
    },
  },
  {
    id: 'D12', title: 'extra KVM_BUG_ON when a leaf removal fails',
    reason: "after: handle_changed_spte wraps __handle_changed_spte in KVM_BUG_ON, so a failed TDX leaf removal also records the MMU's KVM_BUG_ON (silent: TDX already bugged the VM).",
    extendedOnly: false, persistent: false,
    extraDiagnostics: ['KVM_BUG_ON:external-change-failed'], extraOn: 'after',
  },
  {
    id: 'D11', title: 'leaf stats after a failed propagation',
    reason: "after: __handle_changed_spte returns the hook's error before updating page stats (Sean's fix for to-present changes). For a zap the mirror SPTE is already non-present, so when TDX fails to remove the leaf the 4K stat stays one too high; before updates stats before the removal hook. Only after a TDX failure, with the VM bugged in both; the lag is carried, everything else stays compared.",
    extendedOnly: false, persistent: false,
    match: d11,
  },
  {
    id: 'D16', title: 'KVM_BUG_ON/lockdep sites moved from the MMU to TDX',
    reason: 'the series moves asserts and KVM_BUG_ONs from the TDP MMU into TDX code: the same category is raised from a different site. Only strict equivalence compares sites.',
    extendedOnly: false, persistent: false,
    // Only before vs after. A category raised on one side only is not this component's business: the
    // `diagnostics` component (compared at every op, in every mode) reports or explains it on its own.
    match: ctx => ctx.component === 'diagnostic-sites' && beforeAfter(ctx) !== null,
  },
  {
    id: 'D17', title: 'a removed page table is traced after its children',
    reason: "before: handle_changed_spte traces the change right after the old == new check, then handle_removed_pt traces each child (parent first). after: __handle_changed_spte traces next to the stats, after handle_removed_pt (Sean's 2026-02-13 diff adopted by patch 9, series.md §3: \"a non-mirror table removal traces parent after children\"), mirror and direct tables alike. Same events, other order; only strict equivalence compares the trace.",
    extendedOnly: false, persistent: false,
    match: traceReordered,
  },
  {
    id: 'D18', title: 'no trace for a failed propagation',
    reason: "after: __handle_changed_spte returns set_external_spte's error before the trace (series.md §3: \"v2/v3: none on a failed hook\"); before traces a write-lock leaf zap in handle_changed_spte before remove_external_spte fails. Only with an injected TDX failure, VM bugged in both (the trace side of D11).",
    extendedOnly: false, persistent: false,
    match: traceLacksFailedRemovals,
  },
  {
    id: 'D6', title: 'atomic zap of a mirror leaf is propagated',
    reason: 'before: __tdp_mmu_set_spte_atomic rejects it (KVM_BUG_ON, SPTE unchanged); after: freeze → BLOCK/TRACK/REMOVE/WBINVD under the read lock (lockdep) → non-present.',
    extendedOnly: true, persistent: true,
    match: ctx => opsOf(ctx.op).some(o => o.kind === 'atomicZap' && o.level === 1) && eitherHas(ctx, 'KVM_BUG_ON:mirror-atomic-zap'),
  },
  {
    id: 'D7', title: 'atomic zap of a mirror page table is propagated',
    reason: 'before: KVM_BUG_ON, nothing changes; after: handle_removed_pt(shared) removes the leaves under the read lock and frees the table while the hkid is assigned → KVM_BUG_ON + leak. In between (series.md §5, steps 5–11) TDX refuses it instead: a TDX KVM_BUG_ON (present overwrite) for the table (5–8) or for each child of the published table (9–11), until P12 removes the children through set_external_spte.',
    extendedOnly: true, persistent: true,
    match: ctx => opsOf(ctx.op).some(o => o.kind === 'atomicZap' && o.level > 1)
      && (eitherHas(ctx, 'KVM_BUG_ON:mirror-atomic-zap') || eitherHas(ctx, 'KVM_BUG_ON:mirror-present-overwrite')),
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
    extendedOnly: true, persistent: true,
    match: ctx => opsOf(ctx.op).some(isPrivateWriteFault) && eitherHas(ctx, 'KVM_BUG_ON:mirror-present-overwrite'),
    // after: a private write fault whose TDX call removed the old leaf (PAGE.REMOVE inside the fault)
    // leaves that leaf present in the mirror and absent from the S-EPT — that entry, and nothing else.
    leaves: {
      kind: 'mirror-sept-mismatch',
      origin: (op, outcome) => opsOf(op).some(isPrivateWriteFault)
        && outcome.seamcalls.some(c => c.call === 'PAGE.REMOVE' && c.result === 'SUCCESS'),
      entry: (detail, op, atOrigin) => {
        const m = PRESENT_LEAF_NO_SEPT.exec(detail);
        if (!m) return null;
        const gfn = parseInt(m[2], 16);
        // at the origin, the entry is the faulting gfn's (the leaf that was overwritten)
        if (atOrigin && !opsOf(op).some(o => isPrivateWriteFault(o) && o.kind === 'fault' && (m[1] === '1' ? o.gfn === gfn : o.gfn >= gfn))) return null;
        return `L${m[1]}:${gfn}`;
      },
    },
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

/**
 * Which patches introduce each D-row: read from the series' own patch files (impls/series/patches/*,
 * each lists the D-ids it introduces), so the table and the patches cannot disagree.
 */
const INTRODUCED_BY: ReadonlyMap<string, readonly string[]> = (() => {
  const byId = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const st of Object.values(BUILTIN_SERIES).flatMap(x => x.steps)) {
    if (seen.has(st.patch.id)) continue;
    seen.add(st.patch.id);
    for (const d of st.patch.differences) byId.set(d, [...(byId.get(d) ?? []), st.patch.id]);
  }
  return byId;
})();

/**
 * The patches that introduce a row: between two instances that report their applied patches, the
 * side that has the listed patches the other lacks plays `after`, the other `before` (no listed patch
 * differs, or each side has some the other lacks: the row cannot match). Rows no patch introduces,
 * or instances without `patches`, match on the designs the instances derive from.
 */
const patchesOfRow = (e: ExplainedDifference): readonly string[] => INTRODUCED_BY.get(e.id) ?? [];

/**
 * The bases the sides play for one row: with both sides reporting patches and the row naming the
 * patches that introduce it, the side that has the listed patches the other lacks is `after`, the
 * other `before` (none differs, or both have some the other lacks: no pair for this row); otherwise
 * the designs the instances derive from.
 */
function rowBases(e: ExplainedDifference, bases: DivergenceContext['bases'], patches: DivergenceContext['patches']): DivergenceContext['bases'] {
  const [p0, p1] = patches ?? [undefined, undefined];
  const ids = patchesOfRow(e);
  if (!ids.length || !p0 || !p1) return bases;
  const differing = ids.filter(p => p0.includes(p) !== p1.includes(p));
  if (differing.length && differing.every(p => p0.includes(p))) return ['after', 'before'];
  if (differing.length && differing.every(p => p1.includes(p))) return ['before', 'after'];
  return [null, null];
}

/** The base one instance plays for a row (a per-design violation it leaves): with patches, after when it has one of the row's. */
export function rowBaseOf(e: ExplainedDifference, base: DesignBase | null, patches: readonly string[] | undefined): DesignBase | null {
  const ids = patchesOfRow(e);
  if (!ids.length || !patches) return base;
  return ids.some(p => patches.includes(p)) ? 'after' : 'before';
}

/** The rows that may explain a divergence of this run: its domain, and (bisect) the step's declared D-ids. */
export function rowsFor(domain: Domain, allowed: readonly string[] | undefined): ExplainedDifference[] {
  return EXPLAINED.filter(e => !(e.extendedOnly && domain === 'legal') && (!allowed || allowed.includes(e.id)));
}

/** The explanations that cover this divergence, or undefined when it is unexplained. */
export function explain(ctx: DivergenceContext): ExplainedDifference[] | undefined {
  const allowed = rowsFor(ctx.domain, ctx.allowed);
  const withBases = (e: ExplainedDifference): DivergenceContext => {
    const bases = rowBases(e, ctx.bases, ctx.patches);
    return bases === ctx.bases ? ctx : { ...ctx, bases };
  };
  const full = allowed.find(e => e.match?.(withBases(e)));
  if (full) return [full];
  if (ctx.component !== 'diagnostics' && ctx.component !== 'diagnostic-sites') return undefined;
  // diagnostics: the extra categories. diagnostic-sites (strict): the extra diagnostics with their
  // sites — a site list that differs only by diagnostics a row explains as extra is that row's
  // difference seen through the sites; a category raised at another site is not (D16's business).
  const key = ctx.component === 'diagnostics'
    ? (d: OpOutcome['diagnostics'][number]) => `${d.kind}:${d.category}`
    : (d: OpOutcome['diagnostics'][number]) => `${d.kind}:${d.category}@${d.site}`;
  const [a, b] = ctx.sides.map(s => s.outcome.diagnostics.map(key).sort());
  const category = (k: string): string => k.split('@')[0];
  // each extra diagnostic with the side that has it (0 or 1)
  const extras: [string, 0 | 1][] = [
    ...multisetMinus(a, b).map(x => [category(x), 0] as [string, 0 | 1]),
    ...multisetMinus(b, a).map(x => [category(x), 1] as [string, 0 | 1]),
  ];
  const used = new Set<ExplainedDifference>();
  for (const [x, side] of extras) {
    const e = allowed.find((d) => {
      if (!d.extraDiagnostics?.includes(x)) return false;
      const bases = rowBases(d, ctx.bases, ctx.patches);
      const has = bases[side], lacks = bases[1 - side];
      return d.extraOn === has && lacks !== null && lacks !== has && (d.extraWhen?.(withBases(d)) ?? true);
    });
    if (!e) return undefined;
    used.add(e);
  }
  return used.size ? [...used] : undefined;
}
