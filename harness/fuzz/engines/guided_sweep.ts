// The guided engine's deterministic stage (DESIGN §3 generators): when an entry is kept, the op its
// new classes name is raced at every (level, nth) — seq/mutate.ts raceSweep builds the candidates;
// this file decides which entries get a sweep, queues the candidates and hands them out,
// interleaved half and half with havoc.
import type { Chooser } from '../../seq/opgen';
import { raceSweep, type MutateContext } from '../../seq/mutate';
import type { Sequence } from '../../seq/sequence';
import type { CorpusEntry } from './guided_corpus';

export interface PlannedCandidate { seq: Sequence; parent: string; mutations: string[] }

export class RaceSweepStage {
  /** candidates not yet handed out, oldest first */
  private readonly queue: PlannedCandidate[] = [];
  /** sweeps left: a campaign keeps at most a few hundred entries, and this bounds the stage's cost */
  private budget: number;

  constructor(private readonly mc: MutateContext, budget: number) {
    this.budget = budget;
  }

  /**
   * Queue a sweep of a just-kept entry. Only ops of a kind its new classes name (spte|<op>|...,
   * seam|<op>|...) are swept: the op that did something new. Costs budget only when an op qualified.
   */
  plan(entry: CorpusEntry, newClasses: readonly string[]): void {
    if (!this.budget) return;
    const kinds = new Set<string>();
    for (const c of newClasses) if (c.startsWith('spte|') || c.startsWith('seam|')) kinds.add(c.split('|')[1]);
    const seqs = raceSweep(this.mc, entry.seq.ops, kinds);
    if (!seqs) return;
    for (const seq of seqs) this.queue.push({ seq, parent: entry.hash, mutations: ['raceSweep'] });
    this.budget--;
  }

  /** The next queued candidate half the time (one draw, only when the queue is not empty), else undefined. */
  take(ch: Chooser): PlannedCandidate | undefined {
    return this.queue.length && ch.chance(0.5) ? this.queue.shift() : undefined;
  }
}
