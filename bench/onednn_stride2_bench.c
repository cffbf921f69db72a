// ResNet-50's stride-2 convolutions at batch 1 (NHWC, what the plan runs), each against a reformulation that computes
// the same values: a 3x3 stride-2 convolution as im2col (a [Ho*Wo][9*C] copy) + a oneDNN matmul, a 1x1 stride-2
// convolution as a gather of every second pixel + a stride-1 1x1 convolution; and the classifier's 2048 -> 1000 as
// a matmul against an inner product. bias + ReLU post-op as in the plan. Caches flushed before each timed call
// (FLUSH=0 to keep them warm): in the network the weights come from memory. Median ms of N calls, two passes. A
// measurement for bench/RESULTS-latency.md (session 13), not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O2 -fopenmp -o /tmp/stride2 bench/onednn_stride2_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D
//   OMP_NUM_THREADS=2 GOMP_SPINCOUNT=1000 /tmp/stride2 50
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng; static dnnl_stream_t str;
static int flush_on = 1; static char *junk; static const size_t JUNK = 96u << 20;
static void flush(void) {
  if (!flush_on) return;
#pragma omp parallel for
  for (size_t i = 0; i < JUNK; i += 64) junk[i]++;
}
typedef struct { dnnl_primitive_t p; dnnl_exec_arg_t a[4]; const char *impl; } Op;
typedef void (*pre_fn)(void *);
static double timeit(Op *op, pre_fn pre, void *ctx, int iters) {
  double t[500];
  for (int i = 0; i < iters + 3; i++) {
    flush(); double t0 = now();
    if (pre) pre(ctx);
    CK(dnnl_primitive_execute(op->p, str, 4, op->a)); dnnl_stream_wait(str);
    if (i >= 3) t[i - 3] = now() - t0;
  }
  qsort(t, iters, 8, cmpd); return t[iters / 2];
}
static dnnl_memory_t mem(const_dnnl_memory_desc_t md) {
  dnnl_memory_t m; CK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
  void *h; CK(dnnl_memory_get_data_handle(m, &h)); size_t n = dnnl_memory_desc_get_size(md) / 4;
  for (size_t i = 0; i < n; i++) ((float *)h)[i] = ((i * 7919) % 97) / 970.f - 0.05f;
  return m;
}
static float *ptr(dnnl_memory_t m) { void *h; CK(dnnl_memory_get_data_handle(m, &h)); return h; }
static dnnl_primitive_attr_t relu_attr(void) {
  dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po)); CK(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0, 0));
  dnnl_primitive_attr_t at; CK(dnnl_primitive_attr_create(&at)); CK(dnnl_primitive_attr_set_post_ops(at, po)); return at;
}
static Op conv(int H, int C, int O, int k, int s, dnnl_memory_t src) {
  int Ho = (H + 2 * (k / 2) - k) / s + 1;
  dnnl_memory_desc_t smd, dmd, wany, bmd; dnnl_dims_t sd = {1, C, H, H}, dd = {1, O, Ho, Ho}, wd = {O, C, k, k}, bd = {O};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, dnnl_f32, dnnl_acdb)); CK(dnnl_memory_desc_create_with_tag(&dmd, 4, dd, dnnl_f32, dnnl_acdb));
  CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any)); CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {s, s}, dl = {0, 0}, pad = {k / 2, k / 2};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pad, pad, relu_attr()));
  Op op; CK(dnnl_primitive_create(&op.p, pd)); CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &op.impl));
  op.a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src ? src : mem(smd)};
  op.a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0))};
  op.a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mem(bmd)}; op.a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem(dmd)};
  return op;
}
static Op matmul(int M, int K, int N, dnnl_memory_t src) {
  dnnl_memory_desc_t am, bm, cm, b2; dnnl_dims_t ad = {M, K}, bd = {K, N}, cd = {M, N}, bb = {1, N};
  CK(dnnl_memory_desc_create_with_tag(&am, 2, ad, dnnl_f32, dnnl_ab)); CK(dnnl_memory_desc_create_with_tag(&bm, 2, bd, dnnl_f32, dnnl_format_tag_any));
  CK(dnnl_memory_desc_create_with_tag(&cm, 2, cd, dnnl_f32, dnnl_ab)); CK(dnnl_memory_desc_create_with_tag(&b2, 2, bb, dnnl_f32, dnnl_ab));
  dnnl_primitive_desc_t pd; CK(dnnl_matmul_primitive_desc_create(&pd, eng, am, bm, b2, cm, relu_attr()));
  Op op; CK(dnnl_primitive_create(&op.p, pd)); CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &op.impl));
  op.a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src ? src : mem(am)};
  op.a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0))};
  op.a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mem(b2)}; op.a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem(cm)};
  return op;
}
static Op inner(int K, int N) {
  dnnl_memory_desc_t am, wm, cm, b; dnnl_dims_t ad = {1, K}, wd = {N, K}, cd = {1, N}, bd = {N};
  CK(dnnl_memory_desc_create_with_tag(&am, 2, ad, dnnl_f32, dnnl_ab)); CK(dnnl_memory_desc_create_with_tag(&wm, 2, wd, dnnl_f32, dnnl_format_tag_any));
  CK(dnnl_memory_desc_create_with_tag(&cm, 2, cd, dnnl_f32, dnnl_ab)); CK(dnnl_memory_desc_create_with_tag(&b, 1, bd, dnnl_f32, dnnl_a));
  dnnl_primitive_desc_t pd; CK(dnnl_inner_product_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, am, wm, b, cm, NULL));
  Op op; CK(dnnl_primitive_create(&op.p, pd)); CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &op.impl));
  op.a[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mem(am)};
  op.a[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0))};
  op.a[2] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mem(b)}; op.a[3] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem(cm)};
  return op;
}

typedef struct { const float *x; float *y; int H, C, k, s, Ho; } Copy;
// im2col for 3x3 / pad 1 / stride s (k = 3), or the stride-s pixel gather (k = 1): y[oy][ox][tap][c], NHWC x
static void copy_in(void *v) {
  Copy *c = v; int H = c->H, C = c->C, k = c->k, s = c->s, Ho = c->Ho, p = k / 2;
#pragma omp parallel for
  for (int oy = 0; oy < Ho; oy++)
    for (int ox = 0; ox < Ho; ox++)
      for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
          int yy = oy * s - p + i, xx = ox * s - p + j;
          float *d = c->y + (((long)oy * Ho + ox) * k * k + i * k + j) * C;
          if (yy < 0 || yy >= H || xx < 0 || xx >= H) memset(d, 0, C * 4);
          else memcpy(d, c->x + ((long)yy * H + xx) * C, C * 4);
        }
}

int main(int argc, char **argv) {
  int it = argc > 1 ? atoi(argv[1]) : 50;
  if (getenv("FLUSH")) flush_on = atoi(getenv("FLUSH"));
  junk = malloc(JUNK); memset(junk, 1, JUNK);
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  int s3[][2] = {{56, 128}, {28, 256}, {14, 512}};
  int s1[][3] = {{56, 256, 512}, {28, 512, 1024}, {14, 1024, 2048}};
  for (int pass = 0; pass < 2; pass++) {
    for (int q = 0; q < 3; q++) {
      int H = s3[q][0], C = s3[q][1], Ho = H / 2;
      Op a = conv(H, C, C, 3, 2, NULL);
      float *col = aligned_alloc(64, (size_t)Ho * Ho * 9 * C * 4);
      dnnl_memory_desc_t cmd; dnnl_dims_t cd = {Ho * Ho, 9 * C}; CK(dnnl_memory_desc_create_with_tag(&cmd, 2, cd, dnnl_f32, dnnl_ab));
      dnnl_memory_t cm; CK(dnnl_memory_create(&cm, cmd, eng, col));
      Op b = matmul(Ho * Ho, 9 * C, C, cm);
      Copy cp = {ptr(a.a[0].memory), col, H, C, 3, 2, Ho};
      double ta = timeit(&a, NULL, NULL, it), tb = timeit(&b, copy_in, &cp, it), tm = timeit(&b, NULL, NULL, it);
      printf("3x3 s2 %2d->%-2d %4d: conv %.3f (%s)  im2col+matmul %.3f (matmul alone %.3f, %s)\n", H, Ho, C, ta, a.impl, tb, tm, b.impl);
    }
    for (int q = 0; q < 3; q++) {
      int H = s1[q][0], C = s1[q][1], O = s1[q][2], Ho = H / 2;
      Op a = conv(H, C, O, 1, 2, NULL);
      float *g = aligned_alloc(64, (size_t)Ho * Ho * C * 4);
      dnnl_memory_desc_t gmd; dnnl_dims_t gd = {1, C, Ho, Ho}; CK(dnnl_memory_desc_create_with_tag(&gmd, 4, gd, dnnl_f32, dnnl_acdb));
      dnnl_memory_t gm; CK(dnnl_memory_create(&gm, gmd, eng, g));
      Op b = conv(Ho, C, O, 1, 1, gm);
      Copy cp = {ptr(a.a[0].memory), g, H, C, 1, 2, Ho};
      double ta = timeit(&a, NULL, NULL, it), tb = timeit(&b, copy_in, &cp, it), tm = timeit(&b, NULL, NULL, it);
      printf("1x1 s2 %2d->%-2d %4d->%-4d: conv %.3f (%s)  gather+conv s1 %.3f (conv alone %.3f, %s)\n", H, Ho, C, O, ta, a.impl, tb, tm, b.impl);
    }
    Op ip = inner(2048, 1000), mm = matmul(1, 2048, 1000, NULL);
    printf("fc 2048->1000: inner product %.3f (%s)  matmul %.3f (%s)\n", timeit(&ip, NULL, NULL, it), ip.impl, timeit(&mm, NULL, NULL, it), mm.impl);
  }
  return 0;
}
