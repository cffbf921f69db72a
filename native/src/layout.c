// The plan's input, converted from the caller's NCHW to the plan's NHWC while it is copied in (libconta_cpu.so, called
// from conta.tensor.cpu.Layout through the FFM API with the caller's Java array itself, no copy before). Before, the
// copy was a memcpy and a oneDNN reorder op followed: 0.13 ms of a 22 ms ResNet-50 @224 call on the Intel hosts
// (session 29), where ONNX Runtime's first convolution reads NCHW itself.

#include <omp.h>

// y[i][p][ch] = x[i][ch][p] for n images of c channels and hw pixels, each thread a contiguous share of every image's
// pixels (the first convolution's threads then find their rows in their own core's cache). Three channels (RGB images)
// have their own loop, which the compiler turns into vector loads and interleaving permutes; other counts take the
// general one.
void conta_nchw_to_nhwc(const float *x, int n, int c, long hw, float *y, int threads) {
#pragma omp parallel num_threads(threads)
  {
    int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    for (int i = 0; i < n; i++) {
      const float *xi = x + (long)i * c * hw;
      float *yi = y + (long)i * c * hw;
      long p0 = hw * tid / nth, p1 = hw * (tid + 1) / nth;
      if (c == 3) {
        const float *r = xi, *g = xi + hw, *b = xi + 2 * hw;
        for (long p = p0; p < p1; p++) {
          yi[3 * p] = r[p];
          yi[3 * p + 1] = g[p];
          yi[3 * p + 2] = b[p];
        }
      } else {
        for (long p = p0; p < p1; p++)
          for (int ch = 0; ch < c; ch++) yi[p * c + ch] = xi[ch * hw + p];
      }
    }
  }
}
