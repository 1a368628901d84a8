#!/usr/bin/env bash
# A Slurm job array that grades nbgrader's submitted/ folder in shards, one array task per shard:
#   sbatch --array=0-3 scripts/slurm_grade.sh SUBMITTED OUT [grade options...]
# Task I grades shard I/N (N = the array's size) into OUT/shard-I; once all are done, merge them:
#   .venv/bin/python -m autograder merge OUT/shard-* --out OUT
# Run it from the kit's folder, on a shared file system that every node mounts at the same path. Each node needs
# the kit's .venv and MNIST (data/), and a sandbox: bubblewrap where the node allows user namespaces (see
# docs/scale.md). Students whose results are already in OUT/shard-I are not graded again (a requeued task resumes).
#SBATCH --job-name=autograde
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --output=autograde-%A_%a.out
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: sbatch --array=0-N scripts/slurm_grade.sh SUBMITTED OUT [grade options...]" >&2; exit 2; }
SUBMITTED=$1 OUT=$2
shift 2
: "${SLURM_ARRAY_TASK_ID:?run this as a job array: sbatch --array=0-N ...}"
SHARD=$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT
echo "task $SLURM_ARRAY_JOB_ID.$SLURM_ARRAY_TASK_ID on $(hostname): shard $SHARD"
exec "${KIT_PYTHON:-.venv/bin/python}" -m autograder grade "$SUBMITTED" --out "$OUT/shard-$SLURM_ARRAY_TASK_ID" \
    --shard "$SHARD" -q -j "${SLURM_CPUS_PER_TASK:-1}" "$@"
