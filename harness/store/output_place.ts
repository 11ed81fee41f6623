// Checking where a command will write (--out, --crashes, --corpus-out, a minimize/mutants --out file)
// before it writes anything there, so that a bad place is one line naming the flag (exit 2) and not a
// failure half-way through a run, after earlier outputs were overwritten.
//
// The check walks up to the first existing ancestor of the path (what `mkdir -p` would start from)
// and wants a writable directory on a real filesystem. This catches:
//   - a path under a regular file (`--out report.md/x`), or a file given as the directory;
//   - pseudo filesystems: mkdir -p under /proc or /sys fails oddly (Node's recursive mkdir loops
//     forever on /proc), and nothing written there is a file anyway;
//   - a read-only filesystem or a directory without write permission.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../seq/strict_json';
import { displayPath } from './fsutil';

/** statfs f_type magic numbers of kernel pseudo filesystems (linux/magic.h). */
const PSEUDO_FS = new Map<number, string>([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x64626720, 'debugfs'], [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'], [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'], [0x6165676c, 'pstore'], [0xde5e81e4, 'efivarfs'], [0xf97cff8c, 'selinuxfs'],
  [0x1cd1, 'devpts'], [0x19800202, 'mqueue'], [0x42494e4d, 'binfmt_misc'], [0x65735543, 'fusectl'],
]);

/** The path itself or its nearest existing ancestor, with its stats. */
function firstExisting(abs: string): { at: string; st: fs.Stats } {
  for (let p = abs; ; p = path.dirname(p)) {
    try {
      return { at: p, st: fs.statSync(p) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a component above is not a directory; keep walking up to find and name it.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(p) === p) throw e;
    }
  }
}

/**
 * Throw a one-line InputError (`what`: the flag and path as given, e.g. "--out /proc/x") unless
 * `dir` is a directory that exists or can be created, on a real filesystem, writable.
 */
export function checkOutputDir(dir: string, what: string, cwd: string = process.cwd()): void {
  checkDirPlace(path.resolve(cwd, dir), what, cwd, true);
}

/** checkOutputDir of `abs`; `named`: abs is what the user named (else the directory of a named file). */
function checkDirPlace(abs: string, what: string, cwd: string, named: boolean): void {
  let found: { at: string; st: fs.Stats };
  try {
    found = firstExisting(abs);
  } catch (e) {
    throw new InputError(`${what}: cannot write there (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const { at, st } = found;
  const shownAt = displayPath(at, cwd);
  if (!st.isDirectory()) {
    throw new InputError(`${what}: ${at === abs && named ? 'exists and is not a directory' : `cannot be created: ${shownAt} is not a directory`}`);
  }
  let fsType: number | undefined;
  try { fsType = Number(fs.statfsSync(at).type); } catch { /* not every platform has statfs */ }
  const pseudo = fsType !== undefined ? PSEUDO_FS.get(fsType) : undefined;
  if (pseudo) throw new InputError(`${what}: cannot write there: ${shownAt} is on the ${pseudo} pseudo filesystem`);
  try {
    fs.accessSync(at, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'read-only filesystem' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code ?? String(e);
    throw new InputError(`${what}: cannot write there: ${shownAt} is not writable (${why})`);
  }
}

/** The same for an output file: its directory must pass checkOutputDir, and the file, if it exists, be a regular file. */
export function checkOutputFile(file: string, what: string, cwd: string = process.cwd()): void {
  const abs = path.resolve(cwd, file);
  let st: fs.Stats | undefined;
  try { st = fs.statSync(abs); } catch { /* does not exist yet (or its directory does not; checked next) */ }
  if (st && !st.isFile()) throw new InputError(`${what}: exists and is not a regular file`);
  checkDirPlace(path.dirname(abs), what, cwd, false);
}
