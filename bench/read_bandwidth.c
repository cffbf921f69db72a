// How fast one or two threads read a buffer of S MB again and again (AVX-512 loads, summed so that nothing is
// optimised away): the bandwidth of the cache level the working set fits in. The knee says how much of the shared L3
// this VM gets, which decides whether a plan's weights (ResNet-50 fp32: 133 MB with the Winograd kernel's transformed
// weights, 102 MB without) come from L3 or from DRAM on every call. A measurement for bench/RESULTS-latency.md
// (session 28), not part of the engine:
//   gcc -O2 -mavx512f -fopenmp -o /tmp/read_bandwidth bench/read_bandwidth.c && /tmp/read_bandwidth 1 && /tmp/read_bandwidth 2
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  int nt = argc > 1 ? atoi(argv[1]) : 1;
  static const size_t mb[] = {8, 32, 64, 96, 128, 160, 256, 512};
  for (int si = 0; si < 8; si++) {
    size_t n = mb[si] << 20;
    float *a = aligned_alloc(64, n);
    for (size_t i = 0; i < n / 4; i++) a[i] = 1;
    double best = 0, sink = 0;
    for (int r = 0; r < 5; r++) { // the best of passes 2-5 (pass 1 brings the buffer in)
      double t0 = now();
#pragma omp parallel num_threads(nt) reduction(+ : sink)
      {
        __m512 s = _mm512_setzero_ps();
        size_t per = n / 4 / nt;
        const float *p = a + omp_get_thread_num() * per;
        for (size_t i = 0; i < per; i += 16) s = _mm512_add_ps(s, _mm512_load_ps(p + i));
        sink += _mm512_reduce_add_ps(s);
      }
      double bw = n / (now() - t0) / 1e9;
      if (r > 0 && bw > best) best = bw;
    }
    printf("%3zu MB, %d thread(s): %5.1f GB/s  (checksum %.0f)\n", mb[si], nt, best, sink);
    free(a);
  }
  return 0;
}
