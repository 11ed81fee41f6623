// `tdpfuzz replay FILE|DIR...` (regression mode, DESIGN §5): sequence files and crash files, each
// judged by store/inputs.ts judge(), the one regression verdict that explain, the vitest regression
// suite and CI share. Exit 0 when nothing is found (accepted crash files that reproduce are XFAIL),
// 1 when a finding reproduces, 2 on bad input.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderReplayJunit, type ReplayCase } from '../report/junit_replay';
import { CRASH_FORMAT } from '../store/crash_store';
import { displayPath, toolVersion, writeFileAtomic } from '../store/fsutil';
import { checkOutputFile } from '../store/output_place';
import { EQUIVALENCES } from '../run/compare';
import { DOMAINS, type Domain } from '../seq/domain';
import type { Equivalence } from '../run/compare';
import { acceptedSignatures, expandInputs, judge, loadInputFile, settingsFor, type InputFile } from '../store/inputs';
import { runBoundedSequence } from '../run/runner';
import { InputError, SEQUENCE_FORMAT } from '../seq/sequence';
import { boundedTraceText } from '../run/trace';
import { flagHelp, flagTable, HANG_TIMEOUT_FLAG, parseFlags, UsageError, type Command, type Io } from './flags';

const REPLAY_FLAGS = flagTable([
  { name: 'designs', kind: { type: 'string', what: 'a comma-separated list of design names or module paths' }, metavar: 'A,B', help: 'designs (default: recorded in crash files; before,after for sequence files)' },
  { name: 'equiv', kind: { type: 'enum', values: EQUIVALENCES }, metavar: 'E', help: 'equivalence (default: recorded; state for sequence files)' },
  { name: 'domain', kind: { type: 'enum', values: DOMAINS }, metavar: 'D', help: 'domain (default: recorded; legal for sequence files)' },
  { name: 'trace', kind: { type: 'bool' }, default: false, help: "print every op with each design's result, SEAMCALLs and diagnostics side by side" },
  { ...HANG_TIMEOUT_FLAG, default: 10 },
  { name: 'junit', kind: { type: 'string', what: 'a file path' }, metavar: 'FILE', help: 'also write a JUnit XML file: one testcase per replayed file (FAIL fails, XFAIL is skipped)' },
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

export const REPLAY_HELP = `usage: tdpfuzz replay [flags] FILE|DIR...

Replays sequence files (${SEQUENCE_FORMAT}) and crash files (${CRASH_FORMAT}); a
directory means its *.json files. Crash files replay with the designs,
equivalence and domain they record and report whether their recorded signature
reproduced. A sequence file with meta.expect.explained (the corpus scenarios)
must show exactly those by-design differences when replayed as before,after in
the state equivalence and the legal domain. Exit 0 when nothing is found (crash
files marked "expected" or "explained" that reproduce count as XFAIL, not as
failures), 1 when a finding reproduces, 2 on bad input.

flags:
${flagHelp(REPLAY_FLAGS)}

example: tdpfuzz replay crashes/ corpus/ --junit out/regression.junit.xml  # CI`;

export interface ReplayArgs {
  files: string[];
  designs: string | null;
  equiv: Equivalence | null;
  domain: Domain | null;
  trace: boolean;
  hangMs: number;
  /** --junit FILE */
  junit: string | null;
}

/** `tdpfuzz replay` flags; null for --help. */
export function parseReplayArgs(argv: readonly string[]): ReplayArgs | null {
  const { flags, positional } = parseFlags('replay', REPLAY_FLAGS, argv);
  if (flags.help) return null;
  if (positional.length === 0) throw new UsageError('replay: missing FILE (a sequence file, a crash file or a directory of them)');
  return { files: positional, designs: flags.designs ?? null, equiv: flags.equiv ?? null, domain: flags.domain ?? null, trace: flags.trace, hangMs: flags['hang-timeout'] * 1000, junit: flags.junit ?? null };
}

/** Load every file first: a typo in one file should not cost a long replay of the others. */
function loadAll(files: readonly string[], io: Io): InputFile[] | null {
  const items: InputFile[] = [];
  const errors: string[] = [];
  for (const f of files) {
    try {
      items.push(loadInputFile(f, io.cwd));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push(e.message);
    }
  }
  if (!errors.length) return items;
  for (const e of errors) io.err(`tdpfuzz: ${e}\n`);
  return null;
}

export async function cmdReplay(a: ReplayArgs, io: Io): Promise<number> {
  const files = expandInputs(a.files, io.cwd);
  if (files.length === 0) throw new InputError(`${a.files.join(' ')}: no .json files to replay`);
  const items = loadAll(files, io);
  if (!items) return 2;
  const junitFile = a.junit === null ? null : path.resolve(io.cwd, a.junit);
  if (junitFile) checkOutputFile(junitFile, '--junit', io.cwd);
  const cases: ReplayCase[] = [];
  const startedAt = new Date().toISOString();
  const counts = { PASS: 0, FAIL: 0, XFAIL: 0 };
  // Regression mode: a reproducer may also show a sibling finding that has its own accepted crash file
  // (replayed too, or in the same directory); that is known behaviour, not a new finding.
  const acceptedSigs = acceptedSignatures(items.map(it => it.crash), files.filter((_, k) => items[k].crash));
  for (const it of items) {
    const settings = { ...settingsFor(it, a, io.cwd, line => io.err(`${line}\n`)), hangMs: a.hangMs };
    const t0 = performance.now();
    const r = runBoundedSequence(it.seq, settings);
    const j = judge(it, r, settings, acceptedSigs);
    cases.push({ file: it.shown, kind: it.crash ? 'crash' : 'sequence', verdict: j.verdict, line: j.line,
      findings: r.findings.map(f => `${f.signature}: ${f.message}`), seconds: (performance.now() - t0) / 1000 });
    counts[j.verdict]++;
    io.out(`${j.line}\n`);
    for (const f of r.findings) io.out(`     ${f.signature}: ${f.message}\n`);
    if (a.trace) io.out(`\n${boundedTraceText(it.seq, settings.designs, a.hangMs)}\n`);
  }
  if (junitFile) {
    fs.mkdirSync(path.dirname(junitFile), { recursive: true });
    writeFileAtomic(junitFile, renderReplayJunit(cases, startedAt, toolVersion()));
    io.out(`junit: ${displayPath(junitFile, io.cwd)}\n`);
  }
  io.out(`replayed ${items.length} file${items.length === 1 ? '' : 's'}: ${counts.PASS} pass, ${counts.FAIL} fail${counts.XFAIL ? `, ${counts.XFAIL} xfail` : ''}\n`);
  return counts.FAIL ? 1 : 0;
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay sequence files, crash files or directories of them (tdpfuzz replay --help)',
  help: REPLAY_HELP,
  async run(argv, io) {
    const args = parseReplayArgs(argv);
    if (!args) { io.out(`${REPLAY_HELP}\n`); return 0; }
    return cmdReplay(args, io);
  },
};
