// FROZEN-reachable oracle (kernel-model §3.2, I-frozen-transient): FROZEN_SPTE is a transient value
// owned by one writer; none may be left reachable from a root once an op is done
// (impls/tdp_mmu/observe.ts, via checkInvariants()).
import type { Oracle } from './oracle';

export const FROZEN: Oracle = {
  name: 'frozen',
  checks: 'no SPTE reachable from a root is left FROZEN after an op',
  kinds: ['frozen-reachable'],
  violations: { from: 'invariants', kinds: ['frozen-reachable'] },
};
