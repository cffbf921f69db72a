package conta.infer;

import conta.models.Network;
import conta.models.ResNet;
import conta.tensor.Backend;
import conta.tensor.cpu.CpuBackend;
import conta.tensor.cpu.DnnlConstants;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The inference plans of one fixed network, compiled on first use of each input shape and reused: what predictions,
 * CAMs and the Java/C API run on the CPU instead of the training graph's eval forward (the same numbers to float
 * rounding, 2-3x faster at batch 1: docs/inference-plan.md).
 *
 * <p>Every call of a shape runs a plan (never the graph for some calls and a plan for others), so a result does not
 * depend on what ran before it: a resumed run writes the same bytes as an uninterrupted one. Idle plans are pooled per
 * shape (one per concurrent caller); at most {@code maxShapes} shapes are kept, the least recently used one freed.
 * The plans share one copy of the weights ({@link DnnlConstants}): a new shape or caller adds its activation buffers
 * only, and its compile skips the weight reorders and transforms that an earlier plan did.
 * The plans copy the weights at compile: make the cache after the network's last weight change and close it before
 * the next (C2AM fine-tunes the classifier after its global CAM).
 */
public final class PlanCache implements AutoCloseable {
    /**
     * What a plan computes: the network's forward, a CAM classifier's activation maps (InferencePlan.compileCam), or a
     * ResNet's stage outputs (InferencePlan.compileStages: what IRNet's boundary branch reads from its frozen backbone).
     */
    public enum Output { FORWARD, CAM, STAGES }

    /** A plan's result: NCHW (or N x C) floats and their shape. */
    public record Result(float[] data, int[] shape) { }

    private final Network net;
    private final Output output;
    private final Precision precision;
    private final int maxShapes;
    private final LinkedHashMap<List<Integer>, ArrayDeque<InferencePlan>> idle = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * The weights of all this cache's plans, one copy (per layout) for every shape and caller: without it each plan
     * copied them, and memory grew by the model's size with every image size and concurrent caller.
     */
    private final DnnlConstants constants;
    /** Whether this cache closes the store (a sibling shares its owner's, which closes it). */
    private final boolean ownsConstants;
    private boolean closed;

    public PlanCache(Network net, Output output, Precision precision, int maxShapes) {
        this(net, output, precision, maxShapes, new DnnlConstants(), true);
    }

    private PlanCache(Network net, Output output, Precision precision, int maxShapes, DnnlConstants constants, boolean ownsConstants) {
        if (maxShapes < 1) throw new IllegalArgumentException("maxShapes must be >= 1, got " + maxShapes);
        this.net = net;
        this.output = output;
        this.precision = precision.resolve();
        this.maxShapes = maxShapes;
        this.constants = constants;
        this.ownsConstants = ownsConstants;
    }

    /**
     * A cache of another output of the same network whose plans take their weights from this cache's store (one copy
     * per layout: the store is keyed by the values' digest), e.g. a classifier's logits beside its CAMs. Closing this
     * cache closes the store to new plans: close the sibling with it, not after using it further. Null where
     * {@link #forBackend} would give none for that output.
     */
    public PlanCache sibling(Output output) {
        return serves(net.module().backend(), net, output) ? new PlanCache(net, output, precision, maxShapes, constants, false) : null;
    }

    /**
     * A cache when plans can serve this network on this backend (oneDNN plans run on the CPU backend, not without
     * oneDNN, as in the GPU package; a classifier with CONTA's context input only for its CAMs), else null: the caller
     * runs the network's forward.
     */
    public static PlanCache forBackend(Backend b, Network net, Output output, Precision precision, int maxShapes) {
        return serves(b, net, output) ? new PlanCache(net, output, precision, maxShapes) : null;
    }

    /** Whether plans can compute output of this network on this backend (see {@link #forBackend}). */
    private static boolean serves(Backend b, Network net, Output output) {
        if (!(b instanceof CpuBackend) || !CpuBackend.oneDnnAvailable()) return false;
        if (output != Output.CAM && net.module() instanceof ResNet r && r.config.contextChannels() > 0) return false;
        if (output == Output.STAGES && !(net.module() instanceof ResNet)) return false;
        return output != Output.CAM
                || net.module() instanceof ResNet r && r.camWeight() != null && r.children().get("classifier") instanceof conta.nn.Conv2d c && c.bias == null;
    }

    /** Runs the plan of in's shape (N x C x H x W), compiling it on first use. Safe from several threads. */
    public Result run(float[] in, int... shape) {
        return run(in, shape, null, null);
    }

    /**
     * The same for a CONTA classifier's CAMs: context (N x K x h x w, contextShape) joins as in its forward; null
     * for a network without context input. A plan per pair of shapes.
     */
    public Result run(float[] in, int[] shape, float[] context, int[] contextShape) {
        InferencePlan p = borrow(shape, contextShape);
        try {
            return new Result((context == null ? p.runAll(in) : p.runAll(in, context))[0], p.outputShape());
        } finally {
            giveBack(p);
        }
    }

    /**
     * The plan of shape (one input and output), its input written by fill into an array the plan keeps, and its output
     * (an array the plan keeps too) handed to use while the plan is still this caller's: a call allocates nothing,
     * and the arrays come and go with the cache's plans (at most shapes x concurrent callers), not with threads.
     * Neither array may be kept after use returns.
     */
    public <T> T run(int[] shape, java.util.function.Consumer<float[]> fill, java.util.function.Function<Result, T> use) {
        InferencePlan p = borrow(shape, null);
        try {
            float[][] io = p.hostArrays();
            fill.accept(io[0]);
            p.run(io[0], io[1]);
            return use.apply(new Result(io[1], p.outputShape()));
        } finally {
            giveBack(p);
        }
    }

    /**
     * Every output of the plan of in's shape (a stage plan's five), written into the arrays of reuse where its
     * shapes are those of the outputs (a caller that runs one shape over and over keeps its large arrays), else into
     * new ones.
     */
    public List<Result> runAll(float[] in, int[] shape, List<Result> reuse) {
        InferencePlan p = borrow(shape, null);
        try {
            int[][] shapes = p.outputShapes();
            float[][] out = new float[shapes.length][];
            List<Result> results = new ArrayList<>(shapes.length);
            for (int i = 0; i < shapes.length; i++) {
                boolean same = reuse != null && reuse.size() == shapes.length && Arrays.equals(reuse.get(i).shape(), shapes[i]);
                out[i] = same ? reuse.get(i).data() : new float[InferencePlan.numel(shapes[i])];
                results.add(new Result(out[i], shapes[i]));
            }
            p.run(new float[][]{in}, out);
            return results;
        } finally {
            giveBack(p);
        }
    }

    /** FP32 or BF16 (AUTO resolved once, here). */
    public Precision precision() { return precision; }

    /** Number of shapes with a plan kept (tests). */
    public synchronized int shapes() { return idle.size(); }

    private InferencePlan borrow(int[] shape, int[] contextShape) {
        List<Integer> key = key(shape, contextShape);
        synchronized (this) {
            if (closed) throw new IllegalStateException("plan cache closed");
            ArrayDeque<InferencePlan> q = idle.get(key);
            if (q != null && !q.isEmpty()) return q.pop();
        }
        // compile outside the lock: other shapes keep running meanwhile
        return switch (output) {
            case CAM -> InferencePlan.compileCam((ResNet) net.module(), precision, constants, shape, contextShape);
            case STAGES -> InferencePlan.compileStages((ResNet) net.module(), precision, constants, shape);
            case FORWARD -> InferencePlan.compile(net, precision, constants, shape);
        };
    }

    private void giveBack(InferencePlan p) {
        List<InferencePlan> free = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                free.add(p);
            } else {
                int[][] in = p.inputShapes();
                idle.computeIfAbsent(key(in[0], in.length > 1 ? in[1] : null), k -> new ArrayDeque<>()).push(p);
                for (Iterator<Map.Entry<List<Integer>, ArrayDeque<InferencePlan>>> it = idle.entrySet().iterator(); idle.size() > maxShapes && it.hasNext(); ) {
                    free.addAll(it.next().getValue());
                    it.remove();
                }
            }
        }
        free.forEach(InferencePlan::close);
    }

    /** The shapes, the context's after a -1 (none without). */
    private static List<Integer> key(int[] shape, int[] contextShape) {
        List<Integer> k = new ArrayList<>();
        for (int s : shape) k.add(s);
        if (contextShape != null) {
            k.add(-1);
            for (int s : contextShape) k.add(s);
        }
        return k;
    }

    /** Frees every idle plan; plans in use are freed when their call returns. */
    @Override
    public void close() {
        List<InferencePlan> free = new ArrayList<>();
        synchronized (this) {
            if (closed) return;
            closed = true;
            idle.values().forEach(free::addAll);
            idle.clear();
        }
        try {
            free.forEach(InferencePlan::close);
        } finally {
            if (ownsConstants) constants.close(); // freed now, or by the last plan still running
        }
    }

    /** Bytes of weights all plans of this cache share (tests, benchmarks). */
    public long weightBytes() { return constants.bytes(); }
}
