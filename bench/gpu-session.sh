#!/usr/bin/env bash
# Everything a lent GPU session should run, in one call of the device tool, most important first, inside a deadline:
#   1. bench/gpu-selftest.sh (conformance, CUDA-vs-CPU self-test, PyTorch comparison, ResNet-50 step and its per-op
#      profile, the pipeline's frozen-BN networks including IRNet's boundary branch),
#   2. bench/gpu-demo.sh for each method in METHODS (default: c2am cam conta; a method cut off by the deadline resumes
#      when this script runs again on the same machine),
# then packs every log into $OUT/logs.tgz (the device tool brings back at most 8 files) and copies the table to
# $OUT/RESULTS-gpu.md. Usage, from the device tool (session 16 used about 340 s for the self-test and two demos):
#   run(command="bench/gpu-session.sh", carry=["target/conta-gpu.tar.xz"], timeout_s=540)
# Env: DEADLINE (seconds for the whole script, default 480), METHODS, PACKAGE (default target/conta-gpu.tar.xz),
#      DEVICE (default cuda:0; cpu is a dry run of the whole path on a machine without a GPU).
set -uo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.." || exit 2
start=$(date +%s); deadline="${DEADLINE:-480}"
left() { echo $(( deadline - ($(date +%s) - start) )); }
final="${OUT:-/tmp/conta-gpu-session}"; mkdir -p "$final"
export OUT=/tmp/conta-gpu-session-logs; rm -rf "$OUT"; mkdir -p "$OUT" /tmp/hs
export CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} -XX:ErrorFile=/tmp/hs/hs_err_%p.log"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total --format=csv > "$OUT/nvsmi.txt" 2>&1
export DEVICE="${DEVICE:-cuda:0}"
if [ "$DEVICE" = cpu ]; then args=(--device cpu "${PACKAGE:-target/conta-gpu.tar.xz}"); else args=("${PACKAGE:-target/conta-gpu.tar.xz}" 32 10); fi
STEP_TIMEOUT=100 TIMEOUT=60 timeout -k 5 "$(( $(left) * 6 / 10 ))" bench/gpu-selftest.sh "${args[@]}" > "$OUT/selftest-stdout.log" 2>&1
echo "self-test: exit $? after $(( $(date +%s) - start )) s"
for m in ${METHODS:-c2am cam conta}; do
  t=$(( $(left) - 20 ))
  [ "$t" -gt 30 ] || { echo "demo --method $m: no time left"; continue; }
  DEMO_TIMEOUT="$t" bench/gpu-demo.sh "$m"
done
cp "$OUT/RESULTS-gpu.md" "$final/" 2>/dev/null
tar -czf "$final/logs.tgz" -C /tmp conta-gpu-session-logs hs
sed -n '/^| check/,/^$/p' "$OUT/RESULTS-gpu.md" 2>/dev/null
echo "total $(( $(date +%s) - start )) s; logs in $final/logs.tgz"
