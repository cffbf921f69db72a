#!/usr/bin/env bash
# cuDNN's graph API (-Dconta.cuda.convApi=graph, ConvGraphs) against the legacy calls on a lent GPU, in one device call,
# most important first, inside a deadline:
#   1. SelfTest with the graph path (every conv case CUDA vs CPU, dilated ones and accumulated dw included; TF32 pass),
#   2. the ResNet-50 training step (batch 32, 224 px, TF32 on, deterministic), legacy and graph alternating, 2 rounds,
#   3. PyTorch eager's step in the same call (cudnn.benchmark on),
#   4. bench train --profile host with the graph path (per-op host time: is the step still host-bound?),
#   5. the graph path without determinism, the frozen-BN networks with the graph path,
#   6. ncu: the GPU time of each kernel of two steps, graph, then (after the frozen-BN networks) legacy: kernel names
#      and the GPU's busy time a step (python3 bench/ncu_step.py reads the traces).
# Usage (device tool, after bench/pack-gpu.sh here):
#   run(command="bench/gpu-convapi.sh", carry=["target/conta-gpu.tar.xz"], timeout_s=400)
# PHASE=search runs SelfTest with session 19's kernels (-Dconta.cuda.maxPoolBackward=argmax,
# -Dconta.cuda.fusedAffineBackward=true, -Dconta.cuda.vectorElementwise=true, -Dconta.cuda.fusedRelu=true) and with the graph path's other engine choices, replays saved choices, and
# times ResNet-50, the CAM classifier, DeepLab-v2 and the boundary branch with legacy / legacy + the new kernels /
# heuristic / top / measure (one round in about 320 s):
#   run(command="PHASE=search DEADLINE=330 bench/gpu-convapi.sh", carry=["target/conta-gpu.tar.xz"], timeout_s=360)
# PHASE=check runs the short correctness-and-speed call instead (SelfTest, ResNet-50 alternating, conformance, demo,
# frozen-BN networks; logs straight under $OUT): run(command="PHASE=check DEADLINE=200 bench/gpu-convapi.sh", ...).
# GRAPH_SEARCH=measure|top runs PHASE=check with that engine choice; under measure the demo keeps its choices in its run
# folder (cuda-graph-choices.tsv, printed and copied to $OUT).
# Env: DEADLINE (seconds, default 370), PACKAGE (default target/conta-gpu.tar.xz), PYTHON (default python3).
set -uo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.." || exit 2
start=$(date +%s); deadline="${DEADLINE:-370}"
left() { echo $(( deadline - ($(date +%s) - start) )); }
final="${OUT:-/tmp/conta-convapi}"; logs=/tmp/conta-convapi-logs; rm -rf "$logs"; mkdir -p "$logs" "$final"
PY="${PYTHON:-python3}"; work=/tmp/conta-gpu-run; root="$work/conta-gpu"
rm -rf "$work" && mkdir -p "$work" && tar -C "$work" -xf "${PACKAGE:-target/conta-gpu.tar.xz}" || { echo "cannot unpack the package"; exit 2; }
. bench/gpu-env.sh
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv > "$logs/nvsmi.txt" 2>&1
# run a step only when its time is left: $1 = seconds it needs, the rest = the command (killed at the deadline)
step() { local need=$1; shift; local t; t=$(left); [ "$t" -gt "$need" ] || { echo "skipped (no time): $*" | cut -c1-150; return 99; }
         timeout -k 5 "$t" "$@"; }
rate() { sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p' "$1" | tail -1; }

if [ "${PHASE:-}" = search ]; then
  # PHASE=search: the graph path's engine choice (ConvGraphs.Search) against the legacy calls on the four networks,
  # a replay of saved choices, then the networks (a second round where time is left); logs straight under $OUT (7 files)
  : > "$final/search.log"
  k=(-Dconta.cuda.maxPoolBackward=argmax -Dconta.cuda.fusedAffineBackward=true -Dconta.cuda.vectorElementwise=true -Dconta.cuda.fusedRelu=true) # session 19's kernels, checked on the CPU only
  step 40 "${java[@]}" "${k[@]}" conta.tensor.cuda.SelfTest > "$final/selftest-kernels.log" 2>&1
  echo "selftest (new kernels): exit $?; $(grep -E '^[0-9]+ cases' "$final/selftest-kernels.log" | tail -1)"; grep -E '^FAIL' "$final/selftest-kernels.log" | head -5
  for m in measure top; do
    step 40 "${java[@]}" -Dconta.cuda.convApi=graph -Dconta.cuda.graphSearch=$m conta.tensor.cuda.SelfTest > "$logs/st.log" 2>&1
    echo "selftest (graph, $m): exit $?; $(grep -E '^[0-9]+ cases' "$logs/st.log" | tail -1)"; grep -E '^FAIL' "$logs/st.log" | head -5
    cp "$logs/st.log" "$final/selftest-graph-$m.log"
  done
  # saved choices: a measured run saves them, a second run replays them (its algorithm lines say "replayed")
  for run in 1 2; do # not $k: that holds the kernel flags
    step 20 "${java[@]}" -Dconta.cuda.convApi=graph -Dconta.cuda.graphSearch=measure -Dconta.cuda.graphChoices="$logs/choices.tsv" \
        conta.cli.Main bench train --arch resnet50 --batch 32 --size 224 --iters 8 --warmup 3 --device cuda:0 > "$logs/c$run.log" 2>&1
    echo "choices run $run: $(rate "$logs/c$run.log") img/s, $(grep -c 'replayed' "$logs/c$run.log") replayed, $(cat "$logs/choices.tsv" 2>/dev/null | wc -l) saved"
    cp "$logs/c$run.log" "$final/choices-run$run.log"
  done
  cp "$logs/choices.tsv" "$final/" 2>/dev/null
  nets=("resnet50 32 224 1000" "resnet50-os16 16 512 20" "deeplabv2-resnet101 10 321 21" "irn-boundary 32 512 20")
  for round in 1 2; do
    for n in "${nets[@]}"; do
      read -r arch batch size classes <<< "$n"
      for v in legacy kernels heuristic top measure; do
        case $v in legacy) o=(-Dconta.cuda.convApi=legacy) ;; kernels) o=(-Dconta.cuda.convApi=legacy "${k[@]}") ;;
                   *) o=(-Dconta.cuda.convApi=graph -Dconta.cuda.graphSearch=$v) ;; esac
        step 20 "${java[@]}" "${o[@]}" conta.cli.Main bench train --arch "$arch" --batch "$batch" --size "$size" --classes "$classes" \
            --iters 8 --warmup 3 --device cuda:0 > "$logs/b.log" 2>&1
        { echo "=== round $round $arch $v"; cat "$logs/b.log"; } >> "$final/search.log"
        echo "round $round $arch $v: $(rate "$logs/b.log") img/s"
      done
    done
  done
  echo "total $(( $(date +%s) - start )) s"
  exit 0
fi
if [ "${PHASE:-}" = check ]; then
  # PHASE=check: correctness and speed of a fixed graph path in a short call, logs written straight under $OUT (they
  # come back even when the call is cut off; at most 8 files): SelfTest, the ResNet-50 step alternating, the
  # conformance suite, the demo (cam) and the frozen-BN networks, all with the graph path
  g="-Dconta.cuda.convApi=graph${GRAPH_SEARCH:+ -Dconta.cuda.graphSearch=$GRAPH_SEARCH}" # GRAPH_SEARCH=measure: also the choices in the run folder
  : > "$final/r50.log"
  step 40 "${java[@]}" $g conta.tensor.cuda.SelfTest > "$final/selftest-graph.log" 2>&1
  echo "selftest (graph): exit $? after $(( $(date +%s) - start )) s; $(grep -E '^[0-9]+ cases' "$final/selftest-graph.log" | tail -1)"
  grep -E '^FAIL|warning: cuDNN' "$final/selftest-graph.log" | head -8 | cut -c1-300
  for round in 1 2; do
    for api in legacy graph; do
      step 25 "${java[@]}" -Dconta.cuda.convApi=$api conta.cli.Main bench train --arch resnet50 --batch 32 --size 224 --iters 20 --warmup 3 \
          --device cuda:0 > "$logs/r50.log" 2>&1
      { echo "=== round $round $api"; cat "$logs/r50.log"; } >> "$final/r50.log"
      echo "round $round $api: $(rate "$logs/r50.log") img/s; steps $(grep -E '^iter (1[0-9]|2[0-2]):' "$logs/r50.log" | awk '{print $3}' | paste -sd' ')"
    done
  done
  (step 50 "${java[@]}" $g -Dconta.cuda.sync=true -Dconta.cuda.tf32=false conta.tensor.Conformance --device cuda:0 --timeout 60) > "$final/conformance-graph.log" 2>&1
  echo "conformance (graph): exit $?; $(grep -E '^conformance ' "$final/conformance-graph.log" | tail -1)"; grep -E '^FAIL ' "$final/conformance-graph.log" | head -5
  CONTA_JAVA_OPTS="${CONTA_JAVA_OPTS:-} $g" DEMO_TIMEOUT=$(( $(left) - 5 )) OUT="$final" step 45 bench/gpu-demo.sh cam
  CONTA_JAVA="${java[*]} $g conta.cli.Main" LOG="$logs/frozen.log" TIMEOUT=25 step 30 "$root/bench/frozen-bn.sh" cuda:0 10 > "$final/frozen-bn-graph.md" 2>&1
  cat "$final/frozen-bn-graph.md" | head -6
  echo "total $(( $(date +%s) - start )) s"
  exit 0
fi
step 60 "${java[@]}" -Dconta.cuda.convApi=graph conta.tensor.cuda.SelfTest > "$logs/selftest-graph.log" 2>&1
echo "selftest (graph): exit $? after $(( $(date +%s) - start )) s; $(grep -E '^[0-9]+ cases' "$logs/selftest-graph.log" | tail -1)"
grep -E '^FAIL|warning: cuDNN' "$logs/selftest-graph.log" | head -8 | cut -c1-300

r50() { step 30 "${java[@]}" "$@" conta.cli.Main bench train --arch resnet50 --batch 32 --size 224 --iters 20 --warmup 3 --device cuda:0; }
for round in 1 2; do
  for api in legacy graph; do
    r50 -Dconta.cuda.convApi=$api > "$logs/r50-$api-$round.log" 2>&1
    echo "round $round $api: $(rate "$logs/r50-$api-$round.log") img/s; steps $(grep -E '^iter (1[0-9]|2[0-2]):' "$logs/r50-$api-$round.log" | awk '{print $3}' | paste -sd' ')"
  done
done
grep -h 'warning: cuDNN' "$logs"/r50-graph-*.log | sort -u | head -5 | cut -c1-300
step 40 "$PY" "$root/bench/torch_resnet50_gpu.py" 32 224 20 1 > "$logs/torch.log" 2>&1; echo "torch (TF32 on): $(rate "$logs/torch.log") img/s"
step 30 "${java[@]}" -Dconta.cuda.convApi=graph conta.cli.Main bench train --arch resnet50 --batch 32 --size 224 --iters 10 --warmup 3 \
    --device cuda:0 --profile host > "$logs/profile-graph.log" 2>&1
sed -n '/^op profile/,/^| all ops/p' "$logs/profile-graph.log" | awk 'NR <= 10 || /^\| all ops/'
r50 -Dconta.cuda.convApi=graph -Dconta.cuda.deterministic=false > "$logs/r50-graph-nondet.log" 2>&1
echo "graph, non-deterministic engines allowed: $(rate "$logs/r50-graph-nondet.log") img/s"

ncu_run() { # $1 = api: GPU time per kernel over the warm-up step and one timed step
  local ncu; ncu="$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)"
  [ -n "$ncu" ] || { echo "no ncu"; return; }
  step 45 "$ncu" --clock-control none --target-processes all --metrics gpu__time_duration.sum --csv --log-file "$logs/ncu-$1.csv" \
      "${java[@]}" -Dconta.cuda.convApi=$1 conta.cli.Main bench train --arch resnet50 --batch 32 --size 224 --iters 1 --warmup 1 --device cuda:0 \
      > "$logs/ncu-$1.out" 2>&1
  echo "ncu $1: exit $?, $(grep -c gpu__time_duration "$logs/ncu-$1.csv" 2>/dev/null) kernels"
}
ncu_run graph
CONTA_JAVA="${java[*]} -Dconta.cuda.convApi=graph conta.cli.Main" LOG="$logs/frozen-bn-graph.log" TIMEOUT=40 \
    step 100 "$root/bench/frozen-bn.sh" cuda:0 10 > "$logs/frozen-bn-graph.md" 2>&1; cat "$logs/frozen-bn-graph.md"
ncu_run legacy
tar -czf "$final/logs.tgz" -C /tmp conta-convapi-logs
echo "total $(( $(date +%s) - start )) s; logs in $final/logs.tgz"
