// The in-process jsfuzz engine (DESIGN §3, `tdpfuzz run --engine jsfuzz`): jsfuzz's own mutator and
// corpus (jsfuzz 1.0.15 `Corpus`: go-fuzz style byte mutations and splicing) produce byte strings,
// the total decoder (decode.ts) turns each into a sequence, and an input is kept when the run grows
// the coverage number — exactly the jsfuzz CLI's loop, without its per-input IPC.
//
// Coverage signal:
//  - "istanbul" (what the jsfuzz CLI uses): non-zero istanbul counters of the compiled impls/ modules
//    (engines/istanbul.ts). Needs the require hook installed before impls/ loads, so `tdpfuzz run
//    --engine jsfuzz` runs its campaign in a worker thread that installs it (fuzz/workers.ts).
//  - "model": the models' own coverage classes (RunResult.coverage), used when impls/ is not
//    instrumented (e.g. the engine constructed in the main thread, or under vitest).
//  The default ("auto") picks istanbul when impls/ carries counters in this thread.
//
// Determinism: the mutator calls Math.random. While it runs, Math.random is a seedrandom stream of
// the engine's seed (the effect of `seedrandom(seed, {global: true})`, but one persistent stream,
// and restored afterwards so that nothing else sees or perturbs it). The campaign alternates next()
// and feedback() strictly, so one seed gives the same inputs, sequences and corpus every time.
//
// `require('jsfuzz')` would run jsfuzz's CLI; the deep import of build/src/corpus does not.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Corpus } from 'jsfuzz/build/src/corpus';
import seedrandom from 'seedrandom';
import { decodeBytes } from '../../seq/decode';
import { profileOf } from '../../seq/generate';
import type { RunResult } from '../../run/runner';
import type { Engine, EngineSequence } from './engine';
import type { EngineContext } from './engine';
import { istanbulActive, istanbulCoverageCount } from './istanbul';
import { readInputFile } from '../../store/input_file';
import { displayPath } from '../../store/fsutil';

export type JsfuzzCoverage = 'auto' | 'istanbul' | 'model';

export interface JsfuzzOptions {
  coverage?: JsfuzzCoverage;
  /** inputs tried first, in this order (then kept if they grow coverage, like the CLI's seed dir) */
  seeds?: readonly Uint8Array[];
}

/** Engines whose kept inputs workers share (fuzz/worker_run.ts duck-types this). */
export interface ByteSharingEngine {
  /** the bytes behind a sequence this engine produced (undefined for others) */
  bytesOf(item: EngineSequence): Uint8Array | undefined;
  /** add another worker's kept input to the corpus */
  addSharedInput(bytes: Uint8Array): void;
}

export interface JsfuzzEngine extends Engine, ByteSharingEngine {
  /** the coverage signal in use */
  readonly coverageSource: 'istanbul' | 'model';
  /** the current coverage number (istanbul counters or model classes) */
  coverageCount(): number;
}

/** The byte seeds kept in a directory (sorted by name, so the order is deterministic). */
function loadByteSeeds(dir: string): Buffer[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter(n => !n.startsWith('.')).sort()
    .map(n => path.join(dir, n)).filter(f => fs.statSync(f).isFile()).map(f => readInputFile(f, displayPath(f)));
}

export function jsfuzzEngine(ctx: EngineContext, opts: JsfuzzOptions = {}): JsfuzzEngine {
  const mode = opts.coverage ?? 'auto';
  const source: 'istanbul' | 'model' = mode === 'auto' ? (istanbulActive() ? 'istanbul' : 'model') : mode;
  if (source === 'istanbul' && !istanbulActive()) {
    throw new Error('jsfuzz engine: istanbul coverage requested, but impls/ is not instrumented in this thread');
  }
  const decodeOpts = { config: ctx.gen.config, domain: ctx.gen.domain, profile: profileOf(ctx.gen) };
  // a resumed lane (ctx.resumeAt) starts from the kept inputs in corpusOut/bytes, loaded below, on a stream of its own
  const rng = seedrandom(`${ctx.seed}/jsfuzz${ctx.resumeAt !== undefined ? `/resume${ctx.resumeAt}` : ''}`);
  const corpus = new Corpus([], false);
  // Kept inputs are written to <corpusOut>/bytes/<sha256> (the jsfuzz CLI's naming); earlier ones
  // found there are tried first, like the CLI's corpus directory.
  const bytesDir = ctx.corpusOut ? path.join(ctx.corpusOut, 'bytes') : null;
  const seeds: Uint8Array[] = [...(opts.seeds ?? []), ...(bytesDir ? loadByteSeeds(bytesDir) : [])];
  const modelSeen = new Set<string>();
  let best = -1;
  const bytes = new WeakMap<EngineSequence, Uint8Array>();

  const withSeededRandom = <T>(f: () => T): T => {
    const saved = Math.random;
    Math.random = rng;
    try {
      return f();
    } finally {
      Math.random = saved;
    }
  };

  const count = (): number => (source === 'istanbul' ? istanbulCoverageCount() : modelSeen.size);

  /** Fold a run into the coverage number; true when it grew. */
  const grew = (result: RunResult): boolean => {
    if (source === 'model') for (const c of result.coverage) modelSeen.add(c);
    const n = count();
    if (n > best) { best = n; return true; }
    return false;
  };

  const keep = (buf: Uint8Array, persist: boolean): void => {
    const b = Buffer.from(buf);
    corpus.putBuffer(b);
    if (persist && bytesDir) {
      fs.mkdirSync(bytesDir, { recursive: true });
      const file = path.join(bytesDir, createHash('sha256').update(b).digest('hex'));
      if (!fs.existsSync(file)) fs.writeFileSync(file, b);
    }
  };

  return {
    name: 'jsfuzz',
    coverageSource: source,
    next(k: number): EngineSequence {
      const buf = k < seeds.length ? seeds[k] : withSeededRandom(() => corpus.generateInput());
      const item: EngineSequence = { seq: decodeBytes(buf, decodeOpts), source: { seed: ctx.seed, index: k, engine: 'jsfuzz' } };
      bytes.set(item, buf);
      return item;
    },
    feedback(item: EngineSequence, result: RunResult): void {
      const buf = bytes.get(item);
      if (grew(result) && buf) keep(buf, true);
    },
    observe(_item: EngineSequence, result: RunResult): void {
      // A corpus file or another worker's input: its coverage is known, nothing to keep here.
      grew(result);
    },
    corpusSize: () => corpus.getLength(),
    coverageCount: count,
    bytesOf: item => bytes.get(item),
    addSharedInput(buf: Uint8Array): void {
      keep(buf, false);
    },
  };
}
