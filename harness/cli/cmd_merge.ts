// `tdpfuzz merge DIR... --out DIR` (DESIGN §6; libFuzzer's -merge in spirit): combine the outputs of
// shards run on several machines (`run --shard i/N --out DIR`) — or any runs of the same
// configuration — into one report, one stats file and one crash directory (report/merge.ts says
// how each part is combined). Each input DIR needs report.json; stats.json and the crash files are
// taken when present: DIR/crashes/*.json, and the crash files its report names (resolved from the
// current directory), which is where `run --crashes DIR/crashes` or the default crashes/ put them.
// Exit codes as run: 0 no unexplained finding, 1 otherwise, 2 bad input.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flagHelp, flagTable, parseFlags, UsageError, type Command, type Io } from './flags';
import { displayPath, writeFileAtomic } from '../store/fsutil';
import {
  checkCompatible, combineShards, crashFilesOf, mergeReports, mergeStats, readOutputDir, statsFromReport,
} from '../report/merge';
import { planCrashMerge, writeCrashMerge } from '../store/crash_merge';
import { writeReports } from '../report/index';
import { InputError } from '../seq/sequence';
import { readCrashFile } from '../store/crash_store';
import { checkOutputDir } from '../store/output_place';

const FLAGS = flagTable([
  { name: 'out', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'where the merged report.{md,json,junit.xml} and stats.json go (required)' },
  { name: 'crashes', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'merged crash directory (default OUT/crashes, rebuilt on every merge; an explicit DIR is added to, each input once)' },
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

const HELP = `usage: tdpfuzz merge DIR... --out DIR [--crashes DIR]

Merges campaign output directories (report.json, stats.json, crash files) into
one report, as if one campaign had run them all: sequence, op and hit counts add
up, findings are grouped by signature (smallest reproducer, earliest source,
triage status kept), explained differences and coverage are combined (coverage
is the exact union of transition classes), shards recombine (0/2 + 1/2 = the
whole space), and crash files of the same signature are combined like the crash
store does. All inputs must have compared the same designs under the same
configuration.

Crash files are taken from DIR/crashes/ and from the paths each report names.
Merged ones go to OUT/crashes/ (rebuilt on every merge; a directory of crash
files no merge wrote, or an input's, is never emptied: the merge is refused), or
into --crashes DIR (added to: each crash file records what was merged into it,
so merging the same inputs again adds nothing, and a shard's crash file that
gained hits since adds only those). Nothing is written unless every input is
valid.

flags:
${flagHelp(FLAGS, 14)}

example: tdpfuzz run --shard 0/2 --time 3600 --out m0     # machine 0
         tdpfuzz run --shard 1/2 --time 3600 --out m1     # machine 1
         tdpfuzz merge m0 m1 --out merged`;

/** Marks OUT/crashes as a merge's own output, which the next merge into the same --out may rebuild. */
const MERGE_MARKER = '.tdpfuzz-merge';

async function runMerge(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags('merge', FLAGS, argv);
  if (positional.length === 0) throw new UsageError('merge: missing DIR (output directories of tdpfuzz run)');
  if (flags.out === undefined) throw new UsageError('--out: required (where the merged report goes)');
  const out = path.resolve(io.cwd, flags.out);
  const inputs = positional.map(d => readOutputDir(d, io.cwd));
  const seen = new Set<string>();
  const inside = (a: string, b: string): boolean => a === b || a.startsWith(b + path.sep);
  for (const i of inputs) {
    if (seen.has(i.dir)) throw new InputError(`${i.shown}: given twice`);
    if (i.dir === out) throw new InputError(`${i.shown}: is also --out (merge into a new directory)`);
    // An output inside an input (or around one) would overwrite what is being read.
    if (inside(out, i.dir) || inside(i.dir, out)) throw new InputError(`--out ${displayPath(out, io.cwd)}: overlaps the input ${i.shown} (merge into a new directory)`);
    seen.add(i.dir);
  }

  // All or nothing: everything is read, checked and computed before anything is written — the
  // configurations, every input crash file (read once, here), every crash file of the target
  // directory the merge would change, the report and the stats. Crash files first, so the report
  // can point at the merged ones.
  const explicitCrashes = flags.crashes;
  const crashDir = path.resolve(io.cwd, explicitCrashes ?? path.join(out, 'crashes'));
  checkOutputDir(out, `--out ${flags.out}`, io.cwd);
  checkOutputDir(crashDir, explicitCrashes !== undefined ? `--crashes ${explicitCrashes}` : `--out ${flags.out}: ${displayPath(crashDir, io.cwd)}`, io.cwd);
  // Shards that shared one --crashes directory name the same crash files: each is merged once (it
  // already holds every shard's hits), so the merged hits do not double.
  // (crashFilesOf gives absolute paths, so equal paths are the same file.)
  const files = [...new Set(inputs.flatMap(i => crashFilesOf(i, io.cwd)))];
  checkCompatible(inputs.map(i => ({ from: i.shown, scope: i.report.scope })));
  const read = files.map(file => ({ file, crash: readCrashFile(file, displayPath(file, io.cwd)) }));
  if (!explicitCrashes) {
    const shownCrashes = displayPath(crashDir, io.cwd);
    // Never delete or overwrite an input: a crash file being merged may not live in OUT/crashes.
    const input = files.find(f => path.dirname(f) === crashDir);
    if (input) throw new InputError(`--out ${displayPath(out, io.cwd)}: ${shownCrashes} holds an input crash file (${displayPath(input, io.cwd)}); merge into a new directory`);
    if (fs.existsSync(crashDir)) {
      // OUT/crashes is rebuilt on every merge — but only when an earlier merge made it: a directory
      // of triaged crash files (the committed crashes/ under `--out .`) is never emptied.
      const own = fs.existsSync(path.join(crashDir, MERGE_MARKER));
      const json = fs.readdirSync(crashDir).filter(n => n.endsWith('.json'));
      if (!own && json.length) throw new InputError(`--out ${displayPath(out, io.cwd)}: ${shownCrashes} already holds ${json.length} crash file${json.length === 1 ? '' : 's'} that no merge wrote; merge into a new directory, or add to it on purpose with --crashes ${shownCrashes}`);
    }
  }
  // An explicit DIR is added to; each of its crash files records what was merged into it, so merging
  // the same inputs again adds nothing (store/crash_merge.ts).
  const plan = planCrashMerge(read, crashDir, io.cwd, { rebuild: !explicitCrashes });
  const crashes = plan.bySignature;
  const report = mergeReports(inputs.map(i => ({ from: i.shown, report: i.report })), {
    mode: 'parallel', crashFor: sig => crashes.get(sig) ?? null,
  });
  const stats = mergeStats(inputs.map(i => ({ from: i.shown, stats: i.stats ?? statsFromReport(i.report) })), report, 'parallel');

  // Now the writes: crash files, then the report and stats (which point at them).
  writeCrashMerge(plan);
  if (!explicitCrashes && fs.existsSync(crashDir)) writeFileAtomic(path.join(crashDir, MERGE_MARKER), 'written by tdpfuzz merge: rebuilt on every merge into this --out\n');
  const paths = writeReports(out, report, { series: stats.series, engine: stats.engine });
  fs.mkdirSync(out, { recursive: true });
  writeFileAtomic(path.join(out, 'stats.json'), `${JSON.stringify(stats)}\n`);

  const { exact } = combineShards(inputs.map(i => i.report.scope.shard));
  if (!exact) io.err(`WARNING: the inputs' shards (${inputs.map(i => i.report.scope.shard ? `${i.report.scope.shard.index}/${i.report.scope.shard.count}` : 'none').join(', ')}) overlap or do not form one shard\n`);
  io.out(`merged ${inputs.length} output${inputs.length === 1 ? '' : 's'} (${report.scope.sequences.toLocaleString('en-US')} sequences), `
    + `${report.findings.length} finding signature${report.findings.length === 1 ? '' : 's'}, ${crashes.size} crash file${crashes.size === 1 ? '' : 's'} in ${displayPath(crashDir, io.cwd)}\n`);
  io.out(`report: ${displayPath(paths.markdown, io.cwd)} (also report.json, report.junit.xml, stats.json)\n`);
  io.out(`${report.verdict.line}\n`);
  return report.verdict.unexplained ? 1 : 0;
}

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'merge shard or worker outputs (reports, stats, crash files) into one report',
  help: HELP,
  run: runMerge,
};
