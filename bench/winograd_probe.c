// Winograd F(2x2,3x3) probe: would fewer multiply-adds make the fp32 plan's 3x3 convolutions faster on this CPU?
// For ResNet-50's four stride-1 3x3 shapes (batch 1, NHWC, bias + ReLU) it times oneDNN's direct convolution (what
// the plan runs) against a Winograd convolution built from C transforms (OpenMP, 16 lanes per step) and oneDNN's
// batched matmul for the 16 GEMMs, checks both agree, and prints per-stage medians. Not part of the engine: a
// measurement for bench/RESULTS-latency.md. Build and run (oneDNN and its headers come from the JavaCPP jar):
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O3 -march=native -fopenmp -o /tmp/winograd_probe bench/winograd_probe.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D -lm
//   OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /tmp/winograd_probe 50
#include <dnnl.h>
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

static const float zero[16384];
static void in_transform(const float *x, float *V, int H, int W, int C, int th, int tw) {
  int T = th * tw; long plane = (long)T * C;
  #pragma omp parallel for schedule(static)
  for (int t = 0; t < T; t++) {
    int ty = t / tw, tx = t % tw, y0 = 2 * ty - 1, x0 = 2 * tx - 1;
    const float *row[4][4];
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) {
      int y = y0 + i, xx = x0 + j;
      row[i][j] = (y < 0 || y >= H || xx < 0 || xx >= W) ? zero : x + ((long)y * W + xx) * C;
    }
    float *out = V + (long)t * C;
    for (int c0 = 0; c0 < C; c0 += 16) {
      float u[4][4][16];
      for (int j = 0; j < 4; j++) {
        const float *d0 = row[0][j] + c0, *d1 = row[1][j] + c0, *d2 = row[2][j] + c0, *d3 = row[3][j] + c0;
        #pragma omp simd
        for (int l = 0; l < 16; l++) { u[0][j][l] = d0[l] - d2[l]; u[1][j][l] = d1[l] + d2[l]; u[2][j][l] = d2[l] - d1[l]; u[3][j][l] = d1[l] - d3[l]; }
      }
      for (int i = 0; i < 4; i++) {
        float *o0 = out + (i * 4 + 0) * plane + c0, *o1 = out + (i * 4 + 1) * plane + c0, *o2 = out + (i * 4 + 2) * plane + c0, *o3 = out + (i * 4 + 3) * plane + c0;
        #pragma omp simd
        for (int l = 0; l < 16; l++) { o0[l] = u[i][0][l] - u[i][2][l]; o1[l] = u[i][1][l] + u[i][2][l]; o2[l] = u[i][2][l] - u[i][1][l]; o3[l] = u[i][1][l] - u[i][3][l]; }
      }
    }
  }
}
static void out_transform(const float *M, float *y, const float *bias, int H, int W, int OC, int th, int tw) {
  int T = th * tw; long plane = (long)T * OC;
  #pragma omp parallel for schedule(static)
  for (int t = 0; t < T; t++) {
    int ty = t / tw, tx = t % tw;
    const float *m = M + (long)t * OC;
    float *o00 = y + ((long)(2 * ty) * W + 2 * tx) * OC;
    int hasx = 2 * tx + 1 < W, hasy = 2 * ty + 1 < H;
    for (int c0 = 0; c0 < OC; c0 += 16) {
      float t0[4][16], t1[4][16], a[4][16];
      for (int j = 0; j < 4; j++) {
        const float *v0 = m + (0 * 4 + j) * plane + c0, *v1 = m + (1 * 4 + j) * plane + c0, *v2 = m + (2 * 4 + j) * plane + c0, *v3 = m + (3 * 4 + j) * plane + c0;
        #pragma omp simd
        for (int l = 0; l < 16; l++) { t0[j][l] = v0[l] + v1[l] + v2[l]; t1[j][l] = v1[l] - v2[l] - v3[l]; }
      }
      #pragma omp simd
      for (int l = 0; l < 16; l++) {
        float b = bias[c0 + l];
        a[0][l] = fmaxf(t0[0][l] + t0[1][l] + t0[2][l] + b, 0); a[1][l] = fmaxf(t0[1][l] - t0[2][l] - t0[3][l] + b, 0);
        a[2][l] = fmaxf(t1[0][l] + t1[1][l] + t1[2][l] + b, 0); a[3][l] = fmaxf(t1[1][l] - t1[2][l] - t1[3][l] + b, 0);
      }
      memcpy(o00 + c0, a[0], 64);
      if (hasx) memcpy(o00 + OC + c0, a[1], 64);
      if (hasy) { memcpy(o00 + (long)W * OC + c0, a[2], 64); if (hasx) memcpy(o00 + (long)W * OC + OC + c0, a[3], 64); }
    }
  }
}
static void w_transform(const float *w, float *U, int C, int OC) { // w [OC][C][3][3] -> U[16][C][OC]
  for (int o = 0; o < OC; o++) for (int c = 0; c < C; c++) {
    const float *g = w + ((long)o * C + c) * 9; float a[4][3], u[4][4];
    for (int j = 0; j < 3; j++) { a[0][j] = g[j]; a[1][j] = .5f * (g[j] + g[3 + j] + g[6 + j]); a[2][j] = .5f * (g[j] - g[3 + j] + g[6 + j]); a[3][j] = g[6 + j]; }
    for (int i = 0; i < 4; i++) { u[i][0] = a[i][0]; u[i][1] = .5f * (a[i][0] + a[i][1] + a[i][2]); u[i][2] = .5f * (a[i][0] - a[i][1] + a[i][2]); u[i][3] = a[i][2]; }
    for (int k = 0; k < 16; k++) U[((long)k * C + c) * OC + o] = u[k / 4][k % 4];
  }
}
static void run(int H, int W, int C, int OC, int iters) {
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
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {1, 1}, dl = {0, 0}, pad = {1, 1};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pad, pad, at));
  const_dnnl_memory_desc_t wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_t ms, md, mw, mwp, mb; CK(dnnl_memory_create(&ms, smd, eng, x)); CK(dnnl_memory_create(&md, dmd, eng, yd));
  CK(dnnl_memory_create(&mw, wmd, eng, w)); CK(dnnl_memory_create(&mwp, wq, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&mb, bmd, eng, b));
  dnnl_primitive_desc_t rpd; CK(dnnl_reorder_primitive_desc_create(&rpd, wmd, eng, wq, eng, NULL)); dnnl_primitive_t rp; CK(dnnl_primitive_create(&rp, rpd));
  dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, mw}, {DNNL_ARG_TO, mwp}}; CK(dnnl_primitive_execute(rp, str, 2, ra)); dnnl_stream_wait(str);
  dnnl_primitive_t cp; CK(dnnl_primitive_create(&cp, pd));
  dnnl_exec_arg_t ca[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mwp}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, md}};
  // winograd
  int th = (H + 1) / 2, tw = (W + 1) / 2, T = th * tw;
  float *V = aligned_alloc(64, (long)16 * T * C * 4), *U = aligned_alloc(64, (long)16 * C * OC * 4), *M = aligned_alloc(64, (long)16 * T * OC * 4);
  w_transform(w, U, C, OC);
  dnnl_memory_desc_t vmd, umd, uany, mmd; dnnl_dims_t vd = {16, T, C}, ud = {16, C, OC}, mdm = {16, T, OC};
  CK(dnnl_memory_desc_create_with_tag(&vmd, 3, vd, dnnl_f32, dnnl_abc)); CK(dnnl_memory_desc_create_with_tag(&umd, 3, ud, dnnl_f32, dnnl_abc));
  CK(dnnl_memory_desc_create_with_tag(&uany, 3, ud, dnnl_f32, dnnl_format_tag_any)); CK(dnnl_memory_desc_create_with_tag(&mmd, 3, mdm, dnnl_f32, dnnl_abc));
  dnnl_primitive_desc_t mpd; CK(dnnl_matmul_primitive_desc_create(&mpd, eng, vmd, uany, NULL, mmd, NULL));
  const char *impl; dnnl_primitive_desc_query(mpd, dnnl_query_impl_info_str, 0, &impl);
  const_dnnl_memory_desc_t uq = dnnl_primitive_desc_query_md(mpd, dnnl_query_weights_md, 0);
  dnnl_memory_t mv, mu, mup, mm; CK(dnnl_memory_create(&mv, vmd, eng, V)); CK(dnnl_memory_create(&mu, umd, eng, U)); CK(dnnl_memory_create(&mup, uq, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&mm, mmd, eng, M));
  dnnl_primitive_desc_t r2; CK(dnnl_reorder_primitive_desc_create(&r2, umd, eng, uq, eng, NULL)); dnnl_primitive_t rp2; CK(dnnl_primitive_create(&rp2, r2));
  dnnl_exec_arg_t ra2[2] = {{DNNL_ARG_FROM, mu}, {DNNL_ARG_TO, mup}}; CK(dnnl_primitive_execute(rp2, str, 2, ra2)); dnnl_stream_wait(str);
  dnnl_primitive_t mp; CK(dnnl_primitive_create(&mp, mpd));
  dnnl_exec_arg_t ma[3] = {{DNNL_ARG_SRC, mv}, {DNNL_ARG_WEIGHTS, mup}, {DNNL_ARG_DST, mm}};
  double td[200], tww[200], ti[200], tg[200], to[200];
  for (int it = 0; it < iters + 5; it++) {
    double t0 = now(); CK(dnnl_primitive_execute(cp, str, 4, ca)); dnnl_stream_wait(str); double t1 = now();
    in_transform(x, V, H, W, C, th, tw); double t2 = now();
    CK(dnnl_primitive_execute(mp, str, 3, ma)); dnnl_stream_wait(str); double t3 = now();
    out_transform(M, yw, b, H, W, OC, th, tw); double t4 = now();
    if (it >= 5) { td[it - 5] = t1 - t0; tww[it - 5] = t4 - t1; ti[it - 5] = t2 - t1; tg[it - 5] = t3 - t2; to[it - 5] = t4 - t3; }
  }
  double err = 0, ref = 0; for (long i = 0; i < ny; i++) { err = fmax(err, fabs(yd[i] - yw[i])); ref = fmax(ref, fabs(yd[i])); }
  qsort(td, iters, 8, cmpd); qsort(tww, iters, 8, cmpd); qsort(ti, iters, 8, cmpd); qsort(tg, iters, 8, cmpd); qsort(to, iters, 8, cmpd);
  int h = iters / 2;
  printf("%dx%d %d->%d direct %.3f wino %.3f (in %.3f gemm %.3f out %.3f) ratio %.2f maxerr %.2e (max |y| %.2f) matmul %s\n", H, W, C, OC, td[h], tww[h], ti[h], tg[h], to[h], tww[h] / td[h], err, ref, impl);
}
int main(int argc, char **argv) {
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  int it = argc > 1 ? atoi(argv[1]) : 50;
  run(56, 56, 64, 64, it); run(28, 28, 128, 128, it); run(14, 14, 256, 256, it); run(7, 7, 512, 512, it);
  return 0;
}
