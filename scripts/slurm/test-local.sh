#!/usr/bin/env bash
# test-local.sh: the Slurm scripts on a real, single-node Slurm started here. Installs slurm-wlm
# and munge where it may (as root), starts munged with a key of its own, slurmctld and slurmd with a
# generated slurm.conf (one node, two CPUs, private ports), generates a small image set, and
# submits the study's jobs: the ground truth as two shards of an 8-row table at one epoch (one
# shard requeued after its first row, as a preempted task would be), the merge, one BN-NAS and one
# SPOS supernet with their searches, and the report. Checks that the merged table holds every
# planned row once, with the results a single-process `bnnas bench` gives bit for bit, that the
# requeued shard continued rather than restarted, and that the report was written; then stops the
# daemons it started. Exit 0: passed; 77: skipped (Slurm cannot run here; the line says why);
# anything else: failed.
#
#   scripts/slurm/test-local.sh        (BNNAS: the command that runs bnnas, default bin/bnnas)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export BNNAS=${BNNAS:-$root/bin/bnnas}
skip() { echo "test-local.sh: skipped: $*" >&2; exit 77; }
fail() { echo "test-local.sh: FAILED: $*" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || skip "slurm-wlm and munge are not installed and only root may install them"
  echo "test-local.sh: installing slurm-wlm and munge (apt-get)..." >&2
  { apt-get install -y -qq slurm-wlm munge || { apt-get update -qq && apt-get install -y -qq slurm-wlm munge; }; } >/dev/null 2>&1 \
    || skip "apt-get could not install slurm-wlm and munge"
fi
[ "$(id -u)" = 0 ] || skip "slurmd runs its jobs as their users, which needs root"

work=$(mktemp -d /tmp/bnnas-slurm.XXXXXX)
cleanup() {
  # jobs first: a job's slurmstepd outlives slurmd
  [ -f "$work/slurmctld.pid" ] && SLURM_CONF=$work/slurm.conf scancel --user="$(id -un)" 2>/dev/null && sleep 2
  for f in slurmd slurmctld munged; do [ -f "$work/$f.pid" ] && kill "$(cat "$work/$f.pid")" 2>/dev/null || true; done
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"/{state,spool,log,socket,study}

# munge with a key and a socket of its own, so that nothing of the machine's is touched
dd if=/dev/urandom of="$work/munge.key" bs=1 count=1024 2>/dev/null
chmod 400 "$work/munge.key"
munged --force --key-file="$work/munge.key" --socket="$work/socket/munge" --pid-file="$work/munged.pid" \
    --log-file="$work/log/munged.log" --seed-file="$work/munge.seed" 2>>"$work/log/munged.log" || skip "munged did not start: $(tail -1 "$work/log/munged.log")"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
node=$(hostname -s)
cat > "$work/slurm.conf" <<CONF
ClusterName=bnnas-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$work/socket/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF" || skip "slurmctld did not start: $(tail -1 "$work/log/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" || skip "slurmd did not start: $(tail -1 "$work/log/slurmd.log" 2>/dev/null)"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo -h -o %T | grep -q idle || skip "the node did not come up: $(tail -1 "$work/log/slurmd.log")"

# a small image set in MNIST's IDX format: 1,200 training images (200 held out) and 200 test images
python3 - "$work/data" <<'PY'
import gzip, os, random, struct, sys
d = sys.argv[1]; os.makedirs(d)
rng = random.Random(0)
def write(name, count, magic, header, body):
    with gzip.open(os.path.join(d, name), "wb") as f:
        f.write(struct.pack(">II", magic, count) + header + body)
for prefix, count in (("train", 1200), ("t10k", 200)):
    labels = bytes(i % 10 for i in range(count))
    pixels = bytes(rng.randrange(256) if rng.random() < (labels[i // 784] + 1) / 12 else 0 for i in range(count * 784))
    write(prefix + "-images-idx3-ubyte.gz", count, 0x803, struct.pack(">II", 28, 28), pixels)
    write(prefix + "-labels-idx1-ubyte.gz", count, 0x801, b"", labels)
PY
export BNNAS_OPTS="--data-dir $work/data --validation-size 200"
plan=(--archs 6 --second-seeds 2 --near-limit 2 --epochs 1 --batch-size 100)
table=$work/study/table.jsonl

cd "$work"  # the jobs' output files go here
gt=$(sbatch --parsable --cpus-per-task=1 --mem=0 --array=0-1 "$here/ground-truth.sbatch" "$table" "${plan[@]}")
# preempt shard 0 after its first row: Slurm kills it and runs it again, and it must go on from its second row
for _ in $(seq 600); do
  [ -s "$table.shard-0-of-2.jsonl" ] && break
  sleep 0.2
done
[ -s "$table.shard-0-of-2.jsonl" ] || fail "shard 0 wrote no row in 2 minutes: $(tail -3 "$work"/bnnas-ground-truth-*_0.out)"
scontrol requeue "${gt}_0" || fail "scontrol requeue ${gt}_0 failed"
merge=$(sbatch --parsable --mem=0 --dependency=afterok:"$gt" "$here/merge.sbatch" "$table")
nets=$(BN_SEEDS=1 SPOS_SEEDS=1 SEARCH_OPTS="--population 4 --generations 1" sbatch --parsable --cpus-per-task=1 --mem=0 \
    --dependency=afterok:"$merge" --array=0-1 "$here/supernets.sbatch" "$table" "$work/study" --epochs 1 --batch-size 100)
report=$(sbatch --parsable --mem=0 --dependency=afterok:"$nets" "$here/report.sbatch" "$table" "$work/study")

# the same plan in one process, to compare with
read -ra bnnas <<< "$BNNAS"
read -ra opts <<< "$BNNAS_OPTS"
"${bnnas[@]}" bench "${opts[@]}" --table "$work/single.jsonl" "${plan[@]}" --threads 1 --out "$work/single-run" >/dev/null

for _ in $(seq 1200); do
  [ -z "$(squeue -h -j "$gt,$merge,$nets,$report" 2>/dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -j "$gt,$merge,$nets,$report")" ] || fail "the jobs did not finish in 10 minutes: $(squeue)"
for j in "$gt" "$merge" "$nets" "$report"; do
  state=$(scontrol show job "$j" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ')
  [ "$state" = "COMPLETED " ] || fail "job $j ended $state: $(cat "$work"/bnnas-*.out | tail -5)"
done

python3 - "$table" "$work/single.jsonl" "$table.shard-0-of-2.jsonl" "$work"/bnnas-ground-truth-*_0.out <<'PY' || exit 1
import json, sys
table, single, shard, log = sys.argv[1:5]
key = lambda r: (r["arch"], r["seed"], r["epochs"])
same = lambda r: (r["arch"], r["seed"], r["epochs"], r["flops"], r["params"], r["val_top1"], r["test_top1"])
merged = [json.loads(l) for l in open(table)]
ref = [json.loads(l) for l in open(single)]
if len(merged) != 8 or len({key(r) for r in merged}) != 8:
    sys.exit("test-local.sh: FAILED: the merged table holds %d rows (%d distinct), not the plan's 8" % (len(merged), len({key(r) for r in merged})))
if sorted(map(same, merged)) != sorted(map(same, ref)):
    sys.exit("test-local.sh: FAILED: the merged table's results differ from a single process's")
text = open(log).read()
if "still to train" not in text or "4 of them still to train" not in text or "3 of them still to train" not in text:
    sys.exit("test-local.sh: FAILED: the requeued shard did not continue from its second row:\n" + text)
PY
[ -s "$work/study/report/report.md" ] || fail "no report: $(tail -5 "$work"/bnnas-report-*.out)"
grep -q "Does the truth carry signal" "$work/study/report/report.md" || fail "the report has no reliability section"
echo "test-local.sh: passed: 8 rows in 2 shards (one requeued after its first row), merged each once and equal to one process's; supernets, searches and the report ran"
