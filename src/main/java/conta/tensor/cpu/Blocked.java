package conta.tensor.cpu;

import static org.bytedeco.dnnl.global.dnnl.*;

import conta.tensor.Tensor;

/**
 * oneDNN's nChw16c layout of an N x C x H x W tensor (C a multiple of 16): element (n, c, h, w) at
 * ((n * C/16 + c/16) * H*W + h*W + w) * 16 + c % 16, in f32, or in bfloat16 ({@code half}; then in the first half of
 * the tensor's f32-sized storage) for bf16 training, where the convolutions read and write bf16. Or NHWC ({@code
 * nhwc}, bf16 only): element (n, c, h, w) at ((n * H + h) * W + w) * C + c, the layout oneDNN's AMX (brgemm)
 * convolutions read and write; with nChw16c held there, every convolution reordered its inputs to NHWC and its
 * outputs back, a third of a bf16 ResNet-50 step's oneDNN time on an AMX host (bench/RESULTS.md, session 27). Both are
 * 16-channel blocks at every position: block cb of image n starts at n * C*H*W + cb * {@link #blockStride()} and its
 * positions are {@link #step()} floats apart, which is all the kernels need to know ({@link BlockedKernels}).
 *
 * <p>Why a CPU tensor may hold it: in a training step oneDNN's convolutions want their activations blocked, and with
 * plain NCHW tensors every convolution pass reorders its inputs in and its outputs back, 10-15% of a ResNet-50 step
 * (bench/RESULTS.md). So a convolution leaves its output blocked (the storage is tagged, {@link CpuStorage#setBlocked}),
 * the ops between convolutions (batch norm, ReLU, the residual add, their backward passes) work on that layout and
 * keep it, and the next convolution reads it as it is. Any other op sees plain values: reading the storage converts it
 * in place first. {@code -Dconta.cpu.blocked=false} keeps every tensor plain.
 */
record Blocked(int n, int c, int h, int w, boolean half, boolean nhwc) implements Packing {
    static final int LANES = 16;
    static final boolean ENABLED = conta.io.SystemProps.flag("conta.cpu.blocked", true);
    /**
     * Whether bf16 activations are held in NHWC rather than nChw16c, by default where the CPU has AMX (oneDNN picks
     * NHWC for its AMX convolutions; on AVX512-BF16 without AMX it picks nChw16c). -Dconta.cpu.nhwc=true|false
     * overrides; f32 activations stay nChw16c (oneDNN's f32 AVX-512 kernels pick it on both kinds of host).
     */
    static final boolean NHWC_HALF = conta.io.SystemProps.flag("conta.cpu.nhwc", CpuFlags.amx());

    Blocked {
        if (c % LANES != 0) throw new IllegalArgumentException("blocked layouts need channels in multiples of 16, got " + c);
        if (nhwc && !half) throw new IllegalArgumentException("NHWC is held for bf16 activations only");
    }

    @Override public long[] dims() { return new long[] {n, c, h, w}; }

    @Override public int dataType() { return half ? dnnl_bf16 : dnnl_f32; }

    @Override public int formatTag() { return nhwc ? dnnl_nhwc : dnnl_nChw16c; }

    int blocks() { return c / LANES; }

    int hw() { return h * w; }

    /** Floats from one position of a channel block to the next: 16 in nChw16c, C in NHWC. */
    int step() { return nhwc ? c : LANES; }

    /** Floats from one channel block of an image to the next. */
    long blockStride() { return nhwc ? LANES : (long) hw() * LANES; }

    /** Offset of (image i, channel block cb, position p) in floats. */
    long at(int i, int cb, int p) { return (long) i * c * hw() + cb * blockStride() + (long) p * step(); }

    /** The same layout for another shape (a pooling's output). */
    Blocked resized(int oh, int ow) { return new Blocked(n, c, oh, ow, half, nhwc); }

    /**
     * The layout a 4-d tensor of this shape has in f32 or bf16 on t's backend (its channels must be a multiple of
     * 16): nChw16c, or NHWC for bf16 where that backend holds bf16 activations so ({@link CpuBackend#nhwcHalf()}).
     */
    static Blocked of(Tensor t, boolean half) {
        boolean nhwc = half && t.backend() instanceof CpuBackend cb && cb.nhwcHalf();
        return new Blocked(t.dim(0), t.dim(1), t.dim(2), t.dim(3), half, nhwc);
    }

    /** The blocked layout t's storage holds for exactly t (rank 4), or null. */
    static Blocked in(Tensor t) {
        Blocked b = CpuBackend.storage(t).blocked();
        return b != null && t.rank() == 4 && b.n == t.dim(0) && b.c == t.dim(1) && b.h == t.dim(2) && b.w == t.dim(3) ? b : null;
    }

    /** Whether t's whole storage holds exactly t, rank 4, in a blocked layout (nChw16c f32 or bf16, or NHWC bf16). */
    static boolean holds(Tensor t) { return in(t) != null; }

    /** Whether t holds a blocked layout in the given element type. */
    static boolean holds(Tensor t, boolean half) {
        Blocked b = in(t);
        return b != null && b.half == half;
    }

    /** Whether t may be written in a blocked layout: rank 4, channels a multiple of 16, and the whole of its storage. */
    static boolean fits(Tensor t) {
        return ENABLED && t.rank() == 4 && t.dim(1) % LANES == 0 && t.dim(1) > 0
                && CpuBackend.storage(t).bytes() == t.numel() * 4;
    }

    /**
     * Brings tensors that meet in an elementwise or per-channel op into one layout and returns it: when at least one
     * holds a blocked layout, all that are blocked hold the same element type and layout, and all may be blocked, the plain ones are
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
            else if (kind.half != b.half || kind.nhwc != b.nhwc) return null;
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
