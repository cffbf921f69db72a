#!/usr/bin/env bash
# Compiles kernels/*.cu to cubin for sm_80 and sm_90 plus PTX for compute_90 (JIT on newer GPUs), into
# $1 (default target/classes/conta/tensor/cuda/kernels), with an index of the modules. Run by Maven in
# generate-resources; without nvcc it prints why and exits 0 so that a CPU-only build goes on (CudaBackend then
# reports the missing kernels by name). Rebuilds only what is older than its .cu or common.cuh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../target/classes/conta/tensor/cuda/kernels}"
nvcc="${NVCC:-$(command -v nvcc || true)}"
[ -n "$nvcc" ] || [ ! -x /usr/local/cuda/bin/nvcc ] || nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  echo "[kernels] nvcc not found (set NVCC or put it on PATH): CUDA kernels not built; the CPU build is unaffected"
  exit 0
fi
mkdir -p "$out"
flags=(-O3 -std=c++17 -lineinfo -Xptxas -Werror)
built=0
for cu in "$here"/*.cu; do
  name="$(basename "$cu" .cu)"
  for t in sm_80.cubin sm_90.cubin compute_90.ptx; do
    f="$out/$name.$t"
    if [ -f "$f" ] && [ "$f" -nt "$cu" ] && [ "$f" -nt "$here/common.cuh" ]; then continue; fi
    case "$t" in
      *.cubin) "$nvcc" "${flags[@]}" -cubin -arch="${t%.cubin}" -o "$f" "$cu" ;;
      *.ptx)   "$nvcc" "${flags[@]}" -ptx -arch=compute_90 -o "$f" "$cu" ;;
    esac
    built=$((built + 1))
  done
done
(cd "$here" && ls *.cu | sed 's/\.cu$//') > "$out/index.txt"
# said only when something was compiled: "0 file(s) rebuilt" on every build read as GPU work on machines without a GPU
[ "$built" -eq 0 ] || echo "[kernels] $("$nvcc" --version | tail -1 | sed 's/^Build //'): $built file(s) rebuilt in $out"
