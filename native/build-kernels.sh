#!/usr/bin/env bash
# build-kernels.sh TARGET_DIR CLASSES_DIR CLASSPATH: run by Maven after javac. Builds our CUDA
# kernels into libbnnas_kernels.so with CMake and nvcc, then has JavaCPP generate and compile the
# JNI glue of org.bnnas.cuda.KernelLib, and puts both where JavaCPP's Loader looks for them.
# Without nvcc (or with BNNAS_SKIP_KERNELS set to the reason, as bin/bnnas does on a machine without
# a GPU) it says so and does nothing: the CUDA backend then reports itself unavailable.
set -euo pipefail
target=$1 classes=$2 classpath=$3
here=$(cd "$(dirname "$0")" && pwd)
platform=linux-x86_64
out=$classes/org/bnnas/cuda/$platform

if [[ -n ${BNNAS_SKIP_KERNELS:-} ]]; then
    echo "[native] CUDA kernels not built: $BNNAS_SKIP_KERNELS; the CUDA backend will report itself unavailable"
    exit 0
fi
if ! nvcc=$(command -v nvcc); then
    echo "[native] nvcc not found on PATH: the CUDA kernels are not built; the CUDA backend will report itself unavailable"
    exit 0
fi
if ! command -v cmake >/dev/null; then
    echo "[native] nvcc is here but cmake is not: install cmake (apt-get install -y cmake) to build the CUDA kernels" >&2
    exit 1
fi

# Rebuild only when a kernel source, the CMake file, the binding or this script changed.
stamp=$target/cmake/.built
if [[ -f $stamp && -f $out/libjniKernelLib.so ]] &&
   [[ -z $(find "$here/src/main/cuda" "$here/../cmake" "$here/build-kernels.sh" "$classes/org/bnnas/cuda/KernelLib.class" -newer "$stamp" -print -quit) ]]; then
    echo "[native] CUDA kernels up to date"
    exit 0
fi

jobs=$(nproc 2>/dev/null || echo 2)
echo "[native] building the CUDA kernels with $nvcc"
cmake -S "$here/../cmake" -B "$target/cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" \
      -DBNNAS_KERNELS_OUT="$target/kernels" > "$target/cmake-configure.log" 2>&1 ||
    { cat "$target/cmake-configure.log" >&2; exit 1; }
cmake --build "$target/cmake" -j "$jobs"

echo "[native] generating the JNI binding of org.bnnas.cuda.KernelLib"
java -cp "$classpath:$classes" org.bytedeco.javacpp.tools.Builder \
     -d "$out" -copylibs \
     -Dplatform.includepath="$here/src/main/cuda" -Dplatform.linkpath="$target/kernels" \
     org.bnnas.cuda.KernelLib
touch "$stamp"
