// Elementwise ops of the Backend interface; CPU reference: conta.tensor.cpu.CpuBackend / Elementwise.
#include "common.cuh"

extern "C" __global__ void fill_f32(float* x, i64 n, float v) { FOR_N(i, n) x[i] = v; }

extern "C" __global__ void scale_f32(const float* x, float s, float* out, i64 n) { FOR_N(i, n) out[i] = x[i] * s; }

// out = alpha*a + beta*b; out may alias a or b (each element is read before it is written by the same thread)
extern "C" __global__ void add_scaled(const float* a, float alpha, const float* b, float beta, float* out, i64 n) {
    FOR_N(i, n) out[i] = alpha * a[i] + beta * b[i];
}

extern "C" __global__ void mul_f32(const float* a, const float* b, float* out, i64 n) { FOR_N(i, n) out[i] = a[i] * b[i]; }

// NaN propagates as in the CPU max(x, 0) lanes: a NaN input gives NaN
extern "C" __global__ void relu_fwd(const float* x, float* y, i64 n) {
    FOR_N(i, n) { float v = x[i]; y[i] = v > 0.f ? v : (v != v ? v : 0.f); }
}

extern "C" __global__ void relu_bwd(const float* y, const float* dy, float* dx, i64 n) {
    FOR_N(i, n) dx[i] = y[i] > 0.f ? dy[i] : 0.f;
}

// float4 variants of the four busiest elementwise kernels (-Dconta.cuda.vectorElementwise=true; the caller checks that
// every array is 16-byte aligned): n / 4 vector lanes by a grid-stride loop, the n % 4 tail by block 0's first threads.
// The same arithmetic per element as the scalar kernels above; out may alias an input as there (each thread reads its
// lanes before it writes them). On an H200 the scalar relu_bwd averaged 34 us a call where PyTorch's vectorised
// threshold_backward took 18 us over ResNet-50's same 49 calls (session 19, ncu).
#define TAIL(n, body) if (blockIdx.x == 0 && threadIdx.x < (n) % 4) { i64 i = (n) / 4 * 4 + threadIdx.x; body; }

__device__ inline float relu1(float v) { return v > 0.f ? v : (v != v ? v : 0.f); }

extern "C" __global__ void relu_fwd_v4(const float* x, float* y, i64 n) {
    const float4* x4 = (const float4*)x;
    float4* y4 = (float4*)y;
    FOR_N(i, n / 4) { float4 v = x4[i]; y4[i] = make_float4(relu1(v.x), relu1(v.y), relu1(v.z), relu1(v.w)); }
    TAIL(n, y[i] = relu1(x[i]))
}

extern "C" __global__ void relu_bwd_v4(const float* y, const float* dy, float* dx, i64 n) {
    const float4 *y4 = (const float4*)y, *g4 = (const float4*)dy;
    float4* d4 = (float4*)dx;
    FOR_N(i, n / 4) {
        float4 v = y4[i], g = g4[i];
        d4[i] = make_float4(v.x > 0.f ? g.x : 0.f, v.y > 0.f ? g.y : 0.f, v.z > 0.f ? g.z : 0.f, v.w > 0.f ? g.w : 0.f);
    }
    TAIL(n, dx[i] = y[i] > 0.f ? dy[i] : 0.f)
}

extern "C" __global__ void add_scaled_v4(const float* a, float alpha, const float* b, float beta, float* out, i64 n) {
    const float4 *a4 = (const float4*)a, *b4 = (const float4*)b;
    float4* o4 = (float4*)out;
    FOR_N(i, n / 4) {
        float4 u = a4[i], v = b4[i];
        o4[i] = make_float4(alpha * u.x + beta * v.x, alpha * u.y + beta * v.y, alpha * u.z + beta * v.z, alpha * u.w + beta * v.w);
    }
    TAIL(n, out[i] = alpha * a[i] + beta * b[i])
}

extern "C" __global__ void scale_f32_v4(const float* x, float s, float* out, i64 n) {
    const float4* x4 = (const float4*)x;
    float4* o4 = (float4*)out;
    FOR_N(i, n / 4) { float4 v = x4[i]; o4[i] = make_float4(v.x * s, v.y * s, v.z * s, v.w * s); }
    TAIL(n, out[i] = x[i] * s)
}

// the two branches avoid exp overflow, as Losses.sigmoid does (in double there, float here: within 1 ulp)
extern "C" __global__ void sigmoid_fwd(const float* x, float* y, i64 n) {
    FOR_N(i, n) {
        double v = x[i];
        y[i] = (float)(v >= 0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v)));
    }
}

// y = x*scale[c] + shift[c]; shift may be null
extern "C" __global__ void channel_affine(const float* x, const float* scale, const float* shift, float* y, int c, i64 hw, i64 n) {
    FOR_N(i, n) {
        int ch = (int)((i / hw) % c);
        y[i] = x[i] * scale[ch] + (shift ? shift[ch] : 0.f);
    }
}

// One pass where the Backend defaults take two (-Dconta.cuda.fusedRelu=true): channelAffine then relu in place, and
// addScaled(a, 1, b, 1) then relu in place. Same arithmetic: relu1 of x * scale + shift, and of a + b (1 * a is a).
// On an H200 the two-pass forms took 3.9 and 3.8 ms of the CAM classifier's 89 ms step (session 19, --profile device).
extern "C" __global__ void channel_affine_relu(const float* x, const float* scale, const float* shift, float* y, int c, i64 hw, i64 n) {
    FOR_N(i, n) {
        int ch = (int)((i / hw) % c);
        y[i] = relu1(x[i] * scale[ch] + (shift ? shift[ch] : 0.f));
    }
}

extern "C" __global__ void add_relu(const float* a, const float* b, float* y, i64 n) { FOR_N(i, n) y[i] = relu1(a[i] + b[i]); }

// dst[:, dstC0+k] += src[:, srcC0+k] for k < count (the overwrite case is a cudaMemcpy2D on the host side)
extern "C" __global__ void copy_channels_acc(const float* src, int cs, int srcC0, float* dst, int cd, int dstC0,
                                             int count, i64 hw, int nb) {
    i64 per = (i64)count * hw, total = per * nb;
    FOR_N(i, total) {
        i64 b = i / per, r = i % per;
        dst[(b * cd + dstC0) * hw + r] += src[(b * cs + srcC0) * hw + r];
    }
}

// torch.optim.SGD: d = g + wd*p; buf = first ? d : momentum*buf + d; p -= lr*buf (buf may be null when momentum == 0)
extern "C" __global__ void sgd_step(float* p, const float* g, float* buf, float lr, float momentum, float wd, int first, i64 n) {
    FOR_N(i, n) {
        float pi = p[i];
        float d = g[i] + wd * pi;
        if (momentum != 0.f) {
            d = first ? d : momentum * buf[i] + d;
            buf[i] = d;
        }
        p[i] = pi - lr * d;
    }
}
