#!/usr/bin/env bash
# A/B timing of MatMul from two or more ferry jars in one JVM (separate class loaders, jars
# alternated every round): on a shared, noisy machine this compares like with like where
# back-to-back runs do not.
#   bench/kernel-ab.sh OLD.jar,NEW.jar Q4_K [TOKENS ROWS COLS THREADS ROUNDS SECONDS]
# Runs with the JIT flags bin/ferry uses (no tiered compilation, so C2 code from the start).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [ $# -lt 2 ]; then
  sed -n '2,6p' "$0" >&2
  exit 2
fi
if ! "$java" -XshowSettings:properties -version 2>&1 | grep -q 'java.specification.version = 2[5-9]'; then
  echo "kernel-ab: $java is not a JDK 25 or newer; set JAVA_HOME to one" >&2
  exit 2
fi
first="${1%%,*}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"${java}c" -d "$out" --release 25 --add-modules jdk.incubator.vector -cp "$first" \
  "$root/bench/ab/KernelTiming.java" "$root/bench/ab/KernelAB.java" 2>&1 | grep -v "incubat\|^1 warning" || true
"$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:-TieredCompilation \
  -XX:LoopUnrollLimit="${UNROLL:-30}" -cp "$out" KernelAB "$out" "$@" 2>&1 | grep -v "Using incubator"
