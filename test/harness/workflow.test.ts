// Issue 12 items 1 and 7, the libFuzzer/AFL habits: campaigns keep their findings in OUT/crashes and
// `tdpfuzz promote` adds them to the triaged corpus crashes/ on purpose (idempotently, keeping the triage
// status, all or nothing); --stop-on-first ends a run at its first unexplained finding.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import { mergeReports } from '../../harness/report/merge';
import { renderMarkdown } from '../../harness/report/markdown';
import { validateReport } from '../../harness/report/report_file';
import { captureIo as io, tmpDir, treeSnapshot } from './helpers';

const DESIGNS = 'after,mutant:keeps-external-pointer';
const readJson = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));

describe('findings stay with the run; promote adds them to crashes/', () => {
  it('a run writes OUT/crashes and never crashes/; promote copies, then merges, idempotently, keeping the triage status', async () => {
    const work = tmpDir('promote');
    expect(await main(['run', '--designs', DESIGNS, '--runs', '60', '--no-corpus', '--no-minimize'], io(work))).toBe(1);
    expect(fs.existsSync(path.join(work, 'crashes'))).toBe(false);
    const found = fs.readdirSync(path.join(work, 'out', 'crashes')).filter(f => f.endsWith('.json'));
    expect(found.length).toBeGreaterThan(0);

    const p1 = io(work);
    expect(await main(['promote', 'out/crashes'], p1)).toBe(0);
    expect(fs.readdirSync(path.join(work, 'crashes')).filter(f => f.endsWith('.json')).sort()).toEqual(found.sort());
    const first = path.join(work, 'crashes', found[0]);
    expect(readJson(first).replay).toBe(`npx tdpfuzz replay crashes/${found[0]}`);
    expect(p1.stdout).toMatch(new RegExp(`promoted ${found.length} crash files? into crashes: ${found.length} new, 0 merged, 0 unchanged\\n$`));

    // again: nothing changes
    const once = treeSnapshot(path.join(work, 'crashes'));
    const p2 = io(work);
    expect(await main(['promote', 'out/crashes'], p2)).toBe(0);
    expect(treeSnapshot(path.join(work, 'crashes'))).toEqual(once);
    expect(p2.stdout).toContain(`0 new, 0 merged, ${found.length} unchanged`);

    // triaged, then the same finding found by a later run: hits added, status kept
    const triaged = { ...readJson(first), status: 'expected' };
    fs.writeFileSync(first, `${JSON.stringify(triaged, null, 2)}\n`);
    expect(await main(['run', '--designs', DESIGNS, '--runs', '60', '--no-corpus', '--no-minimize', '--out', 'later'], io(work))).toBe(1);
    const laterHits = readJson(path.join(work, 'later', 'crashes', found[0])).hits;
    expect(await main(['promote', `later/crashes/${found[0]}`], io(work))).toBe(0);
    expect(readJson(first)).toMatchObject({ status: 'expected', hits: triaged.hits + laterHits });
  });

  it('a bad input is one line, exit 2, and nothing is written', async () => {
    const work = tmpDir('promote-bad');
    expect(await main(['run', '--designs', DESIGNS, '--runs', '40', '--no-corpus', '--no-minimize'], io(work))).toBe(1);
    fs.writeFileSync(path.join(work, 'out', 'crashes', 'zz-broken.json'), '{"format": "tdpfuzz-crash/1"');
    const o = io(work);
    expect(await main(['promote', 'out/crashes'], o)).toBe(2);
    expect(o.stderr.trim().split('\n')).toHaveLength(1);
    expect(o.stderr).toMatch(/^tdpfuzz: out\/crashes\/zz-broken\.json: /);
    expect(fs.existsSync(path.join(work, 'crashes'))).toBe(false);
    const none = io(work);
    expect(await main(['promote'], none)).toBe(2);
    expect(none.stderr).toBe('tdpfuzz: promote: missing FILE (a crash file, or a directory of crash files such as out/crashes)\n');
  });
});

describe('--stop-on-first (issue 12 item 7)', () => {
  it('ends the run after the sequence with its first unexplained finding, and says so', async () => {
    const work = tmpDir('stop-first');
    const full = io(work);
    expect(await main(['run', '--designs', DESIGNS, '--runs', '300', '--no-corpus', '--no-minimize', '--out', 'full'], full)).toBe(1);
    const fullReport = readJson(path.join(work, 'full', 'report.json'));
    const first = Math.min(...fullReport.findings.map((f: { firstSource: { index: number } }) => f.firstSource.index));
    const o = io(work);
    expect(await main(['run', '--designs', DESIGNS, '--runs', '300', '--no-corpus', '--no-minimize', '--out', 'stop', '--stop-on-first'], o)).toBe(1);
    const r = readJson(path.join(work, 'stop', 'report.json'));
    expect(r.scope.sequences).toBe(first + 1);
    expect(r.timing.stoppedBy).toBe('finding');
    expect(r.verdict.line).toMatch(/; stopped at its first unexplained finding \(--stop-on-first\)$/);
    expect(o.stdout).toContain(r.verdict.line);
  });
});

describe('blind spots (issue 12 item 4)', () => {
  it('the report names the configuration axes the campaign did not exercise, and none when all were', async () => {
    const { blindSpots } = await import('../../harness/report/data');
    const base = { config: { geometry: 'compact' as const, hugePages: false, vcpus: 2 }, domain: 'legal' as const, equiv: 'state' as const };
    expect(blindSpots(base)).toEqual([
      'the x86 geometry (4-level, 512-entry tables, 1G/2M/4K pages)', 'huge pages (--huge-pages)', 'CONFIG_KVM_PROVE_MMU (--prove-mmu)',
      'Dynamic PAMT (--dpamt)', 'misuse the kernel never does (--domain extended)', 'SEAMCALL logs, traces and diagnostic sites (--equiv strict)',
    ]);
    expect(blindSpots({ config: { geometry: 'x86', hugePages: true, proveMmu: true, dpamt: true, vcpus: 2 }, domain: 'extended', equiv: 'strict' })).toEqual([]);
    const work = tmpDir('blind');
    await main(['run', '--runs', '5', '--no-corpus', '--huge-pages', '--equiv', 'strict'], io(work));
    expect(fs.readFileSync(path.join(work, 'out', 'report.md'), 'utf8')).toContain(
      '- not exercised (the verdict says nothing about these): the x86 geometry (4-level, 512-entry tables, 1G/2M/4K pages); CONFIG_KVM_PROVE_MMU (--prove-mmu); Dynamic PAMT (--dpamt); misuse the kernel never does (--domain extended)\n');
  });
});

describe('coverage with denominators (issue 12 item 4)', () => {
  it('per family: reached of expected, adding up to the totals; and when the last new class came', async () => {
    const work = tmpDir('denominators');
    await main(['run', '--runs', '200', '--no-corpus', '--no-minimize'], io(work));
    const r = readJson(path.join(work, 'out', 'report.json'));
    const fams = Object.values(r.coverage.expectedByFamily) as { reached: number; expected: number }[];
    expect(fams.reduce((n, e) => n + e.expected, 0)).toBe(r.coverage.expected);
    expect(fams.reduce((n, e) => n + e.reached, 0)).toBe(r.coverage.expectedReached);
    expect(Object.keys(r.coverage.expectedByFamily)).toEqual(['cmpxchg-fail', 'fault', 'map', 'race', 'seam']);
    expect(r.timing.lastNewClassSec).toBeGreaterThanOrEqual(0);
    expect(r.timing.lastNewClassSec).toBeLessThanOrEqual(r.timing.elapsedSec + 0.1);
    const md = fs.readFileSync(path.join(work, 'out', 'report.md'), 'utf8');
    expect(md).toMatch(/expected SEAMCALL\/fault\/race classes \(lost cmpxchg \d+\/3, injected faults \d+\/4, fault-path retries \d+\/3, race points \d+\/7, SEAMCALL\/result \d+\/31\)/);
    expect(md).toMatch(/- the last new coverage class was reached at [\d.]+ s\n/);
    // per family: when it last gained a class; the latest of them is the campaign's last new class
    const last = r.timing.lastNewByFamily as Record<string, number>;
    expect(Object.keys(last)).toEqual(Object.keys(r.coverage.byFamily));
    for (const t of Object.values(last)) expect(t).toBeLessThanOrEqual(r.timing.lastNewClassSec);
    expect(Math.max(...Object.values(last))).toBe(r.timing.lastNewClassSec);
    // report.md and report.txt: one line per family with its denominator, that time and its never-reached classes
    const txt = fs.readFileSync(path.join(work, 'out', 'report.txt'), 'utf8');
    const seam = `${r.coverage.expectedByFamily.seam.reached}/31 expected, the last new at ${last.seam.toFixed(1)} s`;
    expect(md).toContain(`\n  - SEAMCALL/result: ${r.coverage.byFamily.seam} reached, ${seam}`);
    expect(txt).toContain(`\n    SEAMCALL/result: ${r.coverage.byFamily.seam} reached, ${seam}`);
    expect(md).toContain(`\n  - SPTE transitions: ${r.coverage.byFamily.spte} reached, the last new at ${last.spte.toFixed(1)} s\n`);
    const never = r.coverage.neverReached as string[];
    expect(never.length).toBeGreaterThan(0);
    const lineOf = (text: string, title: string): string => text.replace(/\n {8}/g, ' ').split('\n').find(l => l.includes(`${title}: `))!;
    for (const cls of never.slice(0, 12)) {
      const title = ({ seam: 'SEAMCALL/result', race: 'race points', fault: 'injected faults', map: 'fault-path retries', 'cmpxchg-fail': 'lost cmpxchg' } as Record<string, string>)[cls.split('|')[0]];
      expect(lineOf(md, title)).toContain(`\`${cls}\``);
      expect(lineOf(txt, title)).toContain(cls);
    }
  });

  it("the per-family times through merge (parallel: each family's latest) and a sequential merge (resume; it cannot say: left out)", async () => {
    const work = tmpDir('denominators-merge');
    for (const seed of ['1', '2']) await main(['run', '--runs', '30', '--no-corpus', '--no-minimize', '--seed', seed, '--out', `s${seed}`, '--crashes', `s${seed}/crashes`], io(work));
    const parts = ['s1', 's2'].map(d => readJson(path.join(work, d, 'report.json')).timing.lastNewByFamily as Record<string, number>);
    await main(['merge', 's1', 's2', '--out', 'm', '--crashes', 'm/crashes'], io(work));
    const merged = readJson(path.join(work, 'm', 'report.json'));
    const fams = [...new Set(parts.flatMap(p => Object.keys(p)))].sort();
    expect(merged.timing.lastNewByFamily).toEqual(Object.fromEntries(fams.map(f => [f, Math.max(...parts.map(p => p[f] ?? 0))])));
    expect(fs.readFileSync(path.join(work, 'm', 'report.md'), 'utf8')).toMatch(/\n {2}- SEAMCALL\/result: \d+ reached, \d+\/31 expected, the last new at [\d.]+ s/);
    // a resume merges its report after the resumed one (sequential): the later part's classes may not be new
    const seq = mergeReports(['s1', 's2'].map(d => ({ from: d, report: validateReport(readJson(path.join(work, d, 'report.json')), d) })), { mode: 'sequential' });
    expect(seq.timing.lastNewClassSec).toBeUndefined();
    expect(seq.timing.lastNewByFamily).toBeUndefined();
    expect(renderMarkdown(seq)).toMatch(/\n {2}- SEAMCALL\/result: \d+ reached, \d+\/31 expected(; never reached|\n)/);
  });
});
