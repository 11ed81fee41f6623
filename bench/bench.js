#!/usr/bin/env node
// Throughput benchmarks (DESIGN §8), side by side in one run. Plain JavaScript over the compiled
// harness: `npm run bench` builds first. These print numbers; they never fail on a timing (exit 0
// unless the arguments are bad or dist/ is missing).
//
//   node bench/bench.js [--sequences N] [--rounds R] [--time S] [--only LIST] [--mutants ARGS] [--record [FILE]]
//
// Sections (--only throughput,engines,workers,mutants; default throughput,engines,workers):
//  throughput  the same pre-generated random sequences (seed 1, legal domain, default rates), per
//              geometry (compact, x86): each design bare (create, apply every op and the appended
//              teardown, leak report: the limit), both designs bare one after the other, and the
//              differential harness (runSequence: lockstep digests and comparison, invariants,
//              oracles, coverage); ops/s, sequences/s, and the harness/bare-both ratio. Each mode
//              runs R rounds interleaved with the others; the median round is reported.
//  engines     random vs guided (and jsfuzz, when registered: in this thread it uses the models'
//              coverage classes, not istanbul) for S seconds each: engine.next → runSequence →
//              engine.feedback, compact geometry, before vs after; execs/s, ops/s, kept corpus.
//  workers     the CLI `run` for S seconds in-process, with --workers 1 and with --workers 2
//              (--no-corpus, --no-minimize when the CLI has them); execs/s from OUT/stats.json.
//  mutants     `tdpfuzz mutants ARGS` (default --engines random,guided --seeds 5 --time 20): the table.
//
// --record appends the results, with the exact command, the date and the load average, to
// bench/RESULTS.md (or FILE). TDPFUZZ_DIST=<dir> loads the compiled harness from another directory.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');

const ROOT = path.resolve(__dirname, '..');
const DIST = process.env.TDPFUZZ_DIST || path.join(ROOT, 'dist');
const CLI = path.join(DIST, 'harness', 'cli', 'main.js');
if (!fs.existsSync(CLI)) {
  console.error('bench/bench.js: dist/ is missing; run `npm run build` first (or `npm run bench`)');
  process.exit(2);
}
const { after, before } = require(path.join(DIST, 'impls/designs'));
const { generateSequence } = require(path.join(DIST, 'harness/seq/generate'));
const { runSequence, opsWithTeardown } = require(path.join(DIST, 'harness/run/runner'));
const { ENGINES } = require(path.join(DIST, 'harness/fuzz/engines/index'));

const USAGE = 'usage: node bench/bench.js [--sequences N] [--rounds R] [--time S] [--only throughput,engines,workers,mutants] [--mutants ARGS] [--record [FILE]]';
function usage(msg) {
  console.error(`bench/bench.js: ${msg}\n${USAGE}`);
  process.exit(2);
}

const SECTIONS = ['throughput', 'engines', 'workers', 'mutants'];
const argv = process.argv.slice(2);
let nSeq = 400;
let rounds = 3;
let timeSec = 10;
let only = ['throughput', 'engines', 'workers'];
let mutantsArgs = '--engines random,guided --seeds 5 --time 20';
let record = null;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const num = (name, int) => {
    const v = argv[++i];
    const ok = v !== undefined && (int ? /^\d+$/.test(v) : /^\d+(\.\d+)?$/.test(v)) && Number(v) > 0;
    if (!ok) usage(`${name}: expected a positive ${int ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  if (a === '--sequences') nSeq = num(a, true);
  else if (a === '--rounds') rounds = num(a, true);
  else if (a === '--time') timeSec = num(a, false);
  else if (a === '--only') {
    const v = argv[++i] ?? '';
    only = v.split(',');
    const bad = only.find(s => !SECTIONS.includes(s));
    if (bad !== undefined) usage(`--only: unknown section ${JSON.stringify(bad)} (known: ${SECTIONS.join(', ')})`);
  } else if (a === '--mutants') {
    const v = argv[++i];
    if (v === undefined) usage('--mutants: missing ARGS (e.g. "--engines random,guided --seeds 5 --time 20")');
    mutantsArgs = v;
    if (!only.includes('mutants')) only.push('mutants');
  } else if (a === '--record') record = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : path.join(ROOT, 'bench', 'RESULTS.md');
  else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
  else usage(`unknown argument ${JSON.stringify(a)}`);
}

const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const median = (xs) => { const v = [...xs].sort((p, q) => p - q); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
const load = () => os.loadavg().map(x => x.toFixed(2)).join(' ');
const out = [];
const say = (line = '') => { console.log(line); out.push(line); };
const loadBefore = load();

// ------------------------------------------------------------------------------------------------
// throughput

const results = {};

function throughput() {
  say('### Throughput: bare designs vs the differential harness (same sequences)');
  say('');
  say(`${nSeq} random sequences per geometry (seed 1, legal domain, fault rate 0.15, race rate 0.1, up to 24 ops, the teardown appended), `
    + `${rounds} rounds per mode interleaved, median round. "both bare" runs before then after on each sequence; "harness" is runSequence `
    + '(before vs after, state equivalence). ops/s counts each sequence op once, whatever the number of designs. '
    + '"CPU" columns divide by the process\'s CPU time instead of wall time: on a shared machine they show what one idle core would do.');
  say('');
  say('| geometry | mode | sequences/s | ops/s | vs both bare | CPU sequences/s | CPU ops/s | CPU vs both bare |');
  say('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const geometry of ['compact', 'x86']) {
    const config = { geometry, hugePages: false, vcpus: 2 };
    const seqs = [];
    for (let i = 0; i < nSeq; i++) seqs.push(generateSequence(1, i, { config, domain: 'legal' }));
    const opLists = seqs.map(s => opsWithTeardown(s).ops);
    const totalOps = opLists.reduce((n, o) => n + o.length, 0);
    const bare = (designs) => {
      for (const ops of opLists) {
        for (const d of designs) {
          const vm = d.create(config);
          for (const op of ops) vm.apply(op);
          vm.leakReport();
        }
      }
    };
    const modes = {
      'before bare': () => bare([before]),
      'after bare': () => bare([after]),
      'both bare': () => bare([before, after]),
      harness: () => { for (const s of seqs) runSequence(s, { designs: [before, after], equiv: 'state', domain: 'legal' }); },
    };
    // warm-up: one pass of each mode
    for (const f of Object.values(modes)) f();
    const times = Object.fromEntries(Object.keys(modes).map(k => [k, []]));
    const cpu = Object.fromEntries(Object.keys(modes).map(k => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [k, f] of Object.entries(modes)) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        f();
        times[k].push((performance.now() - t0) / 1000);
        const c = process.cpuUsage(c0);
        cpu[k].push((c.user + c.system) / 1e6);
      }
    }
    const row = {};
    for (const k of Object.keys(modes)) {
      const t = median(times[k]), c = median(cpu[k]);
      row[k] = { seqPerSec: seqs.length / t, opsPerSec: totalOps / t, cpuSeqPerSec: seqs.length / c, cpuOpsPerSec: totalOps / c };
    }
    for (const k of Object.keys(modes)) {
      const ratio = row[k].opsPerSec / row['both bare'].opsPerSec;
      const cpuRatio = row[k].cpuOpsPerSec / row['both bare'].cpuOpsPerSec;
      say(`| ${geometry} | ${k} | ${fmt(row[k].seqPerSec)} | ${fmt(row[k].opsPerSec)} | ${ratio.toFixed(2)} | ${fmt(row[k].cpuSeqPerSec)} | ${fmt(row[k].cpuOpsPerSec)} | ${cpuRatio.toFixed(2)} |`);
    }
    results[geometry] = row;
  }
  say('');
}

// ------------------------------------------------------------------------------------------------
// engines

function engines() {
  const names = ['random', 'guided', 'jsfuzz'].filter(n => ENGINES.has(n));
  say('### Engines: execs/s of the campaign loop');
  say('');
  say(`${timeSec} s per engine, seed 1, compact geometry, legal domain, before vs after; the loop engine.next → runSequence → engine.feedback `
    + '(no crash store, no reports). "corpus" is what the engine keeps; "classes" the coverage classes its runs reached.'
    + (ENGINES.has('jsfuzz') ? ' jsfuzz runs here without istanbul (this thread does not instrument impls/), so it is guided by the models\' coverage classes.' : ''));
  say('');
  say('| engine | execs | execs/s | ops/s | CPU execs/s | avg ops/sequence | corpus | classes |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|');
  const config = { geometry: 'compact', hugePages: false, vcpus: 2 };
  results.engines = {};
  for (const name of names) {
    const ctx = { seed: 1, shard: null, designs: [before, after], equiv: 'state', domain: 'legal', corpusOut: null, gen: { config, domain: 'legal' } };
    const e = ENGINES.get(name)(ctx);
    const classes = new Set();
    let execs = 0, ops = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let k = 0; performance.now() - t0 < timeSec * 1000; k++) {
      const item = e.next(k);
      const r = runSequence(item.seq, { designs: ctx.designs, equiv: 'state', domain: 'legal' });
      execs++;
      ops += r.ops.length;
      for (const c of r.coverage) classes.add(c);
      e.feedback(item, r);
    }
    const el = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    const cpuSec = (cu.user + cu.system) / 1e6;
    results.engines[name] = { execsPerSec: execs / el, opsPerSec: ops / el };
    say(`| ${name} | ${execs.toLocaleString('en-US')} | ${fmt(execs / el)} | ${fmt(ops / el)} | ${fmt(execs / cpuSec)} | ${(ops / execs).toFixed(1)} | ${e.corpusSize()} | ${classes.size} |`);
  }
  say('');
}

// ------------------------------------------------------------------------------------------------
// workers

function cliRun(extra, tmp) {
  const outDir = path.join(tmp, 'out');
  const args = [CLI, 'run', '--time', String(timeSec), '--out', outDir, '--crashes', path.join(tmp, 'crashes'), ...extra];
  const t0 = performance.now();
  try {
    execFileSync(process.execPath, args, { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    // exit 1 = a finding; anything else is a failure of the run
    if (e.status !== 1) throw new Error(`run ${extra.join(' ')} failed (exit ${e.status}): ${String(e.stderr).split('\n')[0]}`);
  }
  const wall = (performance.now() - t0) / 1000;
  const s = JSON.parse(fs.readFileSync(path.join(outDir, 'stats.json'), 'utf8'));
  return { execs: s.execs, execsPerSec: s.execsPerSec, opsPerSec: s.opsPerSec, elapsedSec: s.elapsedSec, wall };
}

function workers() {
  const help = execFileSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' });
  say('### Workers: `tdpfuzz run` in-process, --workers 1, --workers 2');
  say('');
  if (!help.includes('--workers')) {
    say('`--workers` is not available in this build; skipped.');
    say('');
    return;
  }
  const common = ['--no-corpus', ...(help.includes('--no-minimize') ? ['--no-minimize'] : [])];
  say(`\`node dist/harness/cli/main.js run --time ${timeSec} ${common.join(' ')} [--workers N]\` (random engine, seed 1, compact, before vs after); `
    + `execs/s and ops/s from OUT/stats.json; "wall" includes start-up. ${os.cpus().length} CPUs.`);
  say('');
  say('| mode | execs | execs/s | ops/s | wall s | vs --workers 1 |');
  say('|---|---:|---:|---:|---:|---:|');
  const rows = [];
  for (const [label, extra] of [['in-process', []], ['--workers 1', ['--workers', '1']], ['--workers 2', ['--workers', '2']]]) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tdpfuzz-bench-'));
    try {
      rows.push([label, cliRun([...common, ...extra], tmp)]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const w1 = rows.find(r => r[0] === '--workers 1')[1].execsPerSec;
  for (const [label, r] of rows) {
    say(`| ${label} | ${r.execs.toLocaleString('en-US')} | ${fmt(r.execsPerSec)} | ${fmt(r.opsPerSec)} | ${r.wall.toFixed(1)} | ${(r.execsPerSec / w1).toFixed(2)} |`);
  }
  results.workers = Object.fromEntries(rows.map(([l, r]) => [l, r]));
  say('');
}

// ------------------------------------------------------------------------------------------------
// mutants

function mutants() {
  const args = mutantsArgs.split(/\s+/).filter(Boolean);
  say(`### Mutants: \`tdpfuzz mutants ${args.join(' ')}\``);
  say('');
  const t0 = performance.now();
  const text = execFileSync(process.execPath, [CLI, 'mutants', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  say(`Wall time ${((performance.now() - t0) / 1000).toFixed(0)} s. Times are from the start of each hunt (engine creation included); medians over all seeds, "not found" counting as infinitely late.`);
  say('');
  say('```');
  for (const l of text.trimEnd().split('\n')) say(l);
  say('```');
  say('');
}

// ------------------------------------------------------------------------------------------------

const started = new Date();
say(`Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, load average at start ${loadBefore}.`);
say('');
if (only.includes('throughput')) throughput();
if (only.includes('engines')) engines();
if (only.includes('workers')) workers();
if (only.includes('mutants')) mutants();

// Targets (issue: differential ≥ 100k ops/s on compact; harness ≥ 60% of both bare; --workers 2 ≥ 1.8× --workers 1).
const checks = [];
if (results.compact) {
  const h = results.compact.harness.opsPerSec, hc = results.compact.harness.cpuOpsPerSec;
  checks.push(`differential throughput on compact ${fmt(h)} ops/s wall, ${fmt(hc)} ops/s CPU (target ≥ 100,000): ${h >= 100_000 ? 'met' : hc >= 100_000 ? 'met on CPU time only' : 'missed'}`);
  const ratio = h / results.compact['both bare'].opsPerSec, rc = hc / results.compact['both bare'].cpuOpsPerSec;
  checks.push(`harness vs both designs bare on compact ${(100 * ratio).toFixed(0)}% wall, ${(100 * rc).toFixed(0)}% CPU (target ≥ 60%): ${ratio >= 0.6 && rc >= 0.6 ? 'met' : ratio >= 0.6 || rc >= 0.6 ? 'met on one measure only' : 'missed'}`);
}
if (results.workers) {
  const x = results.workers['--workers 2'].execsPerSec / results.workers['--workers 1'].execsPerSec;
  checks.push(`--workers 2 vs --workers 1: ${x.toFixed(2)}× (target ≥ 1.8×): ${x >= 1.8 ? 'met' : 'missed'}`);
}
if (checks.length) {
  say('Targets:');
  for (const c of checks) say(`- ${c}`);
  say('');
}
say(`Load average at the end ${load()}.`);

if (record) {
  const quoted = argv.map(a => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
  const cmd = (process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${quoted}` : `node bench/bench.js ${quoted}`).trim();
  const date = started.toISOString().replace(/\.\d+Z$/, 'Z');
  const section = ['', `## Benchmarks: ${only.join(', ')} (${date})`, '', `Command: \`${cmd}\``, '', ...out, ''].join('\n');
  if (!fs.existsSync(record)) {
    fs.mkdirSync(path.dirname(record), { recursive: true });
    fs.writeFileSync(record, '# Benchmark results\n\nEach section is appended by the benchmark that produced it, with its exact command and date.\n');
  }
  fs.appendFileSync(record, section);
  console.log(`\nappended to ${path.relative(process.cwd(), record) || record}`);
}
