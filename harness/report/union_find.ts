// Disjoint sets over 0..n-1 (path halving), for grouping findings into bugs (buckets.ts) and bugs of
// several campaigns into one set (fleet_status.ts). The root of a set is always its smallest member,
// so "the first in order" names a group whatever order the joins came in.
export class UnionFind {
  private readonly parent: number[];
  constructor(n: number) { this.parent = Array.from({ length: n }, (_, i) => i); }

  find(i: number): number {
    const p = this.parent;
    while (p[i] !== i) { p[i] = p[p[i]]; i = p[i]; }
    return i;
  }

  union(a: number, b: number): void {
    const ra = this.find(a), rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}
