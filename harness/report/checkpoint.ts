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
import { count, lines, list, nullable, readTable, str, type FieldTable } from '../seq/field_table';
import { Fields } from '../seq/strict_json';
import { checkFormat, validateReport } from './report_file';
import { validateStats } from './stats_file';

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

/** A lane's corpus files: plain names in the corpus directory, and how many of them ran. */
const LANE_CORPUS: FieldTable<LaneCorpus> = {
  files: (f, k) => {
    const names = lines(f, k);
    names.forEach((n, i) => { if (n === '' || n.includes('/') || n === '.' || n === '..') f.fail(`${k}[${i}]`, `expected a file name, got ${JSON.stringify(n)}`); });
    return names;
  },
  done: count,
};

/** OUT/checkpoint.json, strictly read (its stats and report with their own validators), or null when OUT has none (a run of an older version). */
export function readCheckpoint(outDir: string, shown: string): Checkpoint | null {
  const file = path.join(outDir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) return null;
  const where = `--resume: ${shown}/${CHECKPOINT_FILE}`;
  const obj = checkFormat(parseJsonInput(readInputFile(file, where).toString('utf8'), where), where, CHECKPOINT_FORMAT);
  const cp = readTable<Checkpoint>(new Fields(where, '', obj), {
    format: () => CHECKPOINT_FORMAT,
    corpusDir: nullable(str),
    corpus: list(LANE_CORPUS, 'a lane\'s corpus position'),
    stats: (f, k) => {
      const stats = validateStats(f.raw(k), `${where}: stats`);
      if (!stats.lanes) f.fail(`${k}.lanes`, 'missing (required)');
      return stats as Checkpoint['stats'];
    },
    report: (f, k) => validateReport(f.raw(k), `${where}: report`),
  }, 'a checkpoint');
  if (cp.corpus.length !== cp.stats.lanes.length) throw new InputError(`${where}: corpus: ${cp.corpus.length} entries for ${cp.stats.lanes.length} lanes`);
  cp.corpus.forEach((c, w) => {
    if (c.done > c.files.length) throw new InputError(`${where}: corpus[${w}].done: ${c.done} is out of range (the lane has ${c.files.length} corpus files)`);
  });
  return cp;
}
