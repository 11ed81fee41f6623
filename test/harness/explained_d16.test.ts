// D16 (diagnostic sites moved from the MMU to TDX) excuses a site difference only between before and
// after: the same site difference between two variants of one design is a finding.
import { describe, expect, it } from 'vitest';
import { EXPLAINED, type DivergenceContext } from '../../harness/run/explained';

const D16 = EXPLAINED.find(e => e.id === 'D16')!;
const ctx = (bases: DivergenceContext['bases'], component = 'diagnostic-sites'): DivergenceContext => ({
  op: { kind: 'destroy' }, component, equiv: 'strict', domain: 'legal',
  sides: [{} as DivergenceContext['sides'][0], {} as DivergenceContext['sides'][1]],
  bases, stats: () => [[], []], statsOffset: [],
});

describe('D16 matches only the before-vs-after pair', () => {
  it('before vs after, either order', () => {
    expect(D16.match(ctx(['before', 'after']))).toBe(true);
    expect(D16.match(ctx(['after', 'before']))).toBe(true);
  });
  it('not two afters (a variant of after), two befores, or an unknown design', () => {
    expect(D16.match(ctx(['after', 'after']))).toBe(false);
    expect(D16.match(ctx(['before', 'before']))).toBe(false);
    expect(D16.match(ctx(['before', null]))).toBe(false);
  });
  it('not another component', () => {
    expect(D16.match(ctx(['before', 'after'], 'diagnostics'))).toBe(false);
  });
});
