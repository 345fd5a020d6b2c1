#!/usr/bin/env bash
# gpu-bundle.sh: run here (no GPU needed; nvcc must be on PATH). Builds the project and packs into
# gpu-bundle/ (git-ignored) everything scripts/gpu-check.sh needs on a GPU machine that has no
# network and no Java: the benchmarks jar (engine, CUDA backend with its kernel library, bnnas,
# every dependency), the CUDA tests and the engine's op tests, JUnit's console launcher and a
# small Java runtime, and the project's PyTorch peer with the official network it builds and the
# spaces, laid out as in the repository. On the GPU machine:
#   scripts/gpu-check.sh gpu-bundle
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || { echo "gpu-bundle.sh: nvcc is not on PATH: the kernel library would be missing from the bundle" >&2; exit 2; }

echo "building (mvn -DskipTests package)..."
mvn -B -q -DskipTests package
out=gpu-bundle
rm -rf "$out"
mkdir -p "$out"
unzip -l benchmarks/target/benchmarks.jar org/bnnas/cuda/linux-x86_64/libbnnas_kernels.so >/dev/null ||
    { echo "gpu-bundle.sh: the kernel library is not in benchmarks.jar" >&2; exit 1; }
cp benchmarks/target/benchmarks.jar "$out/"
cp java-engine/target/java-engine-*-tests.jar "$out/engine-tests.jar"
jar cf "$out/native-tests.jar" -C native/target/test-classes .
junit=$(sed -n 's:.*<junit-platform.version>\(.*\)</junit-platform.version>.*:\1:p' pom.xml)
mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit" -DoutputDirectory="$out" -Dmdep.stripVersion=true
# The PyTorch peer, the official network it imports and the spaces, at their repository paths.
mkdir -p "$out/benchmarks" "$out/bnnas/src/test/python" "$out/bnnas/src/main/resources/spaces"
cp benchmarks/pytorch_peer.py "$out/benchmarks/"
cp bnnas/src/test/python/official_net.py "$out/bnnas/src/test/python/"
cp bnnas/src/main/resources/spaces/*.json "$out/bnnas/src/main/resources/spaces/"
jre=$(mktemp -d)
jlink --add-modules java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.incubator.vector \
      --strip-debug --no-man-pages --no-header-files --compress=2 --output "$jre/jre" 2>/dev/null
tar -C "$jre" -cJf "$out/jre.tar.xz" jre
rm -rf "$jre"
du -sh "$out"/*
du -sh "$out"
