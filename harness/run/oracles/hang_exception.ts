// Hang/exception oracle: a design that livelocks (a model step budget exceeded), hits BUG() or throws
// is a finding instead of a dead campaign. The first two arrive as violations from the design's
// dispatcher (impls/tdp_mmu/vm_ops.ts); an exception is caught by the runner. Either way the design
// is dead for the rest of the run (runner.ts).
import { describeOp } from '../findings';
import type { FindingSink, Oracle, RunView } from './oracle';

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 200);
}

function onException(run: RunView, d: number, i: number, e: unknown, sink: FindingSink): void {
  const op = run.ops[i];
  sink.add({ kind: 'exception', designs: [run.labels[d]], opIndex: i, opKind: op.kind, component: firstLine(e),
    message: `${run.labels[d]} threw at op ${i} (${describeOp(op)}): ${firstLine(e)}` });
}

export const HANG_EXCEPTION: Oracle = {
  name: 'hang-exception',
  checks: 'no op livelocks (hang), hits BUG() (host-bug) or throws out of the model (exception)',
  kinds: ['hang', 'host-bug', 'exception'],
  violations: { from: 'op', kinds: ['hang', 'host-bug'] },
  onException,
};
