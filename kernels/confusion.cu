// Confusion-matrix accumulation with conta.eval.Confusion's rules: ground truth 255 is skipped, a predicted 255 counts
// as background, any other value outside [0, K) sets bad[0] (1: ground truth, 2: prediction) and
// its value.
#include "common.cuh"

extern "C" __global__ void confusion_acc(const float* gt, const float* pred, unsigned long long* mat, i64 n, int k,
                                         int* bad, float* badValue) {
    FOR_N(i, n) {
        int g = (int)gt[i];
        if (g == 255) continue;
        int p = (int)pred[i];
        if (p == 255) p = 0;
        if (g < 0 || g >= k || p < 0 || p >= k) {
            if (atomicCAS(bad, 0, g < 0 || g >= k ? 1 : 2) == 0) badValue[0] = g < 0 || g >= k ? (float)g : (float)p;
            continue;
        }
        atomicAdd(mat + (i64)g * k + p, 1ULL);
    }
}
