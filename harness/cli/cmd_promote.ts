// `tdpfuzz promote FILE|DIR... [--to DIR]`: add crash files a campaign wrote (OUT/crashes by default)
// to the triaged regression corpus (crashes/ by default), which `npm test` and `tdpfuzz replay`
// replay. Campaigns never write there on their own: a finding joins the corpus when a developer
// decides it should (and then sets its status: open, expected, explained). Promoting is the crash
// merge of `tdpfuzz merge --crashes DIR` (store/crash_merge.ts): a file already in the corpus is
// combined with it (hits added, the smaller reproducer kept, the triage status kept), and promoting
// the same file again adds nothing. Everything is read and validated before the first write.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flagHelp, flagTable, parseFlags, UsageError, type Command, type Io } from './flags';
import { readCrashFile } from '../store/crash_store';
import { planCrashMerge, writeCrashMerge, type CrashInput } from '../store/crash_merge';
import { displayPath } from '../store/fsutil';
import { checkOutputDir } from '../store/output_place';
import { expandInputs } from '../store/inputs';

const FLAGS = flagTable([
  { name: 'to', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'the triaged crash corpus to add to (default crashes)' },
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

const HELP = `usage: tdpfuzz promote [flags] FILE|DIR...

Adds crash files (a DIR means its *.json crash files, e.g. out/crashes) to the
triaged regression corpus, crashes/ unless --to DIR. A signature already in the
corpus is combined with it: hits are added, the smaller reproducer is kept, and
so is the triage status (set "status" to "expected" or "explained" in the corpus
file once triaged). Promoting the same file twice adds nothing. Every input is
validated before anything is written. Exit 0, or 2 on bad input (one line,
nothing written).

flags:
${flagHelp(FLAGS, 12)}

example: tdpfuzz run --designs before,./my-variant.js --time 300 --out out
         tdpfuzz promote out/crashes/divergence-fault-result-1a2b3c4d5e6f.json`;

/** FILE|DIR arguments → crash files (expandInputs; a directory without any is refused, naming it). */
function crashFiles(args: readonly string[], cwd: string): string[] {
  return args.flatMap((a) => {
    const files = expandInputs([a], cwd);
    if (!files.length) throw new UsageError(`${a}: no crash files (*.json) in this directory`);
    return files;
  });
}

async function runPromote(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags('promote', FLAGS, argv);
  if (flags.help) { io.out(`${HELP}\n`); return 0; }
  if (positional.length === 0) throw new UsageError('promote: missing FILE (a crash file, or a directory of crash files such as out/crashes)');
  const to = path.resolve(io.cwd, flags.to ?? 'crashes');
  checkOutputDir(to, `--to ${flags.to ?? 'crashes'}`, io.cwd);
  const inputs: CrashInput[] = crashFiles(positional, io.cwd).map(file => ({ file, crash: readCrashFile(file, displayPath(file, io.cwd)) }));
  const plan = planCrashMerge(inputs, to, io.cwd, { rebuild: false });
  const existed = new Set(plan.targets.filter(t => fs.existsSync(t.file)).map(t => t.file));
  writeCrashMerge(plan);
  for (const t of plan.targets) {
    const status = plan.bySignature.get(t.signature)?.status ?? 'open';
    const label = !t.next ? 'SAME  ' : existed.has(t.file) ? 'MERGED' : 'NEW   ';
    const why = !t.sources.length ? 'it is the corpus file' : !t.next ? 'promoted before' : `from ${t.sources.map(x => displayPath(x.file, io.cwd)).join(', ')}`;
    io.out(`${label} ${t.shown} [${status}] (${why})\n`);
  }
  io.out(`promoted ${inputs.length} crash file${inputs.length === 1 ? '' : 's'} into ${displayPath(to, io.cwd)}: `
    + `${plan.targets.filter(t => t.next && !existed.has(t.file)).length} new, ${plan.targets.filter(t => t.next && existed.has(t.file)).length} merged, `
    + `${plan.targets.filter(t => !t.next).length} unchanged\n`);
  return 0;
}

export const promoteCommand: Command = {
  name: 'promote',
  summary: 'add crash files (e.g. out/crashes) to the triaged regression corpus crashes/',
  help: HELP,
  run: runPromote,
};
