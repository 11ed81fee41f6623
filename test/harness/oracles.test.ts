// The oracle registry (harness/run/oracles/): every oracle names what it checks and the finding kinds
// it produces; each one catches its seeded bug (a mutant of impls/mutants/catalogue.ts, or a test
// design for hang/exception), the base design on the same sequence gives no finding, and the same
// run without that oracle does not report the kind — the finding is that oracle's.
import { describe, expect, it } from 'vitest';
import type { Design, Violation, VmConfig } from '../../impls/api';
import { AfterDesign } from '../../impls/after/tdp_mmu';
import { BeforeDesign } from '../../impls/before/tdp_mmu';
import { pfnOf } from '../../impls/machine/spte';
import { BUILTIN_DESIGNS } from '../../impls/designs';
import { findMutant } from '../../impls/mutants/catalogue';
import type { TdpIter } from '../../impls/tdp_mmu/sp';
import type { FindingKind } from '../../harness/run/findings';
import { ORACLES } from '../../harness/run/oracles/index';
import { planOf, type Oracle } from '../../harness/run/oracles/oracle';
import { runSequence, type RunResult } from '../../harness/run/runner';
import { generateSequence } from '../../harness/seq/generate';
import { makeSequence, type Sequence } from '../../harness/seq/sequence';

const COMPACT: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };

/** Every finding kind; `divergence` is the lockstep comparison's, all others an oracle's. */
const FINDING_KINDS = [
  'divergence', 'double-free', 'tdx-owned-free', 'wrong-pool', 'use-after-free', 'leaked-free',
  'frozen-reachable', 'mirror-sept-mismatch', 'stats-mismatch', 'reclaim-order', 'host-bug', 'hang',
  'tdx-dirty-page', 'leak', 'unexpected-diagnostic', 'exception',
] as const satisfies readonly FindingKind[];
/** Every violation kind the designs' machine reports. */
const VIOLATION_KINDS = [
  'double-free', 'tdx-owned-free', 'wrong-pool', 'use-after-free', 'leaked-free', 'frozen-reachable',
  'mirror-sept-mismatch', 'stats-mismatch', 'reclaim-order', 'host-bug', 'hang', 'tdx-dirty-page',
] as const satisfies readonly Violation['kind'][];

const oracle = (name: string): Oracle => ORACLES.find(o => o.name === name)!;
const without = (o: Oracle): readonly Oracle[] => ORACLES.filter(x => x !== o);
const run = (seq: Sequence, designs: Design[], oracles?: readonly Oracle[]): RunResult =>
  runSequence(seq, { designs, equiv: 'state', domain: 'legal', diffs: false, oracles });

/** The first generated sequence on which the mutant (against its base design) gets a `kind` finding. */
function hunt(id: string, kind: FindingKind, limit = 6000): { seq: Sequence; base: Design; designs: Design[] } {
  const m = findMutant(id)!;
  const config: VmConfig = { ...COMPACT, hugePages: !!m.needs?.hugePages, ...(m.needs?.proveMmu ? { proveMmu: true } : {}) };
  const base = BUILTIN_DESIGNS[m.base];
  const designs = [base, m.design];
  for (let i = 0; i < limit; i++) {
    const seq = generateSequence(`oracle:${id}`, i, { config, domain: 'legal' });
    if (run(seq, designs).findings.some(f => f.kind === kind && f.designs.includes(m.design.name))) return { seq, base, designs };
  }
  throw new Error(`mutant ${id}: no ${kind} finding in ${limit} sequences`);
}

/** [oracle, mutant, the kind it must report] — one seeded bug per family, per kind for the ledger. */
const CAUGHT: readonly [string, string, FindingKind][] = [
  ['ledger', 'rcu-cb-frees-external', 'double-free'],
  ['ledger', 'frees-on-reclaim-failure', 'tdx-owned-free'],
  ['ledger', 'external-from-tdx-prealloc', 'wrong-pool'],
  ['ledger', 'retry-free-skips-external', 'leak'],
  ['rcu-uaf', 'spt-freed-immediately', 'use-after-free'],
  ['mirror-sept', 'misses-leaf-zap-propagation', 'mirror-sept-mismatch'],
  ['frozen', 'frozen-not-restored', 'frozen-reachable'],
  ['stats', 'stats-before-hook', 'stats-mismatch'],
  ['reclaim-order', 'parent-reclaimed-first', 'reclaim-order'],
  ['diagnostics', 'unmap-under-read-lock', 'unexpected-diagnostic'],
];

describe('oracle registry', () => {
  it('lists each oracle with a unique name, what it checks and the kinds it produces', () => {
    expect(ORACLES.map(o => o.name)).toEqual(['ledger', 'rcu-uaf', 'mirror-sept', 'frozen', 'stats', 'reclaim-order', 'diagnostics', 'hang-exception']);
    for (const o of ORACLES) {
      expect(o.checks.length, o.name).toBeGreaterThan(20);
      expect(o.kinds.length, o.name).toBeGreaterThan(0);
      // the violations an oracle claims are findings it produces
      for (const k of o.violations?.kinds ?? []) expect(o.kinds, o.name).toContain(k);
    }
  });

  it('every finding kind but divergence comes from exactly one oracle, every violation kind is claimed once', () => {
    const producers = (k: FindingKind) => ORACLES.filter(o => o.kinds.includes(k)).map(o => o.name);
    for (const k of FINDING_KINDS) expect(producers(k), k).toHaveLength(k === 'divergence' ? 0 : 1);
    const plan = planOf(ORACLES);
    for (const k of VIOLATION_KINDS) expect(plan.owner[k], k).toBeDefined();
    expect(() => planOf([...ORACLES, { ...oracle('stats'), name: 'stats-again' }])).toThrow(/claimed by oracles stats and stats-again/);
  });

  it('the CAUGHT table covers every oracle but hang-exception (tested below with its own designs)', () => {
    expect(new Set(CAUGHT.map(c => c[0]))).toEqual(new Set(ORACLES.map(o => o.name).filter(n => n !== 'hang-exception')));
    for (const [name, , kind] of CAUGHT) expect(oracle(name).kinds).toContain(kind);
  });
});

describe('each oracle catches its seeded bug', () => {
  for (const [name, id, kind] of CAUGHT) {
    it(`${name}: mutant:${id} → ${kind}; the base design alone and the run without ${name} report none`, () => {
      const { seq, base, designs } = hunt(id, kind);
      // the bug-free base design against itself: no finding at all
      expect(run(seq, [base, base]).findings).toEqual([]);
      // the same run without this oracle: the kind is gone
      expect(run(seq, designs, without(oracle(name))).findings.filter(f => f.kind === kind)).toEqual([]);
    });
  }

  const conversion = makeSequence(COMPACT, [
    { kind: 'finalize' },
    { kind: 'fault', vcpu: 0, gfn: 9, private: false, write: true, maxLevel: 1 },
    { kind: 'fault', vcpu: 0, gfn: 5, private: true, write: true, maxLevel: 1 },
    { kind: 'invalidateDirect' },
  ]);

  it('hang-exception: a thrown model error → exception, a livelock → hang; none without the oracle', () => {
    class Throws extends AfterDesign {
      protected override tdxSeptMapNonleafSpte(): number { throw new Error('model bug: boom\nstack'); }
    }
    class Livelock extends AfterDesign {
      protected override tdpMmuSetSpteAtomic(iter: TdpIter, newSpte: number): number {
        return newSpte === 0 ? -16 : super.tdpMmuSetSpteAtomic(iter, newSpte);
      }
    }
    const throws: Design = { name: 'throws', description: '', create: c => new Throws('throws', c) };
    const hang: Design = { name: 'hang', description: '', create: c => new Livelock('hang', c) };
    const after = BUILTIN_DESIGNS.after;
    const ex = run(conversion, [after, throws]).findings.find(f => f.kind === 'exception');
    expect(ex?.signature).toBe('exception|throws|fault|model bug: boom');
    expect(ex?.message).toBe('throws threw at op 2 (fault vcpu0 private gfn=0x5 write maxLevel=1): model bug: boom');
    expect(run(conversion, [after, hang]).findings.map(f => f.signature)).toContain('hang|hang|invalidateDirect|__tdp_mmu_zap_root retry');
    expect(run(conversion, [after, after]).findings).toEqual([]);
    const off = without(oracle('hang-exception'));
    expect(run(conversion, [after, throws], off).findings.filter(f => f.kind === 'exception')).toEqual([]);
    expect(run(conversion, [after, hang], off).findings.filter(f => f.kind === 'hang')).toEqual([]);
  });

  // Issue 9 item 4: PAGE.REMOVE leaves the guest page TDX-dirty until PHYMEM.PAGE.WBINVD (tdx.c
  // tdx_sept_remove_leaf_spte). A variant that forgets the WBINVD changes no S-EPT, mirror, guest or
  // ledger-count state, so `state` equivalence saw nothing (only the SEAMCALL log differs); the
  // ledger now reports the page when it is given to the module again.
  it('ledger: a variant that skips PHYMEM.PAGE.WBINVD after PAGE.REMOVE → tdx-dirty-page when the page is AUGed again; nothing else catches it', () => {
    for (const Base of [BeforeDesign, AfterDesign] as const) {
      class SkipsWbinvd extends Base {
        protected override tdxSeptRemoveLeafSequence(fn: string, gfn: number, level: number, oldSpte: number): number {
          let err = this.tdhDoNoVcpus(() => this.tdx.rangeBlock(fn, gfn, level));
          if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_remove_leaf_spte:RANGE.BLOCK', 'seamcall-failed', true, err)) return -5;
          this.tdxTrack();
          err = this.tdhDoNoVcpus(() => this.tdx.pageRemove(fn, gfn, level));
          if (this.diag.tdxBugOn(err !== 'SUCCESS', 'tdx.c:tdx_sept_remove_leaf_spte:PAGE.REMOVE', 'seamcall-failed', true, err)) return -5;
          for (let i = 0; i < this.geo.span(level); i++) this.tdxQuirkResetPage(pfnOf(oldSpte) + i); // no WBINVD
          return 0;
        }
      }
      const name = `skips-wbinvd-${Base === AfterDesign ? 'after' : 'before'}`;
      const base = Base === AfterDesign ? BUILTIN_DESIGNS.after : BUILTIN_DESIGNS.before;
      const variant: Design = { name, description: '', create: c => new SkipsWbinvd(name, c) };
      const seq = makeSequence(COMPACT, [
        { kind: 'finalize' },
        { kind: 'fault', vcpu: 0, gfn: 9, private: true, write: true, maxLevel: 1 },
        { kind: 'zap', start: 9, end: 10, attr: 'private' },
        { kind: 'fault', vcpu: 0, gfn: 9, private: true, write: true, maxLevel: 1 },
      ]);
      const r = run(seq, [base, variant]);
      // the ledger's TDX-dirty count is part of its state (the divergence after the zap), and the
      // reuse is a per-design violation
      expect(r.findings.map(f => f.signature)).toEqual([
        `divergence|${base.name}+${name}|zap|ledger`, `tdx-dirty-page|${name}|fault|PAGE.AUG`,
      ]);
      const dirty = r.findings.find(f => f.kind === 'tdx-dirty-page')!;
      expect(dirty.message).toMatch(/given to the TDX module again while TDX-dirty \(PAGE\.REMOVE; no PHYMEM\.PAGE\.WBINVD since\)/);
      expect(run(seq, [base, base]).findings).toEqual([]);
      // the violation is the ledger oracle's
      expect(run(seq, [base, variant], without(oracle('ledger'))).findings.filter(f => f.kind === 'tdx-dirty-page')).toEqual([]);
      // what the harness saw before the TDX-dirty state existed: the same ledger counts and trees, so
      // nothing (the SEAMCALL log is compared under --equiv strict only)
      const rd = runSequence(seq, { designs: [base, variant], equiv: 'state', domain: 'legal', diffs: true });
      const div = rd.findings.find(f => f.kind === 'divergence')!;
      const changed = div.divergence!.stateDiff.split('\n').filter(l => /^[-+][^-+]/.test(l));
      expect(changed.length).toBeGreaterThan(0);
      expect(changed.every(l => l.includes('tdxDirty'))).toBe(true);
    }
  });

  it('leak findings group designs by the pools of their leaked pages, read from LeakReport (no string parsing)', () => {
    const { seq, designs } = hunt('retry-free-skips-external', 'leak');
    const leak = run(seq, designs).findings.find(f => f.kind === 'leak')!;
    expect(leak.opKind).toBe('teardown');
    expect(leak.component.split(',')).toContain('external');
    expect(leak.message).toMatch(/^mutant:retry-free-skips-external: pages never freed after teardown \([a-zA-Z,]+\): page#\d+ \(/);
  });

  it('with no oracles, a run reports only divergences', () => {
    const { seq, designs } = hunt('frozen-not-restored', 'frozen-reachable');
    const r = runSequence(seq, { designs, equiv: 'state', domain: 'legal', diffs: false, oracles: [] });
    expect(r.findings.every(f => f.kind === 'divergence')).toBe(true);
  });
});
