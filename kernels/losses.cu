// Fused losses; CPU reference: conta.tensor.cpu.Losses. Per-block partial sums in double; the host adds them in order.
#include "common.cuh"

__device__ inline double softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }

__device__ inline float sigmoidf_ref(float x) {
    double v = x;
    return (float)(v >= 0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v)));
}

// multilabel soft margin and BCE-with-logits are the same sum: y softplus(-x) + (1-y) softplus(x) = softplus(x) - x y.
// d (nullable) = (sigmoid(x) - y) * gradFactor; gradFactor = gradScale / numel (both losses average over all elements)
extern "C" __global__ void sigmoid_bce(const float* x, const float* y, float* d, i64 n, double gradFactor, double* partial) {
    __shared__ double sh[256];
    double acc = 0;
    FOR_N(i, n) {
        double xi = x[i], yi = y[i];
        acc += yi * softplus(-xi) + (1 - yi) * softplus(xi);
        if (d) d[i] = (float)((sigmoidf_ref(x[i]) - yi) * gradFactor);
    }
    double s = block_sum(acc, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// Cross-entropy over dim 1 of N x C x HW; writes w*(softmax - onehot) unscaled into d (nullable), per-block loss and
// weight partials into partial[2*block], partial[2*block+1]. A label outside [0, C) other than `ignore` sets bad[0]=1
// and its value into badValue[0] (the host turns it into the CPU's IllegalArgumentException).
extern "C" __global__ void cross_entropy(const float* x, const float* lab, const float* wts, float* d, int n, int c, i64 hw,
                                         int ignore, double* partial, int* bad, float* badValue) {
    __shared__ double sh[256];
    double lsum = 0, wsum = 0;
    i64 total = (i64)n * hw;
    FOR_N(i, total) {
        i64 b = i / hw, q = i % hw;
        const float* xp = x + b * c * hw + q;
        float* dp = d ? d + b * c * hw + q : nullptr;
        float lf = lab[i];
        int l = (int)lf;
        if (l == ignore) {
            if (dp) for (int k = 0; k < c; k++) dp[k * hw] = 0.f;
            continue;
        }
        if (l < 0 || l >= c || (float)l != lf) {
            if (atomicCAS(bad, 0, 1) == 0) badValue[0] = lf;
            continue;
        }
        double mx = -INFINITY;
        for (int k = 0; k < c; k++) mx = fmax(mx, (double)xp[k * hw]);
        double s = 0;
        for (int k = 0; k < c; k++) s += exp(xp[k * hw] - mx);
        double w = wts ? wts[l] : 1.0;
        lsum += w * (log(s) + mx - xp[(i64)l * hw]);
        wsum += w;
        if (dp)
            for (int k = 0; k < c; k++) dp[k * hw] = (float)(w * (exp(xp[k * hw] - mx) / s - (k == l ? 1 : 0)));
    }
    double ls = block_sum(lsum, sh);
    double ws = block_sum(wsum, sh);
    if (threadIdx.x == 0) {
        partial[2 * blockIdx.x] = ls;
        partial[2 * blockIdx.x + 1] = ws;
    }
}
