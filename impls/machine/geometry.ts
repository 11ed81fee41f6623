// Geometry of the paging structures (DESIGN §2): 4 levels, 512 entries a table on x86, or a small
// fan-out ("compact") that makes table sharing, splits and collisions frequent. Same logic either way.
import { GEOMETRY_FANOUT, PAGING_LEVELS, type GeometryName } from '../api';

export const ROOT_LEVEL = PAGING_LEVELS;

export class Geometry {
  readonly levels = ROOT_LEVEL;
  readonly fanout: number;
  readonly totalGfns: number;
  private readonly spans: number[];

  constructor(readonly name: GeometryName) {
    this.fanout = GEOMETRY_FANOUT[name];
    this.spans = [0];
    for (let l = 1; l <= this.levels + 1; l++) this.spans.push(Math.pow(this.fanout, l - 1));
    this.totalGfns = this.spans[this.levels + 1];
  }

  /** KVM_PAGES_PER_HPAGE(level): gfns covered by one entry at `level`. */
  span(level: number): number { return this.spans[level]; }

  /** Index of gfn's entry inside a table whose entries are at `level`. */
  index(gfn: number, level: number): number {
    return Math.floor(gfn / this.spans[level]) % this.fanout;
  }

  /** gfn_round_for_level */
  align(gfn: number, level: number): number {
    const s = this.spans[level];
    return gfn - (gfn % s);
  }
}

/** One Geometry per name (it is immutable): every VM of a run asks for its configuration's. */
const GEOMETRIES = new Map<GeometryName, Geometry>();
export function geometryOf(name: GeometryName): Geometry {
  let g = GEOMETRIES.get(name);
  if (!g) GEOMETRIES.set(name, g = new Geometry(name));
  return g;
}
