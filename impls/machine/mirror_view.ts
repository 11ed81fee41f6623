// The "mirror view" hash of one entry: how the S-EPT should look for a present mirror SPTE. The
// mirror tree and the fake TDX module both keep the XOR of these hashes incrementally, so the
// mirror/S-EPT consistency invariant (kernel-model §3.2 I-publish-after) is one comparison per op;
// the tree walk that names the differing entries runs only when the two digests disagree.
import { hash4 } from './hash';

export const MV_LEAF = 41;
export const MV_TABLE = 42;
export const MV_BLOCKED = 43;

export function mirrorViewHash(level: number, gfn: number, kind: number, pfn: number): number {
  return hash4(level, gfn, kind, pfn);
}
