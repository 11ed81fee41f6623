#!/usr/bin/env node
// A/B of two builds' models in one process: both designs bare in lockstep (as bench.js's "both
// bare" row) on the same pre-generated sequences, the two builds' rounds interleaved, CPU time per
// round. One process and interleaved rounds cancel most of a noisy machine's drift, which separate
// runs do not (seen here: ±20% between two runs of the same build).
//
//   node bench/ab_bare.js OLD_DIST NEW_DIST [--geometry compact|x86] [--sequences N] [--rounds R]
//
// OLD_DIST and NEW_DIST are compiled trees (a clone's dist/ after `npm run build`). Prints each
// build's median and minimum ms per round and NEW/OLD; a ratio below 1 means the new build is faster.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const USAGE = 'usage: node bench/ab_bare.js OLD_DIST NEW_DIST [--geometry compact|x86] [--sequences N] [--rounds R]';
const fail = (msg) => { console.error(`bench/ab_bare.js: ${msg}\n${USAGE}`); process.exit(2); };
const argv = process.argv.slice(2);
const dists = [];
let geometry = 'compact', n = 400, rounds = 15;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const num = () => { const v = argv[++i]; if (!/^\d+$/.test(v ?? '') || Number(v) < 1) fail(`${a}: expected a positive integer, got ${JSON.stringify(v)}`); return Number(v); };
  if (a === '--geometry') { geometry = argv[++i]; if (geometry !== 'compact' && geometry !== 'x86') fail(`--geometry: expected compact or x86, got ${JSON.stringify(geometry)}`); }
  else if (a === '--sequences') n = num();
  else if (a === '--rounds') rounds = num();
  else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
  else if (a.startsWith('--')) fail(`unknown flag ${JSON.stringify(a)}`);
  else dists.push(path.resolve(a));
}
if (dists.length !== 2) fail(`expected two compiled trees, got ${dists.length}`);
for (const d of dists) if (!fs.existsSync(path.join(d, 'impls', 'designs.js'))) fail(`${d}: not a compiled tree (no impls/designs.js; run npm run build there)`);

/** One round of a build: every sequence through both designs, teardown appended, leak report taken. */
function roundOf(dist) {
  const { after, before } = require(path.join(dist, 'impls', 'designs'));
  const { generateSequence } = require(path.join(dist, 'harness', 'seq', 'generate'));
  const { opsWithTeardown } = require(path.join(dist, 'harness', 'run', 'runner'));
  const gen = { config: { geometry, hugePages: false, vcpus: 2 }, domain: 'legal' };
  const lists = [];
  for (let i = 0; i < n; i++) lists.push(opsWithTeardown(generateSequence(1, i, gen)).ops);
  return () => {
    for (const ops of lists) {
      for (const d of [before, after]) {
        const vm = d.create(gen.config);
        for (const op of ops) vm.apply(op);
        vm.leakReport();
      }
    }
  };
}

const [a, b] = dists.map(roundOf);
for (let i = 0; i < 3; i++) { a(); b(); } // warm-up
const cpuMs = (f) => { const c0 = process.cpuUsage(); f(); const c = process.cpuUsage(c0); return (c.user + c.system) / 1000; };
const ta = [], tb = [];
for (let r = 0; r < rounds; r++) { ta.push(cpuMs(a)); tb.push(cpuMs(b)); }
const median = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
const min = (v) => Math.min(...v);
console.log(`${geometry}, ${n} sequences, ${rounds} rounds each, CPU ms per round`);
console.log(`old ${dists[0]}: median ${median(ta).toFixed(1)}, min ${min(ta).toFixed(1)}`);
console.log(`new ${dists[1]}: median ${median(tb).toFixed(1)}, min ${min(tb).toFixed(1)}`);
console.log(`new/old: median ${(median(tb) / median(ta)).toFixed(3)}, min ${(min(tb) / min(ta)).toFixed(3)}`);
