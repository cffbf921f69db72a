// Layer helpers that keep the layer path on the device: frozen batch norm folded into scale/shift (and its gamma
// gradient), and the strided window copy behind crop and pad. Roundings match CpuBackend (conta.tensor.cpu.LayerKernels)
// exactly: explicit _rn intrinsics keep nvcc from contracting a*b+c into a fused multiply-add.
#include "common.cuh"

// inv = 1/sqrt(var + eps) in double, rounded to float; scale = gamma * inv; shift = beta - mean * scale (all [c])
extern "C" __global__ void bn_fold(const float* gamma, const float* beta, const float* mean, const float* var, float eps,
                                   float* scale, float* shift, float* inv, int c) {
    FOR_N(i, c) {
        float iv = (float)(1.0 / sqrt(__dadd_rn((double)var[i], (double)eps)));
        float s = __fmul_rn(gamma[i], iv);
        inv[i] = iv;
        scale[i] = s;
        shift[i] = __fsub_rn(beta[i], __fmul_rn(mean[i], s));
    }
}

// dgamma += (float)(inv * (sum_gx - mean * sum_g)), the inner terms in double (all [c])
extern "C" __global__ void bn_fold_dgamma(const float* inv, const float* mean, const float* sum_g, const float* sum_gx,
                                          float* dgamma, int c) {
    FOR_N(i, c) {
        double d = __dmul_rn((double)inv[i], __dsub_rn((double)sum_gx[i], __dmul_rn((double)mean[i], (double)sum_g[i])));
        dgamma[i] = __fadd_rn(dgamma[i], (float)d);
    }
}

// dst[p, dt + r, dl + q] = (acc: +=) src[p, st + r, sl + q] for planes p, r < h, q < w; src is planes x sh x sw, dst
// planes x dh x dw; the two do not overlap. One thread per copied element, consecutive threads along a row.
extern "C" __global__ void copy_window(const float* src, int sh, int sw, int st, int sl, float* dst, int dh, int dw, int dt,
                                       int dl, int h, int w, int planes, int acc) {
    i64 hw = (i64)h * w, n = (i64)planes * hw;
    FOR_N(i, n) {
        i64 p = i / hw, rq = i - p * hw;
        i64 r = rq / w, q = rq - r * w;
        float v = src[(p * sh + st + r) * sw + sl + q];
        i64 o = (p * dh + dt + r) * dw + dl + q;
        dst[o] = acc ? __fadd_rn(dst[o], v) : v;
    }
}
