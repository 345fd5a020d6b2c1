#!/usr/bin/env bash
# gpu-check.sh BUNDLE: on a machine with an NVIDIA GPU and no network, runs the CUDA tests and the
# GPU benchmarks from a bundle made beforehand by scripts/gpu-bundle.sh on a machine without a
# GPU, and, where PyTorch with CUDA is installed, the same steps through the project's PyTorch
# peer (the bundle's benchmarks/pytorch_peer.py). Prints the table of ours against PyTorch last.
#
#   scripts/gpu-check.sh gpu-bundle
set -uo pipefail
bundle=${1:?usage: scripts/gpu-check.sh BUNDLE}
peer=$bundle/benchmarks/pytorch_peer.py
spaces=$bundle/bnnas/src/main/resources/spaces
work=$(mktemp -d)
status=0

# Java: the bundle's runtime (the one the bundle was tested with), else the machine's own 17 or newer.
if tar -C "$work" -xJf "$bundle/jre.tar.xz" 2>/dev/null \
    || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$bundle/jre.tar.xz" "$work" 2>/dev/null; then
    java=$work/jre/bin/java
elif command -v java >/dev/null && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then
    java=java
else
    echo "gpu-check: cannot unpack $bundle/jre.tar.xz (no xz, no python3) and no Java 17 or newer here"
    exit 2
fi
jvm=("$java" --add-modules jdk.incubator.vector -Xmx16g)

# The CUDA, cuDNN and cuBLAS libraries: wherever they are (a PyTorch installation's nvidia/*/lib
# folders first, as they were built together, then a CUDA toolkit and the system's folders),
# their folders go on the library path.
roots=()
if command -v python3 >/dev/null; then
    while read -r d; do [[ -n $d ]] && roots+=("$d"); done < <(python3 -c 'import site, sys; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
fi
roots+=(/usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu /usr/local/lib /opt)
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9; do
    found=$(find "${roots[@]}" -name "$lib" -print -quit 2>/dev/null)
    if [[ -n $found ]]; then
        dir=$(dirname "$found")
        case ":${LD_LIBRARY_PATH:-}:" in *":$dir:"*) ;; *) export LD_LIBRARY_PATH=$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ;; esac
        echo "gpu-check: $lib in $dir"
    else
        echo "gpu-check: $lib not found (searched ${roots[*]})"
    fi
done
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

# Time limits, so that a hung GPU or library cannot take the whole of a lent machine's time:
# together 9 minutes at most (the issue asks for the check to take 8 on an H100).
tests_limit=150 peer_limit=75 bench_limit=240

echo "== CUDA tests: every kernel against the CPU backend, the engine's op suite on the CUDA backend, no host waits in a step"
timeout -k 10 $tests_limit "${jvm[@]}" -jar "$bundle/junit-platform-console-standalone.jar" execute --disable-banner --disable-ansi-colors \
    --details=tree --fail-if-no-tests \
    --class-path "$bundle/benchmarks.jar:$bundle/engine-tests.jar:$bundle/native-tests.jar" \
    --select-class org.bnnas.cuda.CudaBackendTest --select-class org.bnnas.engine.ops.CudaOpsTest \
    --select-class org.bnnas.cuda.HostWaitTest || status=1

peerjson=$work/peer.jsonl
if [[ -f $peer ]] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "== PyTorch peer ($(python3 -c 'import torch; print(torch.__version__)'))"
    for config in "bnnas-imagenet 64" "bnnas-small 512"; do
        set -- $config
        PYTHONUNBUFFERED=1 timeout -k 5 $peer_limit python3 "$peer" --space "$spaces/$1.json" --device cuda --batch "$2" --steps 20 \
            --archs "$spaces/bench-archs.json" --modes full,bnonly,eval | tee -a "$peerjson" || status=1
    done
else
    echo "== PyTorch peer: skipped (no peer in the bundle, or no PyTorch with CUDA here)"
fi

echo "== GPU benchmarks (ours), then the table"
timeout -k 10 $bench_limit "${jvm[@]}" -Dbnnas.bench.budget-s=$((bench_limit - 40)) -cp "$bundle/benchmarks.jar" org.bnnas.bench.GpuStepBenchmark \
    "$peerjson" || status=1
rm -rf "$work"
echo "gpu-check: finished in $SECONDS s, $([[ $status == 0 ]] && echo "all passed" || echo "SOMETHING FAILED (above)")"
exit $status
