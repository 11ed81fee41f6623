#!/usr/bin/env bash
# The review alternatives (impls/alternatives/) against after, one campaign per configuration: the
# table of README "Questions from the review threads, answered".
# usage: bench/alternatives.sh [RUNS]        (after npm run build; default 3000 runs per cell)
# prints: alternative | configuration | sequences | unexplained | their kind:component | explained (D-id×sequences)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-3000}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work"
cli="$root/dist/harness/cli/main.js"
for a in $(node -e "for (const a of require('$root/dist/impls/alternatives/index.js').ALTERNATIVES) console.log(a.id)"); do
  for cfg in "state legal" "strict legal" "strict extended" "strict legal --dpamt" "strict legal --huge-pages"; do
    set -- $cfg; o="$a-$1-$2${3:-}"; o="${o//--/}"
    node "$cli" run --designs "after,alt:$a" --equiv "$1" --domain "$2" ${3:-} --seed 1 --runs "$runs" --no-corpus --no-minimize \
      --out "$o" --crashes "$o/c" >/dev/null 2>&1 || true
    # findings of after alone (its own extended-domain issues) are not the alternative's
    node -e "const r=require('./$o/report.json'); const mine=r.findings.filter(f=>f.status==='open' && !(f.designs.length===1&&f.designs[0]==='after'));
      console.log(['$a','$cfg',r.scope.sequences,mine.length,mine.map(f=>f.kind+':'+f.component).join('; ')||'-',r.explained.map(e=>e.id+'×'+e.sequences).join(', ')||'-'].join(' | '))"
  done
done
