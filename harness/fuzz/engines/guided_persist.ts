// Writing the guided engine's kept sequences to the run's output corpus (ctx.corpusOut:
// `<out>/corpus/` by default — not the repository's curated corpus/ of named scenarios), one
// `<sequenceHash>.json` per sequence. Writes are atomic (DESIGN §6), so a campaign reading the
// directory (or killed mid-write) never sees a half-written file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { displayPath, writeFileAtomic } from '../../store/fsutil';
import { readInputFile } from '../../store/input_file';
import { parseSequence, serializeSequence, type Sequence } from '../../seq/sequence';

/**
 * The sequences a guided run kept in `dir` (run --resume starts from them), in file-name order.
 * A file that does not parse is an error naming it: it is the interrupted run's work.
 */
export function readKeptCorpus(dir: string): Sequence[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter(n => n.endsWith('.json') && !n.startsWith('.')).sort().map((n) => {
    const file = path.join(dir, n);
    const shown = displayPath(file);
    return parseSequence(readInputFile(file, shown).toString('utf8'), shown);
  });
}

export class KeptCorpusWriter {
  /** the directory exists (created on the first write, so a run that keeps nothing leaves no directory) */
  private ready = false;

  /** `dir` null: keep nothing on disk. */
  constructor(private readonly dir: string | null) {}

  /**
   * Write seq (with meta, its provenance) as `<hash>.json`. An existing file is left alone: the
   * name is the content's hash, and another run's meta is as good as this one's.
   */
  write(hash: string, seq: Sequence, meta: Record<string, unknown>): void {
    if (!this.dir) return;
    if (!this.ready) { fs.mkdirSync(this.dir, { recursive: true }); this.ready = true; }
    const file = path.join(this.dir, `${hash}.json`);
    if (fs.existsSync(file)) return;
    writeFileAtomic(file, serializeSequence({ ...seq, meta }, file));
  }
}
