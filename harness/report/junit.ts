// report.junit.xml for CI: one testcase for equivalence, one per finding or explained signature.
import { designsPhrase, num, reproducerLines, seedPhrase, type ReportData } from './data';

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, ch => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[ch]!))
    // XML 1.0 forbids most control characters even escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function renderJunit(r: ReportData): string {
  const s = r.scope;
  const suite = `tdpfuzz ${designsPhrase(s.designs)}`;
  const cases: string[] = [];
  const failures = r.findings.filter(f => f.status === 'open').length;
  const eqName = `equivalence: ${designsPhrase(s.designs)} (${s.equiv}, ${s.domain}, ${seedPhrase(s)}, ${num(s.sequences)} sequences)`;
  if (r.verdict.clean) {
    cases.push(`    <testcase classname="tdpfuzz.equivalence" name="${xmlEscape(eqName)}" time="0"/>`);
  } else {
    cases.push(`    <testcase classname="tdpfuzz.equivalence" name="${xmlEscape(eqName)}" time="0">`,
      `      <failure message="${xmlEscape(r.verdict.line)}" type="unexplained">${xmlEscape(r.findings.filter(f => f.status === 'open').map(f => f.signature).join('\n'))}</failure>`,
      '    </testcase>');
  }
  for (const f of r.findings) {
    const name = xmlEscape(f.signature);
    const body = [f.message, `replay: ${f.replay}`, ...(f.crashFile ? [`crash file: ${f.crashFile}`] : []), '', ...reproducerLines(f),
      ...(f.firstDivergence ? ['', f.firstDivergence.stateDiff] : [])].join('\n');
    if (f.status === 'open') {
      cases.push(`    <testcase classname="tdpfuzz.findings.${xmlEscape(f.kind)}" name="${name}" time="0">`,
        `      <failure message="${xmlEscape(f.message)}" type="${xmlEscape(f.kind)}">${xmlEscape(body)}</failure>`,
        '    </testcase>');
    } else {
      cases.push(`    <testcase classname="tdpfuzz.findings.${xmlEscape(f.kind)}" name="${name}" time="0">`,
        `      <skipped message="${xmlEscape(`marked ${f.status} in ${f.crashFile ?? 'its crash file'}`)}"/>`,
        '    </testcase>');
    }
  }
  for (const e of r.explained) {
    for (const x of e.signatures) {
      cases.push(`    <testcase classname="tdpfuzz.explained.${xmlEscape(e.id)}" name="${xmlEscape(x.signature)}" time="0">`,
        `      <system-out>${xmlEscape(`${e.id} ${e.title} (${x.sequences} sequences): ${e.reason}\ne.g. ${x.message}`)}</system-out>`,
        '    </testcase>');
    }
  }
  const tests = 1 + r.findings.length + r.explained.reduce((n, e) => n + e.signatures.length, 0);
  const skipped = r.findings.length - failures;
  const failed = failures + (r.verdict.clean ? 0 : 1);
  const time = r.timing.elapsedSec.toFixed(3);
  const props = [
    ['seed', String(s.seed)], ['shard', s.shard ? `${s.shard.index}/${s.shard.count}` : ''], ['designs', s.designSpecs.join(',')],
    ['equiv', s.equiv], ['domain', s.domain], ['geometry', s.config.geometry], ['hugePages', String(s.config.hugePages)],
    ['vcpus', String(s.config.vcpus)], ['sequences', String(s.sequences)], ['ops', String(s.ops)], ['toolVersion', r.toolVersion],
  ].filter(([, v]) => v !== '');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tdpfuzz" tests="${tests}" failures="${failed}" errors="0" skipped="${skipped}" time="${time}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${tests}" failures="${failed}" errors="0" skipped="${skipped}" time="${time}" timestamp="${xmlEscape(r.timing.startedAt)}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
