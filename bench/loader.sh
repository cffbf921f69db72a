#!/usr/bin/env bash
# Loader throughput (decode + augment at 512 crops): builds the test classes and runs conta.bench.LoaderBench.
# usage: bench/loader.sh [DATA_ROOT] [workers] [batch] [epochs]
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn -q -B -o test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test >/dev/null
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "target/classes:target/test-classes:$(cat target/bench.cp)" \
  conta.bench.LoaderBench "$@"
