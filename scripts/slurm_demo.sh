#!/usr/bin/env bash
# Grade the demo's submissions with a Slurm job array of two shards on a one-node cluster made on this machine,
# then merge the shards. As root on Debian or Ubuntu (it installs slurm-wlm and munge with apt), from the kit's
# folder after ./kit setup (.venv, data/MNIST):
#   scripts/slurm_demo.sh [OUT]        (default out/slurm)
# It writes /etc/slurm/slurm.conf for this host alone: run it on a machine that is no part of a real cluster.
set -euo pipefail
OUT=${1:-out/slurm}
PYTHON=${KIT_PYTHON:-.venv/bin/python}
[ "$(id -u)" = 0 ] || { echo "run as root: it installs and starts munge and Slurm" >&2; exit 2; }
HOST=$(hostname -s)

command -v slurmctld >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge; }

# munge: the key the package made, its daemon as the munge user
[ -s /etc/munge/munge.key ] || { mungekey --create && chown munge:munge /etc/munge/munge.key; }
install -d -o munge -g munge -m 0755 /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged

# a one-node cluster: this host, its CPUs and memory as slurmd reports them; no cgroups, no accounting
install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat >/etc/slurm/slurm.conf <<EOF
ClusterName=kit
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
$(slurmd -C | head -1) State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qx idle && break; sleep 1; done
sinfo

SUBMITTED=$("$PYTHON" -c "import sys; from pathlib import Path; from autograder.release import demo_submissions
print(demo_submissions(Path.cwd(), Path(sys.argv[1]) / 'submitted'))" "$OUT")
rm -rf "$OUT"/shard-*
# two shards, one CPU each so that both run at once on two CPUs; -j follows --cpus-per-task
started=$(date +%s)
sbatch --wait --array=0-1 --cpus-per-task=1 --output="$OUT/slurm-%A_%a.out" scripts/slurm_grade.sh "$SUBMITTED" "$OUT"
echo "job array done in $(( $(date +%s) - started )) s"
for log in "$OUT"/slurm-*.out; do echo "--- $log"; cat "$log"; done
"$PYTHON" -m autograder merge "$OUT"/shard-* --out "$OUT"
cat "$OUT/grades.csv"
