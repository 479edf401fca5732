# Sourced by scripts/gpu-check, bench/bench-ab.sh and bench/kernel-ab.sh: where a JDK 25 is found
# on a machine that may only have the jlink image scripts/prepare-gpu-check builds.

# java_image ROOT SCRATCH: prints ROOT/jdk/bin/java, else unpacks ROOT/cli/target/ferry-jdk.tar.xz
# into SCRATCH and prints SCRATCH/jdk/bin/java; status 1 when there is neither (or unpacking fails).
java_image() {
  if [ -x "$1/jdk/bin/java" ]; then
    echo "$1/jdk/bin/java"
  elif [ -f "$1/cli/target/ferry-jdk.tar.xz" ]; then
    xz -dc "$1/cli/target/ferry-jdk.tar.xz" | tar -C "$2" -xf - && echo "$2/jdk/bin/java"
  else
    return 1
  fi
}

# java_ok JAVA: true when JAVA runs and is Java 25 or newer.
java_ok() {
  "$1" -XshowSettings:properties -version 2>&1 | grep -q 'java.specification.version = 2[5-9]'
}

# bench_java ROOT SCRATCH: the java the bench scripts run: $JAVA, else $JAVA_HOME/bin/java, else the
# jlink image (java_image); status 1 when there is none.
bench_java() {
  if [ -n "${JAVA:-}" ]; then
    echo "$JAVA"
  elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    echo "$JAVA_HOME/bin/java"
  else
    java_image "$1" "$2"
  fi
}
