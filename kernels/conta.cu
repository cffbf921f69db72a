// CONTA's backdoor adjustment (do-operator approximated over the confounder set Z, Zhang et al. 2020):
//   s[n,c] = <q[n], kz[c]> / sqrt(D)      q = W1 x (N x D), kz = W2 z (C x D), both from cuBLAS GEMMs
//   a[n,:] = softmax_c(s[n,:])
//   m[n,k] = sum_c a[n,c] * prior[c] * z[c,k]     (M, N x K)
// Backward from dm (Z and the prior are fixed, so only dq and dkz): da = prior * (dm . z), ds = a * (da - sum a da),
// dq = ds kz / sqrt(D), dkz = ds^T q / sqrt(D). Java reference: conta.tensor.cuda.KernelRef.contaAttention*.
#include "common.cuh"

// one block per n; dynamic shared memory: C floats (scores, then attention)
extern "C" __global__ void conta_attn_fwd(const float* q, const float* kz, const float* z, const float* prior, float* a,
                                          float* m, int n, int c, int d, int k, float invSqrtD) {
    extern __shared__ float sa[];
    int ni = blockIdx.x;
    const float* qn = q + (i64)ni * d;
    for (int ci = threadIdx.x; ci < c; ci += blockDim.x) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (double)qn[j] * kz[(i64)ci * d + j];
        sa[ci] = (float)(s * invSqrtD);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        float mx = -INFINITY;
        for (int ci = 0; ci < c; ci++) mx = fmaxf(mx, sa[ci]);
        double sum = 0;
        for (int ci = 0; ci < c; ci++) sum += exp((double)sa[ci] - mx);
        for (int ci = 0; ci < c; ci++) sa[ci] = (float)(exp((double)sa[ci] - mx) / sum);
    }
    __syncthreads();
    for (int ci = threadIdx.x; ci < c; ci += blockDim.x) a[(i64)ni * c + ci] = sa[ci];
    for (int kk = threadIdx.x; kk < k; kk += blockDim.x) {
        double s = 0;
        for (int ci = 0; ci < c; ci++) s += (double)sa[ci] * prior[ci] * z[(i64)ci * k + kk];
        m[(i64)ni * k + kk] = (float)s;
    }
}

// one block per n: ds[n,:] and dq[n,:] (overwritten); dynamic shared memory: 2*C floats
extern "C" __global__ void conta_attn_bwd_q(const float* kz, const float* z, const float* prior, const float* a,
                                            const float* dm, float* ds, float* dq, int n, int c, int d, int k, float invSqrtD) {
    extern __shared__ float sh[];
    float* da = sh;
    float* dsn = sh + c;
    int ni = blockIdx.x;
    for (int ci = threadIdx.x; ci < c; ci += blockDim.x) {
        double s = 0;
        for (int kk = 0; kk < k; kk++) s += (double)dm[(i64)ni * k + kk] * z[(i64)ci * k + kk];
        da[ci] = (float)(s * prior[ci]);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double dot = 0;
        for (int ci = 0; ci < c; ci++) dot += (double)a[(i64)ni * c + ci] * da[ci];
        for (int ci = 0; ci < c; ci++) dsn[ci] = (float)(a[(i64)ni * c + ci] * (da[ci] - dot));
    }
    __syncthreads();
    for (int ci = threadIdx.x; ci < c; ci += blockDim.x) ds[(i64)ni * c + ci] = dsn[ci];
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
        double s = 0;
        for (int ci = 0; ci < c; ci++) s += (double)dsn[ci] * kz[(i64)ci * d + j];
        dq[(i64)ni * d + j] = (float)(s * invSqrtD);
    }
}

// dkz[c,j] = invSqrtD * sum_n ds[n,c] q[n,j] (overwritten); one thread per (c, j)
extern "C" __global__ void conta_attn_bwd_k(const float* q, const float* ds, float* dkz, int n, int c, int d, float invSqrtD) {
    i64 total = (i64)c * d;
    FOR_N(i, total) {
        int ci = (int)(i / d), j = (int)(i % d);
        double s = 0;
        for (int ni = 0; ni < n; ni++) s += (double)ds[(i64)ni * c + ci] * q[(i64)ni * d + j];
        dkz[i] = (float)(s * invSqrtD);
    }
}
