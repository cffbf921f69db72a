// 1x1 stride-1 convolutions for the CPU inference plan, batch 1, NHWC float32 (libconta_cpu.so, called from
// conta.tensor.cpu.Pointwise through the FFM API): y[p][o] = relu?(sum_k x[p][k] W[o][k] + bias[o] (+ y[p][o])).
//
// Why: in a plan the weights of the deep 1x1 layers (14x14 and 7x7 maps: 1-4 MB each, 100+ MB for the network) come
// from memory on every call, and oneDNN's kernels, which reach the cores' peak with warm weights, wait for them:
// cold, a 7x7 2048 -> 512 layer takes 0.40-0.46 ms against 0.27 warm (bench/onednn_cold_bench.c, session 28). Here
// the weights are one stream per thread, read in order, prefetched a fixed distance ahead (as the Winograd kernel
// does, native/src/winograd.c), so a layer's weights arrive while the previous ones are multiplied.
//
// Layouts: x[p][cin], y[p][cout] (p = pixel, NHWC rows); Wp[cout/32][cin][32] (a 32-wide panel of output channels,
// contiguous per input channel: the register kernel's B), from conta_pw_pack. A strided convolution's pixels are
// gathered first into rows of their own. Each thread takes a contiguous run of
// panels (so its weights are one stream) and, per panel, all rows in blocks of <= 8: the panel's first row block
// reads it from memory, the others from the core's L2.
#include <omp.h>

#ifndef PW_NEXT_HINT
#define PW_NEXT_HINT _MM_HINT_T1
#endif
#ifndef PW_NEXT
#define PW_NEXT 1
#endif
#ifndef PW_PREFETCH
#define PW_PREFETCH 1024 /* floats ahead in the weight stream: 4 KiB */
#endif

/** Wp[j][k][c] = w[32 j + c][k]: OIHW (1x1) weights as 32-wide panels. cout must be a multiple of 32. */
void conta_pw_pack(const float *w, int cin, int cout, float *Wp) {
  for (int j = 0; j < cout / 32; j++)
    for (int k = 0; k < cin; k++)
      for (int c = 0; c < 32; c++) Wp[((long)j * cin + k) * 32 + c] = w[(long)(32 * j + c) * cin + k];
}

/** Floats of the workspace a call needs: the gathered pixels of a strided convolution, none at stride 1. */
long conta_pw_workspace_floats(int h, int w, int stride, int cin) {
  return stride == 1 ? 0 : (long)((h - 1) / stride + 1) * ((w - 1) / stride + 1) * cin;
}

#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#include <immintrin.h>

// C[r][0..31] = epilogue(sum_k A[r][k] B[k][0..31]) for r < R (R <= 8): 2R accumulators in registers, B read once
// per k. add may be C itself (the residual sum is written over the shortcut): each element is read before written.
static inline __attribute__((always_inline)) void pw_rx32(const int R, int K, const float *A, long lda, const float *B,
                                                          const float *bias, const float *add, int relu, float *C, long ldc,
                                                          const float *pf, int pfn) {
  __m512 c0[8], c1[8];
  for (int r = 0; r < R; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }
  int li = 0, next = 0, step = pfn > 0 && K / pfn > 1 ? K / pfn : 1;
#pragma GCC unroll 4
  for (int k = 0; k < K; k++) {
    _mm_prefetch((const char *)(B + 32L * k + PW_PREFETCH), _MM_HINT_T0);
    _mm_prefetch((const char *)(B + 32L * k + PW_PREFETCH + 16), _MM_HINT_T0);
    if (k == next && li < pfn) { // spread over the pass: a burst would hold the fill buffers the A loads need
      _mm_prefetch((const char *)(pf + 16L * li), PW_NEXT_HINT);
      li++;
      next += step;
    }
    __m512 b0 = _mm512_loadu_ps(B + 32L * k), b1 = _mm512_loadu_ps(B + 32L * k + 16);
    for (int r = 0; r < R; r++) {
      __m512 a = _mm512_set1_ps(A[r * lda + k]);
      c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
    }
  }
  __m512 bb0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps(), bb1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
  __m512 zero = _mm512_setzero_ps();
  for (int r = 0; r < R; r++) {
    __m512 v0 = _mm512_add_ps(c0[r], bb0), v1 = _mm512_add_ps(c1[r], bb1);
    if (add) { v0 = _mm512_add_ps(v0, _mm512_loadu_ps(add + r * ldc)); v1 = _mm512_add_ps(v1, _mm512_loadu_ps(add + r * ldc + 16)); }
    if (relu) { v0 = _mm512_max_ps(v0, zero); v1 = _mm512_max_ps(v1, zero); }
    _mm512_storeu_ps(C + r * ldc, v0);
    _mm512_storeu_ps(C + r * ldc + 16, v1);
  }
}

static void pw_rows(int R, int K, const float *A, long lda, const float *B, const float *bias, const float *add, int relu,
                    float *C, long ldc, const float *pf, int pfn) {
  switch (R) {
    case 8: pw_rx32(8, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 7: pw_rx32(7, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 6: pw_rx32(6, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 5: pw_rx32(5, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 4: pw_rx32(4, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 3: pw_rx32(3, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 2: pw_rx32(2, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 1: pw_rx32(1, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
  }
}

/**
 * y = relu?(x W^T + bias (+ y if sum)) for a 1x1 convolution of stride `stride` (no padding) over an h x w NHWC map,
 * on `threads` OpenMP threads (the plan's count). Wp from conta_pw_pack; bias may be NULL; sum != 0 adds the values
 * y holds (the residual written over the shortcut). With stride > 1 the pixels read are first gathered into ws
 * (conta_pw_workspace_floats floats), so that the rows are evenly spaced.
 */
void conta_pw_conv(const float *x, int h, int w, int stride, int cin, int cout, const float *Wp, const float *bias, int sum,
                   int relu, float *y, float *ws, int threads) {
  int oh = (h - 1) / stride + 1, ow = (w - 1) / stride + 1, pixels = oh * ow, panels = cout / 32, nrb = (pixels + 7) / 8;
  const float *a = stride == 1 ? x : ws;
#pragma omp parallel num_threads(threads)
  {
    int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    if (stride > 1) { // each thread its share of the rows, then every thread reads them all
      for (int p = (int)((long)pixels * tid / nth); p < (int)((long)pixels * (tid + 1) / nth); p++) {
        const float *src = x + ((long)(p / ow) * stride * w + (long)(p % ow) * stride) * cin;
        int k = 0;
        for (; k + 16 <= cin; k += 16) _mm512_storeu_ps(ws + (long)p * cin + k, _mm512_loadu_ps(src + k));
        for (; k < cin; k++) ws[(long)p * cin + k] = src[k];
      }
#pragma omp barrier
    }
    int j0 = (int)((long)panels * tid / nth), j1 = (int)((long)panels * (tid + 1) / nth);
    for (int j = j0; j < j1; j++) {
      const float *B = Wp + (long)j * cin * 32, *bj = bias ? bias + 32 * j : 0;
      for (int rb = 0; rb < nrb; rb++) { // rows cut evenly: 49 as 7 x 7, not 6 x 8 + a 1-row pass
        int r = (int)((long)rb * pixels / nrb), R = (int)((long)(rb + 1) * pixels / nrb) - r;
        float *C = y + (long)r * cout + 32 * j;
        // the next panel, a slice per row block, into L2 while this one is multiplied
        long l0 = (long)rb * 2 * cin / nrb, l1 = (long)(rb + 1) * 2 * cin / nrb;
        int pfn = j + 1 < j1 && PW_NEXT ? (int)(l1 - l0) : 0;
        pw_rows(R, cin, a + (long)r * cin, cin, B, bj, sum ? C : 0, relu, C, cout, B + 32L * cin + 16 * l0, pfn);
      }
    }
  }
}
#pragma GCC pop_options
