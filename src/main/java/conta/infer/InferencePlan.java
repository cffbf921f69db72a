package conta.infer;

import conta.models.Network;
import conta.models.ResNet;
import conta.tensor.LayerGraph;
import conta.tensor.cpu.DnnlConstants;
import conta.tensor.cpu.DnnlGraph;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;

/**
 * A network compiled once for one input shape, for inference (predictions, CAMs, embedding through the Java API):
 * batch norm (eval or frozen: running statistics) folded into the convolution weights and biases at build, ReLU and
 * the residual add fused into the convolutions as oneDNN post-ops, activations in oneDNN's blocked layouts from the
 * first convolution to the last, every buffer allocated at build. Results equal the model's eval forward
 * ({@code model.module().train(false); model.forward(x)}) to float rounding.
 *
 * <pre>{@code
 * try (InferencePlan plan = InferencePlan.compile(net, 1, 3, 224, 224)) {
 *     float[] out = new float[plan.outputNumel()];
 *     plan.run(image, out);            // any number of times; nothing is allocated per call
 * }
 * }</pre>
 *
 * <p>Covers the ResNets of conta.models (torchvision, os16/os8, MSRA/Caffe, FC/CAM/no head) and DeepLab-v2 (ASPP, MSC
 * max fusion), by walking their modules ({@link ModelWalker}); CONTA's context input is planned for CAMs
 * ({@link #compileCam(ResNet, Precision, int[], int[])}).
 * The weights are copied at compile: later training of the model does not change the plan (compile a new one).
 *
 * <p>Threads: a plan holds one set of activation buffers, so use one plan per thread (run is synchronized: a shared
 * plan is safe but serialises its callers). Each run uses oneDNN's OpenMP threads (OMP_NUM_THREADS; see
 * docs/inference-plan.md for the wait-policy measurements).
 */
public final class InferencePlan implements AutoCloseable {
    private final LayerGraph graph;
    private final int[][] inputShapes, outputShapes;
    private final Precision precision;

    private InferencePlan(LayerGraph graph, int[][] inputShapes, Precision precision) {
        this.graph = graph;
        this.inputShapes = inputShapes;
        this.outputShapes = new int[graph.outputs()][];
        for (int i = 0; i < outputShapes.length; i++) outputShapes[i] = graph.outputShape(i);
        this.precision = precision;
    }

    /** fp32 plan for input N x C x H x W. */
    public static InferencePlan compile(Network model, int... inputShape) { return compile(model, Precision.FP32, inputShape); }

    /** Plan for input N x C x H x W in the given precision (AUTO resolved here, see {@link Precision#resolve}). */
    public static InferencePlan compile(Network model, Precision precision, int... inputShape) {
        return compile(model, precision, null, inputShape);
    }

    /** The same, its weights in a store shared with other plans of this model (null: its own); see {@link PlanCache}. */
    static InferencePlan compile(Network model, Precision precision, DnnlConstants constants, int... inputShape) {
        return build(precision, new int[][]{inputShape}, constants, (w, in) -> List.of(w.network(model, in.getFirst())));
    }

    /**
     * Plan of a CAM classifier's class activation maps, relu(classifier(features)) at feature resolution (N x classes
     * x h x w): what conta.wsss.Cams takes from the network before flip-merging and resizing.
     */
    public static InferencePlan compileCam(ResNet model, Precision precision, int... inputShape) {
        return compileCam(model, precision, inputShape, null);
    }

    /**
     * The same for a CONTA classifier: a second input, the context map M (N x K x h x w), joins the features at the
     * network's context blocks as in its forward ({@link ResNet#features(conta.tensor.Tensor, conta.tensor.Tensor)}):
     * resized bilinearly to each join's grid and read by the convolutions' context inputs. Run it with
     * {@code run(new float[][]{images, context}, new float[][]{cams})}. contextShape null: a network without context.
     */
    public static InferencePlan compileCam(ResNet model, Precision precision, int[] inputShape, int[] contextShape) {
        return compileCam(model, precision, null, inputShape, contextShape);
    }

    /** The same, its weights in a store shared with other plans of this model (null: its own). */
    static InferencePlan compileCam(ResNet model, Precision precision, DnnlConstants constants, int[] inputShape, int[] contextShape) {
        if ((contextShape != null) != (model.config.contextChannels() > 0))
            throw new IllegalArgumentException(model.config.contextChannels() > 0
                    ? "this network reads a " + model.config.contextChannels() + "-channel context map: give its shape"
                    : "a network without context input takes no context map");
        int[][] shapes = contextShape == null ? new int[][]{inputShape} : new int[][]{inputShape, contextShape};
        return build(precision, shapes, constants, (w, in) -> List.of(w.cam(model, in.getFirst(), in.size() > 1 ? in.get(1) : null)));
    }

    /**
     * A ResNet's features at each stage, for networks that read them (IRNet's boundary branch): outputs the stem's
     * (after max pooling) and layer1..layer4's, in that order.
     */
    public static InferencePlan compileStages(ResNet model, Precision precision, int... inputShape) {
        return compileStages(model, precision, null, inputShape);
    }

    /** The same, its weights in a store shared with other plans of this model (null: its own). */
    static InferencePlan compileStages(ResNet model, Precision precision, DnnlConstants constants, int... inputShape) {
        return build(precision, new int[][]{inputShape}, constants, (w, in) -> {
            w.stages(model, in.getFirst()); // marks its outputs as it goes
            return List.of();
        });
    }

    /** body emits the network and returns the values to mark as outputs (in order; it may mark some itself). */
    private static InferencePlan build(Precision precision, int[][] inputShapes, DnnlConstants constants,
                                       BiFunction<ModelWalker, List<LayerGraph.Value>, List<LayerGraph.Value>> body) {
        for (int[] s : inputShapes)
            if (s.length != 4) throw new IllegalArgumentException("input shape must be N x C x H x W, got " + Arrays.toString(s));
        Precision p = precision.resolve();
        DnnlGraph g = new DnnlGraph(p == Precision.BF16, constants);
        try {
            List<LayerGraph.Value> ins = new ArrayList<>();
            for (int[] s : inputShapes) ins.add(g.input(s[0], s[1], s[2], s[3]));
            for (LayerGraph.Value out : body.apply(new ModelWalker(g), ins)) g.output(out);
            g.compile();
            InferencePlan plan = new InferencePlan(g, Arrays.stream(inputShapes).map(int[]::clone).toArray(int[][]::new), p);
            CallPathWarmup.warm(plan, g);
            return plan;
        } catch (RuntimeException | Error e) { // OutOfMemoryError too: the graph must give back the shared weights store
            g.close();
            throw e;
        }
    }

    /** A plan of one input and one output: in the input's numel (NCHW floats), out {@link #outputNumel()}. Allocates nothing. */
    public void run(float[] in, float[] out) { graph.run(in, out); }

    /** Any plan: one array per input and per output, in their order. Allocates nothing. */
    public void run(float[][] in, float[][] out) { graph.run(in, out); }

    /** Convenience: a new output array per call. */
    public float[] run(float[] in) {
        float[] out = new float[outputNumel()];
        run(in, out);
        return out;
    }

    /** Convenience: new output arrays per call. */
    public float[][] runAll(float[]... in) {
        float[][] out = new float[outputShapes.length][];
        for (int i = 0; i < out.length; i++) out[i] = new float[numel(outputShapes[i])];
        run(in, out);
        return out;
    }

    /** The first input's shape (the images). */
    public int[] inputShape() { return inputShapes[0].clone(); }

    public int[][] inputShapes() { return Arrays.stream(inputShapes).map(int[]::clone).toArray(int[][]::new); }

    /** The first output's shape. */
    public int[] outputShape() { return outputShapes[0].clone(); }

    public int[][] outputShapes() { return Arrays.stream(outputShapes).map(int[]::clone).toArray(int[][]::new); }

    public int outputNumel() { return numel(outputShapes[0]); }

    static int numel(int[] s) { return Arrays.stream(s).reduce(1, (a, b) -> a * b); }

    private float[][] hostArrays;

    /** {input, output} Java arrays kept with this plan for PlanCache's allocation-free run (made on first use). */
    float[][] hostArrays() {
        if (hostArrays == null) hostArrays = new float[][]{new float[numel(inputShapes[0])], new float[outputNumel()]};
        return hostArrays;
    }

    /** FP32 or BF16 (AUTO already resolved). */
    public Precision precision() { return precision; }

    /**
     * Bytes of weights and biases the plan reads (-1 where its backend does not count them); plans of one
     * {@link PlanCache} share them, so this is not memory per plan there.
     */
    public long weightBytes() { return graph.constantBytes(); }

    /** One line per primitive: kind, output shape, oneDNN implementation. */
    public String describe() { return graph.describe(); }

    @Override
    public void close() { graph.close(); }
}
