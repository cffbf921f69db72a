#!/usr/bin/env bash
# GPU self-test of conta's CUDA backend on a machine with an NVIDIA GPU and PyTorch's pip CUDA stack but no Java:
#   1. unpacks the package from bench/pack-gpu.sh (jlink runtime + jars),
#   2. points the loader at the CUDA/cuDNN/cuBLAS libraries of PyTorch's Python environment (nvidia-* wheels),
#   3. runs conta.tensor.cuda.SelfTest (every Backend op and domain kernel, CUDA vs CPU),
#   4. compares conv / batch norm / GEMM with PyTorch on the same GPU (torch_gpu_compare.py + TorchCompare),
#   5. times a ResNet-50 training step, conta vs PyTorch eager, TF32 on and off,
# and prints one table, also written to RESULTS (default bench/RESULTS-gpu.md, or $OUT/RESULTS-gpu.md when $OUT is set).
# Usage: bench/gpu-selftest.sh [PACKAGE=target/conta-gpu.tgz] [BATCH=32] [ITERS=10]
# Env: PYTHON (default python3), CONTA_JAVA_OPTS (e.g. -Dorg.bytedeco.javacpp.logger.debug=true -Dconta.cuda.sync=true)
set -uo pipefail
tgz="${1:-target/conta-gpu.tgz}"; batch="${2:-32}"; iters="${3:-10}"; size=224
results="${RESULTS:-${OUT:+$OUT/RESULTS-gpu.md}}"; results="${results:-bench/RESULTS-gpu.md}"
PY="${PYTHON:-python3}"
work="${CONTA_GPU_DIR:-/tmp/conta-gpu-run}"
rm -rf "$work" && mkdir -p "$work" && tar -C "$work" -xzf "$tgz" || { echo "cannot unpack $tgz (run bench/pack-gpu.sh first)"; exit 2; }
root="$work/conta-gpu"
logs="${OUT:-$work}"; mkdir -p "$logs"

# every folder of PyTorch's environment holding CUDA libraries: site-packages/nvidia/*/lib (cudnn, cublas, cuda_runtime,
# or the single nvidia/cu13/lib of newer wheels) and torch/lib
libdirs="$("$PY" - <<'PYEOF'
import glob, os
dirs = []
try:
    import nvidia
    for base in list(nvidia.__path__):
        for d in sorted(glob.glob(os.path.join(base, "**", "lib"), recursive=True)):
            if glob.glob(os.path.join(d, "lib*.so*")):
                dirs.append(d)
except ImportError:
    pass
try:
    import torch
    dirs.append(os.path.join(os.path.dirname(torch.__file__), "lib"))
except ImportError:
    pass
print(":".join(dict.fromkeys(dirs)))
PYEOF
)"
[ -n "$libdirs" ] || echo "warning: no nvidia-* wheels or torch found by $PY; relying on the system's CUDA libraries"
export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
java=("$root/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xss4m
      -Dorg.bytedeco.javacpp.pathsFirst=true "-Djava.library.path=$libdirs" ${CONTA_JAVA_OPTS:-} -cp "$root/lib/*")

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
torchv="$("$PY" -c 'import torch; print(torch.__version__, "cuDNN", torch.backends.cudnn.version())' 2>/dev/null || echo "no torch")"
for f in libcudnn.so.9 libcublas.so.13 libcublas.so.12 libcudart.so.13 libcudart.so.12; do
  p="$(IFS=:; for d in $libdirs; do [ -e "$d/$f" ] && echo "$d/$f" && break; done)"
  [ -n "$p" ] && echo "found $f: $p"
done
echo "GPU: $gpu | $torchv"

"${java[@]}" conta.tensor.cuda.SelfTest 2>&1 | tee "$logs/selftest.log"; st=${PIPESTATUS[0]}

ct=2
if "$PY" "$root/bench/torch_gpu_compare.py" "$work/cases" 2>&1 | tee "$logs/torch-cases.log"; then
  "${java[@]}" conta.tensor.cuda.TorchCompare "$work/cases" 2>&1 | tee "$logs/torch-compare.log"; ct=${PIPESTATUS[0]}
fi

bench() { # conta: $1 = tf32 true|false
  "${java[@]}" "-Dconta.cuda.tf32=$1" conta.cli.Main bench train --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" \
      --warmup 3 --device cuda:0 2>>"$logs/bench.log" | tee -a "$logs/bench.log" | sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p'
}
tbench() { "$PY" "$root/bench/torch_resnet50_gpu.py" "$batch" "$size" "$iters" "$1" 2>>"$logs/bench.log" | tee -a "$logs/bench.log" \
             | sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p'; }
c_on="$(bench true)"; c_off="$(bench false)"; t_on="$(tbench 1)"; t_off="$(tbench 0)"
# the pipeline's frozen-BN networks, with cuDNN/cuBLAS versions and the convolution algorithms chosen
frozen="$(CONTA_JAVA="${java[*]} conta.cli.Main" LOG="$logs/frozen-bn.log" "$root/bench/frozen-bn.sh" cuda:0 "$iters")"
ratio() { [ -n "$1" ] && [ -n "$2" ] && echo "$(echo "scale=2; $1 / $2" | bc)" || echo "-"; }

status() { case "$1" in 0) echo pass ;; 2) echo "not run" ;; *) echo FAIL ;; esac; }
summary="$(grep -E '^[0-9]+ cases' "$logs/selftest.log" | tail -1)"
csum="$(grep -E '^torch comparison' "$logs/torch-compare.log" 2>/dev/null | tail -1)"
device="$(grep -m1 '^device:' "$logs/selftest.log" | sed 's/^device: //')"
table="$(cat <<MD
# conta CUDA backend on GPU: self-test and ResNet-50 ($(date -u +%F))

GPU: ${gpu:-unknown}; PyTorch: $torchv; conta: ${device:-?}

| check | result |
|---|---|
| SelfTest: Backend ops + WSSS kernels, CUDA vs CPU (rel err <= 1e-5 fp32, <= 1e-3 TF32) | $(status $st) (${summary:-no summary}) |
| conv / BN / GEMM vs PyTorch on the same GPU | $(status $ct) (${csum:-no summary}) |
| ResNet-50 train step, batch $batch, ${size}px, TF32 on: conta / torch eager img/s | ${c_on:--} / ${t_on:--} (ratio $(ratio "$c_on" "$t_on")) |
| ResNet-50 train step, batch $batch, ${size}px, TF32 off: conta / torch eager img/s | ${c_off:--} / ${t_off:--} (ratio $(ratio "$c_off" "$t_off")) |

Logs: selftest.log, torch-compare.log, bench.log, frozen-bn.log (in ${logs}).

## Frozen-BN training steps (bench/frozen-bn.sh)

${frozen}
MD
)"
echo; echo "$table"
mkdir -p "$(dirname "$results")" && echo "$table" > "$results" && echo "(written to $results)"
[ "$st" = 0 ] && [ "$ct" != 1 ]
