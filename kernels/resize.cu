// Bilinear resize with PyTorch's upsample_bilinear2d coordinates; CPU reference: conta.tensor.cpu.Resize.
// The source coordinate uses __fmul_rn/__fadd_rn so nvcc cannot fuse it into an FMA: Java rounds each step, and a
// differently rounded coordinate could pick another tap. `scale` is computed on the host exactly as Resize.taps does.
#include "common.cuh"

__device__ inline void tap(int o, int in, float scale, int align, int& i0, int& i1, float& w0, float& w1) {
    float src = align ? __fmul_rn(scale, (float)o) : fmaxf(0.f, __fadd_rn(__fmul_rn(scale, __fadd_rn((float)o, 0.5f)), -0.5f));
    int a = min((int)src, in - 1);
    i0 = a;
    i1 = a + (a < in - 1 ? 1 : 0);
    w1 = __fadd_rn(src, -(float)a);
    w0 = __fadd_rn(1.f, -w1);
}

// y (+)= bilinear(x); accumulate=1 is the multi-scale CAM sum
extern "C" __global__ void resize_bilinear_fwd(const float* x, float* y, int planes, int h, int w, int oh, int ow,
                                               float sy, float sx, int align, int accumulate) {
    i64 n = (i64)planes * oh * ow;
    FOR_N(i, n) {
        i64 pl = i / ((i64)oh * ow);
        int r = (int)(i % ((i64)oh * ow)), oy = r / ow, ox = r % ow;
        int y0, y1, x0, x1;
        float a0, a1, b0, b1;
        tap(oy, h, sy, align, y0, y1, a0, a1);
        tap(ox, w, sx, align, x0, x1, b0, b1);
        const float* xp = x + pl * h * w;
        float v = a0 * (b0 * xp[y0 * w + x0] + b1 * xp[y0 * w + x1]) + a1 * (b0 * xp[y1 * w + x0] + b1 * xp[y1 * w + x1]);
        y[i] = accumulate ? y[i] + v : v;
    }
}

// acc[pl, oy, ox] += bilinear(x -> gh x gw)[pl, oy, ox] for oy < oh, ox < ow (oh <= gh, ow <= gw): one scale of the
// multi-scale CAM sum, the grid cropped back to the image. sy, sx are the scales of x -> the grid (align_corners false).
extern "C" __global__ void resize_crop_acc(const float* x, float* acc, int planes, int h, int w, int oh, int ow, float sy, float sx) {
    i64 n = (i64)planes * oh * ow;
    FOR_N(i, n) {
        i64 pl = i / ((i64)oh * ow);
        int r = (int)(i % ((i64)oh * ow)), oy = r / ow, ox = r % ow;
        int y0, y1, x0, x1;
        float a0, a1, b0, b1;
        tap(oy, h, sy, 0, y0, y1, a0, a1);
        tap(ox, w, sx, 0, x0, x1, b0, b1);
        const float* xp = x + pl * h * w;
        float v = a0 * (b0 * xp[y0 * w + x0] + b1 * xp[y0 * w + x1]) + a1 * (b0 * xp[y1 * w + x0] + b1 * xp[y1 * w + x1]);
        acc[i] = __fadd_rn(acc[i], v);
    }
}

// Output rows (or columns) [lo, hi] whose taps can reach input index i: src(o) lies in (i - 1, i + 1) there; the window
// is widened by 2 on each side against rounding and then checked tap by tap by the caller.
__device__ inline void reach(int i, int in, int out, float scale, int align, int& lo, int& hi) {
    if (!(scale > 0.f)) { lo = 0; hi = out - 1; return; }
    float a = align ? (i - 1) / scale : (i - 0.5f) / scale - 0.5f;
    float b = align ? (i + 1) / scale : (i + 1.5f) / scale - 0.5f;
    lo = max(0, (int)floorf(a) - 2);
    hi = min(out - 1, (int)ceilf(b) + 2);
    if (i == 0) lo = 0;              // every output clamped to src 0 lands on input 0
    if (i == in - 1) hi = out - 1;   // and every one past the last input on the last
}

// Backward in gather form: dx[pl, iy, ix] = sum over the outputs whose taps include (iy, ix) of the tap weight * dy,
// summed in output order by one thread, so the result does not depend on scheduling (no float atomics).
extern "C" __global__ void resize_bilinear_bwd(const float* dy, float* dx, int planes, int h, int w, int oh, int ow,
                                               float sy, float sx, int align) {
    i64 n = (i64)planes * h * w;
    FOR_N(i, n) {
        i64 pl = i / ((i64)h * w);
        int r = (int)(i % ((i64)h * w)), iy = r / w, ix = r % w;
        int ylo, yhi, xlo, xhi;
        reach(iy, h, oh, sy, align, ylo, yhi);
        reach(ix, w, ow, sx, align, xlo, xhi);
        const float* g = dy + pl * oh * ow;
        float s = 0.f;
        for (int oy = ylo; oy <= yhi; oy++) {
            int y0, y1;
            float a0, a1;
            tap(oy, h, sy, align, y0, y1, a0, a1);
            float wy = (y0 == iy ? a0 : 0.f) + (y1 == iy ? a1 : 0.f);
            if (y0 != iy && y1 != iy) continue;
            for (int ox = xlo; ox <= xhi; ox++) {
                int x0, x1;
                float b0, b1;
                tap(ox, w, sx, align, x0, x1, b0, b1);
                if (x0 != ix && x1 != ix) continue;
                float wx = (x0 == ix ? b0 : 0.f) + (x1 == ix ? b1 : 0.f);
                s += wy * wx * g[(i64)oy * ow + ox];
            }
        }
        dx[i] = s;
    }
}
