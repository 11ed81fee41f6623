// Live corpus sync between campaigns (issue 14 item 4; AFL++'s -M/-S sync directory): workers and
// shards of a fleet pointed at one `--sync DIR` share what their coverage-guided engines keep while
// they run. Each instance owns DIR/<name>/ and only ever writes there: every kept sequence is
// published at once as <sequenceHash>.json, written atomically (temp file + rename), so a reader
// sees a whole file or none and no lock is taken on the hot path. Every `everySec` seconds an
// instance lists the other instances' folders and imports the files it has not seen: the campaign
// runs them like its own inputs and offers them to its engine as observed (worker_run.ts), so they
// join its corpus when they reach something new there.
//
// A synced run depends on what the others found and when: it is not deterministic (nor is AFL++'s);
// its findings are still exact (each one is a sequence with its crash file).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSequence, sequenceHash, serializeSequence, type Sequence } from '../seq/sequence';
import { writeFileAtomic } from '../store/fsutil';
import type { CrashSource } from '../store/crash_store';

export interface SyncedInput { seq: Sequence; source: CrashSource }

export class CorpusSync {
  private readonly own: string;
  private readonly seen = new Set<string>();
  /** content hashes this instance has already (kept, or received another way): not imported again */
  readonly known = new Set<string>();
  private nextPollMs = 0;
  /** files imported and published (for tests and the status line) */
  readonly counts = { published: 0, imported: 0, skipped: 0 };

  constructor(private readonly dir: string, private readonly name: string, private readonly everyMs: number, private readonly clock: () => number = () => Date.now()) {
    this.own = path.join(dir, name);
    fs.mkdirSync(this.own, { recursive: true });
  }

  /** Publish a kept sequence (idempotent: the name is its content's hash). */
  publish(seq: Sequence): void {
    const hash = sequenceHash(seq);
    const file = path.join(this.own, `${hash}.json`);
    this.known.add(hash);
    if (fs.existsSync(file)) return;
    writeFileAtomic(file, serializeSequence({ ...seq, meta: { ...(seq.meta ?? {}), syncedFrom: this.name } }, file));
    this.counts.published++;
  }

  /** The other instances' new files, when a poll is due (else nothing). A file that does not parse is skipped (a newer version's, or damaged), once. */
  poll(): SyncedInput[] {
    const now = this.clock();
    if (now < this.nextPollMs) return [];
    this.nextPollMs = now + this.everyMs;
    const out: SyncedInput[] = [];
    let peers: string[];
    try { peers = fs.readdirSync(this.dir).filter(n => n !== this.name).sort(); } catch { return out; }
    for (const peer of peers) {
      let names: string[];
      try { names = fs.readdirSync(path.join(this.dir, peer)).filter(n => n.endsWith('.json') && !n.startsWith('.')).sort(); } catch { continue; }
      for (const n of names) {
        const key = `${peer}/${n}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        if (this.known.has(n.slice(0, -'.json'.length))) continue;
        const file = path.join(this.dir, peer, n);
        try {
          const seq = parseSequence(fs.readFileSync(file, 'utf8'), file);
          this.known.add(sequenceHash(seq));
          out.push({ seq, source: { file: path.join(path.basename(this.dir), peer, n), engine: 'sync' } });
          this.counts.imported++;
        } catch {
          this.counts.skipped++;
        }
      }
    }
    return out;
  }
}
