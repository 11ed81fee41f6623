// Reading an input file from disk with a one-line error naming it (every command's inputs: sequences,
// crash files, jsfuzz byte files, output directories being merged).
import * as fs from 'node:fs';
import { InputError } from '../seq/strict_json';

/** Read an input file, or throw a one-line InputError naming it (`shown`) and saying why. */
export function readInputFile(file: string, shown: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${shown}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : code ?? String(e)})`);
  }
}
