// Fault plan and race points (DESIGN §2, kernel-model §4.2). Each op carries its own plan; counters
// are per op, so "the 2nd SEPT.ADD of this fault fails BUSY" means the same thing in both designs.
import type { FaultEntry, FaultPoint, Op, Race, RacePoint, SeamcallName } from '../api';

export class FaultPlan {
  private counters = new Map<string, number>();
  /** faults that actually fired (for coverage and reports) */
  fired: string[] = [];

  constructor(private readonly entries: readonly FaultEntry[]) {}

  static readonly EMPTY = new FaultPlan([]);

  /** Called at a named point; returns the entry that fires here, if any. */
  consult(point: FaultPoint, call?: SeamcallName): FaultEntry | undefined {
    if (this.entries.length === 0) return undefined;
    const key = call ? `${point}:${call}` : point;
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    for (const e of this.entries) {
      if (e.at !== point) continue;
      if (point === 'seamcall' && e.call !== call) continue;
      if ((e.nth ?? 1) === n) {
        this.fired.push(key);
        return e;
      }
    }
    return undefined;
  }
}

/** A race armed for one op: fires the nested op once, when the point is reached the nth time. */
export class RacePlan {
  private count = 0;
  fired = false;

  constructor(readonly race: Race) {}

  /** Returns the nested op to run now, or undefined. */
  reach(point: RacePoint, level: number): Op | undefined {
    if (this.fired || this.race.at !== point) return undefined;
    if (this.race.level !== undefined && this.race.level !== level) return undefined;
    this.count++;
    if (this.count !== (this.race.nth ?? 1)) return undefined;
    this.fired = true;
    return this.race.op;
  }
}
