#!/usr/bin/env node
// Minimizer benchmark (DESIGN §5, §8): for every mutant of the catalogue, generate sequences of one
// seed until the mutant produces an unexplained finding against its base design, then minimize that
// sequence for the finding's signature and print signature, ops before -> after, predicate runs and
// milliseconds. Plain JavaScript over the compiled harness: run `npm run build` first (the npm script
// `bench:minimize` does).
//
//   node bench/minimize.js [--seed N] [--max-runs N] [--case ID:SEED]... [--record [FILE]]
//
// --case limits the run to the given mutants, each with its own seed (the cases of
// test/minimize.test.ts, for instance).
// --record appends the table, with the exact command and the date, to bench/RESULTS.md (or FILE).
// TDPFUZZ_DIST=<dir> loads the compiled harness from another directory than dist/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = process.env.TDPFUZZ_DIST || path.join(ROOT, 'dist');
if (!fs.existsSync(path.join(DIST, 'harness', 'minimize.js'))) {
  console.error('bench/minimize.js: dist/ is missing; run `npm run build` first (or `npm run bench:minimize`)');
  process.exit(2);
}
const { MUTANTS } = require(path.join(DIST, 'impls/mutants/catalogue'));
const { after, before } = require(path.join(DIST, 'impls/designs'));
const { generateSequence } = require(path.join(DIST, 'harness/seq/generate'));
const { runSequence } = require(path.join(DIST, 'harness/run/runner'));
const { admissibleFor, minimizeSequence, runnerOracle } = { ...require(path.join(DIST, 'harness/run/minimize')), ...require(path.join(DIST, 'harness/seq/ddmin')) };

function usage(msg) {
  console.error(`bench/minimize.js: ${msg}\nusage: node bench/minimize.js [--seed N] [--max-runs N] [--case ID:SEED]... [--record [FILE]]`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let seed = 1;
let maxRuns = 2000;
let record = null;
/** mutant id -> seed; empty: every mutant with --seed */
const cases = new Map();
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const int = (name) => {
    const v = argv[++i];
    if (v === undefined || !/^\d+$/.test(v)) usage(`${name}: expected a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  if (a === '--seed') seed = int('--seed');
  else if (a === '--max-runs') maxRuns = int('--max-runs');
  else if (a === '--case') {
    const v = argv[++i] ?? '';
    const m = /^([a-z0-9-]+):(\d+)$/.exec(v);
    if (!m) usage(`--case: expected ID:SEED, e.g. stats-before-hook:5, got ${JSON.stringify(v)}`);
    if (!MUTANTS.some(x => x.id === m[1])) usage(`--case: unknown mutant ${JSON.stringify(m[1])}`);
    cases.set(m[1], Number(m[2]));
  }
  else if (a === '--record') record = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : path.join(ROOT, 'bench', 'RESULTS.md');
  else usage(`unknown argument ${JSON.stringify(a)}`);
}

/** Sequences searched per mutant before giving up; race/fault-heavy so that rare paths are reached. */
const SEARCH = 4000;
const GEN = { faultRate: 0.3, raceRate: 0.3 };
/** A sequence shorter than this is skipped: the point is to measure real reductions. */
const MIN_ORIGINAL = 8;

const rows = [];
const t0 = Date.now();
for (const m of MUTANTS) {
  if (cases.size && !cases.has(m.id)) continue;
  const mseed = cases.get(m.id) ?? seed;
  const config = {
    geometry: 'compact', hugePages: !!(m.needs && m.needs.hugePages), vcpus: 2,
    ...(m.needs && m.needs.proveMmu ? { proveMmu: true } : {}),
  };
  const run = { designs: [m.base === 'after' ? after : before, m.design], equiv: 'state', domain: 'legal' };
  let found = null;
  const g0 = Date.now();
  for (let i = 0; i < SEARCH && !found; i++) {
    const seq = generateSequence(mseed, i, { config, domain: 'legal', ...GEN });
    if (seq.ops.length < MIN_ORIGINAL) continue;
    const r = runSequence(seq, { ...run, diffs: false });
    if (r.findings.length) found = { seq, finding: r.findings[0], index: i };
  }
  const searchMs = Date.now() - g0;
  if (!found) {
    rows.push({ mutant: m.id, seed: mseed, signature: '(not found)', index: '-', before: '-', after: '-', runs: '-', ms: '-', minimal: '-', searchMs });
    continue;
  }
  const res = minimizeSequence(found.seq, found.finding.signature, run, { maxRuns });
  // 1-minimality check (not part of the timing): removing any single op loses the signature or
  // leaves the legal domain.
  const oracle = runnerOracle(found.seq, run);
  const admissible = admissibleFor(found.seq, run);
  const oneMinimal = res.ops.every((_, k) => {
    const without = res.ops.filter((__, j) => j !== k);
    return !admissible(without) || !oracle(without).includes(found.finding.signature);
  });
  rows.push({
    mutant: m.id, seed: mseed, signature: found.finding.signature, index: found.index, before: res.stats.opsBefore, after: res.stats.opsAfter,
    runs: res.stats.runs, ms: res.stats.timeMs, minimal: res.stats.truncated ? 'no (budget)' : oneMinimal ? 'yes' : 'NO', searchMs,
  });
}
const totalMs = Date.now() - t0;

const header = '| mutant | signature | seed | seq | ops before → after | predicate runs | minimize ms | 1-minimal |';
const sep = '|---|---|---:|---:|---:|---:|---:|---|';
const lines = rows.map(r => `| ${r.mutant} | \`${r.signature.replace(/\|/g, '\\|')}\` | ${r.seed} | ${r.index} | ${r.before} → ${r.after} | ${r.runs} | ${r.ms} | ${r.minimal} |`);
const minimized = rows.filter(r => typeof r.ms === 'number');
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const summary = minimized.length
  ? `${minimized.length} of ${rows.length} mutants found and minimized: ops ${sum(minimized.map(r => r.before))} → ${sum(minimized.map(r => r.after))} in total, `
    + `largest result ${Math.max(...minimized.map(r => r.after))} ops, median ${median(minimized.map(r => r.ms))} ms and at most ${Math.max(...minimized.map(r => r.ms))} ms per minimization `
    + `(at most ${Math.max(...minimized.map(r => r.runs))} predicate runs); whole benchmark ${(totalMs / 1000).toFixed(1)} s including the search.`
  : 'no mutant found';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : Math.round((s[s.length / 2 - 1] + s[s.length / 2]) / 2);
}

const table = [header, sep, ...lines].join('\n');
console.log(table);
console.log(`\n${summary}`);

if (record) {
  const cmd = `npm run bench:minimize -- ${process.argv.slice(2).join(' ')}`.trim();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const section = [
    '', `## Minimizer: mutant reproducers (${date})`, '',
    `Command: \`${cmd}\` (node ${process.version}, ${require('node:os').cpus()[0]?.model ?? 'unknown CPU'}).`,
    '',
    `For each ${cases.size ? 'listed' : 'catalogue'} mutant, sequences (${cases.size ? 'the seed given with --case' : `seed ${seed}`}, fault rate ${GEN.faultRate}, race rate ${GEN.raceRate}, legal domain, `
      + `compact geometry; huge pages or PROVE_MMU when the mutant needs them) are generated until one of at least ${MIN_ORIGINAL} ops `
      + `makes the mutant show an unexplained finding against its base design; "seq" is that sequence's index. It is then minimized for the finding's `
      + `signature (same-signature predicate, at most ${maxRuns} predicate runs), and the result is checked for 1-minimality `
      + '(removing any one op loses the signature or leaves the legal domain).',
    '', table, '', summary, '',
  ].join('\n');
  if (!fs.existsSync(record)) {
    fs.mkdirSync(path.dirname(record), { recursive: true });
    fs.writeFileSync(record, '# Benchmark results\n\nEach section is appended by the benchmark that produced it, with its exact command and date.\n');
  }
  fs.appendFileSync(record, section);
  console.log(`\nappended to ${path.relative(process.cwd(), record) || record}`);
}
