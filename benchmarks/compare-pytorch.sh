#!/usr/bin/env bash
# Runs our JMH supernet-step benchmark and the PyTorch peer one after the other on the same
# machine, prints a table of full step, BN-only step and eval forward, ours against PyTorch's,
# and ends with one JSON line of the three ratios (ours / PyTorch; below 1 means we are faster).
#
# Usage: benchmarks/compare-pytorch.sh [bnnas-small|bnnas-imagenet]      (default bnnas-small)
# Env:   JMH_ARGS  extra JMH options (e.g. "-wi 1 -i 1 -w 1 -r 1" to check that it runs: with one
#                  second of warm-up the JIT has not finished and our figures mean nothing)
#        SHARED    the shared/ folder beside the checkout (default ../shared)
set -euo pipefail
# This machine kind sets OPENBLAS_CORETYPE=Haswell (and OPENBLAS_L2_SIZE) for the sake of old
# OpenBLAS builds; the current one detects the CPU itself and runs its AVX-512 kernels. Both sides
# of the comparison run without them, as the machine's notes advise for benchmarks.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
space=${1:-bnnas-small}
case "$space" in
  bnnas-small) batch=128 ;;
  bnnas-imagenet) batch=16 ;;
  *) echo "compare-pytorch.sh: unknown space '$space' (bnnas-small or bnnas-imagenet)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
peer="$shared/peers/run-pytorch-peer.sh"
[ -x "$peer" ] || { echo "compare-pytorch.sh: PyTorch peer not found at $peer (set SHARED)" >&2; exit 2; }
jar="$root/benchmarks/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root" -name '*.java' -path '*/src/main/*' -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B install -DskipTests) >&2
fi
threads=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run_peer() {
  "$peer" --space "$shared/spaces/$space.json" --archs "$shared/spaces/bench-archs.json" \
    --batch "$batch" --threads "$threads" --skip-spos-eval | tail -1 > "$1"
}
# The peer runs before and after ours and the faster of its two figures counts: a machine that
# slows down during the run then cannot make us look better than we are.
echo "== PyTorch peer (before ours), same paths, batch and threads" >&2
run_peer "$out/peer1.json"
echo "== ours: JMH SupernetStepBenchmark, $space, batch $batch, $threads threads" >&2
java --add-modules jdk.incubator.vector -jar "$jar" SupernetStepBenchmark -p space="$space" \
  -rf json -rff "$out/ours.json" ${JMH_ARGS:-} >&2
echo "== ours: JMH PointwiseGemmBenchmark (1x1 conv N 64, 96 -> 576, 14x14 against OpenBLAS sgemm)" >&2
java --add-modules jdk.incubator.vector -jar "$jar" PointwiseGemmBenchmark -rf json -rff "$out/gemm.json" ${JMH_ARGS:-} >&2
echo "== PyTorch peer (after ours)" >&2
run_peer "$out/peer2.json"

python3 - "$out/ours.json" "$out/peer1.json" "$out/peer2.json" "$out/gemm.json" "$space" "$batch" "$threads" <<'PY'
import json, sys
ours_file, peer1_file, peer2_file, gemm_file, space, batch, threads = sys.argv[1:]
ours = {r["params"]["mode"]: r["primaryMetric"] for r in json.load(open(ours_file))}
peers = [json.load(open(f)) for f in (peer1_file, peer2_file)]
peer = dict(peers[0])
for key in ("full_step_ms", "bnonly_step_ms", "eval_fwd_ms"):
    peer[key] = min(p[key] for p in peers)
rows = [("full step (SPOS)", "full", "full_step_ms"),
        ("BN-only step (BN-NAS)", "bnonly", "bnonly_step_ms"),
        ("eval forward", "eval", "eval_fwd_ms")]
print(f"{space}, batch {batch}, {threads} threads; ours: JMH mean +- 99.9% CI; PyTorch {peer['peer']}: median of 20 steps, "
      "the faster of a run before ours and one after")
print(f"| {'step':<22} | {'ours (ms)':>16} | {'PyTorch (ms)':>12} | {'PyTorch runs (ms)':>17} | {'ours / PyTorch':>14} |")
print(f"|{'-'*24}|{'-'*18}|{'-'*14}|{'-'*19}|{'-'*16}|")
ratios = {}
for label, mode, key in rows:
    m = ours[mode]
    r = m["score"] / peer[key]
    ratios[mode] = round(r, 3)
    err = m.get("scoreError")
    err = f" +- {err:.1f}" if isinstance(err, (int, float)) and err == err else ""
    runs = " / ".join(f"{p[key]:.1f}" for p in peers)
    print(f"| {label:<22} | {m['score']:>8.1f}{err:>8} | {peer[key]:>12.1f} | {runs:>17} | {r:>14.2f} |")
gemm = {r["benchmark"].rsplit(".", 1)[1]: r["primaryMetric"]["score"] for r in json.load(open(gemm_file))}
gflop = 2 * 64 * 14 * 14 * 576 * 96 / 1e9
conv_gf, blas_gf = gflop / (gemm["conv1x1"] / 1e3), gflop / (gemm["sgemm"] / 1e3)
print(f"1x1 conv N 64, 96 -> 576, 14x14: ours {conv_gf:.0f} GFLOP/s, OpenBLAS sgemm {blas_gf:.0f} GFLOP/s: {100 * conv_gf / blas_gf:.0f}%")
print(json.dumps({"space": space, "batch": int(batch), "threads": int(threads), "gemm_efficiency": round(conv_gf / blas_gf, 3),
                  "full_ratio": ratios["full"], "bnonly_ratio": ratios["bnonly"], "eval_ratio": ratios["eval"]}))
PY
