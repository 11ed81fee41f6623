// report.md: the differential report as Markdown that pastes into a mailing-list reply, verdict
// line first.
import { sideBySide } from '../run/trace';
import { coverageFamilies, FAMILY_TITLES } from '../run/coverage_classes';
import {
  blindSpots, coverageFamilyPhrase, designsPhrase, EQUIV_DESCRIPTIONS, geometryPhrase, modelTimeRows, msPhrase, num, plural, PROFILE_DESCRIPTIONS,
  reproducerLines, seedPhrase, sharePhrase, sourcePhrase, findingsPhrase, traceColumns, type ReportData, type ReportFinding,
} from './data';

/** One finding's message, provenance, reproducer and first divergence. */
function findingBody(out: string[], f: ReportFinding): void {
  out.push(f.message, '');
  out.push(`- first seen: ${sourcePhrase(f.firstSource)}`);
  if (f.crashFile) out.push(`- crash file: ${f.crashFile}`);
  out.push(`- replay: \`${f.replay}\``, '');
  out.push(`Reproducer (${plural(f.reproducer.length, 'op')}${f.minimized ? `, minimized from ${f.originalOpCount}` : ''}):`, '');
  out.push('```', ...reproducerLines(f), '```', '');
  const d = f.firstDivergence;
  if (d) {
    out.push(`First divergence at op ${d.opIndex} (${d.op}), in ${d.component}:`, '');
    out.push('```', sideBySide(traceColumns(d)), '```', '');
    if (d.stateDiff.split('\n').some(l => /^[-+][^-+]/.test(l))) {
      out.push('State after the op:', '', '```diff', d.stateDiff.trimEnd(), '```', '');
    }
  }
}

export function renderMarkdown(r: ReportData): string {
  const s = r.scope;
  const out: string[] = [];
  out.push(`# tdpfuzz differential report: ${designsPhrase(s.designs)}`, '');
  out.push(r.verdict.line, '');

  out.push('## Scope', '');
  const parts = [`${num(s.generated)} generated from ${seedPhrase(s)}`];
  if (s.corpus.files) parts.push(`${num(s.corpus.files)} corpus files from ${s.corpus.dir}`);
  out.push(`- sequences: ${num(s.sequences)} (${parts.join(', ')})`);
  if (s.merged) {
    out.push(`- merged from ${plural(s.merged.parts.length, 'part')}: ${s.merged.parts.map(p => `${p.from} (seed ${p.seed}${p.shard ? ` shard ${p.shard.index}/${p.shard.count}` : ''}, ${plural(p.sequences, 'sequence')})`).join('; ')}`);
  }
  if (s.corpus.skipped.length) {
    out.push(`- corpus files skipped: ${s.corpus.skipped.map(x => `${x.file} (${x.reason})`).join('; ')}`);
  }
  out.push(`- ops: ${num(s.ops)} (including the teardown the runner appends)`);
  out.push(`- designs: ${s.designs.join(', ')}${s.designSpecs.join(',') !== s.designs.join(',') ? ` (given as ${s.designSpecs.join(',')})` : ''}; each compared with ${s.designs[0]} in lockstep`);
  out.push(`- equivalence: ${s.equiv} (${EQUIV_DESCRIPTIONS[s.equiv]})`);
  out.push(`- domain: ${s.domain} (${s.domain === 'legal' ? 'only call patterns the kernel can issue; any WARN/KVM_BUG_ON without an injected fault is a finding' : 'includes misuse the kernel never does, where the designs differ on purpose'})`);
  out.push(`- geometry: ${geometryPhrase(s.config)}`);
  out.push(`- profile: ${s.profile} (${PROFILE_DESCRIPTIONS[s.profile]})`);
  out.push(`- generator: fault rate ${s.faultRate}, race rate ${s.raceRate}, up to ${s.maxOps} ops per sequence`);
  const budget = [s.budget.runs !== null ? `${num(s.budget.runs)} runs` : '', s.budget.timeSec !== null ? `${s.budget.timeSec} s` : ''].filter(Boolean).join(', ');
  out.push(`- budget: ${budget || 'none'}`);
  const c = r.coverage;
  const fams = Object.entries(c.byFamily).map(([f, n]) => `${n} ${FAMILY_TITLES[f] ?? f}`).join(', ');
  out.push(`- coverage: ${num(c.reached)} transition classes reached (${fams}); ${c.expectedReached} of ${c.expected} expected SEAMCALL/fault/race classes`
    + (c.expectedByFamily ? ` (${Object.entries(c.expectedByFamily).map(([f, e]) => `${FAMILY_TITLES[f] ?? f} ${e.reached}/${e.expected}`).join(', ')})` : ''));
  // per family: its denominator, when it last grew (a plateau long before the end says more of the
  // same budget will not help there) and what it never reached
  for (const f of coverageFamilies(c, r.timing.lastNewByFamily)) out.push(`  - ${coverageFamilyPhrase(f, x => `\`${x}\``)}`);
  const blind = blindSpots(s);
  if (blind.length) out.push(`- not exercised (the verdict says nothing about these): ${blind.join('; ')}`);
  out.push('');

  out.push(`## Findings (${findingsPhrase(r)})`, '');
  const bySig = new Map(r.findings.map(f => [f.signature, f]));
  const mark = (f: ReportFinding): string => `${plural(f.hits, 'hit')}${f.status !== 'open' ? ` [${f.status}]` : ''}`;
  r.buckets.forEach((b, i) => {
    const members = b.signatures.map(sig => bySig.get(sig)!);
    if (members.length === 1) {
      out.push(`### Bug ${i + 1}: \`${b.id}\` — ${mark(members[0])}`, '');
      findingBody(out, members[0]);
      return;
    }
    out.push(`### Bug ${i + 1}: \`${b.id}\` and ${plural(members.length - 1, 'related signature')}${b.status !== 'open' ? ' [accepted]' : ''}`, '');
    out.push(`One root cause (${b.groupedBy.join('; ')}):`, '');
    members.forEach((f, k) => out.push(`- ${i + 1}.${k + 1} \`${f.signature}\` — ${mark(f)}`));
    out.push('');
    members.forEach((f, k) => {
      out.push(`#### ${i + 1}.${k + 1} \`${f.signature}\` — ${mark(f)}`, '');
      findingBody(out, f);
    });
  });

  out.push(`## Explained differences (${r.explained.length === 0 ? 'none seen' : plural(r.explained.length, 'kind')})`, '');
  if (r.explained.length) {
    out.push('Differences the designs have on purpose (kernel-model §3.1), matched precisely and counted, never dropped:', '');
    for (const e of r.explained) {
      out.push(`- **${e.id}** ${e.title} — ${plural(e.sequences, 'sequence')}: ${e.reason}`);
      for (const x of e.signatures) out.push(`  - \`${x.signature}\` (${plural(x.sequences, 'sequence')}), e.g. ${x.message}`);
    }
    out.push('');
  }
  out.push('## Unobservable by design', '');
  for (const u of r.unobservable) out.push(`- **${u.id}** ${u.title}: ${u.reason}`);
  out.push('');

  const t = r.timing;
  out.push('## Throughput (timing, not deterministic)', '');
  out.push(`- ${num(Math.round(t.execsPerSec))} exec/s, ${num(Math.round(t.opsPerSec))} ops/s, elapsed ${t.elapsedSec.toFixed(1)} s (stopped by ${t.stoppedBy}); ${t.startedAt} → ${t.finishedAt}`);
  // A plateau long before the end says more of the same budget will not reach new classes.
  if (t.lastNewClassSec !== undefined) out.push(`- the last new coverage class was reached at ${t.lastNewClassSec.toFixed(1)} s`);
  // the engine's overhead: what the sequences cost to choose, apart from what they cost to run
  if (t.engineMs !== undefined) {
    // a merged report's engine time is its parts' sum: parts that ran side by side overlap in the elapsed time
    const parts = s.merged?.parts.length ?? 1;
    out.push(`- the engine's own work (choosing sequences, learning from their runs) took ${msPhrase(t.engineMs)}, `
      + (parts > 1 ? `summed over the ${parts} merged parts` : `${sharePhrase(t.engineMs / Math.max(t.elapsedSec * 1000, 1e-9))} of the elapsed time`));
  }
  out.push('');
  const rows = modelTimeRows(r);
  if (rows) {
    // ops are deterministic; ms and share are timings (the last two columns)
    out.push(`### Model time by op kind (profile: ${s.profile})`, '');
    out.push('| op kind | ops | model time | share |', '|---|---:|---:|---:|');
    for (const x of rows) out.push(`| ${x.kind} | ${num(x.ops)} | ${msPhrase(x.ms)} | ${sharePhrase(x.share)} |`);
    out.push('');
  }
  return out.join('\n');
}
