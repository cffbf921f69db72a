// Convolutions with small output maps as one GEMM, for the CPU inference plan (libconta_cpu.so, called from
// conta.tensor.cpu.GemmConv through the FFM API): batch 1, NHWC float32, any kernel size, stride, padding and dilation
// (the same both ways), with bias, ReLU and the residual sum fused:
//   y[p][o] = relu?(sum_k a[p][k] W[o][k] + bias[o] (+ y[p][o])),
// where row a[p] holds the kh x kw input pixels output pixel p reads (im2col), k = (tap, input channel).
//
// Why: on a small map (ResNet's 7x7 stage at 224) a layer's weights outweigh its products, and in a plan they come
// from memory on every call. oneDNN's kernels, at the cores' peak with warm weights, then wait for them: cold, a 7x7
// 2048 -> 512 1x1 layer takes 0.40-0.46 ms against 0.27 warm (bench/onednn_cold_bench.c, session 28). Here each
// thread's weights are one stream read in order, prefetched 4 KiB ahead, and while a thread multiplies one panel it
// prefetches the next into L2, so a layer's weights arrive while the previous ones are multiplied: that layer 0.34 ms
// against oneDNN's 0.45 (bench/gemmconv_cold_bench.c, session 29). A thread's panel, the next one and the gathered
// rows live in its L2 (up to ~2 MB for a 7x7 512 -> 512 3x3), so plans use the kernel by default only where a core's
// L2 holds 2 MB (conta.tensor.cpu.CpuFlags.largeL2).
//
// Layouts: x[h][w][cin], y[oh][ow][cout] (NHWC rows); Wp[cout/32][K][32], K = kh kw cin in (ky, kx, c) order (a
// 32-wide panel of output channels, contiguous per k: the register kernel's B), from conta_gc_pack. A 1x1 stride-1
// unpadded convolution reads x as its rows; any other first gathers them into ws (zeros for the padding), each
// thread its share of the rows, then every thread reads them all. Each thread takes a contiguous run of panels (its
// weights one stream) and, per panel, all rows in blocks of <= 8: the panel's first block reads it from memory (or
// from L2, prefetched), the others from L2.
//
// Tried (bench/RESULTS-latency.md, session 29): the rows packed k-major so that one pointer serves every broadcast
// (no faster, and the packing cost more than it saved); 64-wide panels of 6 rows, 12 rows of 32, and K cut into
// L1-sized chunks (none faster).
#include <omp.h>
#include <string.h>

static int out_size(int n, int k, int stride, int pad, int dil) { return (n + 2 * pad - dil * (k - 1) - 1) / stride + 1; }

static int gathered(int kh, int kw, int stride, int pad) { return !(kh == 1 && kw == 1 && stride == 1 && pad == 0); }

/** Wp[j][(ky kw + kx) cin + c][o] = w[32 j + o][c][ky][kx]: OIHW weights as 32-wide panels. cout: a multiple of 32. */
void conta_gc_pack(const float *w, int cin, int cout, int kh, int kw, float *Wp) {
  long K = (long)kh * kw * cin;
  for (int j = 0; j < cout / 32; j++)
    for (int t = 0; t < kh * kw; t++)
      for (int c = 0; c < cin; c++)
        for (int o = 0; o < 32; o++) Wp[((long)j * K + (long)t * cin + c) * 32 + o] = w[((long)(32 * j + o) * cin + c) * kh * kw + t];
}

/** Floats of the workspace a call needs: the gathered rows, none for a 1x1 stride-1 unpadded convolution. */
long conta_gc_workspace_floats(int h, int w, int cin, int kh, int kw, int stride, int pad, int dil) {
  if (!gathered(kh, kw, stride, pad)) return 0;
  return (long)out_size(h, kh, stride, pad, dil) * out_size(w, kw, stride, pad, dil) * kh * kw * cin;
}

#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#include <immintrin.h>

#include "rx32.h"

// rows p0 .. p1 - 1 of the im2col matrix: for each output pixel its kh x kw input pixels' channels, zeros outside
static void gather(const float *x, int h, int w, int cin, int kh, int kw, int stride, int pad, int dil, int ow, int p0, int p1,
                   float *a) {
  long K = (long)kh * kw * cin;
  for (int p = p0; p < p1; p++) {
    int oy = p / ow, ox = p % ow;
    for (int ky = 0; ky < kh; ky++)
      for (int kx = 0; kx < kw; kx++) {
        int iy = oy * stride - pad + ky * dil, ix = ox * stride - pad + kx * dil;
        float *dst = a + p * K + (long)(ky * kw + kx) * cin;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) memset(dst, 0, sizeof(float) * cin);
        else memcpy(dst, x + ((long)iy * w + ix) * cin, sizeof(float) * cin);
      }
  }
}

/**
 * y = relu?(conv(x, W) + bias (+ y if sum)) over an h x w NHWC map, on `threads` OpenMP threads (the plan's count).
 * Wp from conta_gc_pack; bias may be NULL; sum != 0 adds the values y holds (the residual written over the shortcut);
 * ws holds conta_gc_workspace_floats floats. next_wp, when not NULL, is the packed weights (K = next_k, next_cout
 * outputs) of the op the plan runs next on this kernel: each thread prefetches its first panel of them during its last
 * one here, as it does its own next panel, so that op does not start on a cold panel.
 */
void conta_gc_conv(const float *x, int h, int w, int cin, int cout, int kh, int kw, int stride, int pad, int dil, const float *Wp,
                   const float *bias, int sum, int relu, float *y, float *ws, const float *next_wp, int next_k, int next_cout,
                   int threads) {
  int oh = out_size(h, kh, stride, pad, dil), ow = out_size(w, kw, stride, pad, dil), pixels = oh * ow;
  int K = kh * kw * cin, panels = cout / 32, nrb = (pixels + 7) / 8, direct = !gathered(kh, kw, stride, pad);
  const float *a = direct ? x : ws;
#pragma omp parallel num_threads(threads)
  {
    int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    if (!direct) {
      gather(x, h, w, cin, kh, kw, stride, pad, dil, ow, (int)((long)pixels * tid / nth), (int)((long)pixels * (tid + 1) / nth), ws);
#pragma omp barrier
    }
    int j0 = (int)((long)panels * tid / nth), j1 = (int)((long)panels * (tid + 1) / nth);
    for (int j = j0; j < j1; j++) {
      const float *B = Wp + (long)j * K * 32, *bj = bias ? bias + 32 * j : 0;
      // the panel this thread multiplies next: its own next one, else its first of the next op (the same split)
      const float *next = j + 1 < j1 ? B + 32L * K : next_wp ? next_wp + (long)next_cout / 32 * tid / nth * next_k * 32 : 0;
      long nk = j + 1 < j1 ? K : next_k;
      for (int rb = 0; rb < nrb; rb++) { // rows cut evenly: 49 as 7 x 7, not 6 x 8 + a 1-row pass
        int r = (int)((long)rb * pixels / nrb), R = (int)((long)(rb + 1) * pixels / nrb) - r;
        float *C = y + (long)r * cout + 32 * j;
        const float *pf;
        int pfn = rx32_next_slice(next, 2 * nk, rb, nrb, &pf); // this block's slice of the next panel
        rx32_rows(R, K, a + (long)r * K, K, B, bj, sum ? C : 0, relu, C, cout, pf, pfn);
      }
    }
  }
}
#pragma GCC pop_options
