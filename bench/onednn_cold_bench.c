// ResNet-50's stride-1 1x1 convolutions, batch 1, with their weights cold as in a plan: each layer is built COPIES
// times with its own weights, and the calls cycle through the copies, so every call's weights were last touched
// tens of MB earlier (in the plan: one whole network call earlier). The input stays warm (in the plan the previous
// layer just wrote it). Variants, median ms over N calls:
//   warm   one copy called again and again (what bench/onednn_1x1_bench.c measures);
//   cold   the convolution (NHWC, weights format any: what the plan runs), copies cycled;
//   matmul the same product as a oneDNN matmul, copies cycled;
//   gap    cold, with the calling thread busy 10 us before each call: the OpenMP worker waits that long between two
//          primitives, as it may in a plan; with GOMP_SPINCOUNT rounds shorter than that it has gone to sleep and the
//          call begins with a futex wake-up (run it with GOMP_SPINCOUNT=1000 and =30000);
//   halves two convolutions of cout/2 each, one per thread, side by side in an OpenMP region (each thread then reads
//          only its half of the weights, once), copies cycled; each half writes its own dense output (a strided
//          output, every other 64-channel run, sends oneDNN to its reference kernel).
// A measurement for bench/RESULTS-latency.md (session 28), not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O2 -fopenmp -o /tmp/onednn_cold_bench bench/onednn_cold_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D
//   OMP_NUM_THREADS=2 GOMP_SPINCOUNT=1000 /tmp/onednn_cold_bench 60 40     (and GOMP_SPINCOUNT=30000: the gap column)
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
#define MAXC 64
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng; static dnnl_stream_t str;
static dnnl_memory_t mem(const_dnnl_memory_desc_t md) {
  dnnl_memory_t m; CK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
  void *p; CK(dnnl_memory_get_data_handle(m, &p)); size_t n = dnnl_memory_desc_get_size(md);
  for (size_t i = 0; i < n / 4; i++) ((float*)p)[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  return m;
}
typedef struct { dnnl_primitive_t p; dnnl_exec_arg_t a[4]; } call_t;
static dnnl_primitive_attr_t relu_attr(void) {
  dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po)); CK(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0, 0));
  dnnl_primitive_attr_t at; CK(dnnl_primitive_attr_create(&at)); CK(dnnl_primitive_attr_set_post_ops(at, po)); return at;
}
// a 1x1 convolution cin -> cout over an NHWC input whose rows are `ld` floats apart (the full input's channels);
// dst rows likewise `dld` floats apart, starting at the given pointers
static dnnl_primitive_desc_t conv_pd(int H, int W, int C, int O, int dld, const char **impl) {
  dnnl_memory_desc_t smd, dmd, wany, bmd; dnnl_dims_t sd = {1, C, H, W}, dd = {1, O, H, W}, wd = {O, C, 1, 1}, bd = {O};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, dnnl_f32, dnnl_acdb));
  dnnl_dims_t dstr = {(dnnl_dim_t)H * W * dld, 1, (dnnl_dim_t)W * dld, dld};
  CK(dnnl_memory_desc_create_with_strides(&dmd, 4, dd, dnnl_f32, dstr));
  CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any)); CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {1, 1}, dl = {0, 0}, pad = {0, 0};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pad, pad, relu_attr()));
  CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl));
  return pd;
}
static double timecalls(call_t *c, int copies, int iters, int halves, double gap_us) {
  double t[1000]; int warm = copies * 2;
  for (int i = 0; i < iters + warm; i++) {
    call_t *k = &c[(i % copies) * (halves ? 2 : 1)];
    for (double g0 = now(); now() - g0 < gap_us / 1000;) { }
    double t0 = now();
    if (halves) {
#pragma omp parallel num_threads(2)
      { call_t *h = &k[omp_get_thread_num()]; CK(dnnl_primitive_execute(h->p, str, 4, h->a)); }
    } else {
      CK(dnnl_primitive_execute(k->p, str, 4, k->a));
    }
    dnnl_stream_wait(str);
    if (i >= warm) t[i - warm] = now() - t0;
  }
  qsort(t, iters, 8, cmpd); return t[iters / 2];
}
static void run(int H, int W, int C, int O, int iters, int copies) {
  static call_t cv[MAXC], mm[MAXC], hv[2 * MAXC];
  const char *impl, *mimpl, *himpl;
  dnnl_primitive_desc_t pd = conv_pd(H, W, C, O, O, &impl), hpd = conv_pd(H, W, C, O / 2, O / 2, &himpl);
  dnnl_primitive_t cp, hp; CK(dnnl_primitive_create(&cp, pd)); CK(dnnl_primitive_create(&hp, hpd));
  dnnl_memory_desc_t am, bm, cm, b2md; dnnl_dims_t ad = {H * W, C}, bdd = {C, O}, cd = {H * W, O}, b2 = {1, O};
  CK(dnnl_memory_desc_create_with_tag(&am, 2, ad, dnnl_f32, dnnl_ab)); CK(dnnl_memory_desc_create_with_tag(&bm, 2, bdd, dnnl_f32, dnnl_format_tag_any));
  CK(dnnl_memory_desc_create_with_tag(&cm, 2, cd, dnnl_f32, dnnl_ab)); CK(dnnl_memory_desc_create_with_tag(&b2md, 2, b2, dnnl_f32, dnnl_ab));
  dnnl_primitive_desc_t mpd; CK(dnnl_matmul_primitive_desc_create(&mpd, eng, am, bm, b2md, cm, relu_attr()));
  dnnl_primitive_t mp; CK(dnnl_primitive_create(&mp, mpd));
  CK(dnnl_primitive_desc_query(mpd, dnnl_query_impl_info_str, 0, &mimpl));
  dnnl_memory_t src = mem(dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0));
  dnnl_memory_t dst = mem(dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0));
  void *sp, *dp; CK(dnnl_memory_get_data_handle(src, &sp)); CK(dnnl_memory_get_data_handle(dst, &dp));
  dnnl_memory_t msrc, mdst; CK(dnnl_memory_create(&msrc, am, eng, sp)); CK(dnnl_memory_create(&mdst, cm, eng, dp));
  dnnl_memory_desc_t hbmd; dnnl_dims_t hbd = {O / 2}; CK(dnnl_memory_desc_create_with_tag(&hbmd, 1, hbd, dnnl_f32, dnnl_a));
  for (int k = 0; k < copies; k++) {
    cv[k].p = cp;
    dnnl_memory_t bias; { dnnl_memory_desc_t bmd; dnnl_dims_t bd = {O}; CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a)); bias = mem(bmd); }
    cv[k].a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src}; cv[k].a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0))};
    cv[k].a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, bias}; cv[k].a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, dst};
    mm[k].p = mp; mm[k].a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, msrc}; mm[k].a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(mpd, dnnl_query_weights_md, 0))};
    mm[k].a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mem(b2md)}; mm[k].a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, mdst};
    for (int h = 0; h < 2; h++) {
      call_t *c = &hv[2 * k + h]; c->p = hp;
      dnnl_memory_t hd = mem(dnnl_primitive_desc_query_md(hpd, dnnl_query_dst_md, 0));
      c->a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src}; c->a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(hpd, dnnl_query_weights_md, 0))};
      c->a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mem(hbmd)}; c->a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, hd};
    }
  }
  double w = timecalls(cv, 1, iters, 0, 0), c = timecalls(cv, copies, iters, 0, 0), g = timecalls(cv, copies, iters, 0, 10),
         m = timecalls(mm, copies, iters, 0, 0), h = timecalls(hv, copies, iters, 1, 0);
  double c2 = timecalls(cv, copies, iters, 0, 0), h2 = timecalls(hv, copies, iters, 1, 0), g2 = timecalls(cv, copies, iters, 0, 10),
         w2 = timecalls(cv, 1, iters, 0, 0), m2 = timecalls(mm, copies, iters, 0, 0);
  printf("%2dx%-2d %4d->%-4d warm %.3f/%.3f cold %.3f/%.3f gap %.3f/%.3f matmul %.3f/%.3f halves %.3f/%.3f  (%s | %s | %s)\n",
         H, W, C, O, w, w2, c, c2, g, g2, m, m2, h, h2, impl, mimpl, himpl);
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
