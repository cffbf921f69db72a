package conta.tensor.cpu;

import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.FloatPointer;

/** oneDNN's row-major sgemm (apart from {@link Blas} so that a build without the dnnl jars never links it). */
final class DnnlGemm {
    private DnnlGemm() { }

    static void sgemm(boolean transA, boolean transB, long m, long n, long k, float alpha, FloatPointer a, long lda,
                      FloatPointer b, long ldb, float beta, FloatPointer c, long ldc) {
        DnnlConv.check(dnnl.dnnl_sgemm((byte) (transA ? 'T' : 'N'), (byte) (transB ? 'T' : 'N'), m, n, k, alpha, a, lda,
                b, ldb, beta, c, ldc), "sgemm " + m + "x" + n + "x" + k);
    }
}
