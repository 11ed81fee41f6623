// OUT/checkpoint.json (tdpfuzz-checkpoint/1): what `run --resume` continues from when the run was
// killed (SIGKILL, OOM, a lost node) instead of stopped. A campaign writes it atomically, together
// with stats.json, at every stats period, right after each new finding and at the end. It holds
// one consistent cut of the run: the report the run would have written had it stopped there, the
// stats file of that report, and per lane where to continue (generated index and corpus position,
// with the names of the lane's corpus files so that a resumed run finds the rest even if the corpus
// directory gained files since).
//
// Why a separate file rather than more fields in stats.json: the report is far larger than the
// progress numbers readers of stats.json poll for, and the cut must be written as one rename, so
// the checkpoint carries its own copy of the stats it is consistent with. It is written before
// stats.json: a kill between the two leaves a checkpoint newer than stats.json, and resume trusts
// the checkpoint.
//
// What the cut covers: every sequence counted in it ran to the end and its findings, hits and
// coverage are in the report; the crash store (written as findings are found) is ahead of it by at
// most the sequences run since — a resumed run runs those again (same seed and index, same
// sequence), so its report counts them once. Only the crash files' cumulative hit counts can count a
// re-run sequence twice, for findings recorded after the last cut.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportData } from './data';
import type { Lane, StatsFile } from './stats';
import { writeFileAtomic } from '../store/fsutil';
import { readInputFile } from '../store/input_file';
import { InputError, parseJsonInput } from '../seq/sequence';

export const CHECKPOINT_FORMAT = 'tdpfuzz-checkpoint/1';
const CHECKPOINT_FILE = 'checkpoint.json';

/** Where one lane continues: its corpus files (names in the corpus directory, in run order) and how many of them ran. */
export interface LaneCorpus { files: string[]; done: number }

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  /** the corpus directory (absolute) the lanes' files are in; null when the run had no corpus */
  corpusDir: string | null;
  /** per lane, parallel to stats.lanes */
  corpus: LaneCorpus[];
  stats: StatsFile & { lanes: Lane[] };
  report: ReportData;
}

export function writeCheckpoint(outDir: string, cp: Checkpoint): void {
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomic(path.join(outDir, CHECKPOINT_FILE), `${JSON.stringify(cp)}\n`);
}

/** OUT/checkpoint.json, or null when OUT has none (a run of an older version). */
export function readCheckpoint(outDir: string, shown: string): Checkpoint | null {
  const file = path.join(outDir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) return null;
  const where = `--resume: ${shown}/${CHECKPOINT_FILE}`;
  const cp = parseJsonInput(readInputFile(file, where).toString('utf8'), where) as Checkpoint;
  const bad = (what: string): never => { throw new InputError(`${where}: ${what}`); };
  if (cp?.format !== CHECKPOINT_FORMAT) bad(`format ${JSON.stringify(cp?.format)} is not supported (expected "${CHECKPOINT_FORMAT}")`);
  if (cp.corpusDir !== null && typeof cp.corpusDir !== 'string') bad('field "corpusDir": expected a directory or null');
  if (!cp.stats || typeof cp.stats !== 'object' || !Array.isArray(cp.stats.lanes)) bad('field "stats.lanes": expected an array of lanes');
  if (!cp.report || typeof cp.report !== 'object' || !cp.report.scope) bad('field "report": expected the report of the checkpoint');
  if (!Array.isArray(cp.corpus) || cp.corpus.length !== cp.stats.lanes.length) bad('field "corpus": expected one entry per lane');
  cp.corpus.forEach((c, w) => {
    if (!Array.isArray(c?.files) || !c.files.every(f => typeof f === 'string' && f !== '' && !f.includes('/'))) bad(`field "corpus[${w}].files": expected file names`);
    if (!Number.isSafeInteger(c.done) || c.done < 0 || c.done > c.files.length) bad(`field "corpus[${w}].done": expected an integer from 0 to ${c.files.length}`);
  });
  return cp;
}
