#!/usr/bin/env bash
# Images per second through the training input pipeline of an image folder, ours (BatchLoader over
# ImageFolder: LoaderThroughput) against torchvision's ImageFolder and DataLoader (loader_peer.py),
# with the same transforms, batch and number of workers, on a generated ImageNet-like set
# (make_jpegs.py: 5,000 JPEGs of about 400x350). Each side runs at each worker count from 1 to
# the number of cores, twice, in turns, its faster run counting, timing 60 batches of 64 after 16
# batches of warm-up (our JIT needs about a thousand images to reach its steady speed); then the table, and what a
# bnnas-imagenet training step would need to be fed (the batch over the step's time, from
# `--step-ms`, a measured step at batch 64, where one is known).
#
# Usage: benchmarks/loader-throughput.sh [--step-ms MS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
step_ms=""
[ "${1:-}" = --step-ms ] && step_ms=${2:?--step-ms needs milliseconds}
/usr/bin/python3 -c 'import torchvision' 2>/dev/null || { echo "loader-throughput.sh: needs Debian's torchvision: apt-get install -y python3-torchvision" >&2; exit 2; }
jar="$root/benchmarks/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root" -name '*.java' -path '*/src/main/*' -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -q -B install -DskipTests) >&2
fi
data=${LOADER_DATA:-/tmp/bnnas-loader-jpegs-5000}
[ -d "$data/train" ] || /usr/bin/python3 "$root/benchmarks/make_jpegs.py" "$data" 10 500
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for workers in $(seq 1 "$(nproc)"); do
  for round in 1 2; do
    java --add-modules jdk.incubator.vector -XX:+UseParallelGC -cp "$jar" org.bnnas.bench.LoaderThroughput "$data" "$workers" 64 60 16 | tail -1 >> "$results"
    /usr/bin/python3 "$root/benchmarks/loader_peer.py" "$data" "$workers" 64 60 16 | tail -1 >> "$results"
  done
done
/usr/bin/python3 - "$results" "$step_ms" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
best = {}
for r in rows:
    key = (r["side"], r["workers"])
    best[key] = max(best.get(key, 0), r["images_per_second"])
print("| workers | bnnas images/s | torchvision images/s | ours / theirs |")
print("| --- | --- | --- | --- |")
for w in sorted({r["workers"] for r in rows}):
    ours, theirs = best[("bnnas", w)], best[("torchvision", w)]
    print("| %d | %.1f | %.1f | %.2f |" % (w, ours, theirs, ours / theirs))
if sys.argv[2]:
    print("a bnnas-imagenet step of %s ms at batch 64 needs %.0f images/s" % (sys.argv[2], 64 / (float(sys.argv[2]) / 1000)))
print(json.dumps({"runs": rows}))
PY
