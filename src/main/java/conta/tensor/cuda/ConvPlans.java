package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.IntPointer;

/**
 * cuDNN convolution with the algorithm chosen once per (x shape, w shape, geometry) and cached: by measurement
 * (cudnnFind*AlgorithmEx on the real buffers, what torch.backends.cudnn.benchmark does) or by cuDNN's heuristic
 * (-Dconta.cuda.convSearch=heuristic). Only algorithms whose workspace fits the bound are taken; without TF32 the
 * descriptors ask for FMA math and any tensor-op result is refused.
 */
@SuppressWarnings("deprecation")
final class ConvPlans implements AutoCloseable {
    /** Descriptors and chosen algorithms of one shape; each direction has its own conv descriptor (its own math type). */
    private static final class Plan {
        final cudnnTensorStruct x, y;
        final cudnnFilterStruct w = new cudnnFilterStruct();
        final cudnnConvolutionStruct[] cd = {new cudnnConvolutionStruct(), new cudnnConvolutionStruct(), new cudnnConvolutionStruct()};
        final int[] algo = {-1, -1, -1};
        final long[] ws = new long[3];

        Plan(cudnnTensorStruct x, cudnnTensorStruct y) { this.x = x; this.y = y; }
    }

    private static final int FWD = 0, BWD_DATA = 1, BWD_FILTER = 2;
    private final Cudnn dnn;
    private final DeviceMemory mem;
    private final boolean tf32, measure;
    private final Map<String, Plan> plans = new HashMap<>();
    private int searches;

    ConvPlans(Cudnn dnn, DeviceMemory mem, boolean tf32, boolean measure) {
        this.dnn = dnn;
        this.mem = mem;
        this.tf32 = tf32;
        this.measure = measure;
    }

    /** Number of algorithm searches so far (the self-test checks a second step adds none). */
    int searches() { return searches; }

    private Plan plan(Tensor x, Tensor w, ConvSpec s, Tensor y, String op) {
        String key = x.shapeString() + w.shapeString() + s;
        Plan p = plans.get(key);
        if (p != null) return p;
        p = new Plan(dnn.tensor(x), dnn.tensor(y));
        Cudnn.check(cudnnCreateFilterDescriptor(p.w), "cudnnCreateFilterDescriptor", op);
        Cudnn.check(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, w.dim(0), w.dim(1), w.dim(2), w.dim(3)),
                "cudnnSetFilter4dDescriptor", op);
        for (cudnnConvolutionStruct cd : p.cd) {
            Cudnn.check(cudnnCreateConvolutionDescriptor(cd), "cudnnCreateConvolutionDescriptor", op);
            Cudnn.check(cudnnSetConvolution2dDescriptor(cd, s.padH(), s.padW(), s.strideH(), s.strideW(), s.dilH(), s.dilW(),
                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor", op);
            Cudnn.check(cudnnSetConvolutionMathType(cd, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH), "cudnnSetConvolutionMathType", op);
        }
        plans.put(key, p);
        return p;
    }

    private boolean acceptable(int status, long memory, int mathType) {
        boolean tensorOps = mathType == CUDNN_TENSOR_OP_MATH || mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
        return status == CUDNN_STATUS_SUCCESS && memory <= dnn.workspaceLimit && (tf32 || !tensorOps);
    }

    private void choose(Plan p, int dir, int[] algos, long[] memory, int[] status, int[] math, int count, String op) {
        for (int i = 0; i < count; i++) {
            if (!acceptable(status[i], memory[i], math[i])) continue;
            p.algo[dir] = algos[i];
            p.ws[dir] = memory[i];
            // cuDNN wants the math type the result was measured with; without TF32 the descriptor stays at FMA
            if (tf32) Cudnn.check(cudnnSetConvolutionMathType(p.cd[dir], math[i]), "cudnnSetConvolutionMathType", op);
            searches++;
            return;
        }
        throw new CudaException(op + ": no cuDNN algorithm fits a " + DeviceMemory.mib(dnn.workspaceLimit) + " workspace"
                + (tf32 ? "" : " with FMA (non-TF32) math") + " (raise -Dconta.cuda.workspaceMiB)");
    }

    void forward(Tensor x, Tensor w, ConvSpec s, Tensor y, String op) {
        Plan p = plan(x, w, s, y, op);
        if (p.algo[FWD] < 0) {
            int n = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
            cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(n);
            IntPointer got = new IntPointer(1);
            if (measure) Cudnn.check(cudnnFindConvolutionForwardAlgorithmEx(dnn.handle, p.x, CudaBackend.ptr(x), p.w, CudaBackend.ptr(w),
                    p.cd[FWD], p.y, CudaBackend.ptr(y), n, got, perf, DevPtr.of(dnn.workspace(dnn.workspaceLimit, op)), dnn.workspaceLimit),
                    "cudnnFindConvolutionForwardAlgorithmEx", op);
            else Cudnn.check(cudnnGetConvolutionForwardAlgorithm_v7(dnn.handle, p.x, p.w, p.cd[FWD], p.y, n, got, perf),
                    "cudnnGetConvolutionForwardAlgorithm_v7", op);
            int c = got.get();
            int[] a = new int[c], st = new int[c], mt = new int[c];
            long[] m = new long[c];
            for (int i = 0; i < c; i++) {
                cudnnConvolutionFwdAlgoPerf_t r = perf.getPointer(i);
                a[i] = r.algo(); st[i] = r.status(); m[i] = r.memory(); mt[i] = r.mathType();
            }
            choose(p, FWD, a, m, st, mt, c, op);
        }
        Cudnn.check(cudnnConvolutionForward(dnn.handle, dnn.one, p.x, CudaBackend.ptr(x), p.w, CudaBackend.ptr(w), p.cd[FWD], p.algo[FWD],
                DevPtr.of(dnn.workspace(p.ws[FWD], op)), p.ws[FWD], dnn.zero, p.y, CudaBackend.ptr(y)), "cudnnConvolutionForward", op);
    }

    /** dx = conv_transpose(dy, w) (overwritten). */
    void backwardData(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, String op) {
        Plan p = plan(x, w, s, dy, op);
        if (p.algo[BWD_DATA] < 0) {
            int n = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
            cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(n);
            IntPointer got = new IntPointer(1);
            if (measure) Cudnn.check(cudnnFindConvolutionBackwardDataAlgorithmEx(dnn.handle, p.w, CudaBackend.ptr(w), p.y, CudaBackend.ptr(dy),
                    p.cd[BWD_DATA], p.x, CudaBackend.ptr(dx), n, got, perf, DevPtr.of(dnn.workspace(dnn.workspaceLimit, op)),
                    dnn.workspaceLimit), "cudnnFindConvolutionBackwardDataAlgorithmEx", op);
            else Cudnn.check(cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn.handle, p.w, p.y, p.cd[BWD_DATA], p.x, n, got, perf),
                    "cudnnGetConvolutionBackwardDataAlgorithm_v7", op);
            int c = got.get();
            int[] a = new int[c], st = new int[c], mt = new int[c];
            long[] m = new long[c];
            for (int i = 0; i < c; i++) {
                cudnnConvolutionBwdDataAlgoPerf_t r = perf.getPointer(i);
                a[i] = r.algo(); st[i] = r.status(); m[i] = r.memory(); mt[i] = r.mathType();
            }
            choose(p, BWD_DATA, a, m, st, mt, c, op);
        }
        Cudnn.check(cudnnConvolutionBackwardData(dnn.handle, dnn.one, p.w, CudaBackend.ptr(w), p.y, CudaBackend.ptr(dy), p.cd[BWD_DATA],
                p.algo[BWD_DATA], DevPtr.of(dnn.workspace(p.ws[BWD_DATA], op)), p.ws[BWD_DATA], dnn.zero, p.x, CudaBackend.ptr(dx)),
                "cudnnConvolutionBackwardData", op);
    }

    /** dw += correlation(x, dy) (beta = 1 accumulates, as the Backend contract asks). */
    void backwardFilter(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dw, String op) {
        Plan p = plan(x, w, s, dy, op);
        if (p.algo[BWD_FILTER] < 0) {
            int n = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
            cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(n);
            IntPointer got = new IntPointer(1);
            if (measure) {
                // Find writes its trial results into the filter buffer, and dw accumulates: search on a scratch copy
                DeviceMemory.Block sc = new DeviceMemory.Block(mem, dw.numel() * 4, "filter scratch for " + op);
                try {
                    Cudnn.check(cudnnFindConvolutionBackwardFilterAlgorithmEx(dnn.handle, p.x, CudaBackend.ptr(x), p.y, CudaBackend.ptr(dy),
                            p.cd[BWD_FILTER], p.w, DevPtr.of(sc.address()), n, got, perf, DevPtr.of(dnn.workspace(dnn.workspaceLimit, op)),
                            dnn.workspaceLimit), "cudnnFindConvolutionBackwardFilterAlgorithmEx", op);
                } finally {
                    sc.free();
                }
            } else Cudnn.check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(dnn.handle, p.x, p.y, p.cd[BWD_FILTER], p.w, n, got, perf),
                    "cudnnGetConvolutionBackwardFilterAlgorithm_v7", op);
            int c = got.get();
            int[] a = new int[c], st = new int[c], mt = new int[c];
            long[] m = new long[c];
            for (int i = 0; i < c; i++) {
                cudnnConvolutionBwdFilterAlgoPerf_t r = perf.getPointer(i);
                a[i] = r.algo(); st[i] = r.status(); m[i] = r.memory(); mt[i] = r.mathType();
            }
            choose(p, BWD_FILTER, a, m, st, mt, c, op);
        }
        Cudnn.check(cudnnConvolutionBackwardFilter(dnn.handle, dnn.one, p.x, CudaBackend.ptr(x), p.y, CudaBackend.ptr(dy), p.cd[BWD_FILTER],
                p.algo[BWD_FILTER], DevPtr.of(dnn.workspace(p.ws[BWD_FILTER], op)), p.ws[BWD_FILTER], dnn.one, p.w, CudaBackend.ptr(dw)),
                "cudnnConvolutionBackwardFilter", op);
    }

    @Override
    public void close() {
        for (Plan p : plans.values()) {
            cudnnDestroyFilterDescriptor(p.w);
            for (cudnnConvolutionStruct cd : p.cd) cudnnDestroyConvolutionDescriptor(cd);
        }
        plans.clear();
    }
}
