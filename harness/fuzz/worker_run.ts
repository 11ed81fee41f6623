// The worker side of `tdpfuzz run --workers N` (and of `--engine jsfuzz`, whose istanbul coverage
// needs a fresh module registry): one campaign slice in a worker thread. fuzz/worker_main.ts
// loads this module after (optionally) installing the istanbul hook; fuzz/workers.ts is the main
// side. The slice writes nothing but crash files (the crash store's lock files make that safe across
// threads and processes); status, new coverage classes, findings and the final report go to the
// main thread as messages, and kept corpus entries are shared with the other workers through it.
import { generatorOptions, type RunParams } from '../run/campaign_params';
import * as path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { campaignOptionsOf, runCampaign, type CampaignEvent, type CampaignStatus } from './campaign';
import type { CrashSource } from '../store/crash_store';
import { loadDesigns } from '../run/designs';
import type { Engine, EngineSequence } from './engines/engine';
import { ENGINES } from './engines/index';
import type { ByteSharingEngine } from './engines/jsfuzz';
import { istanbulActive, istanbulCoverageCount } from './engines/istanbul';
import type { Lane } from '../report/stats';
import type { LaneCorpus } from '../report/checkpoint';
import type { ReportData } from '../report/data';
import type { RunResult } from '../run/runner';
import { sequenceHash, type Sequence } from '../seq/sequence';
import { CorpusSync } from './corpus_sync';

/** Everything a worker needs (structured-cloneable). */
export interface WorkerSpec {
  /** this worker's number and the number of workers */
  index: number;
  count: number;
  /** this worker's campaign: its lane's seed, shard and engine, its share of the run budget, no output directory */
  params: RunParams;
  /** Date.now() when the run started on the main thread (the time budget counts from there) */
  startedAtMs: number;
  /** the engine's first index (run --resume: where the previous run stopped) */
  startIndex: number;
  /** run --resume: the engine continues a lane (EngineContext.resumeAt = startIndex) */
  resumed?: boolean;
  /** run --resume: the lane's corpus files (names in dir) and how many of them already ran */
  corpusResume?: { dir: string; files: string[]; done: number };
  cwd: string;
  /** install the istanbul hook on impls/ before loading anything (worker_main.ts reads it) */
  istanbul: boolean;
  statusIntervalMs: number;
}

/** A corpus entry one worker kept, offered to the others. */
export interface SharedInput { seq: Sequence; source: CrashSource; bytes?: Uint8Array }

export type ToMain =
  | { type: 'status'; worker: number; status: CampaignStatus; generated: number; newCoverage: string[] }
  | { type: 'event'; worker: number; event: CampaignEvent }
  | { type: 'share'; worker: number; input: SharedInput }
  | { type: 'checkpoint'; worker: number; report: ReportData; lane: Lane; corpus: LaneCorpus; corpusDir: string | null; done: boolean }
  | { type: 'done'; worker: number; report: ReportData; lane: Lane; engineCoverage: { source: string; count: number } | null; newCoverage: string[] }
  | { type: 'error'; worker: number; message: string; stack?: string; input: boolean };

export type ToWorker = { type: 'stop' } | { type: 'share'; input: SharedInput };

function isByteSharing(e: Engine): e is Engine & ByteSharingEngine {
  return typeof (e as Partial<ByteSharingEngine>).bytesOf === 'function' && typeof (e as Partial<ByteSharingEngine>).addSharedInput === 'function';
}

export async function runWorker(spec: WorkerSpec, port: MessagePort): Promise<void> {
  const post = (m: ToMain): void => port.postMessage(m);
  // A time budget counts from when the run started on the main thread, not from when this worker got
  // going: loading (and, for jsfuzz, instrumenting impls/ with istanbul) takes seconds of it.
  const p = spec.params.timeSec === null ? spec.params
    : { ...spec.params, timeSec: Math.max(0.001, spec.params.timeSec - (Date.now() - spec.startedAtMs) / 1000) };
  const designs = loadDesigns(p.designs.join(','), spec.cwd);
  const factory = ENGINES.get(p.engine);
  if (!factory) throw new Error(`--engine: unknown engine ${JSON.stringify(p.engine)} (known: ${[...ENGINES.keys()].join(', ')})`);
  const corpusOut = p.corpusOut ? path.resolve(spec.cwd, p.corpusOut) : null;
  const inner = factory({ seed: p.seed, gen: generatorOptions(p), shard: p.shard, designs, equiv: p.equiv, domain: p.domain, corpusOut,
    ...(spec.resumed ? { resumeAt: spec.startIndex } : {}) });

  const ctl = new AbortController();
  const incoming: SharedInput[] = [];
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') ctl.abort();
    else if (m.type === 'share') { incoming.push(m.input); sync?.known.add(sequenceHash(m.input.seq)); }
  });

  // Coverage classes new to this worker since the last message (the main thread shows the union).
  const trackCoverage = spec.count > 1;
  const seen = new Set<string>();
  let fresh: string[] = [];
  const noteCoverage = (r: RunResult): void => {
    if (!trackCoverage) return;
    for (const c of r.coverage) if (!seen.has(c)) { seen.add(c); fresh.push(c); }
  };
  const takeCoverage = (): string[] => { const f = fresh; fresh = []; return f; };

  // The engine the campaign sees: the inner engine from startIndex on, with other workers' kept
  // entries interleaved (run here like any input, then offered to the engine as observed).
  let produced = 0;
  const foreign = new WeakMap<EngineSequence, SharedInput>();
  // --sync DIR: this lane's folder there is <name>, or <name>-w<i> for one of several workers
  const sync = p.sync && inner.corpusSize() !== null
    ? new CorpusSync(path.resolve(spec.cwd, p.sync.dir), spec.count > 1 ? `${p.sync.name}-w${spec.index}` : p.sync.name, p.sync.everySec * 1000)
    : null;
  const engine: Engine = {
    name: inner.name,
    next(): EngineSequence {
      if (sync) for (const x of sync.poll()) incoming.push(x);
      const s = incoming.shift();
      if (s) {
        const item: EngineSequence = { seq: s.seq, source: s.source };
        foreign.set(item, s);
        return item;
      }
      return inner.next(spec.startIndex + produced++);
    },
    feedback(item: EngineSequence, result: RunResult): void {
      noteCoverage(result);
      const s = foreign.get(item);
      if (s) {
        inner.observe?.(item, result);
        if (s.bytes && isByteSharing(inner)) inner.addSharedInput(s.bytes);
        return;
      }
      const before = inner.corpusSize();
      inner.feedback(item, result);
      if ((inner.corpusSize() ?? 0) > (before ?? 0)) sync?.publish(item.seq);
      if (spec.count > 1 && (inner.corpusSize() ?? 0) > (before ?? 0)) {
        const bytes = isByteSharing(inner) ? inner.bytesOf(item) : undefined;
        post({ type: 'share', worker: spec.index, input: { seq: item.seq, source: item.source, ...(bytes ? { bytes } : {}) } });
      }
    },
    observe(item: EngineSequence, result: RunResult): void {
      noteCoverage(result);
      inner.observe?.(item, result);
    },
    corpusSize: () => inner.corpusSize(),
  };

  // The lane's corpus position counts the files an interrupted run already ran (run --resume).
  const resumed = spec.corpusResume;
  const corpusBase = resumed?.done ?? 0;
  let corpusRun = 0;
  const lane = (): Lane => ({ seed: p.seed, shard: p.shard, generated: spec.startIndex + produced, engine: p.engine, corpusDone: corpusBase + corpusRun });
  const result = await runCampaign({
    ...campaignOptionsOf(p, designs, spec.cwd),
    ...(resumed ? { corpusResume: { dir: resumed.dir, files: resumed.files.slice(resumed.done) } } : {}),
    onCheckpoint: (c) => {
      corpusRun = c.corpusDone;
      post({
        type: 'checkpoint', worker: spec.index, report: c.report, lane: lane(), done: c.done,
        corpus: { files: resumed ? resumed.files : c.corpusFiles, done: corpusBase + c.corpusDone }, corpusDir: resumed?.dir ?? c.corpusDir,
      });
    },
    outDir: null, engine, signal: ctl.signal,
    statusIntervalMs: spec.statusIntervalMs,
    onStatus: s => post({ type: 'status', worker: spec.index, status: s, generated: spec.startIndex + produced, newCoverage: takeCoverage() }),
    onEvent: e => post({ type: 'event', worker: spec.index, event: e }),
  });
  const useIstanbul = istanbulActive();
  post({
    type: 'done', worker: spec.index, report: result.report, newCoverage: takeCoverage(),
    lane: lane(),
    engineCoverage: useIstanbul ? { source: 'istanbul', count: istanbulCoverageCount() } : null,
  });
}
