// Regression mode in vitest (DESIGN §5): every file in crashes/ and corpus/ is replayed and must
// behave as recorded.
//  - crash files: the recorded signature reproduces; an "expected"/"explained" one shows no other
//    unexplained finding (siblings with their own accepted crash file aside) — XFAIL. Only accepted
//    crash files are committed: an open one would make this red until the bug is fixed.
//  - corpus files (named scenario seeds): legal, described, no unexplained finding, exactly the
//    by-design differences of meta.expect.explained, and every mutant in meta.detects is caught
//    (the scenario really exercises its situation).
// Failure messages name the file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { after, before } from '../impls/designs';
import { findMutant } from '../impls/mutants/catalogue';
import { runCampaign } from '../harness/fuzz/campaign';
import { main } from '../harness/cli/main';
import { legalityErrors } from '../harness/seq/legality';
import { acceptedSignatures, corpusExpectation, judge, loadInputFile, settingsFor } from '../harness/store/inputs';
import { runSequence } from '../harness/run/runner';

const ROOT = path.resolve(__dirname, '..');
const NO_FLAGS = { designs: null, equiv: null, domain: null };

function jsonFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs).filter(n => n.endsWith('.json') && !n.startsWith('.')).sort().map(n => `${dir}/${n}`);
}

const CRASHES = jsonFiles('crashes');
const CORPUS = jsonFiles('corpus');
const accepted = acceptedSignatures(CRASHES.map(f => loadInputFile(f, ROOT).crash));

/** Throw an error whose message starts with the file name. */
function check(file: string, ok: boolean, why: string): void {
  if (!ok) throw new Error(`${file}: ${why}`);
}

describe('regression: crashes/ behave as recorded', () => {
  it.each(CRASHES.length ? CRASHES : ['(no crash files)'])('%s', async (file) => {
    if (!CRASHES.length) return;
    const item = loadInputFile(file, ROOT);
    check(file, item.kind === 'crash', 'not a crash file (sequence files belong in corpus/)');
    const settings = settingsFor(item, NO_FLAGS, ROOT);
    const r = runSequence(item.seq, settings);
    const j = judge(item, r, settings, accepted);
    check(file, j.regression === null, j.regression ?? '');
    check(file, item.crash!.status !== 'open', `status "open": an open finding would keep this test red; triage it (status "expected"/"explained") or fix it and delete the file`);
    expect(j.verdict, file).toBe('XFAIL');
    // The file's own replay command (one command, as a reviewer runs it) reports XFAIL and exits 0.
    const argv = item.crash!.replay.split(' ');
    check(file, argv.slice(0, 3).join(' ') === 'npx tdpfuzz replay' && argv[3] === file, `replay: ${JSON.stringify(item.crash!.replay)} is not "npx tdpfuzz replay ${file}"`);
    let out = '';
    const code = await main(argv.slice(2), { out: t => { out += t; }, err: t => { out += t; }, cwd: ROOT, isTTY: false, env: {} });
    check(file, code === 0 && out.startsWith(`XFAIL ${file} [`), `its replay command exits ${code}: ${out.split('\n')[0]}`);
  });
});

describe('regression: corpus/ scenarios behave as recorded', () => {
  it('the corpus has the named scenario seeds', () => {
    const names = CORPUS.map(f => path.basename(f, '.json'));
    for (const n of ['fault-loses-install-race', 'split-leftover-sp', 'busy-and-retry', 'conversion-zap', 'teardown-reclaim-ok',
      'teardown-reclaim-failure', 'pt-free-hkid-assigned', 'rcu-walker-across-teardown', 'regress-split-alloc-window-race']) {
      expect(names, `corpus/${n}.json is missing`).toContain(n);
    }
  });

  it.each(CORPUS)('%s', (file) => {
    const item = loadInputFile(file, ROOT);
    check(file, item.kind === 'sequence', 'not a sequence file (crash files belong in crashes/)');
    const meta = item.seq.meta ?? {};
    check(file, typeof meta.description === 'string' && meta.description.length > 0 && !meta.description.includes('\n'), 'meta.description: expected a one-line description');
    check(file, corpusExpectation(item.seq, file) !== null, 'meta.expect: missing (e.g. {"explained": []})');
    const errs = legalityErrors(item.seq);
    check(file, errs.length === 0, `not in the legal domain: op ${errs[0]?.index}: ${errs[0]?.reason}`);
    const settings = settingsFor(item, NO_FLAGS, ROOT);
    const r = runSequence(item.seq, settings);
    const j = judge(item, r, settings);
    check(file, j.regression === null, j.regression ?? '');
    // The scenario exercises its situation: each mutant listed in meta.detects is caught.
    const detects = meta.detects ?? [];
    check(file, Array.isArray(detects) && detects.every(d => typeof d === 'string'), 'meta.detects: expected an array of mutant ids');
    for (const id of detects as string[]) {
      const m = findMutant(id);
      check(file, !!m, `meta.detects: unknown mutant "${id}"`);
      const rm = runSequence(item.seq, { designs: [m!.base === 'after' ? after : before, m!.design], equiv: 'state', domain: 'legal' });
      check(file, rm.findings.length > 0, `meta.detects: mutant:${id} is not caught by this scenario any more`);
    }
  });

  it('a campaign runs the corpus first (none skipped), as `npm start` does from the package root', async () => {
    const r = await runCampaign({ designs: [before, after], cwd: ROOT, runs: CORPUS.length, outDir: null, crashDir: null });
    expect(r.report.scope.corpus).toMatchObject({ dir: 'corpus', files: CORPUS.length, skipped: [] });
    expect(r.report.scope.generated).toBe(0);
    expect(r.report.findings).toEqual([]);
    expect(r.report.explained.map(e => e.id)).toEqual(['D4']);
  });
});
