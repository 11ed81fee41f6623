// Ledger oracle (kernel-model §1.4/§1.5): every page is freed once, by its owner, to the pool it came
// from, and nothing is left allocated after teardown. The frees are checked by the page ledger in the
// designs' machine (impls/machine/ledger.ts); the leak check runs here, on LeakReport, after teardown.
import type { LeakedPage } from '../../../impls/api';
import type { FindingSink, Oracle, RunView } from './oracle';

interface LeakGroup { designs: string[]; pages: readonly LeakedPage[] }

/** Leaked pages are grouped by their set of pools: designs leaking from the same pools share a finding. */
function checkLeaks(run: RunView, sink: FindingSink): void {
  const groups = new Map<string, LeakGroup>();
  run.vms.forEach((vm, d) => {
    if (!vm) return;
    const r = vm.leakReport();
    if (r.leaked.length === 0) return;
    const pools = [...new Set(r.leaked.map(l => l.pool))].sort().join(',');
    const g = groups.get(pools);
    if (g) g.designs.push(run.labels[d]);
    else groups.set(pools, { designs: [run.labels[d]], pages: r.leaked.slice(0, 3) });
  });
  for (const [pools, g] of groups) {
    sink.add({ kind: 'leak', designs: g.designs, opIndex: run.ops.length - 1, opKind: 'teardown', component: pools,
      message: `${g.designs.join(', ')}: pages never freed after teardown (${pools}): ${g.pages.map(p => p.page).join('; ')}` });
  }
}

export const LEDGER: Oracle = {
  name: 'ledger',
  checks: 'each page is freed once (double-free), never while the TDX module owns it (tdx-owned-free) or after a deliberate leak (leaked-free), to the allocator of its pool (wrong-pool); a page the TD used is neither freed nor given to the module again before PHYMEM.PAGE.WBINVD wrote its cache lines back (tdx-dirty-page); after teardown no page is left that was not leaked on purpose (leak)',
  kinds: ['double-free', 'tdx-owned-free', 'leaked-free', 'wrong-pool', 'tdx-dirty-page', 'leak'],
  violations: { from: 'op', kinds: ['double-free', 'tdx-owned-free', 'leaked-free', 'wrong-pool', 'tdx-dirty-page'] },
  checkEnd: checkLeaks,
};
