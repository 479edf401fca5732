#!/usr/bin/env bash
# Short JMH run of the CPU kernel benchmarks plus the streaming-read ceiling, then a table.
#   bench/run-kernels.sh            matvec (1 token) for every type/shape/thread count, 64-token
#                                   matmul for every type at 2 threads on two shapes (~8 minutes)
#   FULL=1 bench/run-kernels.sh     every type x shape x threads x tokens (~15 minutes)
# Builds bench/target${SUFFIX}/benchmarks.jar first when it is missing (SUFFIX=-name for a
# private build folder; JAR=path runs a given benchmarks jar, e.g. a saved baseline). JMH_TIMING replaces the iteration options; extra arguments go to JMH
# (e.g. -p type=Q4_K to run one type; for thread counts set THREADS=2, which every run gets: a -p
# the script sets itself would run twice); UNROLL=60 runs the forks with C2's default loop unrolling.
# On the GPU host (no Maven, no javac): JAR=cli/target/kernel-bench.jar FERRY_JAR=cli/target/ferry.jar,
# the two jars scripts/prepare-gpu-check builds; java is $JAVA, $JAVA_HOME/bin/java or the jlink image.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
suffix="${SUFFIX:-}"
jar="${JAR:-$root/bench/target$suffix/benchmarks.jar}"
if [[ ! -f "$jar" ]]; then
  (cd "$root" && mvn -B -q -o -pl bench -am package -Dmaven.test.skip=true -Dferry.build.suffix="$suffix")
fi
out="$(mktemp -d)"
. "$root/scripts/java-image.sh"
java="$(bench_java "$root" "$out")" || { echo "run-kernels: no java: set JAVA or JAVA_HOME to a JDK 25" >&2; exit 2; }
# the slim jar holds only JMH and the benchmarks: ferry comes from FERRY_JAR
if [[ -n "${FERRY_JAR:-}" ]]; then
  launch=(-cp "$jar:$FERRY_JAR" org.openjdk.jmh.Main)
else
  launch=(-jar "$jar")
fi
read -r -a timing <<<"${JMH_TIMING:--f 1 -wi 2 -i 3 -w 1s -r 1s}"
# Without tiered compilation the vector kernels reach C2 code in about a second instead of
# spending several in slow profiled C1 code, so short warm-ups suffice. UNROLL is C2's
# LoopUnrollLimit: 30 as bin/ferry runs it, 60 is the JVM's default (for before/after runs).
common=("${timing[@]}" -jvmArgsAppend "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:-TieredCompilation -XX:LoopUnrollLimit=${UNROLL:-30}")
run() { # name, result file, jmh args...
  local name="$1" file="$2"; shift 2
  echo "== $name" >&2
  "$java" --add-modules jdk.incubator.vector "${launch[@]}" "$@" "${common[@]}" -rf csv -rff "$out/$file" "${EXTRA[@]}" >"$out/$file.log" 2>&1 \
    || { tail -30 "$out/$file.log" >&2; exit 1; }
}
EXTRA=("$@")
run "stream ceiling" stream.csv 'StreamBench' ${THREADS:+-p threads=$THREADS}
if [[ -n "${FULL:-}" ]]; then
  run "kernels (full)" kernels.csv 'KernelBench'
else
  run "matvec, 1 token" matvec.csv 'KernelBench' -p tokens=1 ${THREADS:+-p threads=$THREADS}
  run "matmul, 64 tokens" matmul.csv 'KernelBench' -p tokens=64 -p threads="${THREADS:-2}" -p shape=768x2048,2048x7168
fi
run "stream ceiling (again, after the kernels)" stream2.csv 'StreamBench' ${THREADS:+-p threads=$THREADS}

cat "$out"/*.csv | awk -F, '
function unq(s) { gsub(/"/, "", s); return s }
function rowbytes(t, c) {
  if (t == "F32") return 4 * c; if (t == "F16" || t == "BF16") return 2 * c;
  if (t == "Q8_0") return c / 32 * 34; if (t == "Q4_0" || t == "IQ4_NL") return c / 32 * 18;
  if (t == "Q4_1") return c / 32 * 20; if (t == "Q5_0") return c / 32 * 22; if (t == "Q5_1") return c / 32 * 24;
  if (t == "MXFP4") return c / 32 * 17; if (t == "Q2_K") return c / 256 * 84; if (t == "Q3_K") return c / 256 * 110;
  if (t == "Q4_K") return c / 256 * 144; if (t == "Q5_K") return c / 256 * 176; if (t == "Q6_K") return c / 256 * 210;
  if (t == "IQ4_XS") return c / 256 * 136; return -1 }
{ sub(/\r$/, "") }
/^"Benchmark"/ { for (i = 1; i <= NF; i++) col[unq($i)] = i; next }
{
  name = unq($col["Benchmark"]); score = unq($col["Score"]) + 0; thr = unq($col["Param: threads"])
  if (name ~ /StreamBench/) {
    gbs = score * 1073741824 / 1e9
    if (gbs > ceil[thr]) ceil[thr] = gbs
    stream[thr] = stream[thr] sprintf(" %.1f", gbs)
    next
  }
  n++; t[n] = unq($col["Param: type"]); s[n] = unq($col["Param: shape"]); th[n] = thr
  tok[n] = unq($col["Param: tokens"]); sc[n] = score
}
END {
  printf "streaming-read ceiling (vector float sum over 1 GiB): 1 thread %.1f GB/s, 2 threads %.1f GB/s (runs:%s /%s)\n\n", ceil[1], ceil[2], stream[1], stream[2]
  printf "| type | rows x cols | threads | tokens | calls/s | us/token | weight GB/s | of ceiling | GFLOP/s |\n"
  printf "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
  for (i = 1; i <= n; i++) {
    split(s[i], rc, "x"); rows = rc[1]; cols = rc[2]
    gbs = sc[i] * rows * rowbytes(t[i], cols) / 1e9
    gflops = sc[i] * 2 * rows * cols * tok[i] / 1e9
    printf "| %s | %s | %s | %s | %.0f | %.1f | %.2f | %.0f%% | %.1f |\n", t[i], s[i], th[i], tok[i], sc[i], 1e6 / sc[i] / tok[i], gbs, 100 * gbs / ceil[th[i]], gflops
  }
}'
echo
echo "(raw JMH output: $out)"
