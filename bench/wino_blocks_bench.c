// conta's Winograd kernel (native/src/winograd.c) against oneDNN's direct convolution: batch 1, NHWC, 3x3, stride 1,
// dilation D (padding D), bias + ReLU, U cold as in a plan (NC copies of the transformed weights called in turn). The
// kernel's blocks of tiles depend on the L2 size it is given and whether wide layers take blocks of half of it
// (conta_wino_set_l2): WINO_L2=0 the 256 KB blocks of before session 30, WINO_L2=2097152 a 2 MB L2 (default: this CPU's,
// from sysfs; WINO_WIDE=0 turns the wide blocks off, on by default here whatever the L2). Median ms of IT calls, 2 rounds;
// the kernel's output is checked against oneDNN's. A measurement for bench/RESULTS-latency.md, not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O3 -fopenmp -o /tmp/wino_blocks_bench bench/wino_blocks_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D -lm
//   OMP_NUM_THREADS=2 WINO_L2=0 /tmp/wino_blocks_bench H D CIN COUT [IT 20] [oneDNN too: 1]    e.g. 28 1 512 512
#include <dnnl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../native/src/winograd.c"
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static void fill(float *p, size_t n, unsigned seed) { for (size_t i = 0; i < n; i++) p[i] = (float)(((i + seed) * 2654435761u) % 1000) / 1000.0f - 0.5f; }
#define NC 4
int main(int argc, char **argv) {
  int H = atoi(argv[1]), D = atoi(argv[2]), C = atoi(argv[3]), O = atoi(argv[4]), it = argc > 5 ? atoi(argv[5]) : 20, dn = argc > 6 ? atoi(argv[6]) : 1;
  int threads = omp_get_max_threads();
  long l2 = 0; FILE *f = fopen("/sys/devices/system/cpu/cpu0/cache/index2/size", "r"); // e.g. "2048K"
  if (f) { if (fscanf(f, "%ld", &l2) != 1) l2 = 0; fclose(f); l2 *= 1024; }
  if (getenv("WINO_L2")) l2 = atol(getenv("WINO_L2"));
  conta_wino_set_l2(l2, getenv("WINO_WIDE") ? atoi(getenv("WINO_WIDE")) : 1);
  float *x = aligned_alloc(64, 4L * H * H * C), *w = malloc(4L * O * C * 9), *b = malloc(4L * O), *y = aligned_alloc(64, 4L * H * H * O), *y2 = aligned_alloc(64, 4L * H * H * O);
  fill(x, (size_t)H * H * C, 1); fill(b, O, 2);
  float *U[NC]; long uf = conta_wino_weights_floats(C, O);
  for (int c = 0; c < NC; c++) { fill(w, (size_t)O * C * 9, 10 + c); for (long i = 0; i < (long)O*C*9; i++) w[i] *= 0.05f; U[c] = aligned_alloc(64, 4 * uf); conta_wino_transform_weights(w, C, O, U[c]); }
  long wsf = conta_wino_workspace_floats(H, H, D, C, O, threads); float *ws = aligned_alloc(64, 4 * wsf);
  grid_t g = grid(H, H, D, C, O, threads);
  printf("L2 %ld: grid m %d tiles %d tb %d nblk %d nc %d nch %d split_chunks %d ws %.1f MB U %.1f MB\n", l2, g.m, g.tiles, g.tb, g.nblk, g.nc, g.nch, split_chunks(&g, threads), wsf * 4e-6, uf * 4e-6);
  // oneDNN direct with the last copy's weights
  dnnl_engine_t eng; dnnl_stream_t str; CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  dnnl_memory_desc_t smd, dmd, wany, bmd, wpl; dnnl_dims_t sd = {1, C, H, H}, dd = {1, O, H, H}, wd = {O, C, 3, 3}, bd = {O};
  CK(dnnl_memory_desc_create_with_tag(&smd, 4, sd, dnnl_f32, dnnl_acdb)); CK(dnnl_memory_desc_create_with_tag(&dmd, 4, dd, dnnl_f32, dnnl_acdb));
  CK(dnnl_memory_desc_create_with_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any)); CK(dnnl_memory_desc_create_with_tag(&wpl, 4, wd, dnnl_f32, dnnl_abcd)); CK(dnnl_memory_desc_create_with_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
  dnnl_primitive_attr_t a; CK(dnnl_primitive_attr_create(&a)); dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po)); CK(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0, 0)); CK(dnnl_primitive_attr_set_post_ops(a, po));
  dnnl_primitive_desc_t pd; dnnl_dims_t st = {1, 1}, dl = {D - 1, D - 1}, pp = {D, D};
  CK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, smd, wany, bmd, dmd, st, dl, pp, pp, a));
  dnnl_primitive_t prim; CK(dnnl_primitive_create(&prim, pd));
  dnnl_memory_t sm, dm, bm, wm[NC], wp;
  CK(dnnl_memory_create(&sm, smd, eng, x)); CK(dnnl_memory_create(&dm, dmd, eng, y2)); CK(dnnl_memory_create(&bm, bmd, eng, b));
  for (int c = 0; c < NC; c++) {
    fill(w, (size_t)O * C * 9, 10 + c); for (long i = 0; i < (long)O*C*9; i++) w[i] *= 0.05f;
    CK(dnnl_memory_create(&wm[c], dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&wp, wpl, eng, w));
    dnnl_primitive_desc_t rpd; dnnl_primitive_t r; CK(dnnl_reorder_primitive_desc_create(&rpd, wpl, eng, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), eng, NULL)); CK(dnnl_primitive_create(&r, rpd));
    dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, wp}, {DNNL_ARG_TO, wm[c]}}; CK(dnnl_primitive_execute(r, str, 2, ra)); dnnl_stream_wait(str);
  }
  conta_wino_conv(x, H, H, D, C, O, U[NC - 1], b, 1, y, ws, threads);
  dnnl_exec_arg_t ea[4] = {{DNNL_ARG_SRC, sm}, {DNNL_ARG_WEIGHTS, wm[NC - 1]}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, dm}}; CK(dnnl_primitive_execute(prim, str, 4, ea)); dnnl_stream_wait(str);
  double e = 0, m = 0; for (long i = 0; i < (long)H * H * O; i++) { e = fmax(e, fabs(y[i] - y2[i])); m = fmax(m, fabs(y2[i])); }
  printf("winograd vs oneDNN max err %.2e of %.2e\n", e, m);
  double tw[200], td[200];
  for (int r = 0; r < 2; r++) {
    for (int i = 0; i < it; i++) { double t0 = now(); conta_wino_conv(x, H, H, D, C, O, U[i % NC], b, 1, y, ws, threads); tw[i] = now() - t0; }
    if (dn) for (int i = 0; i < it; i++) { dnnl_exec_arg_t ea2[4] = {{DNNL_ARG_SRC, sm}, {DNNL_ARG_WEIGHTS, wm[i % NC]}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, dm}}; double t0 = now(); CK(dnnl_primitive_execute(prim, str, 4, ea2)); dnnl_stream_wait(str); td[i] = now() - t0; }
    qsort(tw, it, sizeof(double), cmpd); qsort(td, it, sizeof(double), cmpd);
    printf("round %d: winograd %.3f ms  oneDNN %.3f ms\n", r, tw[it / 2], dn ? td[it / 2] : 0);
  }
}
