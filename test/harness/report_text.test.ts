// Issue 12 item 2: report.txt and `explain --format mail` are mail-ready: at most 80 columns, no
// Markdown, relative paths, the reproducer as a numbered op list with >>> at the finding's op, each
// design's side stacked with SEAMCALLs under their TDX module names and the kernel function that
// issued them (`tdx_sept_remove_leaf_spte():`), and the replay command.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import { seamcallBlock, tdhName, wrap, TEXT_WIDTH } from '../../harness/report/text';
import { captureIo as io, tmpDir } from './helpers';

function expectMailReady(text: string, work: string): void {
  for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(TEXT_WIDTH);
  expect(text).not.toMatch(/```|\*\*/);
  expect(text).not.toContain(work); // relative paths only
}

describe('mail-ready text', () => {
  it('TDX module names and wrapping', () => {
    expect(tdhName('PAGE.REMOVE(gfn=0x0 level=1) = SUCCESS')).toBe('TDH.MEM.PAGE.REMOVE(gfn=0x0 level=1) = SUCCESS');
    expect(tdhName('PHYMEM.PAGE.RECLAIM(control=TDR) = SUCCESS')).toBe('TDH.PHYMEM.PAGE.RECLAIM(control=TDR) = SUCCESS');
    expect(tdhName('MNG.KEY.FREEID() = SUCCESS')).toBe('TDH.MNG.KEY.FREEID() = SUCCESS');
    const long = `word ${'x'.repeat(30)}/${'y'.repeat(70)}.json tail`;
    for (const l of wrap(long, '    ', '  ')) expect(l.length).toBeLessThanOrEqual(TEXT_WIDTH);
    expect(wrap(long, '    ', '  ').join('').replace(/\s+/g, '')).toBe(long.replace(/\s+/g, ''));
  });

  it('SEAMCALLs under the kernel function that issued them, one heading per run of calls', () => {
    const calls = ['RANGE.BLOCK(gfn=0x0 level=1) = SUCCESS', 'TRACK() = SUCCESS', 'PAGE.REMOVE(gfn=0x0 level=1) = SUCCESS',
      'PHYMEM.PAGE.WBINVD(pfn=0x12) = SUCCESS'];
    const by = ['tdx_sept_remove_private_spte', 'tdx_track', 'tdx_sept_remove_private_spte', 'tdx_sept_remove_private_spte'];
    expect(seamcallBlock(calls, by, '     ')).toEqual([
      '       tdx_sept_remove_private_spte():',
      '         TDH.MEM.RANGE.BLOCK(gfn=0x0 level=1) = SUCCESS',
      '       tdx_track():',
      '         TDH.MEM.TRACK() = SUCCESS',
      '       tdx_sept_remove_private_spte():',
      '         TDH.MEM.PAGE.REMOVE(gfn=0x0 level=1) = SUCCESS',
      '         TDH.PHYMEM.PAGE.WBINVD(pfn=0x12) = SUCCESS',
    ]);
    // a crash file written before seamcallBy existed: the calls alone
    expect(seamcallBlock(calls.slice(1, 2), undefined, '     ')).toEqual(['       TDH.MEM.TRACK() = SUCCESS']);
  });

  it('report.txt of a campaign and explain --format mail of its crash file', async () => {
    const work = tmpDir('report-text');
    expect(await main(['run', '--designs', 'after,mutant:keeps-external-pointer', '--runs', '100', '--no-corpus', '--equiv', 'strict'], io(work))).toBe(1);
    const text = fs.readFileSync(path.join(work, 'out', 'report.txt'), 'utf8');
    expectMailReady(text, work);
    expect(text).toMatch(/^VERDICT: \d+ unexplained bugs? \(\d+ signatures?\) in 100 sequences/m);
    expect(text).toMatch(/^ {3}reproducer \(\d+ ops?, minimized from \d+; the teardown follows\):\n(>>>| {3}) {4}1\. /m);
    expect(text).toContain('TDH.MEM.PAGE.REMOVE(');
    // each SEAMCALL names the tdx.c function that issued it (both sides are "after"s)
    // (the TD was never finalized: tdx_track is a no-op, the removal's calls form one run)
    expect(text).toMatch(/^ {7}tdx_sept_remove_leaf_spte\(\):\n {9}TDH\.MEM\.RANGE\.BLOCK\(gfn=\S+ level=1\) = SUCCESS\n {9}TDH\.MEM\.PAGE\.REMOVE\(gfn=\S+ level=1\) = SUCCESS$/m);
    expect(text).toMatch(/^ {7}tdx_mmu_release_hkid\(\):\n {9}TDH\.MNG\.VPFLUSHDONE\(\) = SUCCESS\n {7}smp_func_do_phymem_cache_wb\(\):\n/m);
    expect(text).toMatch(/^ {7}__tdx_reclaim_page\(\):\n {9}TDH\.PHYMEM\.PAGE\.RECLAIM\(/m);
    // the replay command (a long path goes on its own line, broken after '/' or '-' only beyond 80 columns)
    expect(text.replace(/\n {5}/g, ' ').replace(/([/-]) (?=\S)/g, '$1')).toMatch(/^ {3}replay: npx tdpfuzz replay out\/crashes\/\S+\.json$/m);
    // stacked: each design's heading on its own line, then its calls
    expect(text).toMatch(/^ {5}after:\n {7}result: /m);
    const crash = fs.readdirSync(path.join(work, 'out', 'crashes')).find(f => f.endsWith('.json'))!;
    const o = io(work);
    expect(await main(['explain', '--format', 'mail', `out/crashes/${crash}`], o)).toBe(1);
    expectMailReady(o.stdout, work);
    expect(o.stdout).toContain(`crash file: out/crashes/${crash}`);
    expect(o.stdout).toMatch(/^ {7}tdx_sept_remove_leaf_spte\(\):\n {9}TDH\.MEM\.RANGE\.BLOCK\(/m);
    expect(o.stdout.replace(/\n */g, ' ')).toMatch(/FAIL out\/crashes\/\S+: recorded signature reproduced/);
  });
});
