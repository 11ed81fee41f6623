// The alternatives proposed in review (impls/alternatives/, series.md §4): each one's distinctive
// behaviour walked through the flow it changes, and the claims series.md makes about them checked
// against `after` over generated sequences.
import { describe, expect, it } from 'vitest';
import type { Design, DesignInstance, Op, VmConfig } from '../../impls/api';
import { ALTERNATIVES, findAlternative } from '../../impls/alternatives/index';
import { runSequence } from '../../harness/run/runner';
import { generateSequence } from '../../harness/seq/generate';
import { COMPACT, COMPACT_HUGE, DESTROY, FINALIZE, GRACE, L, after, diags, expectClean, pf, run, vmWith, zapPrivate } from './helpers';

const alt = (id: string): Design => findAlternative(id)!.design;
const ALL = 8 ** 4;
const unfreed = (vm: DesignInstance, pool: string): string[] => vm.leakReport().leaked.filter(l => l.pool === pool).map(l => l.page);

// The one mirror-table removal a live TD can make (teardown.test.ts, D7): after the hkid is released.
const PREFIX: Op[] = [FINALIZE, pf(9), pf(10), zapPrivate(0, ALL), { kind: 'releaseHkid' }, { kind: 'rcuRead', walker: 1, gfn: 9, private: true }];
const ZAP_TABLE: Op = { kind: 'atomicZap', gfn: 9, level: 2, private: true };

describe('4(a) alt:free-in-rcu — TDX reclaims, the RCU callback frees', () => {
  it('RECLAIM in handle_removed_pt, the external page freed only with spt and header after the grace period', () => {
    const vm = vmWith(alt('free-in-rcu'), PREFIX);
    const s0 = vm.snapshot();
    const o = vm.apply(ZAP_TABLE);
    expect(o.seamcalls.map(s => `${s.call} -> ${s.result}`)).toEqual(['PHYMEM.PAGE.RECLAIM -> SUCCESS']);
    expect(o.violations).toEqual([]);
    const s = vm.snapshot();
    // the module gave the page back, but KVM still holds it: it waits for the callback with spt + header
    expect(L(s, 'external:tdx') - L(s0, 'external:tdx')).toBe(-1);
    expect(unfreed(vm, 'external').filter(l => l.includes('reclaimed, host-owned'))).toHaveLength(1);
    expect(s.pendingRcu).toBe(3);
    expect(vm.apply(GRACE).result).toBe('ran=0'); // walker 1 still reads the table
    expect(vm.apply({ kind: 'rcuUnlock', walker: 1 }).violations).toEqual([]);
    const g = vm.apply(GRACE);
    expect(g.result).toBe('ran=1');
    expect(diags(g)).toEqual([]); // no RCU-callback WARN: the pointer is expected there
    expect(unfreed(vm, 'external').filter(l => l.includes('reclaimed'))).toEqual([]);
    expect(vm.apply(DESTROY).violations).toEqual([]);
    expect(vm.leakReport()).toEqual({ leaked: [], leakedOnPurpose: [] });
  });

  it('under DPAMT the last PAMT put of a region runs in the RCU callback: the pamt_lock lockdep report that kept seed 000', () => {
    const dpamt: VmConfig = { ...COMPACT, dpamt: true };
    const seen = (d: Design): string[] => run(vmWith(d, [], dpamt), [FINALIZE, pf(9), DESTROY])
      .flatMap(o => o.diagnostics).filter(x => x.category === 'pamt_lock-inconsistent-lock-state').map(x => `${x.site} ${x.detail}`);
    expect(seen(alt('free-in-rcu'))).toEqual(['tdx.c:__tdx_pamt_put:pamt_lock SOFTIRQ-ON-W -> IN-SOFTIRQ-W']);
    expect(seen(after)).toEqual([]);
  });
});

describe('4(e) alt:unused-sp-warns — only TDX frees external pages', () => {
  it('a lost link (install race) WARNs and leaks the unused SP\'s external page', () => {
    const raced: Op = pf(0x41, { race: { at: 'install', level: 3, op: pf(0x42, { vcpu: 1 }) } });
    const vm = vmWith(alt('unused-sp-warns'), [FINALIZE, pf(9)]);
    const o = vm.apply(raced);
    expect(o.result).toBe('FIXED [race: fault=FIXED]');
    expect(diags(o)).toEqual(['WARN_ON_ONCE external-spt-on-unused-sp']);
    expect(vm.leakReport().leakedOnPurpose).toHaveLength(1);
    const ok = vmWith(after, [FINALIZE, pf(9)]).apply(raced);
    expectClean(ok);
  });
});

/** Findings of `a` against after over generated sequences, by kind|component. */
function against(a: Design, opts: { domain: 'legal' | 'extended'; config: VmConfig; equiv: 'state' | 'strict'; n: number }): string[] {
  const out = new Set<string>();
  for (let i = 0; i < opts.n; i++) {
    const seq = generateSequence(11, i, { config: opts.config, domain: opts.domain });
    const r = runSequence(seq, { designs: [after, a], equiv: opts.equiv, domain: opts.domain });
    // a finding of after alone is not the alternative's (e.g. after's own extended-domain hangs)
    for (const f of r.findings) if (!(f.designs.length === 1 && f.designs[0] === 'after')) out.add(`${f.kind}|${f.component}`);
  }
  return [...out].sort();
}

describe('claims of series.md §4 against after (generated sequences)', () => {
  it('4(b) both of Yan\'s unification options: identical to after under strict (SEAMCALLs, order, traces, free timing)', () => {
    for (const id of ['unify-in-removed-pt', 'unify-after-removed-pt']) {
      for (const config of [COMPACT, COMPACT_HUGE]) {
        expect(against(alt(id), { domain: 'legal', config, equiv: 'strict', n: 300 }), `${id} ${config.hugePages}`).toEqual([]);
      }
    }
  });

  it('4(a)/(c) free-in-rcu: equivalent under state; under strict in the extended domain only the free timing (explained as D2)', () => {
    expect(against(alt('free-in-rcu'), { domain: 'legal', config: COMPACT, equiv: 'state', n: 300 })).toEqual([]);
    expect(against(alt('free-in-rcu'), { domain: 'extended', config: COMPACT, equiv: 'strict', n: 300 })).toEqual([]);
    let d2 = 0;
    for (let i = 0; i < 300; i++) {
      const seq = generateSequence(11, i, { config: COMPACT, domain: 'extended' });
      d2 += runSequence(seq, { designs: [after, alt('free-in-rcu')], equiv: 'strict', domain: 'extended' }).explained.filter(x => x.explained?.id === 'D2').length;
    }
    expect(d2).toBeGreaterThan(0);
  });

  it('4(f) warn-mirror-shared: silent in the legal domain, a WARN where mirror children are zapped under the read lock', () => {
    expect(against(alt('warn-mirror-shared'), { domain: 'legal', config: COMPACT, equiv: 'state', n: 300 })).toEqual([]);
    expect(against(alt('warn-mirror-shared'), { domain: 'extended', config: COMPACT, equiv: 'state', n: 600 })).toContain('divergence|diagnostics');
  });

  it('every alternative is addressable as alt:<id> and says which review thread it answers', () => {
    expect(ALTERNATIVES.map(a => a.design.name)).toEqual(ALTERNATIVES.map(a => `alt:${a.id}`));
    for (const a of ALTERNATIVES) expect(a.source.length && a.question.length && a.predicted.length).toBeTruthy();
  });
});
