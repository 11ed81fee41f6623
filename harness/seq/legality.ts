// The LEGAL domain (DESIGN §3): call patterns the real kernel can issue. Ops outside it are still valid
// sequence content (the extended domain uses them on purpose), so this is a separate check from
// validation. Oracles use it to decide, e.g., whether a WARN in a run is a finding. The rules of each
// op kind are facets of its entry in op_kinds.ts; this file walks the sequence and applies them.

import type { Op, VmConfig } from '../../impls/api';
import { AFTER_RELEASE_HKID_KINDS, specOf, zapsAllPrivate } from './op_kinds';
import type { Sequence } from './sequence';
import { totalGfns } from './fields';

export interface LegalityError {
  /** index of the top-level op (a racing op is reported at its outer op) */
  index: number;
  reason: string;
}

/** Ops the kernel may still issue after tdx_mmu_release_hkid: the rest of VM teardown. */
const AFTER_RELEASE_HKID = new Set<Op['kind']>(AFTER_RELEASE_HKID_KINDS);
const AFTER_RELEASE_HKID_LIST = AFTER_RELEASE_HKID_KINDS.length > 1
  ? `${AFTER_RELEASE_HKID_KINDS.slice(0, -1).join(', ')} and ${AFTER_RELEASE_HKID_KINDS[AFTER_RELEASE_HKID_KINDS.length - 1]}`
  : AFTER_RELEASE_HKID_KINDS.join('');

/** Which ops of `seq` are outside the legal domain; empty when the whole sequence is legal. */
export function legalityErrors(seq: Sequence): LegalityError[] {
  const errors: LegalityError[] = [];
  let hkidReleasedAt = -1;
  let finalized = false;
  seq.ops.forEach((op, index) => {
    if (!finalized) {
      for (const [o, where] of [[op, ''], [op.race?.op, 'race.op: ']] as const) {
        const why = o && specOf(o).illegalBeforeFinalize(o);
        if (why) errors.push({ index, reason: `${where}${why}` });
      }
    }
    if (op.kind === 'finalize') finalized = true;
    if (hkidReleasedAt >= 0 && !AFTER_RELEASE_HKID.has(op.kind)) {
      errors.push({ index, reason: `${op.kind} after releaseHkid (ops[${hkidReleasedAt}]); only ${AFTER_RELEASE_HKID_LIST} may follow` });
    }
    if (op.kind === 'releaseHkid' && hkidReleasedAt < 0) hkidReleasedAt = index;
    const after = specOf(op).illegalAfter(seq.ops[index - 1], seq.config);
    if (after) errors.push({ index, reason: after });

    const own = specOf(op).illegal(op, seq.config);
    if (own) errors.push({ index, reason: own });

    const nested = op.race?.op;
    if (!nested) return;
    const inner = specOf(nested).illegal(nested, seq.config);
    if (inner) errors.push({ index, reason: `race.op: ${inner}` });
    for (const why of specOf(nested).illegalDuring(nested, op)) errors.push({ index, reason: `race.op: ${why}` });
  });
  return errors;
}

/**
 * Makes a generated op list respect the teardown order of the legal domain: every releaseHkid is
 * preceded by the guest_memfd-close zap of all private leaves.
 */
export function legalizeTeardown(ops: Op[], config: VmConfig): Op[] {
  const total = totalGfns(config);
  const out: Op[] = [];
  for (const op of ops) {
    if (op.kind === 'releaseHkid' && !zapsAllPrivate(out[out.length - 1], config)) {
      out.push({ kind: 'zap', start: 0, end: total, attr: 'private' });
    }
    out.push(op);
  }
  return out;
}
