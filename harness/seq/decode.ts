// Total decoder from bytes to a valid sequence, for byte-level engines (jsfuzz CLI and the embedded
// jsfuzz mutator loop). Every byte string, the empty one included, decodes to a sequence that passes
// validateSequence; in the legal domain it also passes legalityErrors. Bytes are consumed as choices
// of the shared op builder (opgen.ts): the first byte of an op picks its kind, the following ones its
// arguments, then whether it carries fail entries and a race. Reading past the end yields zeros, so a
// truncated op still decodes (to its first choices); decoding stops when the bytes run out, after 64
// ops, or after destroy.

import { legalizeTeardown } from './legality';
import type { Op, VmConfig } from '../../impls/api';
import { type Chooser, type OpPolicy, initialState, randomOp } from './opgen';
import type { Domain } from './domain';
import type { GenProfile } from './profile';
import { SEQUENCE_FORMAT, type Sequence } from './sequence';

export const MAX_DECODED_OPS = 64;

/** Rates used when a byte decides whether an op carries a fail entry or a race (one byte each). */
const DECODE_FAULT_RATE = 0.15;
const DECODE_RACE_RATE = 0.1;

/** Choices read from a byte buffer; past its end every byte reads as 0. */
export class ByteChooser implements Chooser {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get exhausted(): boolean {
    return this.pos >= this.buf.length;
  }

  private byte(): number {
    return this.pos < this.buf.length ? this.buf[this.pos++] : (this.pos++, 0);
  }

  int(lo: number, hi: number): number {
    if (hi <= lo) return lo;
    const span = hi - lo + 1;
    // As many bytes as the span needs (one for every range the builder uses today).
    let v = 0;
    for (let room = span; room > 1; room = Math.ceil(room / 256)) v = v * 256 + this.byte();
    return lo + (v % span);
  }

  chance(p: number): boolean {
    return this.byte() < Math.round(p * 256);
  }
}

export interface DecodeOptions {
  config: VmConfig;
  domain: Domain;
  /**
   * The op builders' draws (profile.ts). Default uniform whatever the geometry: a byte string means
   * the same sequence to the jsfuzz CLI target, `tdpfuzz import` and older corpora. The embedded
   * jsfuzz engine passes its campaign's profile (its kept bytes are decoded only by that campaign).
   */
  profile?: GenProfile;
}

export function decodeBytes(buf: Uint8Array, opts: DecodeOptions): Sequence {
  const ch = new ByteChooser(buf);
  const state = initialState();
  const policy: OpPolicy = { config: opts.config, domain: opts.domain, faultRate: DECODE_FAULT_RATE, raceRate: DECODE_RACE_RATE, profile: opts.profile ?? 'uniform' };
  const allow = { finalize: true, releaseHkid: true, destroy: true };
  const ops: Op[] = [];
  // In the legal domain one slot stays free for the guest_memfd-close zap legalizeTeardown inserts.
  const cap = opts.domain === 'legal' ? MAX_DECODED_OPS - 1 : MAX_DECODED_OPS;
  while (!ch.exhausted && ops.length < cap && !state.destroyed) {
    ops.push(randomOp(ch, state, policy, allow));
  }
  const legal = opts.domain === 'legal' ? legalizeTeardown(ops, opts.config) : ops;
  return { format: SEQUENCE_FORMAT, config: { ...opts.config }, ops: legal };
}
