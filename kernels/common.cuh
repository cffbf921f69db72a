// Shared helpers for conta's kernels. Every kernel is extern "C" so that cuModuleGetFunction finds it by plain name.
// Argument types are kept to float*, int, float, double and long long: the Java launcher packs exactly these sizes.
#pragma once
#include <cuda_runtime.h>

typedef long long i64;

// grid-stride loop over [0, n)
#define FOR_N(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

// Block-wide sum of doubles in a fixed order (tree over shared memory), so results do not depend on scheduling.
// blockDim.x must be a power of two <= 1024; sh has blockDim.x slots.
__device__ inline double block_sum(double v, double* sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}
