// The status line (issue 12 item 8): budget progress and ETA, `corp:` as what the engine keeps,
// `seeds:` for the corpus phase, and on a terminal never wider than columns-1 (so `\r\x1b[K` clears it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CampaignStatus } from '../../harness/fuzz/campaign';
import { formatStatus } from '../../harness/fuzz/status_line';
import { main } from '../../harness/cli/main';
import { captureIo } from './helpers';

const base: CampaignStatus = {
  execs: 1234, ops: 17000, execsPerSec: 100, opsPerSec: 1700, coverage: 159, corpus: null,
  seeds: { done: 9, total: 9 }, budget: { runs: null, timeSec: 60 }, findings: 2, explained: 4, elapsedSec: 16, done: false,
};
const st = (o: Partial<CampaignStatus>): CampaignStatus => ({ ...base, ...o });

describe('formatStatus', () => {
  it('shows time budget progress and the time left', () => {
    expect(formatStatus(base)).toBe('#1234 pulse exec/s: 100 ops/s: 1700 cov: 159 findings: 2 (explained: 4) 16/60 s eta 44s');
  });

  it('shows runs budget progress and an ETA from the exec rate', () => {
    const line = formatStatus(st({ budget: { runs: 5000, timeSec: null }, elapsedSec: 12.3 }));
    // (5000 - 1234) / 100 per s = 37.66 s
    expect(line).toBe('#1234 pulse exec/s: 100 ops/s: 1700 cov: 159 findings: 2 (explained: 4) 1234/5000 runs 12s eta 38s');
    expect(formatStatus(st({ budget: { runs: 100_000, timeSec: null }, elapsedSec: 12 }))).toMatch(/ 1234\/100000 runs 12s eta 16m28s$/);
  });

  it('with both budgets, the ETA is the earlier end; a finished run has none', () => {
    expect(formatStatus(st({ budget: { runs: 2000, timeSec: 60 } }))).toMatch(/ 1234\/2000 runs 16\/60 s eta 8s$/);
    expect(formatStatus(st({ budget: { runs: 100_000, timeSec: 60 } }))).toMatch(/ 1234\/100000 runs 16\/60 s eta 44s$/);
    expect(formatStatus(st({ done: true }))).toMatch(/^#1234 DONE .* 16\/60 s$/);
    expect(formatStatus(st({ budget: { runs: null, timeSec: 0.5 }, elapsedSec: 0.26 }))).toMatch(/ 0\.3\/0\.5 s eta 0s$/);
  });

  it('corp: is what the engine keeps — absent for random (null), the count for guided', () => {
    expect(formatStatus(st({ corpus: null }))).not.toContain('corp:');
    expect(formatStatus(st({ corpus: 0 }))).toContain(' cov: 159 corp: 0 findings:');
    expect(formatStatus(st({ corpus: 37 }))).toContain(' cov: 159 corp: 37 findings:');
  });

  it('seeds: i/N only while the corpus phase runs', () => {
    expect(formatStatus(st({ seeds: { done: 3, total: 9 } }))).toContain(' cov: 159 seeds: 3/9 findings:');
    expect(formatStatus(st({ corpus: 5, seeds: { done: 3, total: 9 } }))).toContain(' corp: 5 seeds: 3/9 ');
    expect(formatStatus(st({ seeds: { done: 9, total: 9 } }))).not.toContain('seeds:');
    expect(formatStatus(st({ seeds: { done: 0, total: 0 } }))).not.toContain('seeds:');
  });

  it('fitted to a width: never more than columns-1, least important fields dropped first', () => {
    const wide = st({ execs: 123_456_789, ops: 9_876_543_210, execsPerSec: 123456, opsPerSec: 9876543, corpus: 12345, seeds: { done: 3, total: 9 },
      budget: { runs: 999_999_999, timeSec: 86400 }, elapsedSec: 4000 });
    const full = formatStatus(wide);
    expect(full.length).toBeGreaterThan(150);
    for (const w of [1, 2, 10, 20, 40, 49, 50, 60, 80, 120, 200, 400]) {
      const line = formatStatus(wide, w);
      expect(line.length, `width ${w}: ${line}`).toBeLessThanOrEqual(Math.max(1, w - 1));
      expect(full.startsWith(line.split(' ')[0])).toBe(true);
    }
    expect(formatStatus(wide, 400)).toBe(full);
    // at 80 the essentials stay: count, findings and budget progress
    const at80 = formatStatus(wide, 80);
    expect(at80).toMatch(/^#123456789 pulse .*findings: 2 .*999999999 runs/);
    expect(at80).not.toContain('ops/s:');
    // 60 characters: fits in 61 columns, not in 60
    expect(formatStatus(base, 61)).toBe('#1234 pulse exec/s: 100 cov: 159 findings: 2 16/60 s eta 44s');
    expect(formatStatus(base, 60)).toBe('#1234 pulse cov: 159 findings: 2 16/60 s eta 44s');
    expect(formatStatus(base, 40)).toBe('#1234 pulse findings: 2 16/60 s eta 44s');
    expect(formatStatus(base, 30)).toBe('#1234 pulse findings: 2');
    expect(formatStatus(base, 10)).toBe('#1234 pul');
  });
});

describe('tdpfuzz run status output', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tdpfuzz-status-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = async (tty: boolean, name: string, extra: string[]): Promise<string> => {
    const io = Object.assign(captureIo(dir), { isTTY: tty, columns: 50 });
    const code = await main(['run', '--seed', '3', '--out', path.join(dir, name), '--crashes', path.join(dir, `${name}-crashes`), ...extra], io);
    expect(code).toBe(0);
    return io.stderr;
  };

  it('on a 50-column terminal, every status line is at most 49 characters', async () => {
    const err = await run(true, 'tty', ['--time', '0.8', '--engine', 'guided']);
    const writes = err.split('\r\x1b[K').slice(1);
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) {
      const line = w.replace(/\n$/, '');
      expect(line).not.toContain('\n');
      expect(line.length, line).toBeLessThanOrEqual(49);
    }
    expect(writes.some(w => w.startsWith('#'))).toBe(true);
  }, 20_000);

  it('not on a terminal, status lines are complete whatever the width', async () => {
    const err = await run(false, 'log', ['--runs', '60']);
    const lines = err.split('\n').filter(l => l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(0);
    const last = lines[lines.length - 1];
    expect(last).toMatch(/^#60 DONE exec\/s: \d+ ops\/s: \d+ cov: \d+ findings: \d+ \(explained: \d+\) 60\/60 runs \d+s$/);
    expect(last.length).toBeGreaterThan(49);
    expect(last).not.toContain('corp:');
  }, 20_000);
});
