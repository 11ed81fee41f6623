// The `"$schema"` field of the files tdpfuzz writes (issue 12 item 11): which JSON Schema of
// schemas/ describes a format, and the reference a written file carries so that an editor completes
// and checks its fields.
//
// Inside the repository (or package) of the tdpfuzz that writes it, the reference is the path from
// the written file's directory to the schema file: editors (VS Code, JetBrains, the JSON language
// servers) resolve a relative `$schema` against the file, so it works wherever in the repository the
// file was written — `../schemas/...` from crashes/, corpus/ and examples/, `../../schemas/...` from
// out/crashes/ — where a fixed repository-relative string would be wrong from OUT, and the project
// has no published URL an https reference could point at. Outside it (a campaign in /tmp), and for
// text with no destination, the reference is the fixed form of the committed directories,
// `../schemas/<file>`: an absolute or machine-relative path would make the same campaign's files
// differ between two checkouts (bench/snapshot.sh compares those byte for byte).
// Readers accept any string there and ignore it: a file stays valid when moved.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Fields, show } from './strict_json';

/** The formats with a schema, and their schema files in schemas/. */
export const SCHEMA_FILES = {
  'tdpfuzz-seq/1': 'tdpfuzz-seq-1.schema.json',
  'tdpfuzz-crash/1': 'tdpfuzz-crash-1.schema.json',
  'tdpfuzz-series/1': 'tdpfuzz-series-1.schema.json',
} as const;

export type SchemaFormat = keyof typeof SCHEMA_FILES;

/** The schemas/ directory of this tdpfuzz (the nearest ancestor holding it), or null. */
function schemaDir(): string | null {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, 'schemas');
    if (fs.existsSync(path.join(p, SCHEMA_FILES['tdpfuzz-seq/1']))) return p;
    dir = path.dirname(dir);
  }
  return null;
}

let dirCache: string | null | undefined;

/** The `$schema` a file of `format` written at `file` (absolute or relative to cwd) carries. */
export function schemaRef(format: SchemaFormat, file?: string): string {
  const name = SCHEMA_FILES[format];
  if (dirCache === undefined) dirCache = schemaDir();
  const fixed = `../schemas/${name}`;
  if (file === undefined || dirCache === null) return fixed;
  const from = path.dirname(path.resolve(file));
  const root = path.dirname(dirCache);
  const inside = path.relative(root, from);
  if (inside.startsWith('..') || path.isAbsolute(inside)) return fixed;
  const rel = path.relative(from, path.join(dirCache, name)).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** A file's own `$schema`, when it has one, must be a string (its value is not checked: files move). */
export function checkSchemaRef(f: Fields): void {
  const v = f.raw('$schema');
  if (v !== undefined && typeof v !== 'string') f.fail('$schema', `expected a string (the path or URL of the file's JSON Schema), got ${show(v)}`);
}
