// config.dpamt: Dynamic PAMT (issue 9 item 7; tdx-module.md §3). Per-2M PAMT refcounts with a pair of
// PAMT pages from their own pool per referenced region; a get before SEPT.ADD / PAGE.AUG / PAGE.ADD,
// a put when that fails, after RECLAIM of an S-EPT page and after REMOVE + WBINVD of a 4K guest page;
// pamt_lock is not softirq-safe, so before (which frees a used S-EPT page in the RCU callback) raises
// Yan's lockdep report on RFC v5 20/45 and after does not.
import { describe, expect, it } from 'vitest';
import type { DesignInstance, VmConfig } from '../../impls/api';
import type { Dpamt } from '../../impls/machine/dpamt';
import { COMPACT, DESIGNS, DESTROY, FINALIZE, after, before, expectClean, pf, vmWith, zapPrivate } from './helpers';

const DPAMT: VmConfig = { ...COMPACT, dpamt: true };
const dpamtOf = (vm: DesignInstance): Dpamt => (vm as unknown as { dpamt: Dpamt | null }).dpamt!;
const refSum = (d: Dpamt): number => [...d.refs.values()].reduce((a, b) => a + b, 0);
const pamtDiags = (o: { diagnostics: { kind: string; category: string; site: string; detail?: string }[] }) =>
  o.diagnostics.filter(x => x.category === 'pamt_lock-inconsistent-lock-state');

describe.each(DESIGNS)('dpamt — $name', design => {
  it('is off unless configured', () => {
    expect((design.create(COMPACT) as unknown as { dpamt: Dpamt | null }).dpamt).toBeNull();
  });

  it('a 4K private fault gets a reference per S-EPT page and for the guest page; one pair per region', () => {
    const vm = vmWith(design, [FINALIZE, pf(3)], DPAMT);
    const d = dpamtOf(vm);
    // SEPT.ADD L4, L3, L2 and PAGE.AUG L1: four pages given to the module at 4K
    expect(d.gets).toBe(4);
    expect(d.puts).toBe(0);
    expect(d.holders.size).toBe(4);
    expect(refSum(d)).toBe(4);
    expect(d.pairs.size).toBe(d.refs.size);
    expect(d.pool.inUse).toBe(2 * d.pairs.size);
    expect(d.check()).toBeNull();
    expect(d.lock.softirqOn).toBe(true);
    expect(d.lock.inSoftirq).toBe(false);
    expect(vm.checkInvariants()).toEqual([]);
  });

  it('a private zap puts the guest page after REMOVE + WBINVD; the S-EPT pages keep theirs', () => {
    const vm = vmWith(design, [FINALIZE, pf(3), pf(4)], DPAMT);
    expect(dpamtOf(vm).holders.size).toBe(5);
    expectClean(vm.apply(zapPrivate(3, 4)));
    const d = dpamtOf(vm);
    expect(d.puts).toBe(1);
    expect(d.holders.size).toBe(4);
    expect(refSum(d)).toBe(4);
    expect(d.check()).toBeNull();
  });

  it('a failed SEPT.ADD or PAGE.AUG puts the reference it got (BUSY included)', () => {
    for (const call of ['SEPT.ADD', 'PAGE.AUG'] as const) {
      for (const error of ['BUSY', 'ERROR'] as const) {
        const vm = vmWith(design, [FINALIZE], DPAMT);
        vm.apply(pf(3, { fail: [{ at: 'seamcall', call, error }] }));
        const d = dpamtOf(vm);
        expect(d.check(), `${call}=${error}`).toBeNull();
        // every page that holds a reference is one the module has (a failed one never kept its get)
        expect(d.puts, `${call}=${error}`).toBeGreaterThan(0);
        expect(d.holders.size, `${call}=${error}`).toBe(d.gets - d.puts);
      }
    }
  });

  it('teardown puts every reference and frees every PAMT page', () => {
    const vm = vmWith(design, [FINALIZE, pf(3), pf(12), pf(40)], DPAMT);
    const o = vm.apply(DESTROY);
    const d = dpamtOf(vm);
    expect(d.holders.size).toBe(0);
    expect(d.refs.size).toBe(0);
    expect(d.pairs.size).toBe(0);
    expect(d.pool.inUse).toBe(0);
    expect(d.pool.allocated).toBeGreaterThan(0);
    expect(d.pool.freed).toBe(d.pool.allocated);
    expect(d.puts).toBe(d.gets);
    expect(o.violations).toEqual([]);
    expect(o.diagnostics.filter(x => x.category !== 'pamt_lock-inconsistent-lock-state')).toEqual([]);
    expect(vm.checkInvariants()).toEqual([]);
  });
});

describe('dpamt — the pamt_lock lockdep report (Yan on RFC v5 20/45)', () => {
  it('before: the RCU callback puts a used S-EPT page in softirq → inconsistent SOFTIRQ-ON-W -> IN-SOFTIRQ-W, once', () => {
    const vm = vmWith(before, [FINALIZE, pf(3), pf(12)], DPAMT);
    const o = vm.apply(DESTROY);
    expect(pamtDiags(o)).toEqual([{ kind: 'lockdep', site: 'tdx.c:__tdx_pamt_put:pamt_lock',
      category: 'pamt_lock-inconsistent-lock-state', printed: true, detail: 'SOFTIRQ-ON-W -> IN-SOFTIRQ-W' }]);
    expect(dpamtOf(vm).lock).toEqual({ softirqOn: true, inSoftirq: true, reported: true });
  });

  it('after: puts in tdx_sept_free_private_spt right after RECLAIM, in process context: no report', () => {
    const vm = vmWith(after, [FINALIZE, pf(3), pf(12)], DPAMT);
    const o = vm.apply(DESTROY);
    expect(pamtDiags(o)).toEqual([]);
    expect(dpamtOf(vm).lock).toEqual({ softirqOn: true, inSoftirq: false, reported: false });
  });

  it('without dpamt neither design raises it', () => {
    for (const design of DESIGNS) {
      const vm = vmWith(design, [FINALIZE, pf(3), pf(12)]);
      expect(pamtDiags(vm.apply(DESTROY))).toEqual([]);
    }
  });
});

describe('Dpamt (machine/dpamt.ts)', () => {
  it('counts per 2M region, one pair per region, a put without a get is a no-op, a page may be got twice', async () => {
    const { Dpamt } = await import('../../impls/machine/dpamt');
    const reports: string[] = [];
    const d = new Dpamt((site, usage) => reports.push(`${site} ${usage}`));
    d.get(1, false); d.get(2, false); d.get(600, false); d.get(1, false);
    expect([...d.refs]).toEqual([[0, 3], [1, 1]]);
    expect(d.pairs.size).toBe(2);
    expect(d.pool.inUse).toBe(4);
    d.put(7, false); // never got
    expect(d.puts).toBe(0);
    for (const p of [1, 1, 2, 600]) d.put(p, false);
    expect(d.refs.size).toBe(0);
    expect(d.pool.inUse).toBe(0);
    expect(d.pool.freed).toBe(4);
    expect(d.check()).toBeNull();
    expect(reports).toEqual([]);
  });

  it('reports the inconsistent usage once, labelled by which came first', async () => {
    const { Dpamt } = await import('../../impls/machine/dpamt');
    const a: string[] = [], b: string[] = [];
    const d1 = new Dpamt((site, usage) => a.push(`${site} ${usage}`));
    d1.get(1, false); d1.put(1, true); d1.get(1, false); d1.put(1, true);
    expect(a).toEqual(['tdx.c:__tdx_pamt_put:pamt_lock SOFTIRQ-ON-W -> IN-SOFTIRQ-W']);
    const d2 = new Dpamt((site, usage) => b.push(`${site} ${usage}`));
    d2.get(1, true); d2.put(1, false);
    expect(b).toEqual(['tdx.c:__tdx_pamt_put:pamt_lock IN-SOFTIRQ-W -> SOFTIRQ-ON-W']);
  });

  it('the lock is taken only on the 0 → 1 and 1 → 0 transitions (atomic_inc_not_zero / atomic_dec_and_lock)', async () => {
    const { Dpamt } = await import('../../impls/machine/dpamt');
    const a: string[] = [];
    const d = new Dpamt((site, usage) => a.push(`${site} ${usage}`));
    d.get(1, false); d.get(2, false);
    d.put(2, true); // 2 → 1: no lock, no report
    expect(d.lock.inSoftirq).toBe(false);
    expect(a).toEqual([]);
    d.put(1, true);
    expect(a).toHaveLength(1);
  });
});
