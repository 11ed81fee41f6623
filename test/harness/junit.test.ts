// Issue 12 item 10: JUnit for CI. report.junit.xml has one failing case per open bug (no extra
// "equivalence" failure), file= at the bug's crash file, times filled in, and validates against the
// common JUnit schema (test/fixtures/junit.xsd, with xmllint from Debian's libxml2-utils, which
// .ci/run installs); `replay --junit FILE` writes the regression mode's cases.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import type { ReportData } from '../../harness/report/data';
import { captureIo as io, ROOT, tmpDir, treeSnapshot } from './helpers';

const XSD = path.join(ROOT, 'test', 'fixtures', 'junit.xsd');
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
if (!hasXmllint) console.warn('junit.test.ts: xmllint not installed (apt-get install libxml2-utils): schema validation skipped');

/** null when the file is valid against the schema, else xmllint's complaint. */
function schemaErrors(file: string): string | null {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  return r.status === 0 ? null : r.stderr;
}

const attrs = (tag: string): Record<string, string> => Object.fromEntries([...tag.matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]));
const testcases = (xml: string): Record<string, string>[] => [...xml.matchAll(/<testcase [^>]*>/g)].map(m => attrs(m[0]));

describe('report.junit.xml', () => {
  it('counts bugs: one failing case per open bug, file= its crash file, times filled in, valid', async () => {
    const work = tmpDir('junit');
    expect(await main(['run', '--designs', 'before,mutant:misses-leaf-zap-propagation', '--runs', '400', '--seed', '1', '--no-corpus'], io(work))).toBe(1);
    const r = JSON.parse(fs.readFileSync(path.join(work, 'out', 'report.json'), 'utf8')) as ReportData;
    const file = path.join(work, 'out', 'report.junit.xml');
    const xml = fs.readFileSync(file, 'utf8');
    const cases = testcases(xml);
    const bugs = cases.filter(c => c.classname.startsWith('tdpfuzz.bugs.'));
    expect(r.findings.length).toBeGreaterThan(r.buckets.length);
    expect(bugs.map(c => c.name.replace(/&#39;|&apos;/g, "'"))).toEqual(r.buckets.map(b => b.id));
    expect(xml.match(/<failure /g)).toHaveLength(r.buckets.length);
    expect(xml).not.toContain('tdpfuzz.equivalence');
    expect(attrs(/<testsuites [^>]*>/.exec(xml)![0])).toMatchObject({ tests: String(cases.length), failures: String(r.buckets.length) });
    for (const [k, b] of r.buckets.entries()) {
      const lead = r.findings.find(f => f.signature === b.id)!;
      expect(bugs[k].file).toBe(lead.crashFile);
      expect(fs.existsSync(path.join(work, bugs[k].file))).toBe(true);
      // the time to find: when its first member was first seen, within the run
      const t = Number(bugs[k].time);
      expect(t).toBe(Math.round(Math.min(...b.signatures.map(s => r.timing.foundAtSec![s])) * 1000) / 1000);
      expect(t).toBeLessThanOrEqual(r.timing.elapsedSec);
    }
    expect(Number(attrs(/<testsuite [^>]*>/.exec(xml)![0]).time)).toBeGreaterThan(0);
    if (hasXmllint) expect(schemaErrors(file)).toBeNull();
  });

  it('a clean run: one passing equivalence case timed by the campaign', async () => {
    const work = tmpDir('junit-clean');
    expect(await main(['run', '--runs', '60', '--no-corpus'], io(work))).toBe(0);
    const file = path.join(work, 'out', 'report.junit.xml');
    const xml = fs.readFileSync(file, 'utf8');
    const eq = testcases(xml).filter(c => c.classname === 'tdpfuzz.equivalence');
    expect(eq).toHaveLength(1);
    expect(Number(eq[0].time)).toBeGreaterThan(0);
    expect(xml).not.toMatch(/<failure|<skipped/);
    if (hasXmllint) expect(schemaErrors(file)).toBeNull();
  });

  it.skipIf(!hasXmllint)('the schema check can fail: a skipped count on testsuites, a NaN time, a case without a name', () => {
    const work = tmpDir('junit-bad');
    const good = '<testsuites tests="1" failures="0" errors="0"><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c" time="0.5"/></testsuite></testsuites>';
    const cases = {
      good,
      skippedOnRoot: good.replace('<testsuites ', '<testsuites skipped="0" '),
      nanTime: good.replace('time="0.5"', 'time="NaN"'),
      noName: good.replace('<testcase name="c"', '<testcase'),
    };
    const verdicts = Object.fromEntries(Object.entries(cases).map(([k, x]) => {
      fs.writeFileSync(path.join(work, `${k}.xml`), x);
      return [k, schemaErrors(path.join(work, `${k}.xml`)) === null];
    }));
    expect(verdicts).toEqual({ good: true, skippedOnRoot: false, nanTime: false, noName: false });
  });
});

describe('replay --junit', () => {
  it('one case per replayed file: PASS passes, FAIL fails, XFAIL is skipped; valid', async () => {
    const work = tmpDir('replay-junit');
    await main(['run', '--designs', 'before,mutant:misses-leaf-zap-propagation', '--runs', '200', '--seed', '1', '--no-corpus', '--out', 'v'], io(work));
    const o = io(work);
    const rc = await main(['replay', path.join(ROOT, 'crashes'), path.join(ROOT, 'corpus'), 'v/crashes', '--junit', 'ci/regress.junit.xml'], o);
    expect(rc).toBe(1);
    const file = path.join(work, 'ci', 'regress.junit.xml');
    const xml = fs.readFileSync(file, 'utf8');
    const summary = /replayed (\d+) files: (\d+) pass, (\d+) fail(?:, (\d+) xfail)?/.exec(o.stdout)!;
    const cases = testcases(xml);
    expect(cases).toHaveLength(Number(summary[1]));
    expect(xml.match(/<failure /g)).toHaveLength(Number(summary[3]));
    expect((xml.match(/<skipped /g) ?? []).length).toBe(Number(summary[4] ?? 0));
    const fails = cases.filter(c => xml.includes(`name="${c.name}" file="${c.name}" time="${c.time}">\n      <failure`));
    expect(fails.length).toBe(Number(summary[3]));
    expect(fails.every(c => c.file.startsWith('v/crashes/'))).toBe(true);
    expect(cases.every(c => /^\d+\.\d{3}$/.test(c.time))).toBe(true);
    expect(o.stdout).toContain('junit: ci/regress.junit.xml\n');
    if (hasXmllint) expect(schemaErrors(file)).toBeNull();
  });

  it('a bad --junit place is one line, exit 2, before any replay, nothing written', async () => {
    const work = tmpDir('replay-junit-bad');
    fs.mkdirSync(path.join(work, 'd'));
    const before = treeSnapshot(work);
    for (const bad of ['d', '/proc/x.xml']) {
      const o = io(work);
      expect(await main(['replay', path.join(ROOT, 'corpus'), '--junit', bad], o)).toBe(2);
      expect(o.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(o.stderr).toMatch(/^tdpfuzz: --junit: /);
      expect(o.stdout).toBe('');
    }
    expect(treeSnapshot(work)).toEqual(before);
  });
});

