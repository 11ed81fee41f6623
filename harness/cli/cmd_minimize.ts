// `tdpfuzz minimize FILE`: reduce a reproducer to a 1-minimal, simplified one (DESIGN §5).
//  - crash file: minimized for its recorded signature with its recorded designs, equivalence and
//    domain; the result (ops replaced, originalOps kept, `minimization` statistics, the finding and
//    first divergence as seen on the minimized ops) goes to --out, or by default back into the crash
//    file, atomically and under the crash store's lock (a smaller reproducer stored meanwhile wins).
//  - sequence file: run it, take the first unexplained finding (or --signature, which may also name
//    an explained difference), and write a minimized sequence file to --out (default FILE.min.json,
//    i.e. x.json → x.min.json). The input sequence file is never overwritten.
// Prints `N ops -> M ops in R runs (T ms)`. Exit 0 done, 1 nothing to minimize (no finding, or the
// signature does not reproduce), 2 bad input.
import { DOMAINS } from '../seq/domain';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Op } from '../../impls/api';
import { flagTable, HANG_TIMEOUT_FLAG, parseFlags, UsageError, type Command, type Io } from './flags';
import { EQUIVALENCES } from '../run/compare';
import { recordedDesigns, serializeCrash, updateCrashFile, validateCrash, type CrashFile, type CrashFinding } from '../store/crash_store';
import { describeOp, type Finding } from '../run/findings';
import { displayPath, writeFileAtomic } from '../store/fsutil';
import { checkOutputFile } from '../store/output_place';
import { minimizeSequence } from '../run/minimize';
import { DEFAULT_MAX_RUNS, statsRecord, type MinimizeResult } from '../seq/ddmin';
import { explainedIds, loadInputFile, settingsFor, type InputFile, type RunSettings } from '../store/inputs';
import { runBoundedSequence } from '../run/runner';
import { makeSequence, serializeSequence, type Sequence } from '../seq/sequence';


const DEFAULT_TIME_SEC = 60;

const FLAGS = flagTable([
  { name: 'out', kind: { type: 'string', what: 'a file' }, metavar: 'FILE', help: 'where to write the result (default: the crash file itself; FILE.min.json for a sequence file)' },
  { name: 'designs', kind: { type: 'string', what: 'a comma-separated list of design names or module paths' }, metavar: 'A,B', help: 'designs (default: recorded in a crash file; before,after for a sequence file)' },
  { name: 'equiv', kind: { type: 'enum', values: EQUIVALENCES }, metavar: 'E', help: 'equivalence (default: recorded; state)' },
  { name: 'domain', kind: { type: 'enum', values: DOMAINS }, metavar: 'D', help: 'domain (default: recorded; legal)' },
  { name: 'signature', kind: { type: 'string', what: 'a finding signature' }, metavar: 'SIG', help: "the finding to keep (default: the crash file's; the first unexplained finding of a sequence file)" },
  { name: 'max-runs', kind: { type: 'int', min: 1, max: 10_000_000 }, metavar: 'N', default: DEFAULT_MAX_RUNS, help: `most predicate runs (default ${DEFAULT_MAX_RUNS}; the deterministic bound)` },
  { name: 'time', kind: { type: 'number', min: 0, max: 1e6, minExclusive: true }, metavar: 'S', default: DEFAULT_TIME_SEC, help: `wall-clock safety net in seconds (default ${DEFAULT_TIME_SEC})` },
  { ...HANG_TIMEOUT_FLAG, default: 10 },
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

const HELP = `usage: tdpfuzz minimize [flags] FILE

Reduces the reproducer in FILE by delta debugging to a 1-minimal op list, then
simplifies each op (drops races and injected faults, inlines racing ops, lowers
gfns, ranges, levels, counters, vCPU and walker ids). A reduction is kept only
if the run still reports the SAME signature. In the legal domain, candidates
outside it are never tried.

  crash file     minimized for its recorded signature, designs, equivalence and
                 domain; the file is updated in place (atomically, under the
                 crash store's lock; originalOps is kept and the statistics go
                 to "minimization"), or written to --out
  sequence file  minimized for its first unexplained finding (or --signature);
                 the result is written to --out (default: x.json -> x.min.json);
                 the input file is never overwritten

Prints "N ops -> M ops in R runs (T ms)". Exit 0 done, 1 nothing to minimize (no
finding, or the signature does not reproduce), 2 bad input.

flags:
  --out FILE      where to write the result
  --designs A,B   designs (default: recorded in a crash file; before,after for a
                  sequence file)
  --equiv E       equivalence (default: recorded; state)
  --domain D      domain (default: recorded; legal)
  --signature SIG the finding to keep
  --max-runs N    most predicate runs (default ${DEFAULT_MAX_RUNS}; the deterministic bound)
  --time S        wall-clock safety net in seconds (default ${DEFAULT_TIME_SEC})
  --hang-timeout S  a probe making no progress for S seconds shows the hang
                    signature (default 10)

example: tdpfuzz minimize crashes/divergence-fault-stats-cebf2928cf9d.json`;

interface Options {
  out: string | undefined;
  signature: string | undefined;
  maxRuns: number;
  timeLimitMs: number;
}

function summary(before: number, res: MinimizeResult): string {
  const s = res.stats;
  return `${before} ops -> ${res.ops.length} ops in ${s.runs} runs (${s.timeMs} ms)`
    + (s.truncated ? ` — stopped by the ${s.truncatedBy === 'time' ? 'time limit' : 'run budget'}, not 1-minimal` : '');
}

function opLines(ops: readonly Op[]): string[] {
  return ops.map((op, i) => `  ${String(i).padStart(3)}  ${describeOp(op)}`);
}

function crashFinding(f: Finding): CrashFinding {
  const out: CrashFinding = { kind: f.kind, designs: f.designs, opIndex: f.opIndex, opKind: f.opKind, component: f.component, message: f.message };
  if (f.explained) out.explained = f.explained;
  return out;
}

/** The finding with `signature` in a run of `ops` (the minimizer guarantees there is one). */
function findingOn(seq: Sequence, ops: Op[], signature: string, settings: RunSettings): Finding {
  const r = runBoundedSequence(makeSequence(seq.config, ops), settings);
  const f = [...r.findings, ...r.explained].find(x => x.signature === signature);
  if (!f) throw new Error(`minimized ops do not reproduce ${signature}`);
  return f;
}

function designFlags(settings: RunSettings): string {
  const d = settings.designSpecs.join(',');
  return [d !== 'before,after' ? ` --designs ${d}` : '', settings.equiv !== 'state' ? ` --equiv ${settings.equiv}` : '',
    settings.domain !== 'legal' ? ` --domain ${settings.domain}` : ''].join('');
}

function minimizeCrashFile(item: InputFile, settings: RunSettings, o: Options, io: Io): number {
  const crash = item.crash!;
  const signature = o.signature ?? crash.signature;
  const outAbs = o.out !== undefined ? path.resolve(io.cwd, o.out) : item.file;
  const inPlace = outAbs === item.file;
  if (inPlace) {
    const differs: string[] = [];
    if (signature !== crash.signature) differs.push('--signature');
    if (settings.designSpecs.join(',') !== crash.designs.join(',')) differs.push('--designs');
    if (settings.equiv !== crash.equiv) differs.push('--equiv');
    if (settings.domain !== crash.domain) differs.push('--domain');
    if (differs.length) {
      throw new UsageError(`${differs[0]}: differs from what ${item.shown} records; write the result to another file with --out`);
    }
  }
  // Before minimizing (up to minutes): the result must be writable where it goes.
  checkOutputFile(outAbs, inPlace ? item.shown : `--out ${o.out}`, io.cwd);
  const opts = { maxRuns: o.maxRuns, timeLimitMs: o.timeLimitMs };
  let from: 'ops' | 'originalOps' = 'ops';
  let start = crash.ops;
  let res = minimizeSequence(item.seq, signature, settings, opts);
  if (!res.stats.reproduced && JSON.stringify(crash.originalOps) !== JSON.stringify(crash.ops)) {
    from = 'originalOps';
    start = crash.originalOps;
    res = minimizeSequence({ ...item.seq, ops: crash.originalOps }, signature, settings, opts);
  }
  if (!res.stats.reproduced) {
    io.err(`tdpfuzz: ${item.shown}: nothing to minimize: ${signature} does not reproduce with designs ${settings.designSpecs.join(',')} `
      + `(${settings.equiv} equivalence, ${settings.domain} domain)\n`);
    return 1;
  }
  const f = findingOn(item.seq, res.ops, signature, settings);
  const minimization = { ...statsRecord(res.stats, o.maxRuns), from };
  const update = (c: CrashFile): CrashFile => ({
    ...c, ops: res.ops, finding: crashFinding(f), firstDivergence: f.divergence ?? null, minimization,
  });
  io.out(`${summary(start.length, res)}\n`);
  let written: CrashFile;
  if (inPlace) {
    let kept = false;
    written = updateCrashFile(item.file, (cur) => {
      if (cur.signature !== crash.signature) throw new UsageError(`${item.shown}: now holds signature ${cur.signature}; not updated`);
      // A smaller reproducer stored meanwhile (a campaign recording the same signature) wins.
      const changed = JSON.stringify(cur.ops) !== JSON.stringify(crash.ops);
      if (changed && cur.ops.length < res.ops.length) { kept = true; return null; }
      return update(cur);
    }, { shown: item.shown });
    io.out(kept ? `kept ${item.shown}: it now holds a smaller reproducer (${written.ops.length} ops)\n` : `updated ${item.shown}\n`);
  } else {
    const shownOut = displayPath(outAbs, io.cwd);
    // Designs given with --designs are recorded like a campaign records them (module paths absolute).
    const designs = settings.designSpecs.join(',') === crash.designs.join(',')
      ? { designs: crash.designs, designModules: crash.designModules } : recordedDesigns(settings.designSpecs, io.cwd);
    const base: CrashFile = signature === crash.signature
      ? { ...crash, ...designs, equiv: settings.equiv, domain: settings.domain }
      // A new signature starts a new history: no hits and no merge record carried over.
      : { ...crash, signature, status: 'open', hits: 1, mergedFrom: undefined, ...designs, equiv: settings.equiv, domain: settings.domain };
    written = validateCrash(JSON.parse(serializeCrash({ ...update(base), replay: `npx tdpfuzz replay ${shownOut}` })), shownOut);
    fs.mkdirSync(path.dirname(outAbs), { recursive: true });
    writeFileAtomic(outAbs, serializeCrash(written, outAbs));
    io.out(`wrote ${shownOut}\n`);
  }
  const shown = inPlace ? item.shown : displayPath(outAbs, io.cwd);
  io.out(`${opLines(written.ops).join('\n')}\nreplay: npx tdpfuzz replay ${shown}\nexplain: npx tdpfuzz explain ${shown}\n`);
  return 0;
}

function defaultOut(file: string): string {
  return file.endsWith('.json') ? `${file.slice(0, -'.json'.length)}.min.json` : `${file}.min.json`;
}

function minimizeSequenceFile(item: InputFile, settings: RunSettings, o: Options, io: Io): number {
  const outAbs = path.resolve(io.cwd, o.out ?? defaultOut(item.file));
  if (outAbs === item.file) throw new UsageError(`--out: ${o.out} is the input file (minimize never overwrites an input sequence file)`);
  checkOutputFile(outAbs, `--out ${o.out ?? displayPath(outAbs, io.cwd)}`, io.cwd);
  const r = runBoundedSequence(item.seq, settings);
  let signature = o.signature;
  if (signature === undefined) {
    signature = r.findings[0]?.signature;
    if (signature === undefined) {
      const ids = explainedIds(r);
      io.err(`tdpfuzz: ${item.shown}: nothing to minimize: no unexplained finding with designs ${settings.designSpecs.join(',')}`
        + `${ids.length ? ` (explained: ${ids.join(', ')}; pick one with --signature)` : ''}\n`);
      return 1;
    }
  } else if (![...r.findings, ...r.explained].some(f => f.signature === signature)) {
    const seen = [...r.findings, ...r.explained].map(f => f.signature);
    io.err(`tdpfuzz: ${item.shown}: nothing to minimize: ${signature} is not found${seen.length ? ` (found: ${seen.join('; ')})` : ''}\n`);
    return 1;
  }
  const res = minimizeSequence(item.seq, signature, settings, { maxRuns: o.maxRuns, timeLimitMs: o.timeLimitMs });
  const meta = {
    description: `minimized reproducer of ${signature}`,
    minimizedFrom: item.shown, signature, designs: settings.designSpecs, equiv: settings.equiv, domain: settings.domain,
    minimization: statsRecord(res.stats, o.maxRuns),
  };
  const shownOut = displayPath(outAbs, io.cwd);
  fs.mkdirSync(path.dirname(outAbs), { recursive: true });
  writeFileAtomic(outAbs, serializeSequence(makeSequence(item.seq.config, res.ops, meta), outAbs));
  const flags = designFlags(settings);
  io.out(`${summary(item.seq.ops.length, res)}\nwrote ${shownOut}\n${opLines(res.ops).join('\n')}\n`
    + `replay: npx tdpfuzz replay ${shownOut}${flags}\nexplain: npx tdpfuzz explain ${shownOut}${flags}\n`);
  return 0;
}

export const minimizeCommand: Command = {
  name: 'minimize',
  summary: 'reduce a crash or sequence file to a 1-minimal reproducer of the same signature',
  help: HELP,
  async run(argv, io) {
    const { flags, positional } = parseFlags('minimize', FLAGS, argv);
    if (flags.help) { io.out(`${HELP}\n`); return 0; }
    if (positional.length === 0) throw new UsageError('minimize: missing FILE (a crash file or a sequence file)');
    if (positional.length > 1) throw new UsageError(`minimize: expected one FILE, got ${positional.length} (${positional.join(' ')})`);
    const item = loadInputFile(positional[0], io.cwd);
    const overrides = {
      designs: flags.designs ?? null,
      equiv: flags.equiv ?? null,
      domain: flags.domain ?? null,
    };
    const settings = { ...settingsFor(item, overrides, io.cwd, line => io.err(`${line}\n`)), hangMs: flags['hang-timeout'] * 1000 };
    const o: Options = {
      out: flags.out,
      signature: flags.signature,
      maxRuns: flags['max-runs'],
      timeLimitMs: flags.time * 1000,
    };
    return item.kind === 'crash' ? minimizeCrashFile(item, settings, o, io) : minimizeSequenceFile(item, settings, o, io);
  },
};
