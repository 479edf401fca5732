#!/usr/bin/env bash
# A/B timing of MatMul from two or more ferry jars in one JVM (separate class loaders, jars
# alternated every round): on a shared, noisy machine this compares like with like where
# back-to-back runs do not.
#   bench/kernel-ab.sh OLD.jar,NEW.jar Q4_K [TOKENS ROWS COLS THREADS ROUNDS SECONDS]
# (a JAR may be a class path, PATCH.jar:ferry.jar: ferry.jar with the classes in PATCH.jar replaced)
# Runs with the JIT flags bin/ferry uses (no tiered compilation, so C2 code from the start).
# java is $JAVA, else $JAVA_HOME/bin/java, else ./jdk/bin/java, else the jlink image
# cli/target/ferry-jdk.tar.xz unpacked into a temp dir. The harness (bench/ab) is compiled with
# that JDK's javac; a jlink image has none, so there it uses cli/target/kernel-ab.jar, which
# scripts/prepare-gpu-check builds (carry it to the GPU machine with the other two files).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 2 ]; then
  sed -n '2,6p' "$0" >&2
  exit 2
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
. "$root/scripts/java-image.sh"
java="$(bench_java "$root" "$out")" || { echo "kernel-ab: no java: set JAVA or JAVA_HOME to a JDK 25" >&2; exit 2; }
java_ok "$java" || { echo "kernel-ab: $java is not a JDK 25 or newer; set JAVA_HOME to one" >&2; exit 2; }
first="${1%%,*}"
if [ -x "${java}c" ]; then
  harness="$out/classes"
  "${java}c" -d "$harness" --release 25 --add-modules jdk.incubator.vector -cp "$first" \
    "$root/bench/ab/KernelTiming.java" "$root/bench/ab/KernelAB.java" 2>&1 | grep -v "incubat\|^1 warning" || true
elif [ -f "$root/cli/target/kernel-ab.jar" ]; then
  harness="$root/cli/target/kernel-ab.jar"
else
  echo "kernel-ab: $java has no javac and cli/target/kernel-ab.jar is missing (scripts/prepare-gpu-check builds it)" >&2
  exit 2
fi
"$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:-TieredCompilation \
  -XX:LoopUnrollLimit="${UNROLL:-30}" -cp "$harness" KernelAB "$harness" "$@" 2>&1 | grep -v "Using incubator"
