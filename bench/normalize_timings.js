#!/usr/bin/env node
// Strips what legitimately differs between two runs of the same seed and configuration — wall-clock
// timestamps, durations, rates and the time-sampled stats series — so that two behaviour snapshots
// (bench/snapshot.sh) can be compared byte for byte. Everything else (findings, signatures,
// reproducers, coverage, counts, explained differences) is kept verbatim.
// usage: node bench/normalize_timings.js FILE...   (rewrites each file in place)
'use strict';
const fs = require('fs');

// JSON keys whose values are timings: by name, so a new timing field shows up as a diff, not as silence.
const TIMING_KEY = /^(t|startedAt|finishedAt|updatedAt|firstSeen|lastSeen|elapsedSec|execsPerSec|opsPerSec|seqPerSec|medianMs|worstMedianMs|ms|wallMs|elapsedMs|minimizeMs|durationMs|timeMs|timings|series|mutationMs|lastNewClassSec|lastNewByFamily|lastNewCoverageSec|firstFindingSec|foundAtSec|modelMsByKind|engineMs)$/;

function scrub(v) {
  if (Array.isArray(v)) return v.map(scrub);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = TIMING_KEY.test(k) ? '<timing>' : scrub(x);
    return out;
  }
  return v;
}

const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;
function scrubText(s) {
  return s
    // Status lines are printed once per wall-clock second: how many there are depends on machine load.
    .replace(/^#\d+ pulse .*\n/gm, '')
    .replace(ISO, '<ts>')
    .replace(/\b(time|timestamp)="[^"]*"/g, '$1="<t>"')
    .replace(/[\d,.]+ (sequences\/s|exec\/s|ops\/s|ms|s)\b/g, '<n> $1')
    .replace(/(exec\/s|ops\/s):? [\d,.]+/g, '$1 <n>')
    .replace(/(elapsed|over|in) [\d,.]+ ?(s|ms)\b/g, '$1 <n> $2')
    .replace(/(findings: \d+ \(explained: \d+\)) \d+s$/gm, '$1 <n>s')
    .replace(/( \d+\/\d+ runs) \d+s$/gm, '$1 <n>s')
    // the share column of "model time by op kind" (its ms column is a "<n> ms" above): text, Markdown, HTML
    .replace(/[\d.]+% of model time/g, '<n>% of model time')
    .replace(/[\d.]+% of the elapsed time/g, '<n>% of the elapsed time')
    .replace(/\| [\d.]+% \|$/gm, '| <n>% |')
    .replace(/<td class="share">[\d.]+%<\/td>/g, '<td class="share"><n>%</td>')
    .replace(/<svg[\s\S]*?<\/svg>/g, '<svg/>');
}

for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  let out;
  if (file.endsWith('.json')) {
    try {
      out = JSON.stringify(scrub(JSON.parse(text)), null, 1) + '\n';
    } catch {
      out = scrubText(text); // JSON-lines or non-JSON: text rules
    }
  } else out = scrubText(text);
  fs.writeFileSync(file, out);
}
