// The walk's non-zero masks and the removed-table shortcut of storeSpte (issue 13 item 1): both are
// speed changes that must not change what a walk visits or what a digest says.
//  - nextNonZero finds exactly the entries a test of each entry in turn would find;
//  - every table's mask matches its entries after real sequences, on both geometries;
//  - a removed table whose stores skipped the digest upkeep, once linked again, carries the same
//    digest, mirror view and counts as a table whose stores were kept up incrementally.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import type { VmConfig } from '../../impls/api';
import { makeLeaf, makeNonLeaf, FROZEN } from '../../impls/machine/spte';
import { KvmMmuPage, nextNonZero } from '../../impls/tdp_mmu/sp';
import { generateSequence } from '../../harness/seq/generate';
import { opsWithTeardown } from '../../harness/run/runner';
import { DESIGNS, after, pf } from './helpers';

/** The model's internals these tests look at (not part of the design API). */
interface Internals {
  roots: KvmMmuPage[];
  spByPage: Map<number, KvmMmuPage>;
  storeSpte(sp: KvmMmuPage, index: number, v: number, site: string): number;
}

function naiveNext(mask: Uint32Array, from: number, limit: number): number {
  for (let i = from; i < limit; i++) if (mask[i >>> 5] & (1 << (i & 31))) return i;
  return -1;
}

function allTables(vm: Internals): KvmMmuPage[] {
  return [...vm.spByPage.values()];
}

describe('nextNonZero', () => {
  it('agrees with a test of each bit in turn, for 8- and 512-entry masks at every start and limit', () => {
    const rng = seedrandom('mask');
    for (const fanout of [8, 512]) {
      for (let t = 0; t < 60; t++) {
        const mask = new Uint32Array((fanout + 31) >>> 5);
        const density = [0, 0.01, 0.2, 0.9, 1][t % 5];
        for (let i = 0; i < fanout; i++) if (rng() < density) mask[i >>> 5] |= 1 << (i & 31);
        for (let k = 0; k < 40; k++) {
          const from = Math.floor(rng() * (fanout + 2));
          const limit = Math.floor(rng() * (fanout + 2)) - 1;
          expect(nextNonZero(mask, from, Math.min(limit, fanout))).toBe(naiveNext(mask, from, Math.min(limit, fanout)));
        }
      }
    }
  });
});

describe('non-zero masks', () => {
  const configs: VmConfig[] = [
    { geometry: 'compact', hugePages: false, vcpus: 2 },
    { geometry: 'compact', hugePages: true, vcpus: 2 },
    { geometry: 'x86', hugePages: false, vcpus: 2 },
  ];
  for (const config of configs) {
    it(`match every table's entries after each op (${config.geometry}${config.hugePages ? ', huge pages' : ''})`, () => {
      let tablesSeen = 0;
      for (let i = 0; i < (config.geometry === 'x86' ? 6 : 40); i++) {
        const seq = generateSequence(7, i, { config, domain: 'legal' });
        for (const design of DESIGNS) {
          const vm = design.create(config);
          const inner = vm as unknown as Internals;
          for (const op of opsWithTeardown(seq).ops) {
            vm.apply(op);
            for (const sp of allTables(inner)) {
              tablesSeen++;
              for (let e = 0; e < sp.entries.length; e++) {
                const bit = (sp.nonzero[e >>> 5] >>> (e & 31)) & 1;
                if (bit !== (sp.entries[e] !== 0 ? 1 : 0)) throw new Error(`${sp} entry ${e}: mask ${bit}, entry ${sp.entries[e]}`);
              }
            }
          }
        }
      }
      expect(tablesSeen).toBeGreaterThan(50);
    });
  }
});

describe('removed tables (storeSpte without digest upkeep)', () => {
  it('a removed table linked again has the digest, mirror view and counts of one kept up incrementally', () => {
    // Two VMs with the same private mapping; in each, take the mirror L1 table, unlink it, store the
    // same entries, then link it into a fresh entry of its parent. In one VM the table is marked
    // removed (the shortcut), in the other not (the incremental path).
    const results = [true, false].map(removed => {
      const vm = after.create({ geometry: 'compact', hugePages: false, vcpus: 2 });
      vm.apply({ kind: 'finalize' });
      vm.apply(pf(0));
      vm.apply(pf(1));
      const inner = vm as unknown as Internals;
      const l1 = allTables(inner).find(sp => sp.mirror && sp.level === 1)!;
      const parent = l1.linkedTo!;
      const slot = l1.ptep!.index;
      inner.storeSpte(parent, slot, 0, 'test');
      expect(l1.linkedTo).toBeNull();
      l1.removed = removed;
      inner.storeSpte(l1, 0, FROZEN, 'test');
      inner.storeSpte(l1, 3, makeLeaf(0x4242, true), 'test');
      inner.storeSpte(l1, 1, 0, 'test');
      expect(l1.stale).toBe(removed);
      inner.storeSpte(parent, (slot + 1) % 8, makeNonLeaf(l1.spt), 'test');
      expect(l1.stale).toBe(false);
      const root = inner.roots.find(r => r.mirror)!;
      return { sub: l1.sub, mv: l1.subMirrorView, counts: [...l1.subCounts], rootSub: root.sub, rootCounts: [...root.subCounts], digests: vm.digests() };
    });
    expect(results[0]).toEqual(results[1]);
    expect(results[0].counts).toEqual([1, 1, 0, 0, 0]);
  });
});
