// `tdpfuzz status DIR...` (afl-whatsup): the state of running or finished campaigns from their
// stats.json files (report/fleet_status.ts). A DIR is a campaign's output directory (it holds
// stats.json) or a directory of them (a Slurm array's shared folder, shard-0 … shard-N): then each
// subdirectory with a stats.json is one campaign. Reading never writes and never waits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fleetStatus, renderFleetStatus } from '../report/fleet_status';
import { readStatsFile } from '../report/stats_file';
import type { StatsFile } from '../report/stats';
import { InputError } from '../seq/strict_json';
import { displayPath } from '../store/fsutil';
import { flagHelp, flagTable, parseFlags, UsageError, type Command, type Io } from './flags';

const FLAGS = flagTable([
  { name: 'stale', kind: { type: 'number', min: 1, max: 1e9 }, metavar: 'S', default: 30, help: 'a campaign whose stats.json is older than S seconds is stale (default 30)' },
  { name: 'json', kind: { type: 'bool' }, default: false, help: 'print the rows and the total as JSON' },
  { name: 'help', kind: { type: 'bool' }, default: false, help: 'show this help' },
]);

const HELP = `usage: tdpfuzz status [flags] DIR...

The state of campaigns, running or finished, from their stats.json (rewritten
atomically every second while they run). DIR is an output directory (--out) or
a directory of them (e.g. a Slurm array's per-task folders). One row per
campaign, and per worker of a --workers run: alive, stale (no update for
--stale S) or done; execs, exec/s, coverage classes, when the last new class
was reached, findings (signatures), open bugs and stability (calibration
re-runs that repeated). The fleet row sums execs, sums exec/s of the live
campaigns, and counts distinct signatures and bugs over all of them.
Exit 0, or 2 on bad input.

flags:
${flagHelp(FLAGS, 12)}

example: tdpfuzz status out/
         tdpfuzz status /shared/tdpfuzz-job-1234/`;

/** DIR → the campaign directories it names (itself, or its subdirectories with a stats.json). */
function campaignDirs(arg: string, cwd: string): string[] {
  const dir = path.resolve(cwd, arg);
  let st: fs.Stats;
  try { st = fs.statSync(dir); } catch { throw new InputError(`${arg}: no such directory`); }
  if (!st.isDirectory()) throw new InputError(`${arg}: not a directory (give a campaign's output directory)`);
  if (fs.existsSync(path.join(dir, 'stats.json'))) return [dir];
  const subs = fs.readdirSync(dir, { withFileTypes: true })
    .filter(e => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'stats.json')))
    .map(e => path.join(dir, e.name)).sort();
  if (!subs.length) throw new InputError(`${arg}: no stats.json here or in its subdirectories (not a campaign output directory)`);
  return subs;
}

async function runStatus(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags('status', FLAGS, argv);
  if (flags.help) { io.out(`${HELP}\n`); return 0; }
  if (positional.length === 0) throw new UsageError('status: missing DIR (a campaign output directory, or a directory of them)');
  const dirs = [...new Set(positional.flatMap(a => campaignDirs(a, io.cwd)))];
  const campaigns: { where: string; stats: StatsFile }[] = dirs.map((d) => {
    const where = displayPath(d, io.cwd);
    return { where, stats: readStatsFile(path.join(d, 'stats.json'), displayPath(path.join(d, 'stats.json'), io.cwd)) };
  });
  const f = fleetStatus(campaigns, Date.now(), flags.stale);
  io.out(flags.json ? `${JSON.stringify(f, null, 2)}\n` : renderFleetStatus(f, io.columns ?? 80));
  return 0;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'the state of running or finished campaigns from their stats.json (afl-whatsup)',
  help: HELP,
  run: runStatus,
};
