#!/usr/bin/env bash
# Runs our JMH supernet-step benchmark and our PyTorch peer (benchmarks/pytorch_peer.py: the same
# supernet, paths, batch, threads and timing rules) on this machine, each at its best, and prints
# every run, a table of full step, BN-only step and eval forward, ours against PyTorch's, and one
# JSON line of the three ratios (ours / PyTorch; below 1 means we are faster).
#
# Usage: benchmarks/compare-pytorch.sh [bnnas-small|bnnas-imagenet]      (default bnnas-small)
# Env:   JMH_ARGS  extra JMH options (e.g. "-wi 1 -i 1 -w 1 -r 1" to check that it runs: with one
#                  second of warm-up the JIT has not finished and our figures mean nothing)
#
# "At its best": each side runs with the machine's OpenBLAS variables (OPENBLAS_CORETYPE,
# OPENBLAS_L2_SIZE, as this shell has them) and with them unset, since Debian's PyTorch is fastest
# with the first on this machine kind and our OpenBLAS with the second. The peer runs both ways
# before ours and both ways after, and for each side and step the fastest run counts: a machine
# that slows down during the comparison cannot make us look better than we are.
set -euo pipefail
space=${1:-bnnas-small}
case "$space" in
  bnnas-small) batch=128 ;;
  bnnas-imagenet) batch=16 ;;
  *) echo "compare-pytorch.sh: unknown space '$space' (bnnas-small or bnnas-imagenet)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
spaces="$root/bnnas/src/main/resources/spaces"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "compare-pytorch.sh: installing Debian's PyTorch (apt-get install python3-torch)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null
  else
    echo "compare-pytorch.sh: needs Debian's PyTorch; install it with: sudo apt-get install -y python3-torch" >&2
    exit 2
  fi
fi
jar="$root/benchmarks/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root" -name '*.java' -path '*/src/main/*' -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B install -DskipTests) >&2
fi
threads=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
machine_env="OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-}"

run_peer() { # $1: output file, $2: machine|unset
  if [ "$2" = unset ]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$root/benchmarks/pytorch_peer.py" --space "$spaces/$space.json" \
      --archs "$spaces/bench-archs.json" --batch "$batch" --threads "$threads" | tail -1 > "$1"
  else
    /usr/bin/python3 "$root/benchmarks/pytorch_peer.py" --space "$spaces/$space.json" --archs "$spaces/bench-archs.json" \
      --batch "$batch" --threads "$threads" | tail -1 > "$1"
  fi
}
run_ours() { # $1: output file, $2: machine|unset
  local cmd=(java --add-modules jdk.incubator.vector -jar "$jar" SupernetStepBenchmark -p space="$space" -rf json -rff "$1" ${JMH_ARGS:-})
  if [ "$2" = unset ]; then env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${cmd[@]}" >&2; else "${cmd[@]}" >&2; fi
}
for setting in machine unset; do
  echo "== PyTorch peer (before ours), OpenBLAS variables: $setting ($machine_env)" >&2
  run_peer "$out/peer-before-$setting.json" $setting
done
for setting in machine unset; do
  echo "== ours: JMH SupernetStepBenchmark, $space, batch $batch, $threads threads, OpenBLAS variables: $setting" >&2
  run_ours "$out/ours-$setting.json" $setting
done
echo "== ours: JMH PointwiseGemmBenchmark (1x1 conv N 64, 96 -> 576, 14x14 against OpenBLAS sgemm)" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE java --add-modules jdk.incubator.vector -jar "$jar" PointwiseGemmBenchmark -rf json -rff "$out/gemm.json" \
  ${JMH_ARGS:-} >&2
for setting in machine unset; do
  echo "== PyTorch peer (after ours), OpenBLAS variables: $setting" >&2
  run_peer "$out/peer-after-$setting.json" $setting
done

python3 - "$out" "$space" "$batch" "$threads" "$machine_env" <<'PY'
import json, os, sys
out, space, batch, threads, machine_env = sys.argv[1:]
steps = [("full step (SPOS)", "full", "full_step_ms"), ("BN-only step (BN-NAS)", "bnonly", "bnonly_step_ms"), ("eval forward", "eval", "eval_fwd_ms")]
ours = {s: {r["params"]["mode"]: r["primaryMetric"] for r in json.load(open(f"{out}/ours-{s}.json"))} for s in ("machine", "unset")}
peers = {f"{when} {s}": json.load(open(f"{out}/peer-{when}-{s}.json")) for when in ("before", "after") for s in ("machine", "unset")}
print(f"{space}, batch {batch}, {threads} threads; the machine's OpenBLAS variables: {machine_env}")
print(f"ours: JMH mean +- 99.9% CI, with the variables and without; PyTorch {next(iter(peers.values()))['peer']}: median of 20 steps, "
      "with and without, before ours and after. The fastest of each side counts.")
print(f"| {'step':<22} | {'ours: machine':>16} | {'ours: unset':>16} | {'PyTorch: before machine / unset, after machine / unset':>56} | {'ours / PyTorch':>14} |")
print(f"|{'-'*24}|{'-'*18}|{'-'*18}|{'-'*58}|{'-'*16}|")
ratios = {}
for label, mode, key in steps:
    cells = []
    for s in ("machine", "unset"):
        m = ours[s][mode]
        err = m.get("scoreError")
        cells.append(f"{m['score']:.1f}" + (f" +- {err:.1f}" if isinstance(err, (int, float)) and err == err else ""))
    best_ours = min(ours[s][mode]["score"] for s in ours)
    best_peer = min(p[key] for p in peers.values())
    runs = " / ".join(f"{peers[k][key]:.1f}" for k in ("before machine", "before unset", "after machine", "after unset"))
    ratios[mode] = round(best_ours / best_peer, 3)
    print(f"| {label:<22} | {cells[0]:>16} | {cells[1]:>16} | {runs:>56} | {best_ours / best_peer:>14.2f} |")
gemm = {r["benchmark"].rsplit(".", 1)[1]: r["primaryMetric"]["score"] for r in json.load(open(f"{out}/gemm.json"))}
gflop = 2 * 64 * 14 * 14 * 576 * 96 / 1e9
conv_gf, blas_gf = gflop / (gemm["conv1x1"] / 1e3), gflop / (gemm["sgemm"] / 1e3)
print(f"1x1 conv N 64, 96 -> 576, 14x14: ours {conv_gf:.0f} GFLOP/s, OpenBLAS sgemm {blas_gf:.0f} GFLOP/s: {100 * conv_gf / blas_gf:.0f}%")
print(json.dumps({"space": space, "batch": int(batch), "threads": int(threads), "gemm_efficiency": round(conv_gf / blas_gf, 3),
                  "full_ratio": ratios["full"], "bnonly_ratio": ratios["bnonly"], "eval_ratio": ratios["eval"]}))
PY
