#!/usr/bin/env bash
# A/B of training-step time between configurations of one build, in alternating rounds (the order rotates every round,
# so that a shared machine's load drifts hit every configuration alike). Per round and configuration:
# median and minimum step time over the steps after the first two. Compare ratios within a round, never across runs.
#
#   bench/train-ab.sh ROUNDS ITERS "label|JAVA_OPTS|extra bench args[|ENV[|JAR]]" ... -- conta bench train args
# ENV: environment assignments for that configuration (e.g. GOMP_SPINCOUNT=10000); without them the OpenMP wait
# policy is the launcher's for training (OMP_WAIT_POLICY=passive) unless OMP_WAIT_POLICY / GOMP_SPINCOUNT is exported.
#   bench/train-ab.sh 3 8 "blk|-Dconta.cpu.blocked=true|--precision bf16" "plain|-Dconta.cpu.blocked=false|--precision bf16" \
#       -- --arch resnet50 --batch 8 --size 224
# JAR (default target/conta.jar, copied once at the start, so rebuilding during the run changes nothing); a
# configuration's own JAR field runs that build instead (two builds A/B: copy one jar aside before rebuilding).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
R=$1; I=$2; shift 2
cfgs=(); while [ "$1" != "--" ]; do cfgs+=("$1"); shift; done; shift
n=${#cfgs[@]}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
jar=$(mktemp /tmp/train-ab-XXXXXX.jar); cp "${JAR:-target/conta.jar}" "$jar"
jars=(); for k in $(seq 0 $((n - 1))); do # each configuration's own build, copied now as well
  IFS='|' read -r _ _ _ _ own <<< "${cfgs[$k]}"
  if [ -n "$own" ]; then jars[k]=$(mktemp /tmp/train-ab-XXXXXX.jar); cp "$own" "${jars[k]}"; else jars[k]=$jar; fi
done
trap 'rm -f "$jar" "${jars[@]}"' EXIT
echo "# $(date -u +%F) $(lscpu | sed -n 's/^Model name: *//p'), bf16 flags: $(lscpu | grep -o 'amx_bf16\|avx512_bf16' | sort -u | tr '\n' ' ')"
for r in $(seq 1 "$R"); do
  for k in $(seq 0 $((n - 1))); do
    idx=$(( (k + r - 1) % n )) # rotated: every configuration takes every place in the order once in n rounds
    IFS='|' read -r label opts extra envs _ <<< "${cfgs[$idx]}"
    if [ -z "$envs" ] && [ -z "${OMP_WAIT_POLICY:-}" ] && [ -z "${GOMP_SPINCOUNT:-}" ]; then envs=OMP_WAIT_POLICY=passive; fi
    # shellcheck disable=SC2086
    env $envs "$JAVA" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xss4m $opts -cp "${jars[idx]}:target/lib/*" \
        conta.cli.Main bench train "$@" $extra --iters "$I" 2>&1 | grep '^iter' | awk 'NR>2{print $3}' | sort -n |
      awk -v r="$r" -v l="$label" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
        '{a[++n]=$1} END{printf "round %d %-12s median %.3f s  min %.3f s  (%d steps, load %s)\n", r, l, a[int((n+1)/2)], a[1], n, load}'
  done
done
