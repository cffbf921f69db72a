// oneDNN's convolution weight-gradient pass on ResNet-50's layer shapes (batch 8, training), f32 against bf16 (bf16
// src / diff_dst, f32 diff_weights, as conta's bf16 training runs it), with the deterministic attribute on and off.
// Layouts as in training: nChw16c activations, the weight gradient in the layout oneDNN picks. Median ms of N calls.
// A measurement for bench/RESULTS.md (session 15), not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O2 -fopenmp -o /tmp/bwdw bench/onednn_bwdw_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D
//   OMP_NUM_THREADS=2 /tmp/bwdw 20
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng; static dnnl_stream_t str;

static dnnl_memory_t mem(const_dnnl_memory_desc_t md) {
  dnnl_memory_t m; CK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
  void *p; CK(dnnl_memory_get_data_handle(m, &p)); memset(p, 0x3c, dnnl_memory_desc_get_size(md)); // small finite values
  return m;
}

/** Median ms of the weight pass; impl receives the implementation's name. */
static double run(int n, int c, int o, int h, int k, int stride, int bf16, int det, int iters, const char **impl) {
  int oh = (h + 2 * (k / 2) - k) / stride + 1;
  dnnl_dims_t sd = {n, c, h, h}, wd = {o, c, k, k}, dd = {n, o, oh, oh};
  dnnl_dims_t st = {stride, stride}, dil = {0, 0}, pad = {k / 2, k / 2};
  dnnl_data_type_t t = bf16 ? dnnl_bf16 : dnnl_f32;
  dnnl_memory_desc_t src, w, dwany, dst;
  CK(dnnl_memory_desc_create_with_tag(&src, 4, sd, t, dnnl_nChw16c));
  CK(dnnl_memory_desc_create_with_tag(&w, 4, wd, t, dnnl_format_tag_any));
  CK(dnnl_memory_desc_create_with_tag(&dwany, 4, wd, dnnl_f32, dnnl_format_tag_any));
  CK(dnnl_memory_desc_create_with_tag(&dst, 4, dd, t, dnnl_nChw16c));
  dnnl_primitive_attr_t attr; CK(dnnl_primitive_attr_create(&attr));
  CK(dnnl_primitive_attr_set_deterministic(attr, det));
  dnnl_primitive_desc_t fwd, bw;
  CK(dnnl_convolution_forward_primitive_desc_create(&fwd, eng, dnnl_forward_training, dnnl_convolution_direct, src, w, NULL, dst, st, dil, pad, pad, attr));
  CK(dnnl_convolution_backward_weights_primitive_desc_create(&bw, eng, dnnl_convolution_direct, src, dwany, NULL, dst, st, dil, pad, pad, fwd, attr));
  const char *name; CK(dnnl_primitive_desc_query(bw, dnnl_query_impl_info_str, 0, &name)); *impl = name;
  dnnl_primitive_t p; CK(dnnl_primitive_create(&p, bw));
  dnnl_memory_t ms = mem(src), md = mem(dst), mw = mem(dnnl_primitive_desc_query_md(bw, dnnl_query_diff_weights_md, 0));
  const_dnnl_memory_desc_t smd = dnnl_primitive_desc_query_md(bw, dnnl_query_scratchpad_md, 0);
  dnnl_memory_t msc = mem(smd);
  dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_DIFF_DST, md}, {DNNL_ARG_DIFF_WEIGHTS, mw}, {DNNL_ARG_SCRATCHPAD, msc}};
  double *ts = malloc(sizeof(double) * iters);
  for (int i = -2; i < iters; i++) {
    double t0 = now();
    CK(dnnl_primitive_execute(p, str, 4, a)); CK(dnnl_stream_wait(str));
    if (i >= 0) ts[i] = now() - t0;
  }
  qsort(ts, iters, sizeof(double), cmpd);
  double med = ts[iters / 2];
  free(ts);
  return med; // objects leak: a short-lived bench
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 20;
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  // n, c, o, h, k, stride: ResNet-50's stride-1 3x3 layers and some 1x1 layers at batch 8 @224
  int shapes[][6] = {{8, 64, 64, 56, 3, 1}, {8, 128, 128, 28, 3, 1}, {8, 256, 256, 14, 3, 1}, {8, 512, 512, 7, 3, 1},
                     {8, 128, 512, 28, 1, 1}, {8, 512, 128, 28, 1, 1}, {8, 256, 1024, 14, 1, 1}, {8, 512, 2048, 7, 1, 1}};
  printf("%-26s %10s %10s %10s %10s  impl (bf16)\n", "shape", "f32 det", "f32 nondet", "bf16 det", "bf16 nondet");
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    int *s = shapes[i]; const char *impl, *impl2;
    double r[4];
    for (int pass = 0; pass < 2; pass++) // two passes: the first warms the host
      for (int v = 0; v < 4; v++) r[v] = run(s[0], s[1], s[2], s[3], s[4], s[5], v / 2, !(v % 2), iters, v < 2 ? &impl : &impl2);
    char name[64]; snprintf(name, sizeof name, "%dx%d %d->%d k%d s%d", s[3], s[3], s[1], s[2], s[4], s[5]);
    printf("%-26s %10.3f %10.3f %10.3f %10.3f  %s / %s\n", name, r[0], r[1], r[2], r[3], impl2, impl);
  }
  return 0;
}
