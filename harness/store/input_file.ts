// Reading an input file from disk with a one-line error naming it: every file a command reads that a
// user can point it at (sequences, crash files, corpus and crash directories' entries, jsfuzz byte
// files, the report.json/stats.json of directories being merged or resumed).
//
// Only regular files are read. A FIFO, a socket or a device (`replay /dev/zero`, a corpus entry that
// is a FIFO) would block the command forever or never reach end of file; a directory is not a file.
// The file is opened with O_NONBLOCK, so the open itself cannot wait for a FIFO's writer, and then
// fstat-checked: the check is on what was opened, so nothing can swap the file between check and read.
// (O_NONBLOCK changes nothing for a regular file.) Its size is bounded too: the largest file the
// harness writes (a crash file of a --max-ops 100000 sequence) is tens of MB, so more than
// MAX_INPUT_BYTES is not one of ours and is refused before it is read into memory.
import * as fs from 'node:fs';
import { InputError } from '../seq/strict_json';

/** The largest input file read (256 MiB). */
const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** What a non-regular file is, for the message. */
function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'a special file';
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENXIO') return 'a socket or device';
  return code ?? String(e);
}

/** Read an input file, or throw a one-line InputError naming it (`shown`) and saying why. */
export function readInputFile(file: string, shown: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new InputError(`${shown}: cannot read (${reason(e)})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InputError(`${shown}: cannot read (${st.isDirectory() ? 'a directory' : `${kindOf(st)}, not a regular file`})`);
    if (st.size > MAX_INPUT_BYTES) throw new InputError(`${shown}: cannot read (${st.size} bytes; input files are at most ${MAX_INPUT_BYTES / 1024 / 1024} MiB)`);
    // Read to end of file (it may have changed size since fstat), never past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(st.size - total, 0) + 65536, MAX_INPUT_BYTES + 1 - total));
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > MAX_INPUT_BYTES) throw new InputError(`${shown}: cannot read (more than ${MAX_INPUT_BYTES / 1024 / 1024} MiB; input files are at most that)`);
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${shown}: cannot read (${reason(e)})`);
  } finally {
    fs.closeSync(fd);
  }
}
