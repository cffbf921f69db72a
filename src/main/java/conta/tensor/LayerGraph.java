package conta.tensor;

/**
 * A forward-only network compiled for one input shape (see conta.infer.InferencePlan, which fills it by walking a
 * model): ops are added in execution order on opaque {@link Value}s, then {@link #compile} fixes the buffers once and
 * {@link #run} executes the whole sequence. The CPU implementation is conta.tensor.cpu.DnnlGraph (oneDNN); a CUDA one
 * can implement the same calls.
 *
 * <p>Not thread-safe: one graph per thread (run is serialised per instance; it holds one set of activation buffers).
 */
public interface LayerGraph extends AutoCloseable {
    /** An activation of the graph (N x C x H x W, or N x C for a linear layer's output). */
    interface Value {
        int[] shape();
    }

    /** An input, NCHW float32 as the caller passes it to {@link #run}; a graph may have several (in this order). */
    Value input(int n, int c, int h, int w);

    /**
     * relu?(conv(src, w) + bias [+ addInto]): weights OIHW (batch norm already folded in by the caller), bias may be
     * null. addInto (may be null) is summed in and its buffer is reused for the result, so it must not be read by any
     * later op.
     */
    Value conv(Value src, float[] w, int[] wShape, float[] bias, ConvSpec s, Value addInto, boolean relu);

    /** Max pooling with PyTorch's output size rules (ceil mode included). */
    Value maxPool(Value src, ConvSpec s, boolean ceil);

    /** Mean over each channel's plane: N x C x 1 x 1. */
    Value globalAvgPool(Value src);

    /** src (N x C x 1 x 1 or N x C) times w [out, C] plus bias (may be null): N x out. */
    Value linear(Value src, float[] w, int out, float[] bias);

    /** Bilinear resize, align_corners = False (PyTorch's F.interpolate without antialiasing). */
    Value resizeBilinear(Value src, int h, int w);

    /** Elementwise maximum of two values of the same shape. */
    Value max(Value a, Value b);

    /** Marks a result: {@link #run}'s out receives it as plain NCHW (or N x C) float32; several in the order marked. */
    void output(Value v);

    /** Number of outputs marked. */
    int outputs();

    /** Shape of output i (compiled graphs). */
    int[] outputShape(int i);

    /** Fixes buffers and builds the executable sequence; no op may be added after. */
    void compile();

    /** A graph of one input and one output: in its numel floats (NCHW), out the output's. Allocates nothing. */
    void run(float[] in, float[] out);

    /** Any graph: one array per input and per output, in the order they were added, each of its value's numel. */
    void run(float[][] in, float[][] out);

    /** One line per op (kind, shapes, implementation) for diagnostics. */
    String describe();

    /** Bytes of weights and biases the graph holds (equal constants once), -1 where the backend does not count them. */
    default long constantBytes() { return -1; }

    @Override
    void close();
}
