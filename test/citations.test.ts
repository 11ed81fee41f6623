// No citation of a file outside the repository (issue 12 item 12): README.md, impls/README.md and
// every help text cite only files that exist here. The design and spec documents they cite are
// vendored in docs/ (docs/DESIGN.md, docs/reference/*.md, docs/seeds/); the old forms —
// `../shared/...`, a bare `DESIGN §8`, `kernel-model §2.13`, `series.md §3` — are refused.
//
// What counts as a citation: a path with a directory part (`harness/run/explained.ts`,
// `examples/series.json`, `bench/RESULTS.md`) and any `*.md` name. A path resolves against the
// repository root or the citing file's directory (impls/README.md names `machine/tdx_module.ts`);
// `dist/X.js` is built from `X.ts`; `<...>` and `*` are placeholders (their directory must exist);
// outputs the tool or jsfuzz write (out/, OUT/, crashes-jsfuzz/, ...) are not files of the repository.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../harness/cli/commands';
import { mainHelp } from '../harness/cli/main';

const ROOT = path.resolve(__dirname, '..');

/** Prefixes of paths that are outputs, not repository files. */
const OUTPUTS = /^(out|OUT|DIR|dist-|crashes-jsfuzz|corpus-bytes|node_modules|coverage|m0|m1|merged|all|res|o7)\//;
/** Bare output file names (no directory) the texts mention. */
const OUTPUT_NAMES = new Set(['report.md', 'bisect.md']);
/** The repository's top-level directories: a path starting with one is a citation. */
const TOP = ['impls', 'harness', 'test', 'bench', 'examples', 'corpus', 'crashes', 'docs', 'schemas', 'types', 'dist', '..'];
/** Files a path inside impls/README.md may be relative to. */
const IMPLS_DIRS = ['machine', 'tdp_mmu', 'tdx', 'before', 'after', 'mutants', 'series'];
/** A section of a vendored document cited by the document's bare name (`DESIGN §8`, `kernel-model §2.13`). */
const DOC_NAMES = /(?<![\w/.-])(?:DESIGN|kernel-model|tdx-module|series|anchors|tooling)(?:\.md)?\s*§\s*\d/g;

/** The citations in a text: [token, why it is one]. */
function citations(text: string, dirs: readonly string[]): string[] {
  const out = new Set<string>();
  const token = /(?<![\w.:/<>-])((?:\.\.\/)*[A-Za-z0-9_<>*.-]+(?:\/[A-Za-z0-9_<>*.{},-]*)+|[A-Za-z0-9_<>*.-]+\.md)(?![\w/-])/g;
  for (const m of text.matchAll(token)) {
    const t = m[1].replace(/[.,]+$/, '');
    const first = t.split('/')[0];
    if (t.endsWith('.md') || TOP.includes(first) || dirs.includes(first)) out.add(t);
  }
  return [...out];
}

/** Why a cited path does not resolve, or null when it does. */
function unresolved(t: string, citingDir: string): string | null {
  if (t.startsWith('../')) return 'outside the repository';
  if (OUTPUTS.test(t) || OUTPUT_NAMES.has(t)) return null;
  let p = t.replace(/^dist\/(.*)\.js$/, '$1.ts');
  // A placeholder stands for any file: its directory must exist.
  const wild = p.search(/[<*{]/);
  if (wild >= 0) p = p.slice(0, p.lastIndexOf('/', wild) + 1);
  for (const base of [ROOT, path.join(ROOT, citingDir)]) if (fs.existsSync(path.join(base, p))) return null;
  return 'no such file in the repository';
}

/** The cited files a text gets wrong, and the bare document names it uses. */
function problems(text: string, citingDir: string, dirs: readonly string[] = []): string[] {
  const bad = citations(text, dirs).map(t => [t, unresolved(t, citingDir)]).filter(([, why]) => why).map(([t, why]) => `${t}: ${why}`);
  for (const m of text.matchAll(DOC_NAMES)) {
    const line = text.slice(text.lastIndexOf('\n', m.index) + 1, text.indexOf('\n', m.index) >>> 0);
    bad.push(`"${m[0]}" (cite the file: docs/DESIGN.md or docs/reference/<name>.md): ${line.trim().slice(0, 100)}`);
  }
  return bad;
}

const HELPS: [string, string][] = [['tdpfuzz --help', mainHelp()], ...[...COMMANDS.values()].map(c => [`tdpfuzz ${c.name} --help`, c.help] as [string, string])];

describe('every cited file is in the repository', () => {
  it.each([['README.md', ''], ['impls/README.md', 'impls']])('%s', (file, dir) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    expect(problems(text, dir, dir === 'impls' ? IMPLS_DIRS : [])).toEqual([]);
    // it does cite files (the scan finds them)
    expect(citations(text, []).length).toBeGreaterThan(5);
  });

  it.each(HELPS)('%s', (_what, text) => {
    expect(problems(text, '')).toEqual([]);
  });

  it('the vendored documents are verbatim copies under one provenance line', () => {
    for (const f of ['docs/DESIGN.md', 'docs/reference/kernel-model.md', 'docs/reference/series.md', 'docs/reference/tdx-module.md']) {
      const first = fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n')[0];
      expect(first, f).toMatch(/^<!-- Copied verbatim \(everything below this line\) from .*\/work\/shared\//);
    }
  });

  it('the scan catches what it is for', () => {
    expect(problems('see `../shared/reference/kernel-model.md` §2', '')).toHaveLength(1);
    expect(problems('Oracle power (DESIGN §8)', '')).toHaveLength(1);
    expect(problems('as in series.md §3', '')).toHaveLength(2);
    expect(problems('see bench/NOPE.md and examples/missing.js', '')).toHaveLength(2);
    expect(problems('see docs/reference/kernel-model.md §2.13, examples/series.json, crashes/<file>.json, out/report.md, dist/harness/cli/main.js', '')).toEqual([]);
  });
});
