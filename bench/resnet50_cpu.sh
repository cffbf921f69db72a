#!/usr/bin/env bash
# ResNet-50 training step and inference on this machine's CPU: conta vs PyTorch, same run, same threads.
# Usage: [PRECISIONS="fp32 bf16"] bench/resnet50_cpu.sh [batch=8] [size=224] [iters=3] [rounds=1]
# PRECISIONS (default fp32): fp32 = conta fp32 vs PyTorch fp32; bf16 = conta --precision bf16 (oneDNN bf16
# convolutions, f32 weights and update) vs PyTorch under torch.autocast("cpu", bfloat16), and vs PyTorch fp32 when
# fp32 is in the list too (issue 15's targets). With rounds > 1 the engines alternate (conta train, PyTorch
# train+infer, conta infer, for each precision in turn) so that a shared machine's load shifts hit both alike; each
# round prints its ratios and the last lines give the medians over rounds. conta's inference runs twice: the training
# graph in eval mode ("infer") and the inference plan that predict, the APIs and the pipeline use ("infer-plan").
# WARMUP (default 1): untimed calls before the timed ones, both engines. conta's first steps still run partly
# interpreted Java (the JIT compiles its loops over the first ~5 steps): WARMUP=5 times the steady state.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac   # the header above
cd "$(dirname "$0")/.."
batch=${1:-8}; size=${2:-224}; iters=${3:-3}; rounds=${4:-1}; threads=$(nproc)
precs=${PRECISIONS:-fp32}; warm=${WARMUP:-1}
echo "# $(date -u +%F) $(lscpu | sed -n 's/^Model name: *//p'), $threads threads, warm-up $warm, bf16 flags: $(lscpu | grep -o 'amx_bf16\|avx512_bf16' | sort -u | tr '\n' ' ')"
have_torch=1
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || have_torch=0
rate() { grep -o '[0-9.]* images/s' | head -1 | cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
declare -A all
for r in $(seq 1 "$rounds"); do
  echo "## round $r, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  declare -A rt=() ri=() rp=() pt=() pi=()
  for p in $precs; do
    ct=$(./conta bench train --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" --warmup "$warm" --precision "$p" 2>/dev/null | tail -1)
    echo "$ct"; rt[$p]=$(echo "$ct" | rate)
    if [ $have_torch = 1 ]; then
      tt=$(/usr/bin/python3 bench/torch_resnet50_cpu.py "$batch" "$size" "$iters" "$threads" "$p" "$warm" 2>/dev/null)
      echo "$tt"; pt[$p]=$(echo "$tt" | grep train | rate); pi[$p]=$(echo "$tt" | grep infer | rate)
    fi
    ci=$(./conta bench infer --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" --warmup "$warm" --precision "$p" 2>/dev/null | tail -1)
    echo "$ci"; ri[$p]=$(echo "$ci" | rate)
    cp=$(./conta bench infer --impl plan --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" --warmup "$warm" --precision "$p" 2>/dev/null | tail -1)
    echo "$cp"; rp[$p]=$(echo "$cp" | rate)
  done
  [ $have_torch = 1 ] || continue
  for p in $precs; do
    t=$(ratio "${rt[$p]}" "${pt[$p]}"); i=$(ratio "${ri[$p]}" "${pi[$p]}"); q=$(ratio "${rp[$p]}" "${pi[$p]}")
    echo "round $r ratio conta/PyTorch $p: train ${t}x, infer ${i}x, infer-plan ${q}x"
    all["$p train"]+="$t "; all["$p infer"]+="$i "; all["$p infer-plan"]+="$q "
    if [ "$p" = bf16 ] && [ -n "${pt[fp32]:-}" ]; then
      t=$(ratio "${rt[bf16]}" "${pt[fp32]}"); i=$(ratio "${ri[bf16]}" "${pi[fp32]}"); q=$(ratio "${rp[bf16]}" "${pi[fp32]}")
      echo "round $r ratio conta bf16/PyTorch fp32: train ${t}x, infer ${i}x, infer-plan ${q}x"
      all["bf16-vs-fp32 train"]+="$t "; all["bf16-vs-fp32 infer"]+="$i "; all["bf16-vs-fp32 infer-plan"]+="$q "
    fi
  done
done
if [ $have_torch = 0 ]; then
  echo "PyTorch not installed (apt-get install python3-torch python3-torchvision) - no comparison"
elif [ "$rounds" -gt 1 ]; then
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  for k in "${!all[@]}"; do
    # shellcheck disable=SC2086
    echo "median of $rounds rounds, conta/PyTorch $k: $(med ${all[$k]})x (rounds: ${all[$k]% })"
  done | sort
fi
