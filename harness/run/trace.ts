// Per-op traces for `replay --trace`: each design runs the sequence (plus the teardown the runner
// appends) op by op, and every op prints each design's result, SEAMCALLs (each with the kernel
// function that issued it on the line below, `<- tdx_track`), kvm_tdp_mmu_spte_changed
// events, diagnostics and violations
// side by side. Independent of the lockstep runner's comparison: this shows what happened, the
// runner decides what it means.
import type { Design, DesignInstance, Op } from '../../impls/api';
import { seamcallLines, traceLines } from './compare';
import { describeOp } from './findings';
import { designLabels, opsWithTeardown } from './runner';
import type { Sequence } from '../seq/sequence';
import { runBounded } from './watchdog';

export interface TraceSide {
  design: string;
  /** undefined when the design had already died (threw, hung, or hit BUG) */
  result?: string;
  seamcalls: string[];
  /** the kernel function that issued each SEAMCALL (SeamcallRecord.by), same length as seamcalls */
  seamcallBy: string[];
  /** the op's kvm_tdp_mmu_spte_changed events (tdp_mmu.c handle_changed_spte), when the design records them */
  spteChanged: string[];
  diagnostics: string[];
  violations: string[];
  error?: string;
}

export interface TraceStep {
  index: number;
  op: string;
  /** the teardown the runner appends when the sequence does not end with destroy */
  appended: boolean;
  sides: TraceSide[];
  /** the designs' results differ (a quick marker; the runner's equivalence decides findings) */
  resultsDiffer: boolean;
}

export function traceSequence(seq: Sequence, designs: readonly Design[]): TraceStep[] {
  const labels = designLabels(designs);
  const vms: (DesignInstance | null)[] = designs.map(d => d.create(seq.config));
  const { ops, appended } = opsWithTeardown(seq);
  const steps: TraceStep[] = [];
  ops.forEach((op: Op, i) => {
    const sides: TraceSide[] = vms.map((vm, d) => {
      const side: TraceSide = { design: labels[d], seamcalls: [], seamcallBy: [], spteChanged: [], diagnostics: [], violations: [] };
      if (!vm) { side.error = 'not running (died at an earlier op)'; return side; }
      try {
        const o = vm.apply(op);
        side.result = o.result;
        side.seamcalls = seamcallLines(o);
        side.seamcallBy = o.seamcalls.map(s => s.by);
        side.spteChanged = traceLines({ ...o, traceList: o.traceList ?? vm.lastTrace?.() ?? [] });
        side.diagnostics = o.diagnostics.map(x => `${x.kind}${x.printed ? '' : ' (silent)'} ${x.category} @ ${x.site}`);
        side.violations = o.violations.map(v => `${v.kind} @ ${v.site}: ${v.detail}`);
        if (o.hang) { side.violations.push('hang: step budget exceeded'); vms[d] = null; }
        if (o.violations.some(v => v.kind === 'host-bug')) vms[d] = null;
      } catch (e) {
        side.error = (e instanceof Error ? e.message : String(e)).split('\n')[0];
        vms[d] = null;
      }
      return side;
    });
    const results = new Set(sides.map(s => s.result ?? `!${s.error}`));
    steps.push({ index: i, op: describeOp(op), appended: appended && i === ops.length - 1, sides, resultsDiffer: results.size > 1 });
  });
  return steps;
}

function sideLines(s: TraceSide): string[] {
  if (s.error && s.result === undefined) return [`error: ${s.error}`];
  return [
    `result: ${s.result}`,
    ...s.seamcalls.flatMap((x, i) => [`seamcall ${x}`, `  <- ${s.seamcallBy[i]}`]),
    ...s.spteChanged.map(x => `trace ${x.replace(/^kvm_tdp_mmu_spte_changed /, '')}`),
    ...s.diagnostics.map(x => `diag ${x}`),
    ...s.violations.map(x => `VIOLATION ${x}`),
  ];
}

/** The trace as text: one block per op, designs side by side; `!=` marks differing results. */
export function formatTrace(steps: readonly TraceStep[]): string {
  const out: string[] = [];
  for (const st of steps) {
    out.push(`${st.resultsDiffer ? '!=' : '  '} op ${st.index}: ${st.op}${st.appended ? '  (teardown appended by the runner)' : ''}`);
    const block = sideBySide(st.sides.map(s => ({ title: s.design, lines: sideLines(s) })), 64);
    out.push(...block.split('\n').map(l => `     ${l}`), '');
  }
  return out.join('\n');
}

/** Two columns side by side (for design traces). */
export function sideBySide(columns: { title: string; lines: string[] }[], maxWidth = 72): string {
  const widths = columns.map(c => Math.min(maxWidth, Math.max(c.title.length, ...c.lines.map(l => l.length))));
  const rows = Math.max(...columns.map(c => c.lines.length));
  const pad = (s: string, w: number): string => (s.length >= w ? s : s + ' '.repeat(w - s.length));
  const line = (cells: string[]): string => cells.map((c, i) => (i < cells.length - 1 ? pad(c, widths[i]) : c)).join(' | ').trimEnd();
  const out = [line(columns.map(c => c.title)), widths.map(w => '-'.repeat(w)).join('-+-')];
  for (let r = 0; r < rows; r++) out.push(line(columns.map(c => c.lines[r] ?? '')));
  return out.join('\n');
}

/**
 * formatTrace of traceSequence, bounded by the wall-clock watchdog (replay --trace, explain): a
 * design that hangs ends the trace with a line saying so instead of hanging the command.
 */
export function boundedTraceText(seq: Sequence, designs: readonly Design[], hangMs: number): string {
  const r = runBounded(() => formatTrace(traceSequence(seq, designs)), hangMs);
  return r.ok ? r.value : `(no trace: a design made no progress for ${+(hangMs / 1000).toFixed(3)} s (--hang-timeout))\n`;
}
