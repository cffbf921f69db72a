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

// Frozen batch norm's backward in one pass over dy (-Dconta.cuda.fusedAffineBackward=true; the Backend default takes
// four: the ReLU mask, two channel reductions with one block per channel, the scale). g = dy, or dy where y > 0 (y
// not null); dx = g * scale[c] + 0 as channel_affine writes it (dx not null); with sums != 0, the sums of g and g * x
// over n and the map of channel c go to partial[2 * (c * parts + part)] and the slot after it. Block (c, part) sums
// the fixed contiguous chunk [part * chunk, (part + 1) * chunk) of the channel's n * hw values in a fixed order, so
// the result does not depend on scheduling; channel_affine_bwd_finish adds a channel's parts in order.
extern "C" __global__ void channel_affine_bwd(const float* x, const float* y, const float* dy, const float* scale, float* dx,
                                              double* partial, int n, int c, i64 hw, int parts, i64 chunk, int sums) {
    __shared__ double sh[256];
    int ch = blockIdx.x / parts, part = blockIdx.x % parts;
    i64 total = (i64)n * hw, lo = (i64)part * chunk, hi = lo + chunk < total ? lo + chunk : total;
    float sc = dx ? scale[ch] : 0.f; // scale may be null when no dx is asked for
    double sg = 0, sgx = 0;
    for (i64 e = lo + threadIdx.x; e < hi; e += blockDim.x) {
        i64 bi = e / hw, off = (bi * c + ch) * hw + (e - bi * hw);
        float g = dy[off];
        if (y && !(y[off] > 0.f)) g = 0.f;
        if (sums) { sg += (double)g; sgx += (double)g * x[off]; } // x read before dx is written: dx may alias x
        if (dx) dx[off] = g * sc + 0.f;
    }
    if (sums) { // uniform across the block: every thread reaches block_sum's barriers
        double a = block_sum(sg, sh), b = block_sum(sgx, sh);
        if (threadIdx.x == 0) { partial[2 * ((i64)ch * parts + part)] = a; partial[2 * ((i64)ch * parts + part) + 1] = b; }
    }
}

// sum_g[c] and sum_gx[c] (each if not null) from channel_affine_bwd's parts, added in part order
extern "C" __global__ void channel_affine_bwd_finish(const double* partial, float* sum_g, float* sum_gx, int c, int parts) {
    FOR_N(ch, c) {
        double a = 0, b = 0;
        for (int p = 0; p < parts; p++) { a += partial[2 * (ch * parts + p)]; b += partial[2 * (ch * parts + p) + 1]; }
        if (sum_g) sum_g[ch] = (float)a;
        if (sum_gx) sum_gx[ch] = (float)b;
    }
}
