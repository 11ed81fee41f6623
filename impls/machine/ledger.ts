// Page allocator + ownership ledger (DESIGN §2, kernel-model §1.4/§1.5). Every page-table page,
// SP header, external (S-EPT) page, guest page and TD control page has an id, the pool it came from
// and an owner. Ids are never reused, so "use of a freed page" is simply a touch of a free page.
import type { LeakReport, LedgerCounts, Violation } from '../api';
import { hash4 } from './hash';

export type Pool = 'header' | 'shadow' | 'external' | 'split' | 'tdxPrealloc' | 'gmem' | 'tdxControl';
const POOLS: readonly Pool[] = ['header', 'shadow', 'external', 'split', 'tdxPrealloc', 'gmem', 'tdxControl'];

/** How a page is given back: free_page(), kmem_cache_free(mmu_page_header_cache), … */
export type Allocator = 'page' | 'headerCache' | 'tdxPrealloc' | 'gmem' | 'tdxControl';

/** Which pools each free function may receive (Sean's NAK, seed 001: page tables are KVM's pages). */
const ACCEPTS: Record<Allocator, readonly Pool[]> = {
  page: ['shadow', 'external', 'split'],
  headerCache: ['header'],
  tdxPrealloc: ['tdxPrealloc'],
  gmem: ['gmem'],
  tdxControl: ['tdxControl'],
};

/**
 * The digest's term for "slot i (pool × 4 + owner) holds c pages": a strong mix of (i, c), 0 for an
 * empty slot. The digest is the XOR of the terms, so it depends on every (pool, owner) count, not on a
 * linear combination of them (which let owner changes in different pools hash alike, and swaps cancel).
 */
function slotTerm(i: number, c: number): number {
  if (c === 0) return 0;
  // every bump computes two terms: small counts come from a table of the same values
  return c > 0 && c < SLOT_TERM_COUNTS ? SLOT_TERMS[i * SLOT_TERM_COUNTS + c] : hash4(0x6c656467, i, c, 0x9e3779b1);
}
const SLOT_TERM_COUNTS = 256;
const SLOT_TERMS = new Uint32Array(POOLS.length * 4 * SLOT_TERM_COUNTS);
for (let i = 0; i < POOLS.length * 4; i++) {
  for (let c = 1; c < SLOT_TERM_COUNTS; c++) SLOT_TERMS[i * SLOT_TERM_COUNTS + c] = hash4(0x6c656467, i, c, 0x9e3779b1);
}

/** Ledger.digest's scratch copy of the counts: one for all ledgers (digest is not re-entrant). */
const SCRATCH = new Int32Array(POOLS.length * 4);

export const enum Owner { Free = 0, Host = 1, Tdx = 2, Leaked = 3 }
const OWNER_NAMES = ['free', 'host', 'tdx', 'leaked'];

export class Ledger {
  private pool: Pool[] = [];
  /** index of the page's (pool, free) slot in `counts`: poolIndex × 4 (the owner is added to it) */
  private base: number[] = [];
  private owner: Owner[] = [];
  /** what the page is for; an object is stringified only when a report needs it (hot path) */
  private purpose: (string | { toString(): string })[] = [];
  private leakReason: (string | undefined)[] = [];
  /**
   * TDX-dirty pages (issue 9 item 4): the page's cache lines may still hold data encrypted with a
   * private keyid, so the host may neither free it nor hand it to the TDX module again until it is
   * written back (tdx-module.md §1.8: "After that the host still has to WBINVD the page with its key
   * (guest pages and TDR)"). Value: why it is dirty.
   */
  private dirty = new Map<number, string>();
  /**
   * counts[poolIndex * 4 + owner], kept incrementally so digests are cheap. A plain array of small
   * integers: a 112-byte typed array would get an off-heap store, and a ledger is made per VM.
   */
  private counts: number[] = new Array<number>(POOLS.length * 4).fill(0);

  constructor(private readonly report: (v: Violation) => void) {}


  alloc(pool: Pool, purpose: string, owner: Owner = Owner.Host): number {
    const id = this.pool.length;
    this.pool.push(pool);
    this.base.push(POOLS.indexOf(pool) * 4);
    this.owner.push(owner);
    this.purpose.push(purpose);
    this.leakReason.push(undefined);
    this.bump(this.base[id] + owner, 1);
    return id;
  }

  poolOf(id: number): Pool { return this.pool[id]; }
  ownerOf(id: number): Owner { return this.owner[id]; }
  describe(id: number): string {
    return `page#${id} (${this.pool[id]}, ${OWNER_NAMES[this.owner[id]]}, ${this.purpose[id]})`;
  }

  private setOwner(id: number, owner: Owner): void {
    const p = this.base[id];
    this.bump(p + this.owner[id], -1);
    this.bump(p + owner, 1);
    this.owner[id] = owner;
  }

  /** counts[i] += by, and the digest with it: O(1) */
  private bump(i: number, by: number): void {
    const c = this.counts[i];
    this.countDigest ^= slotTerm(i, c) ^ slotTerm(i, c + by);
    this.counts[i] = c + by;
  }

  setPurpose(id: number, purpose: string | { toString(): string }): void { this.purpose[id] = purpose; }

  /** The TDX module takes the page (SEPT.ADD, PAGE.AUG/ADD, DEMOTE); `site` is the SEAMCALL. */
  giveToTdx(id: number, purpose: string, site = 'tdx module'): void {
    this.checkClean(id, site, 'given to the TDX module again');
    this.setOwner(id, Owner.Tdx);
    this.purpose[id] = purpose;
  }

  /**
   * The page left the TD but its cache lines still carry the TD's keyid: PAGE.REMOVE of a guest page
   * (tdx.c tdx_sept_remove_leaf_spte: REMOVE is followed by tdh_phymem_page_wbinvd_hkid), RECLAIM of
   * the TDR (tdx.c tdx_reclaim_td_control_pages: followed by tdh_phymem_page_wbinvd_tdr).
   */
  markTdxDirty(id: number, why: string): void { this.dirty.set(id, why); }
  /** TDH.PHYMEM.PAGE.WBINVD of the page, or PHYMEM.CACHE.WB of its keyid: its cache lines are written back. */
  writeBack(id: number): void { this.dirty.delete(id); }
  /** Every TDX-dirty page (PHYMEM.CACHE.WB writes back all cache lines of the keyid on every package). */
  tdxDirtyPages(): number[] { return [...this.dirty.keys()]; }
  isTdxDirty(id: number): boolean { return this.dirty.has(id); }

  private checkClean(id: number, site: string, what: string): void {
    const why = this.dirty.get(id);
    if (why === undefined) return;
    this.report({ kind: 'tdx-dirty-page', site,
      detail: `${site}: ${this.describe(id)} ${what} while TDX-dirty (${why}; no PHYMEM.PAGE.WBINVD since)` });
  }
  /** PHYMEM.PAGE.RECLAIM / PAGE.REMOVE + WBINVD: the host owns the page again. */
  returnToHost(id: number, purpose: string): void { this.setOwner(id, Owner.Host); this.purpose[id] = purpose; }

  /** A deliberate leak (reclaim failed, hkid still assigned): the page must never be touched again. */
  leakOnPurpose(id: number, reason: string): void {
    this.dirty.delete(id);
    this.setOwner(id, Owner.Leaked);
    this.leakReason[id] = reason;
  }

  /** free_page() / kmem_cache_free() / …: detects double free, TDX-owned free, leaked free, wrong pool. */
  free(id: number, allocator: Allocator, site: string): void {
    const o = this.owner[id];
    if (o === Owner.Free) {
      this.report({ kind: 'double-free', site, detail: `${site}: ${this.describe(id)} freed twice` });
      return;
    }
    if (o === Owner.Tdx) {
      this.report({ kind: 'tdx-owned-free', site, detail: `${site}: ${this.describe(id)} is still owned by the TDX module` });
      return;
    }
    if (o === Owner.Leaked) {
      this.report({ kind: 'leaked-free', site, detail: `${site}: ${this.describe(id)} was deliberately leaked (${this.leakReason[id]})` });
      return;
    }
    if (!ACCEPTS[allocator].includes(this.pool[id])) {
      this.report({ kind: 'wrong-pool', site, detail: `${site}: ${this.describe(id)} allocated from ${this.pool[id]} but freed to ${allocator}` });
    }
    this.checkClean(id, site, 'freed');
    this.dirty.delete(id);
    this.setOwner(id, Owner.Free);
  }

  /** A read or write of the page's contents by the host. */
  use(id: number, site: string): boolean {
    if (this.owner[id] === Owner.Free) {
      this.report({ kind: 'use-after-free', site, detail: `${site}: touched ${this.describe(id)} after it was freed` });
      return false;
    }
    return true;
  }

  isFree(id: number): boolean { return this.owner[id] === Owner.Free; }

  /** Counts by pool and owner. `pendingFree` ids (queued for an RCU callback) are moved to "free" when asked. */
  counts_(pendingFree: readonly number[], countPendingAsFree: boolean): LedgerCounts {
    const out: LedgerCounts = {};
    const c = Int32Array.from(this.counts);
    if (countPendingAsFree) {
      for (const id of pendingFree) {
        const p = this.base[id];
        if (this.owner[id] === Owner.Host) { c[p + Owner.Host]--; c[p + Owner.Free]++; }
      }
    }
    for (let i = 0; i < POOLS.length; i++) {
      for (let o = 0; o < 4; o++) {
        if (c[i * 4 + o]) out[`${POOLS[i]}:${OWNER_NAMES[o]}`] = c[i * 4 + o];
      }
    }
    if (this.dirty.size) out['tdxDirty'] = this.dirty.size;
    return out;
  }

  /**
   * Digest of the counts by (pool, owner): the XOR of slotTerm(slot, count), kept incrementally; pages
   * queued for an RCU free are moved from host to free on the fly (a scratch copy of the counts).
   */
  digest(pendingFree: readonly number[]): number {
    let d = this.countDigest;
    let moved = false;
    const c = SCRATCH;
    for (const id of pendingFree) {
      if (this.owner[id] !== Owner.Host) continue;
      if (!moved) { c.set(this.counts); moved = true; }
      const p = this.base[id];
      c[p + Owner.Host]--;
      c[p + Owner.Free]++;
    }
    if (moved) {
      for (let i = 0; i < c.length; i++) if (c[i] !== this.counts[i]) d ^= slotTerm(i, this.counts[i]) ^ slotTerm(i, c[i]);
    }
    if (this.dirty.size) d = (d + Math.imul(this.dirty.size, 0x85ebca6b | 1)) | 0; // TDX-dirty pages
    return d >>> 0;
  }
  private countDigest = 0;

  /** Leak oracle input: every page that is not free. */
  unfreed(): LeakReport {
    const leaked: LeakReport['leaked'] = [];
    const leakedOnPurpose: string[] = [];
    for (let id = 0; id < this.pool.length; id++) {
      if (this.owner[id] === Owner.Free) continue;
      if (this.owner[id] === Owner.Leaked) leakedOnPurpose.push(`${this.describe(id)}: ${this.leakReason[id]}`);
      else leaked.push({ pool: this.pool[id], page: this.describe(id) });
    }
    return { leaked, leakedOnPurpose };
  }
}
