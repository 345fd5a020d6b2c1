#!/usr/bin/env bash
# How the JVM's heap limit and collector change `bnnas run`'s resident memory and its time: the same
# short run (1 supernet epoch, 1 retraining epoch, the default data and space) under each setting,
# in turns, twice, each in a fresh JVM; per setting its peak resident memory (/usr/bin/time), wall
# time, the collector's pauses summed (-Xlog:gc), the most heap in use right after a collection
# (what the run really keeps), and the run's test top-1 (the same for every setting: results do
# not depend on the heap). The choice in bin/bnnas comes from this table.
#
# Usage: [ROUNDS=2] benchmarks/jvm-memory.sh [SETTING ...]   (default: the settings below; a setting is the
#        JVM options, quoted as one argument, e.g. "-XX:+UseSerialGC -Xmx512m")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jar="$root/bnnas/target/bnnas.jar"
[ -f "$jar" ] || "$root/bin/bnnas" --version >/dev/null
if [ $# -gt 0 ]; then settings=("$@"); else
  settings=("-XX:+UseParallelGC" "-XX:+UseParallelGC -Xmx1g" "-XX:+UseParallelGC -Xmx512m" "-XX:+UseParallelGC -Xmx384m"
            "-XX:+UseSerialGC -Xmx512m" "-XX:+UseG1GC -Xmx512m")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results="$work/results.tsv"
for round in $(seq 1 "${ROUNDS:-2}"); do
  for i in "${!settings[@]}"; do
    s=${settings[$i]}
    echo "== round $round: $s" >&2
    # shellcheck disable=SC2086  # a setting is several JVM options
    /usr/bin/time -v -o "$work/time" java --add-modules jdk.incubator.vector $s -Xlog:gc:file="$work/gc.log" -jar "$jar" \
        run --supernet-epochs 1 --retrain-epochs 1 --out "$work/run-$round-$i" > "$work/out" 2> "$work/err" \
      || { echo "jvm-memory.sh: the run with '$s' failed:" >&2; tail -3 "$work/err" >&2; continue; }
    python3 - "$work" "$s" >> "$results" <<'PY'
import re, sys
work, setting = sys.argv[1:]
time = open(f"{work}/time").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time).group(1)) / 1024
m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", time)
wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
pauses, kept = 0.0, 0
unit = {"K": 1 / 1024, "M": 1, "G": 1024}
for line in open(f"{work}/gc.log"):
    g = re.search(r"(\d+)([KMG])->(\d+)([KMG])\(\d+[KMG]\) ([\d.]+)ms", line)
    if g:
        pauses += float(g.group(5))
        kept = max(kept, int(g.group(3)) * unit[g.group(4)])
top1 = re.findall(r"test top-1: (0\.\d+)", open(f"{work}/out").read())
print("\t".join([setting, f"{wall:.1f}", f"{rss:.0f}", f"{pauses / 1000:.2f}", f"{kept:.0f}", top1[-1] if top1 else "?"]))
PY
  done
done
python3 - "$results" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
print("bnnas run --supernet-epochs 1 --retrain-epochs 1, each setting twice in turns; MiB and seconds")
print(f"| {'JVM options':<30} | {'wall (s)':>17} | {'peak resident':>17} | {'GC pauses (s)':>17} | {'most heap kept':>14} | {'test top-1':>10} |")
print(f"|{'-'*32}|{'-'*19}|{'-'*19}|{'-'*19}|{'-'*16}|{'-'*12}|")
for s in dict.fromkeys(r[0] for r in rows):
    rs = [r for r in rows if r[0] == s]
    col = lambda k: " / ".join(r[k] for r in rs)
    print(f"| {s:<30} | {col(1):>17} | {col(2):>17} | {col(3):>17} | {max(float(r[4]) for r in rs):>14.0f} | {col(5):>10} |")
PY
