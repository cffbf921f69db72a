#!/usr/bin/env bash
# ResNet-50 fp32 training step and inference on this machine's CPU: conta vs PyTorch, same run, same threads.
# Usage: bench/resnet50_cpu.sh [batch=8] [size=224] [iters=3] [rounds=1]
# With rounds > 1 the two engines alternate (conta train, PyTorch train+infer, conta infer) so that a shared machine's
# load shifts hit both alike; each round prints its ratios and the last lines give the median of the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-8}; size=${2:-224}; iters=${3:-3}; rounds=${4:-1}; threads=$(nproc)
echo "# $(date -u +%F) $(lscpu | sed -n 's/^Model name: *//p'), $threads threads"
have_torch=1
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || have_torch=0
rate() { grep -o '[0-9.]* images/s' | head -1 | cut -d' ' -f1; }
ratios_t=(); ratios_i=()
for r in $(seq 1 "$rounds"); do
  echo "## round $r, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  ct=$(./conta bench train --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" 2>/dev/null | tail -1)
  echo "$ct"
  if [ $have_torch = 1 ]; then
    tt=$(/usr/bin/python3 bench/torch_resnet50_cpu.py "$batch" "$size" "$iters" "$threads" 2>/dev/null)
    echo "$tt"
  fi
  ci=$(./conta bench infer --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" 2>/dev/null | tail -1)
  echo "$ci"
  if [ $have_torch = 1 ]; then
    rt=$(echo "$ct" | rate); ri=$(echo "$ci" | rate)
    pt=$(echo "$tt" | grep train | rate); pi=$(echo "$tt" | grep infer | rate)
    t=$(awk -v a="$rt" -v b="$pt" 'BEGIN{printf "%.2f", a/b}'); i=$(awk -v a="$ri" -v b="$pi" 'BEGIN{printf "%.2f", a/b}')
    echo "round $r ratio conta/PyTorch: train ${t}x, infer ${i}x"
    ratios_t+=("$t"); ratios_i+=("$i")
  fi
done
if [ $have_torch = 0 ]; then
  echo "PyTorch not installed (apt-get install python3-torch python3-torchvision) - no comparison"
elif [ "$rounds" -gt 1 ]; then
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  echo "median of $rounds rounds, conta/PyTorch: train $(med "${ratios_t[@]}")x (rounds: ${ratios_t[*]}), infer $(med "${ratios_i[@]}")x (rounds: ${ratios_i[*]})"
fi
