package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventCreate;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudnn.*;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnBackendDescriptor_t;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

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
 * <p>Engine choice ({@code -Dconta.cuda.graphSearch}, {@link Search}) among the engine configs of cuDNN's heuristic
 * (mode A) whose notes fit the backend's settings ({@link #look}) and that finalize: {@code heuristic} (the default)
 * takes the first within the workspace bound, else the acceptable one needing the least, as {@link ConvPlans#take}
 * does; {@code top} the first whatever its workspace up to a cap ({@code -Dconta.cuda.graphWorkspaceCapMiB}, default
 * 4x the bound), as PyTorch allocates what its engine asks for; {@code measure} takes the heuristic's engine for a
 * shape's first use and, when the shape recurs, times the first {@code -Dconta.cuda.graphCandidates} (default 8)
 * within the cap on the call's buffers and takes the fastest, as PyTorch's cudnn.benchmark (a shape seen once, as
 * each image's own size in the CAM and prediction passes, never pays for a search; a training crop does once). {@code conta.cuda.convSearch} applies to the legacy calls only. With
 * {@code -Dconta.cuda.graphChoices=FILE} the choices are saved and replayed ({@link ConvChoices}): a measured choice
 * depends on timing noise, and a resumed run must make the same one. Session 19 measured only {@code heuristic} on a
 * GPU; {@code top}, {@code measure} and the saved choices are there for the next GPU session to compare.
 */
final class ConvGraphs implements AutoCloseable {
    static final int FWD = 0, BWD_DATA = 1, BWD_FILTER = 2;
    private static final String[] DIRECTION = {"fwd", "bwd-data", "bwd-filter"};
    /** The unique ids of a plan's three tensors: x (or dx), w (or dw), y (or dy). */
    private static final long UID_X = 1, UID_W = 2, UID_Y = 3;
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

    /** How a shape's engine is chosen (see the class comment). */
    enum Search { HEURISTIC, TOP, MEASURE }

    static Search search(String v) {
        return switch (v == null ? "heuristic" : v) {
            case "heuristic" -> Search.HEURISTIC;
            case "top" -> Search.TOP;
            case "measure" -> Search.MEASURE;
            default -> throw new IllegalArgumentException("-Dconta.cuda.graphSearch=" + v + ": expected heuristic, top or measure");
        };
    }

    /** The call's addresses, for timing candidates on its own buffers; scratchW: bytes of a scratch dw (backward-filter). */
    private record Bound(long x, long w, long y, long scratchW) {}

    private final Cudnn dnn;
    private final DeviceMemory mem;
    private final CUstream_st stream;
    private final boolean tf32, deterministic;
    private final Search search;
    private final ConvChoices choices;
    private final long workspaceCap;
    private final int candidatesToTime;
    private CUevent_st[] events;
    private final LruCache<String, Plan> plans;
    private final Map<String, String> chosen = new LinkedHashMap<>();
    private int builds;
    // native scratch for the per-call variant pack, reused (one stream's thread at a time, as the backend)
    private final LongPointer pointers = new LongPointer(3), uids = int64(UID_X, UID_W, UID_Y), workspacePtr = new LongPointer(1);

    ConvGraphs(Cudnn dnn, boolean tf32, boolean deterministic) {
        this(dnn, null, null, tf32, deterministic, Search.HEURISTIC, null);
    }

    /** choices: where the choices are saved and replayed, or null. mem and stream are needed by MEASURE only. */
    ConvGraphs(Cudnn dnn, DeviceMemory mem, CUstream_st stream, boolean tf32, boolean deterministic, Search search, ConvChoices choices) {
        this.dnn = dnn;
        this.mem = mem;
        this.stream = stream;
        this.tf32 = tf32;
        this.deterministic = deterministic;
        this.search = search;
        // without a file the choices are still kept in memory: a plan evicted and rebuilt later in the run makes the same one
        this.choices = choices != null ? choices : new ConvChoices(null, "this process");
        if (search == Search.MEASURE && deterministic && choices == null)
            Cudnn.warnOnce("graph engines measured without -Dconta.cuda.graphChoices=FILE: a resumed run may measure other engines, "
                    + "and its sums then differ from an uninterrupted run's");
        this.workspaceCap = Long.getLong("conta.cuda.graphWorkspaceCapMiB", 4 * (dnn.workspaceLimit >> 20)) << 20;
        this.candidatesToTime = Integer.getInteger("conta.cuda.graphCandidates", 8);
        if (candidatesToTime < 1) throw new IllegalArgumentException("-Dconta.cuda.graphCandidates must be >= 1, got " + candidatesToTime);
        this.plans = new LruCache<>(LruCache.capacity("conta.cuda.planCache", 64) * 3, Plan::destroy);
    }

    /** Plans built so far (each counts as one algorithm choice for the self-test's steady-state check). */
    int builds() { return builds; }

    long evictions() { return plans.evictions(); }

    List<String> engines() { return new ArrayList<>(chosen.values()); }

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
        Bound b = new Bound(ax, aw, ay, dir == BWD_FILTER ? w.numel() * 4L : 0);
        float beta = dir == BWD_FILTER ? 1f : 0f; // forward and backward-data overwrite (beta 0); backward-filter accumulates
        if (p == null) {
            p = build(dir, x, w, y, s, beta, b, false, op);
            plans.put(key, p);
        }
        if (p.exec != null && !p.settled && ++p.uses == 2) { // MEASURE: the shape recurs, so it is worth a search
            Plan measured = build(dir, x, w, y, s, beta, b, true, op);
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

    /** A finalized variant pack binding the three tensors (uids x, w, y) and the workspace; the caller destroys it. */
    private cudnnBackendDescriptor_t variantPack(long ax, long aw, long ay, long ws, String op) {
        cudnnBackendDescriptor_t vp = create(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, op);
        try {
            pointers.put(0, ax).put(1, aw).put(2, ay);
            workspacePtr.put(0, ws);
            set(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, pointers, op);
            set(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, uids, op);
            set(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, workspacePtr, op);
            Cudnn.check(cudnnBackendFinalize(vp), "cudnnBackendFinalize(variant pack)", op);
            return vp;
        } catch (RuntimeException e) {
            cudnnBackendDestroyDescriptor(vp);
            throw e;
        }
    }

    /**
     * beta: 0 overwrites the output, 1 accumulates into it (backward-filter). measure: time the candidates now
     * (MEASURE's second use of a shape); otherwise MEASURE takes the heuristic's engine and leaves the plan unsettled.
     */
    private Plan build(int dir, Tensor x, Tensor w, Tensor y, ConvSpec s, float beta, Bound b, boolean measure, String op) {
        builds++;
        Plan p = new Plan();
        p.settled = search != Search.MEASURE;
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
                choose(p, heur, what, b, measure, op);
            } finally {
                cudnnBackendDestroyDescriptor(heur);
            }
        } catch (RuntimeException e) {
            p.destroy();
            Cudnn.warnOnce(what + ": no graph-API plan (" + CudaRuntime.firstLine(e) + "); the legacy cudnnConvolution* call serves it");
        }
        return p;
    }

    /**
     * Picks one of the heuristic's engine configs (see the class comment and {@link Search}); a choice saved for this
     * key under this context ({@link ConvChoices}) is replayed instead, and a new choice is saved.
     */
    private void choose(Plan p, cudnnBackendDescriptor_t heur, String what, Bound b, boolean measure, String op) {
        LongPointer count = new LongPointer(1);
        // the count first (cudnn-frontend asks with no array); should a cuDNN refuse that, ask for up to 64 at once
        int n = cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, count, (Pointer) null)
                == CUDNN_STATUS_SUCCESS ? (int) count.get() : 64;
        if (n == 0) throw new CudaException(op + ": cuDNN's heuristic offered no engine");
        cudnnBackendDescriptor_t[] cfg = new cudnnBackendDescriptor_t[n];
        try {
            for (int i = 0; i < n; i++) cfg[i] = create(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, op);
            Cudnn.check(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, n, count, new PointerPointer<>(cfg)),
                    "cudnnBackendGetAttribute(heuristic results)", op);
            n = (int) Math.min(n, count.get());
            ConvChoices.Choice saved = choices.get(what);
            // a measured choice replays at once; a first use's heuristic one only until the shape is measured
            if (saved != null && !(measure && !saved.how().equals(MEASURED))) {
                if (saved.rank() < n && replay(p, cfg[saved.rank()], saved, what, op)) {
                    p.settled |= saved.how().equals(MEASURED);
                    return;
                }
                Cudnn.warnOnce(what + ": the saved engine choice (rank " + saved.rank() + ", " + saved.engine() + ") does not apply here; choosing again");
            }
            Candidate c = measure ? fastest(cfg, n, b, what, op) : switch (search) {
                case HEURISTIC, MEASURE -> firstWithin(cfg, n, what, op);
                case TOP -> first(cfg, n, op);
            };
            keep(p, cfg[c.rank], c.exec, c.workspace, what, c.engine + " (" + c.how + ")");
            p.settled |= measure;
            try {
                choices.put(what, new ConvChoices.Choice(c.rank, identity(c.engine, c.exec), measure ? MEASURED : search == Search.TOP ? "top" : "heuristic"));
            } catch (java.io.UncheckedIOException e) { // the plan is good; only its replay after a restart is lost
                Cudnn.warnOnce(CudaRuntime.firstLine(e) + "; the engine choices of this run are not saved");
            }
        } finally {
            for (cudnnBackendDescriptor_t c : cfg) if (c != null && !p.owned.contains(c)) cudnnBackendDestroyDescriptor(c);
        }
    }

    private static final String MEASURED = "measured";

    /** An acceptable config with its finalized plan (owned by whoever keeps it), its rank and how it was chosen. */
    private record Candidate(int rank, String engine, cudnnBackendDescriptor_t exec, long workspace, String how) {}

    /** Keeps the config at the saved rank if it is still the same engine with the same settings (its plan's JSON). */
    private boolean replay(Plan p, cudnnBackendDescriptor_t cfg, ConvChoices.Choice saved, String what, String op) {
        Look look = look(cfg, op);
        if (look.refusal() != null) return false;
        cudnnBackendDescriptor_t exec = executionPlan(cfg, op);
        if (exec == null) return false;
        if (!identity(look.engine(), exec).equals(saved.engine())) {
            cudnnBackendDestroyDescriptor(exec);
            return false;
        }
        keep(p, cfg, exec, workspaceOf(exec, op), what, look.engine() + " (replayed from the saved choices)");
        return true;
    }

    /**
     * The engine index plus a CRC of the plan's JSON form, which holds its knob settings too: the heuristic's list may
     * hold one engine several times with other knobs. Only the index where cuDNN gives no JSON.
     */
    private static String identity(String engine, cudnnBackendDescriptor_t exec) {
        LongPointer count = new LongPointer(1);
        if (cudnnBackendGetAttribute(exec, CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION, CUDNN_TYPE_CHAR, 0, count, (Pointer) null)
                != CUDNN_STATUS_SUCCESS || count.get() <= 0) return engine;
        org.bytedeco.javacpp.BytePointer json = new org.bytedeco.javacpp.BytePointer(count.get());
        if (cudnnBackendGetAttribute(exec, CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION, CUDNN_TYPE_CHAR, count.get(), count, json)
                != CUDNN_STATUS_SUCCESS) return engine;
        byte[] bytes = new byte[(int) Math.min(count.get(), json.capacity())];
        json.get(bytes);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        return engine + " #" + Long.toHexString(crc.getValue());
    }

    /** HEURISTIC: the first acceptable config within the workspace bound, else the acceptable one needing the least. */
    private Candidate firstWithin(cudnnBackendDescriptor_t[] cfg, int n, String what, String op) {
        List<String> refused = new ArrayList<>();
        int smallest = -1;
        long smallestWs = Long.MAX_VALUE;
        String smallestEngine = null;
        for (int i = 0; i < n; i++) {
            Look look = look(cfg[i], op);
            if (look.refusal() != null) { refused.add(look.engine() + " " + look.refusal()); continue; }
            cudnnBackendDescriptor_t exec = executionPlan(cfg[i], op);
            if (exec == null) { refused.add(look.engine() + " does not finalize"); continue; }
            long ws = workspaceOf(exec, op);
            if (ws <= dnn.workspaceLimit) return new Candidate(i, look.engine(), exec, ws, "heuristic");
            cudnnBackendDestroyDescriptor(exec);
            refused.add(look.engine() + " needs " + DeviceMemory.mib(ws));
            if (ws < smallestWs) { smallest = i; smallestWs = ws; smallestEngine = look.engine(); }
        }
        if (smallest < 0) throw new CudaException(op + ": no acceptable engine among " + n + " (" + String.join("; ", refused) + ")");
        Cudnn.warnOnce(what + ": no engine within the " + DeviceMemory.mib(dnn.workspaceLimit) + " workspace; "
                + smallestEngine + " needs " + DeviceMemory.mib(smallestWs) + " and the workspace grows to it");
        cudnnBackendDescriptor_t exec = executionPlan(cfg[smallest], op);
        if (exec == null) throw new CudaException(op + ": " + smallestEngine + " finalized once and not again");
        return new Candidate(smallest, smallestEngine, exec, workspaceOf(exec, op), "heuristic, smallest workspace");
    }

    /** TOP: the heuristic's first acceptable config whose workspace is within the cap (it may exceed the bound). */
    private Candidate first(cudnnBackendDescriptor_t[] cfg, int n, String op) {
        for (Candidate c : candidates(cfg, n, 1, op)) return new Candidate(c.rank, c.engine, c.exec, c.workspace, "heuristic's first");
        throw new CudaException(op + ": no acceptable engine within the " + DeviceMemory.mib(workspaceCap) + " workspace cap");
    }

    /**
     * MEASURE: the fastest of the heuristic's first acceptable configs within the cap, timed on the call's own buffers
     * (one warm-up run and five timed runs each, CUDA events on the backend's stream). Forward and backward-data
     * overwrite their output, which the real call then writes again; backward-filter accumulates, so it is timed into a
     * scratch dw.
     */
    private Candidate fastest(cudnnBackendDescriptor_t[] cfg, int n, Bound b, String what, String op) {
        List<Candidate> all = candidates(cfg, n, candidatesToTime, op);
        if (all.isEmpty()) throw new CudaException(op + ": no acceptable engine within the " + DeviceMemory.mib(workspaceCap) + " workspace cap");
        Candidate best = null;
        float bestMs = Float.MAX_VALUE;
        DeviceMemory.Block scratch = null;
        boolean chosen = false;
        try {
            if (b.scratchW > 0) scratch = new DeviceMemory.Block(mem, b.scratchW, "dw scratch for timing " + op);
            for (Candidate c : all) {
                float ms;
                try {
                    ms = time(c, b.x, scratch != null ? scratch.address() : b.w, b.y, op);
                } catch (CudaException e) { // an engine that fails to run is no candidate
                    Cudnn.warnOnce(what + ": " + c.engine + " failed while timed (" + CudaRuntime.firstLine(e) + ")");
                    continue;
                }
                if (ms < bestMs) { best = c; bestMs = ms; }
            }
            if (best == null) throw new CudaException(op + ": none of " + all.size() + " engines ran");
            chosen = true;
        } finally {
            if (scratch != null) scratch.free();
            for (Candidate c : all) if (!chosen || c != best) cudnnBackendDestroyDescriptor(c.exec);
        }
        return new Candidate(best.rank, best.engine, best.exec, best.workspace, String.format("measured %.3f ms of %d", bestMs, all.size()));
    }

    /** Up to max acceptable configs in the heuristic's order with a finalized plan each, workspace within the cap. */
    private List<Candidate> candidates(cudnnBackendDescriptor_t[] cfg, int n, int max, String op) {
        List<Candidate> out = new ArrayList<>();
        try {
            for (int i = 0; i < n && out.size() < max; i++) {
                Look look = look(cfg[i], op);
                if (look.refusal() != null) continue;
                cudnnBackendDescriptor_t exec = executionPlan(cfg[i], op);
                if (exec == null) continue;
                long ws = workspaceOf(exec, op);
                if (ws > workspaceCap) { cudnnBackendDestroyDescriptor(exec); continue; }
                out.add(new Candidate(i, look.engine(), exec, ws, ""));
            }
            return out;
        } catch (RuntimeException e) {
            for (Candidate c : out) cudnnBackendDestroyDescriptor(c.exec);
            throw e;
        }
    }

    private static final int TIMED_RUNS = 5;

    /**
     * Milliseconds a run of this plan takes on these addresses: the mean of five runs after one warm-up. For small
     * convolutions the host's time to issue each run counts too, as it does in the step itself.
     */
    private float time(Candidate c, long ax, long aw, long ay, String op) {
        long ws = dnn.workspace(c.workspace, op);
        cudnnBackendDescriptor_t vp = variantPack(ax, aw, ay, ws, op);
        try {
            if (events == null) {
                CUevent_st start = new CUevent_st(), stop = new CUevent_st();
                CudaRuntime.check(cudaEventCreate(start), "cudaEventCreate", op);
                int rc = cudaEventCreate(stop);
                if (rc != 0) {
                    cudaEventDestroy(start);
                    CudaRuntime.check(rc, "cudaEventCreate", op);
                }
                events = new CUevent_st[]{start, stop};
            }
            Cudnn.check(cudnnBackendExecute(dnn.handle, c.exec, vp), "cudnnBackendExecute (timing)", op);
            CudaRuntime.check(cudaEventRecord(events[0], stream), "cudaEventRecord", op);
            for (int r = 0; r < TIMED_RUNS; r++) Cudnn.check(cudnnBackendExecute(dnn.handle, c.exec, vp), "cudnnBackendExecute (timing)", op);
            CudaRuntime.check(cudaEventRecord(events[1], stream), "cudaEventRecord", op);
            CudaRuntime.check(cudaEventSynchronize(events[1]), "cudaEventSynchronize", op);
            FloatPointer ms = new FloatPointer(1);
            CudaRuntime.check(cudaEventElapsedTime(ms, events[0], events[1]), "cudaEventElapsedTime", op);
            return ms.get() / TIMED_RUNS;
        } finally {
            cudnnBackendDestroyDescriptor(vp);
        }
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

    /** A finalized execution plan of this config (the caller owns it), or null where it does not finalize here. */
    private cudnnBackendDescriptor_t executionPlan(cudnnBackendDescriptor_t cfg, String op) {
        cudnnBackendDescriptor_t exec = create(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, op);
        try {
            set(exec, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, ref(dnn.handle), op);
            set(exec, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, ref(cfg), op);
            if (cudnnBackendFinalize(exec) == CUDNN_STATUS_SUCCESS) return exec;
        } catch (RuntimeException e) {
            cudnnBackendDestroyDescriptor(exec);
            throw e;
        }
        cudnnBackendDestroyDescriptor(exec);
        return null;
    }

    private static long workspaceOf(cudnnBackendDescriptor_t exec, String op) {
        LongPointer ws = new LongPointer(1), got = new LongPointer(1);
        int rc = cudnnBackendGetAttribute(exec, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, got, ws);
        if (rc != CUDNN_STATUS_SUCCESS) {
            cudnnBackendDestroyDescriptor(exec);
            Cudnn.check(rc, "cudnnBackendGetAttribute(workspace size)", op);
        }
        return ws.get();
    }

    /** An engine config's engine index, and why the backend's settings refuse it (null: acceptable). */
    private record Look(String engine, String refusal) {}

    /**
     * Refused, as PyTorch's cudnn-frontend filter does: engines compiled at run time (NVRTC, seconds per shape), engines
     * that convert the fp32 inputs to a narrower type, non-deterministic engines in deterministic mode, and without TF32
     * tensor-core engines and reduced-precision reductions.
     */
    private Look look(cudnnBackendDescriptor_t cfg, String op) {
        cudnnBackendDescriptor_t engine = engine(cfg, op);
        try {
            LongPointer index = new LongPointer(1), got = new LongPointer(1);
            Cudnn.check(cudnnBackendGetAttribute(engine, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, got, index),
                    "cudnnBackendGetAttribute(engine index)", op);
            String name = "engine " + index.get();
            for (int note : notes(engine, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, op))
                if (note == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION) return new Look(name, "compiles at run time");
            for (int note : notes(engine, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE, CUDNN_NUMERICAL_NOTE_TYPE_COUNT, op)) {
                if (note == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS) return new Look(name, "converts its inputs to a narrower type");
                if (deterministic && note == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC) return new Look(name, "is non-deterministic");
                if (!tf32 && (note == CUDNN_NUMERICAL_NOTE_TENSOR_CORE || note == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION))
                    return new Look(name, "uses tensor cores or reduced precision (TF32 is off)");
            }
            return new Look(name, null);
        } finally {
            cudnnBackendDestroyDescriptor(engine);
        }
    }

    private static cudnnBackendDescriptor_t engine(cudnnBackendDescriptor_t cfg, String op) {
        cudnnBackendDescriptor_t engine = create(CUDNN_BACKEND_ENGINE_DESCRIPTOR, op);
        LongPointer got = new LongPointer(1);
        int rc = cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, got, ref(engine));
        if (rc != CUDNN_STATUS_SUCCESS) {
            cudnnBackendDestroyDescriptor(engine);
            Cudnn.check(rc, "cudnnBackendGetAttribute(engine of config)", op);
        }
        return engine;
    }

    private static int[] notes(cudnnBackendDescriptor_t engine, int attribute, int type, int max, String op) {
        IntPointer values = new IntPointer(max);
        LongPointer got = new LongPointer(1);
        Cudnn.check(cudnnBackendGetAttribute(engine, attribute, type, max, got, values), "cudnnBackendGetAttribute(engine notes)", op);
        int[] out = new int[(int) Math.min(got.get(), max)]; // cuDNN reports the full count, which may exceed what was asked
        values.get(out);
        return out;
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

    // JavaCPP's single-argument constructors are traps here: new LongPointer(2L) allocates two longs, new IntPointer(0)
    // none, and new PointerPointer(d) is a cast of d, not an array holding d. These build the one-element arrays.
    static IntPointer int32(int v) { return new IntPointer(new int[]{v}); }

    static LongPointer int64(long... v) { return new LongPointer(v); }

    static PointerPointer<Pointer> ref(Pointer d) { return new PointerPointer<>(new Pointer[]{d}); }

    private static cudnnBackendDescriptor_t own(Plan p, int type, String op) {
        cudnnBackendDescriptor_t d = create(type, op);
        p.owned.add(d);
        return d;
    }

    private static cudnnBackendDescriptor_t create(int type, String op) {
        cudnnBackendDescriptor_t d = new cudnnBackendDescriptor_t();
        Cudnn.check(cudnnBackendCreateDescriptor(type, d), "cudnnBackendCreateDescriptor(" + type + ")", op);
        return d;
    }

    private static void set(cudnnBackendDescriptor_t d, int attribute, int type, long count, Pointer value, String op) {
        Cudnn.check(cudnnBackendSetAttribute(d, attribute, type, count, value), "cudnnBackendSetAttribute(" + attribute + ")", op);
    }


    @Override
    public void close() {
        plans.clear();
        if (events != null) for (CUevent_st e : events) cudaEventDestroy(e);
        events = null;
    }
}
