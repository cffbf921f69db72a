package conta.tensor.cpu;

import static org.bytedeco.dnnl.global.dnnl.*;

import conta.tensor.Tensor;

/**
 * oneDNN's nChw16c layout of an N x C x H x W tensor (C a multiple of 16): element (n, c, h, w) at
 * ((n * C/16 + c/16) * H*W + h*W + w) * 16 + c % 16, in f32, or in bfloat16 ({@code half}; then in the first half of
 * the tensor's f32-sized storage) for bf16 training, where the convolutions read and write bf16.
 *
 * <p>Why a CPU tensor may hold it: in a training step oneDNN's convolutions want their activations blocked, and with
 * plain NCHW tensors every convolution pass reorders its inputs in and its outputs back, 10-15% of a ResNet-50 step
 * (bench/RESULTS.md). So a convolution leaves its output blocked (the storage is tagged, {@link CpuStorage#setBlocked}),
 * the ops between convolutions (batch norm, ReLU, the residual add, their backward passes) work on that layout and
 * keep it, and the next convolution reads it as it is. Any other op sees plain values: reading the storage converts it
 * in place first. {@code -Dconta.cpu.blocked=false} keeps every tensor plain.
 */
record Blocked(int n, int c, int h, int w, boolean half) implements Packing {
    static final int LANES = 16;
    static final boolean ENABLED = conta.io.SystemProps.flag("conta.cpu.blocked", true);

    Blocked {
        if (c % LANES != 0) throw new IllegalArgumentException("nChw16c needs channels in multiples of 16, got " + c);
    }

    @Override public long[] dims() { return new long[] {n, c, h, w}; }

    @Override public int dataType() { return half ? dnnl_bf16 : dnnl_f32; }

    @Override public int formatTag() { return dnnl_nChw16c; }

    int blocks() { return c / LANES; }

    int hw() { return h * w; }

    /** The layout a 4-d tensor of this shape would have in f32 or bf16 (its channels must be a multiple of 16). */
    static Blocked of(Tensor t, boolean half) { return new Blocked(t.dim(0), t.dim(1), t.dim(2), t.dim(3), half); }

    /** The blocked layout t's storage holds for exactly t (rank 4), or null. */
    static Blocked in(Tensor t) {
        Blocked b = CpuBackend.storage(t).blocked();
        return b != null && t.rank() == 4 && b.n == t.dim(0) && b.c == t.dim(1) && b.h == t.dim(2) && b.w == t.dim(3) ? b : null;
    }

    /** Whether t's whole storage holds exactly t, rank 4, in nChw16c (f32 or bf16). */
    static boolean holds(Tensor t) { return in(t) != null; }

    /** Whether t holds nChw16c in the given element type. */
    static boolean holds(Tensor t, boolean half) {
        Blocked b = in(t);
        return b != null && b.half == half;
    }

    /** Whether t may be written in nChw16c: rank 4, channels a multiple of 16, and the whole of its storage. */
    static boolean fits(Tensor t) {
        return ENABLED && t.rank() == 4 && t.dim(1) % LANES == 0 && t.dim(1) > 0
                && CpuBackend.storage(t).bytes() == t.numel() * 4;
    }

    /**
     * Brings tensors that meet in an elementwise or per-channel op into one layout and returns it: when at least one
     * holds nChw16c, all that are blocked hold the same element type, and all may be blocked, the plain ones are
     * converted to it: exactly to f32; rounded to bf16 where they meet bf16 tensors, which exist only in bf16
     * training, where activations and their gradients are bf16 as in other frameworks' bf16 autocast (a gradient
     * that arrives plain, e.g. from the pooling at the top, would otherwise force every bf16 tensor it meets back to
     * plain f32). Otherwise null: the op reads them all plain (the blocked ones convert, exactly, as they are read).
     * Null entries are skipped.
     */
    static Blocked unify(Tensor... ts) {
        Blocked kind = null;
        Tensor first = firstNonNull(ts);
        for (Tensor t : ts) {
            if (t == null) continue;
            if (!fits(t) || !t.sameShape(first)) return null;
            Blocked b = in(t);
            if (b == null) continue;
            if (kind == null) kind = b;
            else if (kind.half != b.half) return null;
        }
        if (kind == null) return null;
        for (Tensor t : ts) if (t != null && !holds(t)) CpuBackend.storage(t).toBlocked(kind);
        return kind;
    }

    private static Tensor firstNonNull(Tensor[] ts) {
        for (Tensor t : ts) if (t != null) return t;
        throw new AssertionError();
    }
}
