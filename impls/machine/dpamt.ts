// Dynamic PAMT (issue 9 item 7; tdx-module.md §3). Off unless VmConfig.dpamt. Two halves:
//  - the kernel side of arch/x86/virt/vmx/tdx/tdx.c as the DPAMT patch set has it ("Dynamic PAMT"
//    v6 00-11/11, Rick Edgecombe; 06/11, 08/11): one refcount per host-physical 2M region
//    (`pamt_refcounts`, an atomic_t per pfn>>9), tdx_pamt_get / tdx_pamt_put, and the global
//    `pamt_lock`, a plain spin_lock (neither _bh nor irqsave), which serialises the 0→1 and 1→0
//    transitions and their PAMT.ADD / PAMT.REMOVE SEAMCALLs (tdx-module.md §3.1);
//  - the fake module's side of those two SEAMCALLs (mod@1666adc4 tdh_phymem_pamt_add.c,
//    tdh_phymem_pamt_remove.c; tdx-module.md §3.4): which regions hold a PAMT page pair.
// The pair pages come from their own pool (PamtPool below), not from the MMU's ledger pools: Sean's
// NAK (seed 001) forbids mixing PAMT pages with KVM's page-table pages, and the ledger's page ids are
// compared between designs, whose puts run at different times by design (D19).
// PAMT.ADD / PAMT.REMOVE are not logged as SEAMCALLs of the compared trace: both designs make the
// same gets; only the timing and context of the puts differ, and that is what the pamt_lock rule sees
// ("The only SEAMCALL that would run in an RCU callback is PAMT.REMOVE, and it runs under pamt_lock,
// so the lock rule already forbids it", tdx-module.md §3.5 [inferred]).

/** TDX_DPAMT_ENTRY_PAGE_CNT: the 4K PAMT entries of a 2M region live in a pair of pages (v6 01/11). */
const TDX_DPAMT_ENTRY_PAGE_CNT = 2;
/** 4K pages per host-physical 2M region (pfn >> 9, tdx.c tdx_find_pamt_refcount). */
const PAMT_REGION_PAGES = 512;

/** The pool the PAMT pair pages come from (alloc_page(GFP_KERNEL_ACCOUNT) / the tdx_pamt_cache). */
class PamtPool {
  private next = 0;
  allocated = 0;
  freed = 0;
  private live = new Set<number>();
  alloc(): number { const p = this.next++; this.live.add(p); this.allocated++; return p; }
  free(p: number): void {
    if (!this.live.delete(p)) throw new Error(`PAMT page ${p} freed twice`);
    this.freed++;
  }
  get inUse(): number { return this.live.size; }
}

/** The lockdep usage record of pamt_lock: SOFTIRQ-ON-W (taken with BH enabled) and IN-SOFTIRQ-W. */
export interface LockUsage { softirqOn: boolean; inSoftirq: boolean; reported: boolean }

/** A lockdep report of an inconsistent lock state for pamt_lock (Yan on RFC v5 20/45, aYW5CbUvZrLogsWF). */
export type PamtLockReport = (site: string, usage: string) => void;

export class Dpamt {
  /** pamt_refcounts: region (pfn >> 9) → count; absent = 0 */
  readonly refs = new Map<number, number>();
  /** fake module: region → its PAMT page pair (a region has a pair iff its count is > 0) */
  readonly pairs = new Map<number, number[]>();
  /**
   * the references each page holds (got, not yet put). The kernel keeps only the region's count; the
   * models also know which page a reference belongs to, so a put of a page that never had a get (an
   * unused SP, a page table freed from the cache) is a no-op. A page may be got twice (extended
   * domain: PAGE.AUG of a gfn already mapped, which then fails and puts it back).
   */
  readonly holders = new Map<number, number>();
  readonly pool = new PamtPool();
  readonly lock: LockUsage = { softirqOn: false, inSoftirq: false, reported: false };
  gets = 0;
  puts = 0;

  constructor(private readonly report: PamtLockReport) {}

  static regionOf(pfn: number): number { return Math.floor(pfn / PAMT_REGION_PAGES); }

  /**
   * spin_lock(&pamt_lock): lockdep records the usage. The first time both SOFTIRQ-ON-W and
   * IN-SOFTIRQ-W are set it prints "inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage" (reversed
   * when the softirq use came first), once: lockdep turns itself off after its first report [mem].
   */
  private spinLock(softirq: boolean, site: string): void {
    const l = this.lock;
    const first = softirq ? !l.inSoftirq && l.softirqOn : !l.softirqOn && l.inSoftirq;
    if (softirq) l.inSoftirq = true; else l.softirqOn = true;
    if (first && !l.reported) {
      l.reported = true;
      this.report(site, softirq ? 'SOFTIRQ-ON-W -> IN-SOFTIRQ-W' : 'IN-SOFTIRQ-W -> SOFTIRQ-ON-W');
    }
  }

  /**
   * tdx_pamt_get(pfn, cache) (v6 06/11, 08/11): atomic_inc_not_zero → done (no lock, no SEAMCALL);
   * else take the pair, spin_lock(&pamt_lock), recheck (raced: inc, free the pair), else
   * TDH.PHYMEM.PAMT.ADD (leaf 58) and count = 1. The fake module's PAMT.ADD cannot fail here: the
   * region has no pair (count 0) and the pages are fresh (tdh_phymem_pamt_add.c: HPA_RANGE_NOT_FREE /
   * PAGE_NOT_FREE are for a region that has one, or busy pages).
   */
  get(page: number, softirq: boolean): void {
    this.holders.set(page, (this.holders.get(page) ?? 0) + 1);
    this.gets++;
    const r = Dpamt.regionOf(page);
    const n = this.refs.get(r) ?? 0;
    if (n > 0) { this.refs.set(r, n + 1); return; }
    const pair = Array.from({ length: TDX_DPAMT_ENTRY_PAGE_CNT }, () => this.pool.alloc());
    this.spinLock(softirq, 'tdx.c:__tdx_pamt_get:pamt_lock');
    this.pairs.set(r, pair); // TDH.PHYMEM.PAMT.ADD(2M HPA | TDX_PS_2M, pair)
    this.refs.set(r, 1);
  }

  /**
   * tdx_pamt_put(pfn) (v6 06/11): atomic_dec_and_lock(&pamt_lock): return unless the count hit 0
   * (the lock is taken only then); TDH.PHYMEM.PAMT.REMOVE (leaf 59) returns the pair; unlock, quirk
   * reset and free the pair. Only for a page that holds a reference (a page never given to the module
   * at 4K never had a get). PAMT.REMOVE cannot fail here: the count is the number of 4K pages of the
   * region the module still has (TDX_PAMT_PAGE_NOT_EMPTY would be a refcount bug, thrown).
   */
  put(page: number, softirq: boolean): void {
    const held = this.holders.get(page) ?? 0;
    if (held === 0) return;
    if (held === 1) this.holders.delete(page); else this.holders.set(page, held - 1);
    this.puts++;
    const r = Dpamt.regionOf(page);
    const n = this.refs.get(r) ?? 0;
    if (n <= 0) throw new Error(`tdx_pamt_put: region ${r} has no references`);
    if (n > 1) { this.refs.set(r, n - 1); return; }
    this.spinLock(softirq, 'tdx.c:__tdx_pamt_put:pamt_lock');
    const pair = this.pairs.get(r)!;
    this.pairs.delete(r); // TDH.PHYMEM.PAMT.REMOVE
    this.refs.delete(r);
    for (const p of pair) this.pool.free(p);
  }

  /** Invariant (tdx-module.md §3.5): refs[r] = pages of r holding a reference; a pair iff refs[r] > 0. */
  check(): string | null {
    const want = new Map<number, number>();
    for (const [p, n] of this.holders) want.set(Dpamt.regionOf(p), (want.get(Dpamt.regionOf(p)) ?? 0) + n);
    for (const [r, n] of this.refs) if (want.get(r) !== n) return `region ${r}: refcount ${n}, ${want.get(r) ?? 0} holders`;
    for (const r of want.keys()) if (!this.refs.has(r)) return `region ${r}: holders but no refcount`;
    for (const r of this.refs.keys()) if (!this.pairs.has(r)) return `region ${r}: refcount but no PAMT pair`;
    if (this.pairs.size !== this.refs.size) return 'a PAMT pair without a refcount';
    return null;
  }
}
