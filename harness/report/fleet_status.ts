// `tdpfuzz status DIR...` (afl-whatsup): what a fleet of running or finished campaigns is doing,
// read from their stats.json files, which campaigns rewrite atomically every second (worker runs
// each time their workers checkpoint), so reading one never sees half a file. One row per campaign
// output directory (a local run, a shard, a Slurm array task) and, for --workers runs, one per
// worker thread; then the fleet total. A row is alive while its file was updated within --stale
// seconds, stale after that (a killed job, a hung node), done once the campaign wrote its last one.
import type { ReportBucket } from './buckets';
import { UnionFind } from './union_find';
import { num } from './data';
import type { StatsFile } from './stats';

export type RowState = 'alive' | 'stale' | 'done';

export interface StatusRow {
  /** the output directory, or "DIR worker N" */
  where: string;
  /** the worker thread of a --workers run this row is (null: the campaign's own row) */
  worker: number | null;
  state: RowState;
  /** seconds since its last update */
  ageSec: number;
  elapsedSec: number;
  execs: number;
  execsPerSec: number;
  coverage: number;
  /** when it reached its last new coverage class, s since its start (null: not recorded) */
  lastNewCoverageSec: number | null;
  findings: number;
  /** open bugs (buckets with an open member); null for a worker row (the main thread buckets) */
  bugs: number | null;
  /** fraction of calibration re-runs that repeated; null when none ran */
  stability: number | null;
  firstFindingSec: number | null;
}

export interface FleetStatus {
  rows: StatusRow[];
  total: { campaigns: number; alive: number; stale: number; done: number; execs: number; execsPerSec: number;
    coverage: number; findings: number; bugs: number; stability: number | null };
}

function stateOf(done: boolean, updatedAt: string, now: number, staleSec: number): { state: RowState; ageSec: number } {
  const ageSec = Math.max(0, (now - Date.parse(updatedAt)) / 1000);
  return { state: done ? 'done' : ageSec > staleSec ? 'stale' : 'alive', ageSec };
}

/** Buckets of several campaigns as one set of bugs: buckets that share a signature are one bug. */
function fleetBugs(bucketLists: readonly ReportBucket[][]): number {
  const buckets = bucketLists.flat();
  const sets = new UnionFind(buckets.length);
  const firstWith = new Map<string, number>();
  buckets.forEach((b, i) => {
    for (const sig of b.signatures) {
      const j = firstWith.get(sig);
      if (j === undefined) firstWith.set(sig, i); else sets.union(j, i);
    }
  });
  const open = new Set(buckets.map((_, i) => i).filter(i => buckets[i].status === 'open').map(i => sets.find(i)));
  return open.size;
}

export function fleetStatus(campaigns: readonly { where: string; stats: StatsFile }[], now: number, staleSec: number): FleetStatus {
  const rows: StatusRow[] = [];
  const stabilityOf = (s?: { reruns: number; repeated: number }): number | null => (s && s.reruns ? s.repeated / s.reruns : null);
  for (const { where, stats: s } of campaigns) {
    rows.push({
      where, worker: null, ...stateOf(s.done, s.updatedAt, now, staleSec), elapsedSec: s.elapsedSec, execs: s.execs, execsPerSec: s.execsPerSec,
      coverage: s.coverage, lastNewCoverageSec: s.lastNewCoverageSec ?? null, findings: s.findings,
      bugs: s.buckets ? s.buckets.filter(b => b.status === 'open').length : null,
      stability: stabilityOf(s.stability), firstFindingSec: s.firstFindingSec ?? null,
    });
    if ((s.perWorker?.length ?? 0) > 1) {
      for (const w of s.perWorker!) {
        rows.push({
          where: `${where} worker ${w.worker}`, worker: w.worker, ...stateOf(w.done, w.updatedAt, now, staleSec), elapsedSec: w.elapsedSec, execs: w.execs,
          execsPerSec: w.execsPerSec, coverage: w.coverage, lastNewCoverageSec: null, findings: w.findings, bugs: null, stability: null, firstFindingSec: null,
        });
      }
    }
  }
  const tops = rows.filter(r => r.worker === null);
  const byCampaign = campaigns.map(c => c.stats);
  const reruns = byCampaign.reduce((n, s) => n + (s.stability?.reruns ?? 0), 0);
  const signatures = new Set(byCampaign.flatMap(s => s.buckets?.flatMap(b => b.signatures) ?? []));
  return {
    rows,
    total: {
      campaigns: tops.length,
      alive: tops.filter(r => r.state === 'alive').length, stale: tops.filter(r => r.state === 'stale').length, done: tops.filter(r => r.state === 'done').length,
      execs: tops.reduce((n, r) => n + r.execs, 0),
      // what the fleet does now: the campaigns still running
      execsPerSec: tops.filter(r => r.state === 'alive').reduce((n, r) => n + r.execsPerSec, 0),
      // each campaign's class count (the classes themselves are in the reports: `tdpfuzz merge` unions them)
      coverage: Math.max(0, ...tops.map(r => r.coverage)),
      // distinct signatures over the fleet (stats files of older versions have no buckets: their own count)
      findings: Math.max(signatures.size, ...tops.map(r => r.findings)),
      bugs: fleetBugs(byCampaign.map(s => s.buckets ?? [])),
      stability: reruns ? byCampaign.reduce((n, s) => n + (s.stability?.repeated ?? 0), 0) / reruns : null,
    },
  };
}

const sec = (s: number | null): string => (s === null ? '-' : s < 100 ? `${s.toFixed(1)}s` : `${Math.round(s)}s`);
const pct = (f: number | null): string => (f === null ? '-' : `${(f * 100).toFixed(f === 1 ? 0 : 1)}%`);

/** The table, at most `width` columns wide where the names allow (the "where" column is cut from the left). */
export function renderFleetStatus(f: FleetStatus, width = 80): string {
  const head = ['state', 'execs', 'exec/s', 'cov', 'last new', 'finds', 'bugs', 'stab'];
  const cells = (r: StatusRow): string[] => [
    r.state === 'alive' ? 'alive' : r.state === 'done' ? 'done' : `stale ${sec(r.ageSec)}`,
    num(r.execs), num(Math.round(r.execsPerSec)), String(r.coverage), sec(r.lastNewCoverageSec), String(r.findings),
    r.bugs === null ? '-' : String(r.bugs), pct(r.stability),
  ];
  const t = f.total;
  const totalCells = [`${t.alive}/${t.campaigns} up`, num(t.execs), num(Math.round(t.execsPerSec)), String(t.coverage), '-', String(t.findings), String(t.bugs), pct(t.stability)];
  const body = [head, ...f.rows.map(cells), totalCells];
  const widths = head.map((_, k) => Math.max(...body.map(c => c[k].length)));
  const right = (k: number): boolean => k > 0 && k !== 4;
  const line = (c: string[]): string => c.map((x, k) => (right(k) ? x.padStart(widths[k]) : x.padEnd(widths[k]))).join('  ');
  const rest = line(head).length + 2;
  const names = [...f.rows.map(r => r.where), 'where', 'fleet'];
  const nameWidth = Math.max(8, Math.min(Math.max(...names.map(n => n.length)), width - rest));
  const name = (n: string): string => (n.length > nameWidth ? `…${n.slice(n.length - nameWidth + 1)}` : n.padEnd(nameWidth));
  const out = [`${name('where')}  ${line(head)}`];
  for (const r of f.rows) out.push(`${name(r.where)}  ${line(cells(r))}`);
  out.push(`${name('fleet')}  ${line(totalCells)}`);
  const notes = [`${t.campaigns} campaign${t.campaigns === 1 ? '' : 's'}: ${t.alive} alive, ${t.stale} stale, ${t.done} done`];
  if (t.stale) notes.push('stale: no stats.json update within --stale S; what it found is on disk');
  return `${out.map(l => l.trimEnd()).join('\n')}\n${notes.join('\n')}\n`;
}
