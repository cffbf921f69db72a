// conta's one-GEMM kernel for small maps (native/src/gemmconv.c) against oneDNN's direct convolution and conta's
// Winograd kernel (native/src/winograd.c; 3x3 stride 1 only), batch 1, NHWC, bias (+ ReLU for the GEMM and Winograd;
// oneDNN without post-ops), with the weights cold as in a plan: NC copies of the layer's weights called in turn, so
// each call's weights were last touched tens of MB earlier (build with -DNC=1 for warm weights). Median ms of 60
// calls, 3 rounds; the GEMM's output is checked against the Winograd kernel's where both run.
// A measurement for bench/RESULTS-latency.md (session 29), not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O3 -fopenmp -o /tmp/gemmconv_cold_bench bench/gemmconv_cold_bench.c native/src/winograd.c -I$D/include
//       -L$D -l:libdnnl.so.3 -Wl,-rpath,$D -lm      (one line)
//   OMP_NUM_THREADS=2 /tmp/gemmconv_cold_bench H CIN COUT STRIDE KSIZE     e.g. 7 512 512 1 3, 7 2048 512 1 1
#include <dnnl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "../native/src/gemmconv.c"
long conta_wino_weights_floats(int cin, int cout);
void conta_wino_transform_weights(const float *w, int cin, int cout, float *U);
long conta_wino_workspace_floats(int h, int w, int d, int cin, int cout, int threads);
void conta_wino_conv(const float *x, int h, int w, int d, int cin, int cout, const float *U, const float *bias, int relu, float *y, float *ws, int threads);
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static void fill(float *p, size_t n, unsigned seed) { for (size_t i = 0; i < n; i++) p[i] = (float)(((i + seed) * 2654435761u) % 1000) / 1000.0f - 0.5f; }
#ifndef NC
#define NC 24 /* weight copies cycled: 1 = warm */
#endif
int main(int argc, char **argv) {
  int H = atoi(argv[1]), C = atoi(argv[2]), O = atoi(argv[3]), S = atoi(argv[4]), KS = argc > 5 ? atoi(argv[5]) : 3, it = 60;
  int PD = KS / 2, OH = (H + 2 * PD - KS) / S + 1, P = OH * OH;
  dnnl_engine_t eng; dnnl_stream_t str; CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  dnnl_memory_desc_t smd, dmd, wany, bmd; dnnl_dims_t sd = {1, C, H, H}, dd = {1, O, OH, OH}, wd = {O, C, KS, KS}, bd = {O};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, dnnl_f32, dnnl_acdb)); CK(dnnl_memory_desc_create_with_tag(&dmd, 4, dd, dnnl_f32, dnnl_acdb));
  CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any)); CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {S, S}, dl = {0, 0}, pp = {PD, PD};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pp, pp, NULL));
  dnnl_primitive_t prim; CK(dnnl_primitive_create(&prim, pd));
  dnnl_memory_t src, dst, bm, wm[NC];
  CK(dnnl_memory_create(&src, smd, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&dst, dmd, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&bm, bmd, eng, DNNL_MEMORY_ALLOCATE));
  float *x, *bias; CK(dnnl_memory_get_data_handle(src, (void**)&x)); CK(dnnl_memory_get_data_handle(bm, (void**)&bias));
  fill(x, (size_t)H * H * C, 1); fill(bias, O, 2);
  float *w = malloc(4L * O * C * KS * KS), *y = aligned_alloc(64, 4L * P * O), *y2 = aligned_alloc(64, 4L * P * O);
  float *gp[NC], *wu[NC];
  long wsf = conta_gc_workspace_floats(H, H, C, KS, KS, S, PD, 1), wwf = S == 1 && KS == 3 ? conta_wino_workspace_floats(H, H, 1, C, O, 2) : 0;
  float *ws = aligned_alloc(64, 4 * (wsf + wwf + 16));
  for (int c = 0; c < NC; c++) {
    fill(w, (size_t)O * C * KS * KS, 10 + c);
    CK(dnnl_memory_create(&wm[c], dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), eng, DNNL_MEMORY_ALLOCATE));
    void *wh; CK(dnnl_memory_get_data_handle(wm[c], &wh)); fill(wh, O * C * KS * KS, 10 + c);
    gp[c] = aligned_alloc(64, 4L * O * C * KS * KS); conta_gc_pack(w, C, O, KS, KS, gp[c]);
    if (S == 1 && KS == 3) { wu[c] = aligned_alloc(64, 4L * conta_wino_weights_floats(C, O)); conta_wino_transform_weights(w, C, O, wu[c]); }
  }
  // check gemm vs winograd (same weights: last copy)
  conta_gc_conv(x, H, H, C, O, KS, KS, S, PD, 1, gp[NC - 1], bias, 0, 1, y, ws, NULL, 0, 0, 2);
  if (S == 1 && KS == 3) { conta_wino_conv(x, H, H, 1, C, O, wu[NC - 1], bias, 1, y2, ws, 2); double e = 0, m = 0; for (long i = 0; i < (long)P * O; i++) { e = fmax(e, fabs(y[i] - y2[i])); m = fmax(m, fabs(y2[i])); } printf("gemm vs winograd max err %.2e of %.2e\n", e, m); }
  double t[3][200];
  for (int round = 0; round < 3; round++) {
    for (int meth = 0; meth < 3; meth++) {
      if (meth == 2 && (S != 1 || KS != 3)) continue;
      for (int i = 0; i < it + NC; i++) {
        int c = i % NC; double t0 = now();
        if (meth == 0) { dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm[c]}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, dst}}; CK(dnnl_primitive_execute(prim, str, 4, a)); dnnl_stream_wait(str); }
        else if (meth == 1) conta_gc_conv(x, H, H, C, O, KS, KS, S, PD, 1, gp[c], bias, 0, 1, y, ws, NULL, 0, 0, 2);
        else conta_wino_conv(x, H, H, 1, C, O, wu[c], bias, 1, y2, ws, 2);
        if (i >= NC) t[meth][i - NC] = now() - t0;
      }
      qsort(t[meth], it, 8, cmpd);
    }
    printf("%dx%d %d->%d k%d s%d: oneDNN %.3f gemm %.3f winograd %.3f\n", H, H, C, O, KS, S, t[0][it / 2], t[1][it / 2], S == 1 && KS == 3 ? t[2][it / 2] : 0.0);
  }
}
