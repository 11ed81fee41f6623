// Bug buckets (issue 12 item 3): one bug, one entry. A broken design usually shows one root cause
// as several signatures — the zap diverges in the S-EPT *and* the I-publish-after invariant breaks
// on the same two ops; the teardown leaks *and* its reclaim fails. Signatures stay the unit of
// deduplication, crash files and minimization; a bucket groups the signatures that are one bug, so
// the verdict and JUnit count bugs.
//
// Two signatures of the same blamed design (the last design of the finding: the one compared with the
// reference, or the one a violation was noticed in) are one bug when either
//   - their minimized reproducers are the same op list (the same smallest input shows both), or
//   - they first show at the same op (the op's full description, arguments and injected faults
//     included) in the same component.
// The relation is closed transitively (union-find). The teardown the runner appends is the same op in
// every sequence, so it alone never joins two findings: only the reproducer rule can. A reproducer the
// minimizer could not shrink (already 1-minimal) is stored as found, so the reproducer rule compares
// stored reproducers whatever their `minimized` flag; under --no-minimize that groups the signatures
// first seen in the same sequence (minimize to tell them apart). A bucket never hides anything: every
// member is listed with its own crash file, and its status is open while any member is.

/** What bucketing reads of a report finding (data.ts ReportFinding; structural, so data.ts can import this file). */
import { UnionFind } from './union_find';

export interface BucketedFinding {
  signature: string;
  designs: string[];
  component: string;
  status: string;
  hits: number;
  reproducer: string[];
  opIndex: number;
}

export type BucketRule = 'same minimized reproducer' | 'same first diverging op and component';

export interface ReportBucket {
  /** the bug's name: the signature of its first member in report order */
  id: string;
  /** open when any member is open (a bug is fixed or accepted only when all its signatures are) */
  status: 'open' | 'accepted';
  /** the member signatures in report order, the bucket's id first */
  signatures: string[];
  /** the rules that joined the members (empty for a bucket of one) */
  groupedBy: BucketRule[];
  /** sequences in which any member showed (the members' hits added: a sequence showing two is counted twice) */
  hits: number;
}

/** The design a finding is about: the one compared with the reference, or the one a violation is in. */
function blamed(f: BucketedFinding): string {
  return f.designs[f.designs.length - 1];
}

/** The keys under which a finding meets the others, one per rule. */
function keysOf(f: BucketedFinding): { rule: BucketRule; key: string }[] {
  const keys: { rule: BucketRule; key: string }[] = [];
  const who = blamed(f);
  keys.push({ rule: 'same minimized reproducer', key: `R\u0000${who}\u0000${f.reproducer.join('\n')}` });
  if (f.opIndex < f.reproducer.length) {
    keys.push({ rule: 'same first diverging op and component', key: `O\u0000${who}\u0000${f.reproducer[f.opIndex]}\u0000${f.component}` });
  }
  return keys;
}

/** Group findings (in report order) into buckets (in the order of their first member). */
export function bucketFindings(findings: readonly BucketedFinding[]): ReportBucket[] {
  const sets = new UnionFind(findings.length);
  const firstWithKey = new Map<string, number>();
  const joins: { a: number; b: number; rule: BucketRule }[] = [];
  findings.forEach((f, i) => {
    for (const { rule, key } of keysOf(f)) {
      const j = firstWithKey.get(key);
      if (j === undefined) { firstWithKey.set(key, i); continue; }
      joins.push({ a: j, b: i, rule });
      // the root is always the earliest member, so a bucket's id is its first signature in report order
      sets.union(j, i);
    }
  });
  const byRoot = new Map<number, { members: number[]; rules: Set<BucketRule> }>();
  findings.forEach((_, i) => {
    const r = sets.find(i);
    let b = byRoot.get(r);
    if (!b) { b = { members: [], rules: new Set() }; byRoot.set(r, b); }
    b.members.push(i);
  });
  for (const j of joins) byRoot.get(sets.find(j.a))!.rules.add(j.rule);
  const ruleOrder: BucketRule[] = ['same minimized reproducer', 'same first diverging op and component'];
  return [...byRoot.values()].map(({ members, rules }) => ({
    id: findings[members[0]].signature,
    status: members.some(i => findings[i].status === 'open') ? 'open' as const : 'accepted' as const,
    signatures: members.map(i => findings[i].signature),
    groupedBy: ruleOrder.filter(r => rules.has(r)),
    hits: members.reduce((n, i) => n + findings[i].hits, 0),
  }));
}
