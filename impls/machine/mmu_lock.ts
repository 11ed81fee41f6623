// kvm->mmu_lock (kernel-model §1.6): an rwlock. Faults and most atomic updates hold it for read,
// zaps and teardown hold it for write. Nested (racing) ops share it with the outer op, so the lock
// records a stack of holders rather than a single mode.

import type { Diagnostics } from './diag';

export type LockMode = 'none' | 'read' | 'write';

export class MmuLock {
  private holders: LockMode[] = [];

  /** The mode held by the op currently executing (the innermost one). */
  get mode(): LockMode { return this.holders.length ? this.holders[this.holders.length - 1] : 'none'; }

  /** Whether an op that wants `mode` could take the lock now (another vCPU may hold it). */
  compatible(mode: LockMode): boolean {
    if (mode === 'none') return true;
    const held = this.holders.filter(h => h !== 'none');
    if (held.length === 0) return true;
    return mode === 'read' && held.every(h => h === 'read');
  }

  /** Holders on the stack (every actor's): an actor holds the lock when depth exceeds its base. */
  get depth(): number { return this.holders.length; }

  /**
   * Where a lock taken from softirq is reported (an RCU callback): mmu_lock is taken with plain
   * read_lock/write_lock in process context, so taking it in softirq is an irq-unsafe lock
   * inversion (lockdep: "inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage").
   */
  diag: Diagnostics | null = null;
  /** >0 while an RCU callback runs (set by the owner) */
  softirq = 0;

  acquire(mode: LockMode): void {
    if (this.softirq) this.diag?.lockdep(false, 'rcu:mmu_lock', 'irq-unsafe-lock-in-softirq');
    this.holders.push(mode);
  }
  release(): void { this.holders.pop(); }

  isHeldWrite(): boolean { return this.mode === 'write'; }
  isHeldRead(): boolean { return this.mode === 'read'; }
  isHeld(): boolean { return this.mode !== 'none'; }
  reset(): void { this.holders = []; }
}
