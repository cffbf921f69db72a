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

// dx must be zeroed first; atomics, as PyTorch's CUDA kernel (sum order may differ from the CPU in the last bits)
extern "C" __global__ void resize_bilinear_bwd(const float* dy, float* dx, int planes, int h, int w, int oh, int ow,
                                               float sy, float sx, int align) {
    i64 n = (i64)planes * oh * ow;
    FOR_N(i, n) {
        i64 pl = i / ((i64)oh * ow);
        int r = (int)(i % ((i64)oh * ow)), oy = r / ow, ox = r % ow;
        int y0, y1, x0, x1;
        float a0, a1, b0, b1;
        tap(oy, h, sy, align, y0, y1, a0, a1);
        tap(ox, w, sx, align, x0, x1, b0, b1);
        float g = dy[i];
        float* d = dx + pl * h * w;
        atomicAdd(d + y0 * w + x0, a0 * b0 * g);
        atomicAdd(d + y0 * w + x1, a0 * b1 * g);
        atomicAdd(d + y1 * w + x0, a1 * b0 * g);
        atomicAdd(d + y1 * w + x1, a1 * b1 * g);
    }
}
