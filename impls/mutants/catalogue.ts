// The mutant catalogue (DESIGN §8): seeded bugs that measure whether the oracles have teeth.
// Each mutant is one overridden method of a design; `expect` is the finding kind it should produce.
import type { Design, VmConfig } from '../api';
import type { TdpMmuVm } from '../tdp_mmu/vm_ops';
import * as F from './free_paths';
import * as P from './propagation';

export interface MutantInfo {
  id: string;
  description: string;
  /** where the bug comes from */
  source: string;
  base: 'before' | 'after';
  /** the finding kind a campaign should report */
  expect: string;
  /** configuration the bug needs to be reachable */
  needs?: { hugePages?: boolean; proveMmu?: boolean };
  design: Design;
}

type Ctor = new (name: string, config: VmConfig) => TdpMmuVm;

function mutant(id: string, base: 'before' | 'after', ctor: Ctor, description: string, source: string, expect: string,
                needs?: MutantInfo['needs']): MutantInfo {
  const name = `mutant:${id}`;
  return { id, description, source, base, expect, needs, design: { name, description, create: (c: VmConfig) => new ctor(name, c) } };
}

export const MUTANTS: readonly MutantInfo[] = [
  mutant('keeps-external-pointer', 'after', F.AfterKeepsExternalPointer,
    'TDX frees the reclaimed S-EPT page but leaves sp->external_spt set', 'kernel-model §3.3 #1; seed 000 vs v5 09/45', 'unexpected-diagnostic'),
  mutant('rcu-cb-frees-external', 'after', F.AfterRcuCallbackFreesExternal,
    "after's RCU callback still frees external_spt (with the dangling pointer): double free", 'kernel-model §3.3 #1', 'double-free'),
  mutant('retry-free-skips-external', 'after', F.AfterRetryFreeSkipsExternal,
    'map retry frees the unused SP with __tdp_mmu_free_sp: its external page leaks', 'kernel-model §3.3 #3; seed 000', 'leak'),
  mutant('split-leftover-skips-external', 'after', F.AfterSplitLeftoverSkipsExternal,
    'the leftover SP of a mirror split is freed without its external page (huge-page mode)', 'kernel-model §3.3 #3, §2.11', 'leak', { hugePages: true }),
  mutant('frees-on-reclaim-failure', 'after', F.AfterFreesOnReclaimFailure,
    'TDX frees the S-EPT page even when PHYMEM.PAGE.RECLAIM failed', 'kernel-model §3.3 #2', 'tdx-owned-free'),
  mutant('frees-with-hkid-assigned', 'after', F.AfterFreesWithHkidAssigned,
    'the hkid-assigned branch frees the S-EPT page instead of leaking it', 'kernel-model §3.3 #2, I-hkid-pt', 'tdx-owned-free'),
  mutant('external-from-tdx-prealloc', 'after', F.AfterExternalFromTdxPrealloc,
    'fault-path external pages come from the TDX prealloc pool but KVM frees them with free_page()', 'seed 001 (NAK); kernel-model §3.3 #4', 'wrong-pool'),
  mutant('stats-before-hook', 'after', P.AfterStatsBeforeHook,
    'page stats are bumped before set_external_spte, so a BUSY leaves them wrong', 'kernel-model §3.3 #5, D11', 'stats-mismatch'),
  mutant('frozen-not-restored', 'after', P.AfterFrozenNotRestored,
    'a failed TDX call leaves the mirror SPTE FROZEN', 'kernel-model §3.3 #7, I-frozen-transient', 'frozen-reachable'),
  mutant('nonleaf-removal-propagated', 'after', P.AfterNonLeafRemovalPropagated,
    'a non-leaf removal is also sent through set_external_spte', 'kernel-model §3.3 #8; seed 003', 'unexpected-diagnostic'),
  mutant('parent-reclaimed-first', 'after', P.AfterParentReclaimedFirst,
    'handle_removed_pt reclaims the table before its children', 'kernel-model §3.3 #8, I-children-first', 'reclaim-order',
    { proveMmu: true }),
  mutant('unmap-under-read-lock', 'after', P.AfterUnmapUnderReadLock,
    'leaf removals run with mmu_lock held for read', 'kernel-model §3.3 #9, I-lock-zap', 'unexpected-diagnostic'),
  mutant('spt-freed-immediately', 'after', F.AfterSptFreedImmediately,
    'spt/header are freed at once instead of after a grace period: a lockless walker touches freed memory', 'kernel-model §3.3 #11, I-rcu', 'use-after-free'),
  mutant('misses-leaf-zap-propagation', 'after', P.AfterMissesLeafZapPropagation,
    'a non-atomic leaf zap is not forwarded to TDX: the S-EPT keeps the leaf', 'kernel-model §3.3 #13 (I-no-dup)', 'mirror-sept-mismatch'),
  mutant('unused-sp-via-rcu', 'after', F.AfterUnusedSpViaRcu,
    'a never-linked SP is queued for RCU instead of freed: its external page hits the RCU-callback WARN', 'kernel-model D5, §2.7', 'unexpected-diagnostic'),
  mutant('before-rcu-skips-external', 'before', F.BeforeRcuCallbackSkipsExternal,
    "before's RCU callback frees spt and header but not external_spt", 'kernel-model §2.7', 'leak'),
];

export function findMutant(id: string): MutantInfo | undefined {
  return MUTANTS.find(m => m.id === id || m.design.name === id);
}
