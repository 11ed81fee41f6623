// `tdpfuzz replay --junit FILE`: the regression mode's JUnit file for CI. One testcase per replayed
// file, named by its path (testcase@file too): PASS passes, FAIL fails with the judge's line and the
// findings that showed, XFAIL (an accepted crash file that still reproduces: known behaviour) is
// skipped with its triage status. Valid against test/fixtures/junit.xsd like report.junit.xml.
import { junitTime, xmlEscape } from './junit';

export interface ReplayCase {
  /** the file as the command line shows it */
  file: string;
  /** a crash file or a sequence file */
  kind: 'crash' | 'sequence';
  verdict: 'PASS' | 'FAIL' | 'XFAIL';
  /** the judge's one line */
  line: string;
  /** "signature: message" of each finding of the replay */
  findings: string[];
  seconds: number;
}

export function renderReplayJunit(cases: readonly ReplayCase[], startedAt: string, toolVersion: string): string {
  const failures = cases.filter(c => c.verdict === 'FAIL').length;
  const skipped = cases.filter(c => c.verdict === 'XFAIL').length;
  const time = junitTime(cases.reduce((n, c) => n + c.seconds, 0));
  const lines: string[] = [];
  for (const c of cases) {
    const attrs = `classname="tdpfuzz.replay.${c.kind}" name="${xmlEscape(c.file)}" file="${xmlEscape(c.file)}" time="${junitTime(c.seconds)}"`;
    if (c.verdict === 'PASS') { lines.push(`    <testcase ${attrs}/>`); continue; }
    const body = xmlEscape([c.line, ...c.findings.map(f => `  ${f}`)].join('\n'));
    lines.push(`    <testcase ${attrs}>`,
      c.verdict === 'FAIL'
        ? `      <failure message="${xmlEscape(c.line)}" type="regression">${body}</failure>`
        : `      <skipped message="${xmlEscape(c.line)}"/>`,
      ...(c.verdict === 'XFAIL' && c.findings.length ? [`      <system-out>${body}</system-out>`] : []),
      '    </testcase>');
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tdpfuzz replay" tests="${cases.length}" failures="${failures}" errors="0" time="${time}">`,
    `  <testsuite name="tdpfuzz replay" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}" timestamp="${xmlEscape(startedAt)}">`,
    '    <properties>',
    `      <property name="toolVersion" value="${xmlEscape(toolVersion)}"/>`,
    '    </properties>',
    ...lines,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
