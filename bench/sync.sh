#!/usr/bin/env bash
# Live corpus sync benchmark (issue 14 item 4): how soon do 2 guided campaigns reach the coverage one
# guided campaign reaches in REF seconds, synced (--sync) vs unsynced? Each pair runs as 2 processes at
# once (one per core), seeds 1 and 2; "coverage" of a pair at time t is the larger of the two
# campaigns' class counts (stats.json series; the class sets themselves are in the reports).
#   bench/sync.sh [REF_SECONDS] [PAIR_SECONDS]      (defaults 60 60; needs npm run build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ref="${1:-60}"; pair="${2:-60}"
cli="node dist/harness/cli/main.js"
w="$(mktemp -d)"; trap 'rm -rf "$w"' EXIT
common=(run --engine guided --no-corpus --no-minimize --checkpoint-every 0.5)
echo "load before: $(uptime)"
$cli "${common[@]}" --seed 1 --time "$ref" --out "$w/ref" >/dev/null 2>&1
target="$(node -e 'console.log(require(process.argv[1]).coverage)' "$w/ref/stats.json")"
for mode in unsynced synced; do
  extra=(); [[ $mode == synced ]] && extra=(--sync "$w/sync" --sync-every 1)
  $cli "${common[@]}" --seed 1 --time "$pair" --out "$w/$mode-1" "${extra[@]/#/}" ${extra:+--sync-name one} >/dev/null 2>&1 &
  $cli "${common[@]}" --seed 2 --time "$pair" --out "$w/$mode-2" "${extra[@]/#/}" ${extra:+--sync-name two} >/dev/null 2>&1 &
  wait
done
echo "load after: $(uptime)"
node -e '
const [w, target, ref, pair] = process.argv.slice(1);
const series = d => require(`${w}/${d}/stats.json`).series;
const reach = (a, b) => {
  const ts = [...new Set([...a, ...b].map(p => p.t))].sort((x, y) => x - y);
  const at = (s, t) => s.filter(p => p.t <= t).reduce((m, p) => Math.max(m, p.coverage), 0);
  const hit = ts.find(t => Math.max(at(a, t), at(b, t)) >= Number(target));
  return hit === undefined ? `not within ${pair} s (reached ${Math.max(at(a, 1e9), at(b, 1e9))})` : `${hit.toFixed(1)} s`;
};
console.log(`| reference: 1 guided campaign, ${ref} s | ${target} classes |`);
console.log(`| 2 campaigns, unsynced: time to ${target} classes | ${reach(series("unsynced-1"), series("unsynced-2"))} |`);
console.log(`| 2 campaigns, --sync: time to ${target} classes | ${reach(series("synced-1"), series("synced-2"))} |`);
' "$w" "$target" "$ref" "$pair"
