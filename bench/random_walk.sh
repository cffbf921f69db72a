#!/usr/bin/env bash
# IRNet random walk, sparse (conta) vs dense (IRNet's T^256 by 8 sgemm squarings) on one 500x375 image.
# usage: bench/random_walk.sh [imageW imageH classes [squarings [control]]]
# The dense run needs 2 x 0.55 GB; on the CPU its squarings hit subnormal floats and are very slow (see RESULTS.md).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn -q -B -o test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test >/dev/null
run() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -cp "target/classes:target/test-classes:$(cat target/bench.cp)" conta.bench.RandomWalkBench "$@" 2>&1 | grep -v 'incubator'; }
run sparse "${1:-500}" "${2:-375}" "${3:-3}"
run dense "$@"
