#!/usr/bin/env bash
# testbed-pilot.sh: the pilot that chose the testbed of the second ranking study. The same 12
# architectures (the first 12 of bnnas-28's ground-truth plan: bnnas bench --space bnnas-28
# --archs 60 --second-seeds 30 --near-limit 20, seed 0) with training seeds 0 and 1, in three
# designs: bnnas-28 for 4 and for 12 epochs, bnnas-small for 12 epochs (bnnas-small at 4 epochs
# is the first study's table, whose first 12 architectures also have two seeds). Each design's
# rows go to a table of its own; `bnnas rank --reliability` reads them. Two lanes of one thread
# each (two one-thread runs train 1.4x as many rows an hour as one two-thread run here; results
# do not depend on the thread count). Rerun to continue: bench skips the rows a table holds.
#   scripts/testbed-pilot.sh [OUT_DIR]     (default docs/ground-truth/pilot; BNNAS=launcher)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BNNAS="${BNNAS:-$ROOT/bin/bnnas}"
OUT="$(mkdir -p "${1:-$ROOT/docs/ground-truth/pilot}" && cd "${1:-$ROOT/docs/ground-truth/pilot}" && pwd)"
ARCHS=(
  4,-1,0,1,0,-1,-1,0,2,-1,2,2,2,4,3,0,1,2,1,1,4
  2,-1,0,4,0,-1,-1,0,3,-1,4,3,1,4,1,0,0,0,0,0,0
  5,-1,0,0,0,-1,-1,1,3,-1,4,1,0,0,2,1,2,1,0,4,2
  2,-1,1,1,1,-1,-1,2,0,-1,4,3,2,1,0,0,0,1,0,4,0
  4,-1,2,4,5,-1,-1,4,1,-1,0,3,0,3,4,3,0,2,0,4,2
  1,-1,0,2,1,-1,-1,4,3,-1,2,4,5,4,2,5,5,3,2,0,4
  0,-1,0,1,3,-1,-1,2,2,-1,0,0,3,5,0,4,0,4,2,0,2
  3,-1,0,3,2,-1,-1,3,3,-1,2,4,5,1,0,5,1,1,2,3,4
  3,-1,3,5,4,-1,-1,5,4,-1,3,3,4,1,0,3,0,4,4,5,2
  0,-1,0,0,4,-1,-1,0,2,-1,3,2,4,2,5,4,1,0,0,3,4
  5,-1,0,2,5,-1,-1,3,3,-1,2,0,0,5,2,5,3,3,4,1,5
  5,-1,4,0,3,-1,-1,5,5,-1,3,3,0,3,3,2,3,3,5,3,1
)
arch_args=()
for a in "${ARCHS[@]}"; do arch_args+=("--arch=$a"); done

design() { # SPACE EPOCHS
  "$BNNAS" bench --space "$1" --epochs "$2" --table "$OUT/$1-e$2.jsonl" "${arch_args[@]}" --seeds 0,1 --threads 1 \
      --out "$OUT/runs/bench-$1-e$2-$(date +%Y%m%d-%H%M%S)"
}
{ design bnnas-28 4; design bnnas-small 12; } > "$OUT/lane-1.log" 2>&1 &
design bnnas-28 12 > "$OUT/lane-2.log" 2>&1 &
wait
