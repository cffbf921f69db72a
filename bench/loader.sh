#!/usr/bin/env bash
# Loader throughput (decode + augment at 512 crops): builds the test classes and runs conta.bench.LoaderBench.
# usage: bench/loader.sh [DATA_ROOT] [workers] [batch] [epochs]
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn -q -B -o test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test >/dev/null
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "target/classes:target/test-classes:$(cat target/bench.cp)" \
  conta.bench.LoaderBench "$@"
