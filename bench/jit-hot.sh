#!/usr/bin/env bash
# Where the cycles go inside one C2-compiled method: runs a java command under `perf record`
# with C2's code of METHOD printed, then lays the sample counts over that code.
#   bench/jit-hot.sh dev.ferry.moe.kernel.IntDot::kScales JAVA [JVM AND PROGRAM ARGS...]
# e.g. bench/jit-hot.sh dev.ferry.moe.kernel.IntDot::dotQ6K "$JAVA_HOME/bin/java" \
#        --add-modules jdk.incubator.vector -XX:-TieredCompilation -cp ferry.jar:probe Probe ...
# Prints the method's share of all samples and its instructions from the first to the last one
# holding more than MIN_SHARE (default 0.3%) of the method's samples, each with its count. AMD
# and Intel count a stalled instruction's cycles on one of the next few, so read a hot
# instruction as "the load just before me waited". Needs perf with hardware counters and
# objdump; the last non-OSR compile of METHOD is the one shown.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi
method=$1
java=$2
shift 2
command -v perf >/dev/null || { echo "jit-hot: perf is not installed" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! perf record -q -e cycles -o "$work/perf.data" -- "$java" -XX:+UnlockDiagnosticVMOptions \
    "-XX:CompileCommand=print,$method" "$@" >"$work/log.txt" 2>&1; then
  echo "jit-hot: the command or perf failed; its output:" >&2
  tail -20 "$work/log.txt" >&2
  exit 1
fi
n=$("$here/jit-disasm.py" "$work/log.txt" --list | grep -v " % " | tail -1 | awk '{print $1}')
[ -n "$n" ] || { echo "jit-hot: no C2 compile of $method in the run (did it run long enough?)" >&2; exit 1; }
"$here/jit-disasm.py" "$work/log.txt" "$n" >"$work/code.asm"
perf script -i "$work/perf.data" -F ip 2>/dev/null | sort | uniq -c >"$work/ips.txt"
MIN_SHARE="${MIN_SHARE:-0.003}" python3 - "$work/ips.txt" "$work/code.asm" <<'PY'
import os
import sys

samples = {}
for line in open(sys.argv[1]):
    count, ip = line.split()
    samples[int(ip, 16)] = int(count)
code = []
for line in open(sys.argv[2]):
    head, _, rest = line.strip().partition(":")
    try:
        address = int(head, 16)
    except ValueError:
        continue
    code.append((samples.get(address, 0), rest.split("\t")[-1].strip()))
inside = sum(c for c, _ in code)
total = sum(samples.values())
print(f"{inside} of {total} samples ({100.0 * inside / max(total, 1):.1f}%) in the method")
floor = float(os.environ["MIN_SHARE"]) * inside
hot = [i for i, (c, _) in enumerate(code) if c > floor]
if hot:
    for c, text in code[max(0, hot[0] - 2):hot[-1] + 3]:
        print(f"{c:7d}  {text}")
PY
