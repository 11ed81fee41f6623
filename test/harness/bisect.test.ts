// tdpfuzz bisect (issue 10): the series file's validation, the verdict of each step on a test-only
// series built from existing designs, the by-design-difference gate, D-rows matched on the patches
// instances report, and determinism.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Design } from '../../impls/api';
import { after, before } from '../../impls/designs';
import { findMutant } from '../../impls/mutants/catalogue';
import { main } from '../../harness/cli/main';
import { runCampaign } from '../../harness/fuzz/campaign';
import { runBisect } from '../../harness/fuzz/bisect';
import { KNOWN_DIFFERENCES, parseSeries } from '../../harness/run/series_file';
import { InputError } from '../../harness/seq/strict_json';
import { captureIo as io, COMPACT, tmpDir } from './helpers';
import { v2MissingTrace } from '../variants/v2_missing_trace';

const FAKE = path.join(__dirname, 'series', 'fake.json');

const step = { id: 'P1', title: 't', design: 'after', differences: [] as string[] };
const good = { format: 'tdpfuzz-series/1', name: 's', base: 'before', steps: [step] };

function parseError(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  try {
    parseSeries(text, 's.json', '/x/s.json');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('tdpfuzz-series/1 files', () => {
  it('reads a good file; module paths are resolved from the series file, names kept', () => {
    const s = parseSeries(JSON.stringify({ ...good, steps: [step, { ...step, id: 'P2', design: './p2.js', differences: ['D17'], note: 'n' }] }), 's.json', '/x/s.json');
    expect(s.base.spec).toBe('before');
    expect(s.steps.map(x => x.design.spec)).toEqual(['after', '/x/p2.js']);
    expect(s.steps[1]).toMatchObject({ id: 'P2', differences: ['D17'], note: 'n' });
    expect(KNOWN_DIFFERENCES).toContain('D3');
  });

  it.each([
    ['{', /^s\.json: not valid JSON/],
    [[], 's.json: expected a JSON object (a tdpfuzz-series/1 file), got []'],
    [{ ...good, format: undefined }, 's.json: format: missing (expected "tdpfuzz-series/1")'],
    [{ ...good, format: 'tdpfuzz-series/2' }, 's.json: format "tdpfuzz-series/2" is not supported (expected "tdpfuzz-series/1")'],
    [{ ...good, bases: 'x' }, 's.json: bases: unknown field for a series (fields: $schema, format, name, description, base, steps)'],
    [{ ...good, name: undefined }, 's.json: name: missing (required)'],
    [{ ...good, name: 'my series' }, 's.json: name: "my series" is not a series name (letters, digits, . _ -; at most 64, starting with a letter or digit)'],
    [{ ...good, base: '' }, 's.json: base: expected a non-empty string'],
    [{ ...good, steps: [] }, 's.json: steps: expected at least 1 step, got 0'],
    [{ ...good, steps: {} }, 's.json: steps: expected an array of steps, got {}'],
    [{ ...good, steps: [3] }, 's.json: steps[0]: expected an object, got 3'],
    [{ ...good, steps: [{ ...step, differnces: [] }] }, 's.json: steps[0].differnces: unknown field for a series step (fields: id, title, design, differences, note)'],
    [{ ...good, steps: [{ ...step, id: 'a b' }] }, 's.json: steps[0].id: "a b" is not a step id (letters, digits, . _ -; at most 64, starting with a letter or digit)'],
    [{ ...good, steps: [step, step] }, 's.json: steps[1].id: "P1" is also the id of steps[0] (ids must be unique)'],
    [{ ...good, steps: [{ ...step, title: ' ' }] }, 's.json: steps[0].title: expected a non-empty string'],
    [{ ...good, steps: [{ ...step, design: undefined }] }, 's.json: steps[0].design: missing (required)'],
    [{ ...good, steps: [{ ...step, differences: undefined }] }, 's.json: steps[0].differences: missing (required; [] claims a pure refactor)'],
    [{ ...good, steps: [{ ...step, differences: 'D2' }] }, 's.json: steps[0].differences: expected an array of D-ids, got "D2"'],
    [{ ...good, steps: [{ ...step, differences: ['D2', 'D99'] }] }, `s.json: steps[0].differences[1]: unknown difference "D99" (known: ${KNOWN_DIFFERENCES.join(', ')})`],
    [{ ...good, steps: [{ ...step, differences: ['D2', 'D2'] }] }, 's.json: steps[0].differences[1]: D2 is listed twice'],
    [{ ...good, steps: [{ ...step, note: 1 }] }, 's.json: steps[0].note: expected a string, got 1'],
  ])('refuses %j with one line', (v, msg) => {
    const m = parseError(v);
    if (msg instanceof RegExp) expect(m).toMatch(msg); else expect(m).toBe(msg);
  });

  it('bad series and flags: one line, exit 2, nothing written', async () => {
    const dir = tmpDir('bisect-bad');
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ ...good, steps: [{ ...step, design: 'nosuch' }] }));
    const cases: [string[], RegExp][] = [
      [['--series', 'bad.json'], /^tdpfuzz: bad\.json: steps\[0\]\.design: unknown design "nosuch"/],
      [['--series', 'no-such-series'], /^tdpfuzz: --series: unknown series "no-such-series"/],
      [['--series', 'missing.json'], /^tdpfuzz: --series: missing\.json: no such file\n$/],
      [[], /^tdpfuzz: --series: missing/],
      [['--series', FAKE, '--equiv', 'state,exact'], /^tdpfuzz: --equiv: unknown value "exact"/],
      [['--series', FAKE, '--engine', 'nope'], /^tdpfuzz: --engine: unknown engine "nope"/],
    ];
    for (const [argv, re] of cases) {
      const o = io(dir);
      expect(await main(['bisect', ...argv, '--runs', '1'], o)).toBe(2);
      expect(o.stderr).toMatch(re);
      expect(o.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(fs.readdirSync(dir)).toEqual(['bad.json']);
  });
});

type BisectJson = {
  verdict: { clean: boolean; firstDiverging: string | null; line: string };
  steps: { id: string; verdict: string; seen: string[]; notSeen: string[]; findings: { crashFile: string | null; reproducer: string[] }[] }[];
  timing?: unknown;
};

async function bisect(cwd: string, extra: string[] = []): Promise<{ code: number; json: BisectJson; out: string; err: string }> {
  const o = io(cwd);
  const code = await main(['bisect', '--series', FAKE, '--runs', '8', '--out', 'o', ...extra], o);
  return { code, json: JSON.parse(fs.readFileSync(path.join(cwd, 'o', 'bisect.json'), 'utf8')) as BisectJson, out: o.stdout, err: o.stderr };
}

describe('tdpfuzz bisect on the test-only series (before → before → after → after → mutant)', () => {
  it('reports each verdict, names the first diverging step, writes every format; deterministic for the same seed', async () => {
    const [a, b] = [tmpDir('bisect-a'), tmpDir('bisect-b')];
    const r = await bisect(a);
    expect(r.code).toBe(1);
    expect(r.json.steps.map(s => [s.id, s.verdict])).toEqual([
      ['same', 'pure'], ['to-after', 'declared'], ['quiet', 'declared-not-seen'], ['bug', 'unexplained'],
    ]);
    expect(r.json.steps[0].seen).toEqual([]);
    expect(r.json.steps[1].seen.length).toBeGreaterThan(0);
    expect(r.json.steps[2].notSeen).toEqual(['D13']);
    expect(r.json.verdict).toMatchObject({ clean: false, firstDiverging: 'bug' });
    expect(r.json.verdict.line).toMatch(/^bisect fake: first diverging step 4 bug \(after with the dangling external_spt\): unexplained divergence/);
    expect(r.out).toContain('step 1 same: pure refactor (verified: ');
    expect(r.err).toMatch(/^WARNING: step 3 quiet declares D13, never seen \(\d+ sequences\)$/m);
    // the first finding's minimized reproducer and its crash file
    const f = r.json.steps[3].findings[0];
    expect(f.reproducer.length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(a, f.crashFile!))).toBe(true);
    expect(f.crashFile).toMatch(/^o\/crashes\/4-bug\//);
    // JUnit: one testcase per step, a failure only for the unexplained one
    const junit = fs.readFileSync(path.join(a, 'o', 'bisect.junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(4);
    expect(junit.match(/<failure /g)).toHaveLength(1);
    expect(junit).toMatch(/name="4 bug: [^"]*"[^>]*>\s*<failure/);
    const html = fs.readFileSync(path.join(a, 'o', 'bisect.html'), 'utf8');
    expect(html.match(/<tr class=/g)).toHaveLength(4);
    expect(fs.readFileSync(path.join(a, 'o', 'bisect.md'), 'utf8')).toContain('| 3 | quiet |');
    // same seed, same relative places: the same bisect.json apart from timing
    const r2 = await bisect(b);
    const strip = (j: BisectJson): BisectJson => ({ ...j, timing: undefined });
    expect(strip(r2.json)).toEqual(strip(r.json));
  }, 30_000);
});

const ALL = KNOWN_DIFFERENCES;
const campaign = (designs: Design[], allowed: readonly string[] | undefined, equiv: 'state' | 'strict' = 'strict') => runCampaign({
  designs, seed: 1, runs: 12, equiv, domain: 'legal', config: COMPACT, outDir: null, crashDir: null, corpusDir: null,
  ...(allowed ? { allowedExplanations: allowed } : {}),
});

/** A design whose instances report applied patches (as a series step's do). */
function withPatches(d: Design, patches: string[]): Design {
  return { name: `${d.name}[${patches.length}]`, description: d.description, create(c) { return Object.assign(d.create(c), { patches }); } };
}
const P = (except: string[] = []): string[] => Array.from({ length: 15 }, (_, i) => `P${i + 1}`).filter(p => !except.includes(p));

describe('the by-design-difference gate (RunOptions.allowedExplanations)', () => {
  it('only the declared D-ids explain: before vs after declaring nothing is unexplained, declaring D17 alone explains only D17', async () => {
    const open = await campaign([before, after], undefined);
    expect(open.report.verdict.unexplained).toBe(0);
    const seen = open.report.explained.map(e => e.id);
    expect(seen).toContain('D17');
    expect((await campaign([before, after], [])).report.verdict.unexplained).toBeGreaterThan(0);
    const onlyD17 = await campaign([before, after], ['D17']);
    expect(onlyD17.report.explained.map(e => e.id)).toEqual(['D17']);
    if (seen.some(id => id !== 'D17')) expect(onlyD17.report.verdict.unexplained).toBeGreaterThan(0);
  });

  it('a seeded bug behind declared differences is still reported', async () => {
    const mutant = findMutant('keeps-external-pointer')!.design;
    const r = await campaign([before, mutant], ALL, 'state');
    expect(r.report.verdict.unexplained).toBeGreaterThan(0);
    expect(r.report.findings.some(f => f.message.includes('external-spt-attached-at-rcu-free'))).toBe(true);
  });

  it('D-rows with introducedBy match on the patches the instances report', async () => {
    // before = no patch, after = all: the same verdict as before vs after
    const ok = await campaign([withPatches(before, []), withPatches(after, P())], undefined);
    expect(ok.report.verdict.unexplained).toBe(0);
    expect(ok.report.explained.map(e => e.id)).toContain('D17');
    // an after that claims not to have patch 9 (which introduces D17): D17 no longer explains its trace order
    const no9 = await campaign([withPatches(before, []), withPatches(after, P(['P9']))], undefined);
    expect(no9.report.explained.map(e => e.id)).not.toContain('D17');
    expect(no9.report.findings.some(f => f.component === 'trace')).toBe(true);
  });

  it('a row introduced by several patches (D16: P1, P2, P3, P5, P6, P9, P12, read from the patch files) matches when one of them tells the sides apart, not when none does', async () => {
    // P6 and P9 tell the sides apart (P9 also for D17, the trace order that comes first)
    const some = await campaign([withPatches(before, []), withPatches(after, P(['P1', 'P2', 'P3', 'P5', 'P12']))], undefined);
    expect(some.report.explained.map(e => e.id)).toContain('D16');
    expect(some.report.verdict.unexplained).toBe(0);
    // both sides report every D16 patch: no pair for the row, the site moves are unexplained
    const d16 = ['P1', 'P2', 'P3', 'P5', 'P6', 'P9', 'P12'];
    const none = await campaign([withPatches(before, d16), withPatches(after, P())], undefined);
    expect(none.report.explained.map(e => e.id)).not.toContain('D16');
    expect(none.report.verdict.unexplained).toBeGreaterThan(0);
  });
});

describe('bisect of a v2-like step (series.md §3: no trace of a non-present <-> non-present change)', () => {
  it('reports the missing trace under strict, nothing under state', async () => {
    const dir = tmpDir('bisect-v2');
    const ref = (d: Design, at: string) => ({ spec: d.name, at, design: d });
    const r = await runBisect({
      series: { name: 'v2', description: '', source: 'test', base: ref(after, 'base'),
        steps: [{ id: 'v2', title: 'v2 as posted', design: ref(v2MissingTrace, 'v2'), differences: [] }] },
      seed: 1, runs: 8, timeSec: null, engine: 'random', workers: null, config: COMPACT,
      matrix: [{ equiv: 'state', domain: 'legal' }, { equiv: 'strict', domain: 'legal' }],
      out: path.join(dir, 'o'), crashes: path.join(dir, 'c'), minimize: { maxRuns: 200, timeMs: 5000 }, cwd: dir,
    });
    const s = r.data.steps[0];
    expect(s.verdict).toBe('unexplained');
    expect(s.modes.map(m => [m.equiv, m.unexplained > 0])).toEqual([['state', false], ['strict', true]]);
    expect(s.findings.every(f => f.mode === 'strict/legal' && f.signature.endsWith('|trace'))).toBe(true);
    expect(r.data.verdict.firstDiverging).toBe('v2');
    expect(r.exitCode).toBe(1);
  });
});
