#!/bin/bash
# Submits a sharded tdpfuzz campaign to Slurm (README "Long campaigns"): an array of N shard tasks
# (shard.sbatch) and a merge job (merge.sbatch) that runs once all of them succeeded.
#   examples/slurm/submit.sh N CAMPAIGN_DIR [tdpfuzz run flags...]
#   e.g. examples/slurm/submit.sh 64 /shared/tdp-7 --seed 7 --time 3600 --designs before,after
# CAMPAIGN_DIR must be on a filesystem every node sees. Each shard writes CAMPAIGN_DIR/shard-I, the
# merge CAMPAIGN_DIR/merged; task logs go to CAMPAIGN_DIR/logs. sbatch options (partition, time
# limit, account) come from the usual SBATCH_* environment variables, e.g. SBATCH_TIMELIMIT=1:10:00.
# TDPFUZZ says how to start tdpfuzz on the nodes (default: this checkout's built CLI).
# Prints the two job ids: "ARRAY_JOB MERGE_JOB".
set -euo pipefail

usage="usage: submit.sh N CAMPAIGN_DIR [tdpfuzz run flags...]"
n="${1:?$usage}"
dir="${2:?$usage}"
shift 2
if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then echo "submit.sh: N: expected a positive integer, got \"$n\"" >&2; exit 2; fi
for f in "$@"; do
  case "$f" in
    --shard|--shard=*|--out|--out=*|--crashes|--crashes=*|--resume|--resume=*)
      echo "submit.sh: $f: set by the scripts (shard I/N, CAMPAIGN_DIR/shard-I)" >&2; exit 2 ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export TDPFUZZ="${TDPFUZZ:-node $repo/dist/harness/cli/main.js}"
mkdir -p "$dir/logs"
dir="$(cd "$dir" && pwd)"
# One campaign per directory: an earlier campaign's shards would be merged into this one.
if compgen -G "$dir/shard-*" >/dev/null || [[ -e "$dir/merged" ]]; then
  echo "submit.sh: $dir: already holds a campaign (shard-* or merged); use a new directory" >&2; exit 2
fi

# Tasks run in the current directory, like a local run: relative --designs/--corpus paths resolve alike.
array="$(sbatch --parsable --array="0-$((n - 1))" --output="$dir/logs/shard-%a.log" \
  "$here/shard.sbatch" "$dir" "$@")"
array="${array%%;*}"
# --kill-on-invalid-dep: if a task fails, the merge is cancelled instead of pending forever.
merge="$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$dir/logs/merge.log" "$here/merge.sbatch" "$dir" "$n")"
merge="${merge%%;*}"
echo "$array $merge"
