#!/usr/bin/env bash
# GPU self-test of conta's CUDA backend on a machine with an NVIDIA GPU and PyTorch's pip CUDA stack but no Java:
#   1. unpacks the package from bench/pack-gpu.sh (jlink runtime + jars),
#   2. points the loader at the CUDA/cuDNN/cuBLAS libraries of PyTorch's Python environment (nvidia-* wheels),
#   3. runs the backend conformance suite on the device (conta.tensor.Conformance: the op tests, fused ops and
#      ModelParityTest of ./test.sh with -Dconta.test.backend=cuda:0, synchronous CUDA so a fault names its test),
#   4. runs conta.tensor.cuda.SelfTest (every Backend op and domain kernel, CUDA vs CPU),
#   5. compares conv / batch norm / GEMM with PyTorch on the same GPU (torch_gpu_compare.py + TorchCompare),
#   6. times a ResNet-50 training step, conta vs PyTorch eager, TF32 on and off, and profiles conta's per op (--profile),
# and prints one table, also written to RESULTS (default RESULTS-gpu.md beside the logs: $OUT, else the work folder).
# Every step runs under its own timeout (STEP_TIMEOUT seconds, default 240) and the table is printed whatever fails.
# Usage: bench/gpu-selftest.sh [--device cuda:0|cpu] [PACKAGE=target/conta-gpu.tar.xz] [BATCH=32] [ITERS=10]
#   --device cpu: a dry run of the whole script path on a machine without a GPU (conformance suite and benchmark on the
#   CPU at batch 2, 64 px, 1 iteration unless given; the CUDA-only steps report "not run").
# Env: PYTHON (default python3), CONTA_JAVA_OPTS (e.g. -Dorg.bytedeco.javacpp.logger.debug=true), STEP_TIMEOUT,
#      CONTA_REPO (the checkout whose test-data/ the conformance suite reads; default: this script's ../)
set -uo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
device=cuda:0
if [ "${1:-}" = "--device" ]; then device="${2:?--device needs cpu or cuda:N}"; shift 2; fi
case "$device" in cpu) dsize=64; dbatch=2; diters=1 ;; *) dsize=224; dbatch=32; diters=10 ;; esac
tgz="${1:-target/conta-gpu.tar.xz}"; batch="${2:-$dbatch}"; iters="${3:-$diters}"; size="${SIZE:-$dsize}"
step_timeout="${STEP_TIMEOUT:-240}"
repo="${CONTA_REPO:-$(cd "$(dirname "$0")/.." && pwd)}"
tgz="$(cd "$(dirname "$tgz")" 2>/dev/null && pwd)/$(basename "$tgz")"
PY="${PYTHON:-python3}"
work="${CONTA_GPU_DIR:-/tmp/conta-gpu-run}"
# tar detects gzip or xz; python3's tarfile where tar lacks xz
rm -rf "$work" && mkdir -p "$work" && { tar -C "$work" -xf "$tgz" 2>/dev/null \
  || "${PYTHON:-python3}" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$tgz" "$work"; } || { echo "cannot unpack $tgz (run bench/pack-gpu.sh first)"; exit 2; }
root="$work/conta-gpu"
logs="${OUT:-$work}"; mkdir -p "$logs"
# the table goes beside the logs, never over bench/RESULTS-gpu.md (the written account; its table is copied in by hand)
results="${RESULTS:-$logs/RESULTS-gpu.md}"

. "$(dirname "$0")/gpu-env.sh" # libdirs, LD_LIBRARY_PATH and the java command line of the unpacked package in $root

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
torchv="$("$PY" -c 'import torch; print(torch.__version__, "cuDNN", torch.backends.cudnn.version())' 2>/dev/null || echo "no torch")"
for f in libcudnn.so.9 libcublas.so.13 libcublas.so.12 libcudart.so.13 libcudart.so.12; do
  p="$(IFS=:; for d in $libdirs; do [ -e "$d/$f" ] && echo "$d/$f" && break; done)"
  [ -n "$p" ] && echo "found $f: $p"
done
echo "GPU: $gpu | $torchv"

step() { timeout -k 10 "$step_timeout" "$@"; } # 124: the step ran past STEP_TIMEOUT (the table says so)

# the conformance suite first, synchronous: it names the op whose test faults, and its summary line comes in any case
(cd "$repo" && step "${java[@]}" -Dconta.cuda.sync=true -Dconta.cuda.tf32=false conta.tensor.Conformance --device "$device" --timeout 120) \
    > "$logs/conformance.log" 2>&1; cf=$?
grep -E '^(FAIL|skip) ' "$logs/conformance.log" | head -40; grep -E '^conformance ' "$logs/conformance.log" || echo "conformance: no summary (exit $cf)"

st=2
if [ "$device" != cpu ]; then
  step "${java[@]}" conta.tensor.cuda.SelfTest 2>&1 | tee "$logs/selftest.log"; st=${PIPESTATUS[0]}
fi

ct=2
if [ "$device" != cpu ] && step "$PY" "$root/bench/torch_gpu_compare.py" "$work/cases" 2>&1 | tee "$logs/torch-cases.log"; then
  step "${java[@]}" conta.tensor.cuda.TorchCompare "$work/cases" 2>&1 | tee "$logs/torch-compare.log"; ct=${PIPESTATUS[0]}
fi

bench() { # conta: $1 = tf32 true|false, $2 = deterministic algorithms only (default true)
  step "${java[@]}" "-Dconta.cuda.tf32=$1" "-Dconta.cuda.deterministic=${2:-true}" conta.cli.Main bench train --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" \
      --warmup "$([ "$device" = cpu ] && echo 0 || echo 3)" --device "$device" 2>>"$logs/bench.log" | tee -a "$logs/bench.log" \
      | sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p'
}
tbench() { [ "$device" = cpu ] && return; TORCH_PROFILE="${2:-0}" step "$PY" "$root/bench/torch_resnet50_gpu.py" "$batch" "$size" "$iters" "$1" 2>>"$logs/bench.log" \
             | tee -a "$logs/bench.log" | sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p'; }
c_on="$(bench true)"; c_off=""; c_nd=""; [ "$device" = cpu ] || { c_off="$(bench false)"; c_nd="$(bench true false)"; }; t_on="$(tbench 1 1)"; t_off="$(tbench 0)"
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "-"; }
# the pipeline's frozen-BN networks, with cuDNN/cuBLAS versions and the convolution algorithms chosen
# where a step's time goes (conta bench --profile): host = time to issue each op (near the step time: host-bound),
# device = each op alone (drained around it); the ResNet-50 step above, TF32 on
profile() { step "${java[@]}" -Dconta.cuda.tf32=true conta.cli.Main bench train --arch resnet50 --batch "$batch" --size "$size" \
              --iters "$iters" --warmup "$([ "$device" = cpu ] && echo 0 || echo 3)" --device "$device" --profile "$1" 2>>"$logs/profile.log" \
              | tee -a "$logs/profile.log" | sed -n '/^op profile/,/^| all ops/p' | awk 'NR <= 15 || /^\| all ops/'; }
prof_host="$(profile host)"; prof_dev="$(profile device)"
frozen=""; [ "$device" = cpu ] || frozen="$(CONTA_JAVA="${java[*]} conta.cli.Main" LOG="$logs/frozen-bn.log" step "$root/bench/frozen-bn.sh" "$device" "$iters")"

status() { case "$1" in 0) echo pass ;; 2) echo "not run" ;; 124|137) echo "TIMEOUT (${step_timeout} s)" ;; *) echo "FAIL (exit $1)" ;; esac; }
summary="$(grep -E '^[0-9]+ cases' "$logs/selftest.log" 2>/dev/null | tail -1)"
cfsum="$(grep -E '^conformance ' "$logs/conformance.log" 2>/dev/null | tail -1)"
csum="$(grep -E '^torch comparison' "$logs/torch-compare.log" 2>/dev/null | tail -1)"
devname="$(grep -m1 '^device:' "$logs/selftest.log" 2>/dev/null | sed 's/^device: //')"
table="$(cat <<MD
# conta CUDA backend on GPU: self-test and ResNet-50 ($(date -u +%F))

GPU: ${gpu:-unknown}; PyTorch: $torchv; conta: ${devname:-$device}

| check | result |
|---|---|
| Conformance suite on $device: op tests (RefOps + GradCheck), fused ops, ModelParityTest (sync, TF32 off) | $(status $cf) (${cfsum:-no summary}) |
| SelfTest: Backend ops + WSSS kernels, CUDA vs CPU (per element (atol + rtol\|ref\|) sqrt(k), rtol 1e-5 fp32, 1e-3 TF32) | $(status $st) (${summary:-no summary}) |
| conv / BN / GEMM vs PyTorch on the same GPU | $(status $ct) (${csum:-no summary}) |
| ResNet-50 train step, batch $batch, ${size}px, TF32 on: conta / torch eager img/s | ${c_on:--} / ${t_on:--} (ratio $(ratio "$c_on" "$t_on")) |
| ResNet-50 train step, batch $batch, ${size}px, TF32 off: conta / torch eager img/s | ${c_off:--} / ${t_off:--} (ratio $(ratio "$c_off" "$t_off")) |
| same, TF32 on, conta allowed non-deterministic algorithms (as torch's cudnn.benchmark) | ${c_nd:--} / ${t_on:--} (ratio $(ratio "$c_nd" "$t_on")) |

Logs: conformance.log, selftest.log, torch-compare.log, bench.log, profile.log, frozen-bn.log (in ${logs}).

## Where a ResNet-50 training step's time goes (bench train --profile host, then device; top ops)

${prof_host:-not run}

${prof_dev:-not run}

## Frozen-BN training steps (bench/frozen-bn.sh)

${frozen:-not run}
MD
)"
echo; echo "$table"
mkdir -p "$(dirname "$results")" && echo "$table" > "$results" && echo "(written to $results)"
[ "$cf" = 0 ] && { [ "$st" = 0 ] || [ "$device" = cpu ]; } && { [ "$ct" = 0 ] || [ "$ct" = 2 ]; }
