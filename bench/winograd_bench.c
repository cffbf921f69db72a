// The plan's Winograd convolution (native/src/winograd.c, fused F(4x4,3x3) or F(2x2,3x3)) against oneDNN's direct convolution (what
// the plan runs otherwise) on the 3x3 shapes of ResNet-50 @224 and DeepLab-v2 ResNet-101 @321: batch 1, NHWC, bias +
// ReLU, same random inputs, max |difference| and median ms of each. Not part of the engine or the tests: a
// measurement for bench/RESULTS-latency.md. Build and run (oneDNN and its headers come from the JavaCPP jar):
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O3 -fopenmp -o /tmp/winograd_bench bench/winograd_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D -lm
//   OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /tmp/winograd_bench 50           # FLUSH=1 in front: caches flushed per call
#include <dnnl.h>
#include "../native/src/winograd.c"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng; static dnnl_stream_t str;

static int THREADS;
// FLUSH=1: write 96 MB before each timed call, so that weights and inputs come from memory as they do inside a
// network (other layers' data evicted them); unset: warm caches (the call before left them there)
static void flush(void) {
  static char *junk; static int on = -1;
  if (on < 0) { on = getenv("FLUSH") != NULL; if (on) junk = malloc(96L << 20); }
  if (!on) return;
#pragma omp parallel for
  for (long j = 0; j < (96L << 20); j += 64) junk[j] = (char)(j >> 6);
}
static void run(int H, int W, int C, int OC, int dil, int iters) {
  long nx = (long)H * W * C, ny = (long)H * W * OC;
  float *x = malloc(nx * 4), *w = malloc((long)OC * C * 9 * 4), *b = malloc(OC * 4), *yd = malloc(ny * 4), *yw = malloc(ny * 4);
  srand(1); for (long i = 0; i < nx; i++) x[i] = rand() / (float)RAND_MAX - .5f;
  for (long i = 0; i < (long)OC * C * 9; i++) w[i] = (rand() / (float)RAND_MAX - .5f) * 0.1f; for (int i = 0; i < OC; i++) b[i] = 0.01f * i;
  // direct
  dnnl_memory_desc_t smd, dmd, wmd, wany, bmd; dnnl_dims_t sd = {1, C, H, W}, dd = {1, OC, H, W}, wd = {OC, C, 3, 3}, bd = {OC};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, dnnl_f32, dnnl_acdb)); CK(dnnl_memory_desc_create_with_tag(&dmd, 4, dd, dnnl_f32, dnnl_acdb));
  CK(dnnl_memory_desc_create_with_tag(&wmd, 4, wd, dnnl_f32, dnnl_abcd)); CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any));
  CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po)); CK(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0, 0));
  dnnl_primitive_attr_t at; CK(dnnl_primitive_attr_create(&at)); CK(dnnl_primitive_attr_set_post_ops(at, po));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {1, 1}, dl = {dil - 1, dil - 1}, pad = {dil, dil};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pad, pad, at));
  const_dnnl_memory_desc_t wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_t ms, md, mw, mwp, mb; CK(dnnl_memory_create(&ms, smd, eng, x)); CK(dnnl_memory_create(&md, dmd, eng, yd));
  CK(dnnl_memory_create(&mw, wmd, eng, w)); CK(dnnl_memory_create(&mwp, wq, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&mb, bmd, eng, b));
  dnnl_primitive_desc_t rpd; CK(dnnl_reorder_primitive_desc_create(&rpd, wmd, eng, wq, eng, NULL)); dnnl_primitive_t rp; CK(dnnl_primitive_create(&rp, rpd));
  dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, mw}, {DNNL_ARG_TO, mwp}}; CK(dnnl_primitive_execute(rp, str, 2, ra)); dnnl_stream_wait(str);
  dnnl_primitive_t cp; CK(dnnl_primitive_create(&cp, pd));
  dnnl_exec_arg_t ca[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mwp}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, md}};
  long wsz = conta_wino_workspace_floats(H, W, dil, C, OC, THREADS);
  float *U = aligned_alloc(64, conta_wino_weights_floats(C, OC) * 4), *ws = aligned_alloc(64, (wsz * 4 + 63) / 64 * 64);
  conta_wino_transform_weights(w, C, OC, U);
  double td[400], tww[400];
  for (int it = 0; it < iters + 5; it++) {
    flush();
    double t0 = now(); CK(dnnl_primitive_execute(cp, str, 4, ca)); dnnl_stream_wait(str); double t1 = now();
    flush();
    double t2 = now(); conta_wino_conv(x, H, W, dil, C, OC, U, b, 1, yw, ws, THREADS); double t3 = now();
    if (it >= 5) { td[it - 5] = t1 - t0; tww[it - 5] = t3 - t2; }
  }
  double err = 0, ref = 0; for (long i = 0; i < ny; i++) { err = fmax(err, fabs(yd[i] - yw[i])); ref = fmax(ref, fabs(yd[i])); }
  qsort(td, iters, 8, cmpd); qsort(tww, iters, 8, cmpd);
  int h = iters / 2;
  printf("%dx%d d%d %d->%d direct %.3f fused-wino %.3f ratio %.2f maxerr %.2e (max |y| %.2f)\n", H, W, dil, C, OC, td[h], tww[h], tww[h] / td[h], err, ref);
}
int main(int argc, char **argv) {
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  THREADS = conta_wino_max_threads();
  int it = argc > 1 ? atoi(argv[1]) : 50;
  // ResNet-50 @224's stride-1 3x3 shapes; DeepLab-v2 ResNet-101 @321's (layer1, layer2, layer3 dilation 2, layer4
  // dilation 4 at scale 1; layer3 at scale 0.5); odd sizes and a channel count that is not a multiple of 16
  run(56, 56, 64, 64, 1, it); run(28, 28, 128, 128, 1, it); run(14, 14, 256, 256, 1, it); run(7, 7, 512, 512, 1, it);
  run(81, 81, 64, 64, 1, it); run(41, 41, 128, 128, 1, it); run(41, 41, 256, 256, 2, it); run(41, 41, 512, 512, 4, it);
  run(21, 21, 256, 256, 2, it); run(13, 11, 40, 96, 3, it);
  return 0;
}
