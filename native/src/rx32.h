// The float32 register kernel that conta's CPU kernels share (winograd.c's GEMMs, gemmconv.c's): C = A B for up to 8
// rows of A against a 32-wide panel B, with an optional epilogue. Include it inside a region compiled for AVX-512
// (#pragma GCC target("avx512f,fma"), after <immintrin.h>); both functions are always inlined, so constant NULL / 0
// arguments (Winograd's: no epilogue, no next panel) leave no code behind.

// How far ahead (floats) the kernel prefetches its B stream: 4 KiB. B is read in order (a panel's K rows, then the
// next panel, which follows it in memory), but in a network it comes from DRAM (other layers' weights evicted it) and
// the hardware prefetchers restart at every 4 KiB page. Measured with bench/winograd_bench.c FLUSH=1 (caches flushed
// before each call): 7x7 512 -> 512 0.81 -> 0.64-0.75 ms, 41x41 d4 512 -> 512 warm 21-22 -> 15-18 ms; 512 and 2048
// were no better, and the small warm shapes did not change.
#define RX32_PREFETCH 1024

// C[r][0..31] = epilogue(sum_k A[r lda + k] B[k][0..31]) for r < R (R <= 8): 2R accumulators in registers, B read once
// per k. Epilogue: + bias[0..31] (if bias), + add[r ldc ..] (if add: may be C itself, the residual sum written over the
// shortcut; each element is read before written), max(0, .) (if relu). pfn lines (16 floats) from pf are prefetched
// into L2 meanwhile, one every K / pfn steps (the next panel, gemmconv.c): spread over the pass, since a burst held
// the fill buffers that the loads of A and B need (19-21 k cycles a pass against 14 k, session 29).
static inline __attribute__((always_inline)) void rx32(const int R, int K, const float *A, long lda, const float *B,
                                                       const float *bias, const float *add, int relu, float *C, long ldc,
                                                       const float *pf, int pfn) {
  __m512 c0[8], c1[8];
  for (int r = 0; r < R; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }
  int li = 0, next = 0, step = pfn > 0 && K / pfn > 1 ? K / pfn : 1;
#pragma GCC unroll 4
  for (int k = 0; k < K; k++) {
    _mm_prefetch((const char *)(B + 32L * k + RX32_PREFETCH), _MM_HINT_T0);
    _mm_prefetch((const char *)(B + 32L * k + RX32_PREFETCH + 16), _MM_HINT_T0);
    if (pfn > 0 && k == next && li < pfn) {
      _mm_prefetch((const char *)(pf + 16L * li), _MM_HINT_T1);
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
  if (bias) {
    __m512 bb0 = _mm512_loadu_ps(bias), bb1 = _mm512_loadu_ps(bias + 16);
    for (int r = 0; r < R; r++) { c0[r] = _mm512_add_ps(c0[r], bb0); c1[r] = _mm512_add_ps(c1[r], bb1); }
  }
  for (int r = 0; r < R; r++) {
    __m512 v0 = c0[r], v1 = c1[r];
    if (add) { v0 = _mm512_add_ps(v0, _mm512_loadu_ps(add + r * ldc)); v1 = _mm512_add_ps(v1, _mm512_loadu_ps(add + r * ldc + 16)); }
    if (relu) { v0 = _mm512_max_ps(v0, _mm512_setzero_ps()); v1 = _mm512_max_ps(v1, _mm512_setzero_ps()); }
    _mm512_storeu_ps(C + r * ldc, v0);
    _mm512_storeu_ps(C + r * ldc + 16, v1);
  }
}

// The slice of the next panel (`lines` lines of 16 floats at `next`, NULL for none) that row block rb of nrb
// prefetches while it multiplies the current panel: its first line in *pf, the count returned (rx32's pf, pfn).
static inline int rx32_next_slice(const float *next, long lines, int rb, int nrb, const float **pf) {
  long l0 = (long)rb * lines / nrb, l1 = (long)(rb + 1) * lines / nrb;
  *pf = next ? next + 16 * l0 : NULL;
  return next ? (int)(l1 - l0) : 0;
}

// rx32 for a run-time R (1..8): one inlined copy of the kernel per row count
static inline __attribute__((always_inline)) void rx32_rows(int R, int K, const float *A, long lda, const float *B, const float *bias,
                                                            const float *add, int relu, float *C, long ldc, const float *pf, int pfn) {
  switch (R) {
    case 8: rx32(8, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 7: rx32(7, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 6: rx32(6, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 5: rx32(5, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 4: rx32(4, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 3: rx32(3, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 2: rx32(2, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
    case 1: rx32(1, K, A, lda, B, bias, add, relu, C, ldc, pf, pfn); break;
  }
}
