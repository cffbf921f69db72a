// The CAM ops of conta.tensor.WsssOps (IRNet make_cam), the seeds/IR-label thresholds and CONTA's per-image class masks.
// CPU implementation and reference: conta.tensor.HostWsss (the conformance tests hold these kernels to it).
// Arithmetic that decides labels uses __fadd_rn/__fmul_rn so nvcc cannot contract it into FMAs the Java side lacks.
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

// out[y,x] = a[y,x] + b[y, w-1-x] on one h x w plane: an image's CAM plus its mirror's, flipped back (one launch per
// selected class, the planes addressed by pointer offsets)
extern "C" __global__ void flip_add(const float* a, const float* b, float* out, int h, int w) {
    i64 total = (i64)h * w;
    FOR_N(i, total) {
        i64 y = i / w;
        int x = (int)(i % w);
        out[i] = __fadd_rn(a[i], b[y * w + (w - 1 - x)]);
    }
}

// Each run of p values: x *= 1 / (max(0, max x) + eps), 0 where that divisor is 0. One block of 256 threads per run.
extern "C" __global__ void plane_max_normalise(float* x, i64 p, float eps) {
    __shared__ float sh[256];
    float* xp = x + (i64)blockIdx.x * p;
    float m = 0.f;
    for (i64 i = threadIdx.x; i < p; i += blockDim.x) m = fmaxf(m, xp[i]);
    sh[threadIdx.x] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    float d = __fadd_rn(sh[0], eps);
    float inv = d > 0.f ? __fdiv_rn(1.f, d) : 0.f;
    for (i64 i = threadIdx.x; i < p; i += blockDim.x) xp[i] = __fmul_rn(xp[i], inv);
}

// Index labels from scores [n,c,p]: m = first maximum over the c channels (at channel best); label best+1 if m > fgThr,
// 0 if m <= bgThr (or c == 0), else `ignore`. fgThr == bgThr is the argmax against a constant background plane.
extern "C" __global__ void cam_seeds(const float* cam, float* labels, int n, int c, i64 p, float fgThr, float bgThr, int ignore) {
    i64 total = (i64)n * p;
    FOR_N(i, total) {
        i64 q = i % p;
        i64 ni = i / p;
        int best = -1;
        float m = -INFINITY;
        for (int k = 0; k < c; k++) {
            float v = cam[(ni * c + k) * p + q];
            if (best < 0 || v > m) { best = k; m = v; }
        }
        labels[i] = best >= 0 && m > fgThr ? (float)(best + 1) : (best < 0 || m <= bgThr ? 0.f : (float)ignore);
    }
}

// CONTA's class masks of one label map lab [H,W]: maps[c,y,x] for label value first + c, resized to h x w by area
// (the fraction of the cell rows floor(y*H/h) .. ceil((y+1)*H/h)-1, PyTorch's adaptive_avg_pool2d) or nearest
// (src = min(floor(y*H/h), H-1), computed in double as the Java side does). One thread per (c,y,x).
extern "C" __global__ void class_masks(const float* lab, float* maps, int H, int W, int n, int h, int w, int first, int area) {
    i64 total = (i64)n * h * w;
    FOR_N(i, total) {
        int x = (int)(i % w), y = (int)((i / w) % h), c = (int)(i / ((i64)h * w));
        float want = (float)(first + c);
        float v;
        if (area) {
            int y0 = (int)(((i64)y * H) / h), y1 = (int)((((i64)y + 1) * H + h - 1) / h);
            int x0 = (int)(((i64)x * W) / w), x1 = (int)((((i64)x + 1) * W + w - 1) / w);
            int count = 0;
            for (int r = y0; r < y1; r++)
                for (int s = x0; s < x1; s++) count += lab[(i64)r * W + s] == want ? 1 : 0;
            v = (float)(__ddiv_rn((double)count, __dmul_rn((double)(y1 - y0), (double)(x1 - x0))));
        } else {
            int sy = min((int)floor(__ddiv_rn(__dmul_rn((double)y, (double)H), (double)h)), H - 1);
            int sx = min((int)floor(__ddiv_rn(__dmul_rn((double)x, (double)W), (double)w)), W - 1);
            v = lab[(i64)sy * W + sx] == want ? 1.f : 0.f;
        }
        maps[i] = v;
    }
}
