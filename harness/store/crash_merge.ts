// Merging crash files into a crash directory (`tdpfuzz merge`, DESIGN §6), idempotently and all or
// nothing: planCrashMerge reads and validates everything and computes every target file's new
// content without writing; writeCrashMerge then writes them (atomically per file).
//
// Idempotence: each target crash file records in its `mergedFrom` field, per source crash file, the
// hits that source had (and its firstSeen) when it was merged; merging the source again adds only
// the hits it gained since — none when it is unchanged, so the same merge run twice leaves the
// directory byte-identical. The record lives in the crash file itself rather than in a sidecar file:
// a crash file and its record then change in one atomic rename, so no interruption (a full disk, a
// kill between two writes) can leave hits and record disagreeing, and a re-run of an interrupted
// merge converges to the right counts. (A sidecar could only be written before or after the crash
// files — either order double-counts or loses hits when the merge dies in between.)
// A source is named by its path relative to the target's directory, so a tree of shard outputs and
// merged directory moved together (CI artifacts) still recognizes its sources. A source whose
// firstSeen differs from the recorded one is another history at the same path (a shard directory
// cleared and run again): all its hits are added.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CRASH_STATUSES, crashFileName, readCrashFile, serializeCrash, validateCrash, type CrashFile, type CrashStatus } from './crash_store';
import { displayPath, withFileLock, WriteError, writeFileAtomic } from './fsutil';
import { InputError } from '../seq/sequence';

export interface CrashInput { file: string; crash: CrashFile }

interface TargetPlan {
  file: string;
  shown: string;
  signature: string;
  /** the inputs of this signature (the target itself excluded), in merge order */
  sources: CrashInput[];
  /** the content to write; null: the file stays as it is */
  next: CrashFile | null;
}

export interface CrashMergePlan {
  dest: string;
  /** rebuild: the directory is made from the inputs alone; files in it no input accounts for are removed */
  rebuild: boolean;
  targets: TargetPlan[];
  /** rebuild: crash files of the directory that no input accounts for (removed after the writes) */
  stale: string[];
  /** the merged file of each signature (its path for the report, and its triage status) */
  bySignature: Map<string, { file: string; status: CrashStatus }>;
}

/** Combine two crash files of the same signature, as the crash store would (`from` brings `hits`). */
function combineCrash(into: CrashFile, from: CrashFile, hits: number): CrashFile {
  const smaller = from.ops.length < into.ops.length;
  const base: CrashFile = smaller ? { ...from } : { ...into };
  const triaged = into.status !== 'open' ? into.status : from.status;
  return {
    ...base,
    status: CRASH_STATUSES.includes(triaged) ? triaged : 'open',
    hits: into.hits + hits,
    firstSeen: [into.firstSeen, from.firstSeen].sort()[0],
    lastSeen: [into.lastSeen, from.lastSeen].sort()[1],
  };
}

const sourceKey = (dest: string, file: string): string => path.relative(dest, file).split(path.sep).join('/');

/**
 * The target's content after merging `sources` into `old` (null: no file yet), guided by old's
 * mergedFrom record. Pure: planning and writing compute it alike.
 */
function fold(old: CrashFile | null, sources: readonly CrashInput[], dest: string, shown: string): CrashFile | null {
  let cur = old;
  for (const { file, crash } of sources) {
    const key = sourceKey(dest, file);
    const seen = cur?.mergedFrom?.[key];
    const sameHistory = seen !== undefined && seen.firstSeen === crash.firstSeen;
    const gained = sameHistory ? Math.max(0, crash.hits - seen.hits) : crash.hits;
    const record = { hits: sameHistory ? Math.max(seen.hits, crash.hits) : crash.hits, firstSeen: crash.firstSeen };
    // The source's own mergedFrom describes its sources, not this file's.
    const next: CrashFile = cur ? combineCrash(cur, crash, gained) : { ...crash, mergedFrom: undefined };
    const merged = { ...cur?.mergedFrom, [key]: record };
    next.mergedFrom = Object.fromEntries(Object.keys(merged).sort().map(k => [k, merged[k]]));
    cur = next;
  }
  if (!cur) return null;
  cur.replay = `npx tdpfuzz replay ${shown}`;
  return validateCrash(JSON.parse(serializeCrash(cur)), shown);
}

const textOf = (file: string): string | null => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null);

/** The existing target a merge adds to (null: none, or rebuilding), validated and of the right signature. */
function existing(t: Pick<TargetPlan, 'file' | 'shown' | 'signature'>, rebuild: boolean): CrashFile | null {
  if (rebuild || !fs.existsSync(t.file)) return null;
  const old = readCrashFile(t.file, t.shown);
  if (old.signature !== t.signature) throw new InputError(`${t.shown}: holds signature ${JSON.stringify(old.signature)}, not ${JSON.stringify(t.signature)} (file-name hash collision?); nothing was merged`);
  return old;
}

/**
 * Plan merging `inputs` (already read and validated, in order) into `dest`. Reads every target it
 * would change (so a corrupt one refuses the merge before anything is written); writes nothing.
 * `rebuild`: make dest from the inputs alone (OUT/crashes), else add to what it holds (--crashes DIR).
 */
export function planCrashMerge(inputs: readonly CrashInput[], dest: string, cwd: string, opts: { rebuild: boolean }): CrashMergePlan {
  const bySig = new Map<string, TargetPlan>();
  const bySignature = new Map<string, { file: string; status: CrashStatus }>();
  for (const input of inputs) {
    const file = path.join(dest, crashFileName(input.crash.signature));
    let t = bySig.get(input.crash.signature);
    if (!t) bySig.set(input.crash.signature, t = { file, shown: displayPath(file, cwd), signature: input.crash.signature, sources: [], next: null });
    // A shard that recorded straight into dest: its file already is the target.
    if (path.resolve(input.file) === path.resolve(file)) bySignature.set(t.signature, { file: t.shown, status: input.crash.status });
    else t.sources.push(input);
  }
  const targets = [...bySig.values()];
  for (const t of targets) {
    if (!t.sources.length) continue;
    const next = fold(existing(t, opts.rebuild), t.sources, dest, t.shown)!;
    if (serializeCrash(next, t.file) !== textOf(t.file)) t.next = next;
    bySignature.set(t.signature, { file: t.shown, status: next.status });
  }
  const wanted = new Set(targets.map(t => path.basename(t.file)));
  const stale = opts.rebuild && fs.existsSync(dest)
    ? fs.readdirSync(dest).filter(n => n.endsWith('.json') && !n.startsWith('.') && !wanted.has(n)).sort().map(n => path.join(dest, n))
    : [];
  return { dest, rebuild: opts.rebuild, targets, stale, bySignature };
}

/**
 * Write a plan: each changed target under the crash store's lock file, recomputed from the file as it
 * is then (a campaign recording into dest meanwhile loses no hits), then the stale files removed.
 * A write that fails midway says so in one line: the files written so far carry their mergedFrom
 * record, so running the same merge again completes it without adding anything twice.
 */
export function writeCrashMerge(plan: CrashMergePlan): void {
  const todo = plan.targets.filter(t => t.next);
  if (todo.length || plan.stale.length) fs.mkdirSync(plan.dest, { recursive: true });
  let done = 0;
  try {
    for (const t of todo) {
      withFileLock(`${t.file}.lock`, () => {
        const next = plan.rebuild ? t.next! : fold(existing(t, false), t.sources, plan.dest, t.shown)!;
        const text = serializeCrash(next, t.file);
        if (text !== textOf(t.file)) writeFileAtomic(t.file, text);
      });
      done++;
    }
    for (const f of plan.stale) fs.rmSync(f, { force: true });
  } catch (e) {
    if (!(e instanceof WriteError) || done === 0) throw e;
    throw new WriteError(`${e.message}; the merge stopped after updating ${done} of ${todo.length} crash files: run it again to complete it (nothing is added twice)`);
  }
}
