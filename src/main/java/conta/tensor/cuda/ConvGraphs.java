package conta.tensor.cuda;

import static conta.tensor.cuda.CudnnGraph.*;
import static org.bytedeco.cuda.global.cudnn.*;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudnn.cudnnBackendDescriptor_t;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Convolutions through cuDNN's graph (backend) API: one finalized execution plan per direction, shape and geometry, kept
 * in a bounded LRU cache; a call binds its addresses in a variant pack (kept per plan for the last address sets, which
 * recur from one training step to the next) and executes. Selected by {@code -Dconta.cuda.convApi=graph}; {@link ConvPlans} (the
 * legacy cudnnConvolution* calls) serves every shape this path cannot plan, and the caller falls back per call.
 *
 * <p>Why: on an H200 with cuDNN 9.19 (session 19), the legacy calls cost 130-160 us of host time each, and the 159
 * convolution calls of a ResNet-50 training step at batch 32 took about 22 of its 28 ms on the host: the step was
 * host-bound. The graph API is what PyTorch (through cudnn-frontend) runs, with plans cached the same way.
 *
 * <p>Which engine config a plan runs is {@link GraphEngines}'s choice ({@code -Dconta.cuda.graphSearch});
 * {@code conta.cuda.convSearch} applies to the legacy calls only. {@link CudnnGraph} holds the descriptor plumbing.
 */
final class ConvGraphs implements AutoCloseable {
    static final int FWD = 0, BWD_DATA = 1, BWD_FILTER = 2;
    private static final String[] DIRECTION = {"fwd", "bwd-data", "bwd-filter"};
    private static final int ALIGNMENT = 16;

    /** The addresses a variant pack binds: the three tensors and the workspace. */
    private record Addresses(long x, long w, long y, long workspace) {}

    /**
     * One direction's finalized plan; exec == null when no engine fitted (the legacy path serves it). Layers of the same
     * shape share a plan (23 plans serve ResNet-50's 53 convolutions per direction), so a plan keeps the variant packs of
     * its last PACKS address sets: each layer finds its own again in the next step.
     */
    private static final class Plan {
        static final int PACKS = 32;
        final List<cudnnBackendDescriptor_t> owned = new ArrayList<>();
        cudnnBackendDescriptor_t exec;
        long workspace;
        /** MEASURE: uses so far; settled once measured (or replayed from a measured choice): no further search. */
        int uses;
        boolean settled;
        final LinkedHashMap<Addresses, cudnnBackendDescriptor_t> packs = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Addresses, cudnnBackendDescriptor_t> eldest) {
                if (size() <= PACKS) return false;
                cudnnBackendDestroyDescriptor(eldest.getValue());
                return true;
            }
        };

        void destroy() {
            for (cudnnBackendDescriptor_t vp : packs.values()) cudnnBackendDestroyDescriptor(vp);
            packs.clear();
            for (int i = owned.size() - 1; i >= 0; i--) cudnnBackendDestroyDescriptor(owned.get(i));
            owned.clear();
            exec = null;
        }
    }

    private final Cudnn dnn;
    private final GraphEngines engines;
    private final LruCache<String, Plan> plans;
    private final Map<String, String> chosen = new LinkedHashMap<>();
    private int builds;

    /** Plans whose engines the given chooser picks (closed with this). */
    ConvGraphs(Cudnn dnn, GraphEngines engines) {
        this.dnn = dnn;
        this.engines = engines;
        this.plans = new LruCache<>((int) conta.io.SystemProps.count("conta.cuda.planCache", 64) * 3, Plan::destroy);
    }

    /** Plans built so far (each counts as one algorithm choice for the self-test's steady-state check). */
    int builds() { return builds; }

    long evictions() { return plans.evictions(); }

    List<String> engines() { return new ArrayList<>(chosen.values()); }

    /**
     * Saves the measured engine choices in file from now on ({@link GraphEngines#keepChoicesIn}). Plans built before
     * (a backend that served another run in this process) are dropped, after drain has waited for the work queued
     * with them: built again, they follow the file's choices where it has some (a resumed run), and a shape is
     * measured at its second use in this run, as in a fresh process.
     */
    void keepChoicesIn(java.nio.file.Path file, Runnable drain) {
        if (!engines.keepChoicesIn(file) || plans.size() == 0) return;
        drain.run();
        plans.clear();
    }

    /**
     * Runs one direction: forward y = conv(x, w); backward-data x = conv_transpose(y, w) (overwritten); backward-filter
     * w += correlation(x, y) (beta 1: the Backend contract accumulates dw). Returns false, having done nothing, where
     * no graph plan fits this shape or an address is not 16-byte aligned: the caller then runs the legacy call.
     */
    boolean run(int dir, Tensor x, Tensor w, Tensor y, ConvSpec s, String op) {
        String key = dir + "x" + x.shapeString() + "w" + w.shapeString() + "y" + y.shapeString() + s;
        long ax = CudaBackend.addr(x), aw = CudaBackend.addr(w), ay = CudaBackend.addr(y);
        if (((ax | aw | ay) & (ALIGNMENT - 1)) != 0) return false;
        Plan p = plans.get(key);
        if (p == null) {
            p = build(dir, x, w, y, s, false, op);
            plans.put(key, p);
        }
        if (p.exec != null && !p.settled && ++p.uses == 2) { // MEASURE: the shape recurs, so it is worth a search
            Plan measured = build(dir, x, w, y, s, true, op);
            if (measured.exec != null) {
                plans.put(key, measured); // destroys the heuristic's plan (its queued work is ordered before on the stream)
                p = measured;
            } else {
                measured.destroy();
                p.settled = true;
            }
        }
        if (p.exec == null) return false;
        // the workspace first: growing it moves it, and a pack bound to the old address is then not found
        Addresses at = new Addresses(ax, aw, ay, dnn.workspace(p.workspace, op));
        cudnnBackendDescriptor_t pack = p.packs.get(at);
        if (pack == null) p.packs.put(at, pack = variantPack(ax, aw, ay, at.workspace(), op));
        Cudnn.check(cudnnBackendExecute(dnn.handle, p.exec, pack), "cudnnBackendExecute", op);
        return true;
    }

    /**
     * measure: time the candidates now (MEASURE's second use of a shape) on the call's buffers; otherwise MEASURE takes
     * the heuristic's engine and leaves the plan unsettled.
     */
    private Plan build(int dir, Tensor x, Tensor w, Tensor y, ConvSpec s, boolean measure, String op) {
        builds++;
        float beta = dir == BWD_FILTER ? 1f : 0f; // forward and backward-data overwrite (beta 0); backward-filter accumulates
        GraphEngines.Bound b = new GraphEngines.Bound(CudaBackend.addr(x), CudaBackend.addr(w), CudaBackend.addr(y),
                dir == BWD_FILTER ? w.numel() * 4L : 0);
        Plan p = new Plan();
        p.settled = engines.search() != GraphEngines.Search.MEASURE;
        String what = DIRECTION[dir] + " x" + x.shapeString() + " w" + w.shapeString() + " " + s + (beta != 0 ? " (accumulating)" : "");
        try {
            cudnnBackendDescriptor_t tx = tensor(p, UID_X, x, op), tw = tensor(p, UID_W, w, op), ty = tensor(p, UID_Y, y, op);
            cudnnBackendDescriptor_t conv = own(p, CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, op);
            set(conv, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, int32(CUDNN_DATA_FLOAT), op);
            set(conv, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, int32(CUDNN_CROSS_CORRELATION), op);
            set(conv, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, int64(2), op);
            set(conv, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, int64(s.dilH(), s.dilW()), op);
            set(conv, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, int64(s.strideH(), s.strideW()), op);
            set(conv, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, int64(s.padH(), s.padW()), op);
            set(conv, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, int64(s.padH(), s.padW()), op);
            Cudnn.check(cudnnBackendFinalize(conv), "cudnnBackendFinalize(convolution)", op);

            int[] type = {CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR,
                    CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR};
            // attribute names per direction: x, w, y, conv, alpha, beta
            int[][] attr = {
                    {CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y,
                            CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA,
                            CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA},
                    {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY,
                            CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
                            CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA},
                    {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW,
                            CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC,
                            CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA}};
            int[] a = attr[dir];
            cudnnBackendDescriptor_t operation = own(p, type[dir], op);
            set(operation, a[0], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, ref(tx), op);
            set(operation, a[1], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, ref(tw), op);
            set(operation, a[2], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, ref(ty), op);
            set(operation, a[3], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, ref(conv), op);
            set(operation, a[4], CUDNN_TYPE_FLOAT, 1, new FloatPointer(1f), op);
            set(operation, a[5], CUDNN_TYPE_FLOAT, 1, new FloatPointer(beta), op);
            Cudnn.check(cudnnBackendFinalize(operation), "cudnnBackendFinalize(convolution operation)", op);

            cudnnBackendDescriptor_t graph = own(p, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, op);
            set(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, ref(operation), op);
            set(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, ref(dnn.handle), op);
            Cudnn.check(cudnnBackendFinalize(graph), "cudnnBackendFinalize(operation graph)", op);

            // the heuristic only lists engine configs: the plan keeps the config it runs, not the heuristic
            cudnnBackendDescriptor_t heur = create(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, op);
            try {
                set(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, ref(graph), op);
                set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, int32(CUDNN_HEUR_MODE_A), op);
                Cudnn.check(cudnnBackendFinalize(heur), "cudnnBackendFinalize(engine heuristic)", op);
                GraphEngines.Chosen c = engines.choose(heur, what, b, measure, op);
                keep(p, c.cfg(), c.exec(), c.workspace(), what, c.description());
                p.settled |= c.settled();
            } finally {
                cudnnBackendDestroyDescriptor(heur);
            }
        } catch (RuntimeException e) {
            p.destroy();
            Cudnn.warnOnce(what + ": no graph-API plan (" + CudaRuntime.firstLine(e) + "); the legacy cudnnConvolution* call serves it");
        }
        return p;
    }

    /** The plan keeps this config and its finalized execution plan (both destroyed with the plan). */
    private void keep(Plan p, cudnnBackendDescriptor_t cfg, cudnnBackendDescriptor_t exec, long ws, String what, String engine) {
        p.owned.add(cfg);
        p.owned.add(exec);
        p.exec = exec;
        p.workspace = ws;
        chosen.remove(what);
        if (chosen.size() >= 256) chosen.remove(chosen.keySet().iterator().next());
        chosen.put(what, what + ": graph " + engine + " (workspace " + ws + " B)");
    }

    /** An NCHW-packed float tensor descriptor of t's 4-d shape. */
    private static cudnnBackendDescriptor_t tensor(Plan p, long uid, Tensor t, String op) {
        long n = t.dim(0), c = t.dim(1), h = t.dim(2), w = t.dim(3);
        cudnnBackendDescriptor_t d = own(p, CUDNN_BACKEND_TENSOR_DESCRIPTOR, op);
        set(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, int32(CUDNN_DATA_FLOAT), op);
        set(d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, int64(n, c, h, w), op);
        set(d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, int64(c * h * w, h * w, w, 1), op);
        set(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, int64(uid), op);
        set(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, int64(ALIGNMENT), op);
        Cudnn.check(cudnnBackendFinalize(d), "cudnnBackendFinalize(tensor)", op);
        return d;
    }

    private static cudnnBackendDescriptor_t own(Plan p, int type, String op) {
        cudnnBackendDescriptor_t d = create(type, op);
        p.owned.add(d);
        return d;
    }

    @Override
    public void close() {
        plans.clear();
        engines.close();
    }
}
