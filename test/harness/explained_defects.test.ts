// Issue 9 item 5: comparison and oracle defects. Each test runs a deliberately broken variant through
// the harness; each variant was invisible to the old comparison/oracles (noted per test: the old code
// reported no finding at all for it) and is caught now. The by-design differences still match in
// exactly their situations.
import { describe, expect, it } from 'vitest';
import type { Design, DesignInstance, Op, OpOutcome, VmConfig } from '../../impls/api';
import { AfterDesign } from '../../impls/after/tdp_mmu';
import { BeforeDesign } from '../../impls/before/tdp_mmu';
import { after, before } from '../../impls/designs';
import { Ledger } from '../../impls/machine/ledger';
import { pfnOf } from '../../impls/machine/spte';
import { EIO } from '../../impls/tdp_mmu/core';
import type { KvmMmuPage } from '../../impls/tdp_mmu/sp';
import { runSequence } from '../../harness/run/runner';
import { makeSequence } from '../../harness/seq/sequence';

const compact: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };
const design = (name: string, ctor: new (name: string, c: VmConfig) => DesignInstance): Design =>
  ({ name, description: name, create: c => new ctor(name, c) });
const FINALIZE: Op = { kind: 'finalize' };
const pf = (gfn: number, write = true): Op => ({ kind: 'fault', vcpu: 0, gfn, private: true, write, maxLevel: 1 });
const sigs = (fs: { signature: string }[]): string[] => fs.map(f => f.signature);

// ------------------------------------------------------------------------------------------- D11

/**
 * "after", but a failed PAGE.REMOVE in tdx_sept_remove_leaf_spte returns -EIO without its TDX_BUG_ON:
 * only handle_changed_spte's KVM_BUG_ON bugs the VM. Same bugged state, same stats lag as after (D11),
 * one diagnostic missing.
 */
class RemoveLeafNoTdxBugOn extends AfterDesign {
  protected override tdxSeptRemoveLeafSpte(gfn: number, level: number, oldSpte: number): number {
    let err = this.tdhDoNoVcpus(() => this.tdx.rangeBlock('tdx_sept_remove_leaf_spte', gfn, level));
    if (err !== 'SUCCESS') return EIO;
    this.tdxTrack();
    err = this.tdhDoNoVcpus(() => this.tdx.pageRemove('tdx_sept_remove_leaf_spte', gfn, level));
    if (err !== 'SUCCESS') return EIO; // the missing TDX_BUG_ON
    for (let i = 0; i < this.geo.span(level); i++) {
      this.tdx.phymemPageWbinvd('tdx_sept_remove_leaf_spte', pfnOf(oldSpte) + i);
      this.tdxQuirkResetPage(pfnOf(oldSpte) + i);
    }
    return 0;
  }
}
const failedRemoval = makeSequence(compact, [
  FINALIZE, pf(5),
  { kind: 'zap', start: 5, end: 6, attr: 'private', fail: [{ at: 'seamcall', nth: 1, call: 'PAGE.REMOVE', error: 'ERROR' }] },
]);

describe('D11 matches only a failed leaf removal of before vs after, and hides nothing else', () => {
  it('before vs after: the stats lag is D11, explained; nothing unexplained, the lag carried to the end', () => {
    for (const designs of [[before, after], [after, before]]) {
      const r = runSequence(failedRemoval, { designs, equiv: 'state', domain: 'legal' });
      expect(r.findings).toEqual([]);
      expect(r.explained.filter(e => e.explained?.id === 'D11').map(e => [e.opIndex, e.component])).toEqual([[2, 'stats']]);
      expect(r.explained.map(e => e.explained?.id).sort()).toEqual(['D11', 'D12']);
    }
  });

  it('a missing TDX_BUG_ON behind the D11 stats difference is reported (old code: no finding)', () => {
    const variant = design('no-tdx-bug-on', RemoveLeafNoTdxBugOn);
    const r = runSequence(failedRemoval, { designs: [before, variant], equiv: 'state', domain: 'legal' });
    const div = r.findings.find(f => f.kind === 'divergence');
    expect(div?.signature).toBe('divergence|before+no-tdx-bug-on|zap|diagnostics');
    expect(div?.opIndex).toBe(2);
    expect(div?.message).toMatch(/TDX_BUG_ON:seamcall-failed vs KVM_BUG_ON:external-change-failed$/);
    // the stats lag itself is still D11 (the variant is an after, the situation is D11's)
    expect(r.explained.some(e => e.explained?.id === 'D11')).toBe(true);
  });

  it('is not D11 between two befores: a stats lag there is reported (old code: excused as D11, no finding)', () => {
    /** "before", but its 4K stat keeps a leaf whose removal failed (the lag D11 allows only in after) */
    class BeforeLags extends BeforeDesign {
      protected override tdxSeptRemovePrivateSpte(gfn: number, level: number, oldSpte: number): void {
        super.tdxSeptRemovePrivateSpte(gfn, level, oldSpte);
        if (this.diag.bugged) this.stats[level]++;
      }
    }
    const r = runSequence(failedRemoval, { designs: [before, design('before-lags', BeforeLags)], equiv: 'state', domain: 'legal' });
    expect(sigs(r.findings)).toEqual(['divergence|before+before-lags|zap|stats']);
    expect(r.explained).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------- D10

/** "after", but the fault path "maps" gfn 12 without PAGE.AUG (a lost S-EPT update, unrelated to D10). */
class SkipsAugAt12 extends AfterDesign {
  protected override tdxSeptMapLeafSpte(gfn: number, level: number, spte: number): number {
    return gfn === 12 ? 0 : super.tdxSeptMapLeafSpte(gfn, level, spte);
  }
}
const d10 = (...more: Op[]) => makeSequence(compact, [FINALIZE, pf(9, false), pf(9, true), ...more]);

describe('D10 excuses only the mirror/S-EPT mismatch of the entry it overwrote', () => {
  it('before vs after: D10 at the write fault, its mismatch explained for gfn 9, nothing unexplained', () => {
    const r = runSequence(d10(pf(3)), { designs: [before, after], equiv: 'state', domain: 'extended' });
    expect(r.findings).toEqual([]);
    expect(sigs(r.explained)).toEqual(expect.arrayContaining([
      'divergence|before+after|fault|result:D10', 'mirror-sept-mismatch|after|fault|I-publish-after:D10']));
  });

  it('a later, unrelated mismatch in the after variant is reported (old code: excused as D10, no finding)', () => {
    const variant = design('skips-aug', SkipsAugAt12);
    const r = runSequence(d10(pf(12)), { designs: [before, variant], equiv: 'state', domain: 'extended' });
    const f = r.findings.find(x => x.kind === 'mirror-sept-mismatch');
    expect(f?.signature).toBe('mirror-sept-mismatch|skips-aug|fault|I-publish-after');
    expect(f?.opIndex).toBe(3);
    expect(f?.message).toMatch(/gfn=0xc is a present leaf but the S-EPT has nothing/);
    expect(r.explained.some(e => e.explained?.id === 'D10')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------- ledger digest

/**
 * "after", but at a grace period a page-table page goes to the module while a TD control page comes
 * back to the host, undone at the next grace period: the linear digest (Σ count·W, W[4p+owner]) moved
 * by +(K−1) and −(K−1) and saw nothing; no per-design oracle sees a swap that is undone.
 */
class SwapsOwnersAtGracePeriod extends AfterDesign {
  private swapped = false;
  override apply(op: Op): OpOutcome {
    const out = super.apply(op);
    if (op.kind === 'gracePeriod') {
      const spt = this.roots.find(r => r.mirror)!.spt, tdcs = this.tdx.tdcs[0];
      if (this.swapped) { this.ledger.returnToHost(spt, 'back'); this.ledger.giveToTdx(tdcs, 'TDCS'); }
      else { this.ledger.giveToTdx(spt, 'wrongly given'); this.ledger.returnToHost(tdcs, 'wrongly reclaimed'); }
      this.swapped = !this.swapped;
    }
    return out;
  }
}

describe('the ledger digest distinguishes (pool, owner) counts', () => {
  it('an owner swap across pools is a ledger divergence (old code: no finding)', () => {
    const seq = makeSequence(compact, [FINALIZE, pf(5), { kind: 'gracePeriod' }, { kind: 'gracePeriod' }]);
    const r = runSequence(seq, { designs: [after, design('swaps', SwapsOwnersAtGracePeriod)], equiv: 'state', domain: 'legal' });
    expect(sigs(r.findings)).toEqual(['divergence|after+swaps|gracePeriod|ledger']);
    expect(r.findings[0].opIndex).toBe(2);
  });

  it('the same owner change in two pools digests differently; equal counts digest equally', () => {
    const mk = (): Ledger => new Ledger(() => {});
    const a = mk(), b = mk();
    for (const l of [a, b]) { l.alloc('shadow', 's'); l.alloc('external', 'e'); }
    a.free(0, 'page', 't'); // shadow page freed
    b.free(1, 'page', 't'); // external page freed
    expect(a.digest([])).not.toBe(b.digest([]));
    const c = mk(), d = mk();
    c.alloc('shadow', 'x'); c.alloc('header', 'y'); c.free(0, 'page', 't');
    d.alloc('header', 'y'); d.alloc('shadow', 'x'); d.free(1, 'page', 't');
    expect(c.digest([])).toBe(d.digest([]));
    // a pending RCU free counts as freed
    const e = mk(); e.alloc('shadow', 'x'); e.alloc('header', 'y');
    expect(e.digest([0])).toBe(c.digest([]));
  });
});

// --------------------------------------------------------------------- S-EPT page identity (SEPT.ADD)

/**
 * "after", but when it links a second table at a level it swaps the two SPs' external_spt pointers and
 * hands SEPT.ADD the new table's original page: TDX holds each table in the other SP's page. Siblings,
 * so the teardown reclaims still run children-first and every page comes back: only the page identity
 * is wrong.
 */
class SwapsSiblingExternal extends AfterDesign {
  private prev: KvmMmuPage | null = null;
  protected override tdxSeptMapNonleafSpte(gfn: number, level: number, newSpte: number): number {
    const child = this.childSp(newSpte)!;
    const prev = this.prev;
    this.prev = child;
    if (!prev || prev.level !== child.level || prev.externalSpt === null || child.externalSpt === null) {
      return super.tdxSeptMapNonleafSpte(gfn, level, newSpte);
    }
    const page = child.externalSpt;
    [prev.externalSpt, child.externalSpt] = [child.externalSpt, prev.externalSpt];
    return this.tdx.septAdd('tdx_sept_map_nonleaf_spte', gfn, level, page) === 'SUCCESS' ? 0 : EIO;
  }
}

describe('the S-EPT page handed to SEPT.ADD must be the SP\'s external_spt', () => {
  it('a table added with another SP\'s page is a mirror-sept-mismatch at that op (old code: no finding)', () => {
    const seq = makeSequence(compact, [FINALIZE, pf(1), pf(9), { kind: 'zap', start: 0, end: 16, attr: 'private' }]);
    const r = runSequence(seq, { designs: [after, design('swaps-ext', SwapsSiblingExternal)], equiv: 'state', domain: 'legal' });
    expect(sigs(r.findings)).toEqual(['mirror-sept-mismatch|swaps-ext|fault|I-publish-after']);
    expect(r.findings[0].opIndex).toBe(2);
    expect(r.findings[0].message).toMatch(/S-EPT table page is not the child's external_spt/);
  });
});

// ------------------------------------------------------------- free_external_spt for a root (NULL)

/** "after", but kvm_tdp_mmu_put_root calls free_external_spt for a mirror root (kernel-model §3.3 #12). */
class FreesRootExternal extends AfterDesign {
  protected override kvmTdpMmuPutRoot(root: KvmMmuPage): void {
    if (root.mirror && root.tdpMmuRootCount === 1) this.tdxSeptFreePrivateSpt(root);
    super.kvmTdpMmuPutRoot(root);
  }
}

describe('after\'s free_external_spt has no NULL guard', () => {
  it('called for a mirror root, the reclaim of the NULL page fails and is reported (old code: no finding)', () => {
    const seq = makeSequence(compact, [FINALIZE, pf(5)]);
    const r = runSequence(seq, { designs: [before, design('frees-root', FreesRootExternal)], equiv: 'state', domain: 'legal' });
    const f = r.findings.find(x => x.kind === 'divergence');
    expect(f?.component).toBe('diagnostics');
    expect(f?.message).toMatch(/TDX_BUG_ON:reclaim-failed/);
    expect(f?.divergence?.sides[1].seamcalls).toContain('PHYMEM.PAGE.RECLAIM(page=-1) = TDX_PAGE_METADATA_INCORRECT');
    expect(r.findings.some(x => x.kind === 'unexpected-diagnostic' && x.designs.includes('frees-root'))).toBe(true);
  });
});
