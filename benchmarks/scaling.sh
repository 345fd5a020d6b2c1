#!/usr/bin/env bash
# How the cost grows: the BN-only step and the eval forward of both spaces against batch size
# (bnnas-small 16 to 256, bnnas-imagenet 8 to 64) at 1 and 2 threads, ours and the PyTorch peer's,
# ours with the OpenBLAS variables unset and PyTorch with the machine's (OPENBLAS_CORETYPE=Haswell
# here), each side's faster setting on most rows of compare-pytorch.sh, which measures both ways. Writes the
# charts benchmarks/scaling-SPACE-MODE.png and prints their tables; the raw figures go to
# benchmarks/target/scaling.jsonl. Each point: one unmeasured cycle through the eight bench paths
# (the JIT, our memory pool and PyTorch's oneDNN primitives for each new shape settle), then the
# median over CYCLES cycles of the mean step time.
#
# Usage: benchmarks/scaling.sh [CYCLES]     (default 1)
set -euo pipefail
cycles=${1:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
spaces="$root/bnnas/src/main/resources/spaces"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "scaling.sh: needs Debian's PyTorch; install it with: sudo apt-get install -y python3-torch" >&2
  exit 2
fi
jar="$root/benchmarks/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root" -name '*.java' -path '*/src/main/*' -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B install -DskipTests) >&2
fi
results="$root/benchmarks/target/scaling.jsonl"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for config in "bnnas-small 16,32,64,128,256" "bnnas-imagenet 8,16,32,64"; do
  set -- $config
  for mode in bnonly eval; do
    echo "== $1 $mode, batches $2: ours" >&2
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE java --add-modules jdk.incubator.vector -XX:+UseParallelGC -cp "$jar" org.bnnas.bench.Scaling \
      measure "$1" "$mode" "$2" 1,2 "$cycles" 2>/dev/null | grep '^{' >> "$tmp"
    echo "== $1 $mode, batches $2: PyTorch" >&2
    for threads in 1 2; do
      for batch in ${2//,/ }; do
        /usr/bin/python3 "$root/benchmarks/pytorch_peer.py" --space "$spaces/$1.json" --archs "$spaces/bench-archs.json" --modes "$mode" \
          --batch "$batch" --threads "$threads" --steps $((8 * cycles)) --warmup 8 | tail -1 \
          | python3 -c 'import json, sys; r = json.load(sys.stdin); m = sys.argv[1]; key = {"bnonly": "bnonly_step_ms", "eval": "eval_fwd_ms"}[m]
print(json.dumps({"side": "PyTorch", "space": r["space"], "mode": m, "batch": r["batch"], "threads": r["threads"], "ms": r[key]}))' "$mode" >> "$tmp"
      done
    done
  done
done
mv "$tmp" "$results"
trap - EXIT
java --add-modules jdk.incubator.vector -cp "$jar" org.bnnas.bench.Scaling plot "$results" "$root/benchmarks" 2>/dev/null
