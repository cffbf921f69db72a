package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.IntPointer;

/**
 * cuDNN convolution plans per (x shape, w shape, geometry), in a bounded LRU cache whose evictions destroy the plan's
 * descriptors ({@code -Dconta.cuda.planCache}, default 64: every image of a CAM or prediction pass has its own size).
 *
 * <p>Algorithm choice ({@code -Dconta.cuda.convSearch}): {@code auto} (default) takes cuDNN's heuristic
 * (cudnnGetConvolution*Algorithm_v7, no trial runs) for a shape seen once and measures (cudnnFind*AlgorithmEx on the real
 * buffers, torch.backends.cudnn.benchmark) when the shape comes back, so one-off inference shapes never pay for a search
 * while a training crop does once; {@code find} always measures, {@code heuristic} never does. Only algorithms whose
 * workspace fits the bound are taken; without TF32 the descriptors ask for FMA math and any tensor-op result is refused;
 * with {@code -Dconta.cuda.deterministic=true} (the default) only CUDNN_DETERMINISTIC algorithms are taken, so a resumed
 * run repeats its sums exactly ({@code false} allows the fastest).
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
        final int[] uses = new int[3];
        final boolean[] measured = new boolean[3];

        Plan(cudnnTensorStruct x, cudnnTensorStruct y) { this.x = x; this.y = y; }

        void destroy() {
            cudnnDestroyTensorDescriptor(x);
            cudnnDestroyTensorDescriptor(y);
            cudnnDestroyFilterDescriptor(w);
            for (cudnnConvolutionStruct c : cd) cudnnDestroyConvolutionDescriptor(c);
        }
    }

    enum Search { AUTO, FIND, HEURISTIC }

    private static final int FWD = 0, BWD_DATA = 1, BWD_FILTER = 2;
    private static final String[] DIRECTION = {"fwd", "bwd-data", "bwd-filter"};
    private final Cudnn dnn;
    private final DeviceMemory mem;
    private final boolean tf32, deterministic;
    private final Search search;
    private final LruCache<String, Plan> plans;
    private final Map<String, String> chosen = new LinkedHashMap<>();
    private int searches;
    /** The graph-API path tried first for every call (-Dconta.cuda.convApi=graph), or null: legacy calls only. */
    private final ConvGraphs graphs;

    ConvPlans(Cudnn dnn, DeviceMemory mem, boolean tf32, Search search, boolean deterministic) {
        this(dnn, mem, tf32, search, deterministic, null);
    }

    ConvPlans(Cudnn dnn, DeviceMemory mem, boolean tf32, Search search, boolean deterministic, ConvGraphs graphs) {
        this.graphs = graphs;
        this.dnn = dnn;
        this.mem = mem;
        this.tf32 = tf32;
        this.search = search;
        this.deterministic = deterministic;
        this.plans = new LruCache<>((int) conta.io.SystemProps.count("conta.cuda.planCache", 64), Plan::destroy);
    }

    static Search search(String v) {
        return switch (v == null ? "auto" : v) {
            case "auto" -> Search.AUTO;
            case "find" -> Search.FIND;
            case "heuristic" -> Search.HEURISTIC;
            default -> throw new IllegalArgumentException("-Dconta.cuda.convSearch=" + v + ": expected auto, find or heuristic");
        };
    }

    /** The graph-API path, or null: legacy calls only. */
    ConvGraphs graphs() { return graphs; }

    /** Number of algorithm choices so far, graph plans included (the self-test checks a third training step adds none). */
    int searches() { return searches + (graphs == null ? 0 : graphs.builds()); }

    /** Plans evicted from the cache so far. */
    long evictions() { return plans.evictions() + (graphs == null ? 0 : graphs.evictions()); }

    /** The algorithm chosen per shape and direction (the latest 256 of each path), for the benchmark's report. */
    List<String> algorithms() {
        List<String> all = graphs == null ? new ArrayList<>() : graphs.engines();
        all.addAll(chosen.values());
        return all;
    }

    private Plan plan(Tensor x, Tensor w, ConvSpec s, Tensor y, String op) {
        String key = x.shapeString() + w.shapeString() + s;
        Plan p = plans.get(key);
        if (p != null) return p;
        p = new Plan(dnn.newTensor(x), dnn.newTensor(y));
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

    /** Whether this call should choose (again): first use, or the first repeat under AUTO (then measured). */
    private boolean choose(Plan p, int dir) {
        p.uses[dir]++;
        if (p.algo[dir] < 0) return true;
        return search == Search.AUTO && !p.measured[dir] && p.uses[dir] == 2;
    }

    private boolean measureNow(Plan p, int dir) {
        return search == Search.FIND || search == Search.AUTO && p.uses[dir] >= 2;
    }

    /**
     * Index of the first acceptable result in cuDNN's order (fastest first): succeeded, workspace within the limit,
     * no tensor-op math without TF32, deterministic when asked; -1 if none.
     */
    static int pick(int[] status, long[] memory, int[] math, int[] determinism, long limit, boolean tf32, boolean deterministic) {
        for (int i = 0; i < status.length; i++)
            if (memory[i] <= limit && acceptable(status[i], math[i], determinism[i], tf32, deterministic)) return i;
        return -1;
    }

    /** Index of the acceptable result (as {@link #pick}) with the smallest workspace, whatever the limit; -1 if none. */
    static int pickSmallest(int[] status, long[] memory, int[] math, int[] determinism, boolean tf32, boolean deterministic) {
        int best = -1;
        for (int i = 0; i < status.length; i++)
            if (acceptable(status[i], math[i], determinism[i], tf32, deterministic) && (best < 0 || memory[i] < memory[best])) best = i;
        return best;
    }

    private static boolean acceptable(int status, int math, int determinism, boolean tf32, boolean deterministic) {
        boolean tensorOps = math == CUDNN_TENSOR_OP_MATH || math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
        return status == CUDNN_STATUS_SUCCESS && (tf32 || !tensorOps) && (!deterministic || determinism == CUDNN_DETERMINISTIC);
    }

    /**
     * Takes the first acceptable result within the workspace bound. Where the heuristic's acceptable candidates all need
     * more, the smallest one is taken and the workspace grows past the bound, with a warning (PyTorch sizes the
     * workspace to the algorithm likewise). Seen on an H200 with cuDNN 9.19: IRNet's CAM network at batch 16, 512 px
     * has no deterministic backward algorithm within 256 MiB for its stem (323 MiB) and its 1x1 stride-2 convolution
     * (384 and 393 MiB). Find (a measured search) tries only what fits the bound, so where it finds nothing acceptable
     * the heuristic's earlier choice stays.
     */
    private void take(Plan p, int dir, boolean measured, int[] algos, long[] memory, int[] status, int[] math, int[] det, String key, String op) {
        int i = pick(status, memory, math, det, dnn.workspaceLimit, tf32, deterministic);
        String k = DIRECTION[dir] + " " + key;
        if (i < 0 && measured && p.algo[dir] >= 0) {
            p.measured[dir] = true;
            Cudnn.warnOnce(k + ": the measured search found no acceptable algorithm within the " + DeviceMemory.mib(dnn.workspaceLimit)
                    + " workspace; the heuristic's algo " + p.algo[dir] + " stays (" + candidates(algos, memory, status, math, det) + ")");
            return;
        }
        if (i < 0 && !measured) {
            i = pickSmallest(status, memory, math, det, tf32, deterministic);
            if (i >= 0) Cudnn.warnOnce(k + ": no acceptable algorithm within the " + DeviceMemory.mib(dnn.workspaceLimit) + " workspace; algo "
                    + algos[i] + " needs " + DeviceMemory.mib(memory[i]) + " and the workspace grows to it");
        }
        if (i < 0) throw new CudaException(op + ": no cuDNN algorithm fits a " + DeviceMemory.mib(dnn.workspaceLimit) + " workspace"
                + (tf32 ? "" : " with FMA (non-TF32) math") + (deterministic ? " deterministically (-Dconta.cuda.deterministic=false allows the others)" : "")
                + " (raise -Dconta.cuda.workspaceMiB); cuDNN offered " + candidates(algos, memory, status, math, det));
        p.algo[dir] = algos[i];
        p.ws[dir] = memory[i];
        p.measured[dir] = measured;
        // cuDNN wants the math type the result was measured with; without TF32 the descriptor stays at FMA
        if (tf32) Cudnn.check(cudnnSetConvolutionMathType(p.cd[dir], math[i]), "cudnnSetConvolutionMathType", op);
        searches++;
        chosen.remove(k);
        if (chosen.size() >= 256) chosen.remove(chosen.keySet().iterator().next());
        chosen.put(k, k + ": algo " + algos[i] + " (" + (measured ? "find" : "heuristic") + ", workspace " + memory[i] + " B, math " + math[i]
                + (det[i] == CUDNN_DETERMINISTIC ? ", deterministic" : ", non-deterministic") + ")");
    }

    /** cuDNN's results, one per entry: algorithm, status, workspace, math type, determinism. */
    static String candidates(int[] algos, long[] memory, int[] status, int[] math, int[] det) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < algos.length; i++)
            b.append(i == 0 ? "" : "; ").append("algo ").append(algos[i]).append(" status ").append(status[i]).append(' ')
                    .append(DeviceMemory.mib(memory[i])).append(" math ").append(math[i])
                    .append(det[i] == CUDNN_DETERMINISTIC ? " det" : " non-det");
        return b.length() == 0 ? "no results" : b.toString();
    }

    void forward(Tensor x, Tensor w, ConvSpec s, Tensor y, String op) {
        if (graphs != null && graphs.run(ConvGraphs.FWD, x, w, y, s, op)) return;
        Plan p = plan(x, w, s, y, op);
        if (choose(p, FWD)) {
            boolean measure = measureNow(p, FWD);
            int n = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
            cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(n);
            IntPointer got = new IntPointer(1);
            if (measure) Cudnn.check(cudnnFindConvolutionForwardAlgorithmEx(dnn.handle, p.x, CudaBackend.ptr(x), p.w, CudaBackend.ptr(w),
                    p.cd[FWD], p.y, CudaBackend.ptr(y), n, got, perf, DevPtr.of(dnn.workspace(dnn.workspaceLimit, op)), dnn.workspaceLimit),
                    "cudnnFindConvolutionForwardAlgorithmEx", op);
            else Cudnn.check(cudnnGetConvolutionForwardAlgorithm_v7(dnn.handle, p.x, p.w, p.cd[FWD], p.y, n, got, perf),
                    "cudnnGetConvolutionForwardAlgorithm_v7", op);
            int c = got.get();
            int[] a = new int[c], st = new int[c], mt = new int[c], dt = new int[c];
            long[] m = new long[c];
            for (int i = 0; i < c; i++) {
                cudnnConvolutionFwdAlgoPerf_t r = perf.getPointer(i);
                a[i] = r.algo(); st[i] = r.status(); m[i] = r.memory(); mt[i] = r.mathType(); dt[i] = r.determinism();
            }
            take(p, FWD, measure, a, m, st, mt, dt, "x" + x.shapeString() + " w" + w.shapeString() + " " + s, op);
        }
        Cudnn.check(cudnnConvolutionForward(dnn.handle, dnn.one, p.x, CudaBackend.ptr(x), p.w, CudaBackend.ptr(w), p.cd[FWD], p.algo[FWD],
                DevPtr.of(dnn.workspace(p.ws[FWD], op)), p.ws[FWD], dnn.zero, p.y, CudaBackend.ptr(y)), "cudnnConvolutionForward", op);
    }

    /** dx = conv_transpose(dy, w) (overwritten). */
    void backwardData(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, String op) {
        if (graphs != null && graphs.run(ConvGraphs.BWD_DATA, dx, w, dy, s, op)) return;
        Plan p = plan(x, w, s, dy, op);
        if (choose(p, BWD_DATA)) {
            boolean measure = measureNow(p, BWD_DATA);
            int n = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
            cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(n);
            IntPointer got = new IntPointer(1);
            if (measure) Cudnn.check(cudnnFindConvolutionBackwardDataAlgorithmEx(dnn.handle, p.w, CudaBackend.ptr(w), p.y, CudaBackend.ptr(dy),
                    p.cd[BWD_DATA], p.x, CudaBackend.ptr(dx), n, got, perf, DevPtr.of(dnn.workspace(dnn.workspaceLimit, op)),
                    dnn.workspaceLimit), "cudnnFindConvolutionBackwardDataAlgorithmEx", op);
            else Cudnn.check(cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn.handle, p.w, p.y, p.cd[BWD_DATA], p.x, n, got, perf),
                    "cudnnGetConvolutionBackwardDataAlgorithm_v7", op);
            int c = got.get();
            int[] a = new int[c], st = new int[c], mt = new int[c], dt = new int[c];
            long[] m = new long[c];
            for (int i = 0; i < c; i++) {
                cudnnConvolutionBwdDataAlgoPerf_t r = perf.getPointer(i);
                a[i] = r.algo(); st[i] = r.status(); m[i] = r.memory(); mt[i] = r.mathType(); dt[i] = r.determinism();
            }
            take(p, BWD_DATA, measure, a, m, st, mt, dt, "x" + x.shapeString() + " w" + w.shapeString() + " " + s, op);
        }
        Cudnn.check(cudnnConvolutionBackwardData(dnn.handle, dnn.one, p.w, CudaBackend.ptr(w), p.y, CudaBackend.ptr(dy), p.cd[BWD_DATA],
                p.algo[BWD_DATA], DevPtr.of(dnn.workspace(p.ws[BWD_DATA], op)), p.ws[BWD_DATA], dnn.zero, p.x, CudaBackend.ptr(dx)),
                "cudnnConvolutionBackwardData", op);
    }

    /** dw += correlation(x, dy) (beta = 1 accumulates, as the Backend contract asks). */
    void backwardFilter(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dw, String op) {
        if (graphs != null && graphs.run(ConvGraphs.BWD_FILTER, x, dw, dy, s, op)) return;
        Plan p = plan(x, w, s, dy, op);
        if (choose(p, BWD_FILTER)) {
            boolean measure = measureNow(p, BWD_FILTER);
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
            int[] a = new int[c], st = new int[c], mt = new int[c], dt = new int[c];
            long[] m = new long[c];
            for (int i = 0; i < c; i++) {
                cudnnConvolutionBwdFilterAlgoPerf_t r = perf.getPointer(i);
                a[i] = r.algo(); st[i] = r.status(); m[i] = r.memory(); mt[i] = r.mathType(); dt[i] = r.determinism();
            }
            take(p, BWD_FILTER, measure, a, m, st, mt, dt, "x" + x.shapeString() + " w" + w.shapeString() + " " + s, op);
        }
        Cudnn.check(cudnnConvolutionBackwardFilter(dnn.handle, dnn.one, p.x, CudaBackend.ptr(x), p.y, CudaBackend.ptr(dy), p.cd[BWD_FILTER],
                p.algo[BWD_FILTER], DevPtr.of(dnn.workspace(p.ws[BWD_FILTER], op)), p.ws[BWD_FILTER], dnn.one, p.w, CudaBackend.ptr(dw)),
                "cudnnConvolutionBackwardFilter", op);
    }

    @Override
    public void close() {
        plans.clear();
        if (graphs != null) graphs.close();
    }
}
