// RCU (DESIGN §2, kernel-model §1.6): read sections, call_rcu, grace periods, rcu_barrier.
// A callback runs only after every reader that was open when it was queued has closed. Grace periods
// are fuzzer-controlled (F12): they elapse at `gracePeriod` ops, racing ops, and rcu_barrier.

export interface RcuCallback {
  /** appends what the callback will free to `out`, for the ledger's "pending RCU free" counts */
  pendingPages(out: number[]): void;
  run(): void;
}

interface Queued { cb: RcuCallback; waitFor: number[] }

export class Rcu {
  private nextReader = 1;
  private open = new Set<number>();
  private queue: Queued[] = [];
  /** >0 while a callback runs: softirq context (rcu_do_batch), set by whoever runs the callback body */
  inCallback = 0;

  readLock(): number {
    const id = this.nextReader++;
    this.open.add(id);
    return id;
  }

  readUnlock(id: number): void { this.open.delete(id); }


  /** call_rcu(): the callback waits for every reader open right now. */
  callRcu(cb: RcuCallback): void {
    this.queue.push({ cb, waitFor: [...this.open] });
  }

  /** Every page a queued callback will free (asked at every op's digests: one array, no copies). */
  pendingPages(): number[] {
    const out: number[] = [];
    for (const q of this.queue) q.cb.pendingPages(out);
    return out;
  }

  /** One grace period: run, in queue order, every callback none of whose readers is still open. */
  gracePeriod(): number {
    let ran = 0;
    const keep: Queued[] = [];
    const ready: Queued[] = [];
    for (const q of this.queue) {
      if (q.waitFor.every(r => !this.open.has(r))) ready.push(q); else keep.push(q);
    }
    this.queue = keep;
    for (const q of ready) { q.cb.run(); ran++; }
    return ran;
  }

  /** rcu_barrier(): all queued callbacks have run on return. The caller must have closed all readers. */
  barrier(): number {
    let ran = 0;
    while (this.queue.length) {
      const q = this.queue.shift()!;
      q.cb.run();
      ran++;
    }
    return ran;
  }
}
