// report.junit.xml for CI: one failing testcase per open bug (report/buckets.ts), one skipped case
// per accepted bug, one passing case per explained signature, and — only when nothing unexplained
// was found — one passing "equivalence" case. So a CI dashboard counts bugs, once each: the
// equivalence claim is not a second failure next to the bugs that refute it.
//
// The file follows the JUnit XML that CI readers share (Jenkins' xunit junit-10 structure; GitLab and
// pytest also read testcase@file): test/fixtures/junit.xsd restates it, and test/harness/junit.test.ts
// validates written files against it with xmllint.
//   testcase@file  the bug's crash file (its first member's), as the report displays it
//   testcase@time  seconds from the campaign's start to the bug's first sighting (a fuzzer's "time to
//                  find"; timing.foundAtSec); the equivalence case's time is the campaign's
import { designsPhrase, num, plural, reproducerLines, seedPhrase, type ReportData, type ReportFinding } from './data';

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, ch => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[ch]!))
    // XML 1.0 forbids most control characters even escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/** JUnit's time attribute: seconds with millisecond precision. */
export function junitTime(sec: number): string {
  return Math.max(0, sec).toFixed(3);
}

function findingText(f: ReportFinding): string[] {
  return [`${f.signature} (${plural(f.hits, 'hit')}${f.status !== 'open' ? `, ${f.status}` : ''}): ${f.message}`,
    ...(f.crashFile ? [`  crash file: ${f.crashFile}`] : []), `  replay: ${f.replay}`];
}

export function renderJunit(r: ReportData): string {
  const s = r.scope;
  const suite = `tdpfuzz ${designsPhrase(s.designs)}`;
  const cases: string[] = [];
  const bySig = new Map(r.findings.map(f => [f.signature, f]));
  const foundAt = (sig: string): number => r.timing.foundAtSec?.[sig] ?? 0;
  if (r.verdict.clean) {
    const eqName = `equivalence: ${designsPhrase(s.designs)} (${s.equiv}, ${s.domain}, ${seedPhrase(s)}, ${num(s.sequences)} sequences)`;
    cases.push(`    <testcase classname="tdpfuzz.equivalence" name="${xmlEscape(eqName)}" time="${junitTime(r.timing.elapsedSec)}"/>`);
  }
  let failures = 0, skipped = 0;
  for (const b of r.buckets) {
    const members = b.signatures.map(sig => bySig.get(sig)!);
    const lead = members[0];
    const attrs = `classname="tdpfuzz.bugs.${xmlEscape(lead.kind)}" name="${xmlEscape(b.id)}"`
      + `${lead.crashFile ? ` file="${xmlEscape(lead.crashFile)}"` : ''} time="${junitTime(Math.min(...b.signatures.map(foundAt)))}"`;
    const body = [
      ...(members.length > 1 ? [`${plural(members.length, 'signature')}, one root cause (${b.groupedBy.join('; ')}):`] : []),
      ...members.flatMap(findingText), '', ...reproducerLines(lead),
      ...(lead.firstDivergence ? ['', lead.firstDivergence.stateDiff] : []),
    ].join('\n');
    if (b.status === 'open') {
      failures++;
      const message = members.length > 1 ? `${lead.message} (and ${plural(members.length - 1, 'related signature')})` : lead.message;
      cases.push(`    <testcase ${attrs}>`,
        `      <failure message="${xmlEscape(message)}" type="${xmlEscape(lead.kind)}">${xmlEscape(body)}</failure>`,
        '    </testcase>');
    } else {
      skipped++;
      cases.push(`    <testcase ${attrs}>`,
        `      <skipped message="${xmlEscape(`marked ${lead.status} in ${lead.crashFile ?? 'its crash file'}`)}"/>`,
        `      <system-out>${xmlEscape(body)}</system-out>`,
        '    </testcase>');
    }
  }
  for (const e of r.explained) {
    for (const x of e.signatures) {
      cases.push(`    <testcase classname="tdpfuzz.explained.${xmlEscape(e.id)}" name="${xmlEscape(x.signature)}" time="0.000">`,
        `      <system-out>${xmlEscape(`${e.id} ${e.title} (${x.sequences} sequences): ${e.reason}\ne.g. ${x.message}`)}</system-out>`,
        '    </testcase>');
    }
  }
  const tests = cases.filter(c => c.startsWith('    <testcase')).length;
  const time = junitTime(r.timing.elapsedSec);
  const props = [
    ['seed', String(s.seed)], ['shard', s.shard ? `${s.shard.index}/${s.shard.count}` : ''], ['designs', s.designSpecs.join(',')],
    ['equiv', s.equiv], ['domain', s.domain], ['geometry', s.config.geometry], ['hugePages', String(s.config.hugePages)],
    ['vcpus', String(s.config.vcpus)], ['sequences', String(s.sequences)], ['ops', String(s.ops)],
    ['bugs', String(r.buckets.length)], ['signatures', String(r.findings.length)], ['toolVersion', r.toolVersion],
  ].filter(([, v]) => v !== '');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tdpfuzz" tests="${tests}" failures="${failures}" errors="0" time="${time}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}" timestamp="${xmlEscape(r.timing.startedAt)}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
