// `tdpfuzz import FILE|DIR...`: turn jsfuzz crash files (the raw input bytes jsfuzz writes as
// crash-<sha256> into its cwd) into our crash format. Each input is decoded with the fuzz target's
// decoder and configuration (fuzz/fuzz_target.ts: TDPFUZZ_* environment variables, overridden
// by the flags below), run in lockstep, and every unexplained finding is recorded in the crash store
// (source {file, engine: "jsfuzz"}), exactly as a campaign records it: same file names, hit
// counting, smaller-reproducer replacement, triage status kept.
// Exit codes: 0 nothing reproduced, 1 at least one finding recorded, 2 bad input (and nothing found).
import { DOMAINS } from '../seq/domain';
import { GEOMETRIES } from '../seq/fields';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flagHelp, flagTable, parseFlags, UsageError, type Command, type Io } from './flags';
import { EQUIVALENCES } from '../run/compare';
import { CrashStore } from '../store/crash_store';
import { describeOp } from '../run/findings';
import { displayPath } from '../store/fsutil';
import { resolveTargetOptions, runBytes, targetOptionsFromEnv } from '../fuzz/fuzz_bytes';
import { InputError, MAX_VCPUS } from '../seq/sequence';
import { readInputFile } from '../store/input_file';
import { checkOutputDir } from '../store/output_place';
import { designModuleFile, probeDesigns } from '../run/designs';
import { TARGET_CONFIG_FILE } from '../fuzz/jsfuzz_config';
import { readTargetConfig } from '../fuzz/jsfuzz_config_reader';

const FLAGS = flagTable([
  { name: 'crashes', kind: { type: 'string', what: 'a directory' }, metavar: 'DIR', help: 'crash store to record findings in (default crashes)' },
  { name: 'designs', kind: { type: 'string', what: 'a comma-separated list of design names or module paths' }, metavar: 'A,B', help: 'designs the inputs were fuzzed with (default $TDPFUZZ_DESIGNS, else before,after)' },
  { name: 'domain', kind: { type: 'enum', values: DOMAINS }, metavar: 'D', help: 'decoder domain (default $TDPFUZZ_DOMAIN, else legal)' },
  { name: 'geometry', kind: { type: 'enum', values: GEOMETRIES }, metavar: 'G', help: 'geometry (default $TDPFUZZ_GEOMETRY, else compact)' },
  { name: 'equiv', kind: { type: 'enum', values: EQUIVALENCES }, metavar: 'E', help: 'equivalence (default $TDPFUZZ_EQUIV, else state)' },
  { name: 'huge-pages', kind: { type: 'bool' }, help: 'model TDX huge pages (default $TDPFUZZ_HUGE_PAGES)' },
  { name: 'prove-mmu', kind: { type: 'bool' }, help: 'model CONFIG_KVM_PROVE_MMU (default $TDPFUZZ_PROVE_MMU)' },
  { name: 'dpamt', kind: { type: 'bool' }, help: 'model Dynamic PAMT (default $TDPFUZZ_DPAMT)' },
  { name: 'vcpus', kind: { type: 'int', min: 1, max: MAX_VCPUS }, metavar: 'N', help: 'vCPUs per VM (default $TDPFUZZ_VCPUS, else 2)' },
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

const HELP = `usage: tdpfuzz import [flags] FILE|DIR...

Converts jsfuzz crash files (raw input bytes, e.g. crashes-jsfuzz/crash-<sha256>
from \`npm run fuzz:jsfuzz\`) into tdpfuzz crash files. Each input is decoded
exactly as the fuzz target decodes it (dist/harness/fuzz/fuzz_target.js: same
decoder; configuration from the same TDPFUZZ_* environment variables, which the
flags override), run through the designs in lockstep, and each unexplained
finding is recorded in the crash store with source {file, engine: "jsfuzz"}. A
directory means the files named crash-* in it. Decode with the configuration the
fuzzer ran with, or the input means something else.

Exit 0 when nothing reproduces, 1 when a finding was recorded, 2 on bad input
(one line per file).

flags:
${flagHelp(FLAGS, 16)}

example: export TDPFUZZ_DESIGNS=after,mutant:misses-leaf-zap-propagation
         npm run fuzz:jsfuzz
         npx tdpfuzz import crashes-jsfuzz/`;

/** FILE|DIR arguments → input files (a directory: its crash-* files, sorted). */
function expand(args: readonly string[], cwd: string, errors: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const abs = path.resolve(cwd, a);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (e) {
      errors.push(`${a}: cannot read (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as NodeJS.ErrnoException).code ?? String(e)})`);
      continue;
    }
    if (st.isDirectory()) {
      const names = fs.readdirSync(abs).filter(n => n.startsWith('crash-')).sort();
      if (names.length === 0) errors.push(`${a}: no crash-* files in this directory`);
      out.push(...names.map(n => path.join(abs, n)));
    } else {
      out.push(abs);
    }
  }
  return out;
}

async function runImport(argv: readonly string[], io: Io): Promise<number> {
  const { flags, given, positional } = parseFlags('import', FLAGS, argv);
  if (positional.length === 0) throw new UsageError('import: missing FILE (a jsfuzz crash file, or a directory of crash-* files)');
  // The configuration the fuzzer ran with, recorded next to its crash files: it wins over the
  // environment; a flag that contradicts it is an error (the bytes would decode into other sequences).
  const dirs = [...new Set(positional.map(a => { const abs = path.resolve(io.cwd, a); return fs.existsSync(abs) && fs.statSync(abs).isDirectory() ? abs : path.dirname(abs); }))];
  const targetConfig = dirs.map(d => readTargetConfig(d, displayPath(d, io.cwd))).find(c => c !== null) ?? null;
  const envAll = targetOptionsFromEnv(io.env);
  const env = targetConfig ? { ...envAll, designs: targetConfig.designs.join(','), domain: targetConfig.domain, equiv: targetConfig.equiv, config: targetConfig.config, cwd: io.cwd } : envAll;
  if (targetConfig) {
    const clash = (flag: string, given: unknown, rec: unknown): void => {
      if (given !== undefined && JSON.stringify(given) !== JSON.stringify(rec)) {
        throw new UsageError(`--${flag}: ${JSON.stringify(given)} differs from what ${TARGET_CONFIG_FILE} records for these crash files (${JSON.stringify(rec)})`);
      }
    };
    clash('domain', flags.domain, targetConfig.domain);
    clash('equiv', flags.equiv, targetConfig.equiv);
    clash('geometry', flags.geometry, targetConfig.config.geometry);
    clash('huge-pages', flags['huge-pages'], targetConfig.config.hugePages);
    clash('vcpus', flags.vcpus, targetConfig.config.vcpus);
    if (flags.designs !== undefined) {
      const abs = flags.designs.split(',').map(s => designModuleFile(s.trim(), io.cwd) ?? s.trim());
      clash('designs', abs.join(','), targetConfig.designs.join(','));
    }
  } else if (positional.length) {
    io.err(`WARNING: no ${TARGET_CONFIG_FILE} next to the inputs: decoding with the flags and TDPFUZZ_* environment (a fuzzer run of this version writes it)\n`);
  }
  const opts = resolveTargetOptions({
    designs: flags.designs ?? env.designs,
    domain: flags.domain ?? env.domain,
    equiv: flags.equiv ?? env.equiv,
    config: {
      ...env.config,
      ...(flags.geometry !== undefined ? { geometry: flags.geometry } : {}),
      ...(flags['huge-pages'] !== undefined ? { hugePages: flags['huge-pages'] } : {}),
      ...(flags['prove-mmu'] ? { proveMmu: true } : {}),
      ...(flags.dpamt ? { dpamt: true } : {}),
      ...(flags.vcpus !== undefined ? { vcpus: flags.vcpus } : {}),
    },
    // Design module paths are relative to where tdpfuzz runs (the flag) or npm started (the env).
    cwd: given.has('designs') || targetConfig ? io.cwd : env.cwd,
  });
  // Before anything is recorded: the designs run with this configuration, the crash store is writable.
  probeDesigns(opts.designs, opts.config, opts.designSpecs);
  checkOutputDir(flags.crashes ?? 'crashes', `--crashes ${flags.crashes ?? 'crashes'}`, io.cwd);
  const store = new CrashStore(flags.crashes ?? 'crashes', {
    cwd: io.cwd, warn: m => io.err(`WARNING: ${m}\n`),
  });
  const errors: string[] = [];
  const files = expand(positional, io.cwd, errors);
  let recorded = 0, reproduced = 0, decoded = 0;
  for (const file of files) {
    const shown = displayPath(file, io.cwd);
    let buf: Buffer;
    try {
      buf = readInputFile(file, shown);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push(e.message);
      continue;
    }
    if (/^\s*\{\s*"format"\s*:\s*"tdpfuzz-/.test(buf.subarray(0, 64).toString('latin1'))) {
      errors.push(`${shown}: is a tdpfuzz JSON file, not a jsfuzz input (run it with tdpfuzz replay)`);
      continue;
    }
    const { seq, result } = runBytes(buf, opts, true);
    decoded++;
    const opsNote = `${buf.length} bytes -> ${seq.ops.length} op${seq.ops.length === 1 ? '' : 's'} + teardown`;
    if (result.findings.length === 0) {
      io.out(`NOREPRO ${shown} (${opsNote}): no unexplained finding with designs ${opts.designSpecs.join(',')}, ${opts.domain} domain, ${opts.config.geometry} geometry\n`);
      continue;
    }
    reproduced++;
    io.out(`IMPORT ${shown} (${opsNote}): ${result.findings.length} finding${result.findings.length === 1 ? '' : 's'}\n`);
    for (const f of result.findings) {
      const r = store.record({
        finding: f, config: seq.config, designs: opts.designSpecs, equiv: opts.equiv, domain: opts.domain,
        source: { file: shown, engine: 'jsfuzz' }, ops: seq.ops, originalOps: seq.ops,
      });
      recorded++;
      const status = r.crash.status !== 'open' ? ` [${r.crash.status}]` : '';
      io.out(`  ${r.created ? 'NEW' : 'HIT'} ${f.signature} -> ${displayPath(r.file, io.cwd)}${status}\n`);
      if (r.created) io.out(`      at op ${f.opIndex}: ${f.opIndex < result.ops.length ? describeOp(result.ops[f.opIndex]) : 'teardown'}\n`);
    }
  }
  for (const e of errors) io.err(`tdpfuzz: ${e}\n`);
  io.out(`imported ${decoded} input${decoded === 1 ? '' : 's'}: `
    + `${reproduced} reproduced, ${recorded} finding${recorded === 1 ? '' : 's'} recorded${errors.length ? `, ${errors.length} error${errors.length === 1 ? '' : 's'}` : ''}\n`);
  return recorded ? 1 : errors.length ? 2 : 0;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'convert jsfuzz crash files (raw bytes) into tdpfuzz crash files',
  help: HELP,
  run: runImport,
};
