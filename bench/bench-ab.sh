#!/usr/bin/env bash
# bench/bench-ab.sh OLD.jar NEW.jar [MODEL.gguf]: end-to-end `ferry bench` of two jars, CPU only,
# alternated ROUNDS times in one sitting, so both see the same machine state. Made for a machine
# without Maven (the GPU host): java is $JAVA, else ./jdk/bin/java, else the jlink image
# cli/target/ferry-jdk.tar.xz unpacked into a temp dir (scripts/prepare-gpu-check builds it).
# Without MODEL a synthetic Qwen3-30B-A3B-shaped model is generated (LAYERS, default 6; Q4_K_M).
# Environment: THREADS (default "2"), PP (128), TG (32), REPS (3), ROUNDS (2); NO_MMAP=1 copies the
# weights into anonymous memory (--no-mmap) instead of reading the file mapping as users do by default.
# Prints one table row per jar, round, thread count and test, prefixed "old"/"new" and the round;
# the jar that runs first alternates between rounds. Exit code 1 when a bench run failed.
set -uo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bench/bench-ab.sh OLD.jar NEW.jar [MODEL.gguf]" >&2
  exit 2
fi
old=$1 new=$2
for j in "$old" "$new"; do
  [ -f "$j" ] || { echo "bench-ab: $j is missing" >&2; exit 2; }
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
. "$here/scripts/java-image.sh"
java=${JAVA:-$(java_image "$here" "$scratch")} \
  || { echo "bench-ab: no java: set JAVA, or build ./jdk with scripts/prepare-gpu-check" >&2; exit 2; }
java_ok "$java" || { echo "bench-ab: $java is not a Java 25 or newer" >&2; exit 2; }
jvm=("$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -XX:+UseParallelGC
  -XX:LoopUnrollLimit=30)
model=${3:-}
if [ -z "$model" ]; then
  model="$scratch/synth.gguf"
  "${jvm[@]}" -cp "$new" dev.ferry.cli.Main synth --preset qwen3-30b-a3b --layers "${LAYERS:-6}" --type Q4_K_M \
    -o "$model" > "$scratch/synth.log" 2>&1 || { echo "bench-ab: synth failed:" >&2; tail -3 "$scratch/synth.log" >&2; exit 1; }
fi
status=0
for round in $(seq 1 "${ROUNDS:-2}"); do
  order="old new"
  [ $((round % 2)) -eq 0 ] && order="new old"
  for v in $order; do
    jar=$new
    [ $v = old ] && jar=$old
    for t in ${THREADS:-2}; do
      "${jvm[@]}" -cp "$jar" dev.ferry.cli.Main bench -m "$model" -p "${PP:-128}" -n "${TG:-32}" -t "$t" -r "${REPS:-3}" \
        -ngl 0 ${NO_MMAP:+--no-mmap} > "$scratch/out.md" 2> "$scratch/err.log"
      if [ $? -ne 0 ]; then
        echo "$v round $round: bench failed:" >&2
        tail -3 "$scratch/err.log" >&2
        status=1
      fi
      # the data rows: every table row but the header and its separator
      grep -E '^\| ' "$scratch/out.md" | grep -v -E '^\| model \||^\| ---' | sed "s/^/$v round $round: /"
    done
  done
done
exit $status
