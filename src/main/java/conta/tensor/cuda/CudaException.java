package conta.tensor.cuda;

/** A failed CUDA, cuDNN or cuBLAS call; the message names the op, the tensor sizes and the library's error. */
public class CudaException extends RuntimeException {
    public CudaException(String message) { super(message); }

    /** Out of device memory: the caller may free tensors and retry. */
    public static final class OutOfMemory extends CudaException {
        public OutOfMemory(String message) { super(message); }
    }
}
