// Class activation maps (IRNet make_cam), seeds and the class-mean masks of CONTA's confounder set.
// Java reference: conta.tensor.cuda.KernelRef (cam, normaliseMax, seeds, classMeans); resize+accumulate is
// resize_bilinear_fwd with accumulate=1.
#include "common.cuh"

// cam[n,c,p] = relu(sum_k w[c,k] * feat[n,k,p]); one thread per (n,c,p), p fastest so feat reads coalesce
extern "C" __global__ void cam_fwd(const float* feat, const float* w, float* cam, int n, int k, int c, i64 p) {
    i64 total = (i64)n * c * p;
    FOR_N(i, total) {
        i64 q = i % p, nc = i / p;
        int ci = (int)(nc % c), ni = (int)(nc / c);
        const float* f = feat + (i64)ni * k * p + q;
        const float* wr = w + (i64)ci * k;
        float acc = 0.f;
        for (int j = 0; j < k; j++) acc = fmaf(wr[j], f[(i64)j * p], acc);
        cam[i] = acc > 0.f ? acc : 0.f;
    }
}

// x[plane] /= (max(x[plane]) + eps); one block per plane (IRNet: cam / (adaptive_max_pool2d(cam, 1) + 1e-5))
extern "C" __global__ void plane_max_normalise(float* x, i64 p, float eps) {
    __shared__ float sh[256];
    float* xp = x + (i64)blockIdx.x * p;
    float m = -INFINITY;
    for (i64 i = threadIdx.x; i < p; i += blockDim.x) m = fmaxf(m, xp[i]);
    sh[threadIdx.x] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    float d = sh[0] + eps;
    for (i64 i = threadIdx.x; i < p; i += blockDim.x) xp[i] = xp[i] / d;
}

// Seeds: over the classes with present[n,c] != 0, m = max cam (first max wins), label = argmax+1 if m > fgThr,
// 0 (background) if m <= bgThr, else `ignore`. fgThr == bgThr is IRNet's "pad a constant background and argmax".
extern "C" __global__ void cam_seeds(const float* cam, const float* present, float* labels, int n, int c, i64 p,
                                     float fgThr, float bgThr, int ignore) {
    i64 total = (i64)n * p;
    FOR_N(i, total) {
        i64 q = i % p;
        int ni = (int)(i / p);
        int best = -1;
        float m = -INFINITY;
        for (int k = 0; k < c; k++) {
            if (present[(i64)ni * c + k] == 0.f) continue;
            float v = cam[((i64)ni * c + k) * p + q];
            if (best < 0 || v > m) { best = k; m = v; }
        }
        labels[i] = best >= 0 && m > fgThr ? (float)(best + 1) : (best < 0 || m <= bgThr ? 0.f : (float)ignore);
    }
}

// Per image and class: mean feature over the pixels labelled c (labels in [0, C); other values ignored).
// means[n,c,k] = sum_p [lab==c] feat[n,k,p] / count (0 where count == 0); counts[n,c] = count. One thread per (n,c,k).
extern "C" __global__ void class_means(const float* feat, const float* labels, float* means, float* counts,
                                       int n, int k, int c, i64 p) {
    i64 total = (i64)n * c * k;
    FOR_N(i, total) {
        int kk = (int)(i % k);
        i64 nc = i / k;
        int ci = (int)(nc % c), ni = (int)(nc / c);
        const float* f = feat + ((i64)ni * k + kk) * p;
        const float* l = labels + (i64)ni * p;
        double s = 0;
        i64 cnt = 0;
        for (i64 q = 0; q < p; q++)
            if (l[q] == (float)ci) { s += f[q]; cnt++; }
        means[i] = cnt ? (float)(s / cnt) : 0.f;
        if (kk == 0) counts[nc] = (float)cnt;
    }
}
