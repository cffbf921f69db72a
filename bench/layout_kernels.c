// Activation layout conversions written to test whether the CPU backend's oneDNN reorders are worth replacing
// (session 13; bench/layout_bench.c compares them, bench/RESULTS.md has the answer: only in a few cases, not kept in
// the engine). Our training tensors are NCHW float32; oneDNN's convolutions run on blocked layouts (nChw16c, or NHWC
// for some stride-2 ones) and, with --precision bf16, in bfloat16, so every convolution pass converts its activations
// in and out. Both layouts are, per image (NHWC) or per 16-channel block (nChw16c), the transpose of an [H*W][K]
// matrix into [K][H*W] planes, so one kernel does all: 16 x 16 tiles transposed in registers, full 64-byte lines
// written, (image or block) x row tiles split between the OpenMP threads.
//
// bf16 is the upper half of a float32; float -> bf16 rounds to nearest even (NaN kept quiet), as oneDNN does for
// normal values.
#include <omp.h>
#include <stdint.h>

int conta_layout_supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

#pragma GCC push_options
#pragma GCC target("avx512f")
#include <immintrin.h>

// r[i] (row i, 16 columns) -> r[j] (column j, 16 rows)
static inline __attribute__((always_inline)) void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // then whole 128-bit lanes: four rows' 4-column pieces gathered into each output row
  for (int i = 0; i < 4; i++) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

static inline __m512 load_bf16(const uint16_t *p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

static inline __m256i to_bf16(__m512 v) {
  __m512i u = _mm512_castps_si512(v);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb)), 16);
  __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
  return _mm512_cvtepi32_epi16(r);
}

// The rows [r0, r0 + R) of matrix b, columns [c0, c0 + 16): src[b][r][c] -> dst[b][c][r]; bf: src is bf16
static inline __attribute__((always_inline)) void tile_to_planes(const int bf, const void *src, float *dst, long rows, long cols,
                                                                 long b, long r0, int R, long c0) {
  __m512 t[16];
  long base = b * rows * cols;
  for (int i = 0; i < 16; i++) {
    if (i >= R) { t[i] = _mm512_setzero_ps(); continue; }
    long at = base + (r0 + i) * cols + c0;
    t[i] = bf ? load_bf16((const uint16_t *)src + at) : _mm512_loadu_ps((const float *)src + at);
  }
  transpose16(t);
  __mmask16 k = R == 16 ? 0xFFFF : (__mmask16)((1u << R) - 1);
  for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(dst + base + (c0 + j) * rows + r0, k, t[j]);
}

// The inverse: src[b][c][r] (float planes) -> dst[b][r][c]; bf: dst is bf16
static inline __attribute__((always_inline)) void tile_from_planes(const int bf, const float *src, void *dst, long rows, long cols,
                                                                   long b, long r0, int R, long c0) {
  __m512 t[16];
  long base = b * rows * cols;
  __mmask16 k = R == 16 ? 0xFFFF : (__mmask16)((1u << R) - 1);
  for (int j = 0; j < 16; j++) t[j] = _mm512_maskz_loadu_ps(k, src + base + (c0 + j) * rows + r0);
  transpose16(t);
  for (int i = 0; i < R; i++) {
    long at = base + (r0 + i) * cols + c0;
    if (bf) _mm256_storeu_si256((__m256i *)((uint16_t *)dst + at), to_bf16(t[i]));
    else _mm512_storeu_ps((float *)dst + at, t[i]);
  }
}

// Work items: (matrix, tile of 16 rows); each item runs across all column tiles. Static split: items are equal.
#define FOR_TILES(body)                                                                                   \
  long rt = (rows + 15) / 16, items = batches * rt;                                                      \
  _Pragma("omp parallel for schedule(static)") for (long it = 0; it < items; it++) {                      \
    long b = it / rt, r0 = (it % rt) * 16;                                                               \
    int R = rows - r0 < 16 ? (int)(rows - r0) : 16;                                                      \
    for (long c0 = 0; c0 < cols; c0 += 16) { body; }                                                     \
  }

/** dst[b][c][r] = src[b][r][c] (float32), b < batches, r < rows, c < cols; cols a multiple of 16. */
void conta_layout_to_planes_f32(const float *src, float *dst, long batches, long rows, long cols) {
  FOR_TILES(tile_to_planes(0, src, dst, rows, cols, b, r0, R, c0))
}

/** The same from bfloat16 src. */
void conta_layout_to_planes_bf16(const uint16_t *src, float *dst, long batches, long rows, long cols) {
  FOR_TILES(tile_to_planes(1, src, dst, rows, cols, b, r0, R, c0))
}

/** dst[b][r][c] = src[b][c][r] (float32). */
void conta_layout_from_planes_f32(const float *src, float *dst, long batches, long rows, long cols) {
  FOR_TILES(tile_from_planes(0, src, dst, rows, cols, b, r0, R, c0))
}

/** The same into bfloat16 dst (round to nearest even). */
void conta_layout_from_planes_bf16(const float *src, uint16_t *dst, long batches, long rows, long cols) {
  FOR_TILES(tile_from_planes(1, src, dst, rows, cols, b, r0, R, c0))
}
#pragma GCC pop_options
