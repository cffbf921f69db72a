// conta's 1x1 kernel (native/src/pointwise.c) against oneDNN's convolution, batch 1, NHWC, bias + ReLU, with the
// weights cold as in a plan: COPIES copies of each layer's weights, called in turn, so each call's weights were last
// touched tens of MB earlier (bench/onednn_cold_bench.c does the same for oneDNN's variants). Median ms over N calls,
// in alternating rounds; the kernel's output is checked against a float64 reference first (max |error| / max |y|).
// A measurement for bench/RESULTS-latency.md (session 29), not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O3 -fopenmp -o /tmp/pointwise_cold_bench bench/pointwise_cold_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D
//   OMP_NUM_THREADS=2 GOMP_SPINCOUNT=2000 /tmp/pointwise_cold_bench 60 40
#include <dnnl.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../native/src/pointwise.c"
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
#define MAXC 64
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng; static dnnl_stream_t str;
static void fill(float *p, size_t n, unsigned seed) { for (size_t i = 0; i < n; i++) p[i] = (float)(((i + seed) * 2654435761u) % 1000) / 1000.0f - 0.5f; }
static dnnl_memory_t mem(const_dnnl_memory_desc_t md, unsigned seed) {
  dnnl_memory_t m; CK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
  void *p; CK(dnnl_memory_get_data_handle(m, &p)); fill(p, dnnl_memory_desc_get_size(md) / 4, seed);
  return m;
}
typedef struct { dnnl_primitive_t p; dnnl_exec_arg_t a[4]; } call_t;
static call_t cv[MAXC];
static float *wp[MAXC], *bias;
static double time_dnnl(int copies, int iters) {
  double t[1000];
  for (int i = 0; i < iters + 2 * copies; i++) {
    call_t *k = &cv[i % copies]; double t0 = now();
    CK(dnnl_primitive_execute(k->p, str, 4, k->a)); dnnl_stream_wait(str);
    if (i >= 2 * copies) t[i - 2 * copies] = now() - t0;
  }
  qsort(t, iters, 8, cmpd); return t[iters / 2];
}
static double time_conta(const float *x, int H, int W, int C, int O, float *y, int copies, int iters) {
  double t[1000];
  for (int i = 0; i < iters + 2 * copies; i++) {
    double t0 = now();
    conta_pw_conv(x, H, W, 1, C, O, wp[i % copies], bias, 0, 1, y, NULL, 2);
    if (i >= 2 * copies) t[i - 2 * copies] = now() - t0;
  }
  qsort(t, iters, 8, cmpd); return t[iters / 2];
}
static void run(int H, int W, int C, int O, int iters, int copies) {
  int P = H * W;
  dnnl_memory_desc_t smd, dmd, wany, bmd; dnnl_dims_t sd = {1, C, H, W}, dd = {1, O, H, W}, wd = {O, C, 1, 1}, bd = {O};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, dnnl_f32, dnnl_acdb)); CK(dnnl_memory_desc_create_with_tag(&dmd, 4, dd, dnnl_f32, dnnl_acdb));
  CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any)); CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po)); CK(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0, 0));
  dnnl_primitive_attr_t at; CK(dnnl_primitive_attr_create(&at)); CK(dnnl_primitive_attr_set_post_ops(at, po));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {1, 1}, dl = {0, 0}, pad = {0, 0}; const char *impl;
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pad, pad, at));
  CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
  dnnl_primitive_t cp; CK(dnnl_primitive_create(&cp, pd));
  dnnl_memory_t src = mem(smd, 1), dst = mem(dmd, 2), bm = mem(bmd, 3);
  float *x, *bp; CK(dnnl_memory_get_data_handle(src, (void **)&x)); CK(dnnl_memory_get_data_handle(bm, (void **)&bp));
  bias = bp;
  float *w = malloc(sizeof(float) * C * O), *y = aligned_alloc(64, sizeof(float) * P * O);
  for (int k = 0; k < copies; k++) {
    cv[k].p = cp;
    cv[k].a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src}; cv[k].a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), k)};
    cv[k].a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, bm}; cv[k].a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, dst};
    free(wp[k]); wp[k] = aligned_alloc(64, sizeof(float) * C * O);
    fill(w, (size_t)C * O, 100 + k); conta_pw_pack(w, C, O, wp[k]);
  }
  // correctness of the last copy against float64
  conta_pw_conv(x, H, W, 1, C, O, wp[copies - 1], bias, 0, 1, y, NULL, 2);
  double maxe = 0, maxy = 0;
  for (int p = 0; p < P; p += 7) for (int o = 0; o < O; o++) {
    double s = bias[o]; for (int k = 0; k < C; k++) s += (double)x[(long)p * C + k] * w[(long)o * C + k];
    if (s < 0) s = 0;
    maxe = fmax(maxe, fabs(s - y[(long)p * O + o])); maxy = fmax(maxy, fabs(s));
  }
  double d[3], c[3], dw = 0, cw = 0;
  for (int r = 0; r < 3; r++) { d[r] = time_dnnl(copies, iters); c[r] = time_conta(x, H, W, C, O, y, copies, iters); }
  dw = time_dnnl(1, iters); cw = time_conta(x, H, W, C, O, y, 1, iters);
  printf("%2dx%-2d %4d->%-4d cold oneDNN %.3f %.3f %.3f conta %.3f %.3f %.3f | warm oneDNN %.3f conta %.3f | err %.1e (%s)\n",
         H, W, C, O, d[0], d[1], d[2], c[0], c[1], c[2], dw, cw, maxe / maxy, impl);
  fflush(stdout);
  free(w); free(y);
}
int main(int argc, char **argv) {
  int it = argc > 1 ? atoi(argv[1]) : 60, copies = argc > 2 ? atoi(argv[2]) : 40;
  if (copies > MAXC) copies = MAXC;
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  run(56, 56, 64, 256, it, copies); run(56, 56, 256, 64, it, copies);
  run(28, 28, 128, 512, it, copies); run(28, 28, 512, 128, it, copies);
  run(14, 14, 256, 1024, it, copies); run(14, 14, 1024, 256, it, copies);
  run(7, 7, 512, 2048, it, copies); run(7, 7, 2048, 512, it, copies);
  return 0;
}
