#!/usr/bin/env bash
# The per-channel passes of a training step (BN apply/statistics/backward, frozen BN backward, add+ReLU) on plain NCHW
# vs oneDNN's nChw16c (f32 and bf16), one activation shape per run (default: ResNet-50's 8x256x56x56).
# usage: bench/blocked_kernels.sh [N C H]
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn -q -B -o test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test >/dev/null 2>&1
for kind in f32 bf16; do
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
    -cp "target/classes:target/test-classes:$(cat target/bench.cp)" conta.tensor.cpu.BlockedKernelBench "${1:-8}" "${2:-256}" "${3:-56}" $kind 2>&1 | grep -v 'incubator'
done
