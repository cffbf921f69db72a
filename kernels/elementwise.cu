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
