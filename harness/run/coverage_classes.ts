// Expected transition classes for the report's coverage section (DESIGN §7): the SEAMCALL/result,
// fault-injection, race and retry classes a campaign of the given configuration should reach. The
// report prints how many were reached and the ones never reached, so a reviewer sees at a glance
// whether, e.g., a BUSY on PAGE.REMOVE during teardown was ever exercised.
//
// Keys follow the models' coverage keys (impls/tdp_mmu): `seam|<op>|<SEAMCALL>|<result>`,
// `fault|<point>`, `race|<point>|<nested op>`, `map|...`, `cmpxchg-fail|L<n>|<M|D>`, and
// `spte|<op>|<M|D>|L<n>|<old>><new>|<lock>` (counted per family, not listed).
import type { VmConfig } from '../../impls/api';
import type { Domain } from '../seq/domain';

const OK = 'SUCCESS';
const BUSY = 'TDX_OPERAND_BUSY';
const INVALID = 'TDX_OPERAND_INVALID';

function seam(op: string, call: string, ...results: string[]): string[] {
  return results.map(r => `seam|${op}|${call}|${r}`);
}

/** The classes a campaign with this configuration is expected to reach (sorted, stable). */
function expectedClasses(config: Pick<VmConfig, 'hugePages'>, domain: Domain): string[] {
  const out: string[] = [
    // vCPU faults: S-EPT table add, leaf AUG (RUNNABLE) / ADD (pre-RUNNABLE), each also BUSY (F6).
    ...seam('fault', 'SEPT.ADD', OK, BUSY),
    ...seam('fault', 'PAGE.AUG', OK, BUSY),
    ...seam('fault', 'PAGE.ADD', OK, BUSY),
    // Private zaps: BLOCK → TRACK → REMOVE → WBINVD, with BUSY (F6) and non-BUSY errors (F8).
    ...seam('zap', 'RANGE.BLOCK', OK, BUSY, INVALID),
    ...seam('zap', 'TRACK', OK, BUSY, INVALID),
    ...seam('zap', 'PAGE.REMOVE', OK, BUSY, INVALID),
    ...seam('zap', 'PHYMEM.PAGE.WBINVD', OK),
    // Teardown: leaf removal, page-table reclaim (incl. F9 failure), hkid release (incl. F11).
    ...seam('destroy', 'RANGE.BLOCK', OK, BUSY),
    ...seam('destroy', 'TRACK', OK, BUSY),
    ...seam('destroy', 'PAGE.REMOVE', OK, BUSY),
    ...seam('destroy', 'PHYMEM.PAGE.WBINVD', OK),
    ...seam('destroy', 'PHYMEM.PAGE.RECLAIM', OK, INVALID),
    ...seam('destroy', 'MNG.VPFLUSHDONE', OK),
    ...seam('destroy', 'PHYMEM.CACHE.WB', OK),
    ...seam('destroy', 'MNG.KEY.FREEID', OK, INVALID),
    ...seam('releaseHkid', 'MNG.KEY.FREEID', OK, INVALID),
    // Fault plan points (F1, F2, F3, F13) that fired.
    'fault|topup', 'fault|splitAlloc', 'fault|cmpxchg', 'fault|yield',
    // Race points with a racing vCPU fault, and RCU actors at a frozen SPTE.
    'race|walk|fault', 'race|install|fault', 'race|frozen|fault', 'race|removedPt|fault',
    'race|walk|rcuRead', 'race|frozen|rcuRead', 'race|frozen|gracePeriod',
    // Retry paths: a fault meeting a FROZEN mirror SPTE, a lost link, lost cmpxchg on mirror levels.
    'map|frozen-retry', 'map|link-failed|M', 'map|link-failed|D',
    'cmpxchg-fail|L1|M', 'cmpxchg-fail|L2|M', 'cmpxchg-fail|L3|M',
  ];
  if (config.hugePages) {
    out.push(...seam('split', 'RANGE.BLOCK', OK), ...seam('split', 'TRACK', OK), ...seam('split', 'PAGE.DEMOTE', OK, BUSY));
  }
  if (domain === 'extended') {
    out.push(...seam('atomicZap', 'RANGE.BLOCK', OK), ...seam('atomicZap', 'PAGE.REMOVE', OK));
  }
  return [...new Set(out)].sort();
}

/** Coverage family of a key: the part before the first '|'. */
export function familyOf(key: string): string {
  const i = key.indexOf('|');
  return i < 0 ? key : key.slice(0, i);
}

export const FAMILY_TITLES: Readonly<Record<string, string>> = {
  spte: 'SPTE transitions',
  seam: 'SEAMCALL/result',
  race: 'race points',
  fault: 'injected faults',
  map: 'fault-path retries',
  'cmpxchg-fail': 'lost cmpxchg',
  changed: 'changed-SPTE classes',
};

export interface CoverageSummary {
  /** distinct transition classes reached */
  reached: number;
  /** reached classes per family, families sorted by name */
  byFamily: Record<string, number>;
  expected: number;
  expectedReached: number;
  /** expected classes never reached, sorted */
  neverReached: string[];
  /** per family that has expected classes (SEAMCALL results, faults, races, retries): reached of expected; absent in older reports */
  expectedByFamily?: Record<string, { reached: number; expected: number }>;
  /** every class reached, sorted (lets `tdpfuzz merge` and workers take the exact union) */
  classes?: string[];
}

export function summarizeCoverage(keys: Iterable<string>, config: Pick<VmConfig, 'hugePages'>, domain: Domain): CoverageSummary {
  const set = new Set(keys);
  const fam = new Map<string, number>();
  for (const k of set) fam.set(familyOf(k), (fam.get(familyOf(k)) ?? 0) + 1);
  const byFamily: Record<string, number> = {};
  for (const f of [...fam.keys()].sort()) byFamily[f] = fam.get(f)!;
  const expected = expectedClasses(config, domain);
  const neverReached = expected.filter(k => !set.has(k));
  const expectedByFamily: Record<string, { reached: number; expected: number }> = {};
  for (const k of expected) {
    const e = expectedByFamily[familyOf(k)] ??= { reached: 0, expected: 0 };
    e.expected++;
    if (set.has(k)) e.reached++;
  }
  return {
    reached: set.size, byFamily, expected: expected.length, expectedReached: expected.length - neverReached.length, neverReached,
    expectedByFamily: Object.fromEntries(Object.keys(expectedByFamily).sort().map(f => [f, expectedByFamily[f]])),
    classes: [...set].sort(),
  };
}

/** One coverage family as the reports list it (issue 12 item 4: denominators, plateaus, blind spots). */
export interface CoverageFamilyRow {
  family: string;
  title: string;
  /** classes of the family reached */
  reached: number;
  /** reached of expected, for a family with expected classes */
  expected?: { reached: number; expected: number };
  /** when the family last gained a class (s since the start; absent in merged and older reports) */
  lastNewSec?: number;
  /** its expected classes never reached, sorted */
  neverReached: string[];
}

/** Every family reached or expected, by name, with its denominator, last new class and never-reached list. */
export function coverageFamilies(c: CoverageSummary, lastNewByFamily?: Readonly<Record<string, number>>): CoverageFamilyRow[] {
  const fams = [...new Set([...Object.keys(c.byFamily), ...Object.keys(c.expectedByFamily ?? {})])].sort();
  return fams.map(family => ({
    family, title: FAMILY_TITLES[family] ?? family, reached: c.byFamily[family] ?? 0,
    ...(c.expectedByFamily?.[family] ? { expected: c.expectedByFamily[family] } : {}),
    ...(lastNewByFamily?.[family] !== undefined ? { lastNewSec: lastNewByFamily[family] } : {}),
    neverReached: c.neverReached.filter(k => familyOf(k) === family),
  }));
}
