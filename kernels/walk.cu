// IRNet's sparse random walk (conta.tensor.WsssOps.randomWalk). CPU implementation and reference:
// conta.tensor.HostWsss.walk + SparseAffinity, which pad the grid; here the grid is unpadded and neighbours outside the
// image contribute 0 * 0, exactly the padded arrays' zeros, so the float results agree bit for bit given the weights.
// offs (ints): dy[D], dx[D], start[D+1], pathY[start[D]], pathX[start[D]]; direction d joins (y,x) to (y+dy, x+dx), dy >= 0.
#include "common.cuh"
#include <float.h>

// weight[d,y,x] = (1 - max boundary on the path of the pair ((y,x), (y,x)+off(d)))^beta, rounded to float; 0 where the
// neighbour is outside the image or the weight is below 1e-20
extern "C" __global__ void walk_affinity(const float* bd, const int* offs, float* weight, int h, int w, int dirs, double beta) {
    i64 hw = (i64)h * w, total = (i64)dirs * hw;
    const int* start = offs + 2 * dirs;
    const int* py = start + dirs + 1;
    const int* px = py + start[dirs];
    FOR_N(i, total) {
        int d = (int)(i / hw);
        i64 q = i % hw;
        int y = (int)(q / w), x = (int)(q % w);
        int dy = offs[d], dx = offs[dirs + d];
        float a = 0.f;
        if (y + dy < h && x + dx >= 0 && x + dx < w) {
            float m = 0.f;
            for (int j = start[d]; j < start[d + 1]; j++) m = fmaxf(m, bd[(i64)(y + py[j]) * w + x + px[j]]);
            a = (float)pow((double)__fadd_rn(1.f, -m), beta);
            if (a < 1e-20f) a = 0.f;
        }
        weight[i] = a;
    }
}

// degree[y,x] = 1 (the self-loop) + sum_d (weight to the forward neighbour + weight from the backward one), in double
extern "C" __global__ void walk_degree(const float* weight, const int* offs, float* degree, int h, int w, int dirs) {
    i64 hw = (i64)h * w;
    FOR_N(q, hw) {
        int y = (int)(q / w), x = (int)(q % w);
        double s = 1.0;
        for (int d = 0; d < dirs; d++) {
            int yb = y - offs[d], xb = x - offs[dirs + d];
            float wf = weight[(i64)d * hw + q];
            float wb = yb >= 0 && xb >= 0 && xb < w ? weight[(i64)d * hw + (i64)yb * w + xb] : 0.f;
            s += (double)__fadd_rn(wf, wb);
        }
        degree[q] = (float)s;
    }
}

// out[c,p] = cams[c,p] * (1 - bd[p]): the walk's start
extern "C" __global__ void walk_init(const float* cams, const float* bd, float* out, i64 k, i64 p) {
    FOR_N(i, k * p) out[i] = __fmul_rn(cams[i], __fadd_rn(1.f, -bd[i % p]));
}

// floorOut[0] = max(FLT_MIN, 1e-18 * max |x|): values below it are flushed after each step. One block of 256 threads.
extern "C" __global__ void walk_floor(const float* x, i64 n, float* floorOut) {
    __shared__ float sh[256];
    float m = 0.f;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, fabsf(x[i]));
    sh[threadIdx.x] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    if (threadIdx.x == 0) floorOut[0] = fmaxf(FLT_MIN, __fmul_rn(1e-18f, sh[0]));
}

// One step out = in T (gather form, no atomics): out[c,j] = (in[c,j] + sum_d w_fwd in[c,j+off] + w_bwd in[c,j-off]) / degree[j]
extern "C" __global__ void walk_step(const float* in, const float* weight, const int* offs, const float* degree, const float* floorp,
                                     float* out, int k, int h, int w, int dirs) {
    i64 hw = (i64)h * w, total = (i64)k * hw;
    float fl = floorp[0];
    FOR_N(i, total) {
        i64 q = i % hw;
        const float* v = in + (i / hw) * hw;
        int y = (int)(q / w), x = (int)(q % w);
        float acc = v[q];
        for (int d = 0; d < dirs; d++) {
            int dy = offs[d], dx = offs[dirs + d];
            int ya = y + dy, xa = x + dx, yb = y - dy, xb = x - dx;
            bool fa = ya < h && xa >= 0 && xa < w, fb = yb >= 0 && xb >= 0 && xb < w;
            float wf = fa ? weight[(i64)d * hw + q] : 0.f, ia = fa ? v[(i64)ya * w + xa] : 0.f;
            float wb = fb ? weight[(i64)d * hw + (i64)yb * w + xb] : 0.f, ib = fb ? v[(i64)yb * w + xb] : 0.f;
            acc = __fadd_rn(acc, __fadd_rn(__fmul_rn(wf, ia), __fmul_rn(wb, ib)));
        }
        float r = __fdiv_rn(acc, degree[q]);
        out[i] = fabsf(r) < fl ? 0.f : r;
    }
}
