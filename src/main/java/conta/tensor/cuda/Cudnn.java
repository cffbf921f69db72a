package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import conta.tensor.Tensor;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;

/**
 * cuDNN handle bound to the backend's stream, a bounded workspace that only grows, descriptors in bounded LRU caches, and the
 * non-conv cuDNN ops (batch norm, softmax, bias). Uses the legacy API, deprecated in cuDNN 9 but present and
 * forward-compatible (engine-notes 2.4); convolution planning lives in {@link ConvPlans}.
 */
@SuppressWarnings("deprecation")
final class Cudnn implements AutoCloseable {
    final cudnnContext handle = new cudnnContext();
    final FloatPointer one = new FloatPointer(1f), zero = new FloatPointer(0f);
    final long workspaceLimit;
    private final DeviceMemory mem;
    private DeviceMemory.Block workspace;
    // bounded: a descriptor per shape, and CAM/prediction passes bring a new shape per image (used within one call each)
    private final LruCache<String, cudnnTensorStruct> tensors = new LruCache<>((int) conta.io.SystemProps.count("conta.cuda.descriptorCache", 256), Cudnn::destroy);
    private final LruCache<String, cudnnTensorStruct> bnParams = new LruCache<>((int) conta.io.SystemProps.count("conta.cuda.descriptorCache", 256), Cudnn::destroy);

    private static void destroy(cudnnTensorStruct d) { cudnnDestroyTensorDescriptor(d); }

    Cudnn(DeviceMemory mem, CUstream_st stream, long workspaceLimit) {
        this.mem = mem;
        this.workspaceLimit = workspaceLimit;
        try {
            Loader.load(org.bytedeco.cuda.global.cudnn.class);
        } catch (LinkageError e) {
            throw new CudaException("cannot load cuDNN 9 (libcudnn*.so.9 on LD_LIBRARY_PATH?): " + CudaRuntime.firstLine(e));
        }
        check(cudnnCreate(handle), "cudnnCreate", "cuDNN setup");
        check(cudnnSetStream(handle, stream), "cudnnSetStream", "cuDNN setup");
    }

    /** "cuDNN 91900 (built for 91900), cudart 13000" plus sub-library version checks. */
    String describe() {
        for (int rc : new int[]{cudnnGraphVersionCheck(), cudnnOpsVersionCheck(), cudnnCnnVersionCheck()})
            check(rc, "cudnn*VersionCheck", "cuDNN setup");
        return "cuDNN " + cudnnGetVersion() + " (preset built for " + CUDNN_VERSION + "), its cudart " + cudnnGetCudartVersion();
    }

    private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** One "warning: cuDNN ..." line per distinct message (an algorithm or engine choice is warned about once, not per shape use). */
    static void warnOnce(String what) { if (WARNED.add(what)) System.err.println("warning: cuDNN " + what); }

    static void check(int status, String call, String op) {
        if (status == CUDNN_STATUS_SUCCESS) return;
        String msg = op + ": " + call + " failed: " + cudnnGetErrorString(status).getString() + " (" + status + ")";
        if (status == CUDNN_STATUS_ALLOC_FAILED) throw new CudaException.OutOfMemory(msg);
        throw new CudaException(msg);
    }

    /** Workspace of at least `bytes` (grows, never shrinks; requests stay under workspaceLimit unless no algorithm fits it). */
    long workspace(long bytes, String op) {
        if (bytes == 0) return 0;
        if (workspace == null || workspace.bytes() < bytes) {
            if (workspace != null) workspace.free();
            workspace = null;
            workspace = new DeviceMemory.Block(mem, bytes, "cuDNN workspace for " + op);
        }
        return workspace.address();
    }

    /** NCHW float descriptor of n x c x h x w; tensors of rank 2 or 3 map to w = 1 / the flattened spatial dims. */
    cudnnTensorStruct tensor(int n, int c, int h, int w) {
        String k = n + "," + c + "," + h + "," + w;
        cudnnTensorStruct d = tensors.get(k);
        if (d == null) tensors.put(k, d = create(n, c, h, w));
        return d;
    }

    private static cudnnTensorStruct create(int n, int c, int h, int w) {
        String k = n + "," + c + "," + h + "," + w;
        cudnnTensorStruct d = new cudnnTensorStruct();
        check(cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor", "descriptor " + k);
        check(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w), "cudnnSetTensor4dDescriptor", "descriptor [" + k + "]");
        return d;
    }

    private static int[] dims4(Tensor t) {
        if (t.rank() == 4) return new int[]{t.dim(0), t.dim(1), t.dim(2), t.dim(3)};
        long sp = 1;
        for (int i = 2; i < t.rank(); i++) sp *= t.dim(i);
        return new int[]{t.dim(0), t.rank() > 1 ? t.dim(1) : 1, Math.toIntExact(sp), 1};
    }

    cudnnTensorStruct tensor(Tensor t) {
        int[] d = dims4(t);
        return tensor(d[0], d[1], d[2], d[3]);
    }

    /** An uncached descriptor of t's shape, owned (and destroyed) by the caller: a convolution plan keeps its own. */
    cudnnTensorStruct newTensor(Tensor t) {
        int[] d = dims4(t);
        return create(d[0], d[1], d[2], d[3]);
    }

    private cudnnTensorStruct bnParam(cudnnTensorStruct x, String key) {
        cudnnTensorStruct d = bnParams.get(key);
        if (d != null) return d;
        d = new cudnnTensorStruct();
        check(cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor", "batch norm " + key);
        check(cudnnDeriveBNTensorDescriptor(d, x, CUDNN_BATCHNORM_SPATIAL), "cudnnDeriveBNTensorDescriptor", "batch norm " + key);
        bnParams.put(key, d);
        return d;
    }

    void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
                        Tensor y, Tensor saveMean, Tensor saveInvStd, String op) {
        if (eps < CUDNN_BN_MIN_EPSILON)
            throw new UnsupportedOperationException(op + ": eps " + eps + " below cuDNN's minimum " + CUDNN_BN_MIN_EPSILON);
        cudnnTensorStruct xd = tensor(x);
        boolean running = runMean != null && runVar != null;
        // cuDNN's exponentialAverageFactor is PyTorch's momentum; its running variance is unbiased, as PyTorch's
        check(cudnnBatchNormalizationForwardTraining(handle, CUDNN_BATCHNORM_SPATIAL, one, zero, xd, CudaBackend.ptr(x), xd,
                CudaBackend.ptr(y), bnParam(xd, x.shapeString()), CudaBackend.ptr(gamma), CudaBackend.ptr(beta), momentum,
                running ? CudaBackend.ptr(runMean) : null, running ? CudaBackend.ptr(runVar) : null, eps,
                CudaBackend.ptr(saveMean), CudaBackend.ptr(saveInvStd)), "cudnnBatchNormalizationForwardTraining", op);
    }

    /** dx overwritten, dgamma/dbeta accumulated (beta = 1); all three must be real buffers here. */
    void batchNormBackward(Tensor x, Tensor gamma, Tensor dy, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                           Tensor dbeta, String op) {
        cudnnTensorStruct xd = tensor(x);
        // eps is only used when the saved statistics are null; ours are always given
        check(cudnnBatchNormalizationBackward(handle, CUDNN_BATCHNORM_SPATIAL, one, zero, one, one, xd, CudaBackend.ptr(x), xd,
                CudaBackend.ptr(dy), xd, CudaBackend.ptr(dx), bnParam(xd, x.shapeString()), CudaBackend.ptr(gamma),
                CudaBackend.ptr(dgamma), CudaBackend.ptr(dbeta), Math.max(1e-5, CUDNN_BN_MIN_EPSILON), CudaBackend.ptr(saveMean),
                CudaBackend.ptr(saveInvStd)), "cudnnBatchNormalizationBackward", op);
    }

    void softmax(Tensor x, Tensor y, String op) {
        cudnnTensorStruct d = tensor(x);
        check(cudnnSoftmaxForward(handle, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_CHANNEL, one, d, CudaBackend.ptr(x), zero, d,
                CudaBackend.ptr(y)), "cudnnSoftmaxForward", op);
    }

    void softmaxBackward(Tensor y, Tensor dy, Tensor dx, String op) {
        cudnnTensorStruct d = tensor(y);
        check(cudnnSoftmaxBackward(handle, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_CHANNEL, one, d, CudaBackend.ptr(y), d,
                CudaBackend.ptr(dy), zero, d, CudaBackend.ptr(dx)), "cudnnSoftmaxBackward", op);
    }

    /** y[n, c, ...] += bias[c]. */
    void addBias(Tensor bias, Tensor y, String op) {
        check(cudnnAddTensor(handle, one, tensor(1, bias.dim(0), 1, 1), CudaBackend.ptr(bias), one, tensor(y), CudaBackend.ptr(y)),
                "cudnnAddTensor", op);
    }

    /** db[c] += sum of dy over n and the spatial dims. */
    void biasBackward(Tensor dy, Tensor db, String op) {
        check(cudnnConvolutionBackwardBias(handle, one, tensor(dy), CudaBackend.ptr(dy), one, tensor(1, db.dim(0), 1, 1),
                CudaBackend.ptr(db)), "cudnnConvolutionBackwardBias", op);
    }

    @Override
    public void close() {
        tensors.clear();
        bnParams.clear();
        if (workspace != null) workspace.free();
        cudnnDestroy(handle);
    }
}
