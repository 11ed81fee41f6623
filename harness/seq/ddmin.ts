// The minimizer's pure part (DESIGN §5), with no runner in it: delta debugging over the op list to a 1-minimal sequence, then
// simplification of each op (drop races and fault-plan entries, inline a race's nested op, lower
// gfns, ranges, levels, counters and vCPU/walker ids — inside a race's nested op too). The
// predicate is "the same signature is found" — never "still fails" — so a reduction that turns one
// finding into another is rejected. Candidates are memoized by their canonical JSON; candidates
// that are not valid sequences, or (for a legal-domain run of a legal sequence) leave the legal
// domain, are rejected without being run. The bound is a number of predicate runs (deterministic);
// the time limit is only a safety net.
import type { Op } from '../../impls/api';
import { legalityErrors } from './legality';
import { lower, specOf } from './op_kinds';
import type { Domain } from './domain';
import { makeSequence, type Sequence } from './sequence';

/** The signatures a candidate op list produces (unexplained and explained alike). */
export type SignatureOracle = (ops: Op[]) => readonly string[];

export const DEFAULT_MAX_RUNS = 3000;
const DEFAULT_TIME_LIMIT_MS = 30_000;

export interface MinimizeOptions {
  /** most predicate runs (cache hits and rejected candidates are free); default 3000 */
  maxRuns?: number;
  /** wall-clock safety net in ms; default 30 s */
  timeLimitMs?: number;
  /** candidates for which this is false are rejected without running the oracle */
  admissible?: (ops: Op[]) => boolean;
}

export interface MinimizeStats {
  opsBefore: number;
  opsAfter: number;
  /** predicate runs actually executed (not cache hits) */
  runs: number;
  cacheHits: number;
  /** candidates rejected by `admissible` (invalid, or outside the legal domain) without a run */
  rejected: number;
  /** reductions accepted, by kind */
  accepted: Record<string, number>;
  /** the original ops reproduce the signature (when false nothing was minimized) */
  reproduced: boolean;
  /** stopped by maxRuns or the time limit before reaching a fixpoint (the result is not 1-minimal) */
  truncated: boolean;
  /** what stopped it when truncated */
  truncatedBy?: 'runs' | 'time';
  timeMs: number;
}

export interface MinimizeResult { ops: Op[]; stats: MinimizeStats }

class Budget extends Error {
  constructor(readonly by: 'runs' | 'time') { super(by); }
}

export function minimizeOps(ops: readonly Op[], signature: string, oracle: SignatureOracle, opts: MinimizeOptions = {}): MinimizeResult {
  const maxRuns = opts.maxRuns ?? DEFAULT_MAX_RUNS;
  const t0 = Date.now();
  const deadline = t0 + (opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS);
  const cache = new Map<string, boolean>();
  const stats: MinimizeStats = {
    opsBefore: ops.length, opsAfter: ops.length, runs: 0, cacheHits: 0, rejected: 0, accepted: {},
    reproduced: false, truncated: false, timeMs: 0,
  };

  // Every candidate that holds is accepted at once by the passes below, so the last one that held is
  // the current reduction: what a pass interrupted by the budget leaves behind.
  let lastHeld: Op[] | null = null;
  const holds = (cand: Op[]): boolean => {
    const key = JSON.stringify(cand);
    let ok = cache.get(key);
    if (ok !== undefined) {
      stats.cacheHits++;
    } else if (opts.admissible && !opts.admissible(cand)) {
      stats.rejected++;
      ok = false;
      cache.set(key, ok);
    } else {
      if (stats.runs >= maxRuns) throw new Budget('runs');
      if (Date.now() > deadline) throw new Budget('time');
      stats.runs++;
      ok = oracle(cand).includes(signature);
      cache.set(key, ok);
    }
    if (ok) lastHeld = cand;
    return ok;
  };
  const accept = (kind: string): void => { stats.accepted[kind] = (stats.accepted[kind] ?? 0) + 1; };

  let cur: Op[] = structuredClone(ops) as Op[];
  try {
    // The original must reproduce, or there is nothing to minimize (a fixed bug, another design).
    stats.reproduced = holds(cur);
    if (stats.reproduced) {
      cur = ddmin(cur, holds, accept);
      for (let changed = true; changed;) {
        changed = false;
        const w = simplifyWalkers(cur, holds, accept);
        if (w !== cur) { cur = w; changed = true; }
        const s = simplifyOps(cur, holds, accept);
        if (s !== cur) { cur = s; changed = true; }
        const d = ddmin(cur, holds, accept);
        if (d.length !== cur.length) { cur = d; changed = true; }
      }
    }
  } catch (e) {
    if (!(e instanceof Budget)) throw e;
    stats.truncated = true;
    stats.truncatedBy = e.by;
    if (lastHeld) cur = lastHeld;
  }
  stats.opsAfter = cur.length;
  stats.timeMs = Date.now() - t0;
  return { ops: cur, stats };
}

/**
 * Zeller's ddmin, then single-op removal until no single removal keeps the signature. The caller
 * repeats ddmin after every simplification pass until nothing changes, so the end result is
 * 1-minimal (unless the budget ran out). The empty list is a legal candidate for single removal:
 * a finding the appended teardown alone reproduces is reduced to no ops at all.
 */
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
  for (let removed = true; removed;) {
    removed = false;
    for (let i = cur.length - 1; i >= 0; i--) {
      const without = [...cur.slice(0, i), ...cur.slice(i + 1)];
      if (holds(without)) { cur = without; accept('remove-op'); removed = true; }
    }
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
    for (const n of lower(race.nth ?? 1, 1)) yield [{ ...op, race: { ...race, nth: n } }];
    if (race.level !== undefined) { const { level: _l, ...r } = race; yield [{ ...op, race: r }]; }
    // The nested op itself, simplified like any op (gfn, level, vcpu, its own fail entries).
    for (const v of variants(race.op)) if (v.length === 1) yield [{ ...op, race: { ...race, op: v[0] } }];
    // Kind-specific ones that involve the race too (e.g. swapping the vCPUs of two faults).
    for (const v of specOf(op).simplifyWithRace(op, race)) yield [v];
  }
  if (op.fail?.length) {
    const { fail, ...rest } = op;
    yield [rest as Op];
    if (fail.length > 1) for (let i = 0; i < fail.length; i++) yield [{ ...op, fail: fail.filter((_, j) => j !== i) }];
    for (let i = 0; i < fail.length; i++) {
      for (const n of lower(fail[i].nth ?? 1, 1)) yield [{ ...op, fail: fail.map((f, j) => (j === i ? { ...f, nth: n } : f)) }];
    }
  }
  // The op's own fields (gfn, range, level, vcpu, …), as its kind's table entry simplifies them.
  for (const v of specOf(op).simplify(op)) yield [v];
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

// ------------------------------------------------------------------------------------------------
// Walker ids: an rcuRead and its rcuUnlock name the same walker, so ids are renamed across the whole
// sequence (top-level and racing ops alike), never op by op.

/** Ops with a walker field (rcuRead, rcuUnlock): the field, not the kind, decides. */
const hasWalker = (o: Op): o is Extract<Op, { walker: number }> => 'walker' in o;

function walkerIds(ops: readonly Op[]): number[] {
  const ids: number[] = [];
  const see = (o: Op): void => {
    if (hasWalker(o) && !ids.includes(o.walker)) ids.push(o.walker);
  };
  for (const op of ops) { see(op); if (op.race) see(op.race.op); }
  return ids;
}

function renameWalkers(ops: readonly Op[], map: (w: number) => number): Op[] {
  const one = (o: Op): Op => (hasWalker(o) ? { ...o, walker: map(o.walker) } : o);
  return ops.map(op => {
    const r = one(op);
    return op.race ? { ...r, race: { ...op.race, op: one(op.race.op) } } : r;
  });
}

/**
 * Lower walker ids: first number them 0, 1, … in order of first use (a pure renaming), then try
 * merging each remaining id into a lower one (fewer distinct walkers).
 */
function simplifyWalkers(ops: Op[], holds: (c: Op[]) => boolean, accept: (k: string) => void): Op[] {
  let cur = ops;
  const ids = walkerIds(cur);
  if (ids.some((w, i) => w !== i)) {
    const cand = renameWalkers(cur, w => ids.indexOf(w));
    if (holds(cand)) { cur = cand; accept('rename-walkers'); }
  }
  for (const w of [...walkerIds(cur)].sort((a, b) => b - a)) {
    for (const v of walkerIds(cur).filter(x => x < w).sort((a, b) => a - b)) {
      const cand = renameWalkers(cur, x => (x === w ? v : x));
      if (holds(cand)) { cur = cand; accept('merge-walkers'); break; }
    }
  }
  return cur;
}

// ------------------------------------------------------------------------------------------------
// Admissible candidates

/**
 * Candidates the runner may be given for `seq`: valid sequences (no op after destroy, ranges in the
 * geometry), and — when the run is in the legal domain and the original sequence is legal — legal
 * ones, so that a reproducer never relies on a call pattern the kernel cannot issue.
 */
export function admissibleFor(seq: Sequence, run: { domain: Domain }): (ops: Op[]) => boolean {
  const keepLegal = run.domain === 'legal' && legalityErrors(seq).length === 0;
  return ops => {
    let cand: Sequence;
    try {
      cand = makeSequence(seq.config, ops);
    } catch {
      return false;
    }
    return !keepLegal || legalityErrors(cand).length === 0;
  };
}

/** Statistics as stored in a crash file's `minimization` field. */
export function statsRecord(s: MinimizeStats, maxRuns: number): Record<string, unknown> {
  return {
    opsBefore: s.opsBefore, opsAfter: s.opsAfter, runs: s.runs, maxRuns, cacheHits: s.cacheHits, rejected: s.rejected,
    accepted: s.accepted, truncated: s.truncated, ...(s.truncatedBy ? { truncatedBy: s.truncatedBy } : {}), timeMs: s.timeMs,
  };
}
