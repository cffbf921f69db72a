// Max and average pooling with PyTorch's rules (padding, dilation for max, ceil mode, count_include_pad=True).
// CPU reference: conta.tensor.cpu.Pool. Not cuDNN: cuDNN pooling has no dilation or ceil mode and breaks max ties
// differently; PyTorch also uses its own kernels here. Backward is a gather (one thread per input pixel), so it is
// deterministic without atomics.
#include "common.cuh"

struct Win { int h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw; };

// index within the plane of the first maximum of window (oy, ox); NaN wins as in PyTorch
__device__ inline int argmax_win(const float* x, const Win& g, int oy, int ox) {
    int best = -1;
    float bv = 0.f;
    for (int i = 0; i < g.kh; i++) {
        int iy = oy * g.sh - g.ph + i * g.dh;
        if (iy < 0 || iy >= g.h) continue;
        for (int j = 0; j < g.kw; j++) {
            int ix = ox * g.sw - g.pw + j * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            float v = x[iy * g.w + ix];
            if (best < 0 || v > bv || v != v) {
                best = iy * g.w + ix;
                bv = v;
                if (v != v) return best;
            }
        }
    }
    return best;
}

extern "C" __global__ void max_pool_fwd(const float* x, float* y, int planes, int h, int w, int oh, int ow,
                                        int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
    Win g{h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw};
    i64 n = (i64)planes * oh * ow;
    FOR_N(i, n) {
        i64 pl = i / ((i64)oh * ow);
        int r = (int)(i % ((i64)oh * ow)), oy = r / ow, ox = r % ow;
        const float* xp = x + pl * h * w;
        y[i] = xp[argmax_win(xp, g, oy, ox)];
    }
}

// The gather both max-pool backwards share: the sum of dy over the windows (oy, ox) that hold pixel p = (iy, ix) and
// whose first maximum is p (first_max(oy, ox) == p), visited in ascending (oy, ox) as on the CPU
template <class FirstMax>
__device__ inline float max_pool_gather(int p, int iy, int ix, const Win& g, const float* dyp, FirstMax first_max) {
    float acc = 0.f;
    for (int a = g.kh - 1; a >= 0; a--) {
        int ty = iy + g.ph - a * g.dh;
        if (ty < 0 || ty % g.sh) continue;
        int oy = ty / g.sh;
        if (oy >= g.oh) continue;
        for (int b = g.kw - 1; b >= 0; b--) {
            int tx = ix + g.pw - b * g.dw;
            if (tx < 0 || tx % g.sw) continue;
            int ox = tx / g.sw;
            if (ox >= g.ow) continue;
            if (first_max(oy, ox) == p) acc += dyp[oy * g.ow + ox];
        }
    }
    return acc;
}

// dx[p] = sum of dy over the windows whose first maximum is p, each window's maximum recomputed from x
extern "C" __global__ void max_pool_bwd(const float* x, const float* dy, float* dx, int planes, int h, int w, int oh, int ow,
                                        int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
    Win g{h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw};
    i64 n = (i64)planes * h * w;
    FOR_N(i, n) {
        i64 pl = i / ((i64)h * w);
        int p = (int)(i % ((i64)h * w));
        const float* xp = x + pl * h * w;
        dx[i] = max_pool_gather(p, p / w, p % w, g, dy + pl * oh * ow, [&](int oy, int ox) { return argmax_win(xp, g, oy, ox); });
    }
}

// Max pooling's backward in two passes (-Dconta.cuda.maxPoolBackward=argmax): max_pool_argmax finds each window's first
// maximum once (idx, within its plane), then max_pool_bwd_idx gathers as max_pool_bwd does, in the same window order,
// reading idx instead of recomputing every window that holds the pixel (up to 4 windows of 9 reads each for ResNet's
// 3x3 stride-2 pool: 1.9 ms of a ResNet-50 step's 22.6 ms of GPU time on an H200, session 19). Same sums, same order.
extern "C" __global__ void max_pool_argmax(const float* x, int* idx, int planes, int h, int w, int oh, int ow,
                                           int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
    Win g{h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw};
    i64 n = (i64)planes * oh * ow;
    FOR_N(i, n) {
        i64 pl = i / ((i64)oh * ow);
        int r = (int)(i % ((i64)oh * ow));
        idx[i] = argmax_win(x + pl * h * w, g, r / ow, r % ow);
    }
}

extern "C" __global__ void max_pool_bwd_idx(const int* idx, const float* dy, float* dx, int planes, int h, int w, int oh, int ow,
                                            int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
    Win g{h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw};
    i64 n = (i64)planes * h * w;
    FOR_N(i, n) {
        i64 pl = i / ((i64)h * w);
        int p = (int)(i % ((i64)h * w));
        const int* ip = idx + pl * oh * ow;
        dx[i] = max_pool_gather(p, p / w, p % w, g, dy + pl * oh * ow, [&](int oy, int ox) { return ip[oy * ow + ox]; });
    }
}

// window [start, end) clipped to the padded input; size counts padding (count_include_pad)
__device__ inline void window(int o, int s, int pad, int k, int in, int& lo, int& hi, int& size) {
    int start = o * s - pad;
    int end = min(start + k, in + pad);
    size = end - start;
    lo = max(start, 0);
    hi = min(end, in);
}

extern "C" __global__ void avg_pool_fwd(const float* x, float* y, int planes, int h, int w, int oh, int ow,
                                        int kh, int kw, int sh, int sw, int ph, int pw) {
    i64 n = (i64)planes * oh * ow;
    FOR_N(i, n) {
        i64 pl = i / ((i64)oh * ow);
        int r = (int)(i % ((i64)oh * ow)), oy = r / ow, ox = r % ow;
        int y0, y1, sy, x0, x1, sx;
        window(oy, sh, ph, kh, h, y0, y1, sy);
        window(ox, sw, pw, kw, w, x0, x1, sx);
        const float* xp = x + pl * h * w;
        double acc = 0;
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) acc += xp[iy * w + ix];
        y[i] = (float)(acc / ((i64)sy * sx));
    }
}

extern "C" __global__ void avg_pool_bwd(const float* dy, float* dx, int planes, int h, int w, int oh, int ow,
                                        int kh, int kw, int sh, int sw, int ph, int pw) {
    i64 n = (i64)planes * h * w;
    FOR_N(i, n) {
        i64 pl = i / ((i64)h * w);
        int p = (int)(i % ((i64)h * w)), iy = p / w, ix = p % w;
        const float* dyp = dy + pl * oh * ow;
        float acc = 0.f;
        // windows containing iy: start = oy*sh - ph <= iy < start + kh (and < h + ph)
        for (int oy = max(0, (iy + ph - kh) / sh); oy < oh; oy++) {
            int y0, y1, sy;
            window(oy, sh, ph, kh, h, y0, y1, sy);
            if (oy * sh - ph > iy) break;
            if (iy < y0 || iy >= y1) continue;
            for (int ox = max(0, (ix + pw - kw) / sw); ox < ow; ox++) {
                int x0, x1, sx;
                window(ox, sw, pw, kw, w, x0, x1, sx);
                if (ox * sw - pw > ix) break;
                if (ix < x0 || ix >= x1) continue;
                acc += (float)(dyp[oy * ow + ox] / ((double)sy * sx));
            }
        }
        dx[i] = acc;
    }
}
