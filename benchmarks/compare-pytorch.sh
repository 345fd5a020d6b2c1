#!/usr/bin/env bash
# Runs our JMH benchmarks and two peers on this machine, each at its best: Debian's PyTorch
# (benchmarks/pytorch_peer.py: the same networks, paths, batch, threads and timing rules) and
# libtorch 2.10 in our own JVM under the same JMH rules (LibtorchStepBenchmark, on the official
# network exported as TorchScript by pytorch_peer.py --export-torchscript, its eval logits checked
# against ours at setup). Prints every run, a table of the supernet's full step, BN-only step and
# eval forward, the standalone network's training step and (bnnas-small) the SPOS evaluation of one
# subnet, ours against the faster peer of each row (libtorch has no SPOS evaluation: that row is
# against PyTorch); then the memory of a BN-only step, a full step and an evaluation (bnnas-imagenet
# at batch 64, bnnas-small at 128), ours and PyTorch's, each in a fresh process; and one JSON line
# of the ratios (ours / the faster peer, and ours / each peer; below 1 means we are faster or
# smaller).
#
# Usage: benchmarks/compare-pytorch.sh [bnnas-small|bnnas-imagenet]      (default bnnas-small)
# Env:   JMH_ARGS    extra JMH options (e.g. "-wi 1 -i 1 -w 1 -r 1" to check that it runs: with one
#                    second of warm-up the JIT has not finished and our figures mean nothing)
#        PEER_STEPS  timed steps per figure of the peer, rounded up to whole cycles of the 8 paths (default 24)
#        LIBTORCH_CONFIGS  the libtorch settings to try (default all): default (libtorch as it comes),
#                    noopt (graph executor optimisation off), legacy (the legacy executor),
#                    channelslast (channels-last weights and input); eval only: freeze (torch::jit::freeze),
#                    optimize (optimize_for_inference), inferencemode (c10::InferenceMode for no-grad)
#
# "At its best": each side runs with the machine's OpenBLAS variables (OPENBLAS_CORETYPE,
# OPENBLAS_L2_SIZE, as this shell has them) and with them unset, since Debian's PyTorch is fastest
# with the first on this machine kind and our OpenBLAS with the second. The peer runs both ways
# before ours and both ways after, and for each side and step the fastest run counts: a machine
# that slows down during the comparison cannot make us look better than we are. libtorch runs
# after ours, each of its settings (one changed at a time from libtorch as it comes) with the
# variables and without; its fastest run counts.
set -euo pipefail
space=${1:-bnnas-small}
case "$space" in
  bnnas-small) batch=128; memory_batch=128; spos=1 ;;
  bnnas-imagenet) batch=16; memory_batch=64; spos=0 ;;
  *) echo "compare-pytorch.sh: unknown space '$space' (bnnas-small or bnnas-imagenet)" >&2; exit 2 ;;
esac
peer_steps=${PEER_STEPS:-24}
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
libtorch_version=$(sed -n 's:.*<pytorch.version>\(.*\)</pytorch.version>.*:\1:p' "$root/pom.xml")
libtorch_configs=${LIBTORCH_CONFIGS:-default noopt legacy channelslast freeze optimize inferencemode}
machine_env="OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-}"
java=(java --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx512m)  # as bin/bnnas runs
peer=(/usr/bin/python3 "$root/benchmarks/pytorch_peer.py" --space "$spaces/$space.json" --archs "$spaces/bench-archs.json" --threads "$threads")

with_setting() { # $1: machine|unset, then the command
  local setting=$1; shift
  if [ "$setting" = unset ]; then env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; else "$@"; fi
}
run_peer() { # $1: output file, $2: machine|unset
  local extra=()
  [ "$spos" = 1 ] && extra=(--spos)
  with_setting "$2" "${peer[@]}" --batch "$batch" --steps "$peer_steps" "${extra[@]}" | tail -1 > "$1"
}
libtorch_params() { # $1: a libtorch config name: its JMH parameters, then the modes it applies to
  case "$1" in
    default) echo "|full,bnonly,eval,standalone" ;;
    noopt) echo "-p optimize=false|full,bnonly,eval,standalone" ;;
    legacy) echo "-p executor=legacy|full,bnonly,eval,standalone" ;;
    channelslast) echo "-p memoryFormat=channelsLast|full,bnonly,eval,standalone" ;;
    freeze) echo "-p inference=freeze|eval" ;;
    optimize) echo "-p inference=optimize|eval" ;;
    inferencemode) echo "-p inferenceMode=true|eval" ;;
    *) echo "compare-pytorch.sh: unknown libtorch config '$1' in LIBTORCH_CONFIGS" >&2; exit 2 ;;
  esac
}
for config in $libtorch_configs; do libtorch_params "$config" >/dev/null; done
run_libtorch() { # $1: output file, $2: machine|unset, $3: config
  local spec params modes
  spec=$(libtorch_params "$3"); params=${spec%|*}; modes=${spec#*|}
  # A failed libtorch run leaves its figures out (the summary names them) rather than ending the comparison.
  # shellcheck disable=SC2086 # params and JMH_ARGS are lists of words
  if ! with_setting "$2" "${java[@]}" -jar "$jar" LibtorchStepBenchmark -p space="$space" -p mode="$modes" -p torchscript="$out/torchscript" \
    $params -rf json -rff "$1" ${JMH_ARGS:-} >&2; then
    echo "compare-pytorch.sh: libtorch run $3 ($2) failed; see above" >&2
  fi
}
run_ours() { # $1: output file, $2: machine|unset
  with_setting "$2" "${java[@]}" -jar "$jar" SupernetStepBenchmark -p space="$space" -rf json -rff "$1" ${JMH_ARGS:-} >&2
  if [ "$spos" = 1 ]; then
    with_setting "$2" "${java[@]}" -jar "$jar" 'SubnetEvaluationBenchmark.sposAccuracy' -rf json -rff "${1%.json}-spos.json" ${JMH_ARGS:-} >&2
  fi
}
# The official network as TorchScript for libtorch, once (LibtorchStepBenchmark would export it into a
# temporary folder in every fork otherwise).
echo "== exporting the official network as TorchScript for libtorch (pytorch_peer.py --export-torchscript)" >&2
"${peer[@]}" --export-torchscript "$out/torchscript" >&2
for setting in machine unset; do
  echo "== PyTorch peer (before ours), OpenBLAS variables: $setting ($machine_env)" >&2
  run_peer "$out/peer-before-$setting.json" $setting
done
for setting in machine unset; do
  echo "== ours: JMH SupernetStepBenchmark$([ "$spos" = 1 ] && echo ' and SubnetEvaluationBenchmark.sposAccuracy'), $space, batch $batch, $threads threads, OpenBLAS variables: $setting" >&2
  run_ours "$out/ours-$setting.json" $setting
done
for setting in machine unset; do
  for config in $libtorch_configs; do
    echo "== libtorch $libtorch_version: JMH LibtorchStepBenchmark, $space, setting $config, OpenBLAS variables: $setting" >&2
    run_libtorch "$out/libtorch-$setting-$config.json" $setting "$config"
  done
done
echo "== ours: JMH PointwiseGemmBenchmark (1x1 conv N 64, 96 -> 576, 14x14 against OpenBLAS sgemm)" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${java[@]}" -jar "$jar" PointwiseGemmBenchmark -rf json -rff "$out/gemm.json" ${JMH_ARGS:-} >&2
for setting in machine unset; do
  echo "== PyTorch peer (after ours), OpenBLAS variables: $setting" >&2
  run_peer "$out/peer-after-$setting.json" $setting
done
# Memory does not depend on the OpenBLAS variables: one fresh process per side and step, two steps
# each (the first allocates what a steady loop keeps; the second shows it is kept, not grown).
for mode in bnonly full eval; do
  echo "== memory of a $mode step, $space, batch $memory_batch: ours, then PyTorch" >&2
  "${java[@]}" -cp "$jar" org.bnnas.bench.MemoryProbe "$space" "$memory_batch" "$mode" 2 | tail -1 > "$out/memory-ours-$mode.json"
  "${peer[@]}" --batch "$memory_batch" --warmup 1 --steps 1 --memory "$mode" | tail -1 > "$out/memory-peer-$mode.json"
done

python3 - "$out" "$space" "$batch" "$threads" "$machine_env" "$memory_batch" "$libtorch_version" "$libtorch_configs" <<'PY'
import json, os, sys
out, space, batch, threads, machine_env, memory_batch, libtorch_version, libtorch_configs = sys.argv[1:]
steps = [("full step (SPOS)", "full", "full_step_ms"), ("BN-only step (BN-NAS)", "bnonly", "bnonly_step_ms"), ("eval forward", "eval", "eval_fwd_ms"),
         ("standalone step", "standalone", "standalone_step_ms")]
ours = {}
for s in ("machine", "unset"):
    ours[s] = {r["params"]["mode"]: r["primaryMetric"] for r in json.load(open(f"{out}/ours-{s}.json"))}
    if os.path.exists(f"{out}/ours-{s}-spos.json"):
        ours[s]["spos"] = json.load(open(f"{out}/ours-{s}-spos.json"))[0]["primaryMetric"]
peers = {f"{when} {s}": json.load(open(f"{out}/peer-{when}-{s}.json")) for when in ("before", "after") for s in ("machine", "unset")}
# libtorch: every (config, OpenBLAS setting) run that produced a result; a fork whose setup failed
# (its logits differed from ours) leaves no result and does not count.
libtorch = {}
for config in libtorch_configs.split():
    for s in ("machine", "unset"):
        f = f"{out}/libtorch-{s}-{config}.json"
        if os.path.exists(f) and os.path.getsize(f) > 0:
            for r in json.load(open(f)):
                libtorch.setdefault(r["params"]["mode"], {})[(config, s)] = r["primaryMetric"]
if "spos" in ours["machine"]:
    steps.append(("SPOS eval of a subnet", "spos", "spos_eval_ms"))
print(f"{space}, batch {batch}, {threads} threads; the machine's OpenBLAS variables: {machine_env}")
print(f"ours: JMH mean +- 99.9% CI of iterations of whole cycles through the 8 paths, with the variables and without; "
      f"PyTorch {next(iter(peers.values()))['peer']}: median of the mean step of its cycles through them, with and without, before ours and after; "
      f"libtorch {libtorch_version} in our JVM: JMH as ours, each of its settings with the variables and without (below), its fastest shown; "
      "SPOS eval: the mean over the same five paths, ours and PyTorch. The fastest of each side counts; the ratio is against the faster peer.")
def cell(m):
    err = m.get("scoreError")
    return f"{m['score']:.1f}" + (f" +- {err:.1f}" if isinstance(err, (int, float)) and err == err else "")
print(f"| {'step (ms)':<22} | {'ours: machine':>17} | {'ours: unset':>17} | {'PyTorch: before machine / unset, after machine / unset':>56} "
      f"| {'libtorch: fastest (setting)':>40} | {'faster peer':>11} | {'ours / faster peer':>18} |")
print(f"|{'-'*24}|{'-'*19}|{'-'*19}|{'-'*58}|{'-'*42}|{'-'*13}|{'-'*20}|")
ratios, by_peer = {}, {}
for label, mode, key in steps:
    cells = [cell(ours[s][mode]) for s in ("machine", "unset")]
    best_ours = min(ours[s][mode]["score"] for s in ours)
    best_pytorch = min(p[key] for p in peers.values())
    runs = " / ".join(f"{peers[k][key]:.1f}" for k in ("before machine", "before unset", "after machine", "after unset"))
    lt = libtorch.get(mode, {})
    if lt:
        (lt_config, lt_setting), lt_best = min(lt.items(), key=lambda kv: kv[1]["score"])
        lt_cell = f"{cell(lt_best)} ({lt_config}, {lt_setting})"
    else:
        lt_best, lt_cell = None, "no run" if mode != "spos" else "n/a"
    candidates = [("PyTorch", best_pytorch)] + ([("libtorch", lt_best["score"])] if lt_best else [])
    faster, best_peer = min(candidates, key=lambda c: c[1])
    ratios[mode] = round(best_ours / best_peer, 3)
    by_peer[mode] = {"pytorch": round(best_ours / best_pytorch, 3), "faster_peer": faster.lower()}
    if lt_best:
        by_peer[mode]["libtorch"] = round(best_ours / lt_best["score"], 3)
        by_peer[mode]["libtorch_setting"] = f"{lt_config}, {lt_setting}"
    print(f"| {label:<22} | {cells[0]:>17} | {cells[1]:>17} | {runs:>56} | {lt_cell:>40} | {faster:>11} | {best_ours / best_peer:>18.2f} |")
if libtorch:
    modes = [m for _, m, _ in steps if m in libtorch]
    print()
    print(f"libtorch {libtorch_version}, every run: JMH mean +- 99.9% CI (ms), with the machine's OpenBLAS variables / without; settings one at a time from libtorch as it comes (see benchmarks/README.md)")
    print("| " + f"{'setting':<13}" + "".join(f" | {m + ': machine / unset':>32}" for m in modes) + " |")
    print("|" + "-" * 15 + "".join("|" + "-" * 34 for _ in modes) + "|")
    for config in libtorch_configs.split():
        row = []
        for m in modes:
            runs = [libtorch[m].get((config, s)) for s in ("machine", "unset")]
            row.append(" / ".join(cell(r) if r else "-" for r in runs) if any(runs) else "")
        print("| " + f"{config:<13}" + "".join(f" | {c:>32}" for c in row) + " |")
applies = lambda config, m: config in ("default", "noopt", "legacy", "channelslast") or m == "eval"
missing = [f"{config} {m} ({s})" for config in libtorch_configs.split() for m in ("full", "bnonly", "eval", "standalone") if applies(config, m)
           for s in ("machine", "unset") if (config, s) not in libtorch.get(m, {})]
if missing:
    print(f"libtorch runs without a result (their setup or run failed, e.g. logits that differ from ours; see the JMH output above): {', '.join(missing)}")
gemm = {r["benchmark"].rsplit(".", 1)[1]: r["primaryMetric"]["score"] for r in json.load(open(f"{out}/gemm.json"))}
gflop = 2 * 64 * 14 * 14 * 576 * 96 / 1e9
conv_gf, blas_gf = gflop / (gemm["conv1x1"] / 1e3), gflop / (gemm["sgemm"] / 1e3)
print(f"1x1 conv N 64, 96 -> 576, 14x14: ours {conv_gf:.0f} GFLOP/s, OpenBLAS sgemm {blas_gf:.0f} GFLOP/s: {100 * conv_gf / blas_gf:.0f}%")
print()
print(f"memory, {space} at batch {memory_batch}, two steps in a fresh process per side and step; MiB; resident before: the network built, no step run")
print(f"| {'step':<7} | {'ours: resident before':>21} | {'ours: peak resident':>19} | {'ours: tensors at once':>21} | {'ours: JVM heap':>14} | {'PyTorch: resident before':>24} | {'PyTorch: peak resident':>22} | {'peak, ours / PyTorch':>20} |")
print(f"|{'-'*9}|{'-'*23}|{'-'*21}|{'-'*23}|{'-'*16}|{'-'*26}|{'-'*24}|{'-'*22}|")
memory = {}
for mode in ("bnonly", "full", "eval"):
    o = json.load(open(f"{out}/memory-ours-{mode}.json"))
    p = json.load(open(f"{out}/memory-peer-{mode}.json"))
    memory[mode] = round(o["peak_rss_mb"] / p["peak_rss_mb"], 3)
    print(f"| {mode:<7} | {o['rss_before_mb']:>21.0f} | {o['peak_rss_mb']:>19.0f} | {o['peak_tensor_mb']:>21.0f} | {o['heap_committed_mb']:>14.0f} | {p['rss_before_mb']:>24.0f} | {p['peak_rss_mb']:>22.0f} | {memory[mode]:>20.2f} |")
line = {"space": space, "batch": int(batch), "threads": int(threads), "gemm_efficiency": round(conv_gf / blas_gf, 3), "libtorch": libtorch_version}
line.update({f"{m}_ratio": r for m, r in ratios.items()})
for m, d in by_peer.items():
    line.update({f"{m}_{k}_ratio" if k in ("pytorch", "libtorch") else f"{m}_{k}": v for k, v in d.items()})
line.update({f"{m}_peak_memory_ratio": r for m, r in memory.items()})
print(json.dumps(line))
PY
