// The lockstep runner (DESIGN §3, §4): one sequence on N designs, compared after every op under the
// chosen equivalence (digests first, canonical dumps only for the report), the real teardown appended
// when the sequence does not end with one, then the per-design oracles and the leak oracle.
import type { Design, DesignInstance, Op, Snapshot } from '../../impls/api';
import {
  diagCategories, finalDifference, firstDifference, seamcallLines, type Equivalence, type Observation,
} from './compare';
import { EXPLAINED, explain, type ExplainedDifference } from './explained';
import {
  describeOp, signatureOf, type DesignTrace, type FirstDivergence, type Finding, type FindingKind,
} from './findings';
import type { Domain } from '../seq/domain';
import type { Sequence } from '../seq/sequence';

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

function traceOf(design: string, o: Observation): DesignTrace {
  return {
    design,
    result: o.outcome.result,
    seamcalls: seamcallLines(o.outcome),
    diagnostics: o.outcome.diagnostics.map(d => `${d.kind}${d.printed ? '' : ' (silent)'} ${d.category} @ ${d.site}`),
  };
}

function traceText(t: DesignTrace): string {
  return [`result: ${t.result}`, ...t.seamcalls.map(s => `seamcall ${s}`), ...t.diagnostics.map(d => `diag ${d}`)].join('\n') + '\n';
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 200);
}

export function runSequence(seq: Sequence, opts: RunOptions): RunResult {
  const labels = designLabels(opts.designs);
  const vms: (DesignInstance | null)[] = opts.designs.map(d => d.create(seq.config));
  const { ops, appended } = opsWithTeardown(seq);
  const findings = new Map<string, Finding>();
  const explained = new Map<string, Finding>();
  const comparing = labels.map((_, k) => k > 0);
  let faultSeen = false;
  const reported = new Set<string>();
  /** violation kinds a persistent explained difference leaves behind */
  const excused = new Map<string, ExplainedDifference>();
  let lastObs: (Observation | null)[] = [];

  const add = (f: Omit<Finding, 'signature'>): void => {
    const signature = signatureOf(f.kind, f.designs, f.opKind, f.component);
    if (!findings.has(signature)) findings.set(signature, { signature, ...f });
  };

  const divergence = (i: number, op: Op, component: string, k: number, obs: Observation[]): FirstDivergence => {
    const a = vms[0]!, b = vms[k]!;
    const ta = traceOf(labels[0], obs[0]), tb = traceOf(labels[k], obs[k]);
    return {
      opIndex: i,
      op: describeOp(op),
      prefix: ops.slice(0, i).map(describeOp),
      component,
      sides: [ta, tb],
      stateDiff: opts.diffs === false ? ''
        : createTwoFilesPatch(labels[0], labels[k], snapshotText(a.snapshot()), snapshotText(b.snapshot()), '', '', { context: 3 }),
      traceDiff: opts.diffs === false ? '' : createTwoFilesPatch(labels[0], labels[k], traceText(ta), traceText(tb), '', '', { context: 3 }),
    };
  };

  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (hasFaults(op)) faultSeen = true;
    const obs: (Observation | null)[] = vms.map((vm, d) => {
      if (!vm) return null;
      try {
        const outcome = vm.apply(op);
        return { outcome, digests: vm.digests() };
      } catch (e) {
        add({ kind: 'exception', designs: [labels[d]], opIndex: i, opKind: op.kind, component: firstLine(e),
          message: `${labels[d]} threw at op ${i} (${describeOp(op)}): ${firstLine(e)}` });
        vms[d] = null;
        return null;
      }
    });

    // Lockstep comparison against the first design.
    for (let k = 1; k < vms.length; k++) {
      if (!comparing[k] || !obs[0] || !obs[k]) continue;
      const component = firstDifference(obs[0]!, obs[k]!, opts.equiv);
      if (!component) continue;
      const pair = [obs[0]!, obs[k]!] as [Observation, Observation];
      const ex = explain({ op, component, equiv: opts.equiv, domain: opts.domain, sides: pair });
      const div = divergence(i, op, component, k, obs as Observation[]);
      const designs = [labels[0], labels[k]];
      if (ex) {
        for (const e of ex) {
          const signature = signatureOf('divergence', designs, op.kind, `${component}:${e.id}`);
          if (!explained.has(signature)) {
            explained.set(signature, { signature, kind: 'divergence', designs, opIndex: i, opKind: op.kind, component,
              message: `${e.id} ${e.title}: ${component} differs at op ${i} (${describeOp(op)})`,
              explained: { id: e.id, title: e.title, reason: e.reason }, divergence: div });
          }
        }
        if (ex.some(e => e.persistent)) comparing[k] = false;
        for (const e of ex) for (const v of e.leavesViolations ?? []) excused.set(v, e);
      } else {
        add({ kind: 'divergence', designs, opIndex: i, opKind: op.kind, component,
          message: `${labels[0]} and ${labels[k]} diverge in ${component} at op ${i} (${describeOp(op)})`
            + (component === 'diagnostics' ? `: ${diagCategories(pair[0].outcome).join(' ')} vs ${diagCategories(pair[1].outcome).join(' ')}` : ''),
          divergence: div });
        comparing[k] = false;
      }
    }
    // Per-design oracles: ledger/RCU/TDX violations, invariants, unexpected diagnostics.
    const perDesign = new Map<string, { kind: FindingKind; component: string; designs: string[]; detail: string }>();
    const note = (kind: FindingKind, component: string, d: number, detail: string): void => {
      const key = `${kind}|${component}`;
      const e = perDesign.get(key);
      if (e) { if (!e.designs.includes(labels[d])) e.designs.push(labels[d]); }
      else perDesign.set(key, { kind, component, designs: [labels[d]], detail });
    };
    obs.forEach((o, d) => {
      if (!o) return;
      const vm = vms[d]!;
      for (const v of o.outcome.violations) note(v.kind, v.site, d, v.detail);
      if (!o.outcome.hang && o.outcome.violations.every(v => v.kind !== 'host-bug')) {
        for (const v of vm.checkInvariants()) note(v.kind, v.site, d, v.detail);
      }
      if (opts.domain === 'legal' && !faultSeen) {
        for (const diag of o.outcome.diagnostics) {
          if (diag.kind !== 'BUG') note('unexpected-diagnostic', `${diag.kind}:${diag.category}`, d, `${diag.kind} ${diag.category} at ${diag.site}${diag.detail ? ` (${diag.detail})` : ''}`);
        }
      }
    });
    for (const e of perDesign.values()) {
      let why = excused.get(e.kind);
      if (!why && opts.domain === 'extended') {
        why = EXPLAINED.find(x => x.matchViolation && e.designs.every(d => {
          const o = obs[labels.indexOf(d)];
          return !!o && x.matchViolation!(e.kind, op, o.outcome);
        }));
        if (why?.persistent) excused.set(e.kind, why);
      }
      if (why) {
        const signature = signatureOf(e.kind, e.designs, op.kind, `${e.component}:${why.id}`);
        if (!explained.has(signature)) {
          explained.set(signature, { signature, kind: e.kind, designs: e.designs, opIndex: i, opKind: op.kind, component: e.component,
            message: `${why.id} ${why.title}: ${e.designs.join(', ')} ${e.kind} at op ${i} (${describeOp(op)}): ${e.detail}`,
            explained: { id: why.id, title: why.title, reason: why.reason } });
        }
        continue;
      }
      // A violation that persists (a leaked mismatch, a stuck FROZEN) is reported once, at the op
      // where it first appeared; later ops would only inflate the signature count.
      const key = `${e.kind}|${e.designs.join('+')}|${e.component}`;
      if (reported.has(key)) continue;
      reported.add(key);
      add({ kind: e.kind, designs: e.designs, opIndex: i, opKind: op.kind, component: e.component,
        message: `${e.designs.join(', ')}: ${e.kind} at op ${i} (${describeOp(op)}): ${e.detail}` });
    }
    // A design that hung or hit BUG() is dead: nothing after it can be compared.
    obs.forEach((o, d) => {
      if (o && (o.outcome.hang || o.outcome.violations.some(v => v.kind === 'host-bug'))) {
        vms[d] = null;
        if (d === 0) comparing.fill(false); else comparing[d] = false;
      }
    });

    lastObs = obs;
  }

  // `final`: only the end state is compared.
  if (opts.equiv === 'final') {
    for (let k = 1; k < vms.length; k++) {
      const a = lastObs[0], b = lastObs[k];
      if (!a || !b) continue;
      const component = finalDifference(a.digests, b.digests);
      if (component) {
        add({ kind: 'divergence', designs: [labels[0], labels[k]], opIndex: ops.length - 1, opKind: 'end', component,
          message: `${labels[0]} and ${labels[k]} end in different states (${component})`,
          divergence: divergence(ops.length - 1, ops[ops.length - 1], component, k, lastObs as Observation[]) });
      }
    }
  }

  // Leak oracle: after teardown nothing may remain that was not leaked on purpose.
  const leaks = new Map<string, string[]>();
  vms.forEach((vm, d) => {
    if (!vm) return;
    const r = vm.leakReport();
    if (r.leaked.length === 0) return;
    const pools = [...new Set(r.leaked.map(l => /\(([a-zA-Z]+),/.exec(l)?.[1] ?? '?'))].sort().join(',');
    const key = `${pools}`;
    leaks.set(key, [...(leaks.get(key) ?? []), labels[d]]);
    if (leaks.get(key)!.length === 1) leaks.set(`${key}#detail`, r.leaked.slice(0, 3));
  });
  for (const [pools, designs] of leaks) {
    if (pools.endsWith('#detail')) continue;
    add({ kind: 'leak', designs, opIndex: ops.length - 1, opKind: 'teardown', component: pools,
      message: `${designs.join(', ')}: pages never freed after teardown (${pools}): ${leaks.get(`${pools}#detail`)!.join('; ')}` });
  }

  const coverage = new Set<string>();
  for (const vm of vms) if (vm) for (const c of vm.coverage()) coverage.add(c);
  return { findings: [...findings.values()], explained: [...explained.values()], ops, teardownAppended: appended, coverage };
}
