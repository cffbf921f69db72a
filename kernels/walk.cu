// Sparse random walk (AffinityNet/IRNet propagation of CAMs). The affinity graph is stored per neighbour offset:
// aff[n, o, p] = affinity between pixel p and p + (dy[o], dx[o]) (used only where that neighbour is inside the image).
// The matrix is symmetric with unit self-loops; A^beta is column-normalised: T[i,j] = A[i,j]^beta / d[j],
// d[j] = sum_i A[i,j]^beta, and one step is v'[c,j] = sum_i v[c,i] T[i,j]. Java reference: KernelRef.walk*.
#include "common.cuh"

// offs holds 2*O ints: dy[0..O), dx[0..O)
__device__ inline double gather(const float* v, const float* aff, const int* offs, int o, int h, int w, int y, int x,
                                float beta, bool weightsOnly) {
    i64 p = (i64)h * w;
    int j = y * w + x;
    double s = weightsOnly ? 1.0 : (double)v[j];
    for (int t = 0; t < o; t++) {
        int oy = offs[t], ox = offs[o + t];
        int y1 = y + oy, x1 = x + ox;       // forward neighbour: edge stored at j
        if (y1 >= 0 && y1 < h && x1 >= 0 && x1 < w) {
            double a = pow((double)aff[(i64)t * p + j], (double)beta);
            s += weightsOnly ? a : a * v[y1 * w + x1];
        }
        int y0 = y - oy, x0 = x - ox;       // backward neighbour: edge stored at that neighbour
        if (y0 >= 0 && y0 < h && x0 >= 0 && x0 < w) {
            double a = pow((double)aff[(i64)t * p + y0 * w + x0], (double)beta);
            s += weightsOnly ? a : a * v[y0 * w + x0];
        }
    }
    return s;
}

// d[n, j] = column sums of A^beta (self-loop included)
extern "C" __global__ void walk_colsum(const float* aff, const int* offs, float* d, int n, int o, int h, int w, float beta) {
    i64 p = (i64)h * w, total = (i64)n * p;
    FOR_N(i, total) {
        int ni = (int)(i / p), j = (int)(i % p);
        d[i] = (float)gather(nullptr, aff + (i64)ni * o * p, offs, o, h, w, j / w, j % w, beta, true);
    }
}

// out[n,c,j] = sum_i v[n,c,i] A[i,j]^beta / d[n,j]
extern "C" __global__ void walk_step(const float* v, const float* aff, const int* offs, const float* d, float* out,
                                     int n, int c, int o, int h, int w, float beta) {
    i64 p = (i64)h * w, total = (i64)n * c * p;
    FOR_N(i, total) {
        i64 nc = i / p;
        int ni = (int)(nc / c), j = (int)(i % p);
        double s = gather(v + nc * p, aff + (i64)ni * o * p, offs, o, h, w, j / w, j % w, beta, false);
        out[i] = (float)(s / d[(i64)ni * p + j]);
    }
}
