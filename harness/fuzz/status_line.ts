// The campaign's status line (libFuzzer-style), fitted to a terminal's width: on a TTY the line is
// rewritten in place with `\r\x1b[K`, which only clears it if it never wrapped.
import type { CampaignStatus } from './campaign';

/** One field of the line; fields with a higher `drop` go first when the line is too wide. */
interface Field { text: string; drop: number }

/** `44s`, `12m05s`, `3h07m`: a duration short enough for the status line. */
function duration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** Seconds until the budget is spent (the earlier of runs and time), or null without a budget or rate. */
function eta(s: CampaignStatus): number | null {
  const left: number[] = [];
  if (s.budget.runs !== null && s.execsPerSec > 0) left.push(Math.max(0, s.budget.runs - s.execs) / s.execsPerSec);
  if (s.budget.timeSec !== null) left.push(Math.max(0, s.budget.timeSec - s.elapsedSec));
  return left.length ? Math.min(...left) : null;
}

function fields(s: CampaignStatus): Field[] {
  const f: Field[] = [
    { text: `#${s.execs} ${s.done ? 'DONE' : 'pulse'}`, drop: 0 },
    { text: `exec/s: ${Math.round(s.execsPerSec)}`, drop: 4 },
    { text: `ops/s: ${Math.round(s.opsPerSec)}`, drop: 7 },
    { text: `cov: ${s.coverage}`, drop: 3 },
  ];
  if (s.corpus !== null) f.push({ text: `corp: ${s.corpus}`, drop: 5 });
  if (s.seeds.done < s.seeds.total) f.push({ text: `seeds: ${s.seeds.done}/${s.seeds.total}`, drop: 5 });
  f.push({ text: `findings: ${s.findings}`, drop: 0 }, { text: `(explained: ${s.explained})`, drop: 6 });
  const { runs, timeSec } = s.budget;
  if (runs !== null) f.push({ text: `${s.execs}/${runs} runs`, drop: 1 });
  if (timeSec !== null) {
    const el = timeSec < 10 ? s.elapsedSec.toFixed(1) : String(Math.round(s.elapsedSec));
    f.push({ text: `${el}/${timeSec} s`, drop: 1 });
  } else {
    f.push({ text: duration(s.elapsedSec), drop: 1 });
  }
  const left = s.done ? null : eta(s);
  if (left !== null) f.push({ text: `eta ${duration(left)}`, drop: 2 });
  return f;
}

/**
 * `#12345 pulse exec/s: 1234 ops/s: 17000 cov: 159 corp: 3 seeds: 12/40 findings: 0 (explained: 4) 1234/5000 runs 16/60 s eta 44s`:
 * `#` sequences executed (corpus included); `cov:` model transition classes reached; `corp:` the
 * sequences the engine keeps (guided, jsfuzz; absent for random, which keeps none); `seeds: i/N`
 * the corpus files (--corpus) run so far, shown while that phase runs; `findings:` distinct finding
 * signatures, `explained:` accepted differences seen; then the budget's progress (`i/N runs` with
 * --runs, `t/T s` with --time, else the elapsed time) and `eta` until the budget is spent.
 * With `columns`, the line is at most columns-1 characters (so a terminal never wraps it): the
 * least important fields are dropped first (ops/s, explained, seeds, corp, exec/s, cov, eta, budget),
 * then the rest is cut. Without it, the full line (logs).
 */
export function formatStatus(s: CampaignStatus, columns?: number): string {
  const f = fields(s);
  const join = (): string => f.map(x => x.text).join(' ');
  if (columns === undefined) return join();
  const max = Math.max(1, columns - 1);
  let line = join();
  while (line.length > max && f.some(x => x.drop > 0)) {
    const worst = Math.max(...f.map(x => x.drop));
    // of equally unimportant fields (corp, seeds) the last goes first
    let i = f.length - 1;
    while (f[i].drop !== worst) i--;
    f.splice(i, 1);
    line = join();
  }
  return line.length > max ? line.slice(0, max) : line;
}
