#!/bin/sh
# run_emulated.sh: builds kernels_check against the kernels compiled for the CPU (emulation/,
# one OS thread per CUDA thread) and runs it: a check of the kernels' indexing, reductions and
# NULL handling on a machine without a GPU. Needs g++ with C++20 and python3.
#   native/src/test/cuda/run_emulated.sh [build-dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../main/cuda"
out=${1:-/tmp/bnnas-kernels-emulated}
mkdir -p "$out/src"
cp "$src"/*.h "$src"/*.cuh "$out/src/"
# kernel<<<grid, block, shared, stream>>>(args) -> emu::launch(emu::Cfg(grid, block, shared, stream), kernel, args)
for f in "$src"/*.cu; do
  python3 - "$f" "$out/src/$(basename "$f" .cu).cpp" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'([A-Za-z_]\w*(?:<[^<>;]*>)?)<<<(.*?)>>>\(', r'emu::launch(emu::Cfg(\2), \1, ', text)
open(sys.argv[2], 'w').write(text)
EOF
done
# -ffp-contract=off: nvcc's --fmad=false
${CXX:-g++} -std=c++20 -O1 -pthread -ffp-contract=off -w -I"$here/emulation" -I"$out/src" \
  "$out"/src/*.cpp "$here/kernels_check.cpp" -o "$out/kernels_check"
"$out/kernels_check"
