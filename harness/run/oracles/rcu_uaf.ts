// RCU use-after-free oracle (kernel-model §2.7, I-rcu): a page-table page or SP header reachable by a
// lockless walker is freed only after a grace period. Ids are never reused, so the ledger sees a
// walker's touch of a freed page directly (impls/machine/ledger.ts `use`).
import type { Oracle } from './oracle';

export const RCU_UAF: Oracle = {
  name: 'rcu-uaf',
  checks: 'no page is read or written after it was freed, in particular by a lockless walker inside its RCU read section',
  kinds: ['use-after-free'],
  violations: { from: 'op', kinds: ['use-after-free'] },
};
