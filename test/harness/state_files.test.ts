// Issue 11 item 9: stats.json and report.json are read back by `run --resume` and `tdpfuzz merge`
// with the strict reader. Each malformed file below is refused by both commands: exit 2, one line
// naming the file and the field, and nothing in the output directory (or --out) changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import { validateReport } from '../../harness/report/report_file';
import { validateStats } from '../../harness/report/stats_file';
import { tmpDir, captureIo as io, treeSnapshot as snapshot } from './helpers';

const DESIGNS = 'after,mutant:frees-with-hkid-assigned';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Case = [name: string, file: 'stats.json' | 'report.json', change: ((j: Json) => void) | string | 'dir', message: string];

const CASES: Case[] = [
  // stats.json: what resume takes its configuration and lanes from, and what merge adds up
  ['generated not a number', 'stats.json', j => { j.generated = 'x'; }, 'generated: expected an integer, got "x"'],
  ['designs not a list', 'stats.json', j => { j.designs = 'after,mutant'; }, 'designs: expected an array of strings, got "after,mutant"'],
  ['a count missing', 'stats.json', j => { delete j.execs; }, 'execs: missing (required)'],
  ['a negative count', 'stats.json', j => { j.ops = -3; }, 'ops: -3 is out of range (expected >= 0)'],
  ['unknown equivalence', 'stats.json', j => { j.equiv = 'loose'; }, 'equiv: unknown value "loose" (allowed: state, strict, final)'],
  ['unknown domain', 'stats.json', j => { j.domain = 'any'; }, 'domain: unknown value "any" (allowed: legal, extended)'],
  ['bad config', 'stats.json', j => { j.config.geometry = 'huge'; }, 'config.geometry: unknown geometry "huge" (allowed: x86, compact)'],
  ['bad shard', 'stats.json', j => { j.shard = { index: 2, count: 2 }; }, 'shard.index: 2 is out of range (expected < count 2)'],
  ['seed not a seed', 'stats.json', j => { j.seed = [1]; }, 'seed: expected a number or string, got [1]'],
  ['a bad lane', 'stats.json', j => { j.lanes = [{ seed: 1, shard: null, generated: -1, engine: 'random' }]; }, 'lanes[0].generated: -1 is out of range (expected >= 0)'],
  ['a bad series point', 'stats.json', j => { j.series = [{ t: 'soon', execs: 1, ops: 1, coverage: 1, findings: 0 }]; }, 'series[0].t: expected a number, got "soon"'],
  ['done not a boolean', 'stats.json', j => { j.done = 'yes'; }, 'done: expected true or false, got "yes"'],
  ['an unknown field', 'stats.json', j => { j.generatd = 3; }, 'generatd: unknown field for a stats file'],
  ['unknown format', 'stats.json', j => { j.format = 'tdpfuzz-stats/9'; }, 'format "tdpfuzz-stats/9" is not supported (expected "tdpfuzz-stats/1")'],
  ['not an object', 'stats.json', '[1, 2]\n', 'expected a JSON object at the top level, got [1,2]'],
  ['not JSON', 'stats.json', '{"format": "tdpfuzz-stats/1",', 'not valid JSON ('],
  ['a directory', 'stats.json', 'dir', 'cannot read (a directory)'],
  // report.json: what merge (and resume, for the report it continues) combines
  ['sequences not a number', 'report.json', j => { j.scope.sequences = 'x'; }, 'scope.sequences: expected an integer, got "x"'],
  ['scope designs not a list', 'report.json', j => { j.scope.designs = 'after'; }, 'scope.designs: expected an array of strings, got "after"'],
  ['zero hits', 'report.json', j => { j.findings[0].hits = 0; }, 'findings[0].hits: 0 is out of range (expected >= 1)'],
  ['unknown status', 'report.json', j => { j.findings[0].status = 'fixed'; }, 'findings[0].status: unknown value "fixed" (allowed: open, explained, expected)'],
  ['bad first source', 'report.json', j => { j.findings[0].firstSource = { seed: 1 }; }, 'findings[0].firstSource.index: missing (required)'],
  ['bad divergence trace', 'report.json', j => { j.findings.find((f: Json) => f.firstDivergence).firstDivergence.sides[1].seamcalls = 'x'; },
    'findings[0].firstDivergence.sides[1].seamcalls: expected an array of strings, got "x"'],
  ['divergence callers not one per SEAMCALL', 'report.json', j => { const s = j.findings.find((f: Json) => f.firstDivergence).firstDivergence.sides[1]; s.seamcallBy = [...s.seamcallBy, 'tdx_track']; },
    'findings[0].firstDivergence.sides[1].seamcallBy: expected one kernel function per SEAMCALL ('],
  ['verdict not a boolean', 'report.json', j => { j.verdict.clean = 1; }, 'verdict.clean: expected true or false, got 1'],
  ['coverage list not a list', 'report.json', j => { j.coverage.neverReached = 3; }, 'coverage.neverReached: expected an array of strings, got 3'],
  ['unknown stop reason', 'report.json', j => { j.timing.stoppedBy = 'cosmic'; }, 'timing.stoppedBy: unknown value "cosmic" (allowed: runs, time, signal, finding)'],
  ['timing missing', 'report.json', j => { delete j.timing; }, 'timing: missing (required)'],
  ['a family time not a time', 'report.json', j => { j.timing.lastNewByFamily.seam = -1; }, 'timing.lastNewByFamily.seam: -1 is out of range (expected >= 0)'],
  ['family times not an object', 'report.json', j => { j.timing.lastNewByFamily = [3]; }, 'timing.lastNewByFamily: expected an object'],
  ['bad scope config', 'report.json', j => { j.scope.config.vcpus = 99; }, 'scope.config.vcpus: 99 is out of range (expected 1..8)'],
  ['unknown report format', 'report.json', j => { j.format = 'tdpfuzz-report/0'; }, 'format "tdpfuzz-report/0" is not supported (expected "tdpfuzz-report/1")'],
  ['report not JSON', 'report.json', 'nope', 'not valid JSON ('],
  ['report a directory', 'report.json', 'dir', 'cannot read (a directory)'],
];

describe('malformed stats.json / report.json: run --resume and merge refuse them in one line', () => {
  let work = '';
  beforeAll(async () => {
    work = tmpDir('state-files');
    for (const d of ['good', 'other']) {
      const o = io(work);
      expect(await main(['run', '--designs', DESIGNS, '--runs', '20', '--seed', d === 'good' ? '1' : '2', '--no-corpus', '--no-minimize',
        '--out', d, '--crashes', `${d}/crashes`], o), o.stderr).toBe(1);
    }
  });

  it('the files campaigns write pass the validators', () => {
    for (const d of ['good', 'other']) {
      for (const f of ['stats.json', 'report.json'] as const) {
        const j = JSON.parse(fs.readFileSync(path.join(work, d, f), 'utf8'));
        expect(() => (f === 'stats.json' ? validateStats : validateReport)(j, f)).not.toThrow();
      }
    }
  });

  it.each(CASES.map((c, i) => [i, ...c] as const))('%i: %s (%s)', async (i, _name, file, change, message) => {
    const dir = `case${i}`;
    fs.cpSync(path.join(work, 'good'), path.join(work, dir), { recursive: true });
    // Without its checkpoint (a run of a version before checkpoints), resume reads stats.json and report.json.
    fs.rmSync(path.join(work, dir, 'checkpoint.json'));
    const target = path.join(work, dir, file);
    if (change === 'dir') { fs.rmSync(target); fs.mkdirSync(target); } else if (typeof change === 'string') fs.writeFileSync(target, change);
    else { const j = JSON.parse(fs.readFileSync(target, 'utf8')) as Json; change(j); fs.writeFileSync(target, JSON.stringify(j)); }
    const before = snapshot(path.join(work, dir));
    const quoted = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

    const resume = io(work);
    expect(await main(['run', '--resume', dir, '--runs', '5', '--crashes', `${dir}/crashes`], resume)).toBe(2);
    expect(resume.stderr).toMatch(new RegExp(`^tdpfuzz: --resume: ${dir}/${file}: ${quoted}[^\\n]*\\n$`));

    const merge = io(work);
    expect(await main(['merge', 'other', dir, '--out', `${dir}-merged`, '--crashes', `${dir}-crashes`], merge)).toBe(2);
    expect(merge.stderr).toMatch(new RegExp(`^tdpfuzz: ${dir}/${file}: ${quoted}[^\\n]*\\n$`));

    expect(snapshot(path.join(work, dir))).toEqual(before);
    expect(fs.existsSync(path.join(work, `${dir}-merged`))).toBe(false);
    expect(fs.existsSync(path.join(work, `${dir}-crashes`))).toBe(false);
  });
});

// checkpoint.json: what `run --resume` continues a stopped or killed run from (report/checkpoint.ts).
const CHECKPOINT_CASES: [name: string, change: (j: Json) => void, message: string][] = [
  ['its stats malformed', j => { j.stats.generated = 'x'; }, 'stats: generated: expected an integer, got "x"'],
  ['its stats without lanes', j => { delete j.stats.lanes; }, 'stats.lanes: missing (required)'],
  ['its report malformed', j => { j.report.findings[0].hits = 0; }, 'report: findings[0].hits: 0 is out of range (expected >= 1)'],
  ['a corpus name with a slash', j => { j.corpus[0].files = ['../x.json']; }, 'corpus[0].files[0]: expected a file name, got "../x.json"'],
  ['a corpus position past the end', j => { j.corpus[0].done = 1; }, 'corpus[0].done: 1 is out of range (the lane has 0 corpus files)'],
  ['one corpus entry too many', j => { j.corpus.push({ files: [], done: 0 }); }, 'corpus: 2 entries for 1 lanes'],
  ['an unknown field', j => { j.lanes = []; }, 'lanes: unknown field for a checkpoint (fields: format, corpusDir, corpus, stats, report)'],
  ['unknown format', j => { j.format = 'tdpfuzz-checkpoint/0'; }, 'format "tdpfuzz-checkpoint/0" is not supported (expected "tdpfuzz-checkpoint/1")'],
];

describe('malformed checkpoint.json: run --resume refuses it in one line', () => {
  let work = '';
  beforeAll(async () => {
    work = tmpDir('checkpoint-files');
    const o = io(work);
    expect(await main(['run', '--designs', DESIGNS, '--runs', '20', '--no-corpus', '--no-minimize', '--out', 'good', '--crashes', 'good/crashes'], o), o.stderr).toBe(1);
  });

  it.each(CHECKPOINT_CASES.map((c, i) => [i, ...c] as const))('%i: %s', async (i, _name, change, message) => {
    const dir = `cp${i}`;
    fs.cpSync(path.join(work, 'good'), path.join(work, dir), { recursive: true });
    const target = path.join(work, dir, 'checkpoint.json');
    const j = JSON.parse(fs.readFileSync(target, 'utf8')) as Json;
    change(j);
    fs.writeFileSync(target, JSON.stringify(j));
    const before = snapshot(path.join(work, dir));
    const resume = io(work);
    expect(await main(['run', '--resume', dir, '--runs', '5', '--crashes', `${dir}/crashes`], resume)).toBe(2);
    const quoted = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(resume.stderr).toMatch(new RegExp(`^tdpfuzz: --resume: ${dir}/checkpoint.json: ${quoted}\\n$`));
    expect(snapshot(path.join(work, dir))).toEqual(before);
  });
});
