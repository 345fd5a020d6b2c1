#!/usr/bin/env bash
# submit-study.sh: the whole ranking study as four Slurm jobs, each waiting for the one before:
# the ground truth as an array of SHARDS tasks, the merge of its shards, the supernets (and their
# searches) as an array, and the report. Prints the four job ids. Run it from the repository
# root (or set BNNAS), with the environment the scripts read (BNNAS_SPACE, BNNAS_OPTS, BN_SEEDS,
# SPOS_SEEDS, SEARCH_OPTS); extra sbatch options (a partition, an account) go in SBATCH_OPTS.
#
#   scripts/slurm/submit-study.sh TABLE OUT SHARDS [bnnas bench options]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
table=$1 out=$2 shards=$3; shift 3
read -ra extra <<< "${SBATCH_OPTS:-}"
supernets=$(( ${BN_SEEDS:-3} + ${SPOS_SEEDS:-2} ))
gt=$(sbatch --parsable "${extra[@]}" --array=0-$((shards - 1)) "$here/ground-truth.sbatch" "$table" "$@")
merge=$(sbatch --parsable "${extra[@]}" --dependency=afterok:"$gt" "$here/merge.sbatch" "$table")
nets=$(sbatch --parsable "${extra[@]}" --dependency=afterok:"$merge" --array=0-$((supernets - 1)) "$here/supernets.sbatch" "$table" "$out")
report=$(sbatch --parsable "${extra[@]}" --dependency=afterok:"$nets" "$here/report.sbatch" "$table" "$out")
echo "$gt $merge $nets $report"
