// ResNet-50's stride-1 1x1 convolutions alone, warm caches: oneDNN's convolution (NHWC, weights format any, what the
// plan runs) against the same product as a oneDNN matmul (M = H*W, K = cin, N = cout), bias + ReLU, batch 1; median
// ms of N calls, twice each. A measurement for bench/RESULTS-latency.md (session 12), not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O2 -o /tmp/onednn_1x1_bench bench/onednn_1x1_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D
//   OMP_NUM_THREADS=2 GOMP_SPINCOUNT=1000 /tmp/onednn_1x1_bench 50
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng; static dnnl_stream_t str;
static double timeit(dnnl_primitive_t p, int n, dnnl_exec_arg_t *a, int iters) {
  double t[500];
  for (int i = 0; i < iters + 5; i++) { double t0 = now(); CK(dnnl_primitive_execute(p, str, n, a)); dnnl_stream_wait(str); if (i >= 5) t[i - 5] = now() - t0; }
  qsort(t, iters, 8, cmpd); return t[iters / 2];
}
static dnnl_memory_t mem(const_dnnl_memory_desc_t md) { dnnl_memory_t m; CK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE)); return m; }
static void run(int H, int W, int C, int O, int iters) {
  dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po)); CK(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0, 0));
  dnnl_primitive_attr_t at; CK(dnnl_primitive_attr_create(&at)); CK(dnnl_primitive_attr_set_post_ops(at, po));
  // conv
  dnnl_memory_desc_t smd, dmd, wany, bmd; dnnl_dims_t sd = {1, C, H, W}, dd = {1, O, H, W}, wd = {O, C, 1, 1}, bd = {O};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, dnnl_f32, dnnl_acdb)); CK(dnnl_memory_desc_create_with_tag(&dmd, 4, dd, dnnl_f32, dnnl_acdb));
  CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any)); CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {1, 1}, dl = {0, 0}, pad = {0, 0};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pad, pad, at));
  dnnl_primitive_t cp; CK(dnnl_primitive_create(&cp, pd));
  const char *impl; CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
  dnnl_exec_arg_t ca[4] = {{DNNL_ARG_SRC, mem(smd)}, {DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0))},
                           {DNNL_ARG_BIAS, mem(bmd)}, {DNNL_ARG_DST, mem(dmd)}};
  // matmul
  dnnl_memory_desc_t am, bm, cm, bias2; dnnl_dims_t ad = {H * W, C}, bdd = {C, O}, cd = {H * W, O}, b2 = {1, O};
  CK(dnnl_memory_desc_create_with_tag(&am, 2, ad, dnnl_f32, dnnl_ab)); CK(dnnl_memory_desc_create_with_tag(&bm, 2, bdd, dnnl_f32, dnnl_format_tag_any));
  CK(dnnl_memory_desc_create_with_tag(&cm, 2, cd, dnnl_f32, dnnl_ab)); CK(dnnl_memory_desc_create_with_tag(&bias2, 2, b2, dnnl_f32, dnnl_ab));
  dnnl_primitive_desc_t mpd; CK(dnnl_matmul_primitive_desc_create(&mpd, eng, am, bm, bias2, cm, at));
  dnnl_primitive_t mp; CK(dnnl_primitive_create(&mp, mpd));
  const char *mimpl; CK(dnnl_primitive_desc_query(mpd, dnnl_query_impl_info_str, 0, &mimpl));
  dnnl_exec_arg_t ma[4] = {{DNNL_ARG_SRC, mem(am)}, {DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(mpd, dnnl_query_weights_md, 0))},
                           {DNNL_ARG_BIAS, mem(bias2)}, {DNNL_ARG_DST, mem(cm)}};
  double tc = timeit(cp, 4, ca, iters), tm = timeit(mp, 4, ma, iters);
  double tc2 = timeit(cp, 4, ca, iters), tm2 = timeit(mp, 4, ma, iters);
  printf("%2dx%-2d %4d->%-4d conv %.3f/%.3f (%s)  matmul %.3f/%.3f (%s)  ratio %.2f\n", H, W, C, O, tc, tc2, impl, tm, tm2, mimpl, (tm + tm2) / (tc + tc2));
}
int main(int argc, char **argv) {
  int it = argc > 1 ? atoi(argv[1]) : 50;
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  run(56, 56, 64, 64, it); run(56, 56, 64, 256, it); run(56, 56, 256, 64, it); run(56, 56, 256, 128, it);
  run(28, 28, 128, 512, it); run(28, 28, 512, 128, it); run(28, 28, 512, 256, it);
  run(14, 14, 256, 1024, it); run(14, 14, 1024, 256, it); run(14, 14, 1024, 512, it);
  run(7, 7, 512, 2048, it); run(7, 7, 2048, 512, it);
  return 0;
}
