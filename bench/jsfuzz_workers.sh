#!/usr/bin/env bash
# Worker scaling and jsfuzz time-to-first-crash (bench/RESULTS.md, "jsfuzz engine and workers").
#
#   bench/jsfuzz_workers.sh scaling [SECONDS]        exec/s of `run` in-process, --workers 1, --workers 2
#   bench/jsfuzz_workers.sh cli MUTANT...            time to first crash of the jsfuzz CLI (60 s cap)
#   bench/jsfuzz_workers.sh inproc MUTANT...         the same for the in-process jsfuzz engine (worker + istanbul)
#
# Runs the compiled harness in $DIST (default dist/; `npm run build` first). Each measurement uses a
# fresh temp directory: no corpus, no earlier crash files. Designs: the mutant's base (after or
# before) vs mutant:<id>, compact, legal domain, state equivalence, huge pages / PROVE_MMU when the
# mutant needs them — as `TDPFUZZ_DESIGNS=after,mutant:<id> npm run fuzz:jsfuzz` runs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIST=${DIST:-$ROOT/dist}
CAP=${CAP:-60}
mode=${1:-}
shift || true

case "$mode" in
scaling)
  T=${1:-20}
  for w in 0 1 2; do
    tmp=$(mktemp -d)
    flags=(); [ "$w" -gt 0 ] && flags=(--workers "$w")
    node "$DIST/harness/cli/main.js" run "${flags[@]}" --time "$T" --no-corpus --no-minimize --out "$tmp/out" --crashes "$tmp/crashes" >/dev/null 2>&1
    label=$([ "$w" -eq 0 ] && echo "in-process" || echo "--workers $w")
    node -e 'const s=require(process.argv[1]); console.log(`${process.argv[2].padEnd(12)} execs ${s.execs}  elapsed ${s.elapsedSec.toFixed(1)} s  exec/s ${Math.round(s.execsPerSec)}  ops/s ${Math.round(s.opsPerSec)}`)' "$tmp/out/stats.json" "$label"
    rm -rf "$tmp"
  done
  ;;
cli)
  for m in "$@"; do
    tmp=$(mktemp -d)
    mkdir -p "$tmp/crashes" "$tmp/corpus"
    target=$(realpath --relative-to="$tmp/crashes" "$DIST/harness/fuzz/fuzz_target.js")
    # the mutant's base design and the configuration it needs (catalogue: base, needs)
    read -r base huge prove <<<"$(node -e 'const m=require(process.argv[1]).findMutant(process.argv[2]); if(!m){console.error("unknown mutant "+process.argv[2]);process.exit(2)} console.log(m.base, m.needs?.hugePages?1:0, m.needs?.proveMmu?1:0)' "$DIST/impls/mutants/catalogue.js" "$m")" || exit 2
    TIMEFORMAT='%R %U %S'
    t=$( { time (cd "$tmp/crashes" && TDPFUZZ_DESIGNS="$base,mutant:$m" TDPFUZZ_HUGE_PAGES=$huge TDPFUZZ_PROVE_MMU=$prove timeout "$CAP" node "$ROOT/node_modules/jsfuzz/build/src/index.js" "$target" ../corpus >"$tmp/log" 2>&1) ; } 2>&1 )
    read -r real user sys <<<"$t"
    crash=$(ls "$tmp/crashes" | grep '^crash-' | head -1)
    last=$(grep -E '^#[0-9]+ ' "$tmp/log" | tail -1 | cut -d' ' -f1)
    if [ -n "$crash" ]; then
      printf '%-32s crash after %6.1f s wall, %6.1f s CPU (last status line %s)\n' "$m" "$real" "$(echo "$user + $sys" | bc)" "${last:-#0}"
    else
      printf '%-32s no crash in %s s wall, %6.1f s CPU (last status line %s)\n' "$m" "$CAP" "$(echo "$user + $sys" | bc)" "${last:-#0}"
    fi
    rm -rf "$tmp"
  done
  ;;
inproc)
  for m in "$@"; do
    tmp=$(mktemp -d)
    node -e '
      const { startWorkers } = require(process.argv[1]);
      const t0 = Date.now(); let first = null;
      const m = require(process.argv[1].replace(/harness[\\/]workers\.js$/, "impls/mutants/catalogue.js")).findMutant(process.argv[2]);
      const h = startWorkers({ workers: 1, engine: "jsfuzz", designSpec: m.base + ",mutant:" + process.argv[2], seed: 1, runs: null,
        timeSec: Number(process.argv[4]), equiv: "state", domain: "legal",
        config: { geometry: "compact", hugePages: !!m.needs?.hugePages, vcpus: 2, ...(m.needs?.proveMmu ? { proveMmu: true } : {}) },
        faultRate: 0.15, raceRate: 0.1, maxOps: 24, shard: null, cwd: process.argv[3], outDir: "out", crashDir: "crashes",
        corpusDir: null, minimize: null,
        onEvent: e => { if (e.type === "new-finding" && !first) { first = { s: (Date.now() - t0) / 1000, execs: e.execs }; h.stop(); } } });
      h.done.then(() => console.log(first ? `${process.argv[2].padEnd(32)} finding after ${first.s.toFixed(1)} s (#${first.execs}, incl. worker start and instrumentation)` : `${process.argv[2].padEnd(32)} no finding in ${process.argv[4]} s`));
    ' "$DIST/harness/fuzz/workers.js" "$m" "$tmp" "$CAP"
    rm -rf "$tmp"
  done
  ;;
*)
  sed -n '2,10p' "$0"; exit 2 ;;
esac
