// Stats oracle (kernel-model §3.2, I-stats): kvm->stat.pages[] counts the leaf mappings per level
// (impls/tdp_mmu/observe.ts, via checkInvariants(); skipped once the VM is bugged).
import type { Oracle } from './oracle';

export const STATS: Oracle = {
  name: 'stats',
  checks: 'the pages[] stat of each level equals the number of leaves mapped at that level (until the VM is bugged)',
  kinds: ['stats-mismatch'],
  violations: { from: 'invariants', kinds: ['stats-mismatch'] },
};
