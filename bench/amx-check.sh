#!/usr/bin/env bash
# Issue 15's bf16 measurements in one command, for the first session that draws a host with AMX (hosts of this kind
# differ: `lscpu | grep -o amx_bf16`). Runs, in this order, and logs everything to bench/results/amx-check-DATE.log:
#   1. the CPU's bf16 flags (on a host without AMX it says so and goes on: the same numbers are then the
#      AVX512-BF16 ones, as in bench/RESULTS.md);
#   2. ResNet-50 training step and inference, conta fp32 / bf16 against PyTorch fp32 / bf16 autocast, alternating
#      rounds (bench/resnet50_cpu.sh, 5 untimed and 8 timed steps: conta's first steps still run partly interpreted
#      Java; targets: bf16 training step >= 2.5x PyTorch fp32 and >= 1.5x its autocast), and the same build's bf16
#      step with activations kept blocked (NHWC where the CPU has AMX) against nChw16c, against plain tensors, and
#      with weights in oneDNN's layout against plain weights (bench/train-ab.sh);
#   3. where a training step's time goes in steady steps (ONEDNN_VERBOSE per-primitive sums of steps 11-20, averaged,
#      bench/onednn_profile.py LOG 10 --after-iter 10: one step's sums can hold a few 10-30 ms stalls of calls that take
#      1-3 ms in every other step, bench/RESULTS.md session 27), bf16 and fp32;
#   4. batch-1 latency, fp32 and bf16 plans against ONNX Runtime fp32 (bench/latency.sh; target: bf16 p50 <= 0.5x).
# Usage: bench/amx-check.sh [rounds=3]    (about 25 minutes on 2 cores; needs python3-torch for 2 and 4)
set -uo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
rounds=${1:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench/amx-check.sh: rounds must be a positive number, got '$rounds' (--help)" >&2; exit 2; }
log="bench/results/amx-check-$(date -u +%Y%m%d).log"
mkdir -p bench/results
{
  echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) threads"
  flags=$(lscpu | grep -o 'amx_bf16\|avx512_bf16' | sort -u | tr '\n' ' ')
  echo "# bf16 flags: ${flags:-none}"
  case "$flags" in *amx_bf16*) echo "# AMX present: oneDNN runs its AMX kernels; conta's bf16 Winograd kernel stays off; bf16 training holds activations in NHWC" ;;
    *) echo "# no AMX on this host: the numbers below are AVX512-BF16 (or emulated) ones, not the AMX targets" ;; esac
  echo "## 2. training step and inference vs PyTorch"
  WARMUP=5 PRECISIONS="fp32 bf16" bench/resnet50_cpu.sh 8 224 8 "$rounds"
  bench/train-ab.sh "$rounds" 10 "bf16-blocked||--precision bf16" \
      "bf16-nChw16c|-Dconta.cpu.nhwc=false|--precision bf16" \
      "bf16-plain|-Dconta.cpu.blocked=false|--precision bf16" \
      "bf16-plainweights|-Dconta.cpu.blockedWeights=false|--precision bf16" -- --arch resnet50 --batch 8 --size 224
  for p in bf16 fp32; do
    echo "## 3. steady training steps, $p: oneDNN primitives per step (steps 11-20, averaged)"
    ONEDNN_VERBOSE=1 ./conta bench train --arch resnet50 --batch 8 --size 224 --iters 20 --precision "$p" 2>&1 \
      | python3 bench/onednn_profile.py - 10 --after-iter 10
  done
  echo "## 4. batch-1 latency"
  MODELS="resnet50:224" IMPLS="plan plan-bf16 plan-bf16-direct ort" CONDS=quiet ROUNDS="$rounds" ITERS=150 bench/latency.sh
} 2>&1 | tee "$log"
echo "log: $log"
