// Shared helpers for the model tests (test/models/*.test.ts). Everything here goes through the public
// design API only: design.create(config), vm.apply(op), snapshot(), digests(), checkInvariants(),
// leakReport(). Spec references are to /work/shared/reference/kernel-model.md.
import { expect } from 'vitest';
import type {
  Design, DesignInstance, Diagnostic, FaultOp, Op, OpOutcome, SeamcallRecord, Snapshot, VmConfig,
} from '../../impls/api';
import { after, before } from '../../impls/designs';

export { after, before };
export const DESIGNS: readonly Design[] = [before, after];

/** compact geometry: fan-out 8, 4 levels; a level-L entry covers 8^(L-1) gfns. */
export const COMPACT: VmConfig = { geometry: 'compact', hugePages: false, vcpus: 2 };
export const COMPACT_HUGE: VmConfig = { geometry: 'compact', hugePages: true, vcpus: 2 };

// ------------------------------------------------------------------ op builders

/** A private (mirror) write fault, 4K, vCPU 0 unless overridden. */
export function pf(gfn: number, extra: Partial<FaultOp> = {}): FaultOp {
  return { kind: 'fault', vcpu: 0, gfn, private: true, write: true, maxLevel: 1, ...extra };
}
/** A shared (direct) fault. */
export function sf(gfn: number, extra: Partial<FaultOp> = {}): FaultOp {
  return { kind: 'fault', vcpu: 0, gfn, private: false, write: true, maxLevel: 1, ...extra };
}
export const FINALIZE: Op = { kind: 'finalize' };
export const DESTROY: Op = { kind: 'destroy' };
export const GRACE: Op = { kind: 'gracePeriod' };
export function zapPrivate(start: number, end: number): Op { return { kind: 'zap', start, end, attr: 'private' }; }

// ------------------------------------------------------------------ running

/** Applies ops in order and returns the outcome of each. */
export function run(vm: DesignInstance, ops: readonly Op[]): OpOutcome[] {
  return ops.map(op => vm.apply(op));
}

/** A fresh VM with the given ops applied; every one of them must be clean (no diag, no violation). */
export function vmWith(design: Design, ops: readonly Op[], config: VmConfig = COMPACT): DesignInstance {
  const vm = design.create(config);
  for (const op of ops) expectClean(vm.apply(op), `${design.name}: setup op ${op.kind}`);
  return vm;
}

/** A RUNNABLE TD with private 4K leaves at the given gfns. */
export function runnableWith(design: Design, gfns: readonly number[], config: VmConfig = COMPACT): DesignInstance {
  return vmWith(design, [FINALIZE, ...gfns.map(g => pf(g))], config);
}

// ------------------------------------------------------------------ outcome inspection

export function expectClean(o: OpOutcome, what = 'op'): void {
  expect(o.diagnostics, `${what}: diagnostics`).toEqual([]);
  expect(o.violations, `${what}: violations`).toEqual([]);
  expect(o.hang, `${what}: hang`).toBe(false);
}

/** "CALL args -> result" lines of an outcome's SEAMCALL log. */
export function log(o: OpOutcome | SeamcallRecord[]): string[] {
  const recs = Array.isArray(o) ? o : o.seamcalls;
  return recs.map(s => `${s.call}${s.args ? ` ${s.args}` : ''} -> ${s.result}`);
}

/** SEAMCALL names only. */
export function calls(o: OpOutcome): string[] { return o.seamcalls.map(s => s.call); }

/** "KIND category" of each diagnostic. */
export function diags(o: OpOutcome | Diagnostic[]): string[] {
  const ds = Array.isArray(o) ? o : o.diagnostics;
  return ds.map(d => `${d.kind} ${d.category}`);
}

export function countOf<T>(xs: readonly T[], x: T): number { return xs.filter(y => y === x).length; }

/** Ledger count (0 when the key is absent). */
export function L(s: Snapshot, key: string): number { return s.ledger[key] ?? 0; }

/** The pfn of the mirror leaf mapping gfn at `level` in the first mirror root. */
export function mirrorLeafPfn(s: Snapshot, gfn: number, level = 1): number {
  const re = new RegExp(`^root0 L${level} gfn=0x${gfn.toString(16)} leaf pfn=0x([0-9a-f]+)`);
  for (const line of s.mirror) {
    const m = re.exec(line);
    if (m) return parseInt(m[1], 16);
  }
  throw new Error(`no mirror leaf for gfn 0x${gfn.toString(16)} at L${level} in\n${s.mirror.join('\n')}`);
}

/** Tree lines without the root headers (entries only). */
export function entriesOf(lines: readonly string[]): string[] { return lines.filter(l => / gfn=/.test(l)); }
/** Mirror lines without the root headers (entries only). */
export function mirrorEntries(s: Snapshot): string[] { return entriesOf(s.mirror); }

/** The page ids (page#N) of a leak list, sorted. */
export function pageIds(lines: readonly string[]): number[] {
  return lines.map(l => Number(/^page#(\d+)/.exec(l)![1])).sort((a, b) => a - b);
}

/** The BLOCK → TRACK → REMOVE → WBINVD sequence of one 4K leaf (kernel-model §2.13). */
export function removeLeafLog(gfn: number, pfn: number, runnable = true): string[] {
  const g = `gfn=0x${gfn.toString(16)} level=1`;
  return [
    `RANGE.BLOCK ${g} -> SUCCESS`,
    ...(runnable ? ['TRACK -> SUCCESS'] : []),
    `PAGE.REMOVE ${g} -> SUCCESS`,
    `PHYMEM.PAGE.WBINVD pfn=0x${pfn.toString(16)} -> SUCCESS`,
  ];
}

/** tdx_mmu_release_hkid's three SEAMCALLs, all successful. */
export const RELEASE_HKID_LOG = ['MNG.VPFLUSHDONE -> SUCCESS', 'PHYMEM.CACHE.WB -> SUCCESS', 'MNG.KEY.FREEID -> SUCCESS'];
/**
 * tdx_vm_destroy → tdx_reclaim_td_control_pages (last in kvm_arch_destroy_vm): TDCS pages, then the
 * TDR, then tdh_phymem_page_wbinvd_tdr.
 */
export const CONTROL_RECLAIM_LOG = [
  'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS', 'PHYMEM.PAGE.RECLAIM control=TDCS -> SUCCESS', 'PHYMEM.PAGE.RECLAIM control=TDR -> SUCCESS',
  'PHYMEM.PAGE.WBINVD control=TDR -> SUCCESS',
];

/**
 * Outcomes as the designs are compared: without SeamcallRecord.by, the kernel function that issued
 * each SEAMCALL, which before and after name differently on purpose (D1; the harness never compares it).
 */
export function comparable<T extends OpOutcome | OpOutcome[]>(o: T): T {
  const strip = (x: OpOutcome): OpOutcome => ({ ...x, seamcalls: x.seamcalls.map(({ by: _by, ...s }) => s as SeamcallRecord) });
  return (Array.isArray(o) ? o.map(strip) : strip(o as OpOutcome)) as T;
}

/** Runs the same ops on both designs; returns the per-design VMs and outcomes. */
export function onBoth(ops: readonly Op[], config: VmConfig = COMPACT):
  { b: DesignInstance; a: DesignInstance; ob: OpOutcome[]; oa: OpOutcome[] } {
  const b = before.create(config);
  const a = after.create(config);
  return { b, a, ob: run(b, ops), oa: run(a, ops) };
}
