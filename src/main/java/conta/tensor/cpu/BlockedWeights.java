package conta.tensor.cpu;

import static org.bytedeco.dnnl.global.dnnl.*;

import conta.tensor.Tensor;

/**
 * oneDNN's OIhw16i16o layout of an O x I x KH x KW convolution weight (O and I multiples of 16), f32: element
 * (o, i, y, x) at (((o/16) * I/16 + i/16) * KH*KW + y*KW + x) * 256 + (i % 16) * 16 + o % 16.
 *
 * <p>Why a weight may hold it: oneDNN's AVX-512 convolutions (direct and 1x1) want their weights in it for the forward
 * pass and write their weight gradients in it, so with plain OIHW parameters every training step reordered each
 * weight in and each gradient out (with a sum into the gradient), 8-9% of a ResNet-50 step (bench/RESULTS.md). So the
 * weight pass writes a fresh gradient in this layout, the SGD step (elementwise) brings the parameter and its
 * momentum to the gradient's layout once and keeps them there, and the next forward reads the parameter as it is.
 * Passes that want another weight layout (backward-data, bf16 kernels, the strided kernels) reorder from this one.
 * Every other reader sees plain values (reading the storage converts it in place, see {@link CpuStorage}).
 * {@code -Dconta.cpu.blockedWeights=false} (or {@code -Dconta.cpu.blocked=false}) keeps parameters plain.
 */
record BlockedWeights(int o, int i, int kh, int kw) implements Packing {
    static final int LANES = 16;
    static final boolean ENABLED = Blocked.ENABLED && conta.io.SystemProps.flag("conta.cpu.blockedWeights", true);

    BlockedWeights {
        if (o % LANES != 0 || i % LANES != 0)
            throw new IllegalArgumentException("OIhw16i16o needs both channel counts in multiples of 16, got " + o + " x " + i);
    }

    @Override public long[] dims() { return new long[] {o, i, kh, kw}; }

    @Override public int dataType() { return dnnl_f32; }

    @Override public int formatTag() { return dnnl_OIhw16i16o; }

    /** Whether a weight of these dimensions may be held in this layout (when enabled). */
    static boolean suits(long o, long i) { return ENABLED && o % LANES == 0 && i % LANES == 0 && o > 0 && i > 0; }

    /** Whether t may be written in this layout: rank 4, suitable channel counts, and the whole of its storage. */
    static boolean fits(Tensor t) {
        return t.rank() == 4 && suits(t.dim(0), t.dim(1)) && CpuBackend.storage(t).bytes() == t.numel() * 4;
    }

    static BlockedWeights of(Tensor t) { return new BlockedWeights(t.dim(0), t.dim(1), t.dim(2), t.dim(3)); }

    /** The layout t's storage holds for exactly t, or null. */
    static BlockedWeights in(Tensor t) {
        Packing p = CpuBackend.storage(t).packing();
        return p instanceof BlockedWeights w && t.rank() == 4 && w.o == t.dim(0) && w.i == t.dim(1) && w.kh == t.dim(2)
                && w.kw == t.dim(3) ? w : null;
    }

    static boolean holds(Tensor t) { return in(t) != null; }
}
