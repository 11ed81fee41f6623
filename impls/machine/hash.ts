// Cheap 32-bit mixing for the incremental state digests (DESIGN §4: keep digests, build canonical
// dumps only when they differ). XOR-combinable: a digest is the XOR of its entries' hashes.

function mix(h: number, v: number): number {
  // v may exceed 2^32 (gfns on x86, host pfns): fold the high part in separately.
  const lo = v >>> 0;
  // (the division only for values outside 0..2^32-1: levels, indices and counts skip it)
  const hi = lo === v ? 0 : Math.floor(v / 4294967296) >>> 0;
  h = Math.imul(h ^ lo, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ hi, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function hash4(a: number, b: number, c: number, d: number): number {
  return mix(mix(mix(mix(0x9747b28c, a), b), c), d);
}
