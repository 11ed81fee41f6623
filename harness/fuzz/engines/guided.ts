// The guided engine (DESIGN §3 generators, `tdpfuzz run --engine guided`): corpus-based,
// structure-aware mutation of op sequences, keeping a sequence when its run reaches a model coverage
// class (RunResult.coverage: op kind × old→new SPTE state × level × lock mode, SEAMCALL × result,
// injected fault, race point × racing op, retry paths) that no earlier run reached.
//
// This file composes the parts and schedules the sequence kinds; each part has its own file:
//  - seq/mutate.ts: the mutation operators (havoc, race sweep) and seq/repair.ts: every candidate
//    is valid (validateSequence) and, in the legal domain, legal (legalityErrors empty).
//  - guided_corpus.ts: the kept corpus and parent selection (rare classes, favoured entries).
//  - guided_sweep.ts: the race-sweep stage's queue and budget.
//  - guided_persist.ts: kept sequences written atomically to ctx.corpusOut as `<sequenceHash>.json`.
//
// Sequence k is, in this order of precedence: initial[k] (the `initial` sequences; the campaign's
// corpus files arrive through observe()); after the 32 random seeds, a queued race-sweep candidate
// half the time; one of the 32 random seeds of the engine's own stream (or, with an empty corpus or
// 8% of the time, a fresh random sequence); else a havoc mutant of a chosen parent (a fresh random
// sequence if no mutant could be built).
//
// Deterministic from the seed: all choices come from seedrandom(`${seed}/guided`) — one Chooser,
// shared by every part in a fixed order — and the campaign alternates next(k) and feedback()
// strictly, so the same seed (and the same designs) gives the same sequences and the same kept
// corpus. A guided sequence is NOT reproducible from (seed, index) alone — it depends on every
// earlier run — so its CrashSource `{seed, index: k, engine: 'guided'}` is provenance only; the
// crash file stores the full ops.
import seedrandom from 'seedrandom';
import type { VmConfig } from '../../../impls/api';
import { DEFAULT_MAX_OPS, generateSequence, rngChooser } from '../../seq/generate';
import { legalityErrors } from '../../seq/legality';
import { havoc, mutateContext } from '../../seq/mutate';
import type { RunResult } from '../../run/runner';
import { makeSequence, type Sequence } from '../../seq/sequence';
import type { Engine, EngineContext, EngineSequence } from './engine';
import { GuidedCorpus } from './guided_corpus';
import { KeptCorpusWriter, readKeptCorpus } from './guided_persist';
import { RaceSweepStage } from './guided_sweep';

export interface GuidedOptions {
  /** sequences to start from, before the engine's own random seeds (those of another configuration, or illegal in the legal domain, are ignored) */
  initial?: readonly Sequence[];
  /** random sequences added to the seed corpus (default 32) */
  randomSeeds?: number;
  /** probability that a sequence is a fresh random one instead of a mutant (default 0.08) */
  freshRate?: number;
  /** longest candidate (default max(2 × maxOps, 16)) */
  maxLength?: number;
  /** how many kept entries get a race sweep (default 400; 0 disables the stage) */
  raceSweeps?: number;
}

export interface GuidedEngine extends Engine {
  /** the kept sequences, in the order they were kept */
  kept(): Sequence[];
  /** distinct coverage classes reached so far */
  seenClasses(): number;
}

export function guidedEngine(ctx: EngineContext, opts: GuidedOptions = {}): GuidedEngine {
  const { seed, shard, gen } = ctx;
  const config: VmConfig = gen.config;
  const legal = gen.domain === 'legal';
  const stream = (shard ? `${seed}/guided/shard${shard.index}of${shard.count}` : `${seed}/guided`)
    + (ctx.resumeAt !== undefined ? `/resume${ctx.resumeAt}` : '');
  const ch = rngChooser(seedrandom(stream));
  const maxOps = gen.maxOps ?? DEFAULT_MAX_OPS;
  const mc = mutateContext(ch, gen, opts.maxLength ?? Math.max(2 * maxOps, 16));
  const freshRate = opts.freshRate ?? 0.08;
  const randomSeeds = opts.randomSeeds ?? 32;
  // Only sequences of this engine's configuration (and, in the legal domain, legal ones) can be
  // mutated here: a mutant of another configuration's sequence would not validate.
  const sameConfig = (c: VmConfig): boolean => c.geometry === config.geometry && c.hugePages === config.hugePages
    && c.vcpus === config.vcpus && !!c.proveMmu === !!config.proveMmu && !!c.dpamt === !!config.dpamt;
  const usable = (s: Sequence): boolean => sameConfig(s.config) && (!legal || legalityErrors(s).length === 0);
  // A resumed lane starts from what the interrupted run kept (guided_persist.ts wrote it to corpusOut).
  const resumedKept = ctx.resumeAt !== undefined && ctx.corpusOut ? readKeptCorpus(ctx.corpusOut) : [];
  const initial = [...(opts.initial ?? []), ...resumedKept].filter(usable);

  const corpus = new GuidedCorpus();
  const sweep = new RaceSweepStage(mc, opts.raceSweeps ?? 400);
  const writer = new KeptCorpusWriter(ctx.corpusOut);
  // fresh random sequences are numbered on the engine's stream name, apart from the random engine's `${seed}/k`
  let freshIndex = 0;

  // The generator's ops are canonical by construction (test/generate.test.ts checks makeSequence of
  // every generated sequence is byte-identical): only the configuration is normalized, once.
  const freshConfig = makeSequence(config, []).config;
  const fresh = (k: number): EngineSequence['seq'] => {
    const s = generateSequence(stream, freshIndex++, gen);
    return { format: s.format, config: freshConfig, ops: s.ops, meta: { engine: 'guided', seed, index: k, from: 'random' } };
  };

  /** Keep seq when its run reached a class no earlier run reached; then persist it and plan its sweep. */
  const learn = (seq: Sequence, result: RunResult, meta: Record<string, unknown>): void => {
    const kept = corpus.learn(seq, result.coverage);
    if (!kept) return;
    writer.write(kept.entry.hash, kept.entry.seq, { ...meta, newClasses: kept.entry.added });
    sweep.plan(kept.entry, kept.newClasses);
  };

  return {
    name: 'guided',
    next(k: number): EngineSequence {
      const source = { seed, index: k, engine: 'guided' };
      // a resumed lane's indices continue from resumeAt; its own schedule (initial, then seeds) starts over
      const j = k - (ctx.resumeAt ?? 0);
      if (j < initial.length) return { seq: makeSequence(initial[j].config, initial[j].ops, { engine: 'guided', from: 'initial' }), source };
      const seeding = j < initial.length + randomSeeds;
      const plan = seeding ? undefined : sweep.take(ch);
      if (plan) return { seq: { ...plan.seq, meta: { engine: 'guided', seed, index: k, parent: plan.parent, mutations: plan.mutations } }, source };
      if (seeding || corpus.size === 0 || ch.chance(freshRate)) return { seq: fresh(k), source };
      const parent = corpus.chooseParent(ch);
      const m = havoc(mc, parent.seq.ops, corpus.entries);
      if (!m) return { seq: fresh(k), source };
      return { seq: { ...m.seq, meta: { engine: 'guided', seed, index: k, parent: parent.hash, mutations: m.mutations } }, source };
    },
    feedback(item: EngineSequence, result: RunResult): void {
      learn(item.seq, result, { ...(item.seq.meta ?? {}) });
    },
    observe(item: EngineSequence, result: RunResult): void {
      // A corpus file the campaign ran: it joins the seed corpus if it reached something new.
      if (!usable(item.seq)) return;
      learn(item.seq, result, { engine: 'guided', from: 'file' in item.source ? item.source.file : 'corpus' });
    },
    corpusSize: () => corpus.size,
    kept: () => corpus.entries.map(e => e.seq),
    seenClasses: () => corpus.seenClasses,
  };
}
