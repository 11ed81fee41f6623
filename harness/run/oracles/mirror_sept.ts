// Mirror/S-EPT consistency oracle (kernel-model §3.2, I-publish-after, I-ext-alloc): while the TD is
// alive and the VM not bugged, the valid mirror tree and the TDX module's S-EPT hold the same entries
// (impls/tdp_mmu/observe.ts checkMirrorSept, via checkInvariants()).
import type { Oracle } from './oracle';

export const MIRROR_SEPT: Oracle = {
  name: 'mirror-sept',
  checks: 'every present mirror SPTE has the same leaf or table in the S-EPT (the table being the child SP\'s external_spt), and the S-EPT has nothing else',
  kinds: ['mirror-sept-mismatch'],
  violations: { from: 'invariants', kinds: ['mirror-sept-mismatch'] },
};
