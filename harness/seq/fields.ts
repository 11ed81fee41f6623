// The limits of sequence field values and the geometry facts they derive from (stated once, in
// impls/api.ts). The strict reader that checks them is strict_json.ts.

import { GEOMETRY_FANOUT, PAGING_LEVELS, type GeometryName, type VmConfig } from '../../impls/api';

export { GEOMETRY_FANOUT };

/** Both geometries have 4 levels; level 1 is the 4K leaf level, level 4 the root table. */
export const LEVELS = PAGING_LEVELS;
/** The geometries, in the order flags and messages list them. */
export const GEOMETRIES: readonly GeometryName[] = ['compact', 'x86'];
export const MAX_VCPUS = 8;
/** Lockless walker ids (rcuRead/rcuUnlock). */
export const MAX_WALKER = 7;
/** Upper bound for `nth` in fail and race entries: beyond this the point is never reached in practice. */
export const MAX_NTH = 64;

/** fanout^4 per geometry, computed once: every gfn field read asks for it. */
const TOTAL_GFNS = new Map<string, number>(Object.entries(GEOMETRY_FANOUT).map(([g, fanout]) => [g, fanout ** LEVELS]));

/** Number of gfns the 4-level tree maps: fanout^4 (4096 for compact, 2^36 for x86). */
export function totalGfns(config: VmConfig): number {
  // NaN for an unknown geometry, as fanout ** LEVELS gave
  return TOTAL_GFNS.get(config.geometry) ?? NaN;
}

/** Number of gfns one entry at `level` covers (1 at level 1). */
export function gfnsPerEntry(config: VmConfig, level: number): number {
  return GEOMETRY_FANOUT[config.geometry] ** (level - 1);
}
