package conta.tensor.cuda;

import static conta.tensor.cuda.CudnnGraph.*;
import static org.bytedeco.cuda.global.cudart.cudaEventCreate;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudnn.*;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnBackendDescriptor_t;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Which of cuDNN's engine configs a {@link ConvGraphs} plan runs ({@code -Dconta.cuda.graphSearch}, {@link Search}),
 * among those of cuDNN's heuristic (mode A) whose notes fit the backend's settings ({@link #look}) and that finalize:
 * {@code heuristic} (the default) takes the first within the workspace bound, else the acceptable one needing the
 * least, as {@link ConvPlans#take} does; {@code top} the first whatever its workspace up to a cap
 * ({@code -Dconta.cuda.graphWorkspaceCapMiB}, default 4x the bound), as PyTorch allocates what its engine asks for;
 * {@code measure} takes the heuristic's engine for a shape's first use and, when the shape recurs, times the first
 * {@code -Dconta.cuda.graphCandidates} (default 8) within the cap on the call's buffers and takes the fastest, as
 * PyTorch's cudnn.benchmark (a shape seen once, as each image's own size in the CAM and prediction passes, never pays
 * for a search; a training crop does once). With {@code -Dconta.cuda.graphChoices=FILE} the choices are saved and
 * replayed ({@link ConvChoices}): a measured choice depends on timing noise, and a resumed run must make the same one.
 * Session 19 ran only {@code heuristic} on a GPU; {@code top}, {@code measure} and the saved choices are there for the
 * next GPU session to compare.
 */
final class GraphEngines implements AutoCloseable {
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
    record Bound(long x, long w, long y, long scratchW) {}

    /** The chosen config and its finalized plan (now the caller's to keep and destroy); settled: measured, no more search. */
    record Chosen(cudnnBackendDescriptor_t cfg, cudnnBackendDescriptor_t exec, long workspace, String description, boolean settled) {}

    private static final String MEASURED = "measured";

    /** An acceptable config with its finalized plan (owned by whoever keeps it), its rank and how it was chosen. */
    private record Candidate(int rank, String engine, cudnnBackendDescriptor_t exec, long workspace, String how) {}

    private final Cudnn dnn;
    private final DeviceMemory mem;
    private final CUstream_st stream;
    private final boolean tf32, deterministic;
    private final Search search;
    private final ConvChoices choices;
    private final long workspaceCap;
    private final int candidatesToTime;
    private CUevent_st[] events;

    /**
     * choices: where the choices are kept, saved and replayed; required under MEASURE (without a file a measured
     * choice is still kept in memory, so that a plan evicted and rebuilt later makes the same one), else null unless
     * a file is named. mem and stream are needed by MEASURE only.
     */
    GraphEngines(Cudnn dnn, DeviceMemory mem, CUstream_st stream, boolean tf32, boolean deterministic, Search search, ConvChoices choices) {
        this.dnn = dnn;
        this.mem = mem;
        this.stream = stream;
        this.tf32 = tf32;
        this.deterministic = deterministic;
        this.search = search;
        // heuristic and top choices repeat by themselves and keep nothing without a file (no plan JSON read per build)
        if (search == Search.MEASURE && choices == null) throw new IllegalArgumentException("graph engines measured without a ConvChoices");
        this.choices = choices;
        this.workspaceCap = conta.io.SystemProps.count("conta.cuda.graphWorkspaceCapMiB", 4 * (dnn.workspaceLimit >> 20)) << 20;
        this.candidatesToTime = (int) conta.io.SystemProps.count("conta.cuda.graphCandidates", 8);
        if (candidatesToTime < 1) throw new IllegalArgumentException("-Dconta.cuda.graphCandidates must be >= 1, got " + candidatesToTime);
    }

    Search search() { return search; }

    /**
     * Saves the measured choices in file from now on (a pipeline run's folder, {@link ConvChoices#attach}); false, and
     * nothing done, under heuristic and top: their choices repeat by themselves.
     */
    boolean keepChoicesIn(java.nio.file.Path file) {
        if (search != Search.MEASURE) return false;
        choices.attach(file);
        return true;
    }

    /**
     * Picks one of the heuristic's engine configs (see the class comment); a choice saved for this key under this
     * context ({@link ConvChoices}) is replayed instead, and a new choice is saved. The chosen config and its plan are
     * the caller's; every other config is destroyed here.
     */
    Chosen choose(cudnnBackendDescriptor_t heur, String what, Bound b, boolean measure, String op) {
        LongPointer count = new LongPointer(1);
        // the count first (cudnn-frontend asks with no array); should a cuDNN refuse that, ask for up to 64 at once
        int n = cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, count, (Pointer) null)
                == CUDNN_STATUS_SUCCESS ? (int) count.get() : 64;
        if (n == 0) throw new CudaException(op + ": cuDNN's heuristic offered no engine");
        cudnnBackendDescriptor_t[] cfg = new cudnnBackendDescriptor_t[n];
        Chosen chosen = null;
        try {
            for (int i = 0; i < n; i++) cfg[i] = create(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, op);
            Cudnn.check(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, n, count, new PointerPointer<>(cfg)),
                    "cudnnBackendGetAttribute(heuristic results)", op);
            n = (int) Math.min(n, count.get());
            ConvChoices.Choice saved = choices == null ? null : choices.get(what);
            // a measured choice replays at once; a first use's heuristic one only until the shape is measured
            if (saved != null && !(measure && !saved.how().equals(MEASURED))) {
                if (saved.rank() < n) chosen = replay(cfg[saved.rank()], saved, op);
                if (chosen != null) return chosen;
                Cudnn.warnOnce(what + ": the saved engine choice (rank " + saved.rank() + ", " + saved.engine() + ") does not apply here; choosing again");
            }
            Candidate c = measure ? fastest(cfg, n, b, what, op) : switch (search) {
                case HEURISTIC, MEASURE -> firstWithin(cfg, n, what, op);
                case TOP -> first(cfg, n, op);
            };
            if (choices != null) try {
                choices.put(what, new ConvChoices.Choice(c.rank, identity(c.engine, c.exec), measure ? MEASURED : search == Search.TOP ? "top" : "heuristic"));
            } catch (java.io.UncheckedIOException e) { // the plan is good; only its replay after a restart is lost
                Cudnn.warnOnce(CudaRuntime.firstLine(e) + "; the engine choices of this run are not saved");
            }
            chosen = new Chosen(cfg[c.rank], c.exec, c.workspace, c.engine + " (" + c.how + ")", measure);
            return chosen;
        } finally {
            for (cudnnBackendDescriptor_t c : cfg) if (c != null && (chosen == null || c != chosen.cfg())) cudnnBackendDestroyDescriptor(c);
        }
    }

    /** The config at the saved rank if it is still the same engine with the same settings (its plan's JSON), else null. */
    private Chosen replay(cudnnBackendDescriptor_t cfg, ConvChoices.Choice saved, String op) {
        Look look = look(cfg, op);
        if (look.refusal() != null) return null;
        cudnnBackendDescriptor_t exec = executionPlan(dnn.handle, cfg, op);
        if (exec == null) return null;
        if (!identity(look.engine(), exec).equals(saved.engine())) {
            cudnnBackendDestroyDescriptor(exec);
            return null;
        }
        return new Chosen(cfg, exec, workspaceOf(exec, op), look.engine() + " (replayed from the saved choices)", saved.how().equals(MEASURED));
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
            cudnnBackendDescriptor_t exec = executionPlan(dnn.handle, cfg[i], op);
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
        cudnnBackendDescriptor_t exec = executionPlan(dnn.handle, cfg[smallest], op);
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
        if (deterministic && !choices.saved())
            Cudnn.warnOnce("graph engines measured without a file to save them (-Dconta.cuda.graphChoices=FILE; a pipeline run uses its "
                    + "folder's): a resumed run may measure other engines, and its sums then differ from an uninterrupted run's");
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
                cudnnBackendDescriptor_t exec = executionPlan(dnn.handle, cfg[i], op);
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

    @Override
    public void close() {
        if (events != null) for (CUevent_st e : events) cudaEventDestroy(e);
        events = null;
    }
}
