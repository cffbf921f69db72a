/* Batch-1 latency of the C ABI (issue 15, bench/latency.sh IMPLS=capi): conta_segment_rgb8 on a SIZE x SIZE image of
 * random RGB bytes, ITERS timed calls after WARMUP, one "LATENCY capi-fp32 ARCH SIZE p50 .. p90 .. p99 .. min .. mean .. n N"
 * line with nearest-rank percentiles as conta bench latency prints them (LatencyStats), so latency_summary.py reads both.
 *   gcc -O2 -o capi_latency bench/capi_latency.c -Inative/include -Ltarget/native -lconta -Wl,-rpath,target/native
 *   CONTA_CLASSPATH=... ./capi_latency BUNDLE ARCH SIZE ITERS WARMUP */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "conta.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* nearest rank: the smallest value with at least q of the calls at or below it */
static double rank(const double *s, int n, double q) {
    int i = (int) ceil(q * n) - 1;
    return s[i < 0 ? 0 : i >= n ? n - 1 : i];
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: capi_latency BUNDLE ARCH SIZE ITERS WARMUP\n"); return 2; }
    int size = atoi(argv[3]), iters = atoi(argv[4]), warmup = atoi(argv[5]);
    if (size < 16 || iters < 1 || warmup < 0) { fprintf(stderr, "capi_latency: SIZE >= 16, ITERS >= 1, WARMUP >= 0\n"); return 2; }
    conta_model *m = NULL;
    if (conta_open(argv[1], "cpu", &m)) { fprintf(stderr, "capi_latency: %s\n", conta_last_error()); return 1; }
    size_t px = (size_t) size * size;
    uint8_t *rgb = malloc(3 * px), *out = malloc(px);
    double *ms = malloc(sizeof(double) * iters), sum = 0;
    srand(1);
    for (size_t i = 0; i < 3 * px; i++) rgb[i] = (uint8_t) rand();
    for (int it = 0; it < warmup + iters; it++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (conta_segment_rgb8(m, rgb, size, size, out, px)) { fprintf(stderr, "capi_latency: %s\n", conta_last_error()); return 1; }
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (it >= warmup) ms[it - warmup] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    }
    for (int i = 0; i < iters; i++) sum += ms[i];
    qsort(ms, iters, sizeof(double), cmp);
    printf("LATENCY capi-fp32 %s %d p50 %.1f p90 %.1f p99 %.1f min %.1f mean %.1f n %d\n", argv[2], size, rank(ms, iters, 0.5),
           rank(ms, iters, 0.9), rank(ms, iters, 0.99), ms[0], sum / iters, iters);
    conta_close(m);
    free(rgb); free(out); free(ms);
    return 0;
}
