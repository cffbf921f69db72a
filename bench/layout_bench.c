// native/src/layout.c's layout conversions against oneDNN's reorders (what DnnlConv ran before session 13) on the
// activation shapes of a ResNet-50 training step, batch 8 @224: NCHW f32 <-> nChw16c (f32 and bf16) and <-> NHWC.
// Checks that both give the same bits, then median ms of N calls each, alternating. A measurement for
// bench/RESULTS.md, not part of the engine:
//   mkdir -p /tmp/dnnl && (cd /tmp/dnnl && unzip -qo ~+/target/lib/dnnl-3.11-1.5.13-linux-x86_64.jar)
//   D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O3 -fopenmp -o /tmp/layout_bench bench/layout_bench.c -I$D/include -L$D -l:libdnnl.so.3 -Wl,-rpath,$D
//   OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /tmp/layout_bench 20
#include <dnnl.h>
#include "layout_kernels.c"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("fail %s line %d: %d\n", #x, __LINE__, s_); exit(1);} } while (0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmpd(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static dnnl_engine_t eng; static dnnl_stream_t str;
// FLUSH=1: 96 MB written before each timed call (in a training step the tensors come from memory); OFFSET=k: the
// NCHW buffers start k floats past a 64-byte boundary (our tensors are malloc'd: 16-byte aligned)
static char *junk; static int OFFSET;
static void flush(void) {
  if (!junk) return;
#pragma omp parallel for
  for (long i = 0; i < (96L << 20); i += 64) junk[i]++;
}

// dir 0: layout -> NCHW f32 (to planes), 1: NCHW f32 -> layout. tag: dnnl_aBcd16b or dnnl_acdb. type: f32 / bf16.
static void run(int N, int C, int H, int W, int tag, dnnl_data_type_t type, int dir, int iters) {
  dnnl_dims_t d = {N, C, H, W};
  dnnl_memory_desc_t plain, lay;
  CK(dnnl_memory_desc_create_with_tag(&plain, 4, d, dnnl_f32, dnnl_abcd)); CK(dnnl_memory_desc_create_with_tag(&lay, 4, d, type, tag));
  size_t n = (size_t)N * C * H * W, esz = type == dnnl_bf16 ? 2 : 4;
  float *p0 = aligned_alloc(64, n * 4 + 64), *p20 = aligned_alloc(64, n * 4 + 64), *p = p0 + OFFSET, *p2 = p20 + OFFSET; void *l = aligned_alloc(64, n * esz), *l2 = aligned_alloc(64, n * esz);
  for (size_t i = 0; i < n; i++) p[i] = ((i * 7919) % 1013) / 97.f - 5.1f;
  dnnl_memory_t mp, ml; CK(dnnl_memory_create(&mp, plain, eng, p)); CK(dnnl_memory_create(&ml, lay, eng, l));
  dnnl_primitive_desc_t pd; dnnl_primitive_t r;
  CK(dnnl_reorder_primitive_desc_create(&pd, dir ? plain : lay, eng, dir ? lay : plain, eng, NULL)); CK(dnnl_primitive_create(&r, pd));
  dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, dir ? mp : ml}, {DNNL_ARG_TO, dir ? ml : mp}};
  long batches = tag == dnnl_acdb ? N : (long)N * C / 16, rows = (long)H * W, cols = tag == dnnl_acdb ? C : 16;
  // fill the layout side with oneDNN's conversion of p, keep p as the reference
  if (!dir) { dnnl_primitive_desc_t pd2; dnnl_primitive_t r2; CK(dnnl_reorder_primitive_desc_create(&pd2, plain, eng, lay, eng, NULL)); CK(dnnl_primitive_create(&r2, pd2));
    dnnl_exec_arg_t a2[2] = {{DNNL_ARG_FROM, mp}, {DNNL_ARG_TO, ml}}; CK(dnnl_primitive_execute(r2, str, 2, a2)); }
  #define OURS() do { if (dir) { if (type == dnnl_bf16) conta_layout_from_planes_bf16(p, l2, batches, rows, cols); else conta_layout_from_planes_f32(p, l2, batches, rows, cols); } \
                      else { if (type == dnnl_bf16) conta_layout_to_planes_bf16(l, p2, batches, rows, cols); else conta_layout_to_planes_f32(l, p2, batches, rows, cols); } } while (0)
  // same bits?
  OURS(); CK(dnnl_primitive_execute(r, str, 2, a));
  int same = dir ? !memcmp(l, l2, n * esz) : !memcmp(p, p2, n * 4);
  double to[200], tn[200];
  for (int i = 0; i < iters + 2; i++) {
    flush(); double t0 = now(); CK(dnnl_primitive_execute(r, str, 2, a)); double da = now() - t0;
    flush(); t0 = now(); OURS(); double db = now() - t0;
    if (i >= 2) { to[i - 2] = da; tn[i - 2] = db; }
  }
  qsort(to, iters, 8, cmpd); qsort(tn, iters, 8, cmpd);
  printf("%dx%dx%dx%d %s %s %s: oneDNN %.3f ms, ours %.3f ms (%.1fx)  %s\n", N, C, H, W, type == dnnl_bf16 ? "bf16" : "f32 ",
         tag == dnnl_acdb ? "nhwc    " : "nChw16c ", dir ? "<- nchw" : "-> nchw", to[iters / 2], tn[iters / 2], to[iters / 2] / tn[iters / 2], same ? "same bits" : "DIFFERENT");
  free(p0); free(p20); free(l); free(l2);
}
int main(int argc, char **argv) {
  int it = argc > 1 ? atoi(argv[1]) : 20;
  if (getenv("FLUSH") && atoi(getenv("FLUSH"))) { junk = malloc(96L << 20); memset(junk, 1, 96L << 20); }
  if (getenv("OFFSET")) OFFSET = atoi(getenv("OFFSET"));
  CK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
  int sh[][3] = {{64, 112, 112}, {256, 56, 56}, {512, 28, 28}, {1024, 14, 14}, {2048, 7, 7}};
  for (int s = 0; s < 5; s++)
    for (int dir = 0; dir < 2; dir++) {
      run(8, sh[s][0], sh[s][1], sh[s][2], dnnl_aBcd16b, dnnl_f32, dir, it);
      run(8, sh[s][0], sh[s][1], sh[s][2], dnnl_aBcd16b, dnnl_bf16, dir, it);
      run(8, sh[s][0], sh[s][1], sh[s][2], dnnl_acdb, dnnl_f32, dir, it);
    }
  return 0;
}
