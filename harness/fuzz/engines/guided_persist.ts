// Writing the guided engine's kept sequences to the run's output corpus (ctx.corpusOut:
// `<out>/corpus/` by default — not the repository's curated corpus/ of named scenarios), one
// `<sequenceHash>.json` per sequence. Writes are atomic (DESIGN §6), so a campaign reading the
// directory (or killed mid-write) never sees a half-written file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../store/fsutil';
import { serializeSequence, type Sequence } from '../../seq/sequence';

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
