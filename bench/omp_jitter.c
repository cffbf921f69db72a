// Host jitter without conta, Java or oneDNN: calls of fixed work, each 56 OpenMP parallel regions (as many as a
// ResNet-50 plan has primitives) of register-only FMAs (no memory traffic), timed call by call; prints p50, p99 and
// the calls slower than 1.15x p50. A measurement for bench/RESULTS-latency.md (session 12), not part of the engine.
//   gcc -O2 -mavx512f -fopenmp -o /tmp/omp_jitter bench/omp_jitter.c
//   OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2 /tmp/omp_jitter 300 150000     # calls, FMA rounds per region (~15 ms a call here)
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: omp_jitter CALLS ROUNDS_PER_REGION\n"); return 2; }
  int calls = atoi(argv[1]);
  long per = atol(argv[2]);
  if (calls < 1 || calls > 100000) { fprintf(stderr, "CALLS must be 1..100000\n"); return 2; }
  double *t = malloc(calls * sizeof *t), *s = malloc(calls * sizeof *s);
  float out = 0;
  for (int c = 0; c < calls; c++) {
    double t0 = omp_get_wtime();
    for (int op = 0; op < 56; op++) {
#pragma omp parallel reduction(+ : out)
      {
        __m512 a[12], b = _mm512_set1_ps(1.0000001f), cc = _mm512_set1_ps(1e-8f);
        for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(i);
        for (long k = 0; k < per; k++) {
#pragma GCC unroll 12
          for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], b, cc);
        }
        for (int i = 0; i < 12; i++) out += _mm512_reduce_add_ps(a[i]);
      }
    }
    t[c] = s[c] = (omp_get_wtime() - t0) * 1e3;
  }
  qsort(s, calls, sizeof *s, cmp);
  double p50 = s[calls / 2];
  int i99 = (int)(0.99 * calls + 0.999999) - 1;
  printf("p50 %.2f p99 %.2f max %.2f ms (checksum %g)\nslower than 1.15x p50:", p50, s[i99 < 0 ? 0 : i99], s[calls - 1], out);
  for (int c = 0; c < calls; c++) if (t[c] > 1.15 * p50) printf(" %d (%.1f)", c, t[c]);
  printf("\n");
  free(t); free(s);
  return 0;
}
