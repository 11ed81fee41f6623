// Issue 12 item 3: one bug, one entry. Signatures of one root cause are grouped into a bucket (same
// minimized reproducer, or same first diverging op and component, of the same blamed design); the
// verdict, the reports and JUnit count bugs, and nothing is hidden: every member stays listed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main';
import { bucketFindings } from '../../harness/report/buckets';
import type { ReportData, ReportFinding } from '../../harness/report/data';
import { validateReport } from '../../harness/report/report_file';
import { captureIo as io, ROOT, tmpDir } from './helpers';

function rf(signature: string, reproducer: string[], opIndex: number, extra: Partial<ReportFinding> = {}): ReportFinding {
  const [kind, designs, opKind, component] = signature.split('|');
  return {
    signature, kind, designs: designs.split('+'), opKind, component, message: `m ${signature}`, hits: 1,
    firstSource: { seed: 1, index: 0, engine: 'random' }, status: 'open', crashFile: null, reproducer,
    originalOpCount: reproducer.length + 3, minimized: true, opIndex, firstDivergence: null, replay: 'r', ...extra,
  };
}

describe('bucketFindings', () => {
  const A = ['fault gfn=0x9', 'zap [0x9, 0xa)'];
  const B = ['fault gfn=0x0'];
  it('joins the same minimized reproducer and the same op + component, transitively; the first member names the bucket', () => {
    const fs = [
      rf('divergence|before+x|zap|sept', A, 1, { hits: 5 }),
      rf('leak|x|teardown|gmem', B, 1),
      rf('mirror-sept-mismatch|x|zap|I-publish-after', A, 1, { hits: 7 }),
      // a different sequence, same op and component as the first: joins bucket 1
      rf('divergence|before+x|split|sept', ['finalize', 'zap [0x9, 0xa)'], 1, { component: 'sept' }),
      rf('divergence|before+x|destroy|vm', B, 1),
    ];
    // the 4th differs from the 1st in opKind but first shows at the same op in the same component
    fs[3] = { ...fs[3], reproducer: ['finalize', 'zap [0x9, 0xa)'], opIndex: 1 };
    const b = bucketFindings(fs);
    expect(b.map(x => x.signatures)).toEqual([
      ['divergence|before+x|zap|sept', 'mirror-sept-mismatch|x|zap|I-publish-after', 'divergence|before+x|split|sept'],
      ['leak|x|teardown|gmem', 'divergence|before+x|destroy|vm'],
    ]);
    expect(b[0]).toMatchObject({ id: 'divergence|before+x|zap|sept', status: 'open', hits: 13,
      groupedBy: ['same minimized reproducer', 'same first diverging op and component'] });
    expect(b[1].groupedBy).toEqual(['same minimized reproducer']);
  });

  it('never joins across blamed designs, on the appended teardown alone, or different ops', () => {
    const b = bucketFindings([
      rf('divergence|before+x|zap|sept', A, 1),
      rf('divergence|before+y|zap|sept', A, 1), // same input, other design: another bug
      rf('leak|x|teardown|gmem', ['fault gfn=0x1'], 1), // teardown (index past the reproducer)
      rf('leak|x|teardown|gmem2', ['fault gfn=0x2'], 1, { component: 'gmem' }),
      rf('divergence|before+x|zap|vm', ['fault gfn=0x9', 'zap [0x9, 0xa) fail[TRACK=ERROR#1]'], 1, { component: 'sept' }),
    ]);
    expect(b.map(x => x.signatures.length)).toEqual([1, 1, 1, 1, 1]);
    expect(b.every(x => x.groupedBy.length === 0)).toBe(true);
  });

  it('a bucket is open while any member is; accepted only when all are', () => {
    const b = bucketFindings([rf('a|before+x|zap|sept', A, 1, { status: 'expected' }), rf('b|x|zap|inv', A, 1)]);
    expect(b).toHaveLength(1);
    expect(b[0].status).toBe('open');
    expect(bucketFindings([rf('a|before+x|zap|sept', A, 1, { status: 'expected' })])[0].status).toBe('accepted');
  });
});

describe('bugs in the verdict and the reports', () => {
  it('a broken variant: the verdict counts bugs, every signature is listed under its bug', async () => {
    const work = tmpDir('buckets');
    expect(await main(['run', '--designs', 'before,mutant:misses-leaf-zap-propagation', '--runs', '600', '--seed', '1', '--no-corpus'], io(work))).toBe(1);
    const r = JSON.parse(fs.readFileSync(path.join(work, 'out', 'report.json'), 'utf8')) as ReportData;
    expect(r.findings.length).toBeGreaterThan(r.buckets.length);
    expect(r.buckets.some(b => b.signatures.length > 1)).toBe(true);
    // every signature in exactly one bucket
    expect(r.buckets.flatMap(b => b.signatures).sort()).toEqual(r.findings.map(f => f.signature).sort());
    expect(r.verdict).toMatchObject({ unexplained: r.buckets.length, unexplainedSignatures: r.findings.length, accepted: 0, clean: false });
    expect(r.verdict.line).toMatch(new RegExp(`^VERDICT: ${r.buckets.length} unexplained bugs \\(${r.findings.length} signatures\\) in 600 sequences`));
    const md = fs.readFileSync(path.join(work, 'out', 'report.md'), 'utf8');
    expect(md).toContain(`## Findings (${r.buckets.length} bugs, ${r.findings.length} signatures)`);
    const multi = r.buckets.findIndex(b => b.signatures.length > 1);
    expect(md).toContain(`### Bug ${multi + 1}: \`${r.buckets[multi].id}\` and ${r.buckets[multi].signatures.length - 1} related signature`);
    for (const [k, sig] of r.buckets[multi].signatures.entries()) expect(md).toContain(`#### ${multi + 1}.${k + 1} \`${sig}\``);
    const txt = fs.readFileSync(path.join(work, 'out', 'report.txt'), 'utf8');
    expect(txt).toContain(`Findings (${r.buckets.length} bugs, ${r.findings.length} signatures)`);
    expect(txt).toMatch(new RegExp(`^Bug ${multi + 1}: ${r.buckets[multi].signatures.length} signatures, one root cause \\(`, 'm'));
    // the stored buckets are what the strict reader recomputes for an older report (no buckets field)
    const { buckets: _b, ...older } = r;
    const again = validateReport({ ...older, verdict: { clean: false, unexplained: r.findings.length, accepted: 0, line: r.verdict.line } }, 'old.json');
    expect(again.buckets).toEqual(r.buckets);
    expect(again.verdict.unexplained).toBe(r.buckets.length);
  });

  it('merge regroups the merged findings: two shards, one set of bugs', async () => {
    const work = tmpDir('buckets-merge');
    const common = ['run', '--designs', 'before,mutant:misses-leaf-zap-propagation', '--runs', '300', '--seed', '2', '--no-corpus', '--no-minimize'];
    await main([...common, '--shard', '0/2', '--out', 's1'], io(work));
    await main([...common, '--shard', '1/2', '--out', 's2'], io(work));
    expect(await main(['merge', 's1', 's2', '--out', 'm'], io(work))).toBe(1);
    const m = JSON.parse(fs.readFileSync(path.join(work, 'm', 'report.json'), 'utf8')) as ReportData;
    expect(m.buckets).toEqual(bucketFindings(m.findings));
    expect(m.verdict.unexplained).toBe(m.buckets.filter(b => b.status === 'open').length);
    expect(m.verdict.unexplainedSignatures).toBe(m.findings.length);
  });
});
