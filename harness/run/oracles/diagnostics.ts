// Diagnostics oracle (DESIGN §4): in the legal domain, with no fault injected so far, the kernel never
// WARNs, bugs the VM or trips lockdep — any such diagnostic is a finding. BUG() is the hang/exception
// oracle's (the host is dead); after an injected fault, diagnostics are expected and only compared.
import type { Observation } from '../compare';
import type { OpNotes, Oracle, RunView } from './oracle';

function checkDiagnostics(run: RunView, d: number, o: Observation, notes: OpNotes): void {
  if (run.domain !== 'legal' || run.faultSeen) return;
  for (const diag of o.outcome.diagnostics) {
    if (diag.kind !== 'BUG') {
      notes.note('unexpected-diagnostic', `${diag.kind}:${diag.category}`, d,
        `${diag.kind} ${diag.category} at ${diag.site}${diag.detail ? ` (${diag.detail})` : ''}`);
    }
  }
}

export const DIAGNOSTICS: Oracle = {
  name: 'diagnostics',
  checks: 'no WARN, KVM_BUG_ON, TDX_BUG_ON or lockdep splat in the legal domain before a fault is injected',
  kinds: ['unexpected-diagnostic'],
  checkOp: checkDiagnostics,
};
