// Per op kind tallies (issue 13 item 3): how many ops of each kind a campaign ran and how much of the
// designs' time each kind took, so a report shows which code a campaign actually measured. The
// runner adds into a Float64Array indexed by OP_KIND_INDEX (one performance.now() pair per op, only
// when its caller passes one); reports carry the tallies as records of the kinds that ran.
import { OP_KINDS, type OpKind } from '../../impls/api';

/** Each kind's slot in a tally. */
export const OP_KIND_INDEX: Readonly<Record<OpKind, number>> = Object.fromEntries(OP_KINDS.map((k, i) => [k, i])) as Record<OpKind, number>;

/** An empty tally (one slot per kind). */
export function opKindTally(): Float64Array {
  return new Float64Array(OP_KINDS.length);
}

/** The tally as a record of the kinds in `present` (default: those with a non-zero slot), in OP_KINDS order. */
export function tallyRecord(t: Float64Array, present: (k: number) => boolean = (k) => t[k] !== 0, round: (v: number) => number = (v) => v): Record<string, number> {
  const out: Record<string, number> = {};
  OP_KINDS.forEach((kind, k) => { if (present(k)) out[kind] = round(t[k]); });
  return out;
}

/** Sum per-kind records (merged reports); keys in OP_KINDS order, unknown kinds after them. */
export function sumRecords(parts: readonly Record<string, number>[]): Record<string, number> {
  const sum = new Map<string, number>();
  for (const p of parts) for (const [k, v] of Object.entries(p)) sum.set(k, (sum.get(k) ?? 0) + v);
  const order = [...OP_KINDS.filter(k => sum.has(k)), ...[...sum.keys()].filter(k => !(OP_KINDS as readonly string[]).includes(k)).sort()];
  return Object.fromEntries(order.map(k => [k, sum.get(k)!]));
}
