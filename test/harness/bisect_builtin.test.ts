// tdpfuzz bisect on the built-in series (issue 10 item 5): v3 reports every step the way series.md
// §5 says it behaves (no unexplained divergence; the refactor steps verified pure); v2's patch 9
// loses a trace, seen only under strict; v1's order opens the atomic-zap window at v1 07/17, found
// in the extended domain within a bounded run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import { BUILTIN_SERIES } from '../../impls/series/index';
import { captureIo as io, tmpDir } from './helpers';

interface StepView { id: string; verdict: string; seen: string[]; modes: { equiv: string; domain: string; unexplained: number }[]; findings: { mode: string; signature: string }[] }
interface BisectView { verdict: { clean: boolean; firstDiverging: string | null }; steps: StepView[] }

async function bisect(series: string, runs: number): Promise<{ code: number; b: BisectView }> {
  const work = tmpDir(`bisect-${series}`);
  // a directory named like the series (an earlier --out v3) does not hide the built-in series
  fs.mkdirSync(path.join(work, series));
  const o = io(work);
  const code = await main(['bisect', '--series', series, '--runs', String(runs), '--seed', '1', '--out', 'o'], o);
  return { code, b: JSON.parse(fs.readFileSync(path.join(work, 'o', 'bisect.json'), 'utf8')) as BisectView };
}

describe('bisect on the built-in series', () => {
  it('v3: no unexplained divergence; the steps series.md calls refactors are verified pure, P2/P3/P5/P9/P10/P12/P14/P15 match their declared differences', async () => {
    const { code, b } = await bisect('v3', 80);
    expect(code).toBe(0);
    expect(b.verdict).toMatchObject({ clean: true, firstDiverging: null });
    const byId = Object.fromEntries(b.steps.map(s => [s.id, s]));
    const v3 = BUILTIN_SERIES['tdx-mmu-refactors-v3'];
    for (const st of v3.steps) {
      if (st.kind === 'refactor') expect(byId[st.id].verdict, st.id).toBe('pure');
    }
    for (const id of ['P2', 'P3']) expect(byId[id].seen, id).toEqual(['D16']); // renamed diagnostic sites, strict only
    expect(byId.P5.seen).toEqual(expect.arrayContaining(['D7', 'D10']));
    expect(byId.P9.seen).toEqual(expect.arrayContaining(['D13', 'D17']));
    expect(byId.P10.seen).toEqual(['D8']);
    expect(byId.P14.seen).toEqual(['D4']);
    expect(byId.P15.seen).toContain('D2');
  }, 120_000);

  it('v2: the first diverging step is v2-P9, its missing trace unexplained under strict only', async () => {
    const { code, b } = await bisect('v2', 80);
    expect(code).toBe(1);
    expect(b.verdict.firstDiverging).toBe('v2-P9');
    const st = b.steps.find(s => s.id === 'v2-P9')!;
    expect(st.verdict).toBe('unexplained');
    expect(st.modes.filter(m => m.equiv === 'state').every(m => m.unexplained === 0)).toBe(true);
    expect(st.modes.find(m => m.equiv === 'strict' && m.domain === 'legal')!.unexplained).toBeGreaterThan(0);
    expect(st.findings.every(f => f.signature.endsWith('|trace'))).toBe(true);
    // every other step of v2 is v3's and reports as in v3
    expect(b.steps.filter(s => s.verdict === 'unexplained').map(s => s.id)).toEqual(['v2-P9']);
  }, 120_000);

  it('v1: the atomic-zap window opens at v1-P7 (extended domain), not in the legal domain', async () => {
    const { code, b } = await bisect('v1', 80);
    expect(code).toBe(1);
    expect(b.verdict.firstDiverging).toBe('v1-P7');
    const st = b.steps.find(s => s.id === 'v1-P7')!;
    expect(st.modes.filter(m => m.domain === 'legal').every(m => m.unexplained === 0)).toBe(true);
    expect(st.findings.some(f => f.mode.endsWith('/extended') && f.signature.includes('|atomicZap|'))).toBe(true);
  }, 120_000);
});
