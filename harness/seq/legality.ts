// The LEGAL domain (DESIGN §3): call patterns the real kernel can issue. Ops outside it are still valid
// sequence content (the extended domain uses them on purpose), so this is a separate check from
// validation. Oracles use it to decide, e.g., whether a WARN in a run is a finding.

import type { Op, VmConfig } from '../../impls/api';
import type { Sequence } from './sequence';

export interface LegalityError {
  /** index of the top-level op (a racing op is reported at its outer op) */
  index: number;
  reason: string;
}

/** Ops the kernel may still issue after tdx_mmu_release_hkid: the rest of VM teardown. */
const AFTER_RELEASE_HKID = new Set<Op['kind']>(['gracePeriod', 'rcuUnlock', 'destroy']);

/**
 * Outer ops during which a racing vCPU fault cannot run: a fault takes mmu_lock for read, and these
 * hold it for write (zap) or run after the vCPUs are gone (teardown).
 */
const NO_RACING_FAULT = new Set<Op['kind']>(['zap', 'releaseHkid', 'destroy']);

/** Why a single op (top-level or racing) is outside the legal domain, or null. */
function opReason(op: Op, config: VmConfig): string | null {
  switch (op.kind) {
    case 'fault':
      if (!op.private) return null;
      // TDX maps private memory RWX: KVM handles every private EPT violation as a write fault.
      if (!op.write) return 'private fault with write=false (private faults are always write faults)';
      if (!config.hugePages && op.maxLevel > 1) return `private fault with maxLevel ${op.maxLevel} (mirror leaves are 4K without hugePages)`;
      if (config.hugePages && op.maxLevel > 2) return `private fault with maxLevel ${op.maxLevel} (TDX huge pages are at most 2M)`;
      return null;
    case 'age':
      return op.mirror ? 'age with mirror=true (mirror roots are never aged)' : null;
    case 'atomicZap':
      return 'atomicZap (the kernel never zaps mirror SPTEs under the read lock)';
    case 'split':
      if (!op.private) return null;
      if (config.hugePages && !op.shared) return null;
      return config.hugePages
        ? 'split with private=true and shared=true (mirror splits run on their own)'
        : 'split with private=true (no mirror huge pages without hugePages)';
    default:
      return null;
  }
}

/** Which ops of `seq` are outside the legal domain; empty when the whole sequence is legal. */
export function legalityErrors(seq: Sequence): LegalityError[] {
  const errors: LegalityError[] = [];
  let hkidReleasedAt = -1;
  let finalized = false;
  seq.ops.forEach((op, index) => {
    // Before FINALIZE no vCPU runs: only KVM_TDX_INIT_MEM_REGION maps (private) memory.
    if (!finalized) {
      for (const [o, where] of [[op, ''], [op.race?.op, 'race.op: ']] as const) {
        if (o?.kind === 'fault' && !o.private) errors.push({ index, reason: `${where}shared fault before finalize: no vCPU runs before the TD is RUNNABLE` });
      }
    }
    if (op.kind === 'finalize') finalized = true;
    if (hkidReleasedAt >= 0 && !AFTER_RELEASE_HKID.has(op.kind)) {
      errors.push({ index, reason: `${op.kind} after releaseHkid (ops[${hkidReleasedAt}]); only gracePeriod, rcuUnlock and destroy may follow` });
    }
    if (op.kind === 'releaseHkid' && hkidReleasedAt < 0) hkidReleasedAt = index;
    if (op.kind === 'releaseHkid' && !zapsAllPrivate(seq.ops[index - 1], seq.config)) {
      errors.push({ index, reason: 'releaseHkid while private leaves may be mapped: the kernel closes guest_memfd (zapping every private leaf) before releasing the hkid' });
    }

    const own = opReason(op, seq.config);
    if (own) errors.push({ index, reason: own });

    const nested = op.race?.op;
    if (!nested) return;
    const inner = opReason(nested, seq.config);
    if (inner) errors.push({ index, reason: `race.op: ${inner}` });
    // An unmap needs mmu_lock for write: only the split's allocation window (lock dropped) allows it.
    if (nested.kind === 'zap' && op.kind !== 'split') errors.push({ index, reason: `race.op: an unmap cannot run during ${op.kind} (it needs mmu_lock for write)` });
    if (nested.kind === 'fault') {
      if (NO_RACING_FAULT.has(op.kind)) errors.push({ index, reason: `race.op: a vCPU fault cannot run during ${op.kind}` });
      // A vCPU is one thread: it cannot fault again while its own fault is in progress.
      if (op.kind === 'fault' && nested.vcpu === op.vcpu) errors.push({ index, reason: `race.op: racing fault on the same vcpu ${op.vcpu} as the outer fault` });
    }
  });
  return errors;
}

/** A zap of the whole gfn space that covers private memory (what closing guest_memfd does). */
function zapsAllPrivate(op: Op | undefined, config: VmConfig): boolean {
  const total = Math.pow(config.geometry === 'x86' ? 512 : 8, 4);
  return !!op && op.kind === 'zap' && op.attr !== 'shared' && op.start === 0 && op.end === total && !op.fail?.length;
}

/**
 * Makes a generated op list respect the teardown order of the legal domain: every releaseHkid is
 * preceded by the guest_memfd-close zap of all private leaves.
 */
export function legalizeTeardown(ops: Op[], config: VmConfig): Op[] {
  const total = Math.pow(config.geometry === 'x86' ? 512 : 8, 4);
  const out: Op[] = [];
  for (const op of ops) {
    if (op.kind === 'releaseHkid' && !zapsAllPrivate(out[out.length - 1], config)) {
      out.push({ kind: 'zap', start: 0, end: total, attr: 'private' });
    }
    out.push(op);
  }
  return out;
}
