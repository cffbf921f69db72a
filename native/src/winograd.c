// Winograd convolution for the CPU inference plan (libconta_cpu.so, called from conta.tensor.cpu.Winograd through the
// FFM API). Batch 1, NHWC float32, 3x3, stride 1, padding = dilation, optional bias and ReLU.
//
// Why: at fp32 the plan's convolutions run as fast as ONNX Runtime's, layer for layer (bench/RESULTS-latency.md,
// session 8), so a lower latency needs fewer multiply-adds. Winograd F(m x m, 3x3) computes an m x m output tile from
// an (m+2) x (m+2) input tile with (m+2)^2 multiply-adds per input/output channel pair instead of 9 m^2: F(2x2,3x3)
// 16 for 4 outputs (2.25x fewer), F(4x4,3x3) 36 for 16 (4x fewer, larger transform constants: errors ~3x those of
// F(2x2) in float, and 2.25x more transformed weights). conta_wino_tile picks F(4x4) up to 128 -> 128 channels,
// F(2x2) above, where the transformed weights would cost more memory traffic than the products saved (F(4x4) at
// 256 -> 256, 14x14, was tried again in session 12: 2.4 vs 2.2 ms for ResNet-50's five layers). The widest layers,
// 512 -> 512, read 16 MB of transformed weights from memory per call: the GEMM prefetches them (RX32_PREFETCH), and
// while it multiplies one 32-wide panel it prefetches the next into L2 (session 29: the plan's Winograd ops 3.8-4.0
// against 4.3-4.6 ms of ResNet-50 @224).
//
// A probe that ran the three stages separately (bench/winograd_probe.c, in git history before session 11) lost at
// 56x56 because the transformed planes went through memory; here they do not: the tiles are cut into blocks whose
// transformed input V (P = (m+2)^2 planes) stays in the core's L2, and for each block a thread runs input transform
// -> P GEMMs (an 8 x 32 register kernel) -> output transform (+ bias, ReLU), per chunk of output channels (the
// products M of a chunk stay in L2 too). Each
// thread takes its own blocks (all chunks), or, when there are too few blocks, its own chunks (all blocks): one
// OpenMP region, no barrier, no tile transformed twice by a thread.
//
// Layouts: x[h][w][cin], y[h][w][cout] (NHWC, batch 1); U[P][cout/32][cin][32] (a 32-wide panel of output channels
// contiguous per input channel: the GEMM kernel's B); per thread workspace V[P][TB][cin] and M[P][TB][NC].
// Tiles: tile (ty, tx) reads input rows m*ty-1 .. m*ty+m (outside = 0, the padding) and writes output rows m*ty ..
// m*ty+m-1 (those beyond the map dropped). Dilation d (padding d, DeepLab's dilated blocks): the output splits into
// d x d phases (rows py, py+d, ...; columns px, px+d, ...), each an ordinary 3x3 convolution of the input's same phase,
// so a tile steps by d instead of 1 and the phases' tiles are laid end to end.
#include <cpuid.h>
#include <omp.h>
#include <stddef.h>

#ifndef L2_U_BYTES
#define L2_U_BYTES (512 * 1024) /* bounds a chunk of output channels: its U (and M) */
#endif
#ifndef L2_V_BYTES
#define L2_V_BYTES (256 * 1024) /* a block of transformed input */
#endif

// A wide layer's U is larger than L2, so every block of tiles reads all of it from memory again: with 256 KB of V a
// block (8 tiles at 512 -> 512) each 64 KB panel of U served 8 rows, and 512 -> 512 at 28x28 took 9-10 ms against
// oneDNN's 8.2 (bench/wino_blocks_bench.c, session 30). Where a core's L2 holds 2 MB, such layers take blocks of half
// of L2 (25-32 tiles there): 5.5-5.7 ms. Layers whose U fits L2 keep 256 KB blocks (bigger ones were slower: 0.34 against
// 0.22 ms at 56x56, 64 -> 64). conta.tensor.cpu.Winograd passes the L2 size (CpuFlags.l2Bytes) and whether wide
// layers take L2-sized blocks (by default where L2 holds 2 MB; -Dconta.plan.winograd.wideblocks) before any plan is
// made; never set, or wide = 0, keeps 256 KB blocks everywhere.
static long l2_bytes;
static int wide_blocks;
void conta_wino_set_l2(long bytes, int wide) { l2_bytes = bytes; wide_blocks = wide; }
static long v_block_bytes(long u_bytes) { return wide_blocks && l2_bytes > 0 && u_bytes > l2_bytes ? l2_bytes / 2 : L2_V_BYTES; }

int conta_wino_supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

#ifndef WINO_NEXT
#define WINO_NEXT 1 /* 0: no next-panel prefetch, for measurements (bench/RESULTS-latency.md, session 29) */
#endif

#ifndef F4_MAX_PAIRS
#define F4_MAX_PAIRS (128 * 128) /* F(4x4,3x3) up to 128 -> 128: beyond, its 36 weight planes cost more than it saves */
#endif

/** Output tile size m: F(4x4,3x3) (36 products per 16 outputs) for narrow layers, F(2x2,3x3) (16 per 4) for wide. */
int conta_wino_tile(int cin, int cout) { return (long)cin * cout <= F4_MAX_PAIRS ? 4 : 2; }

static int positions(int cin, int cout) { int a = conta_wino_tile(cin, cout) + 2; return a * a; }

// The bf16 kernel always uses F(2x2,3x3): with V rounded to bf16, F(4x4)'s larger transform constants gave errors
// 12x those of oneDNN's direct bf16 convolution (4.4e-2 vs 3.5e-3 of max |y| at 56x56, 64 -> 64;
// bench/winograd_bf16_bench.c), F(2x2) 1.3x (3.2e-3 vs 2.5e-3).
#define BF16_TILE 2

long conta_wino_weights_floats(int cin, int cout) { return (long)positions(cin, cout) * cin * cout; }

int conta_wino_max_threads(void) { return omp_get_max_threads(); }

// the item grid for a shape: tiles per block (tb), blocks, output channels per chunk (nc), chunks
typedef struct { int m, P, d, th, tw, tiles, tb, nblk, nc, nch; } grid_t;

// whether the threads split the chunks of output channels (each all blocks) rather than the blocks: when there are
// fewer than two blocks per thread and the chunks split evenly
static int split_chunks(const grid_t *g, int threads) { return g->nch % threads == 0 && g->nblk < 2 * threads; }

static grid_t grid_m(int m, int h, int w, int d, int cin, int cout, int threads) {
  grid_t g;
  g.m = m; g.P = (m + 2) * (m + 2);
  g.d = d; // d x d phases, each a (h/d) x (w/d) sub-image convolved without dilation
  g.th = ((h + d - 1) / d + g.m - 1) / g.m; g.tw = ((w + d - 1) / d + g.m - 1) / g.m; g.tiles = d * d * g.th * g.tw;
  g.nc = cout;
  while ((long)g.P * cin * g.nc * 4 > L2_U_BYTES && g.nc % 64 == 0) g.nc /= 2;
  g.nch = cout / g.nc;
  int tbmax = (int)(v_block_bytes(g.P * 4L * cin * cout) / (g.P * 4L * cin));
  if (tbmax < 8) tbmax = 8;
  if (g.P * 4L * cin * g.tiles <= 4L * L2_V_BYTES) tbmax = g.tiles; // few tiles: one block, transformed once per thread
  g.nblk = (g.tiles + tbmax - 1) / tbmax;
  if (!split_chunks(&g, threads)) // blocks split evenly between the threads
    while (g.nblk % threads != 0 && g.nblk < g.tiles) g.nblk++;
  g.tb = (g.tiles + g.nblk - 1) / g.nblk;
  g.nblk = (g.tiles + g.tb - 1) / g.tb;
  return g;
}

static grid_t grid(int h, int w, int d, int cin, int cout, int threads) {
  return grid_m(conta_wino_tile(cin, cout), h, w, d, cin, cout, threads);
}

// V and M blocks per thread: the workspace of both kernels (the bf16 kernel's V takes half its float slot)
static long workspace(const grid_t *g, int cin, int threads) { return (long)threads * g->P * g->tb * (cin + g->nc) + 16; }

/** Workspace floats for `threads` threads (V and M blocks per thread). */
long conta_wino_workspace_floats(int h, int w, int d, int cin, int cout, int threads) {
  grid_t g = grid(h, w, d, cin, cout, threads);
  return workspace(&g, cin, threads);
}

// The rectangle of the (block, chunk) grid thread tid of nth takes: its own blocks and all chunks, or, when there are
// fewer than two blocks a thread and the chunks split evenly (split_chunks), all blocks and its own chunks.
static void thread_share(const grid_t *g, int tid, int nth, int *b0, int *b1, int *c0, int *c1) {
  int chunks = split_chunks(g, nth);
  *b0 = chunks ? 0 : tid * g->nblk / nth; *b1 = chunks ? g->nblk : (tid + 1) * g->nblk / nth;
  *c0 = chunks ? tid * g->nch / nth : 0; *c1 = chunks ? (tid + 1) * g->nch / nth : g->nch;
}

/**
 * U = G g G^T per (output, input) channel pair, packed in 32-wide output-channel panels: U[P][cout/32][cin][32].
 * w is [cout][cin][3][3]. G for F(2x2,3x3): rows (1,0,0), (1,1,1)/2, (1,-1,1)/2, (0,0,1); for F(4x4,3x3) (points 0,
 * +-1, +-2): (1/4,0,0), -(1,1,1)/6, -(1,-1,1)/6, (1,2,4)/24, (1,-2,4)/24, (0,0,1). In double, rounded once at the end.
 */
static void transform_weights_m(int m, const float *w, int cin, int cout, float *U);

void conta_wino_transform_weights(const float *w, int cin, int cout, float *U) {
  transform_weights_m(conta_wino_tile(cin, cout), w, cin, cout, U);
}

static void transform_weights_m(int m, const float *w, int cin, int cout, float *U) {
  static const double G2[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
  static const double G4[6][3] = {{.25, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6},
                                  {1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}};
  int a = m + 2;
  const double(*G)[3] = a == 6 ? G4 : G2;
  for (int o = 0; o < cout; o++)
    for (int c = 0; c < cin; c++) {
      const float *g = w + ((long)o * cin + c) * 9;
      double t[6][3], u[6][6];
      for (int i = 0; i < a; i++) // G g
        for (int j = 0; j < 3; j++) t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
      for (int i = 0; i < a; i++) // (G g) G^T
        for (int j = 0; j < a; j++) u[i][j] = t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
      for (int p = 0; p < a * a; p++)
        U[(((long)p * (cout / 32) + o / 32) * cin + c) * 32 + o % 32] = (float)u[p / a][p % a];
    }
}

#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#include <immintrin.h>

// the output pixel (top left of its m x m) of tile t: phase (py, px), then the tile (ty, tx) within the phase
static inline void tile_origin(const grid_t *g, int t, int *oy, int *ox) {
  int per = g->th * g->tw, phase = t / per, r = t % per;
  *oy = phase / g->d + g->d * g->m * (r / g->tw);
  *ox = phase % g->d + g->d * g->m * (r % g->tw);
}

#include "rx32.h"

// The transforms, one 16-channel vector at a time. B^T for F(2x2,3x3): rows (1,0,-1,0), (0,1,1,0), (0,-1,1,0),
// (0,1,0,-1); A^T: (1,1,1,0), (0,1,-1,-1).
static inline __attribute__((always_inline)) void bt4(const __m512 d[4], __m512 u[4]) {
  u[0] = _mm512_sub_ps(d[0], d[2]);
  u[1] = _mm512_add_ps(d[1], d[2]);
  u[2] = _mm512_sub_ps(d[2], d[1]);
  u[3] = _mm512_sub_ps(d[1], d[3]);
}

static inline __attribute__((always_inline)) void at4(const __m512 v[4], __m512 s[2]) {
  s[0] = _mm512_add_ps(_mm512_add_ps(v[0], v[1]), v[2]);
  s[1] = _mm512_sub_ps(_mm512_sub_ps(v[1], v[2]), v[3]);
}

// F(4x4,3x3), points 0, +-1, +-2: B^T rows (4,0,-5,0,1,0), (0,-4,-4,1,1,0), (0,4,-4,-1,1,0), (0,-2,-1,2,1,0),
// (0,2,-1,-2,1,0), (0,4,0,-5,0,1); A^T: (1,1,1,1,1,0), (0,1,-1,2,-2,0), (0,1,1,4,4,0), (0,1,-1,8,-8,1).
static inline __attribute__((always_inline)) void bt6(const __m512 d[6], __m512 u[6]) {
  const __m512 four = _mm512_set1_ps(4), five = _mm512_set1_ps(5), two = _mm512_set1_ps(2);
  __m512 d4_d2 = _mm512_sub_ps(d[4], d[2]), d3_d1 = _mm512_sub_ps(d[3], d[1]);
  u[0] = _mm512_add_ps(_mm512_fnmadd_ps(five, d[2], _mm512_mul_ps(four, d[0])), d[4]);
  u[1] = _mm512_sub_ps(_mm512_add_ps(d[3], d[4]), _mm512_mul_ps(four, _mm512_add_ps(d[1], d[2])));
  u[2] = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
  u[3] = _mm512_fmadd_ps(two, d3_d1, d4_d2);
  u[4] = _mm512_fnmadd_ps(two, d3_d1, d4_d2);
  u[5] = _mm512_add_ps(_mm512_fnmadd_ps(five, d[3], _mm512_mul_ps(four, d[1])), d[5]);
}

static inline __attribute__((always_inline)) void at6(const __m512 v[6], __m512 s[4]) {
  const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
  __m512 p12 = _mm512_add_ps(v[1], v[2]), m12 = _mm512_sub_ps(v[1], v[2]);
  __m512 p34 = _mm512_add_ps(v[3], v[4]), m34 = _mm512_sub_ps(v[3], v[4]);
  s[0] = _mm512_add_ps(_mm512_add_ps(v[0], p12), p34);
  s[1] = _mm512_fmadd_ps(two, m34, m12);
  s[2] = _mm512_fmadd_ps(four, p34, p12);
  s[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, m34, m12), v[5]);
}

// V[p][t][c] = (B^T d B)[p] for the tiles t0 .. t0+nt-1: down each column of the a x a input tile, then along each
// row. m is a constant at both call sites, so each gets its own unrolled copy.
static inline __attribute__((always_inline)) void input_tiles_m(const int m, const float *x, int h, int w, int cin, const grid_t *g,
                                                                int t0, int nt, float *V) {
  const int a = m + 2;
  long plane = (long)g->tb * cin;
  for (int t = 0; t < nt; t++) {
    int y0, x0, d = g->d;
    tile_origin(g, t0 + t, &y0, &x0);
    const float *src[6][6]; // NULL outside the map: the padding
    for (int i = 0; i < a; i++)
      for (int j = 0; j < a; j++) {
        int yy = y0 + d * (i - 1), xx = x0 + d * (j - 1);
        src[i][j] = yy >= 0 && yy < h && xx >= 0 && xx < w ? x + ((long)yy * w + xx) * cin : NULL;
      }
    float *out = V + (long)t * cin;
    for (int c = 0; c < cin; c += 16) {
      __mmask16 k = cin - c >= 16 ? 0xFFFF : (__mmask16)((1u << (cin - c)) - 1);
      __m512 u[6][6]; // u[j]: B^T applied down column j
      for (int j = 0; j < a; j++) {
        __m512 col[6];
        for (int i = 0; i < a; i++) col[i] = src[i][j] ? _mm512_maskz_loadu_ps(k, src[i][j] + c) : _mm512_setzero_ps();
        if (a == 6) bt6(col, u[j]); else bt4(col, u[j]);
      }
      for (int i = 0; i < a; i++) {
        __m512 row[6], v[6];
        for (int j = 0; j < a; j++) row[j] = u[j][i];
        if (a == 6) bt6(row, v); else bt4(row, v);
        for (int j = 0; j < a; j++) _mm512_mask_storeu_ps(out + (long)(i * a + j) * plane + c, k, v[j]);
      }
    }
  }
}

static void input_tiles(const float *x, int h, int w, int cin, const grid_t *g, int t0, int nt, float *V) {
  if (g->m == 4) input_tiles_m(4, x, h, w, cin, g, t0, nt, V);
  else input_tiles_m(2, x, h, w, cin, g, t0, nt, V);
}

// y for the tiles t0 .. t0+nt-1 and channels o0 .. o0+nc-1: A^T M A + bias (ReLU), outputs beyond the map dropped
static inline __attribute__((always_inline)) void output_tiles_m(const int m, const float *M, const float *bias, int relu, int h,
                                                                 int w, int cout, const grid_t *g, int t0, int nt, int o0, float *y) {
  const int a = m + 2;
  long plane = (long)g->tb * g->nc;
  __m512 zero = _mm512_setzero_ps();
  for (int t = 0; t < nt; t++) {
    int oy, ox, d = g->d;
    tile_origin(g, t0 + t, &oy, &ox);
    if (oy >= h || ox >= w) continue; // a tile of a phase shorter than the others
    const float *mt = M + (long)t * g->nc;
    for (int c = 0; c < g->nc; c += 16) {
      __m512 s[6][4]; // s[j]: A^T applied down column j
      for (int j = 0; j < a; j++) {
        __m512 col[6];
        for (int i = 0; i < a; i++) col[i] = _mm512_loadu_ps(mt + (long)(i * a + j) * plane + c);
        if (a == 6) at6(col, s[j]); else at4(col, s[j]);
      }
      __m512 b = bias ? _mm512_loadu_ps(bias + o0 + c) : zero;
      for (int r = 0; r < m && oy + d * r < h; r++) {
        __m512 row[6], o[4];
        for (int j = 0; j < a; j++) row[j] = s[j][r];
        if (a == 6) at6(row, o); else at4(row, o);
        float *yr = y + ((long)(oy + d * r) * w + ox) * cout + o0 + c;
        for (int q = 0; q < m && ox + d * q < w; q++) {
          __m512 v = _mm512_add_ps(o[q], b);
          _mm512_storeu_ps(yr + (long)d * q * cout, relu ? _mm512_max_ps(v, zero) : v);
        }
      }
    }
  }
}

static void output_tiles(const float *M, const float *bias, int relu, int h, int w, int cout, const grid_t *g, int t0, int nt,
                         int o0, float *y) {
  if (g->m == 4) output_tiles_m(4, M, bias, relu, h, w, cout, g, t0, nt, o0, y);
  else output_tiles_m(2, M, bias, relu, h, w, cout, g, t0, nt, o0, y);
}

/**
 * y = relu?(conv3x3(x, w) + bias) with U from conta_wino_transform_weights; ws holds
 * conta_wino_workspace_floats(h, w, d, cin, cout, threads) floats. Runs on `threads` OpenMP threads (the plan's
 * count). Each thread takes a rectangle of the (block, chunk) grid: its own blocks and all chunks, or, when there are
 * fewer than two blocks a thread and the chunks split evenly (split_chunks), all blocks and its own chunks (no
 * chunk of U read by two threads). Blocks outermost: a block's V is transformed once per thread.
 */
void conta_wino_conv(const float *x, int h, int w, int d, int cin, int cout, const float *U, const float *bias, int relu,
                     float *y, float *ws, int threads) {
  grid_t g = grid(h, w, d, cin, cout, threads);
  long per = (long)g.P * g.tb * (cin + g.nc);
  int panels = cout / 32;
#pragma omp parallel num_threads(threads)
  {
    int tid = omp_get_thread_num(), b0, b1, c0, c1;
    thread_share(&g, tid, omp_get_num_threads(), &b0, &b1, &c0, &c1);
    float *V = ws + per * tid, *M = V + (long)g.P * g.tb * cin;
    for (int blk = b0; blk < b1; blk++) { // blocks outermost: a block's input tiles are transformed once
      int t0 = blk * g.tb, nt = g.tiles - t0 < g.tb ? g.tiles - t0 : g.tb, nrb = (nt + 7) / 8;
      input_tiles(x, h, w, cin, &g, t0, nt, V);
      for (int chunk = c0; chunk < c1; chunk++) {
        int o0 = chunk * g.nc;
        for (int p = 0; p < g.P; p++) {
          const float *A = V + (long)p * g.tb * cin;
          float *C = M + (long)p * g.tb * g.nc;
          for (int jp = 0; jp < g.nc / 32; jp++) {
            const float *B = U + ((long)p * panels + o0 / 32 + jp) * cin * 32;
            // the panel multiplied next (the chunk's next one, else the next plane's first), prefetched into L2 a
            // slice per row block, as the small-map kernel does (gemmconv.c): U comes from memory every call
            const float *nb = jp + 1 < g.nc / 32 ? B + 32L * cin : p + 1 < g.P ? U + ((long)(p + 1) * panels + o0 / 32) * cin * 32 : NULL;
            for (int rb = 0; rb < nrb; rb++) { // rows cut evenly: 49 tiles as 7 x 7, not 6 x 8 + a 1-row pass
              int r = rb * nt / nrb, R = (rb + 1) * nt / nrb - r;
              const float *pf;
              int pfn = rx32_next_slice(WINO_NEXT ? nb : NULL, 2L * cin, rb, nrb, &pf);
              // the shared register kernel, no epilogue: M gets the raw products
              rx32_rows(R, cin, A + (long)r * cin, cin, B, NULL, NULL, 0, C + (long)r * g.nc + jp * 32, g.nc, pf, pfn);
            }
          }
        }
        output_tiles(M, bias, relu, h, w, cout, &g, t0, nt, o0, y);
      }
    }
  }
}
#pragma GCC pop_options

// ------------------------------------------------------------------ bfloat16
//
// The same convolution for the bf16 plan, where the CPU has AVX512-BF16 but no AMX (AMD Zen 4/5, Intel Cooper Lake):
// there oneDNN's direct bf16 kernels run on VDPBF16PS, two products per lane and instruction, and the Winograd
// kernel does the same with 2.25x (F(2x2)) or 4x (F(4x4)) fewer products. With AMX oneDNN's tile kernels are faster
// than either, so conta.tensor.cpu.Winograd chooses this only without AMX. x and y are bf16 NHWC; the transforms run
// in float32 (inputs widened, V rounded to bf16 once), the GEMM accumulates in float32, bias and ReLU in float32,
// y rounded once. U is bf16 in pairs of input channels, the operand layout of VDPBF16PS: U[P][cout/32][cin/2][32][2].
// The grid, the workspace (V in bf16 takes half its float slot) and the thread split are the float kernel's.
// input_tiles_bf16_m / output_tiles_bf16_m repeat the float versions' tile loops with bf16 loads and stores: they
// must be compiled for AVX512-BF16/BW (this region), and the float kernel must not be (it runs on CPUs without them).

/**
 * 1 where the CPU can run this kernel: AVX512-BF16 with F, BW and VL. Whether it pays (no AMX) is the Java side's
 * choice (Winograd.bf16Chosen), so that its tests run on AMX hosts too.
 */
int conta_wino_bf16_supported(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
      && __builtin_cpu_supports("avx512bf16");
}

static unsigned short to_bf16_scalar(float f) { // round to nearest even, as VCVTNEPS2BF16 does for normal values
  union { float f; unsigned u; } v = {f};
  if ((v.u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((v.u >> 16) | 0x40);
  return (unsigned short)((v.u + 0x7fffu + ((v.u >> 16) & 1)) >> 16);
}

/** bf16 values in the bf16 kernel's U (also the floats its transform needs as scratch). */
long conta_wino_bf16_weights_halfs(int cin, int cout) { return (long)(BF16_TILE + 2) * (BF16_TILE + 2) * cin * cout; }

/** Workspace floats of the bf16 kernel on `threads` threads. */
long conta_wino_bf16_workspace_floats(int h, int w, int d, int cin, int cout, int threads) {
  grid_t g = grid_m(BF16_TILE, h, w, d, cin, cout, threads);
  return workspace(&g, cin, threads);
}

/**
 * U for the bf16 kernel: the F(2x2) transform of w rounded to bf16, input channels in pairs; tmp holds
 * conta_wino_bf16_weights_halfs floats. cin even.
 */
void conta_wino_bf16_transform_weights(const float *w, int cin, int cout, float *tmp, unsigned short *U) {
  transform_weights_m(BF16_TILE, w, cin, cout, tmp); // tmp: U[P][cout/32][cin][32] in float
  int P = (BF16_TILE + 2) * (BF16_TILE + 2), panels = cout / 32;
  for (int p = 0; p < P; p++)
    for (int q = 0; q < panels; q++)
      for (int c = 0; c < cin; c++)
        for (int o = 0; o < 32; o++)
          U[(((long)p * panels + q) * (cin / 2) + c / 2) * 64 + o * 2 + c % 2] = to_bf16_scalar(tmp[(((long)p * panels + q) * cin + c) * 32 + o]);
}

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16,fma")

static inline __m512 widen_bf16(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

// C[r][0..31] = sum_k A[r][k] B[k][0..31], K = 2 * K2: A bf16 rows (pairs of k adjacent), B bf16 [K2][32][2]
static inline __attribute__((always_inline)) void gemm_bf16_rx32(const int R, int K2, const unsigned short *A, long lda,
                                                                 const unsigned short *B, float *C, long ldc) {
  __m512 c0[8], c1[8];
  for (int r = 0; r < R; r++) { c0[r] = _mm512_setzero_ps(); c1[r] = _mm512_setzero_ps(); }
#pragma GCC unroll 4
  for (int k = 0; k < K2; k++) {
    _mm_prefetch((const char *)(B + 64L * k + 2 * RX32_PREFETCH), _MM_HINT_T0);
    _mm_prefetch((const char *)(B + 64L * k + 2 * RX32_PREFETCH + 32), _MM_HINT_T0);
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(B + 64L * k), b1 = (__m512bh)_mm512_loadu_si512(B + 64L * k + 32);
    for (int r = 0; r < R; r++) {
      int pair;
      __builtin_memcpy(&pair, A + r * lda + 2 * k, 4);
      __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
      c0[r] = _mm512_dpbf16_ps(c0[r], a, b0);
      c1[r] = _mm512_dpbf16_ps(c1[r], a, b1);
    }
  }
  for (int r = 0; r < R; r++) { _mm512_storeu_ps(C + r * ldc, c0[r]); _mm512_storeu_ps(C + r * ldc + 16, c1[r]); }
}

static void gemm_bf16_rows(int R, int K2, const unsigned short *A, long lda, const unsigned short *B, float *C, long ldc) {
  switch (R) {
    case 8: gemm_bf16_rx32(8, K2, A, lda, B, C, ldc); break;
    case 7: gemm_bf16_rx32(7, K2, A, lda, B, C, ldc); break;
    case 6: gemm_bf16_rx32(6, K2, A, lda, B, C, ldc); break;
    case 5: gemm_bf16_rx32(5, K2, A, lda, B, C, ldc); break;
    case 4: gemm_bf16_rx32(4, K2, A, lda, B, C, ldc); break;
    case 3: gemm_bf16_rx32(3, K2, A, lda, B, C, ldc); break;
    case 2: gemm_bf16_rx32(2, K2, A, lda, B, C, ldc); break;
    case 1: gemm_bf16_rx32(1, K2, A, lda, B, C, ldc); break;
  }
}

// input_tiles_m with bf16 in (widened) and V rounded to bf16
static inline __attribute__((always_inline)) void input_tiles_bf16_m(const int m, const unsigned short *x, int h, int w, int cin,
                                                                     const grid_t *g, int t0, int nt, unsigned short *V) {
  const int a = m + 2;
  long plane = (long)g->tb * cin;
  for (int t = 0; t < nt; t++) {
    int y0, x0, d = g->d;
    tile_origin(g, t0 + t, &y0, &x0);
    const unsigned short *src[6][6];
    for (int i = 0; i < a; i++)
      for (int j = 0; j < a; j++) {
        int yy = y0 + d * (i - 1), xx = x0 + d * (j - 1);
        src[i][j] = yy >= 0 && yy < h && xx >= 0 && xx < w ? x + ((long)yy * w + xx) * cin : NULL;
      }
    unsigned short *out = V + (long)t * cin;
    for (int c = 0; c < cin; c += 16) {
      __mmask16 k = cin - c >= 16 ? 0xFFFF : (__mmask16)((1u << (cin - c)) - 1);
      __m512 u[6][6];
      for (int j = 0; j < a; j++) {
        __m512 col[6];
        for (int i = 0; i < a; i++) col[i] = src[i][j] ? widen_bf16(_mm256_maskz_loadu_epi16(k, src[i][j] + c)) : _mm512_setzero_ps();
        if (a == 6) bt6(col, u[j]); else bt4(col, u[j]);
      }
      for (int i = 0; i < a; i++) {
        __m512 row[6], v[6];
        for (int j = 0; j < a; j++) row[j] = u[j][i];
        if (a == 6) bt6(row, v); else bt4(row, v);
        for (int j = 0; j < a; j++)
          _mm256_mask_storeu_epi16(out + (long)(i * a + j) * plane + c, k, (__m256i)_mm512_cvtneps_pbh(v[j]));
      }
    }
  }
}

// output_tiles_m with y rounded to bf16
static inline __attribute__((always_inline)) void output_tiles_bf16_m(const int m, const float *M, const float *bias, int relu, int h,
                                                                      int w, int cout, const grid_t *g, int t0, int nt, int o0,
                                                                      unsigned short *y) {
  const int a = m + 2;
  long plane = (long)g->tb * g->nc;
  __m512 zero = _mm512_setzero_ps();
  for (int t = 0; t < nt; t++) {
    int oy, ox, d = g->d;
    tile_origin(g, t0 + t, &oy, &ox);
    if (oy >= h || ox >= w) continue;
    const float *mt = M + (long)t * g->nc;
    for (int c = 0; c < g->nc; c += 16) {
      __m512 s[6][4];
      for (int j = 0; j < a; j++) {
        __m512 col[6];
        for (int i = 0; i < a; i++) col[i] = _mm512_loadu_ps(mt + (long)(i * a + j) * plane + c);
        if (a == 6) at6(col, s[j]); else at4(col, s[j]);
      }
      __m512 b = bias ? _mm512_loadu_ps(bias + o0 + c) : zero;
      for (int r = 0; r < m && oy + d * r < h; r++) {
        __m512 row[6], o[4];
        for (int j = 0; j < a; j++) row[j] = s[j][r];
        if (a == 6) at6(row, o); else at4(row, o);
        unsigned short *yr = y + ((long)(oy + d * r) * w + ox) * cout + o0 + c;
        for (int q = 0; q < m && ox + d * q < w; q++) {
          __m512 v = _mm512_add_ps(o[q], b);
          _mm256_storeu_si256((__m256i *)(yr + (long)d * q * cout), (__m256i)_mm512_cvtneps_pbh(relu ? _mm512_max_ps(v, zero) : v));
        }
      }
    }
  }
}

/**
 * conta_wino_conv for bf16 x and y (NHWC) with U from conta_wino_bf16_transform_weights; cin even; ws holds
 * conta_wino_bf16_workspace_floats floats.
 */
void conta_wino_bf16_conv(const unsigned short *x, int h, int w, int d, int cin, int cout, const unsigned short *U,
                          const float *bias, int relu, unsigned short *y, float *ws, int threads) {
  grid_t g = grid_m(BF16_TILE, h, w, d, cin, cout, threads);
  long per = (long)g.P * g.tb * (cin + g.nc);
  int panels = cout / 32;
#pragma omp parallel num_threads(threads)
  {
    int tid = omp_get_thread_num(), b0, b1, c0, c1;
    thread_share(&g, tid, omp_get_num_threads(), &b0, &b1, &c0, &c1);
    unsigned short *V = (unsigned short *)(ws + per * tid);
    float *M = ws + per * tid + (long)g.P * g.tb * cin;
    for (int blk = b0; blk < b1; blk++) {
      int t0 = blk * g.tb, nt = g.tiles - t0 < g.tb ? g.tiles - t0 : g.tb, nrb = (nt + 7) / 8;
      input_tiles_bf16_m(BF16_TILE, x, h, w, cin, &g, t0, nt, V);
      for (int chunk = c0; chunk < c1; chunk++) {
        int o0 = chunk * g.nc;
        for (int p = 0; p < g.P; p++) {
          const unsigned short *A = V + (long)p * g.tb * cin;
          float *C = M + (long)p * g.tb * g.nc;
          for (int jp = 0; jp < g.nc / 32; jp++) {
            const unsigned short *B = U + ((long)p * panels + o0 / 32 + jp) * cin * 32;
            for (int rb = 0; rb < nrb; rb++) {
              int r = rb * nt / nrb, R = (rb + 1) * nt / nrb - r;
              gemm_bf16_rows(R, cin / 2, A + (long)r * cin, cin, B, C + (long)r * g.nc + jp * 32, g.nc);
            }
          }
        }
        output_tiles_bf16_m(BF16_TILE, M, bias, relu, h, w, cout, &g, t0, nt, o0, y);
      }
    }
  }
}
#pragma GCC pop_options
