// Issue 12 item 7: `tdpfuzz cmin` keeps the smallest inputs that together reach every coverage class
// the whole set reaches, copies them unchanged, and refuses to write into a non-empty --out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import { after, before } from '../../impls/designs';
import { runSequence } from '../../harness/run/runner';
import { generateSequence } from '../../harness/seq/generate';
import { parseSequence, serializeSequence } from '../../harness/seq/sequence';
import { COMPACT, captureIo as io, tmpDir } from './helpers';

const coverage = (text: string): string[] =>
  [...runSequence(parseSequence(text, 'x'), { designs: [before, after], equiv: 'state', domain: 'legal' }).coverage];

describe('tdpfuzz cmin', () => {
  it('keeps a subset that reaches the union of all classes, smallest first, files unchanged', async () => {
    const work = tmpDir('cmin');
    fs.mkdirSync(path.join(work, 'in'));
    for (let i = 0; i < 40; i++) {
      fs.writeFileSync(path.join(work, 'in', `g${String(i).padStart(2, '0')}.json`), serializeSequence(generateSequence(5, i, { config: COMPACT, domain: 'legal' })));
    }
    // the same sequence twice: only the first name survives (same size, name order)
    fs.copyFileSync(path.join(work, 'in', 'g07.json'), path.join(work, 'in', 'a-copy-of-g07.json'));
    const o = io(work);
    expect(await main(['cmin', 'in', '--out', 'min'], o)).toBe(0);
    const inputs = fs.readdirSync(path.join(work, 'in'));
    const kept = fs.readdirSync(path.join(work, 'min')).sort();
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(inputs.length);
    const text = (d: string, f: string): string => fs.readFileSync(path.join(work, d, f), 'utf8');
    for (const f of kept) expect(text('min', f)).toBe(text('in', f));
    const all = new Set(inputs.flatMap(f => coverage(text('in', f))));
    const reached = new Set(kept.flatMap(f => coverage(text('min', f))));
    expect([...reached].sort()).toEqual([...all].sort());
    expect(kept.includes('g07.json') && kept.includes('a-copy-of-g07.json')).toBe(false);
    expect(o.stdout).toBe(`cmin: kept ${kept.length} of ${inputs.length} inputs in min; they reach all ${all.size} coverage classes the ${inputs.length} reach\n`);
    // a non-empty --out, or none, is refused in one line
    const again = io(work);
    expect(await main(['cmin', 'in', '--out', 'min'], again)).toBe(2);
    expect(again.stderr).toBe('tdpfuzz: --out: min is not empty (cmin writes into a new or empty directory)\n');
    const none = io(work);
    expect(await main(['cmin', 'in'], none)).toBe(2);
    expect(none.stderr).toBe('tdpfuzz: --out: missing (the directory the kept inputs go to)\n');
  });
});
