// Does splitting each layer by image rows (each thread runs a one-thread oneDNN primitive on its own half, every
// layer) beat oneDNN's own two-thread split of each primitive at batch 1? A chain of ResNet-50 bottlenecks (1x1
// reduce + ReLU, 3x3 + ReLU, 1x1 expand + residual sum + ReLU; NHWC, weights format any, fresh weights per block so
// they stream from memory as in the network), timed both ways; median ms of N calls. Then the chain's layers timed one
// by one (mean ms), with the 3x3 on oneDNN or on the plan's Winograd kernel (does it slow its neighbours?). For
// bench/RESULTS-latency.md (session 13), not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O3 -fopenmp -o /tmp/rowsplit bench/onednn_rowsplit_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D
//   OMP_NUM_THREADS=2 GOMP_SPINCOUNT=1000 /tmp/rowsplit 100
#include <dnnl.h>
#include "../native/src/winograd.c"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng;
static dnnl_stream_t str[2];

typedef struct { dnnl_primitive_t p; dnnl_exec_arg_t a[5]; int n; } Op;

static dnnl_memory_t wrap(const_dnnl_memory_desc_t md, void *h) { dnnl_memory_t m; CK(dnnl_memory_create(&m, md, eng, h)); return m; }
static dnnl_memory_t alloc(const_dnnl_memory_desc_t md) { dnnl_memory_t m; CK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE)); return m; }
static void fill(dnnl_memory_t m) {
  void *h; CK(dnnl_memory_get_data_handle(m, &h)); const_dnnl_memory_desc_t md; CK(dnnl_memory_get_memory_desc(m, &md));
  size_t n = dnnl_memory_desc_get_size(md) / 4; float *f = h; for (size_t i = 0; i < n; i++) f[i] = ((i * 7919) % 97) / 970.f - 0.05f;
}

// One convolution on output rows [r0, r1) of an HxW NHWC map: src/dst point into the full maps, the input window and
// its top/bottom padding follow from the rows. kernel k (1 or 3), pad k/2, stride 1. Weights are shared by both halves.
static Op conv(int H, int W, int C, int O, int k, int r0, int r1, float *src, float *dst, float *res, dnnl_memory_t *wts,
               dnnl_memory_t bias) {
  int p = k / 2, i0 = r0 - p, i1 = r1 - 1 + p + 1; // input rows [i0, i1)
  int pt = i0 < 0 ? -i0 : 0, pb = i1 > H ? i1 - H : 0; if (i0 < 0) i0 = 0; if (i1 > H) i1 = H;
  dnnl_memory_desc_t smd, dmd, wany, bmd;
  dnnl_dims_t sd = {1, C, i1 - i0, W}, dd = {1, O, r1 - r0, W}, wd = {O, C, k, k}, bd = {O};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, dnnl_f32, dnnl_acdb)); CK(dnnl_memory_desc_create_with_tag(&dmd, 4, dd, dnnl_f32, dnnl_acdb));
  CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any)); CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po));
  if (res) CK(dnnl_post_ops_append_sum(po, 1.f, 0, dnnl_data_type_undef));
  CK(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0, 0));
  dnnl_primitive_attr_t at; CK(dnnl_primitive_attr_create(&at)); CK(dnnl_primitive_attr_set_post_ops(at, po));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {1, 1}, dl = {0, 0}, pl = {pt, p}, pr = {pb, p};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pl, pr, at));
  Op op; CK(dnnl_primitive_create(&op.p, pd));
  if (!*wts) { *wts = alloc(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)); fill(*wts); }
  op.a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, wrap(smd, src + (size_t)i0 * W * C)};
  op.a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, *wts};
  op.a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, bias};
  op.a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, wrap(dmd, dst + (size_t)r0 * W * O)};
  op.n = 4; return op;
}

typedef struct { int n, H, W, mid; Op whole[64]; Op half[2][64]; float *U[32], *wb[32], *ws, *a, *b; double t[64]; } Chain;

// blocks bottlenecks at HxW, cin -> mid -> cin. Buffers: x (input, also each block's residual and output), a, b.
// The expand conv writes into x itself (sum post-op adds the block input held there): in-place, as the plan does.
static void build(Chain *c, int blocks, int H, int W, int cin, int mid, float *x, float *a, float *b) {
  c->n = 0; int h = H / 2; c->H = H; c->W = W; c->mid = mid; c->a = a; c->b = b;
  c->ws = aligned_alloc(64, (conta_wino_workspace_floats(H, W, 1, mid, mid, 2) * 4 + 63) / 64 * 64);
  for (int blk = 0; blk < blocks; blk++) {
    dnnl_memory_t w[3] = {0}, bias[3];
    int ci[3] = {cin, mid, mid}, co[3] = {mid, mid, cin}, k[3] = {1, 3, 1};
    float *s[3] = {x, a, b}, *d[3] = {a, b, x};
    for (int j = 0; j < 3; j++) {
      dnnl_memory_desc_t bmd; dnnl_dims_t bd = {co[j]}; CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
      bias[j] = alloc(bmd); fill(bias[j]);
      omp_set_num_threads(2);
      c->whole[c->n] = conv(H, W, ci[j], co[j], k[j], 0, H, s[j], d[j], j == 2 ? x : NULL, &w[j], bias[j]);
      omp_set_num_threads(1);
      c->half[0][c->n] = conv(H, W, ci[j], co[j], k[j], 0, h, s[j], d[j], j == 2 ? x : NULL, &w[j], bias[j]);
      c->half[1][c->n] = conv(H, W, ci[j], co[j], k[j], h, H, s[j], d[j], j == 2 ? x : NULL, &w[j], bias[j]);
      omp_set_num_threads(2);
      if (j == 1) { // the same layer for the Winograd kernel: plain OIHW weights, transformed
        float *w9 = malloc((size_t)mid * mid * 9 * 4); for (size_t i = 0; i < (size_t)mid * mid * 9; i++) w9[i] = ((i * 7919) % 97) / 970.f - 0.05f;
        c->U[blk] = aligned_alloc(64, conta_wino_weights_floats(mid, mid) * 4); conta_wino_transform_weights(w9, mid, mid, c->U[blk]);
        void *bh; CK(dnnl_memory_get_data_handle(bias[j], &bh)); c->wb[blk] = bh;
      }
      c->n++;
    }
  }
}
static void run_whole(Chain *c) { for (int i = 0; i < c->n; i++) CK(dnnl_primitive_execute(c->whole[i].p, str[0], c->whole[i].n, c->whole[i].a)); }
// per-op times (ms, summed into c->t) of the whole-layer run, the 3x3 on oneDNN (wino 0) or the Winograd kernel
static void run_timed(Chain *c, int wino) {
  double t0 = now();
  for (int i = 0; i < c->n; i++) {
    if (wino && i % 3 == 1) conta_wino_conv(c->a, c->H, c->W, 1, c->mid, c->mid, c->U[i / 3], c->wb[i / 3], 1, c->b, c->ws, 2);
    else CK(dnnl_primitive_execute(c->whole[i].p, str[0], c->whole[i].n, c->whole[i].a));
    double t1 = now(); c->t[i] += t1 - t0; t0 = t1;
  }
}
static char *junk; // FLUSH=1: 96 MB written before each timed chain, so the weights come from memory as in the network
static void flush(void) {
  if (!junk) return;
#pragma omp parallel for num_threads(2)
  for (long i = 0; i < (96L << 20); i += 64) junk[i]++;
}
static void per_op(Chain *c, int wino, int iters) {
  for (int i = 0; i < c->n; i++) c->t[i] = 0;
  for (int i = 0; i < 5; i++) run_timed(c, wino);
  for (int i = 0; i < c->n; i++) c->t[i] = 0;
  double all = 0, r[3] = {0};
  for (int i = 0; i < iters; i++) { flush(); double t0 = now(); run_timed(c, wino); all += (now() - t0) / iters; }
  for (int i = 0; i < c->n; i++) r[i % 3] += c->t[i] / iters;
  printf("   3x3 on %-9s chain %.3f ms: reduce 1x1 %.3f, 3x3 %.3f, expand 1x1 %.3f (ms per layer, the chain's mean)\n",
         wino ? "Winograd" : "oneDNN", all, r[0] / (c->n / 3), r[1] / (c->n / 3), r[2] / (c->n / 3));
}
static void run_half(Chain *c) {
#pragma omp parallel num_threads(2)
  {
    int t = omp_get_thread_num();
    for (int i = 0; i < c->n; i++) {
      CK(dnnl_primitive_execute(c->half[t][i].p, str[t], c->half[t][i].n, c->half[t][i].a));
#pragma omp barrier
    }
  }
}
static double timeit(void (*f)(Chain *), Chain *c, int iters) {
  double t[1000];
  for (int i = 0; i < iters + 5; i++) { double t0 = now(); f(c); if (i >= 5) t[i - 5] = now() - t0; }
  qsort(t, iters, 8, cmpd); return t[iters / 2];
}
static float *buf(size_t n) { float *p = aligned_alloc(64, n * 4); for (size_t i = 0; i < n; i++) p[i] = (i % 13) / 130.f; return p; }

int main(int argc, char **argv) {
  int it = argc > 1 ? atoi(argv[1]) : 100;
  if (getenv("FLUSH") && atoi(getenv("FLUSH"))) { junk = malloc(96L << 20); memset(junk, 1, 96L << 20); }
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  CK(dnnl_stream_create(&str[0], eng, dnnl_stream_default_flags)); CK(dnnl_stream_create(&str[1], eng, dnnl_stream_default_flags));
  int cfg[][4] = {{56, 256, 64, 3}, {28, 512, 128, 4}, {14, 1024, 256, 6}};
  for (int r = 0; r < 2; r++)
    for (int q = 0; q < 3; q++) {
      int H = cfg[q][0], C = cfg[q][1], M = cfg[q][2], B = cfg[q][3];
      float *x = buf((size_t)H * H * C), *a = buf((size_t)H * H * M), *b = buf((size_t)H * H * M);
      Chain *c = calloc(1, sizeof(Chain)); build(c, B, H, H, C, M, x, a, b);
      // Both ways compute the same values: run each once from the same input and compare.
      float *x0 = buf((size_t)H * H * C); memcpy(x0, x, (size_t)H * H * C * 4);
      run_whole(c); float *y0 = buf((size_t)H * H * C); memcpy(y0, x, (size_t)H * H * C * 4);
      memcpy(x, x0, (size_t)H * H * C * 4); run_half(c);
      double md = 0; for (size_t i = 0; i < (size_t)H * H * C; i++) { double e = y0[i] - x[i]; if (e < 0) e = -e; double s = y0[i] < 0 ? -y0[i] : y0[i]; e /= 1e-6 + s; if (e > md) md = e; }
      double tw = timeit(run_whole, c, it), th = timeit(run_half, c, it);
      double tw2 = timeit(run_whole, c, it), th2 = timeit(run_half, c, it);
      printf("%2dx%-2d %d blocks %4d/%-3d  oneDNN split %.3f/%.3f ms  row halves %.3f/%.3f ms  ratio %.2f  max rel diff %.1e\n",
             H, H, B, C, M, tw, tw2, th, th2, (th + th2) / (tw + tw2), md);
      per_op(c, 0, it); per_op(c, 1, it); per_op(c, 0, it); per_op(c, 1, it);
    }
  return 0;
}
