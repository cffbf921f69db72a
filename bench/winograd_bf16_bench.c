// The bf16 Winograd kernel (native/src/winograd.c, conta_wino_bf16_conv) against oneDNN's direct bf16 convolution
// (what the bf16 plan runs otherwise) on the 3x3 stride-1 shapes of ResNet-50 @224 and DeepLab-v2 @321: batch 1,
// NHWC bf16 in and out, bias + ReLU. Both are compared with a float32 convolution of the same bf16-rounded input
// (oneDNN f32 direct): the largest error relative to max |y|. Median ms of N calls; FLUSH=1 flushes the caches
// before each call. A measurement for bench/RESULTS-latency.md (session 13), not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O3 -fopenmp -o /tmp/winograd_bf16_bench bench/winograd_bf16_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D -lm
//   OMP_NUM_THREADS=2 GOMP_SPINCOUNT=1000 /tmp/winograd_bf16_bench 50
#include <dnnl.h>
#include "../native/src/winograd.c"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng; static dnnl_stream_t str;
static char *junk;
static void flush(void) {
  if (!junk) return;
#pragma omp parallel for
  for (long i = 0; i < (96L << 20); i += 64) junk[i]++;
}
static float widen(unsigned short h) { union { unsigned u; float f; } v = {(unsigned)h << 16}; return v.f; }

// a oneDNN direct convolution: src/dst NHWC of type t, weights any of type t from plain f32 w, bias f32, ReLU
typedef struct { dnnl_primitive_t p; dnnl_exec_arg_t a[4]; } Conv;
static Conv direct(int H, int W, int C, int O, int dil, dnnl_data_type_t t, void *x, const float *w, float *b, void *y) {
  dnnl_memory_desc_t smd, dmd, wmd, wany, bmd; dnnl_dims_t sd = {1, C, H, W}, dd = {1, O, H, W}, wd = {O, C, 3, 3}, bd = {O};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, t, dnnl_acdb)); CK(dnnl_memory_desc_create_with_tag(&dmd, 4, dd, t, dnnl_acdb));
  CK(dnnl_memory_desc_create_with_tag(&wmd, 4, wd, dnnl_f32, dnnl_abcd)); CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, t, dnnl_format_tag_any));
  CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po)); CK(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0, 0));
  dnnl_primitive_attr_t at; CK(dnnl_primitive_attr_create(&at)); CK(dnnl_primitive_attr_set_post_ops(at, po));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {1, 1}, dl = {dil - 1, dil - 1}, pad = {dil, dil};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pad, pad, at));
  dnnl_memory_t mw, mwp; CK(dnnl_memory_create(&mw, wmd, eng, (void *)w));
  CK(dnnl_memory_create(&mwp, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), eng, DNNL_MEMORY_ALLOCATE));
  dnnl_primitive_desc_t rpd; CK(dnnl_reorder_primitive_desc_create(&rpd, wmd, eng, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), eng, NULL));
  dnnl_primitive_t rp; CK(dnnl_primitive_create(&rp, rpd)); dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, mw}, {DNNL_ARG_TO, mwp}};
  CK(dnnl_primitive_execute(rp, str, 2, ra));
  Conv c; CK(dnnl_primitive_create(&c.p, pd));
  dnnl_memory_t ms, md, mb; CK(dnnl_memory_create(&ms, smd, eng, x)); CK(dnnl_memory_create(&md, dmd, eng, y)); CK(dnnl_memory_create(&mb, bmd, eng, b));
  c.a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, ms}; c.a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mwp};
  c.a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mb}; c.a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, md};
  return c;
}

static void run(int H, int W, int C, int O, int dil, int iters, int threads) {
  long nx = (long)H * W * C, ny = (long)H * W * O;
  unsigned short *xb = malloc(nx * 2), *yd = malloc(ny * 2), *yw = malloc(ny * 2);
  float *xf = malloc(nx * 4), *w = malloc((long)O * C * 9 * 4), *b = malloc(O * 4), *ref = malloc(ny * 4);
  srand(1);
  for (long i = 0; i < nx; i++) { xb[i] = to_bf16_scalar(rand() / (float)RAND_MAX - .5f); xf[i] = widen(xb[i]); }
  for (long i = 0; i < (long)O * C * 9; i++) w[i] = (rand() / (float)RAND_MAX - .5f) * 0.1f;
  for (int i = 0; i < O; i++) b[i] = 0.01f * i;
  Conv r = direct(H, W, C, O, dil, dnnl_f32, xf, w, b, ref), cd = direct(H, W, C, O, dil, dnnl_bf16, xb, w, b, yd);
  CK(dnnl_primitive_execute(r.p, str, 4, r.a));
  float *tmp = malloc(conta_wino_bf16_weights_halfs(C, O) * 4);
  unsigned short *U = aligned_alloc(64, (conta_wino_bf16_weights_halfs(C, O) * 2 + 63) / 64 * 64);
  conta_wino_bf16_transform_weights(w, C, O, tmp, U);
  float *ws = aligned_alloc(64, (conta_wino_bf16_workspace_floats(H, W, dil, C, O, threads) * 4 + 63) / 64 * 64);
  double td[400], tw[400];
  for (int it = 0; it < iters + 5; it++) {
    flush(); double t0 = now(); CK(dnnl_primitive_execute(cd.p, str, 4, cd.a)); double t1 = now();
    flush(); double t2 = now(); conta_wino_bf16_conv(xb, H, W, dil, C, O, U, b, 1, yw, ws, threads); double t3 = now();
    if (it >= 5) { td[it - 5] = t1 - t0; tw[it - 5] = t3 - t2; }
  }
  double mref = 0, ed = 0, ew = 0;
  for (long i = 0; i < ny; i++) mref = fmax(mref, fabs(ref[i]));
  for (long i = 0; i < ny; i++) { ed = fmax(ed, fabs(widen(yd[i]) - ref[i])); ew = fmax(ew, fabs(widen(yw[i]) - ref[i])); }
  qsort(td, iters, 8, cmpd); qsort(tw, iters, 8, cmpd);
  printf("%dx%d d%d %d->%d F(%dx%d): bf16 direct %.3f ms (err %.1e), bf16 Winograd %.3f ms (err %.1e), ratio %.2f\n", H, W, dil, C, O,
         BF16_TILE, BF16_TILE, td[iters / 2], ed / mref, tw[iters / 2], ew / mref, tw[iters / 2] / td[iters / 2]);
  free(xb); free(yd); free(yw); free(xf); free(w); free(b); free(ref); free(tmp); free(U); free(ws);
}
int main(int argc, char **argv) {
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  if (!conta_wino_bf16_supported()) { printf("no AVX512-BF16 here\n"); return 0; }
  if (getenv("FLUSH") && atoi(getenv("FLUSH"))) { junk = malloc(96L << 20); memset(junk, 1, 96L << 20); }
  int it = argc > 1 ? atoi(argv[1]) : 50, th = conta_wino_max_threads();
  run(56, 56, 64, 64, 1, it, th); run(28, 28, 128, 128, 1, it, th); run(14, 14, 256, 256, 1, it, th); run(7, 7, 512, 512, 1, it, th);
  run(81, 81, 64, 64, 1, it, th); run(41, 41, 128, 128, 1, it, th); run(41, 41, 256, 256, 2, it, th); run(41, 41, 512, 512, 4, it, th);
  return 0;
}
