// Input files of `minimize`, `explain` and the regression checks (DESIGN §5): a sequence file
// (tdpfuzz-seq/1) or a crash file (tdpfuzz-crash/1), told apart by their "format"; the run settings
// each implies (a crash file records its designs, equivalence and domain; a sequence file runs
// before,after in the state equivalence and the legal domain, like the corpus in a campaign); and
// what "behaves as recorded" means for each:
//
//   crash file      the recorded signature reproduces; with status "expected"/"explained" no other
//                   unexplained finding appears (XFAIL). A file whose signature no longer reproduces
//                   has changed behaviour: for an open finding that means fixed — delete the file.
//   sequence file   no unexplained finding; when meta.expect is given, the by-design differences
//                   reported as explained are exactly meta.expect.explained (D-ids, any order).
//
// Corpus scenario files carry `"meta": {"description": "...", "expect": {"explained": ["D4"]}}`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Design } from '../../impls/api';
import type { Equivalence } from '../run/compare';
import { CRASH_FORMAT, fileSha256, readCrashFile, validateCrash, type CrashFile } from './crash_store';
import { loadDesigns } from '../run/designs';
import { displayPath } from './fsutil';
import type { Domain } from '../seq/domain';
import type { RunOptions, RunResult } from '../run/runner';
import { InputError, SEQUENCE_FORMAT, validateSequence, type Sequence } from '../seq/sequence';
import { isObject, parseJsonInput } from '../seq/strict_json';
import { readInputFile } from './input_file';

export interface InputFile {
  /** absolute path */
  file: string;
  /** path for messages (relative to cwd when inside it) */
  shown: string;
  kind: 'sequence' | 'crash';
  /** the sequence to run: a crash file's reproducer (its `ops`) with its config */
  seq: Sequence;
  crash?: CrashFile;
}

/** Expand FILE|DIR arguments into JSON files (a directory means its *.json, sorted by name). */
export function expandInputs(files: readonly string[], cwd: string): string[] {
  const out: string[] = [];
  for (const f of files) {
    const abs = path.resolve(cwd, f);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new InputError(`${f}: no such file or directory`);
    }
    if (st.isDirectory()) {
      out.push(...fs.readdirSync(abs).filter(n => n.endsWith('.json') && !n.startsWith('.')).sort().map(n => path.join(abs, n)));
    } else {
      out.push(abs);
    }
  }
  return out;
}

/** Read a sequence or crash file. Throws InputError with a one-line message naming the file. */
export function loadInputFile(file: string, cwd: string = process.cwd()): InputFile {
  const abs = path.resolve(cwd, file);
  const shown = displayPath(abs, cwd);
  // One parse; the format field says which strict reader validates the object.
  const obj = parseJsonInput(readInputFile(abs, shown).toString('utf8'), shown);
  const format = isObject(obj) ? obj.format : undefined;
  if (format === CRASH_FORMAT) {
    const crash = validateCrash(obj, shown);
    return { file: abs, shown, kind: 'crash', crash, seq: { format: SEQUENCE_FORMAT, config: crash.config, ops: crash.ops } };
  }
  if (format === SEQUENCE_FORMAT || format === undefined) {
    const seq = validateSequence(obj, shown);
    corpusExpectation(seq, shown); // a malformed meta.expect is bad input too
    return { file: abs, shown, kind: 'sequence', seq };
  }
  throw new InputError(`${shown}: format ${JSON.stringify(format)} is not supported (expected "${SEQUENCE_FORMAT}" or "${CRASH_FORMAT}")`);
}

export interface RunSettings extends RunOptions {
  /** the designs as named (for messages and written files) */
  designSpecs: string[];
}

/** Overrides from the command line; null = what the file records (or the sequence-file default). */
export interface SettingsFlags { designs: string | null; equiv: Equivalence | null; domain: Domain | null }

/**
 * The run settings for a file: flags first, then the crash file's record, then before,after/state/legal.
 * When the recorded designs are used, `warn` gets one line per recorded design module whose content
 * changed since the crash was recorded (the replay still runs: the change may be the fix).
 */
export function settingsFor(item: InputFile, flags: SettingsFlags, cwd: string, warn: (line: string) => void = () => {}): RunSettings {
  if (flags.designs === null) for (const line of changedModules(item)) warn(line);
  const spec = flags.designs ?? (item.crash?.designs ?? ['before', 'after']).join(',');
  const designs: Design[] = loadDesigns(spec, cwd, flags.designs !== null ? '--designs' : item.crash ? `${item.shown}: designs` : '--designs');
  return {
    designs,
    designSpecs: spec.split(',').map(s => s.trim()),
    equiv: flags.equiv ?? item.crash?.equiv ?? 'state',
    domain: flags.domain ?? item.crash?.domain ?? 'legal',
  };
}

/** A WARNING line for each design module of a crash file whose current content hash differs from the recorded one. */
function changedModules(item: InputFile): string[] {
  const out: string[] = [];
  for (const m of item.crash?.designModules ?? []) {
    const now = fileSha256(m.path);
    // An unreadable module is not a warning: loading it fails with its own one-line error.
    if (now !== null && now !== m.sha256) {
      out.push(`WARNING: ${item.shown}: design module ${m.path} changed since the crash was recorded (sha256 ${m.sha256.slice(0, 12)}…→${now.slice(0, 12)}…)`);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Corpus expectations

export interface CorpusExpectation {
  /** D-ids the run must report as explained (and nothing unexplained) */
  explained: string[];
}

/** meta.expect of a sequence file, validated; null when absent. */
export function corpusExpectation(seq: Sequence, shown: string): CorpusExpectation | null {
  const expect = seq.meta?.expect;
  if (expect === undefined) return null;
  const bad = (what: string): never => { throw new InputError(`${shown}: meta.expect${what}`); };
  if (typeof expect !== 'object' || expect === null || Array.isArray(expect)) bad(`: expected an object like {"explained": ["D4"]}, got ${JSON.stringify(expect)}`);
  const e = expect as Record<string, unknown>;
  for (const k of Object.keys(e)) if (k !== 'explained') bad(`.${k}: unknown field (fields: explained)`);
  const ids = e.explained ?? [];
  if (!Array.isArray(ids) || ids.some(x => typeof x !== 'string' || !/^D\d+$/.test(x))) bad(`.explained: expected an array of D-ids like "D4", got ${JSON.stringify(ids)}`);
  return { explained: [...new Set(ids as string[])].sort(byDid) };
}

function byDid(a: string, b: string): number {
  return Number(a.slice(1)) - Number(b.slice(1));
}

/** The D-ids a run reported as explained, sorted. */
export function explainedIds(r: RunResult): string[] {
  return [...new Set(r.explained.map(x => x.explained!.id))].sort(byDid);
}

/** meta.expect describes a run of before,after in the state equivalence and the legal domain. */
function expectationApplies(run: RunOptions): boolean {
  return run.designs.map(d => d.name).join(',') === 'before,after' && run.equiv === 'state' && run.domain === 'legal';
}

/**
 * Why the explained ids of a run differ from a corpus file's expectation, or null (also when the
 * run is not the one the expectation describes: other designs, equivalence or domain).
 */
function expectationMismatch(seq: Sequence, shown: string, r: RunResult, run: RunOptions): string | null {
  const exp = corpusExpectation(seq, shown);
  if (!exp || !expectationApplies(run)) return null;
  const got = explainedIds(r);
  if (got.join(',') === exp.explained.join(',')) return null;
  const list = (xs: string[]): string => (xs.length ? xs.join(', ') : 'none');
  return `explained differences ${list(got)}, expected ${list(exp.explained)} (meta.expect.explained)`;
}

// ------------------------------------------------------------------------------------------------
// Verdicts

export type Verdict = 'PASS' | 'FAIL' | 'XFAIL';

export interface Judgement {
  /** replay's verdict: FAIL when a finding reproduces that is not accepted (exit 1) */
  verdict: Verdict;
  /** one line: what happened */
  line: string;
  /** null when the file behaves as recorded (the regression test), else why not */
  regression: string | null;
}

/**
 * Signatures of crash files marked "expected" or "explained" (accepted behaviour): of `crashes`, and
 * of the crash files in the directories of the files `nextTo` (a crash directory is one set of
 * triaged signatures, so replaying one of its files knows its siblings; unreadable ones are skipped).
 */
export function acceptedSignatures(crashes: readonly (CrashFile | undefined)[], nextTo: readonly string[] = []): Set<string> {
  const out = new Set(crashes.filter((c): c is CrashFile => !!c && c.status !== 'open').map(c => c.signature));
  for (const dir of new Set(nextTo.map(f => path.dirname(path.resolve(f))))) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter(n => n.endsWith('.json') && !n.startsWith('.'));
    } catch {
      continue;
    }
    for (const n of names) {
      try {
        const text = readInputFile(path.join(dir, n), n).toString('utf8');
        if (!text.includes(`"${CRASH_FORMAT}"`)) continue;
        const c = readCrashFile(path.join(dir, n));
        if (c.status !== 'open') out.add(c.signature);
      } catch { /* not a readable crash file: it accepts nothing */ }
    }
  }
  return out;
}

/**
 * Judge one run of an input file (replay, explain and the regression test share this).
 * `acceptedSigs`: signatures accepted by other crash files replayed alongside (regression mode over
 * a directory); a crash file's reproducer that also shows one of them is still XFAIL.
 */
export function judge(item: InputFile, r: RunResult, run: RunOptions, acceptedSigs: ReadonlySet<string> = new Set()): Judgement {
  const ids = explainedIds(r);
  const exNote = ids.length ? `, explained: ${ids.join(', ')}` : '';
  const opsNote = `${item.seq.ops.length} ops${r.teardownAppended ? ' + teardown' : ''}`;
  const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`;
  if (item.crash) {
    const c = item.crash;
    const recorded = r.findings.some(f => f.signature === c.signature) || r.explained.some(f => f.signature === c.signature);
    const others = r.findings.filter(f => f.signature !== c.signature && !acceptedSigs.has(f.signature));
    const accepted = c.status !== 'open';
    if (recorded && accepted && others.length === 0) {
      return { verdict: 'XFAIL', line: `XFAIL ${item.shown} [${c.status}]: recorded signature reproduced (${opsNote}${exNote})`, regression: null };
    }
    if (recorded) {
      const line = `FAIL ${item.shown}: recorded signature reproduced${others.length ? ` (+${n(others.length, 'other finding')})` : ''} (${opsNote}${exNote})`;
      return {
        verdict: 'FAIL', line,
        regression: others.length ? `recorded signature reproduced, but also ${n(others.length, 'other unexplained finding')}: ${others.map(f => f.signature).join('; ')}` : null,
      };
    }
    const why = `recorded signature ${c.signature} no longer reproduces${others.length ? `; instead ${others.map(f => f.signature).join('; ')}` : ''}`
      + (c.status === 'open' ? ' (fixed? delete the crash file)' : ' (behaviour changed: re-triage or delete the crash file)');
    if (others.length) return { verdict: 'FAIL', line: `FAIL ${item.shown}: recorded signature NOT reproduced; ${n(others.length, 'other finding')} (${opsNote}${exNote})`, regression: why };
    return { verdict: 'PASS', line: `PASS ${item.shown}: recorded signature no longer reproduces (${opsNote}${exNote})`, regression: why };
  }
  const mismatch = expectationMismatch(item.seq, item.shown, r, run);
  const line = (v: Verdict): string => `${v} ${item.shown}${mismatch ? `: ${mismatch}` : ''} (${opsNote}${exNote})`;
  if (r.findings.length) {
    return {
      verdict: 'FAIL', line: line('FAIL'),
      regression: `${n(r.findings.length, 'unexplained finding')}: ${r.findings.map(f => f.signature).join('; ')}${mismatch ? `; ${mismatch}` : ''}`,
    };
  }
  if (mismatch) return { verdict: 'FAIL', line: line('FAIL'), regression: mismatch };
  return { verdict: 'PASS', line: line('PASS'), regression: null };
}
