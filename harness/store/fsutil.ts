// Small file-system helpers for everything the harness writes (DESIGN §6: writes are atomic):
//  - writeFileAtomic: temp file in the same directory + fsync + rename (+ fsync of the directory),
//    so a reader never sees a half-written file and a crash leaves either the old or the new one.
//  - withFileLock: an exclusive lock file (open with 'wx') around a read-modify-write, with retry and
//    backoff and stale-lock detection (the holder died, or held it far too long), so that several
//    processes updating the same crash file do not lose updates.
// Only node built-ins are imported, so this file can be loaded on its own.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';

let tmpCounter = 0;

/**
 * The temp-file tag of this thread: host, pid and thread, so that a later run can tell a temp file
 * whose writer died (SIGKILL between open and rename) from one a live writer on another host or in
 * another thread is about to rename (removeStaleTemps).
 */
function tempTag(): string {
  return `${hostTag()}~${process.pid}-${threadId}`;
}

function hostTag(): string {
  return os.hostname().replace(/[^A-Za-z0-9_-]/g, '_');
}

/** `.<name>.<host>~<pid>-<thread>.<n>.tmp`, and the older `.<name>.<pid>.<n>.tmp` (this host's). */
const TEMP_NAME = /^\..+\.(?:([A-Za-z0-9_-]+)~(\d+)-\d+|(\d+))\.\d+\.tmp$/;

/**
 * Remove the temp files in `dir` that writeFileAtomic left behind when its process was killed: those
 * of this host whose process is gone. A temp file of another host, or of a live process, is left
 * alone (its writer may be about to rename it). Returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return []; }
  const host = hostTag();
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const [, tagHost, newPid, oldPid] = m;
    const pid = newPid ?? oldPid;
    if ((tagHost !== undefined && tagHost !== host) || Number(pid) === process.pid || pidAlive(Number(pid))) continue;
    try {
      if (!fs.lstatSync(path.join(dir, name)).isFile()) continue;
      fs.unlinkSync(path.join(dir, name));
      removed.push(name);
    } catch { /* gone already, or not ours to remove */ }
  }
  return removed;
}

/**
 * A file could not be written completely (full disk, quota, I/O error). The message is one line naming
 * the file; the previous version of the file, if any, is untouched.
 */
export class WriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteError';
  }
}

/**
 * Write `data` to `file` atomically. The temp file (".<name>.<host>~<pid>-<thread>.<n>.tmp") never
 * outlives the call, except when the process is killed (removeStaleTemps cleans up after that).
 * fs.writeSync may write fewer bytes than asked (a nearly full disk): the loop writes the rest or
 * fails, and only a completely written, fsynced temp file is renamed over the old one. On any error
 * the old file stays as it was and a WriteError names the file.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${tempTag()}.${++tmpCounter}.tmp`);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    for (let off = 0; off < buf.length;) {
      const n = fs.writeSync(fd, buf, off, buf.length - off);
      if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      off += n;
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) { try { fs.closeSync(fd); } catch { /* already failing */ } }
    try { fs.unlinkSync(tmp); } catch { /* not created, or renamed */ }
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'no space left on device' : code === 'EDQUOT' ? 'disk quota exceeded' : code ?? (e as Error).message;
    throw new WriteError(`${displayPath(file)}: not written (${why}); ${fs.existsSync(file) ? 'the previous version is kept' : 'nothing was written'}`);
  }
  fsyncDir(dir);
}

/** Make a rename durable. Not every platform lets a directory be opened and fsynced: best effort. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch { /* EISDIR/EPERM on some platforms */ } finally {
    if (fd !== undefined) { try { fs.closeSync(fd); } catch { /* ignore */ } }
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Synchronous sleep (the campaign loop and the crash store are synchronous). */
function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

export interface LockOptions {
  /** give up after this long (default 30 s) */
  timeoutMs?: number;
  /** a lock older than this is stale even if its holder seems alive (default 10 s) */
  staleMs?: number;
}

interface LockInfo { pid: number; host: string; token: string; time: number }

let tokenCounter = 0;
function newToken(): string {
  return `${process.pid}-${process.hrtime.bigint()}-${++tokenCounter}`;
}

function readLock(lock: string): { info: LockInfo | null; mtimeMs: number; ino: number } | null {
  try {
    const st = fs.statSync(lock);
    let info: LockInfo | null = null;
    try { info = JSON.parse(fs.readFileSync(lock, 'utf8')) as LockInfo; } catch { /* being written, or garbage */ }
    return { info, mtimeMs: st.mtimeMs, ino: st.ino };
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lock was abandoned: its holder (on this host) is gone, or it is older than staleMs. */
function isStale(l: { info: LockInfo | null; mtimeMs: number }, staleMs: number): boolean {
  const age = Date.now() - l.mtimeMs;
  if (age > staleMs) return true;
  // An unreadable lock younger than a second is probably being written by its holder.
  if (!l.info) return false;
  return l.info.host === os.hostname() && l.info.pid !== process.pid && !pidAlive(l.info.pid);
}

/**
 * Break a stale lock: move it aside (rename is atomic, so only one breaker wins), check that what was
 * moved is the lock judged stale (same inode), and put it back if it was a fresh one that replaced it
 * in between.
 */
function breakStaleLock(lock: string, judged: { ino: number }): void {
  const grave = `${lock}.${newToken()}.stale`;
  try {
    fs.renameSync(lock, grave);
  } catch {
    return; // someone else broke or released it
  }
  let ino = -1;
  try { ino = fs.statSync(grave).ino; } catch { /* ignore */ }
  if (ino !== judged.ino) {
    try { fs.linkSync(grave, lock); } catch { /* a new holder already took the lock */ }
  }
  try { fs.unlinkSync(grave); } catch { /* ignore */ }
}

/** Take `lock` (an exclusive lock file), run fn, release. Synchronous; retries with backoff. */
export function withFileLock<T>(lock: string, fn: () => T, opts: LockOptions = {}): T {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const staleMs = opts.staleMs ?? 10_000;
  const start = Date.now();
  const token = newToken();
  let attempt = 0;
  for (;;) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o644);
      try {
        const info: LockInfo = { pid: process.pid, host: os.hostname(), token, time: Date.now() };
        fs.writeSync(fd, JSON.stringify(info));
      } finally {
        fs.closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = readLock(lock);
    if (held && isStale(held, staleMs)) {
      breakStaleLock(lock, held);
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      const who = held?.info ? ` (held by pid ${held.info.pid} on ${held.info.host})` : '';
      throw new Error(`could not lock ${lock} within ${Math.round(timeoutMs / 1000)} s${who}; remove it if no tdpfuzz process is running`);
    }
    // Exponential backoff from 1 ms to 50 ms; the pid spreads processes that collided.
    attempt++;
    sleepSync(Math.min(50, 2 ** Math.min(attempt, 6)) + (process.pid % 5));
  }
  try {
    return fn();
  } finally {
    // Release only our own lock (a stale-lock breaker may have replaced it if we took far too long).
    const cur = readLock(lock);
    if (cur?.info?.token === token) {
      try { fs.unlinkSync(lock); } catch { /* ignore */ }
    }
  }
}

/** package.json "version", found by walking up from this file (works from harness/ and dist/harness/). */
export function toolVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const p = path.join(dir, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tdpfuzz' && pkg.version) return pkg.version;
    } catch { /* keep walking */ }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

/** A path for messages and replay commands: relative to cwd when inside it, with forward slashes. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const abs = path.resolve(cwd, file);
  const rel = path.relative(cwd, abs);
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
  return shown.split(path.sep).join('/');
}
