// `tdpfuzz cmin FILE|DIR... --out DIR`: corpus minimization (libFuzzer's -merge=1, afl-cmin). Every
// input (sequence or crash file) runs once through the designs in lockstep; the inputs are then taken
// smallest first (ops, then name) and one is kept when it reaches a coverage class none kept before
// reached — so the kept set reaches every class the whole set reaches. Kept files are copied
// byte for byte into --out, which must not hold anything yet (nothing is overwritten or merged).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flagHelp, flagTable, HANG_TIMEOUT_FLAG, parseFlags, UsageError, type Command, type Io } from './flags';
import { EQUIVALENCES, type Equivalence } from '../run/compare';
import { DOMAINS, type Domain } from '../seq/domain';
import { loadDesigns } from '../run/designs';
import { runBoundedSequence } from '../run/runner';
import { expandInputs, loadInputFile, type InputFile } from '../store/inputs';
import { displayPath, writeFileAtomic } from '../store/fsutil';
import { readInputFile } from '../store/input_file';
import { checkOutputDir } from '../store/output_place';

const FLAGS = flagTable([
  { name: 'out', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'where the kept files go (must be new or empty)' },
  { name: 'designs', kind: { type: 'string', what: 'a comma-separated list of design names or module paths' }, metavar: 'A,B', help: 'designs whose coverage counts (default before,after)' },
  { name: 'domain', kind: { type: 'enum', values: DOMAINS }, metavar: 'D', help: 'legal or extended (default legal)' },
  { name: 'equiv', kind: { type: 'enum', values: EQUIVALENCES }, metavar: 'E', help: 'equivalence (default state)' },
  HANG_TIMEOUT_FLAG,
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

const HELP = `usage: tdpfuzz cmin [flags] FILE|DIR... --out DIR

Corpus minimization: runs every sequence or crash file (a DIR means its *.json)
once, then keeps, smallest first, each input that reaches a coverage class (op,
SPTE transition, level, lock mode, SEAMCALL and result, injected fault) that the
inputs kept before it do not. The kept inputs reach every class the whole set
reaches. They are copied unchanged into --out, which must be new or empty. Exit
0, or 2 on bad input (one line, nothing written).

flags:
${flagHelp(FLAGS, 16)}

example: tdpfuzz run --engine guided --time 600 --out out
         tdpfuzz cmin out/corpus corpus --out corpus-min`;

interface Measured { input: InputFile; classes: string[] }

async function runCmin(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags('cmin', FLAGS, argv);
  if (flags.help) { io.out(`${HELP}\n`); return 0; }
  if (positional.length === 0) throw new UsageError('cmin: missing FILE (sequence or crash files, or directories of them)');
  if (flags.out === undefined) throw new UsageError('--out: missing (the directory the kept inputs go to)');
  const out = path.resolve(io.cwd, flags.out);
  checkOutputDir(out, `--out ${flags.out}`, io.cwd);
  if (fs.existsSync(out) && fs.readdirSync(out).length) throw new UsageError(`--out: ${flags.out} is not empty (cmin writes into a new or empty directory)`);
  const designs = loadDesigns(flags.designs ?? 'before,after', io.cwd);
  const opts = {
    designs, equiv: (flags.equiv ?? 'state') as Equivalence, domain: (flags.domain ?? 'legal') as Domain,
    hangMs: (flags['hang-timeout'] ?? 10) * 1000, diffs: false,
  };
  // Everything is read (and so validated) before anything runs or is written.
  const inputs = expandInputs(positional, io.cwd).map(f => loadInputFile(f, io.cwd));
  const names = new Map<string, string>();
  for (const i of inputs) {
    const n = path.basename(i.file);
    const other = names.get(n);
    if (other !== undefined && other !== i.file) throw new UsageError(`cmin: two inputs are named ${n} (${displayPath(other, io.cwd)}, ${i.shown}); --out keeps file names`);
    names.set(n, i.file);
  }
  const measured: Measured[] = inputs.map(input => ({ input, classes: [...runBoundedSequence(input.seq, opts).coverage] }));
  const all = new Set(measured.flatMap(m => m.classes));
  const order = [...measured].sort((a, b) => a.input.seq.ops.length - b.input.seq.ops.length
    || (a.input.shown < b.input.shown ? -1 : a.input.shown > b.input.shown ? 1 : 0));
  const covered = new Set<string>();
  const kept: Measured[] = [];
  for (const m of order) {
    if (!m.classes.some(c => !covered.has(c))) continue;
    for (const c of m.classes) covered.add(c);
    kept.push(m);
  }
  fs.mkdirSync(out, { recursive: true });
  for (const m of kept) writeFileAtomic(path.join(out, path.basename(m.input.file)), readInputFile(m.input.file, m.input.shown));
  io.out(`cmin: kept ${kept.length} of ${inputs.length} input${inputs.length === 1 ? '' : 's'} in ${displayPath(out, io.cwd)}; `
    + `they reach all ${all.size} coverage classes the ${inputs.length} reach\n`);
  return 0;
}

export const cminCommand: Command = {
  name: 'cmin',
  summary: 'corpus minimization: keep the smallest inputs that reach every coverage class',
  help: HELP,
  run: runCmin,
};
