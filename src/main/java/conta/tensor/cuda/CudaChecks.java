package conta.tensor.cuda;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;

/**
 * Argument checks of the CUDA backend, with the CPU backend's messages: a wrong shape must fail in Java before any
 * launch, not as a CUDA error (or silently) on the device. Pure Java, so tests run without a GPU.
 */
public final class CudaChecks {
    private CudaChecks() { }

    public static void conv(Tensor x, Tensor w, ConvSpec s, Tensor y) {
        if (x.rank() != 4 || w.rank() != 4 || y.rank() != 4)
            throw new IllegalArgumentException("conv2d needs 4-d tensors, got x" + x.shapeString() + " w" + w.shapeString());
        if (w.dim(1) != x.dim(1) || w.dim(2) != s.kh() || w.dim(3) != s.kw())
            throw new IllegalArgumentException("conv2d: weight " + w.shapeString() + " does not fit input " + x.shapeString() + " and " + s);
        int oh = s.outH(x.dim(2)), ow = s.outW(x.dim(3));
        if (oh <= 0 || ow <= 0) throw new IllegalArgumentException("conv2d: input " + x.shapeString() + " too small for " + s);
        if (y.dim(0) != x.dim(0) || y.dim(1) != w.dim(0) || y.dim(2) != oh || y.dim(3) != ow)
            throw new IllegalArgumentException("conv2d: output " + y.shapeString() + ", expected [" + x.dim(0) + ", " + w.dim(0) + ", " + oh + ", " + ow + "]");
    }

    public static void pool(String op, Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        if (x.rank() != 4) throw new IllegalArgumentException(op + ": input must be 4-d, got " + x.shapeString());
        // as PyTorch: a window of padding only would have no maximum (max_pool_fwd would read before the plane)
        if (2 * s.padH() > s.dilH() * (s.kh() - 1) + 1 || 2 * s.padW() > s.dilW() * (s.kw() - 1) + 1)
            throw new IllegalArgumentException(op + ": padding " + s.padH() + "x" + s.padW() + " is more than half the window "
                    + s.kh() + "x" + s.kw() + " (dilation " + s.dilH() + "x" + s.dilW() + ")");
        int oh = s.poolOutH(x.dim(2), ceil), ow = s.poolOutW(x.dim(3), ceil);
        if (y.rank() != 4 || y.dim(0) != x.dim(0) || y.dim(1) != x.dim(1) || y.dim(2) != oh || y.dim(3) != ow)
            throw new IllegalArgumentException(op + ": output " + y.shapeString() + " for input " + x.shapeString() + ", expected ["
                    + x.dim(0) + ", " + x.dim(1) + ", " + oh + ", " + ow + "]");
    }

    public static void resize(Tensor x, Tensor y) {
        if (x.rank() != 4 || y.rank() != 4 || x.dim(0) != y.dim(0) || x.dim(1) != y.dim(1))
            throw new IllegalArgumentException("resizeBilinear: " + x.shapeString() + " -> " + y.shapeString());
    }

    /** Source step per output pixel, computed exactly as conta.tensor.BilinearTaps (the CPU resize) so both pick the same taps. */
    public static float resizeScale(int in, int out, boolean alignCorners) {
        return alignCorners ? (out > 1 ? (float) (in - 1) / (out - 1) : 0f) : (float) in / out;
    }
}
