// The lockstep runner (DESIGN §3, §4): one sequence on N designs, compared after every op under the
// chosen equivalence (digests first, canonical dumps only for the report), the real teardown appended
// when the sequence does not end with one. The per-design oracles (ledger, RCU, mirror/S-EPT, …) are
// a registry (oracles/index.ts) that a run composes; the comparison, the explained differences and
// the first divergence are the runner's own.
import type { Design, DesignInstance, Op, OpOutcome, Snapshot, Violation } from '../../impls/api';
import { designBaseOf, type DesignBase } from '../../impls/designs';
import {
  diagCategories, differences, finalDifference, seamcallLines, traceLines, type Equivalence, type Observation,
} from './compare';
import { explain, rowBaseOf, rowsFor, type ExplainedDifference } from './explained';
import {
  describeOp, signatureOf, type DesignTrace, type FirstDivergence, type Finding, type FindingKind,
} from './findings';
import { ORACLES } from './oracles/index';
import { planOf, type FindingSink, type OpNotes, type Oracle, type OraclePlan, type RunView } from './oracles/oracle';
import type { Domain } from '../seq/domain';
import type { Sequence } from '../seq/sequence';
import { runBounded } from './watchdog';
import { OP_KIND_INDEX } from './op_time';

// `diff` is loaded on first use (lazily): the jsfuzz CLI instruments every module the fuzz target
// requires, and a target that never builds a diff (RunOptions.diffs false) should not pay for it.
let diffModule: typeof import('diff') | null = null;
function createTwoFilesPatch(a: string, b: string, textA: string, textB: string, headerA: string, headerB: string, options: { context: number }): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  diffModule ??= require('diff') as typeof import('diff');
  return diffModule.createTwoFilesPatch(a, b, textA, textB, headerA, headerB, options);
}

export interface RunOptions {
  designs: readonly Design[];
  equiv: Equivalence;
  domain: Domain;
  /**
   * Build the first divergence's state and trace diffs (default true). The jsfuzz fuzz target turns
   * this off: it only needs signatures, and the diffs cost time (and pull in the `diff` package).
   */
  diffs?: boolean;
  /**
   * Record the first divergence (both traces, the op prefix, the diffs) of explained (by-design)
   * divergences too (default true: `explain` shows the first one). Campaigns turn it off (issue 13
   * items 2 and 4): their reports list explained differences by signature and count only, and an
   * extended-domain or guided run has one in most sequences.
   */
  explainedDivergence?: boolean;
  /** the per-design oracles (default: the registry, oracles/index.ts) */
  oracles?: readonly Oracle[];
  /** runBoundedSequence: the wall-clock bound of one run in ms (--hang-timeout; default 10 s) */
  hangMs?: number;
  /**
   * Only these D-ids may explain a divergence or a per-design violation (a bisect step's declared
   * differences); undefined: every row. It only narrows: nothing it names is excused that would not
   * be without it, and diagnostics, a bugged VM and later comparisons are judged as always.
   */
  allowedExplanations?: readonly string[];
  /**
   * When given, each op's model time (ms: every design's apply and digests of it) is added to the
   * slot of its kind (run/op_time.ts OP_KIND_INDEX), appended teardown included. Campaigns pass one;
   * replay and tests need not (it costs a performance.now() pair per op).
   */
  modelMs?: Float64Array;
}

export interface RunResult {
  /** unexplained findings, one per signature */
  findings: Finding[];
  /** divergences matched by a declared by-design difference */
  explained: Finding[];
  /** the ops actually executed (the sequence's, plus the appended teardown) */
  ops: Op[];
  teardownAppended: boolean;
  coverage: Set<string>;
}

/** Labels for the designs of a run: a name used twice (self-check) gets a #2 suffix. */
export function designLabels(designs: readonly Design[]): string[] {
  const seen = new Map<string, number>();
  return designs.map(d => {
    const n = (seen.get(d.name) ?? 0) + 1;
    seen.set(d.name, n);
    return n === 1 ? d.name : `${d.name}#${n}`;
  });
}

const hasFaults = (op: Op): boolean => !!(op.fail?.length || op.race?.op.fail?.length);

/** The ops a run executes: the real teardown is appended unless the sequence did it. */
export function opsWithTeardown(seq: Sequence): { ops: Op[]; appended: boolean } {
  const last = seq.ops[seq.ops.length - 1];
  if (last && last.kind === 'destroy') return { ops: seq.ops, appended: false };
  return { ops: [...seq.ops, { kind: 'destroy' }], appended: true };
}

export function snapshotText(s: Snapshot): string {
  const lines: string[] = [];
  lines.push(`vm: bugged=${s.vm.bugged} hkid=${s.vm.hkid} td=${s.vm.tdState}${s.vm.destroyed ? ' destroyed' : ''}`);
  const section = (name: string, items: string[]): void => {
    lines.push(`${name}:`);
    for (const i of items) lines.push(`  ${i}`);
  };
  section('mirror', s.mirror);
  section('s-ept', s.sept);
  section('guest', s.guest);
  section('direct', s.direct);
  section('ledger', Object.entries(s.ledger).map(([k, v]) => `${k} = ${v}`));
  lines.push(`pages pending an RCU free: ${s.pendingRcu}`);
  return lines.join('\n') + '\n';
}

function traceOf(design: string, o: Observation, withTrace: boolean): DesignTrace {
  const t: DesignTrace = {
    design,
    result: o.outcome.result,
    seamcalls: seamcallLines(o.outcome),
    diagnostics: o.outcome.diagnostics.map(d => `${d.kind}${d.printed ? '' : ' (silent)'} ${d.category} @ ${d.site}`),
  };
  if (o.outcome.seamcalls.length) t.seamcallBy = o.outcome.seamcalls.map(s => s.by);
  if (withTrace) t.trace = traceLines(o.outcome);
  return t;
}

function traceText(t: DesignTrace): string {
  return [`result: ${t.result}`, ...t.seamcalls.map(s => `seamcall ${s}`), ...t.diagnostics.map(d => `diag ${d}`),
    ...(t.trace ?? []).map(e => `trace ${e}`)].join('\n') + '\n';
}

/** A design whose op hung or hit BUG() is dead: nothing after it can be compared or checked. */
function killedBy(o: OpOutcome): boolean {
  if (o.hang) return true;
  for (const v of o.violations) if (v.kind === 'host-bug') return true;
  return false;
}

/** One per-design finding of the current op, merged across designs by (kind, component). */
interface Note {
  kind: FindingKind; component: string; designs: string[]; detail: string;
  /** every detail, per design of `designs` (an explanation must cover all of them) */
  details: string[][];
}

/** kvm->stat.pages[1..3] of an instance: its pageStats() when it has one, else read from a whole snapshot */
function pageStats(vm: DesignInstance): readonly number[] {
  // every built-in design has the cheap counters; a user's design may not (DesignInstance.pageStats is optional)
  const fast = vm.pageStats?.();
  if (fast) return fast;
  const l = vm.snapshot().ledger;
  return [l['stats.4K'] ?? 0, l['stats.2M'] ?? 0, l['stats.1G'] ?? 0];
}
const NO_OFFSET: readonly number[] = [0, 0, 0];

/** The patch ids an instance reports applied (a series step's DesignInstance.patches), if it does. */
function patchesOf(vm: DesignInstance | null): readonly string[] | undefined {
  const p = (vm as { patches?: unknown } | null)?.patches;
  return Array.isArray(p) && p.every(x => typeof x === 'string') ? p : undefined;
}

/** A note's details for its message: the first design's, up to three (an excused one may be among them). */
function noteDetail(e: Note): string {
  const d = e.details[0];
  return d.length === 1 ? d[0] : d.slice(0, 3).join('; ') + (d.length > 3 ? ` (+${d.length - 3} more)` : '');
}

/** What a run is doing: harness code (-1 design) or one design's method, or between runs. */
type RunPhase = 'create' | 'apply' | 'digests' | 'compare' | 'invariants' | 'oracle' | 'end' | 'coverage';

/**
 * Where the current run is, for the watchdog's `hang` finding (hangResult): plain field writes at
 * each step, read only when a run was stopped. A terminated run runs no finally blocks, so `active`
 * still says whether the stop came inside a run.
 */
const position = {
  active: false, run: null as LockstepRun | null, design: -1, op: -1, phase: 'create' as RunPhase,
};

/**
 * One run: the designs' instances and everything the run has found so far. It is the oracles'
 * RunView, OpNotes and FindingSink, so composing them allocates nothing per op.
 */
class LockstepRun implements RunView, OpNotes, FindingSink {
  readonly labels: string[];
  readonly vms: (DesignInstance | null)[];
  readonly ops: Op[];
  readonly appended: boolean;
  readonly domain: Domain;
  faultSeen = false;
  private readonly equiv: Equivalence;
  private readonly diffs: boolean;
  private readonly explainedDivergence: boolean;
  private readonly plan: OraclePlan;
  /** unexplained findings by signature */
  private readonly findings = new Map<string, Finding>();
  /** explained findings by signature */
  private readonly explained = new Map<string, Finding>();
  /** comparing[k]: the pair (first design, design k) is still compared */
  private readonly comparing: boolean[];
  /** per-design findings already reported (kind, designs, component) */
  private readonly reported = new Set<string>();
  /** which design each instance derives from (the explained differences name designs) */
  private readonly bases: (DesignBase | null)[];
  /** statsOffset[k]: the stats lag of design k behind the first design explained so far (D11) */
  private readonly statsOffset: (number[] | null)[];
  /** entries a difference damaged in a design (`id|kind|design` → entries), excused from then on */
  private readonly leftEntries = new Map<string, Set<string>>();
  /** the current op's per-design notes (the array is reused from op to op) */
  private readonly notes: Note[] = [];
  private lastObs: (Observation | null)[] = [];
  /** the run's configuration has DPAMT on (D19 holds only then) */
  private readonly dpamt: boolean;
  /** the patches each instance reports applied (a series step), undefined when it does not say */
  private readonly patches: (readonly string[] | undefined)[];
  /** the rows that may explain anything in this run (domain, allowedExplanations) */
  private readonly rows: readonly ExplainedDifference[];
  private readonly allowed: readonly string[] | undefined;
  private readonly modelMs: Float64Array | undefined;

  constructor(seq: Sequence, opts: RunOptions) {
    this.labels = designLabels(opts.designs);
    const { ops, appended } = opsWithTeardown(seq);
    this.ops = ops;
    this.appended = appended;
    position.run = this;
    position.op = -1;
    position.phase = 'create';
    // Fresh instances for every run: one that hung is simply dropped with its run.
    this.vms = [];
    for (let d = 0; d < opts.designs.length; d++) { position.design = d; this.vms.push(opts.designs[d].create(seq.config)); }
    this.domain = opts.domain;
    this.equiv = opts.equiv;
    this.diffs = opts.diffs !== false;
    this.explainedDivergence = opts.explainedDivergence !== false;
    this.plan = planOf(opts.oracles ?? ORACLES);
    this.comparing = this.labels.map((_, k) => k > 0);
    this.bases = this.vms.map(vm => (vm ? designBaseOf(vm) : null));
    this.statsOffset = this.labels.map(() => null);
    this.dpamt = !!seq.config.dpamt;
    // read structurally: `patches` is an optional member of a design instance (impls/series)
    this.patches = this.vms.map(vm => patchesOf(vm));
    this.allowed = opts.allowedExplanations;
    this.modelMs = opts.modelMs;
    this.rows = rowsFor(this.domain, this.allowed);
  }

  run(): RunResult {
    for (let i = 0; i < this.ops.length; i++) this.step(i);
    position.design = -1;
    position.phase = 'end';
    if (this.equiv === 'final') this.compareFinal();
    for (const o of this.plan.endChecks) o.checkEnd!(this, this);
    return this.result();
  }

  /** What the run has found so far (a run the watchdog stopped). */
  partial(): { findings: Finding[]; explained: Finding[] } {
    return { findings: [...this.findings.values()], explained: [...this.explained.values()] };
  }

  /** FindingSink: the first finding of a signature wins. */
  add(f: Omit<Finding, 'signature'>): void {
    const signature = signatureOf(f.kind, f.designs, f.opKind, f.component);
    if (!this.findings.has(signature)) this.findings.set(signature, { signature, ...f });
  }

  /** OpNotes: the first design's detail is kept, later designs join the note. */
  note(kind: FindingKind, component: string, design: number, detail: string): void {
    const label = this.labels[design];
    for (const e of this.notes) {
      if (e.kind === kind && e.component === component) {
        const j = e.designs.indexOf(label);
        if (j < 0) { e.designs.push(label); e.details.push([detail]); } else e.details[j].push(detail);
        return;
      }
    }
    this.notes.push({ kind, component, designs: [label], detail, details: [[detail]] });
  }

  /** One op: run it on every live design, compare, check each design, then retire the dead ones. */
  private step(i: number): void {
    const op = this.ops[i];
    if (hasFaults(op)) this.faultSeen = true;
    position.op = i;
    const ms = this.modelMs;
    const t0 = ms ? performance.now() : 0;
    const obs = this.applyOp(i, op);
    if (ms) ms[OP_KIND_INDEX[op.kind]] += performance.now() - t0;
    position.design = -1;
    position.phase = 'compare';
    this.compareLockstep(i, op, obs);
    this.checkDesigns(obs);
    this.resolveNotes(i, op, obs);
    this.retireDead(obs);
    this.lastObs = obs;
  }

  /** The op's observation on each live design; a design that throws is dead (null). */
  private applyOp(i: number, op: Op): (Observation | null)[] {
    const obs: (Observation | null)[] = [];
    for (let d = 0; d < this.vms.length; d++) {
      const vm = this.vms[d];
      if (!vm) { obs.push(null); continue; }
      position.design = d;
      try {
        position.phase = 'apply';
        const outcome = vm.apply(op);
        position.phase = 'digests';
        obs.push({ outcome, digests: vm.digests() });
      } catch (e) {
        for (const o of this.plan.exceptionHandlers) o.onException!(this, d, i, e, this);
        this.vms[d] = null;
        obs.push(null);
      }
    }
    return obs;
  }

  // ------------------------------------------------------------ lockstep comparison

  /** Each design still compared against the first one, under the run's equivalence. */
  private compareLockstep(i: number, op: Op, obs: readonly (Observation | null)[]): void {
    for (let k = 1; k < this.vms.length; k++) {
      if (!this.comparing[k] || !obs[0] || !obs[k]) continue;
      for (const component of differences(obs[0]!, obs[k]!, this.equiv)) {
        if (component === 'stats' && this.statsLagUnchanged(k)) continue;
        this.recordDivergence(i, op, component, k, obs as Observation[]);
        if (!this.comparing[k]) break;
      }
    }
  }

  /** The stats differ by exactly the lag explained earlier (D11): no new difference. */
  private statsLagUnchanged(k: number): boolean {
    const off = this.statsOffset[k];
    if (!off) return false;
    const a = pageStats(this.vms[0]!), b = pageStats(this.vms[k]!);
    return b.every((v, l) => v - a[l] === off[l]);
  }

  /** A divergence of design k from the first design: explained (by-design differences) or a finding. */
  private recordDivergence(i: number, op: Op, component: string, k: number, obs: readonly Observation[]): void {
    const pair: [Observation, Observation] = [obs[0], obs[k]];
    const a = this.vms[0]!, b = this.vms[k]!;
    if (component === 'trace') {
      // the trace events are materialised only now (the designs keep them until their next op)
      pair[0].outcome.traceList ??= a.lastTrace?.() ?? [];
      pair[1].outcome.traceList ??= b.lastTrace?.() ?? [];
    }
    const ex = explain({ op, component, equiv: this.equiv, domain: this.domain, sides: pair,
      bases: [this.bases[0], this.bases[k]], stats: () => [pageStats(a), pageStats(b)],
      statsOffset: this.statsOffset[k] ?? NO_OFFSET, dpamt: this.dpamt,
      patches: [this.patches[0], this.patches[k]], allowed: this.allowed });
    // Built once, and only when a finding keeps it: an explained divergence whose signature this run
    // already holds (the same D-id again at a later op) needs none.
    let div: FirstDivergence | undefined;
    const firstDivergence = (): FirstDivergence => (div ??= this.divergence(i, op, component, k, obs));
    const designs = [this.labels[0], this.labels[k]];
    if (ex) {
      for (const e of ex) {
        const signature = signatureOf('divergence', designs, op.kind, `${component}:${e.id}`);
        if (!this.explained.has(signature)) {
          this.explained.set(signature, { signature, kind: 'divergence', designs, opIndex: i, opKind: op.kind, component,
            message: `${e.id} ${e.title}: ${component} differs at op ${i} (${describeOp(op)})`,
            explained: { id: e.id, title: e.title, reason: e.reason },
            ...(this.explainedDivergence ? { divergence: firstDivergence() } : {}) });
        }
      }
      if (ex.some(e => e.persistent)) this.comparing[k] = false;
      if (component === 'stats') {
        const sa = pageStats(a), sb = pageStats(b);
        this.statsOffset[k] = sb.map((v, l) => v - sa[l]);
      }
    } else {
      this.add({ kind: 'divergence', designs, opIndex: i, opKind: op.kind, component,
        message: `${this.labels[0]} and ${this.labels[k]} diverge in ${component} at op ${i} (${describeOp(op)})`
          + (component === 'diagnostics' ? `: ${diagCategories(pair[0].outcome).join(' ')} vs ${diagCategories(pair[1].outcome).join(' ')}` : ''),
        divergence: firstDivergence() });
      this.comparing[k] = false;
    }
  }

  /** The first divergence of design k: both traces, and (unless diffs are off) the state and trace diffs. */
  private divergence(i: number, op: Op, component: string, k: number, obs: readonly Observation[]): FirstDivergence {
    const a = this.vms[0]!, b = this.vms[k]!;
    const la = this.labels[0], lb = this.labels[k];
    const ta = traceOf(la, obs[0], component === 'trace'), tb = traceOf(lb, obs[k], component === 'trace');
    return {
      opIndex: i,
      op: describeOp(op),
      prefix: this.ops.slice(0, i).map(describeOp),
      component,
      sides: [ta, tb],
      stateDiff: this.diffs ? createTwoFilesPatch(la, lb, snapshotText(a.snapshot()), snapshotText(b.snapshot()), '', '', { context: 3 }) : '',
      traceDiff: this.diffs ? createTwoFilesPatch(la, lb, traceText(ta), traceText(tb), '', '', { context: 3 }) : '',
    };
  }

  /** `final`: only the end state is compared. */
  private compareFinal(): void {
    const last = this.ops.length - 1;
    for (let k = 1; k < this.vms.length; k++) {
      const a = this.lastObs[0], b = this.lastObs[k];
      if (!a || !b) continue;
      const component = finalDifference(a.digests, b.digests);
      if (component) {
        this.add({ kind: 'divergence', designs: [this.labels[0], this.labels[k]], opIndex: last, opKind: 'end', component,
          message: `${this.labels[0]} and ${this.labels[k]} end in different states (${component})`,
          divergence: this.divergence(last, this.ops[last], component, k, this.lastObs as Observation[]) });
      }
    }
  }

  // ------------------------------------------------------------ per-design oracles

  /**
   * Each live design, in order: the violations its machine reported at the op, then (unless the op
   * killed it) its invariant violations, then the oracles' per-op checks — all as notes.
   */
  private checkDesigns(obs: readonly (Observation | null)[]): void {
    if (this.notes.length) this.notes.length = 0;
    const plan = this.plan;
    for (let d = 0; d < obs.length; d++) {
      const o = obs[d];
      if (!o) continue;
      position.design = d;
      this.noteViolations(o.outcome.violations, d);
      position.phase = 'invariants';
      if (plan.invariants && !killedBy(o.outcome)) this.noteViolations(this.vms[d]!.checkInvariants(), d);
      position.phase = 'oracle';
      for (const oracle of plan.opChecks) oracle.checkOp!(this, d, o, this);
    }
    position.design = -1;
    position.phase = 'compare';
  }

  /** Violations an enabled oracle claims become notes of the same kind at the reporting site. */
  private noteViolations(vs: readonly Violation[], d: number): void {
    for (const v of vs) if (this.plan.owner[v.kind]) this.note(v.kind, v.site, d, v.detail);
  }

  /** The op's notes: explained by a by-design difference, or reported once per run. */
  private resolveNotes(i: number, op: Op, obs: readonly (Observation | null)[]): void {
    for (const e of this.notes) {
      const why = this.excuseOf(e, op, obs);
      if (why) this.explainNote(e, why, i, op);
      else this.reportNote(e, i, op);
    }
  }

  /**
   * The by-design difference behind a note: one that, in every design with the note, left exactly
   * this damage behind — at this op (recognised from the design's own op trace, so also when the pair
   * is no longer compared) or at an earlier op for the same entries. Anything else is reported.
   */
  private excuseOf(e: Note, op: Op, obs: readonly (Observation | null)[]): ExplainedDifference | undefined {
    // A violation every design of the run shows is no difference between them (a bisect step
    // inherits it from the step before): any row may excuse it. One only some designs show is gated.
    const rows = this.allowed && e.designs.length === this.labels.length ? rowsFor(this.domain, undefined) : this.rows;
    for (const x of rows) {
      const left = x.leaves;
      if (!left || left.kind !== e.kind) continue;
      if (left.dpamtOnly && !this.dpamt) continue;
      if (left.base && !e.designs.every((label) => {
        const d = this.labels.indexOf(label);
        return rowBaseOf(x, this.bases[d], this.patches[d]) === left.base;
      })) continue;
      const fresh: [string, string[]][] = [];
      const covered = e.designs.every((label, j) => {
        const o = obs[this.labels.indexOf(label)];
        const key = `${x.id}|${e.kind}|${label}`;
        const known = this.leftEntries.get(key);
        const atOrigin = !!o && left.origin(op, o.outcome);
        const entries: string[] = [];
        for (const detail of e.details[j]) {
          const old = left.entry(detail, op, false);
          if (old !== null && known?.has(old)) continue;
          const now = atOrigin ? left.entry(detail, op, true) : null;
          if (now === null) return false;
          entries.push(now);
        }
        fresh.push([key, entries]);
        return true;
      });
      if (!covered) continue;
      for (const [key, entries] of fresh) {
        let set = this.leftEntries.get(key);
        if (!set) this.leftEntries.set(key, set = new Set());
        for (const en of entries) set.add(en);
      }
      return x;
    }
    return undefined;
  }

  private explainNote(e: Note, why: ExplainedDifference, i: number, op: Op): void {
    const signature = signatureOf(e.kind, e.designs, op.kind, `${e.component}:${why.id}`);
    if (this.explained.has(signature)) return;
    this.explained.set(signature, { signature, kind: e.kind, designs: e.designs, opIndex: i, opKind: op.kind, component: e.component,
      message: `${why.id} ${why.title}: ${e.designs.join(', ')} ${e.kind} at op ${i} (${describeOp(op)}): ${e.detail}`,
      explained: { id: why.id, title: why.title, reason: why.reason } });
  }

  /**
   * A violation that persists (a leaked mismatch, a stuck FROZEN) is reported once, at the op where it
   * first appeared; later ops would only inflate the signature count.
   */
  private reportNote(e: Note, i: number, op: Op): void {
    const key = `${e.kind}|${e.designs.join('+')}|${e.component}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.add({ kind: e.kind, designs: e.designs, opIndex: i, opKind: op.kind, component: e.component,
      message: `${e.designs.join(', ')}: ${e.kind} at op ${i} (${describeOp(op)}): ${noteDetail(e)}` });
  }

  /** A design that hung or hit BUG() is dead: nothing after it can be compared. */
  private retireDead(obs: readonly (Observation | null)[]): void {
    for (let d = 0; d < obs.length; d++) {
      const o = obs[d];
      if (!o || !killedBy(o.outcome)) continue;
      this.vms[d] = null;
      if (d === 0) this.comparing.fill(false); else this.comparing[d] = false;
    }
  }

  private result(): RunResult {
    const coverage = new Set<string>();
    position.phase = 'coverage';
    for (let d = 0; d < this.vms.length; d++) {
      const vm = this.vms[d];
      position.design = d;
      if (vm) for (const c of vm.coverage()) coverage.add(c);
    }
    return { findings: [...this.findings.values()], explained: [...this.explained.values()], ops: this.ops,
      teardownAppended: this.appended, coverage };
  }
}

export function runSequence(seq: Sequence, opts: RunOptions): RunResult {
  position.active = true;
  position.run = null;
  const r = new LockstepRun(seq, opts).run();
  position.active = false;
  return r;
}

/** The default wall-clock bound of one run (--hang-timeout, libFuzzer's -timeout). */
const DEFAULT_HANG_MS = 10_000;

/** The component of a `hang` the watchdog found (the model's step budget names its site instead). */
export const WALL_CLOCK = 'wall-clock';

/**
 * The result of a run the watchdog stopped after `hangMs`: a `hang` finding (component
 * wall-clock) naming the design, op and phase it was stopped in, after what the run had found so
 * far; no coverage (the stopped instances are not asked again). Call it right after the stop.
 */
export function hangResult(seq: Sequence, opts: RunOptions, hangMs: number): RunResult {
  const run = position.active ? position.run : null;
  const labels = run?.labels ?? designLabels(opts.designs);
  const { ops, appended } = run ?? opsWithTeardown(seq);
  const prior = run?.partial() ?? { findings: [], explained: [] };
  const bound = `no progress for ${+(hangMs / 1000).toFixed(3)} s (--hang-timeout)`;
  const d = run ? position.design : -1;
  const designs = d >= 0 ? [labels[d]] : labels;
  const i = run ? position.op : -1;
  let opIndex: number, opKind: string, where: string;
  if (!position.active) { opIndex = 0; opKind = 'none'; where = 'outside a run of the designs'; }
  else if (i < 0) { opIndex = 0; opKind = 'create'; where = 'creating the VM'; }
  else if (position.phase === 'end' || position.phase === 'coverage') { opIndex = ops.length - 1; opKind = 'end'; where = `after the last op (${position.phase})`; }
  else { opIndex = i; opKind = ops[i].kind; where = `at op ${i} (${describeOp(ops[i])})${position.phase === 'apply' ? '' : ` in ${position.phase}`}`; }
  const hang: Finding = {
    signature: signatureOf('hang', designs, opKind, WALL_CLOCK), kind: 'hang', designs, opIndex, opKind, component: WALL_CLOCK,
    message: `${designs.join(', ')} hung ${where}: ${bound}`,
  };
  position.active = false;
  position.run = null;
  const findings = prior.findings.some(f => f.signature === hang.signature) ? prior.findings : [...prior.findings, hang];
  return { findings, explained: prior.explained, ops, teardownAppended: appended, coverage: new Set() };
}

/** One run bounded by opts.hangMs (replay, minimize, explain): a run that does not finish is a `hang` finding. */
export function runBoundedSequence(seq: Sequence, opts: RunOptions): RunResult {
  const ms = opts.hangMs ?? DEFAULT_HANG_MS;
  const r = runBounded(() => runSequence(seq, opts), ms);
  return r.ok ? r.value : hangResult(seq, opts, ms);
}
