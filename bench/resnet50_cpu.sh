#!/usr/bin/env bash
# ResNet-50 fp32 training step and inference on this machine's CPU: conta vs PyTorch, same run, same threads.
# Usage: bench/resnet50_cpu.sh [batch=8] [size=224] [iters=3]
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-8}; size=${2:-224}; iters=${3:-3}; threads=$(nproc)
echo "# $(date -u +%F) $(lscpu | sed -n 's/^Model name: *//p'), $threads threads"
./conta bench train --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" 2>/dev/null
./conta bench infer --arch resnet50 --batch "$batch" --size "$size" --iters "$iters" 2>/dev/null
if /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  /usr/bin/python3 bench/torch_resnet50_cpu.py "$batch" "$size" "$iters" "$threads"
else
  echo "PyTorch not installed (apt-get install python3-torch python3-torchvision) - no comparison"
fi
