// The oracle contract (DESIGN §4): a per-design check of one family of bugs — what it checks, the
// finding kinds it produces, and where it hooks into a run. `runSequence` composes the registered
// oracles (oracles/index.ts); the lockstep comparison of the designs is not an oracle (runner.ts).
//
// Most memory-safety checks run inside the designs' machine (the page ledger, RCU, the fake TDX
// module) and arrive as `Violation`s, at the op (`OpOutcome.violations`) or from
// `DesignInstance.checkInvariants()` after it. An oracle claims the violation kinds of its family; the
// runner notes each claimed violation as a finding of the same kind at the reporting site, in the
// order the design reported them. The hooks are for checks the harness computes itself.
import type { DesignInstance, Op, Violation } from '../../../impls/api';
import type { Domain } from '../../seq/domain';
import type { Observation } from '../compare';
import type { Finding, FindingKind } from '../findings';

export type ViolationKind = Violation['kind'];

/** What an oracle may read of the run in progress (the runner itself: no per-op allocation). */
export interface RunView {
  /** design labels, index-aligned with `vms` */
  readonly labels: readonly string[];
  /** the live instances; null once a design threw, hung or hit BUG() */
  readonly vms: readonly (DesignInstance | null)[];
  readonly domain: Domain;
  /** the ops the run executes (the sequence's, plus the appended teardown) */
  readonly ops: readonly Op[];
  /** a fault was injected at or before the current op */
  readonly faultSeen: boolean;
}

/**
 * Per-design findings of the current op, merged across designs by (kind, component): the first
 * design's detail is kept, the other designs join the finding. Each one is then explained, reported
 * once per run, or dropped as already reported (runner.ts).
 */
export interface OpNotes {
  note(kind: FindingKind, component: string, design: number, detail: string): void;
}

/** Run-level findings, deduplicated by signature (first one wins). */
export interface FindingSink {
  add(f: Omit<Finding, 'signature'>): void;
}

export interface Oracle {
  /** short stable name */
  readonly name: string;
  /** what it checks, one sentence */
  readonly checks: string;
  /** the finding kinds it produces */
  readonly kinds: readonly FindingKind[];
  /**
   * Violations of the designs' own machine this oracle reports, and where they come from: `op`
   * (OpOutcome.violations) or `invariants` (checkInvariants() after each op of a design still alive).
   */
  readonly violations?: { readonly from: 'op' | 'invariants'; readonly kinds: readonly ViolationKind[] };
  /** after each op, for each design still alive, once the design's violations are noted */
  checkOp?(run: RunView, design: number, o: Observation, notes: OpNotes): void;
  /** a design threw at op `opIndex` (it is dead from now on) */
  onException?(run: RunView, design: number, opIndex: number, error: unknown, sink: FindingSink): void;
  /** after the last op (and the final-state comparison), on the designs still alive */
  checkEnd?(run: RunView, sink: FindingSink): void;
}

/** A set of oracles compiled for the hot path: plain arrays and one lookup table. */
export interface OraclePlan {
  readonly oracles: readonly Oracle[];
  /** the enabled oracle that reports each violation kind */
  readonly owner: Readonly<Partial<Record<ViolationKind, Oracle>>>;
  /** some enabled oracle reports invariant violations */
  readonly invariants: boolean;
  readonly opChecks: readonly Oracle[];
  readonly exceptionHandlers: readonly Oracle[];
  readonly endChecks: readonly Oracle[];
}

const plans = new WeakMap<readonly Oracle[], OraclePlan>();

/** The plan of a set of oracles (cached per array). A violation kind claimed twice is a registry bug. */
export function planOf(oracles: readonly Oracle[]): OraclePlan {
  let plan = plans.get(oracles);
  if (plan) return plan;
  const owner: Partial<Record<ViolationKind, Oracle>> = {};
  for (const o of oracles) {
    for (const k of o.violations?.kinds ?? []) {
      if (owner[k]) throw new Error(`violation kind ${k} is claimed by oracles ${owner[k]!.name} and ${o.name}`);
      owner[k] = o;
    }
  }
  plan = {
    oracles, owner,
    invariants: oracles.some(o => o.violations?.from === 'invariants'),
    opChecks: oracles.filter(o => o.checkOp),
    exceptionHandlers: oracles.filter(o => o.onException),
    endChecks: oracles.filter(o => o.checkEnd),
  };
  plans.set(oracles, plan);
  return plan;
}
