#!/usr/bin/env bash
# JMH timings of conta's kernels (src/test/java/conta/bench/KernelsJmh.java): CAM, seeds, CONTA's class-mean masks,
# IRNet's random walk, a ResNet 3x3 convolution, CONTA's W1/W2 attention forward+backward, the confusion matrix, at
# the sizes of one VOC image through IRNet's recipe. Arguments go to JMH after the benchmark pattern:
#
#   bench/jmh.sh                              # every kernel on the CPU (3 warm-up + 5 measured 1-s rounds, one fork: ~12 s a kernel)
#   bench/jmh.sh 'KernelsJmh.cam' -p device=cuda:0   # one kernel (a regex), on the GPU
#   bench/jmh.sh 'KernelsJmh' -f 1 -wi 2 -i 3 -rf json -rff target/jmh.json   # fewer rounds, results as JSON
#   bench/jmh.sh 'KernelsJmh' -l              # list the benchmarks
# JMH's own flags: java -cp ... org.openjdk.jmh.Main -h. Environment: JAVA_HOME (Temurin 25), OMP_NUM_THREADS.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn -q -B -o test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test >/dev/null
pattern=${1:-KernelsJmh}; shift || true
# JMH forks its measuring JVM with the flags of @Fork; this one only reads the benchmark list
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -cp "target/classes:target/test-classes:$(cat target/bench.cp)" org.openjdk.jmh.Main "$pattern" "$@"
