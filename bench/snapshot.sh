#!/usr/bin/env bash
# Behaviour snapshot for behaviour-preserving refactors (issue 8: "reports and crash files are
# byte-identical before and after, timings aside"). Runs fixed-seed campaigns — 3 seeds × {random,
# guided} on before/after (legal and extended domains) and on three mutants, plus the mutant table
# for random and guided — and keeps every report, stats file, crash file and the console output,
# timings stripped by bench/normalize_timings.js.
#
# usage: bench/snapshot.sh DEST        (after npm run build)
#        diff -r DEST-before DEST-after   -> must print nothing
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$(mkdir -p "$1" && cd "$1" && pwd)"
cli="$root/$(node -p 'require(process.argv[1]).bin.tdpfuzz' "$root/package.json")"
# One fixed working directory, so paths printed into reports are the same in every snapshot.
work="${SNAPSHOT_WORK:-/tmp/tdpfuzz-snapshot-work-$$}"
rm -rf "$work"; mkdir -p "$work"; cp -r "$root/corpus" "$work/corpus"
cd "$work"

run() { # name, flags...
  local name="$1"; shift
  local rc=0
  node "$cli" run --out "$name" --crashes "$name/crashes" "$@" >"$name.console" 2>&1 || rc=$?
  echo "exit $rc" >>"$name.console"
}
for engine in random guided; do
  for seed in 1 2 3; do
    run "$engine-legal-$seed" --engine "$engine" --seed "$seed" --runs 1500
    run "$engine-ext-$seed" --engine "$engine" --seed "$seed" --runs 1000 --domain extended --equiv strict
    run "$engine-mut-kep-$seed" --engine "$engine" --seed "$seed" --runs 800 --designs after,mutant:keeps-external-pointer
    run "$engine-mut-frz-$seed" --engine "$engine" --seed "$seed" --runs 800 --designs after,mutant:frozen-not-restored
    run "$engine-mut-brc-$seed" --engine "$engine" --seed "$seed" --runs 800 --designs before,mutant:before-rcu-skips-external --no-corpus
  done
done
run huge-1 --seed 1 --runs 600 --huge-pages --designs after,mutant:split-leftover-skips-external
run prove-1 --seed 1 --runs 600 --prove-mmu --designs after,mutant:parent-reclaimed-first
# x86 under both generator profiles: uniform draws what the generator drew before profiles existed
# (so it compares with older snapshots), mirror is the x86 default (seq/profile.ts).
run x86-1 --seed 1 --runs 40 --geometry x86 --profile uniform
run x86-mirror-1 --seed 1 --runs 200 --geometry x86 --profile mirror
node "$cli" mutants --engines random,guided --seeds 3 --time 20 --json >mutants.json 2>mutants.console || true
# The regression replay of the committed corpora.
(node "$cli" replay "$root/crashes" "$root/corpus" >replay.console 2>&1; echo "exit $?" >>replay.console) || true
sed -i "s#$root#<root>#g" replay.console

rm -rf "$dest"/*; cp -r "$work"/. "$dest"/; rm -rf "$dest/corpus" "$work"
find "$dest" -type f \( -name '*.json' -o -name '*.md' -o -name '*.txt' -o -name '*.html' -o -name '*.xml' -o -name '*.console' \) -print0 |
  xargs -0 node "$root/bench/normalize_timings.js"
echo "snapshot: $(find "$dest" -type f | wc -l) files in $dest"
