// `tdpfuzz explain FILE`: a reviewer's view of one sequence or crash file (DESIGN §5, §7): the ops as
// a numbered readable list, the finding, every op with each design's result, SEAMCALLs and
// diagnostics side by side, and at the first divergence the trace diff and the unified state diff.
// Exit codes as replay: 0 nothing found (or an accepted crash file reproduced: XFAIL), 1 a finding
// reproduced, 2 bad input.
import { DOMAINS } from '../seq/domain';
import { flagTable, HANG_TIMEOUT_FLAG, parseFlags, UsageError, type Command } from './flags';
import { EQUIVALENCES } from '../run/compare';
import { describeOp, type Finding, type FirstDivergence } from '../run/findings';
import { designsPhrase, geometryPhrase } from '../report/data';
import { acceptedSignatures, judge, loadInputFile, settingsFor, type InputFile, type RunSettings } from '../store/inputs';
import { runBoundedSequence, type RunResult } from '../run/runner';
import { boundedTraceText } from '../run/trace';
import { findingLines, wrap } from '../report/text';

const FLAGS = flagTable([
  { name: 'designs', kind: { type: 'string', what: 'a comma-separated list of design names or module paths' }, metavar: 'A,B', help: 'designs (default: recorded in a crash file; before,after for a sequence file)' },
  { name: 'equiv', kind: { type: 'enum', values: EQUIVALENCES }, metavar: 'E', help: 'equivalence (default: recorded; state for a sequence file)' },
  { name: 'domain', kind: { type: 'enum', values: DOMAINS }, metavar: 'D', help: 'domain (default: recorded; legal for a sequence file)' },
  { ...HANG_TIMEOUT_FLAG, default: 10 },
  { name: 'format', kind: { type: 'enum', values: ['text', 'mail'] as const }, metavar: 'F', help: 'text (default: the full reviewer view) or mail (80 columns, stacked traces, TDH.* names: paste into a reply)' },
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

const HELP = `usage: tdpfuzz explain [flags] FILE

Prints a sequence file or crash file for a reviewer: the ops as a numbered list,
the finding, each op with every design's result, SEAMCALLs and diagnostics side
by side (!= marks differing results), and at the first divergence between the
designs the trace diff and the unified diff of their state. Exit codes as
replay: 0 nothing found (or an "expected"/"explained" crash file reproduced), 1
a finding reproduced, 2 bad input.

flags:
  --designs A,B  designs (default: recorded in a crash file; before,after for a
                 sequence file)
  --equiv E      equivalence (default: recorded; state for a sequence file)
  --domain D     domain (default: recorded; legal for a sequence file)
  --hang-timeout S  a run making no progress for S seconds is a hang (default
                    10)
  --format F     text (default: the full reviewer view) or mail (80 columns,
                 stacked traces, TDH.* names: paste into a reply)

example: tdpfuzz explain crashes/divergence-fault-stats-cebf2928cf9d.json`;

function configPhrase(item: InputFile): string {
  const c = item.seq.config;
  return `${geometryPhrase(c)}${c.proveMmu ? ', CONFIG_KVM_PROVE_MMU' : ''}${c.dpamt ? ', DPAMT' : ''}`;
}

function divergenceLines(d: FirstDivergence, label: string): string[] {
  const out = [`first divergence: op ${d.opIndex} (${d.op}), in ${d.component}${label}`, ''];
  const changed = (diff: string): boolean => diff.split('\n').some(l => /^[-+][^-+]/.test(l));
  out.push(`trace diff (${d.sides.map(s => s.design).join(' vs ')}):`);
  out.push(changed(d.traceDiff) ? d.traceDiff.trimEnd() : '  (same results, SEAMCALLs and diagnostics)');
  out.push('', `state after the op (unified diff, ${d.sides.map(s => s.design).join(' vs ')}):`);
  out.push(changed(d.stateDiff) ? d.stateDiff.trimEnd() : '  (same canonical state)');
  return out;
}

/** The finding whose divergence to show: the crash file's (if it has one), else the earliest divergence of the run. */
function divergenceToShow(item: InputFile, r: RunResult): { d: FirstDivergence; label: string } | null {
  const target = item.crash ? [...r.findings, ...r.explained].find(f => f.signature === item.crash!.signature) : undefined;
  if (target?.divergence) return { d: target.divergence, label: '' };
  const all: Finding[] = [...r.findings, ...r.explained].filter(f => f.divergence).sort((a, b) => a.opIndex - b.opIndex);
  const first = all[0];
  if (!first) return null;
  return { d: first.divergence!, label: first.explained ? ` (explained: ${first.explained.id} ${first.explained.title})` : '' };
}

/** Run the file once and judge it as replay does (findings with an accepted crash file next to this one are known behaviour). */
function runAndJudge(item: InputFile, settings: RunSettings) {
  const r = runBoundedSequence(item.seq, settings);
  const accepted = acceptedSignatures([item.crash], item.crash ? [item.file] : []);
  return { r, accepted, j: judge(item, r, settings, accepted) };
}

function explainText(item: InputFile, settings: RunSettings): { text: string; exitCode: number } {
  const { r, accepted, j } = runAndJudge(item, settings);
  const out: string[] = [];
  out.push(`${item.shown}: ${item.kind === 'crash' ? `crash file [${item.crash!.status}]` : 'sequence file'}; designs ${designsPhrase(settings.designSpecs)}; `
    + `${settings.equiv} equivalence; ${settings.domain} domain`);
  out.push(`config: ${configPhrase(item)}`);
  const description = item.seq.meta?.description;
  if (typeof description === 'string') out.push(`description: ${description}`);
  out.push('');

  // The ops, numbered as the runner and the trace number them.
  out.push(`ops (${item.seq.ops.length}${r.teardownAppended ? ', then the teardown the runner appends' : ''}):`);
  r.ops.forEach((op, i) => {
    const appended = r.teardownAppended && i === r.ops.length - 1;
    out.push(`  ${String(i).padStart(3)}  ${describeOp(op)}${appended ? '   (teardown appended by the runner)' : ''}`);
  });
  out.push('');

  // The finding(s).
  if (item.crash) {
    const c = item.crash;
    const seen = [...r.findings, ...r.explained].find(f => f.signature === c.signature);
    out.push(`finding: ${c.signature} [${c.status}]${seen ? ` — reproduced at op ${seen.opIndex}` : ' — NOT reproduced'}`);
    out.push(`  ${(seen ?? c.finding).message}`);
    if (c.minimization) {
      const m = c.minimization as { opsBefore?: number; runs?: number; timeMs?: number };
      if (typeof m.opsBefore === 'number') out.push(`  minimized from ${m.opsBefore} ops${typeof m.runs === 'number' ? ` in ${m.runs} runs` : ''}${typeof m.timeMs === 'number' ? ` (${m.timeMs} ms)` : ''}`);
    }
  }
  const others = item.crash ? r.findings.filter(f => f.signature !== item.crash!.signature) : r.findings;
  if (!item.crash || others.length) {
    out.push(`${item.crash ? 'other unexplained findings' : 'unexplained findings'}:${others.length ? '' : ' none'}`);
    for (const f of others) out.push(`  - ${f.signature}${accepted.has(f.signature) ? ' (accepted: an expected/explained crash file next to this one)' : ''}`, `    ${f.message}`);
  }
  const ex = r.explained.filter(f => f.signature !== item.crash?.signature);
  if (ex.length) {
    out.push('explained differences (by design, kernel-model §3.1):');
    for (const f of ex) out.push(`  - ${f.explained!.id} ${f.explained!.title}: ${f.message.replace(/^D\d+ [^:]*: /, '')}`);
  }
  out.push('');

  // Per-op traces, side by side.
  out.push('trace (each design side by side; != marks ops whose results differ):', '');
  out.push(boundedTraceText(item.seq, settings.designs, settings.hangMs!).trimEnd(), '');

  const shown = divergenceToShow(item, r);
  if (shown) out.push(...divergenceLines(shown.d, shown.label));
  else out.push('first divergence: none (the designs agree op by op under this equivalence)');
  out.push('');
  out.push(j.line);
  out.push(`replay: npx tdpfuzz replay ${item.shown}`);
  return { text: `${out.join('\n')}\n`, exitCode: j.verdict === 'FAIL' ? 1 : 0 };
}

/** `explain --format mail`: the finding as report.txt prints one, for a reply on the list. */
function explainMail(item: InputFile, settings: RunSettings): { text: string; exitCode: number } {
  const { r, j } = runAndJudge(item, settings);
  const out = [
    ...wrap(`${item.shown}: ${item.kind === 'crash' ? `crash file [${item.crash!.status}]` : 'sequence file'}; designs ${designsPhrase(settings.designSpecs)}; ${settings.equiv} equivalence; ${settings.domain} domain`, '  ', ''),
    ...wrap(`config: ${configPhrase(item)}`, '  ', ''),
    '',
  ];
  const seen = item.crash ? [...r.findings, ...r.explained].find(f => f.signature === item.crash!.signature) : r.findings[0];
  const shown = divergenceToShow(item, r);
  if (seen || item.crash) {
    const c = item.crash;
    out.push(...findingLines({
      signature: seen?.signature ?? c!.signature, kind: seen?.kind ?? c!.finding.kind, designs: seen?.designs ?? [], opKind: seen?.opKind ?? '',
      component: seen?.component ?? '', message: seen?.message ?? `${c!.finding.message} (NOT reproduced)`, hits: 1,
      firstSource: c?.source ?? { file: item.shown }, status: c?.status ?? 'open', crashFile: c ? item.shown : null,
      reproducer: item.seq.ops.map(describeOp), originalOpCount: c?.originalOps.length ?? item.seq.ops.length, minimized: !!c?.minimization,
      opIndex: seen?.opIndex ?? -1, firstDivergence: shown?.d ?? null, replay: `npx tdpfuzz replay ${item.shown}`,
    }, 1));
  } else {
    out.push('No unexplained finding.', '', ...wrap(`replay: npx tdpfuzz replay ${item.shown}`, '    ', '  '));
  }
  out.push('', ...wrap(j.line));
  return { text: `${out.join('\n')}\n`, exitCode: j.verdict === 'FAIL' ? 1 : 0 };
}

export const explainCommand: Command = {
  name: 'explain',
  summary: 'print a sequence or crash file as readable ops, side-by-side traces and the first-divergence diff',
  help: HELP,
  async run(argv, io) {
    const { flags, positional } = parseFlags('explain', FLAGS, argv);
    if (flags.help) { io.out(`${HELP}\n`); return 0; }
    if (positional.length === 0) throw new UsageError('explain: missing FILE (a sequence file or a crash file)');
    if (positional.length > 1) throw new UsageError(`explain: expected one FILE, got ${positional.length} (${positional.join(' ')})`);
    const item = loadInputFile(positional[0], io.cwd);
    const settings = settingsFor(item, {
      designs: flags.designs ?? null,
      equiv: flags.equiv ?? null,
      domain: flags.domain ?? null,
    }, io.cwd, line => io.err(`${line}\n`));
    const run = { ...settings, hangMs: flags['hang-timeout'] * 1000 };
    const { text, exitCode } = flags.format === 'mail' ? explainMail(item, run) : explainText(item, run);
    io.out(text);
    return exitCode;
  },
};
