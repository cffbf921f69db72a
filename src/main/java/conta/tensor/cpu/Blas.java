package conta.tensor.cpu;

import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Row-major sgemm: through oneDNN's sgemm where oneDNN loads, else through OpenBLAS (JavaCPP preset).
 *
 * <p>Why not OpenBLAS beside oneDNN: OpenBLAS keeps its own worker threads, which spin (busy-wait, yielding) for a
 * while after every call. Beside oneDNN's OpenMP threads on a 2-core machine one spinning OpenBLAS thread took a core
 * from oneDNN at random points of the next convolutions (the ResNet-50 step's one sgemm, its classifier, left a thread
 * using ~18% of a core; kernels that wait at a barrier for both threads ran 5-20x slower: bench/RESULTS.md, session
 * 15). oneDNN's sgemm runs on the same OpenMP threads as its convolutions, which sleep when idle.
 * {@code -Dconta.blas=openblas} keeps OpenBLAS (OPENBLAS_NUM_THREADS sets its threads).
 */
final class Blas {
    private Blas() { }

    static final boolean DNNL = !"openblas".equals(conta.io.SystemProps.choice("conta.blas", "dnnl")) && DnnlLibrary.unavailableReason() == null;

    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      CpuStorage a, long aOff, int lda, CpuStorage b, long bOff, int ldb,
                      float beta, CpuStorage c, long cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (DNNL) {
            DnnlGemm.sgemm(transA, transB, m, n, k, alpha, a.floats(aOff), lda, b.floats(bOff), ldb, beta, c.floats(cOff), ldc);
            return;
        }
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
