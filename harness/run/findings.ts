// Findings and their signatures (DESIGN §4). A signature — kind, designs, op kind, first diverging
// component or site — deduplicates findings, names crash files and is the minimizer's predicate.
import type { Op } from '../../impls/api';
import { specOf } from '../seq/op_kinds';

export type FindingKind =
  | 'divergence'
  | 'double-free' | 'tdx-owned-free' | 'wrong-pool' | 'use-after-free' | 'leaked-free'
  | 'frozen-reachable' | 'mirror-sept-mismatch' | 'stats-mismatch' | 'reclaim-order' | 'host-bug' | 'hang'
  | 'tdx-dirty-page' | 'leak' | 'unexpected-diagnostic' | 'exception';

/** What one design did at one op, as printed side by side. */
export interface DesignTrace {
  design: string;
  result: string;
  seamcalls: string[];
  /**
   * the kernel function that issued each SEAMCALL (SeamcallRecord.by), same length as seamcalls; only
   * when there is one (absent in crash files written before it existed). For reading, never compared:
   * the designs name the issuing functions differently on purpose.
   */
  seamcallBy?: string[];
  diagnostics: string[];
  /** kvm_tdp_mmu_spte_changed events, only when the trace is what differs (strict) */
  trace?: string[];
}

export interface FirstDivergence {
  opIndex: number;
  op: string;
  /** the ops before it, one line each (the common prefix) */
  prefix: string[];
  component: string;
  sides: DesignTrace[];
  /** unified diff of the canonical state dumps after the op */
  stateDiff: string;
  /** unified diff of the op's SEAMCALL/diagnostic traces */
  traceDiff: string;
}

export interface Explanation { id: string; title: string; reason: string }

export interface Finding {
  signature: string;
  kind: FindingKind;
  designs: string[];
  /** index of the op in the executed list (the sequence's ops, then the appended teardown) */
  opIndex: number;
  opKind: string;
  /** first diverging component, or the site/category that noticed the problem */
  component: string;
  message: string;
  /** set when the difference is one the designs have on purpose (kernel-model §3.1) */
  explained?: Explanation;
  divergence?: FirstDivergence;
}

/** Keep signatures short and stable: no page ids, pfns or counts. */
export function signatureOf(kind: FindingKind, designs: readonly string[], opKind: string, component: string): string {
  const c = component.replace(/0x[0-9a-f]+|#\d+|\b\d+\b/g, 'N');
  return `${kind}|${designs.join('+')}|${opKind}|${c}`;
}

/** One readable line for an op (reports, explain, prefixes): its kind's description, then fail entries and race. */
export function describeOp(op: Op): string {
  let s = specOf(op).describe(op);
  if (op.fail?.length) {
    s += ' fail[' + op.fail.map(f => f.at === 'seamcall' ? `${f.call}=${f.error ?? 'BUSY'}#${f.nth ?? 1}` : `${f.at}#${f.nth ?? 1}`).join(',') + ']';
  }
  if (op.race) s += ` race@${op.race.at}${op.race.level ? `:L${op.race.level}` : ''}#${op.race.nth ?? 1}{${describeOp(op.race.op)}}`;
  return s;
}
