// Each behaviour-changing step of the series walked through the kernel flow its patch changes
// (issue 10 item 5; series.md §1, §2, §3, §5): the SEAMCALL log, diagnostics, trees and page ledger
// at the step before and at the step itself. Designs are named as on the command line ("v3:P5").
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Design, DesignInstance, Op, OpOutcome, Snapshot, VmConfig } from '../../impls/api';
import { BUILTIN_SERIES, findSeriesDesign } from '../../impls/series';
import {
  COMPACT, DESTROY, FINALIZE, GRACE, L, diags, log, mirrorLeafPfn, pf, removeLeafLog, runnableWith, sf, vmWith, zapPrivate,
} from './helpers';

const ALL = 8 ** 4;
function step(name: string): Design {
  const d = findSeriesDesign(name);
  if (!d) throw new Error(`no series step ${name}`);
  return d;
}

interface Walk { vm: DesignInstance; s0: Snapshot; o: OpOutcome; s: Snapshot }
/** Setup ops (must be clean), then the op under test. */
function walk(name: string, setup: readonly Op[], op: Op, config: VmConfig = COMPACT): Walk {
  const vm = vmWith(step(name), setup, config);
  const s0 = vm.snapshot();
  const o = vm.apply(op);
  return { vm, s0, o, s: vm.snapshot() };
}
const sites = (o: OpOutcome): string[] => o.diagnostics.map(d => `${d.category}@${d.site}`);
const atomicZap = (gfn: number, level: number): Op => ({ kind: 'atomicZap', gfn, level, private: true });
const RUNNABLE_9_10 = [FINALIZE, pf(9), pf(10)];

describe('the series registry', () => {
  it('v3 has P1..P15 in order; every step instance lists its applied patches; after lists all fifteen', () => {
    const v3 = BUILTIN_SERIES['tdx-mmu-refactors-v3'];
    expect(v3.steps.map(s => s.id)).toEqual(Array.from({ length: 15 }, (_, i) => `P${i + 1}`));
    v3.steps.forEach((s, k) => {
      expect(s.design.name).toBe(`v3:${s.id}`);
      expect(s.design.create(COMPACT).patches).toEqual(v3.steps.slice(0, k + 1).map(x => x.id));
      if (s.kind === 'refactor') expect(s.differences).toEqual([]);
    });
    expect(step('v3:P0').create(COMPACT).patches).toEqual([]);
    expect(step('tdx-mmu-refactors-v3:P15')).toBe(v3.steps[14].design);
    const last = v3.steps[14].design.create(COMPACT).patches;
    expect(runnableWith(step('v3:P15'), []).patches).toEqual(last);
    expect(findSeriesDesign('v3:P16')).toBeUndefined();
    expect(findSeriesDesign('v9:P1')).toBeUndefined();
    expect(findSeriesDesign('before')).toBeUndefined();
  });

  it("README's step table lists each step's D-ids as its patch file does", () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const rows = readme.split('\n').filter(l => /^\| (P\d|v\d-P)/.test(l)).map(l => l.split('|').map(c => c.trim()));
    const all = [...BUILTIN_SERIES['tdx-mmu-refactors-v3'].steps, ...BUILTIN_SERIES['tdx-mmu-refactors-v1'].steps.slice(0, 1),
      ...BUILTIN_SERIES['tdx-mmu-refactors-v2'].steps.filter(s => s.id === 'v2-P9')];
    for (const st of all) {
      const row = rows.find(r => r[1].split(', ').includes(st.id));
      expect(row, st.id).toBeDefined();
      const ids = row![row!.length - 2] === '–' ? [] : row![row!.length - 2].split(', ');
      expect([st.id, ...ids]).toEqual([st.id, ...st.differences]);
    }
  });

  it('v1 applies v1 07/17 before P1–P4; v2 has v2-P9 in place of P9', () => {
    const v1 = BUILTIN_SERIES['tdx-mmu-refactors-v1'];
    expect(v1.steps.slice(0, 3).map(s => `${s.id}=${s.patch.id}`)).toEqual(['v1-P7=v1-P7', 'v1-P8=P1', 'P2=P2']);
    expect(step('v1:v1-P17').create(COMPACT).patches).toEqual(['v1-P7', 'P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P10', 'P11', 'P12', 'P13', 'P14', 'P15']);
    expect(step('v2:P15').create(COMPACT).patches).toContain('v2-P9');
    expect(step('v2:P15').create(COMPACT).patches).not.toContain('P9');
  });
});

/** A table's SEPT.ADD fails with a non-BUSY error: TDX_BUG_ON at the function that issues it. */
const SEPT_ADD_ERROR = pf(0x81, { fail: [{ at: 'seamcall', call: 'SEPT.ADD', error: 'ERROR' }] });
/** a read fault maps a read-only private leaf (TDX WARNs: not RWX); the write fault then sees it present */
function presentToPresent(name: string): Walk {
  const vm = step(name).create(COMPACT);
  vm.apply(FINALIZE);
  vm.apply(pf(9, { write: false }));
  const s0 = vm.snapshot();
  const o = vm.apply(pf(9));
  return { vm, s0, o, s: vm.snapshot() };
}

describe('P2, P3: renames — only the diagnostic sites of the renamed function change', () => {
  it('P2: a failed SEPT.ADD is reported from tdx_sept_map_nonleaf_spte, not tdx_sept_link_private_spt', () => {
    const [a, b] = ['v3:P1', 'v3:P2'].map(n => walk(n, [FINALIZE, pf(9)], SEPT_ADD_ERROR));
    expect(sites(a.o)).toEqual(['seamcall-failed@tdx.c:tdx_sept_link_private_spt:SEPT.ADD']);
    expect(sites(b.o)).toEqual(['seamcall-failed@tdx.c:tdx_sept_map_nonleaf_spte:SEPT.ADD']);
    expect(log(b.o)).toEqual(log(a.o));
    expect(log(b.o)).toEqual(['SEPT.ADD gfn=0x80 level=3 -> TDX_OPERAND_INVALID']);
    expect(b.s).toEqual(a.s);
  });

  it('P3: the folded old-present KVM_BUG_ON is reported from __tdp_mmu_set_spte_atomic', () => {
    const [a, b] = ['v3:P2', 'v3:P3'].map(presentToPresent);
    expect(sites(a.o)[0]).toBe('mirror-present-overwrite@tdp_mmu.c:set_external_spte_present:present');
    expect(sites(b.o)[0]).toBe('mirror-present-overwrite@tdp_mmu.c:__tdp_mmu_set_spte_atomic:present');
    expect(diags(b.o)).toEqual(diags(a.o));
    expect(log(b.o)).toEqual(log(a.o));
    expect(b.s).toEqual(a.s);
  });
});

describe('P5: the atomic-path KVM_BUG_ONs move to TDX (extended domain)', () => {
  it('atomic zap of a mirror leaf: MMU KVM_BUG_ON, -EBUSY → freeze, TDX KVM_BUG_ON, -EIO, restore', () => {
    const a = walk('v3:P4', RUNNABLE_9_10, atomicZap(9, 1));
    expect(a.o.result).toBe('-16');
    expect(sites(a.o)).toEqual(['mirror-atomic-zap@tdp_mmu.c:__tdp_mmu_set_spte_atomic:mirror-zap']);
    const b = walk('v3:P5', RUNNABLE_9_10, atomicZap(9, 1));
    expect(b.o.result).toBe('-5');
    expect(sites(b.o)).toEqual(['mirror-present-overwrite@tdx.c:tdx_sept_set_private_spte:old-present']);
    for (const w of [a, b]) {
      expect(w.o.seamcalls).toEqual([]);
      expect(w.s.mirror).toEqual(w.s0.mirror); // untouched (P4) / restored after the freeze (P5)
      expect(w.s.sept).toEqual(w.s0.sept);
      expect(w.s.ledger).toEqual(w.s0.ledger);
      expect(w.s.vm.bugged).toBe(true);
    }
  });

  it('present → present: MMU KVM_BUG_ON + failing PAGE.AUG + TDX_BUG_ON → TDX KVM_BUG_ON without a SEAMCALL', () => {
    const a = presentToPresent('v3:P4');
    const pfn = mirrorLeafPfn(a.s0, 9).toString(16);
    expect(log(a.o)).toEqual([`PAGE.AUG gfn=0x9 level=1 pfn=0x${pfn} -> TDX_EPT_ENTRY_STATE_INCORRECT`]);
    expect(diags(a.o)).toEqual(['KVM_BUG_ON mirror-present-overwrite', 'TDX_BUG_ON seamcall-failed']);
    const b = presentToPresent('v3:P5');
    expect(b.o.seamcalls).toEqual([]);
    expect(sites(b.o)).toEqual(['mirror-present-overwrite@tdx.c:tdx_sept_set_private_spte:old-present']);
    for (const w of [a, b]) {
      expect(w.o.result).toBe('-EIO');
      expect(w.s.mirror).toEqual(w.s0.mirror);
      expect(w.s.sept).toEqual(w.s0.sept);
    }
  });
});

describe('P9: central propagation through __handle_changed_spte', () => {
  it('atomic zap of a mirror table: refused by TDX (P8) → published, children bugged and removed under the read lock, the table leaked (hkid)', () => {
    const a = walk('v3:P8', RUNNABLE_9_10, atomicZap(9, 2));
    expect(a.o.result).toBe('-5');
    expect(a.o.seamcalls).toEqual([]);
    expect(a.s.mirror).toEqual(a.s0.mirror);
    const b = walk('v3:P9', RUNNABLE_9_10, atomicZap(9, 2));
    expect(b.o.result).toBe('0');
    expect(log(b.o)).toEqual([...removeLeafLog(9, mirrorLeafPfn(b.s0, 9)), ...removeLeafLog(10, mirrorLeafPfn(b.s0, 10))]);
    const ds = diags(b.o);
    // per present child: TDX rejects the old-present change, handle_changed_spte bugs; per child the MMU's shared check
    expect(ds.filter(d => d === 'KVM_BUG_ON mirror-present-overwrite')).toHaveLength(2);
    expect(ds.filter(d => d === 'KVM_BUG_ON external-change-failed')).toHaveLength(2);
    expect(ds.filter(d => d === 'KVM_BUG_ON mirror-removal-shared')).toHaveLength(8);
    expect(ds.slice(-2)).toEqual(['KVM_BUG_ON page-table-free-with-hkid', 'WARN external-spt-free-failed']);
    expect(b.s.mirror).toEqual(['root0 L4', 'root0 L4 gfn=0x0 table', 'root0 L3 gfn=0x0 table']);
    expect(b.s.sept).toEqual(['L2 gfn=0x8 table', 'L3 gfn=0x0 table', 'L4 gfn=0x0 table']);
    expect(L(b.s, 'external:leaked')).toBe(1);
    expect(L(b.s, 'gmem:host')).toBe(2);
    expect(b.s.pendingRcu).toBe(2);
  });

  it('aging a mirror root: clears Accessed silently (P8) → WARN_ON_ONCE and skip (D13)', () => {
    const setup = [FINALIZE, pf(9), sf(9, { vcpu: 1 })];
    const age: Op = { kind: 'age', start: 0, end: 512, mirror: true };
    const a = walk('v3:P8', setup, age);
    const b = walk('v3:P9', setup, age);
    expect([a.o.result, b.o.result]).toEqual(['young=2', 'young=1']);
    expect(diags(a.o)).toEqual([]);
    expect(diags(b.o)).toEqual(['WARN_ON_ONCE aging-mirror-spte']);
    const pfn = mirrorLeafPfn(a.s0, 9).toString(16);
    expect(a.s.mirror).toContain(`root0 L1 gfn=0x9 leaf pfn=0x${pfn} W`);
    expect(b.s.mirror).toEqual(b.s0.mirror);
  });

  it('a removed table is traced after its children (D17); same events', () => {
    const [a, b] = ['v3:P8', 'v3:P9'].map(n => walk(n, [FINALIZE, sf(9)], { kind: 'invalidateDirect' }));
    const ev = (w: Walk): string[] => {
      const t = w.vm.lastTrace!();
      const out: string[] = [];
      for (let i = 0; i < t.length; i += 4) out.push(t.slice(i, i + 4).join(','));
      return out;
    };
    expect([...ev(b)].sort()).toEqual([...ev(a)].sort());
    const l2 = '8,2,-1,0'; // the direct L2 table at gfn 8 going away
    const child = '8,1,0,1440'; // its first child frozen
    expect(ev(a).indexOf(l2)).toBeLessThan(ev(a).indexOf(child));
    expect(ev(b).indexOf(l2)).toBeGreaterThan(ev(b).indexOf(child));
    expect(b.s).toEqual(a.s);
  });
});

describe('P10: no per-child KVM_BUG_ON(shared) in handle_removed_pt', () => {
  it('the same atomic table zap without the eight mirror-removal-shared bugs; SEAMCALLs and state unchanged', () => {
    const a = walk('v3:P9', RUNNABLE_9_10, atomicZap(9, 2));
    const b = walk('v3:P10', RUNNABLE_9_10, atomicZap(9, 2));
    expect(diags(b.o)).toEqual(diags(a.o).filter(d => d !== 'KVM_BUG_ON mirror-removal-shared'));
    expect(diags(b.o)).not.toContain('KVM_BUG_ON mirror-removal-shared');
    expect(log(b.o)).toEqual(log(a.o));
    expect(b.s).toEqual(a.s);
  });
});

describe('P12: every leaf zap through set_external_spte', () => {
  it('a write-lock leaf zap: the same BLOCK/TRACK/REMOVE/WBINVD and state', () => {
    const [a, b] = ['v3:P11', 'v3:P12'].map(n => walk(n, RUNNABLE_9_10, zapPrivate(9, 10)));
    expect(log(a.o)).toEqual(removeLeafLog(9, mirrorLeafPfn(a.s0, 9)));
    expect(log(b.o)).toEqual(log(a.o));
    expect(b.s).toEqual(a.s);
    expect(L(b.s, 'stats.4K')).toBe(1);
  });

  it('a failed PAGE.REMOVE: stats no longer decremented (D11), an MMU KVM_BUG_ON (D12), no trace (D18)', () => {
    const zap = { ...zapPrivate(9, 10), fail: [{ at: 'seamcall', call: 'PAGE.REMOVE', error: 'ERROR' }] } as Op;
    const [a, b] = ['v3:P11', 'v3:P12'].map(n => walk(n, RUNNABLE_9_10, zap));
    expect(log(b.o)).toEqual(log(a.o));
    expect(diags(a.o)).toEqual(['TDX_BUG_ON seamcall-failed']);
    expect(diags(b.o)).toEqual(['TDX_BUG_ON seamcall-failed', 'KVM_BUG_ON external-change-failed']);
    expect([L(a.s, 'stats.4K'), L(b.s, 'stats.4K')]).toEqual([1, 2]);
    expect([a.o.traceCount, b.o.traceCount]).toEqual([1, 0]);
    expect(b.s.mirror).toEqual(a.s.mirror);
    expect(b.s.sept).toEqual(a.s.sept);
  });

  it('an atomic leaf zap: TDX KVM_BUG_ON, restore (P11) → a real removal under the read lock (D6)', () => {
    const a = walk('v3:P11', RUNNABLE_9_10, atomicZap(9, 1));
    expect(a.o.result).toBe('-5');
    expect(a.s.mirror).toEqual(a.s0.mirror);
    const b = walk('v3:P12', RUNNABLE_9_10, atomicZap(9, 1));
    expect(b.o.result).toBe('0');
    expect(log(b.o)).toEqual(removeLeafLog(9, mirrorLeafPfn(b.s0, 9)));
    expect(new Set(diags(b.o))).toEqual(new Set(['lockdep mmu_lock-not-held-for-write']));
    expect(b.s.sept).toEqual(b.s0.sept.filter(l => !l.startsWith('L1 gfn=0x9 ')));
    expect(b.s.vm.bugged).toBe(false);
    expect(b.vm.checkInvariants()).toEqual([]);
  });
});

describe('P14: the free hook handles its errors (void)', () => {
  it('a failed S-EPT reclaim at teardown: the same leak without the MMU WARN (D4)', () => {
    const destroy: Op = { kind: 'destroy', fail: [{ at: 'reclaim', nth: 1 }] };
    const [a, b] = ['v3:P13', 'v3:P14'].map(n => walk(n, [FINALIZE, pf(9), pf(0x41)], destroy));
    expect(diags(a.o)).toEqual(['TDX_BUG_ON reclaim-failed', 'WARN external-spt-free-failed', 'TDX_BUG_ON reclaim-failed']);
    expect(diags(b.o)).toEqual(['TDX_BUG_ON reclaim-failed', 'TDX_BUG_ON reclaim-failed']);
    expect(log(b.o)).toEqual(log(a.o));
    expect(b.s).toEqual(a.s);
    expect(L(b.s, 'external:leaked')).toBe(1);
  });
});

describe('P15: TDX frees the external page right after RECLAIM', () => {
  const prefix: Op[] = [FINALIZE, pf(9), pf(10), zapPrivate(0, ALL), { kind: 'releaseHkid' }, { kind: 'rcuRead', walker: 1, gfn: 9, private: true }];
  it('an atomic zap of an emptied table: the external page waits for the RCU callback (P14) → is free at once (D2)', () => {
    const [a, b] = ['v3:P14', 'v3:P15'].map(n => walk(n, prefix, atomicZap(9, 2)));
    for (const w of [a, b]) {
      expect(log(w.o)).toEqual(['PHYMEM.PAGE.RECLAIM gfn=0x8 level=2 -> SUCCESS']);
      expect(w.s.ledger).toEqual(b.s.ledger); // the snapshot counts pending frees as free
    }
    expect([a.s.pendingRcu, b.s.pendingRcu]).toEqual([3, 2]); // spt + header (+ external page at P14)
    for (const w of [a, b]) {
      w.vm.apply({ kind: 'rcuUnlock', walker: 1 });
      const g = w.vm.apply(GRACE);
      expect(g.result).toBe('ran=1');
      expect(g.diagnostics).toEqual([]);
      expect(w.vm.apply(DESTROY).violations).toEqual([]);
      expect(w.vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
    }
  });
});

describe('P15 under DPAMT: the last put of a used S-EPT page leaves softirq (D19)', () => {
  const DPAMT: VmConfig = { ...COMPACT, dpamt: true };
  it('destroy: the RCU callback takes pamt_lock in softirq (P14) → TDX puts right after RECLAIM (P15)', () => {
    const [a, b] = ['v3:P14', 'v3:P15'].map(n => walk(n, [FINALIZE, pf(3), pf(12)], DESTROY, DPAMT));
    const pamt = (o: OpOutcome): string[] => o.diagnostics.filter(d => d.category === 'pamt_lock-inconsistent-lock-state')
      .map(d => `${d.site} ${d.detail}`);
    expect(pamt(a.o)).toEqual(['tdx.c:__tdx_pamt_put:pamt_lock SOFTIRQ-ON-W -> IN-SOFTIRQ-W']);
    expect(pamt(b.o)).toEqual([]);
    expect(log(b.o)).toEqual(log(a.o));
    expect(b.s).toEqual(a.s);
  });
});

describe("v1's order: the atomic-zap window (series.md §2)", () => {
  it('v1 07/17 before P1–P4: an atomic zap of a mirror leaf is published silently; the S-EPT keeps the mapping', () => {
    const a = walk('v1:P0', RUNNABLE_9_10, atomicZap(9, 1));
    expect(diags(a.o)).toEqual(['KVM_BUG_ON mirror-atomic-zap']);
    const w = walk('v1:v1-P7', RUNNABLE_9_10, atomicZap(9, 1));
    expect(w.o.result).toBe('0');
    expect(w.o.seamcalls).toEqual([]);
    expect(w.o.diagnostics).toEqual([]);
    expect(w.s.vm.bugged).toBe(false);
    expect(w.s.mirror).toEqual(w.s0.mirror.filter(l => !l.includes('L1 gfn=0x9 ')));
    expect(w.s.sept).toEqual(w.s0.sept); // still maps gfn 9
    expect(L(w.s, 'stats.4K')).toBe(1); // counted as zapped
    expect(w.vm.checkInvariants().map(v => `${v.kind}: ${v.detail}`)).toEqual(['mirror-sept-mismatch: S-EPT entries with no mirror SPTE: L1 gfn=0x9 leaf']);
    // teardown walks the mirror: the guest page the S-EPT still maps is never removed and leaks
    // (still the module's), and with it, through the TD's child count, the TDR
    w.vm.apply(DESTROY);
    const r = w.vm.leakReport();
    expect(r.leaked.map(x => x.page)).toEqual([expect.stringMatching(/\(gmem, tdx, guest private page gfn 0x9\)$/)]);
    expect(r.leakedOnPurpose).toEqual([expect.stringMatching(/\(tdxControl, leaked, TDR\): TDR: reclaim failed$/)]);
  });

  it('the window stays open through P5 (TDX can reject it, but the zap is never forwarded) and closes at P12', () => {
    for (const n of ['v1:v1-P8', 'v1:P4', 'v1:P5', 'v1:P11']) {
      const w = walk(n, RUNNABLE_9_10, atomicZap(9, 1));
      expect([n, w.o.result, w.o.seamcalls.length, w.s.sept.length]).toEqual([n, '0', 0, w.s0.sept.length]);
    }
    const c = walk('v1:P12', RUNNABLE_9_10, atomicZap(9, 1));
    expect(log(c.o)).toEqual(removeLeafLog(9, mirrorLeafPfn(c.s0, 9)));
    expect(c.vm.checkInvariants()).toEqual([]);
    // v2/v3 order: the same step content with P1–P5 first rejects the zap instead (P5)
    expect(walk('v3:P5', RUNNABLE_9_10, atomicZap(9, 1)).o.result).toBe('-5');
  });
});

describe("v2's patch 9: the missing trace (series.md §3)", () => {
  it('shared handle_removed_pt freezing non-present direct entries: traced in v3, not in v2; nothing else differs', () => {
    const [v3, v2] = ['v3:P9', 'v2:v2-P9'].map(n => walk(n, [FINALIZE, sf(9)], { kind: 'invalidateDirect' }));
    const ev = (w: Walk): string[] => {
      const t = w.vm.lastTrace!();
      const out: string[] = [];
      for (let i = 0; i < t.length; i += 4) out.push(t.slice(i, i + 4).join(','));
      return out;
    };
    const missing = ev(v3).filter(e => !ev(v2).includes(e));
    expect(missing.length).toBeGreaterThan(0);
    expect(missing.every(e => /,0,1440$/.test(e))).toBe(true); // non-present → FROZEN
    expect(ev(v2)).toEqual(ev(v3).filter(e => !missing.includes(e)));
    expect(v2.o.diagnostics).toEqual(v3.o.diagnostics);
    expect(v2.s).toEqual(v3.s);
  });
});
