// A one-node Slurm cluster on this machine for test/slurm.test.ts: munged, slurmctld and slurmd
// started in the foreground from a generated configuration under a temp directory (key, sockets,
// state, spool, logs, pid files all inside it; free ports), and stopped by PID. Clients reach it
// through env() (SLURM_CONF). Nothing outside the directory is read or written but /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The first of `names` found on PATH or in the sbin directories (daemons live in /usr/sbin). */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    const p = path.join(d, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/** Why a cluster cannot be started here, or null when it can. */
export function cannotStart(): string | null {
  for (const p of ['slurmctld', 'slurmd', 'sbatch', 'munged', 'mungekey']) {
    if (!findProgram(p)) return `${p} is not installed (Debian: apt-get install slurm-wlm munge; .ci/run does this)`;
  }
  if (process.platform !== 'linux') return 'not Linux (proctrack/linuxproc)';
  // slurmd runs jobs as their user and must be root; SlurmUser=root keeps the rest simple.
  if (process.getuid?.() !== 0) return 'not running as root (slurmd must be root)';
  return null;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Polls `ok` every 200 ms until it returns a value, for at most `ms`; throws `what` on timeout. */
export async function waitFor<T>(what: string, ms: number, ok: () => T | null | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = ok();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

export class SlurmCluster {
  private readonly daemons: { name: string; child: ChildProcess }[] = [];
  readonly conf: string;
  constructor(readonly dir: string) { this.conf = path.join(dir, 'slurm.conf'); }

  /** Client environment: this cluster's slurm.conf, and no SLURM_/SBATCH_ settings of an enclosing job. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(SLURM|SBATCH|SALLOC|SRUN)_/.test(k)) env[k] = v;
    return { ...env, SLURM_CONF: this.conf, ...extra };
  }

  /** Runs a Slurm client; throws with its stderr when it fails. */
  client(cmd: string, args: string[]): string {
    const r = spawnSync(findProgram(cmd)!, args, { env: this.env(), encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    return r.stdout;
  }

  async start(): Promise<void> {
    const d = this.dir;
    for (const sub of ['munge', 'sock', 'state', 'spool', 'log']) fs.mkdirSync(path.join(d, sub), { recursive: true, mode: 0o700 });
    fs.chmodSync(path.join(d, 'sock'), 0o755); // munged wants clients to reach its socket directory
    const key = path.join(d, 'munge', 'munge.key');
    const socket = path.join(d, 'sock', 'munge.socket');
    const mk = spawnSync(findProgram('mungekey')!, ['--create', `--keyfile=${key}`], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`mungekey: ${mk.stderr}`);
    // --force: the temp directory's parent (/tmp) is world-writable, which munged otherwise refuses.
    this.daemon('munged', ['--foreground', '--force', `--key-file=${key}`, `--socket=${socket}`,
      `--pid-file=${d}/munge/munged.pid`, `--log-file=${d}/log/munged.log`, `--seed-file=${d}/munge/munged.seed`]);
    await waitFor('the munge socket', 10_000, () => fs.existsSync(socket));

    // The node as slurmd sees it (CPUs, sockets, memory), so that it registers without a mismatch.
    const host = os.hostname().split('.')[0];
    const detected = spawnSync(findProgram('slurmd')!, ['-C'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
    const node = /^NodeName=\S+ /.test(detected) ? detected.replace(/^NodeName=\S+ /, `NodeName=${host} `) : `NodeName=${host} CPUs=${os.cpus().length}`;
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    fs.writeFileSync(this.conf, [
      'ClusterName=tdpfuzz-test',
      `SlurmctldHost=${host}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'SlurmUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${d}/state`,
      `SlurmdSpoolDir=${d}/spool`,
      `SlurmctldPidFile=${d}/slurmctld.pid`,
      `SlurmdPidFile=${d}/slurmd.pid`,
      `SlurmctldLogFile=${d}/log/slurmctld.log`,
      `SlurmdLogFile=${d}/log/slurmd.log`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'ReturnToService=2',
      'MailProg=/bin/true',
      // Finished jobs stay visible to scontrol long enough for the test to read their exit codes.
      'MinJobAge=600',
      `${node} State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'));
    this.daemon('slurmctld', ['-D', '-i', '-f', this.conf]);
    this.daemon('slurmd', ['-D', '-f', this.conf, '-N', host]);
    await waitFor(`node ${host} to be idle (logs: ${d}/log)`, 30_000, () => {
      const r = spawnSync(findProgram('sinfo')!, ['-h', '-N', '-o', '%T'], { env: this.env(), encoding: 'utf8', timeout: 5000 });
      return r.status === 0 && r.stdout.trim() === 'idle';
    });
  }

  private daemon(name: string, args: string[]): void {
    const log = fs.openSync(path.join(this.dir, 'log', `${name}.out`), 'a');
    const child = spawn(findProgram(name)!, args, { env: this.env(), stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.daemons.push({ name, child });
  }

  /** The last lines of every log, for a failure message. */
  logs(): string {
    const dir = path.join(this.dir, 'log');
    if (!fs.existsSync(dir)) return '';
    return fs.readdirSync(dir).map(f => `--- ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}`).join('\n');
  }

  /**
   * Cancels every job, stops the daemons (SIGTERM, SIGKILL after 10 s) by PID, then kills by PID any
   * process still working in the cluster's directory tree (a job step slurmd left behind).
   */
  async stop(): Promise<void> {
    if (this.daemons.some(x => x.child.exitCode === null && x.name === 'slurmctld')) {
      spawnSync(findProgram('scancel')!, ['--user=root', '--full'], { env: this.env(), timeout: 10_000 });
      await waitFor('jobs to end', 15_000, () => {
        const r = spawnSync(findProgram('squeue')!, ['-h', '-o', '%i'], { env: this.env(), encoding: 'utf8', timeout: 5000 });
        return r.status !== 0 || r.stdout.trim() === '';
      }).catch(() => undefined);
    }
    for (const { child } of [...this.daemons].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]) === false) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    for (const pid of processesUnder(this.dir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

/** PIDs of processes whose working directory is `dir` or below it (job steps, job scripts). */
function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${e}/cwd`);
      if (cwd === dir || cwd.startsWith(dir + '/')) out.push(Number(e));
    } catch { /* gone, or not ours to read */ }
  }
  return out;
}
