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
}
