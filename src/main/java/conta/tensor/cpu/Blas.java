package conta.tensor.cpu;

import org.bytedeco.openblas.global.openblas_nolapack;

/** Row-major sgemm through OpenBLAS (JavaCPP preset); OpenBLAS threads itself over all cores (OPENBLAS_NUM_THREADS to change). */
final class Blas {
    private Blas() { }

    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      CpuStorage a, long aOff, int lda, CpuStorage b, long bOff, int ldb,
                      float beta, CpuStorage c, long cOff, int ldc) {
        if (m == 0 || n == 0) return;
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor,
                transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                m, n, k, alpha, a.floats(aOff), lda, b.floats(bOff), ldb, beta, c.floats(cOff), ldc);
    }

    /**
     * C (+)= A B^T for row-major A [m x k], B [n x k] with a long inner dimension k: summed in chunks of at most
     * {@code chunk} columns. OpenBLAS runs such weight-gradient products (m, n small, k = batch x pixels) at a small
     * fraction of its speed once A and B outgrow the cache (16x144x50176 took 1.7 s); the chunks keep them resident.
     * The sum order is fixed, so results stay deterministic.
     */
    static void sgemmNTChunked(int m, int n, int k, CpuStorage a, long aOff, int lda, CpuStorage b, long bOff, int ldb,
                               float beta, CpuStorage c, long cOff, int ldc, int chunk) {
        for (int j0 = 0; j0 < k; j0 += chunk) {
            int len = Math.min(chunk, k - j0);
            sgemm(false, true, m, n, len, 1f, a, aOff + j0, lda, b, bOff + j0, ldb, j0 == 0 ? beta : 1f, c, cOff, ldc);
        }
    }
}
