// Observation of one VM (DESIGN §4): cheap digests for per-op comparison, canonical dumps built only
// when digests differ, and the per-design invariant checks of kernel-model §3.2.
import type { Digests, Snapshot, Violation } from '../api';
import { hash4 } from '../machine/hash';
import { describeSpte, isFrozen, isLeaf, isNonLeaf, isPresent, pfnOf } from '../machine/spte';
import type { TdpMmuCore } from './core';
import type { KvmMmuPage } from './sp';

function rootsDigest(vm: TdpMmuCore, mirror: boolean): number {
  let d = 0;
  let i = 0;
  for (const r of vm.roots) {
    if (r.mirror !== mirror) continue;
    d ^= hash4(i++, r.invalid ? 1 : 0, 77, 0) ^ r.sub;
  }
  return d;
}

const TD_STATES = ['INITIALIZED', 'RUNNABLE', 'TEARDOWN', 'DESTROYED', 'BLOCKED'];

function vmDigest(vm: TdpMmuCore): number {
  return hash4((vm.diag.bugged ? 1 : 0) + (vm.destroyed ? 2 : 0), vm.tdx.hkid + 8, TD_STATES.indexOf(vm.tdx.tdState), vm.tdpMmuPages);
}

function statsDigest(vm: TdpMmuCore): number {
  return hash4(vm.stats[1], vm.stats[2], vm.stats[3], vm.stats[4]);
}

export function digests(vm: TdpMmuCore): Digests {
  const pending = vm.rcu.pendingPages();
  return {
    mirror: rootsDigest(vm, true),
    direct: rootsDigest(vm, false),
    sept: vm.tdx.septDigest,
    guest: vm.tdx.guestDigest,
    ledger: vm.ledger.digest(pending),
    vm: vmDigest(vm),
    stats: statsDigest(vm),
    bugged: vm.diag.bugged,
    pendingRcu: pending.length,
  };
}

/** Visit every reachable entry (present or FROZEN) of a root, pre-order. */
function forEachReachable(vm: TdpMmuCore, root: KvmMmuPage,
                                 visit: (sp: KvmMmuPage, index: number, gfn: number, spte: number) => void): void {
  const walk = (sp: KvmMmuPage): void => {
    const span = vm.geo.span(sp.level);
    const e = sp.entries;
    for (let i = 0; i < e.length; i++) {
      const spte = e[i];
      if (spte === 0) continue;
      visit(sp, i, sp.gfn + i * span, spte);
      if (isNonLeaf(spte)) {
        const child = vm.childSp(spte);
        if (child && child.linkedTo === sp) walk(child);
      }
    }
  };
  walk(root);
}

function dumpRoots(vm: TdpMmuCore, mirror: boolean): string[] {
  const out: string[] = [];
  let i = 0;
  for (const r of vm.roots) {
    if (r.mirror !== mirror) continue;
    const tag = `root${i++}${r.invalid ? '(invalid)' : ''}`;
    out.push(`${tag} L${r.level}`);
    forEachReachable(vm, r, (sp, _idx, gfn, spte) => {
      out.push(`${tag} L${sp.level} gfn=0x${gfn.toString(16)} ${describeSpte(spte)}`);
    });
  }
  return out;
}

export function snapshot(vm: TdpMmuCore, countPendingAsFree = true): Snapshot {
  return {
    mirror: dumpRoots(vm, true),
    direct: dumpRoots(vm, false),
    sept: vm.tdx.canonical(),
    guest: vm.tdx.guestMappings(),
    vm: { bugged: vm.diag.bugged, hkid: vm.tdx.hkid, tdState: vm.tdx.tdState, destroyed: vm.destroyed },
    ledger: {
      ...vm.ledger.counts_(vm.rcu.pendingPages(), countPendingAsFree),
      'stats.4K': vm.stats[1], 'stats.2M': vm.stats[2], 'stats.1G': vm.stats[3], 'tdp_mmu_pages': vm.tdpMmuPages,
    },
    pendingRcu: vm.rcu.pendingPages().length,
  };
}

/**
 * Per-design invariants (kernel-model §3.2): I-frozen-transient, I-stats, and — while the TD is alive
 * and the VM not bugged — mirror/S-EPT consistency (I-publish-after, I-ext-alloc).
 */
export function checkInvariants(vm: TdpMmuCore, checkSept = true): Violation[] {
  const out: Violation[] = [];
  // Counts over every root's reachable subtree are kept incrementally (storeSpte).
  const counts = [0, 0, 0, 0, 0];
  for (const root of vm.roots) for (let i = 0; i < 5; i++) counts[i] += root.subCounts[i];
  if (counts[0] > 0) {
    for (const root of vm.roots) {
      forEachReachable(vm, root, (sp, _i, gfn, spte) => {
        if (isFrozen(spte)) out.push({ kind: 'frozen-reachable', site: 'I-frozen-transient', detail: `${sp} L${sp.level} gfn=0x${gfn.toString(16)} left FROZEN` });
      });
    }
  }
  // Once the VM is bugged the stats may legitimately lag (after skips them when a propagation
  // fails, §2.5A step 7); the VM is dead anyway.
  for (let l = 1; l <= 3 && !vm.diag.bugged; l++) {
    if (counts[l] !== vm.stats[l]) {
      out.push({ kind: 'stats-mismatch', site: 'I-stats', detail: `pages[${l}] stat is ${vm.stats[l]} but ${counts[l]} leaves are mapped at level ${l}` });
    }
  }
  if (checkSept && vm.tdx.hkidAssigned && !vm.diag.bugged && !vm.destroyed) {
    // Fast path: the mirror tree's and the module's mirror-view digests agree → consistent. A table's
    // view names its page on both sides (the child SP's external_spt / the page SEPT.ADD or DEMOTE was
    // given), so this also checks the page identity of every table after every op; the walk runs only
    // to name the difference.
    const root = vm.roots.find(r => r.mirror && !r.invalid);
    if ((root?.subMirrorView ?? 0) !== vm.tdx.mirrorViewDigest) out.push(...checkMirrorSept(vm));
  }
  return out;
}

/** I-publish-after / I-ext-alloc: the valid mirror tree and the S-EPT hold the same entries. */
function checkMirrorSept(vm: TdpMmuCore): Violation[] {
  const out: Violation[] = [];
  let matched = 0;
  const root = vm.roots.find(r => r.mirror && !r.invalid);
  if (root) {
    forEachReachable(vm, root, (sp, _i, gfn, spte) => {
      if (!isPresent(spte)) return;
      const s = vm.tdx.lookup(sp.level, gfn);
      const where = `mirror L${sp.level} gfn=0x${gfn.toString(16)}`;
      if (isLeaf(spte)) {
        if (!s || s.kind !== 'leaf') out.push({ kind: 'mirror-sept-mismatch', site: 'I-publish-after', detail: `${where} is a present leaf but the S-EPT has ${s ? 'a table' : 'nothing'}` });
        else if (s.pfn !== pfnOf(spte) || s.blocked) out.push({ kind: 'mirror-sept-mismatch', site: 'I-publish-after', detail: `${where} maps pfn 0x${pfnOf(spte).toString(16)} but the S-EPT has pfn 0x${s.pfn.toString(16)}${s.blocked ? ' (blocked)' : ''}` });
        else matched++;
      } else {
        const child = vm.childSp(spte);
        if (!s || s.kind !== 'table') out.push({ kind: 'mirror-sept-mismatch', site: 'I-publish-after', detail: `${where} links a table but the S-EPT has ${s ? 'a leaf' : 'nothing'}` });
        else if (!child || child.externalSpt !== s.page) out.push({ kind: 'mirror-sept-mismatch', site: 'I-publish-after', detail: `${where}: S-EPT table page is not the child's external_spt` });
        else matched++;
      }
    });
  }
  if (out.length === 0 && matched !== vm.tdx.entryCount) {
    const extra: string[] = [];
    for (const e of vm.tdx.entries()) {
      let ok = false;
      if (root) forEachReachable(vm, root, (sp, _i, gfn, spte) => { if (sp.level === e.level && gfn === e.gfn && isPresent(spte)) ok = true; });
      if (!ok) extra.push(`L${e.level} gfn=0x${e.gfn.toString(16)} ${e.kind}`);
    }
    out.push({ kind: 'mirror-sept-mismatch', site: 'I-publish-after', detail: `S-EPT entries with no mirror SPTE: ${extra.slice(0, 4).join('; ')}` });
  }
  return out;
}
