// Generator profiles (issue 13 item 3, seq/profile.ts): `uniform` draws exactly what the generator
// drew before profiles existed; `mirror` moves x86 campaigns off the expensive direct-only shapes
// while staying legal; campaigns default by geometry, report the profile and the model time per op
// kind, and bench/normalize_timings.js strips those timings.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import type { Op, VmConfig } from '../impls/api';
import { after, before } from '../impls/designs';
import { main, parseArgs, UsageError } from '../harness/cli/main';
import { runCampaign } from '../harness/fuzz/campaign';
import { campaignParams } from '../harness/run/campaign_params';
import { renderMarkdown } from '../harness/report/markdown';
import { mergeReports } from '../harness/report/merge';
import { validateReport } from '../harness/report/report_file';
import type { ReportData } from '../harness/report/data';
import { decodeBytes } from '../harness/seq/decode';
import { generateRandomOp, generateSequence, policyOf, rngChooser, type GenerateOptions } from '../harness/seq/generate';
import { legalityErrors } from '../harness/seq/legality';
import { havoc, mutateContext } from '../harness/seq/mutate';
import { initialState } from '../harness/seq/opgen';
import type { GenProfile } from '../harness/seq/profile';
import type { Sequence } from '../harness/seq/sequence';
import { captureIo, ROOT, tmpDir } from './harness/helpers';

const CONFIGS: Record<string, VmConfig> = {
  compact: { geometry: 'compact', hugePages: false, vcpus: 2 },
  compactHuge: { geometry: 'compact', hugePages: true, vcpus: 1 },
  x86: { geometry: 'x86', hugePages: false, vcpus: 2 },
  x86Huge: { geometry: 'x86', hugePages: true, vcpus: 3 },
};

/**
 * sha256 (first 16 hex digits) of what the generator-side code produced before profiles existed
 * (commit 065fdeb), per configuration and domain: 200 sequences (seeds 1..50, indices 0..3), 300
 * generateRandomOp ops, 200 decoded random byte strings, 200 havoc mutants. Recorded once; a change
 * of any draw for the uniform profile changes them.
 */
const BEFORE_PROFILES: Record<string, { generate: string; randomOp: string; decode: string; havoc: string }> = {
  'compact/legal': { generate: 'e529ac114553ffe4', randomOp: 'c30edd1ea8860ae6', decode: '3c7cfd2eaca0b0eb', havoc: '9790fc71d5bf3a99' },
  'compact/extended': { generate: '531758517e4202a2', randomOp: 'ffe680abc5002128', decode: 'cd50ae0d166267ef', havoc: 'e8c8b6ee91cae134' },
  'compactHuge/legal': { generate: '26cbd9063e6282d6', randomOp: '5e305f40e05fc67e', decode: 'f1717b11c240d9db', havoc: '47556bfa33ea9504' },
  'compactHuge/extended': { generate: '909b782406f8bfe9', randomOp: '46416c4c61859214', decode: '57e1cf695ae959b2', havoc: 'ed3bd39cc322ebcc' },
  'x86/legal': { generate: '0a77a66f9862e584', randomOp: '895ec42dc223a96a', decode: '9623a6bfca28f141', havoc: 'd7a07960abd213af' },
  'x86/extended': { generate: '4bfdfeb76d78af90', randomOp: 'f283dd305f75207a', decode: '51847394459ce22a', havoc: '2d4dfe44fb5a8a19' },
  'x86Huge/legal': { generate: 'c9ff7421550779c2', randomOp: 'f73522b6899e1495', decode: '67cccdac20567ba4', havoc: 'af3b810d5331f1d7' },
  'x86Huge/extended': { generate: '8d46e1fcfa201c6f', randomOp: '1c58d375d6307a54', decode: '371fbba5ab7e772b', havoc: 'e375305b181ef572' },
};

const h = (o: unknown): string => createHash('sha256').update(JSON.stringify(o)).digest('hex').slice(0, 16);

/** The digests BEFORE_PROFILES records, with the generator options `gen` (the decoder with `decodeProfile`). */
function digests(name: string, config: VmConfig, gen: GenerateOptions, decodeProfile?: GenProfile) {
  const seqs: Sequence[] = [];
  for (let seed = 1; seed <= 50; seed++) for (let i = 0; i < 4; i++) seqs.push(generateSequence(seed, i, gen));
  const ch = rngChooser(seedrandom(`ops/${name}`));
  const st = initialState();
  const ops: Op[] = [];
  for (let i = 0; i < 300; i++) ops.push(generateRandomOp(ch, st, gen));
  const rng = seedrandom(`bytes/${name}`);
  const dec: Sequence[] = [];
  for (let i = 0; i < 200; i++) {
    const b = new Uint8Array(Math.floor(rng() * 200));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rng() * 256);
    dec.push(decodeBytes(b, { config, domain: gen.domain, ...(decodeProfile ? { profile: decodeProfile } : {}) }));
  }
  const mc = mutateContext(rngChooser(seedrandom(`mut/${name}`)), gen, 48);
  const donors = seqs.slice(0, 20).map((seq) => ({ seq }));
  const muts = Array.from({ length: 200 }, (_, i) => havoc(mc, seqs[i].ops, donors));
  return { generate: h(seqs), randomOp: h(ops), decode: h(dec), havoc: h(muts) };
}

function usage(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('the uniform profile', () => {
  it('draws exactly what the generator drew before profiles (random, guided mutation, byte decoder)', () => {
    for (const [name, config] of Object.entries(CONFIGS)) {
      for (const domain of ['legal', 'extended'] as const) {
        const key = `${name}/${domain}`;
        expect(digests(name, config, { config, domain, profile: 'uniform' }, 'uniform'), key).toEqual(BEFORE_PROFILES[key]);
      }
    }
  });

  it('is the default on compact, and of the byte decoder on every geometry (byte corpora keep their meaning)', () => {
    const config = CONFIGS.compact;
    expect(digests('compact', config, { config, domain: 'legal' })).toEqual(BEFORE_PROFILES['compact/legal']);
    const x86 = CONFIGS.x86;
    expect(digests('x86', x86, { config: x86, domain: 'legal', profile: 'mirror' }).decode).toBe(BEFORE_PROFILES['x86/legal'].decode);
  });
});

describe('defaults and flags', () => {
  it('defaults to mirror on x86 and uniform on compact', () => {
    expect(campaignParams({ config: { geometry: 'x86' } }).profile).toBe('mirror');
    expect(campaignParams({}).profile).toBe('uniform');
    expect(campaignParams({ config: { geometry: 'x86' }, profile: 'uniform' }).profile).toBe('uniform');
    expect(policyOf({ config: CONFIGS.x86, domain: 'legal' }).profile).toBe('mirror');
    const gen = { config: CONFIGS.x86, domain: 'legal' } as const;
    expect(generateSequence(5, 1, gen)).toEqual(generateSequence(5, 1, { ...gen, profile: 'mirror' }));
    expect((parseArgs(['run', '--geometry', 'x86']).args as { profile: string }).profile).toBe('mirror');
    expect((parseArgs(['run']).args as { profile: string }).profile).toBe('uniform');
    expect((parseArgs(['run', '--geometry', 'x86', '--profile', 'uniform']).args as { profile: string }).profile).toBe('uniform');
  });

  it('refuses a bad --profile in one line naming the flag, exit 2', async () => {
    expect(usage(['run', '--profile', 'bogus'])).toBe('--profile: unknown value "bogus" (expected one of uniform, mirror)');
    expect(usage(['run', '--resume', 'out', '--profile', 'mirror'])).toMatch(/^--profile: cannot be combined with --resume/);
    const o = captureIo(tmpDir('profile'));
    expect(await main(['run', '--profile', 'bogus'], o)).toBe(2);
    expect(o.stderr).toBe('tdpfuzz: --profile: unknown value "bogus" (expected one of uniform, mirror)\n');
    const b = captureIo(tmpDir('profile'));
    expect(await main(['bisect', '--series', 'v3', '--profile', 'bogus'], b)).toBe(2);
    expect(b.stderr).toBe('tdpfuzz: --profile: unknown value "bogus" (expected one of uniform, mirror)\n');
    expect(() => campaignParams({ profile: 'bogus' as GenProfile })).toThrow(/^--profile: unknown profile "bogus"/);
  });
});

/** Over generated x86 sequences: faults (top level and racing), shared 1G ones, splits, splits of >= fanout^2 gfns. */
function shapes(profile: GenProfile, config: VmConfig, n: number) {
  const c = { faults: 0, privateFaults: 0, shared: 0, shared1G: 0, splits: 0, bigSplits: 0, bigSplitsToL1: 0, invalidate: 0, ops: 0, wholeZaps: 0, zaps: 0 };
  const big = 512 * 512;
  for (let i = 0; i < n; i++) {
    const seq = generateSequence('shapes', i, { config, domain: 'legal', profile });
    expect(legalityErrors(seq)).toEqual([]);
    for (const top of seq.ops) {
      c.ops++;
      for (const op of top.race ? [top, top.race.op] : [top]) {
        if (op.kind === 'fault') {
          c.faults++;
          if (op.private) c.privateFaults++;
          else { c.shared++; if (op.maxLevel === 3) c.shared1G++; }
        } else if (op.kind === 'split') {
          c.splits++;
          if (op.end - op.start >= big) { c.bigSplits++; if (op.targetLevel === 1) c.bigSplitsToL1++; }
        } else if (op.kind === 'zap') {
          c.zaps++;
          if (op.start === 0 && op.end === 2 ** 36) c.wholeZaps++;
        } else if (op.kind === 'invalidateDirect') c.invalidate++;
      }
    }
  }
  return c;
}

describe('the mirror profile', () => {
  it('on x86: far fewer 1G shared faults and fanout^2 splits, more private faults, whole-space zaps kept; legal', () => {
    const u = shapes('uniform', CONFIGS.x86, 2000), m = shapes('mirror', CONFIGS.x86, 2000);
    const rate = (a: number, b: number): number => a / b;
    // 1G shared leaves: ~1/3 of shared faults under uniform, ~3% under mirror (rare, not absent)
    expect(rate(u.shared1G, u.shared)).toBeGreaterThan(0.25);
    expect(rate(m.shared1G, m.shared)).toBeLessThan(0.06);
    expect(m.shared1G).toBeGreaterThan(0);
    // fanout^2-gfn (and whole-space) splits: rarer, and mostly to 2M
    expect(rate(m.bigSplits, m.splits)).toBeLessThan(rate(u.bigSplits, u.splits) / 2);
    expect(m.bigSplits).toBeGreaterThan(0);
    expect(rate(m.bigSplitsToL1, m.bigSplits)).toBeLessThan(0.3);
    expect(rate(u.bigSplitsToL1, u.bigSplits)).toBeGreaterThan(0.6);
    // private faults dominate; invalidateDirect rarer; whole-space zaps (guest_memfd close) as often
    expect(rate(m.privateFaults, m.faults)).toBeGreaterThan(rate(u.privateFaults, u.faults) + 0.1);
    expect(rate(m.invalidate, m.ops)).toBeLessThan(rate(u.invalidate, u.ops) / 4);
    expect(rate(m.wholeZaps, m.zaps)).toBeGreaterThan(0.02);
  });

  it('stays legal with huge pages and on compact, through the byte decoder and guided mutation too', () => {
    for (const config of [CONFIGS.x86Huge, CONFIGS.compact, CONFIGS.compactHuge]) {
      shapes('mirror', config, 300);
      const rng = seedrandom(`mirror-bytes/${config.geometry}`);
      for (let i = 0; i < 200; i++) {
        const b = Uint8Array.from({ length: Math.floor(rng() * 200) }, () => Math.floor(rng() * 256));
        expect(legalityErrors(decodeBytes(b, { config, domain: 'legal', profile: 'mirror' }))).toEqual([]);
      }
      const gen = { config, domain: 'legal', profile: 'mirror' } as const;
      const mc = mutateContext(rngChooser(seedrandom('mirror-mut')), gen, 48);
      const seqs = Array.from({ length: 50 }, (_, i) => generateSequence('mm', i, gen));
      for (const s of seqs) {
        const m = havoc(mc, s.ops, seqs.slice(0, 5).map((seq) => ({ seq })));
        if (m) expect(legalityErrors(m.seq)).toEqual([]);
      }
    }
  });
});

describe('reports', () => {
  const campaign = async (dir: string): Promise<ReportData> => {
    await runCampaign({ designs: [before, after], seed: 4, runs: 25, config: { geometry: 'x86' }, cwd: dir, outDir: 'out', crashDir: null, corpusDir: null });
    return JSON.parse(fs.readFileSync(path.join(dir, 'out', 'report.json'), 'utf8')) as ReportData;
  };

  it('name the profile, count ops per kind (summing to the op count) and time them; merges sum both', async () => {
    const a = tmpDir('profile'), b = tmpDir('profile');
    const ra = await campaign(a), rb = await campaign(b);
    expect(ra.scope.profile).toBe('mirror');
    const byKind = ra.scope.opsByKind!;
    expect(Object.values(byKind).reduce((x, y) => x + y, 0)).toBe(ra.scope.ops);
    expect(byKind.destroy).toBe(25);
    expect(Object.keys(ra.timing.modelMsByKind!)).toEqual(Object.keys(byKind));
    expect(Object.values(ra.timing.modelMsByKind!).every((ms) => ms >= 0)).toBe(true);
    expect(rb.scope.opsByKind).toEqual(byKind);
    // the engine's own time (next and feedback) is part of the elapsed time, and the report says how much
    expect(ra.timing.engineMs).toBeGreaterThan(0);
    expect(ra.timing.engineMs!).toBeLessThan(ra.timing.elapsedSec * 1000);
    const txt = fs.readFileSync(path.join(a, 'out', 'report.txt'), 'utf8');
    const md = fs.readFileSync(path.join(a, 'out', 'report.md'), 'utf8');
    const html = fs.readFileSync(path.join(a, 'out', 'report.html'), 'utf8');
    expect(txt).toContain('  profile: mirror (');
    expect(txt).toMatch(/\n {2}fault +[\d,]+ ops {2}[\d,.]+ ms {2}[\d.]+% of model time\n/);
    expect(md).toContain('\n- profile: mirror (');
    expect(md).toContain('### Model time by op kind (profile: mirror)');
    expect(md).toMatch(/\n\| destroy \| 25 \| [\d,.]+ ms \| [\d.]+% \|\n/);
    expect(md).toMatch(/\n- the engine's own work \(choosing sequences, learning from their runs\) took [\d,.]+ ms, [\d.]+% of the elapsed time\n/);
    expect(html).toContain('profile: <b>mirror</b>');
    expect(html).toMatch(/<tr><td>destroy<\/td><td>25<\/td><td class="ms">[\d,.]+ ms<\/td><td class="share">[\d.]+%<\/td><\/tr>/);

    const merged = mergeReports([{ from: 'a', report: ra }, { from: 'b', report: rb }], { mode: 'parallel' });
    expect(merged.scope.profile).toBe('mirror');
    expect(merged.scope.opsByKind!.fault).toBe(2 * byKind.fault);
    expect(Object.values(merged.scope.opsByKind!).reduce((x, y) => x + y, 0)).toBe(merged.scope.ops);
    expect(merged.timing.modelMsByKind!.fault).toBeCloseTo(ra.timing.modelMsByKind!.fault + rb.timing.modelMsByKind!.fault, 6);
    expect(merged.timing.engineMs).toBeCloseTo(ra.timing.engineMs! + rb.timing.engineMs!, 6);
    // two parts that ran side by side: their summed engine time is no share of the elapsed time
    expect(renderMarkdown(merged)).toMatch(/\n- the engine's own work \(choosing sequences, learning from their runs\) took [\d,.]+ ms, summed over the 2 merged parts\n/);
    const other = { ...rb, scope: { ...rb.scope, profile: 'uniform' as const } };
    expect(() => mergeReports([{ from: 'a', report: ra }, { from: 'b', report: other }], { mode: 'parallel' })).toThrow(/profile differs/);
    // a report written before profiles ran the uniform generator
    const old = JSON.parse(JSON.stringify(ra)) as { scope: Record<string, unknown>; timing: Record<string, unknown> };
    delete old.scope.profile; delete old.scope.opsByKind; delete old.timing.modelMsByKind; delete old.timing.engineMs;
    expect(validateReport(old, 'old.json').scope.profile).toBe('uniform');
    // a report from before engine timing: a merge with it cannot say how long the engines took
    const noEngineMs = JSON.parse(JSON.stringify(rb)) as ReportData;
    delete noEngineMs.timing.engineMs;
    expect(mergeReports([{ from: 'a', report: ra }, { from: 'b', report: validateReport(noEngineMs, 'b.json') }], { mode: 'parallel' }).timing.engineMs).toBeUndefined();

    // Two runs of one seed are byte-identical once bench/normalize_timings.js has stripped the timings.
    const files = ['report.txt', 'report.md', 'report.html', 'report.json'];
    const paths = [a, b].flatMap((d) => files.map((f) => path.join(d, 'out', f)));
    execFileSync(process.execPath, [path.join(ROOT, 'bench', 'normalize_timings.js'), ...paths]);
    for (const f of files) expect(fs.readFileSync(path.join(b, 'out', f), 'utf8'), f).toBe(fs.readFileSync(path.join(a, 'out', f), 'utf8'));
    expect(fs.readFileSync(path.join(a, 'out', 'report.txt'), 'utf8')).toMatch(/ops {2}<n> ms {2}<n>% of model time\n/);
    expect(fs.readFileSync(path.join(a, 'out', 'report.md'), 'utf8')).toContain('took <n> ms, <n>% of the elapsed time\n');
  });
});
