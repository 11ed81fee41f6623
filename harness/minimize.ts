// The minimizer (DESIGN §5): delta debugging over the op list to a 1-minimal sequence, then
// simplification of each op (drop races and fault-plan entries, inline a race's nested op, lower
// gfns, ranges, levels and counters). The predicate is "the same signature is found" — never
// "still fails" — so a reduction that turns one finding into another is rejected. Candidates are
// memoized by their canonical JSON. The bound is a number of predicate runs (deterministic); the
// time limit is only a safety net.
import type { Op } from '../impls/api';
import { runSequence, type RunOptions } from './runner';
import type { Sequence } from './sequence';

/** The signatures a candidate op list produces (unexplained and explained alike). */
export type SignatureOracle = (ops: Op[]) => readonly string[];

export interface MinimizeOptions {
  /** most predicate runs (cache hits are free); default 3000 */
  maxRuns?: number;
  /** wall-clock safety net in ms; default 30 s */
  timeLimitMs?: number;
}

export interface MinimizeStats {
  opsBefore: number;
  opsAfter: number;
  /** predicate runs actually executed (not cache hits) */
  runs: number;
  cacheHits: number;
  /** reductions accepted, by kind */
  accepted: Record<string, number>;
  /** stopped by maxRuns or the time limit before reaching a fixpoint */
  truncated: boolean;
  timeMs: number;
}

export interface MinimizeResult { ops: Op[]; stats: MinimizeStats }

/** The signature oracle of a real run: runs the sequence in lockstep. */
export function runnerOracle(seq: Sequence, opts: RunOptions): SignatureOracle {
  return ops => {
    const r = runSequence({ ...seq, ops }, opts);
    return [...r.findings, ...r.explained].map(f => f.signature);
  };
}

class Budget extends Error {}

export function minimizeOps(ops: readonly Op[], signature: string, oracle: SignatureOracle, opts: MinimizeOptions = {}): MinimizeResult {
  const maxRuns = opts.maxRuns ?? 3000;
  const deadline = Date.now() + (opts.timeLimitMs ?? 30_000);
  const t0 = Date.now();
  const cache = new Map<string, boolean>();
  const stats: MinimizeStats = { opsBefore: ops.length, opsAfter: ops.length, runs: 0, cacheHits: 0, accepted: {}, truncated: false, timeMs: 0 };

  const holds = (cand: Op[]): boolean => {
    const key = JSON.stringify(cand);
    const hit = cache.get(key);
    if (hit !== undefined) { stats.cacheHits++; return hit; }
    if (stats.runs >= maxRuns || Date.now() > deadline) throw new Budget();
    stats.runs++;
    const ok = oracle(cand).includes(signature);
    cache.set(key, ok);
    return ok;
  };
  const accept = (kind: string): void => { stats.accepted[kind] = (stats.accepted[kind] ?? 0) + 1; };

  let cur: Op[] = structuredClone(ops) as Op[];
  try {
    cur = ddmin(cur, holds, accept);
    for (let changed = true; changed;) {
      changed = false;
      const s = simplifyOps(cur, holds, accept);
      if (s !== cur) { cur = s; changed = true; }
      const d = ddmin(cur, holds, accept);
      if (d.length !== cur.length) { cur = d; changed = true; }
    }
  } catch (e) {
    if (!(e instanceof Budget)) throw e;
    stats.truncated = true;
  }
  stats.opsAfter = cur.length;
  stats.timeMs = Date.now() - t0;
  return { ops: cur, stats };
}

/** Zeller's ddmin, followed by single-op removal until no single removal keeps the signature (1-minimal). */
function ddmin(ops: Op[], holds: (c: Op[]) => boolean, accept: (k: string) => void): Op[] {
  let cur = ops;
  let n = 2;
  while (cur.length >= 2) {
    const chunk = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < cur.length; i += chunk) {
      const complement = [...cur.slice(0, i), ...cur.slice(i + chunk)];
      if (complement.length && holds(complement)) {
        cur = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        accept('remove-chunk');
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  for (let i = cur.length - 1; i >= 0 && cur.length > 1; i--) {
    const without = [...cur.slice(0, i), ...cur.slice(i + 1)];
    if (holds(without)) { cur = without; accept('remove-op'); i = Math.min(i, cur.length); }
  }
  return cur;
}

/** Simpler variants of one op, most aggressive first. */
function* variants(op: Op): Generator<Op[]> {
  if (op.race) {
    const { race, ...rest } = op;
    yield [rest as Op];
    yield [race.op, rest as Op];
    yield [rest as Op, race.op];
    if (race.nth && race.nth > 1) yield [{ ...op, race: { ...race, nth: 1 } }];
    if (race.level !== undefined) { const { level: _l, ...r } = race; yield [{ ...op, race: r }]; }
  }
  if (op.fail?.length) {
    const { fail, ...rest } = op;
    yield [rest as Op];
    if (fail.length > 1) for (let i = 0; i < fail.length; i++) yield [{ ...op, fail: fail.filter((_, j) => j !== i) }];
    for (let i = 0; i < fail.length; i++) if ((fail[i].nth ?? 1) > 1) yield [{ ...op, fail: fail.map((f, j) => (j === i ? { ...f, nth: 1 } : f)) }];
  }
  const lower = (v: number, floor: number): number[] => {
    const out: number[] = [];
    for (const c of [floor, Math.floor(v / 2), v - 1]) if (c >= floor && c < v && !out.includes(c)) out.push(c);
    return out;
  };
  switch (op.kind) {
    case 'fault':
      for (const g of lower(op.gfn, 0)) yield [{ ...op, gfn: g }];
      for (const l of lower(op.maxLevel, 1)) yield [{ ...op, maxLevel: l }];
      if (op.vcpu > 0) yield [{ ...op, vcpu: 0 }];
      break;
    case 'zap': case 'age': case 'split': {
      const len = op.end - op.start;
      for (const s of lower(op.start, 0)) yield [{ ...op, start: s, end: s + len }];
      for (const l of lower(len, 1)) yield [{ ...op, end: op.start + l }];
      if (op.kind === 'zap' && op.attr === 'both') { yield [{ ...op, attr: 'private' }]; yield [{ ...op, attr: 'shared' }]; }
      if (op.kind === 'split') for (const t of lower(op.targetLevel, 1)) yield [{ ...op, targetLevel: t }];
      break;
    }
    case 'atomicZap':
      for (const g of lower(op.gfn, 0)) yield [{ ...op, gfn: g }];
      for (const l of lower(op.level, 1)) yield [{ ...op, level: l }];
      break;
    case 'rcuRead':
      for (const g of lower(op.gfn, 0)) yield [{ ...op, gfn: g }];
      break;
    default:
      break;
  }
}

/** One pass over the ops, taking the first variant of each op that keeps the signature. */
function simplifyOps(ops: Op[], holds: (c: Op[]) => boolean, accept: (k: string) => void): Op[] {
  let cur = ops;
  for (let i = 0; i < cur.length; i++) {
    let progress = true;
    while (progress) {
      progress = false;
      for (const v of variants(cur[i])) {
        const cand = [...cur.slice(0, i), ...v, ...cur.slice(i + 1)];
        if (holds(cand)) {
          cur = cand;
          accept(v.length > 1 ? 'inline-race' : 'simplify-op');
          progress = true;
          break;
        }
      }
    }
  }
  return cur;
}

/** Minimize a sequence for one finding of a real run. */
export function minimizeSequence(seq: Sequence, signature: string, run: RunOptions, opts: MinimizeOptions = {}): MinimizeResult {
  return minimizeOps(seq.ops, signature, runnerOracle(seq, run), opts);
}
