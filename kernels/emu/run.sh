#!/usr/bin/env bash
# Builds kernels/emu/check_kernels.cpp with g++ (the kernels on the CPU, cuda_runtime.h here) and runs it.
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-/tmp/conta-kernel-emu}"
g++ -std=c++20 -O1 -pthread -I. -o "$out" check_kernels.cpp
timeout 300 "$out" # a barrier that not every thread reaches would hang: fail instead
