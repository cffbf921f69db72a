// Reductions in double with a fixed summation order (deterministic run to run).
#include "common.cuh"

// out[ch] (+)= sum over n, hw of a (* b); one block per channel; b may be null
extern "C" __global__ void channel_dot(const float* a, const float* b, float* out, int n, int c, i64 hw, int accumulate) {
    __shared__ double sh[256];
    int ch = blockIdx.x;
    double acc = 0;
    for (int bi = 0; bi < n; bi++) {
        i64 base = ((i64)bi * c + ch) * hw;
        for (i64 i = threadIdx.x; i < hw; i += blockDim.x) acc += b ? (double)a[base + i] * b[base + i] : (double)a[base + i];
    }
    double s = block_sum(acc, sh);
    if (threadIdx.x == 0) out[ch] = (float)(accumulate ? out[ch] + s : s);
}

// partial[blockIdx.x] = sum of this block's grid-stride share of x; the host adds the partials in order
extern "C" __global__ void sum_partial(const float* x, i64 n, double* partial) {
    __shared__ double sh[256];
    double acc = 0;
    FOR_N(i, n) acc += x[i];
    double s = block_sum(acc, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}
