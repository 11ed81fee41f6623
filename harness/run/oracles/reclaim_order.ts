// Reclaim-order oracle (kernel-model §3.2, I-children-first): the fake TDX module refuses nothing, but
// notes an S-EPT table reclaimed after its parent table (impls/machine/tdx_module.ts).
import type { Oracle } from './oracle';

export const RECLAIM_ORDER: Oracle = {
  name: 'reclaim-order',
  checks: 'S-EPT tables are reclaimed children first: never after their parent table',
  kinds: ['reclaim-order'],
  violations: { from: 'op', kinds: ['reclaim-order'] },
};
