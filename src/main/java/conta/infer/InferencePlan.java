package conta.infer;

import conta.models.Network;
import conta.models.ResNet;
import conta.tensor.LayerGraph;
import conta.tensor.cpu.DnnlGraph;
import java.util.Arrays;

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
 * max fusion), by walking their modules ({@link ModelWalker}); networks with CONTA's context input are not planned.
 * The weights are copied at compile: later training of the model does not change the plan (compile a new one).
 *
 * <p>Threads: a plan holds one set of activation buffers, so use one plan per thread (run is synchronized: a shared
 * plan is safe but serialises its callers). Each run uses oneDNN's OpenMP threads (OMP_NUM_THREADS; see
 * docs/inference-plan.md for the wait-policy measurements).
 */
public final class InferencePlan implements AutoCloseable {
    private final LayerGraph graph;
    private final int[] inputShape, outputShape;
    private final Precision precision;

    private InferencePlan(LayerGraph graph, int[] inputShape, int[] outputShape, Precision precision) {
        this.graph = graph;
        this.inputShape = inputShape;
        this.outputShape = outputShape;
        this.precision = precision;
    }

    /** fp32 plan for input N x C x H x W. */
    public static InferencePlan compile(Network model, int... inputShape) { return compile(model, Precision.FP32, inputShape); }

    /** Plan for input N x C x H x W in the given precision (AUTO resolved here, see {@link Precision#resolve}). */
    public static InferencePlan compile(Network model, Precision precision, int... inputShape) {
        return build(precision, inputShape, (w, in) -> w.network(model, in));
    }

    /**
     * Plan of a CAM classifier's class activation maps, relu(classifier(features)) at feature resolution (N x classes
     * x h x w): what conta.wsss.Cams takes from the network before flip-merging and resizing.
     */
    public static InferencePlan compileCam(ResNet model, Precision precision, int... inputShape) {
        return build(precision, inputShape, (w, in) -> w.cam(model, in));
    }

    private static InferencePlan build(Precision precision, int[] inputShape, java.util.function.BiFunction<ModelWalker, LayerGraph.Value, LayerGraph.Value> body) {
        if (inputShape.length != 4) throw new IllegalArgumentException("input shape must be N x C x H x W, got " + Arrays.toString(inputShape));
        Precision p = precision.resolve();
        DnnlGraph g = new DnnlGraph(p == Precision.BF16);
        try {
            LayerGraph.Value out = body.apply(new ModelWalker(g), g.input(inputShape[0], inputShape[1], inputShape[2], inputShape[3]));
            g.output(out);
            g.compile();
            return new InferencePlan(g, inputShape.clone(), g.outputShape(), p);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /** in: numel of the input shape (NCHW floats); out: {@link #outputNumel()} floats. Allocates nothing. */
    public void run(float[] in, float[] out) { graph.run(in, out); }

    /** Convenience: a new output array per call. */
    public float[] run(float[] in) {
        float[] out = new float[outputNumel()];
        run(in, out);
        return out;
    }

    public int[] inputShape() { return inputShape.clone(); }

    public int[] outputShape() { return outputShape.clone(); }

    public int outputNumel() { return Arrays.stream(outputShape).reduce(1, (a, b) -> a * b); }

    /** FP32 or BF16 (AUTO already resolved). */
    public Precision precision() { return precision; }

    /** Bytes of weights and biases the plan holds (-1 where its backend does not count them). */
    public long weightBytes() { return graph.constantBytes(); }

    /** One line per primitive: kind, output shape, oneDNN implementation. */
    public String describe() { return graph.describe(); }

    @Override
    public void close() { graph.close(); }
}
