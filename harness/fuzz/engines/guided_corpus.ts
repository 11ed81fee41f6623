// The guided engine's kept corpus and its parent scheduling (DESIGN §3 generators):
//  - Keeping: a sequence is kept when its run reaches a coverage class no earlier run reached
//    (and no kept sequence has the same hash).
//  - Parents: 60% an entry reaching a rarely reached class (class drawn with weight 1/runs that
//    reached it, as in FairFuzz/Entropic), 25% a favoured entry (the shortest holder of some class),
//    15% any; of two draws, the shorter sequence.
// Everything random is drawn from the Chooser the caller passes, so the corpus adds no stream of its
// own: the engine's one seeded stream stays the single source of its choices.
import type { Chooser } from '../../seq/opgen';
import { sealCanonical, sequenceHash, type Sequence } from '../../seq/sequence';

export interface CorpusEntry {
  seq: Sequence;
  hash: string;
  /** the classes its run reached (for the favoured set) */
  coverage: readonly string[];
  /** classes it was the first to reach */
  added: number;
}

/** Runs between rebuilds of the rare-class table (a kept entry forces one at the next draw). */
const RARE_REFRESH = 256;

export class GuidedCorpus {
  /** the kept entries, in the order they were kept (an entry's index never changes) */
  readonly entries: CorpusEntry[] = [];
  private readonly hashes = new Set<string>();
  /** runs that reached each class (for rare-class targeting); its keys are every class seen */
  private readonly hits = new Map<string, number>();
  /** class → index of the shortest entry that reaches it */
  private readonly holder = new Map<string, number>();
  /** the distinct holders, ascending; recomputed lazily when a holder changed */
  private favored: number[] = [];
  private favoredDirty = false;
  /** class → entries that reach it */
  private readonly classEntries = new Map<string, number[]>();
  /** the rare-class table: classes with their cumulative weights 1/hits, for a binary-search draw */
  private rareClasses: string[] = [];
  private rareCum: number[] = [];
  /** runs since the table was rebuilt: hit counts drift, but rebuilding on every draw would cost more than the runs */
  private rareStale = 0;

  get size(): number { return this.entries.length; }

  /** Distinct coverage classes reached by any run learnt from, kept or not. */
  get seenClasses(): number { return this.hits.size; }

  /**
   * Count the classes a run reached and keep seq when one of them is new; returns the entry and
   * the classes it was first to reach, or null when not kept.
   */
  learn(seq: Sequence, coverage: ReadonlySet<string>): { entry: CorpusEntry; newClasses: string[] } | null {
    const newClasses: string[] = [];
    this.rareStale++;
    for (const c of coverage) {
      const h = this.hits.get(c);
      if (h === undefined) { this.hits.set(c, 1); newClasses.push(c); } else this.hits.set(c, h + 1);
    }
    if (newClasses.length === 0) return null;
    const hash = sequenceHash(seq);
    if (this.hashes.has(hash)) return null;
    // A kept sequence is a parent from now on: its mutants share its ops, which are frozen (and then
    // need no re-validation in repair) — an operator that changed one in place would throw.
    sealCanonical(seq);
    // meta is left out: the entry is the sequence, not the run's provenance
    const entry: CorpusEntry = { seq: { format: seq.format, config: seq.config, ops: seq.ops }, hash, coverage: [...coverage], added: newClasses.length };
    const idx = this.entries.length;
    this.entries.push(entry);
    this.hashes.add(hash);
    const len = seq.ops.length;
    // the new entry must be drawable right away: its classes are the rarest there are
    this.rareStale = RARE_REFRESH;
    for (const c of entry.coverage) {
      const list = this.classEntries.get(c);
      if (list) list.push(idx); else this.classEntries.set(c, [idx]);
      const h = this.holder.get(c);
      if (h === undefined || this.entries[h].seq.ops.length > len) { this.holder.set(c, idx); this.favoredDirty = true; }
    }
    return { entry, newClasses };
  }

  /** A parent for mutation (the corpus must not be empty): rare-class holder, favoured, or any; of two draws, the shorter. */
  chooseParent(ch: Chooser): CorpusEntry {
    if (this.favoredDirty) this.recomputeFavored();
    const r = ch.int(0, 99);
    let pool: readonly number[] | null = null;
    if (r < 60) {
      const c = this.drawRare(ch);
      if (c) pool = this.classEntries.get(c)!;
    } else if (r < 85 && this.favored.length) {
      pool = this.favored;
    }
    const draw = (): CorpusEntry => this.entries[pool ? pool[ch.int(0, pool.length - 1)] : ch.int(0, this.entries.length - 1)];
    const a = draw(), b = draw();
    return b.seq.ops.length < a.seq.ops.length ? b : a;
  }

  private recomputeFavored(): void {
    this.favored = [...new Set(this.holder.values())].sort((a, b) => a - b);
    this.favoredDirty = false;
  }

  /**
   * Rare-class targeting (FairFuzz/Entropic style): a class is drawn with weight 1/(runs that
   * reached it); the caller then draws an entry that reaches it. The table is rebuilt every
   * RARE_REFRESH runs.
   */
  private rebuildRare(): void {
    this.rareClasses = [];
    this.rareCum = [];
    let acc = 0;
    for (const [c, entries] of this.classEntries) {
      if (!entries.length) continue;
      acc += 1 / (this.hits.get(c) ?? 1);
      this.rareClasses.push(c);
      this.rareCum.push(acc);
    }
    this.rareStale = 0;
  }

  private drawRare(ch: Chooser): string | null {
    if (this.rareStale >= RARE_REFRESH || !this.rareClasses.length) this.rebuildRare();
    if (!this.rareClasses.length) return null;
    const cum = this.rareCum;
    const total = cum[cum.length - 1];
    // resolution of 2^-30 is plenty; ch.int keeps the choice on the seeded stream
    const x = (ch.int(0, (1 << 30) - 1) / (1 << 30)) * total;
    let lo = 0, hi = cum.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] > x) hi = mid; else lo = mid + 1; }
    return this.rareClasses[lo];
  }
}
