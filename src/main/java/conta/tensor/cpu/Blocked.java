package conta.tensor.cpu;

import static org.bytedeco.dnnl.global.dnnl.*;

import conta.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.Pointer;

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
record Blocked(int n, int c, int h, int w, boolean half) {
    static final int LANES = 16;
    static final boolean ENABLED = !"false".equals(System.getProperty("conta.cpu.blocked"));

    Blocked {
        if (c % LANES != 0) throw new IllegalArgumentException("nChw16c needs channels in multiples of 16, got " + c);
    }

    /** Bytes of the storage that holds the values (that of the plain f32 tensor; bf16 values fill its first half). */
    long storageBytes() { return (long) n * c * h * w * 4; }

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

    // ------------------------------------------------------------------ the conversions (oneDNN reorders)

    private static dnnl_engine engine;
    private static dnnl_stream stream;
    /** Keyed by (layout, direction): true for blocked -> plain. */
    private static final Map<Map.Entry<Blocked, Boolean>, Reorder> REORDERS = new HashMap<>();

    private record Reorder(dnnl_primitive prim, dnnl_memory from, dnnl_memory to, dnnl_exec_arg_t args) { }

    /** Writes the values at {@code from} (this layout) into {@code to} in NCHW order. */
    void toPlain(Pointer from, Pointer to) { convert(true, from, to); }

    /** Writes the NCHW values at {@code from} into {@code to} in this layout. */
    void toBlocked(Pointer from, Pointer to) { convert(false, from, to); }

    private void convert(boolean toPlain, Pointer from, Pointer to) {
        synchronized (Blocked.class) {
            Reorder r = REORDERS.computeIfAbsent(Map.entry(this, toPlain), k -> reorder(k.getKey(), k.getValue()));
            DnnlConv.check(dnnl_memory_set_data_handle(r.from(), from), "set_data_handle");
            DnnlConv.check(dnnl_memory_set_data_handle(r.to(), to), "set_data_handle");
            DnnlConv.check(dnnl_primitive_execute(r.prim(), stream, 2, r.args()), toPlain ? "reorder to NCHW" : "reorder to nChw16c");
            DnnlConv.check(dnnl_stream_wait(stream), "dnnl_stream_wait");
        }
    }

    /** Kept for the life of the process: one per activation shape of the networks trained. */
    private static Reorder reorder(Blocked b, boolean toPlain) {
        if (engine == null) {
            dnnl_engine e = new dnnl_engine();
            DnnlConv.check(dnnl_engine_create(e, dnnl_cpu, 0), "dnnl_engine_create");
            dnnl_stream s = new dnnl_stream();
            DnnlConv.check(dnnl_stream_create(s, e, dnnl_stream_default_flags), "dnnl_stream_create");
            engine = e;
            stream = s;
        }
        long[] dims = {b.n, b.c, b.h, b.w};
        dnnl_memory_desc src = new dnnl_memory_desc(), dst = new dnnl_memory_desc();
        int type = b.half ? dnnl_bf16 : dnnl_f32;
        DnnlConv.check(dnnl_memory_desc_create_with_tag(src, 4, dims, toPlain ? type : dnnl_f32, toPlain ? dnnl_nChw16c : dnnl_nchw), "memory desc");
        DnnlConv.check(dnnl_memory_desc_create_with_tag(dst, 4, dims, toPlain ? dnnl_f32 : type, toPlain ? dnnl_nchw : dnnl_nChw16c), "memory desc");
        dnnl_memory from = new dnnl_memory(), to = new dnnl_memory();
        DnnlConv.check(dnnl_memory_create(from, src, engine, null), "dnnl_memory_create");
        DnnlConv.check(dnnl_memory_create(to, dst, engine, null), "dnnl_memory_create");
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        DnnlConv.check(dnnl_reorder_primitive_desc_create(pd, src, engine, dst, engine, null), "reorder descriptor");
        dnnl_primitive prim = new dnnl_primitive();
        try {
            DnnlConv.check(dnnl_primitive_create(prim, pd), "reorder primitive");
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_memory_desc_destroy(src);
            dnnl_memory_desc_destroy(dst);
        }
        dnnl_exec_arg_t args = new dnnl_exec_arg_t(2);
        args.getPointer(0).arg(DNNL_ARG_FROM).memory(from);
        args.getPointer(1).arg(DNNL_ARG_TO).memory(to);
        return new Reorder(prim, from, to, args);
    }
}
