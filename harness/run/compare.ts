// Per-op observations and their comparison under an equivalence (DESIGN §4). Digests are compared
// first; canonical dumps are built only for a report.
import type { Digests, OpOutcome } from '../../impls/api';

export type Equivalence = 'state' | 'strict' | 'final';
export const EQUIVALENCES: readonly Equivalence[] = ['state', 'strict', 'final'];

export interface Observation {
  outcome: OpOutcome;
  digests: Digests;
}

/** Diagnostic categories of an op as a sorted multiset ("KVM_BUG_ON:page-table-free-with-hkid"). */
export function diagCategories(o: OpOutcome): string[] {
  return o.diagnostics.map(d => `${d.kind}:${d.category}`).sort();
}
function diagSites(o: OpOutcome): string[] {
  return o.diagnostics.map(d => `${d.kind}:${d.site}`).sort();
}
export function seamcallLines(o: OpOutcome): string[] {
  return o.seamcalls.map(s => `${s.call}(${s.args}) = ${s.result}`);
}
/** The op's kvm_tdp_mmu_spte_changed events, readable (built only for reports). */
export function traceLines(o: OpOutcome): string[] {
  const t = o.traceList ?? [];
  const out: string[] = [];
  const v = (x: number): string => (x === -1 ? 'table' : `0x${x.toString(16)}`);
  for (let i = 0; i + 3 < t.length; i += 4) {
    const tag = t[i + 1] >= 16 ? ' (racing op)' : '';
    out.push(`kvm_tdp_mmu_spte_changed ${Math.floor(t[i + 1] / 8) % 2 ? 'mirror' : 'direct'} gfn=0x${t[i].toString(16)} level=${t[i + 1] % 8} old=${v(t[i + 2])} new=${v(t[i + 3])}${tag}`);
  }
  return out;
}
function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Every component in which two observations differ, in a fixed order (so signatures are stable); empty
 * when they agree. All of them, not just the first: an explained difference in one component must not
 * hide a difference in a later one (a stats lag must not hide a missing KVM_BUG_ON). `final` compares
 * nothing per op. The common case (no difference) allocates nothing.
 */
export function differences(a: Observation, b: Observation, equiv: Equivalence): readonly string[] {
  if (equiv === 'final') return NONE;
  // Digests first: when they, the result and the diagnostics agree (the common case), nothing is
  // allocated — no list, no closure.
  const da = a.digests, db = b.digests;
  const oa = a.outcome, ob = b.outcome;
  const anyDiag = oa.diagnostics.length !== 0 || ob.diagnostics.length !== 0;
  if (equiv === 'state' && !anyDiag && oa.result === ob.result && da.vm === db.vm && da.stats === db.stats
      && da.mirror === db.mirror && da.sept === db.sept && da.guest === db.guest && da.direct === db.direct
      && da.ledger === db.ledger) return NONE;
  const out: string[] = [];
  if (oa.result !== ob.result) out.push('result');
  if (da.vm !== db.vm) out.push('vm');
  if (da.stats !== db.stats) out.push('stats');
  if (da.mirror !== db.mirror) out.push('mirror');
  if (da.sept !== db.sept) out.push('sept');
  if (da.guest !== db.guest) out.push('guest');
  if (da.direct !== db.direct) out.push('direct');
  if (da.ledger !== db.ledger) out.push('ledger');
  if (anyDiag && !sameList(diagCategories(oa), diagCategories(ob))) out.push('diagnostics');
  if (equiv === 'strict') {
    if (!sameList(seamcallLines(oa), seamcallLines(ob))) out.push('seamcalls');
    if (oa.trace !== ob.trace || oa.traceCount !== ob.traceCount) out.push('trace');
    if (!sameList(diagSites(oa), diagSites(ob))) out.push('diagnostic-sites');
    if (da.pendingRcu !== db.pendingRcu) out.push('pending-rcu');
  }
  return out.length ? out : NONE;
}
const NONE: readonly string[] = [];

/** End-state comparison for `final` (and the last step of every run). */
export function finalDifference(a: Digests, b: Digests): string | null {
  if (a.vm !== b.vm) return 'vm';
  if (a.stats !== b.stats) return 'stats';
  if (a.mirror !== b.mirror) return 'mirror';
  if (a.sept !== b.sept) return 'sept';
  if (a.guest !== b.guest) return 'guest';
  if (a.direct !== b.direct) return 'direct';
  if (a.ledger !== b.ledger) return 'ledger';
  return null;
}

/** Multiset difference a − b. */
export function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const left = [...b];
  const out: string[] = [];
  for (const x of a) {
    const i = left.indexOf(x);
    if (i >= 0) left.splice(i, 1); else out.push(x);
  }
  return out;
}
