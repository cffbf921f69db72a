package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cublas.*;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;

import conta.tensor.Tensor;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;

/** cuBLAS GEMM on row-major tensors; TF32 tensor cores when enabled (PyTorch's allow_tf32 default on Ampere/Hopper). */
final class Cublas implements AutoCloseable {
    private final cublasContext handle = new cublasContext();
    private final FloatPointer alpha = new FloatPointer(1), beta = new FloatPointer(1);
    private final boolean tf32;

    Cublas(CUstream_st stream, boolean tf32) {
        this.tf32 = tf32;
        try {
            Loader.load(org.bytedeco.cuda.global.cublas.class);
        } catch (LinkageError e) {
            throw new CudaException("cannot load cuBLAS (libcublas.so.13, libcublasLt.so.13 on LD_LIBRARY_PATH?): " + CudaRuntime.firstLine(e));
        }
        check(cublasCreate_v2(handle), "cublasCreate", "cuBLAS setup");
        check(cublasSetStream_v2(handle, stream), "cublasSetStream", "cuBLAS setup");
        check(cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "cublasSetMathMode", "cuBLAS setup");
    }

    /** "cuBLAS 130100": the library's version as loaded. */
    String describe() {
        int[] v = new int[1];
        check(cublasGetVersion_v2(handle, v), "cublasGetVersion", "cuBLAS version");
        return "cuBLAS " + v[0];
    }

    static void check(int status, String call, String op) {
        if (status == CUBLAS_STATUS_SUCCESS) return;
        String msg = op + ": " + call + " failed: " + cublasGetStatusString(status).getString() + " (" + status + ")";
        if (status == CUBLAS_STATUS_ALLOC_FAILED) throw new CudaException.OutOfMemory(msg);
        throw new CudaException(msg);
    }

    /**
     * Row-major C[m,n] = alpha op(A) op(B) + beta C. cuBLAS is column-major and sees each row-major matrix transposed,
     * so it computes C^T = op(B)^T op(A)^T: swap the operands and m/n, keep the transpose flags, leading dims = row lengths.
     */
    synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, float a, Tensor A, Tensor B, float b, Tensor C, String op) {
        alpha.put(a);
        beta.put(b);
        check(cublasGemmEx(handle, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, alpha,
                CudaBackend.ptr(B), CUDA_R_32F, Math.max(1, B.dim(1)), CudaBackend.ptr(A), CUDA_R_32F, Math.max(1, A.dim(1)), beta,
                CudaBackend.ptr(C), CUDA_R_32F, Math.max(1, n), tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F,
                CUBLAS_GEMM_DEFAULT), "cublasGemmEx", op);
    }

    @Override public void close() { cublasDestroy_v2(handle); }
}
