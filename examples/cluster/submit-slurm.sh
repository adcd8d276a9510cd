#!/usr/bin/env bash
# submit-slurm.sh - submit a sharded kpieval run to Slurm: a job array of
# SHARDS tasks (slurm-shards.sbatch), then the merge (slurm-merge.sbatch),
# which starts only when every task succeeded (afterok) and is cancelled
# if one fails (--kill-on-invalid-dep).
#
#   DATASET=/shared/plan WORK=/shared/kpieval ./submit-slurm.sh 8
#
# usage: submit-slurm.sh [SHARDS]   (default $SHARDS, else 4)
# Everything else (KPIEVAL, KPIEVAL_OPTIONS, KPIEVAL_ARGS, OUT, ...) is read
# by the two job scripts from the environment, which sbatch passes on.
# Extra sbatch options for both jobs: SBATCH_OPTIONS, split on spaces
# (e.g. "--partition=batch --account=kpi").
set -euo pipefail

die() { echo "submit-slurm: error: $*" >&2; exit 2; }

shards=${1:-${SHARDS:-4}}
[[ $shards =~ ^[1-9][0-9]{0,5}$ ]] || die "SHARDS '$shards': expected a number >= 1"
[ -n "${DATASET:-}" ] || die "DATASET is not set"
[ -n "${WORK:-}" ] || die "WORK is not set"
command -v sbatch >/dev/null || die "sbatch not found: is this a Slurm submit host?"
here=$(cd -- "$(dirname -- "$0")" && pwd)
read -r -a extra <<<"${SBATCH_OPTIONS:-}"

# --parsable prints "JOBID" or "JOBID;CLUSTER".
array=$(sbatch --parsable ${extra[@]+"${extra[@]}"} --array="1-$shards" --export=ALL \
    "$here/slurm-shards.sbatch")
array=${array%%;*}
[[ $array =~ ^[0-9]+$ ]] || die "sbatch did not return a job id for the shards: '$array'"
merge=$(sbatch --parsable ${extra[@]+"${extra[@]}"} --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --export="ALL,SHARDS=$shards" "$here/slurm-merge.sbatch")
merge=${merge%%;*}
[[ $merge =~ ^[0-9]+$ ]] || die "sbatch did not return a job id for the merge: '$merge'"
echo "submitted: shards job $array (array 1-$shards), merge job $merge (after every shard succeeds)"
echo "follow with: squeue -j $array,$merge; the merged report: ${OUT:-$WORK/report}"
