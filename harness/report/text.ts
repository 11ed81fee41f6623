// report.txt: the mail-ready plain-text report (issue 12 item 2). A KVM developer pastes it into a
// reply on the list, so: at most 80 columns, no Markdown (no fences, no `**`), relative paths, the
// reproducer as a numbered op list with `>>>` at the op where the finding shows, each design's side of
// the first divergence stacked (not side by side) with the SEAMCALLs under their TDX module names
// (TDH.MEM.PAGE.REMOVE …), grouped under the kernel function that issued them (`tdx_track():`), and
// the replay command.
import type { FirstDivergence } from '../run/findings';
import { coverageFamilies } from '../run/coverage_classes';
import {
  blindSpots, coverageFamilyPhrase, designsPhrase, findingsPhrase, geometryPhrase, modelTimeRows, msPhrase, num, plural, PROFILE_DESCRIPTIONS, sharePhrase,
  sourcePhrase, type ReportData, type ReportFinding,
} from './data';

export const TEXT_WIDTH = 80;

/** The TDX module's name of a SEAMCALL (TDH.MEM.*, TDH.PHYMEM.*, TDH.MNG.*) at the start of a log line. */
export function tdhName(line: string): string {
  const m = /^([A-Z][A-Z.]*[A-Z])/.exec(line);
  if (!m) return line;
  const call = m[1];
  const full = call.startsWith('PHYMEM.') || call.startsWith('MNG.') || call.startsWith('VP.') ? `TDH.${call}` : `TDH.MEM.${call}`;
  return full + line.slice(call.length);
}

/** Break a token longer than the width after a '/', '-' or '|' where possible, else anywhere. */
function breakToken(token: string, width: number): string[] {
  const out: string[] = [];
  let rest = token;
  while (rest.length > width) {
    const cut = Math.max(rest.lastIndexOf('/', width - 1), rest.lastIndexOf('-', width - 1), rest.lastIndexOf('|', width - 1));
    const at = cut > width / 2 ? cut + 1 : width;
    out.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  out.push(rest);
  return out;
}

/** Word-wrap `text` to TEXT_WIDTH: the first line starts with `first`, the others with `indent`. */
export function wrap(text: string, indent = '', first = indent): string[] {
  const lines: string[] = [];
  let cur = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && cur.length + 1 + word.length > TEXT_WIDTH) { lines.push(cur); cur = indent; empty = true; }
    const room = TEXT_WIDTH - cur.length - (empty ? 0 : 1);
    const parts = word.length > room ? breakToken(word, Math.max(room, 20)) : [word];
    parts.forEach((p, k) => {
      if (k > 0) { lines.push(cur); cur = indent; empty = true; }
      cur += (empty ? '' : ' ') + p;
      empty = false;
    });
  }
  if (!empty || lines.length === 0) lines.push(cur);
  return lines;
}

/**
 * A design's SEAMCALLs, each run of calls from one kernel function under that function's name, as
 * ftrace's function_graph prints a call (`tdx_track():`, then `TDH.MEM.TRACK() = SUCCESS` indented).
 * Without the names (a crash file written before seamcallBy existed) the calls alone.
 */
export function seamcallBlock(calls: readonly string[], by: readonly string[] | undefined, indent: string): string[] {
  const out: string[] = [];
  let last: string | undefined;
  calls.forEach((c, i) => {
    const fn = by?.[i];
    if (!fn) { out.push(...wrap(tdhName(c), `${indent}      `, `${indent}  `)); last = undefined; return; }
    if (fn !== last) out.push(...wrap(`${fn}():`, `${indent}    `, `${indent}  `));
    last = fn;
    out.push(...wrap(tdhName(c), `${indent}        `, `${indent}    `));
  });
  return out;
}

function sideLines(d: FirstDivergence, indent: string): string[] {
  const out: string[] = [];
  for (const s of d.sides) {
    out.push(...wrap(`${s.design}:`, `${indent}  `, indent));
    out.push(...wrap(`result: ${s.result}`, `${indent}      `, `${indent}  `));
    out.push(...seamcallBlock(s.seamcalls, s.seamcallBy, indent));
    for (const g of s.diagnostics) out.push(...wrap(`diag ${g}`, `${indent}      `, `${indent}  `));
    for (const t of s.trace ?? []) out.push(...wrap(`trace ${t}`, `${indent}      `, `${indent}  `));
    if (!s.seamcalls.length && !s.diagnostics.length) out.push(`${indent}  (no SEAMCALL, no diagnostic)`);
  }
  return out;
}

/** One finding as mail-ready lines (numbered n), as report.txt and `explain --format mail` print it. */
export function findingLines(f: ReportFinding, n: number | string): string[] {
  const out: string[] = [];
  out.push(...wrap(`${n}. ${f.signature} (${plural(f.hits, 'hit')})${f.status !== 'open' ? ` [${f.status}]` : ''}`, '      ', '   '));
  out.push(...wrap(f.message, '   ', '   '));
  out.push(...wrap(`first seen: ${sourcePhrase(f.firstSource)}`, '     ', '   '));
  if (f.crashFile) out.push(...wrap(`crash file: ${f.crashFile}`, '     ', '   '));
  out.push(`   reproducer (${plural(f.reproducer.length, 'op')}${f.minimized ? `, minimized from ${f.originalOpCount}` : ''}; the teardown follows):`);
  f.reproducer.forEach((op, i) => {
    const mark = i === f.opIndex ? '>>>' : '   ';
    out.push(...wrap(op, `${' '.repeat(10)}`, `${mark} ${String(i + 1).padStart(4)}. `));
  });
  if (f.opIndex >= f.reproducer.length) out.push('>>>       (the teardown the runner appends)');
  const d = f.firstDivergence;
  if (d) {
    out.push('', ...wrap(`first divergence at op ${d.opIndex + 1} (${d.op}), in ${d.component}:`, '     ', '   '));
    out.push(...sideLines(d, '     '));
  }
  out.push('', ...wrap(`replay: ${f.replay}`, '     ', '   '));
  return out;
}

export function renderText(r: ReportData): string {
  const s = r.scope;
  const out: string[] = [];
  out.push(`tdpfuzz ${r.toolVersion} report`, '');
  out.push(...wrap(r.verdict.line), '');
  out.push('Scope');
  out.push(...wrap(`designs ${designsPhrase(s.designs)}; ${s.equiv} equivalence; ${s.domain} domain`, '    ', '  '));
  out.push(...wrap(`geometry: ${geometryPhrase(s.config)}`, '    ', '  '));
  out.push(...wrap(`profile: ${s.profile} (${PROFILE_DESCRIPTIONS[s.profile]})`, '    ', '  '));
  out.push(...wrap(`seed ${s.seed}${s.shard ? `, shard ${s.shard.index}/${s.shard.count}` : ''}; ${plural(s.sequences, 'sequence')} (${s.generated.toLocaleString('en-US')} generated, ${plural(s.corpus.files, 'corpus file')}), ${plural(s.ops, 'op')}`, '    ', '  '));
  out.push(...wrap(`coverage: ${r.coverage.reached} classes; ${r.coverage.expectedReached} of ${r.coverage.expected} expected SEAMCALL/fault/race classes`, '    ', '  '));
  for (const f of coverageFamilies(r.coverage, r.timing.lastNewByFamily)) out.push(...wrap(coverageFamilyPhrase(f), '        ', '    '));
  const blind = blindSpots(s);
  if (blind.length) out.push(...wrap(`not exercised: ${blind.join('; ')}`, '    ', '  '));
  out.push('');
  out.push(`Findings (${findingsPhrase(r)})`);
  const bySig = new Map(r.findings.map(f => [f.signature, f]));
  r.buckets.forEach((b, i) => {
    const members = b.signatures.map(sig => bySig.get(sig)!);
    if (members.length === 1) { out.push('', ...findingLines(members[0], `Bug ${i + 1}`)); return; }
    out.push('', ...wrap(`Bug ${i + 1}: ${plural(members.length, 'signature')}, one root cause (${b.groupedBy.join('; ')})${b.status !== 'open' ? ' [accepted]' : ''}:`, '   ', ''));
    members.forEach((f, k) => { out.push(''); out.push(...findingLines(f, `${i + 1}.${k + 1}`)); });
  });
  if (r.explained.length) {
    out.push('', 'By-design differences seen (kernel-model §3.1)');
    for (const e of r.explained) out.push(...wrap(`${e.id} ${e.title}: ${plural(e.sequences, 'sequence')}`, '      ', '  '));
  }
  out.push(...modelTimeLines(r));
  return `${out.join('\n')}\n`;
}

/**
 * "Model time by op kind": per kind its ops (deterministic, padded into columns), then its ms and
 * share (timings, last and unpadded: bench/normalize_timings.js replaces them without moving the
 * columns before them).
 */
function modelTimeLines(r: ReportData): string[] {
  const rows = modelTimeRows(r);
  if (!rows) return [];
  const w = Math.max(...rows.map(x => x.kind.length), 4);
  const n = Math.max(...rows.map(x => num(x.ops).length), 3);
  return ['', 'Model time by op kind (ms and share are timings)',
    ...rows.map(x => `  ${x.kind.padEnd(w)}  ${num(x.ops).padStart(n)} ops  ${msPhrase(x.ms)}  ${sharePhrase(x.share)} of model time`)];
}
