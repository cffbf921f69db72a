package conta.tensor.cpu;

import static conta.tensor.cpu.DnnlConv.check;
import static org.bytedeco.dnnl.global.dnnl.*;

import conta.tensor.ConvSpec;
import conta.tensor.LayerGraph;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * {@link LayerGraph} on oneDNN primitives (CPU). Activations stay in the layouts oneDNN picks (format {@code any} for
 * the first op that makes them, then passed on as they are: a primitive that cannot read a layout gets a reorder in
 * front, counted in {@link #describe}); weights are reordered once at build into the layout their primitive chose.
 * Residual adds are the convolution's {@code sum} post-op written in place into the shortcut's buffer, ReLU an
 * {@code eltwise} post-op. 3x3 stride-1 convolutions without a residual sum run conta's Winograd kernel instead
 * of a primitive where {@link Winograd#suits} and, for fp32, {@link Winograd#available()}, for bf16
 * {@link Winograd#bf16Chosen()} (AVX512-BF16 without AMX) (NHWC in and out, so the chain of layouts is unchanged).
 *
 * <p>{@link #compile} assigns every activation a buffer by liveness (a buffer is reused once its last reader ran), all
 * allocated once, and one scratchpad shared by all primitives; {@link #run} copies the input in, executes the
 * primitives in order and copies the output out: no allocation per call.
 *
 * <p>bf16: activations and weights in bfloat16 (oneDNN accumulates in f32), biases f32; the input is converted by a
 * reorder in front of the first convolution and the output back to f32 by the final reorder.
 *
 * <p>Threads: oneDNN's OpenMP pool (OMP_NUM_THREADS). A graph owns one set of buffers: use one per thread (run is
 * synchronized, so a shared one is safe but serialises callers).
 */
public final class DnnlGraph implements LayerGraph {
    private final boolean bf16;
    /** bf16 3x3 layers on the bf16 Winograd kernel where it suits them. */
    private final boolean bf16Winograd;
    private final int dt;
    private dnnl_engine engine;
    private dnnl_stream stream;
    /** The C call loop's op table and status (PlanLoop), or null: the Java loop in execute() runs the ops. */
    private org.bytedeco.javacpp.LongPointer loopTable;
    private org.bytedeco.javacpp.IntPointer loopStatus;
    /**
     * 1; 0 while {@link #dryRun} is on: a multiplier of the images copied in, the ops run and the floats copied out,
     * not a branch, so that the JIT sees the same code and the same branches as in a real call.
     */
    private int work = 1;
    /** Native objects destroyed in reverse order by close(). */
    private final List<Runnable> destroy = new ArrayList<>();
    private final List<Val> values = new ArrayList<>();
    private final List<Op> ops = new ArrayList<>();
    private final List<Pointer> mallocs = new ArrayList<>();
    /**
     * Weights and biases, once per content and layout (see {@link DnnlConstants}): this graph's own store, or one
     * shared with the other graphs of the same network (a plan cache's shapes and concurrent callers).
     */
    private final DnnlConstants store;
    private final boolean ownStore;
    private boolean storeReleased;
    /** The store's constants this graph reads (each once), for {@link #constantBytes()}. */
    private final java.util.Set<DnnlConstants.Entry> used = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    /** In the order they were added: run's arrays follow it. */
    private final List<Val> inputs = new ArrayList<>(), outputs = new ArrayList<>();
    /** Small-map convolutions on the one-GEMM kernel (see the constructor). */
    private final boolean gemmConv;
    private FloatPointer[] inputBufs, outputBufs;
    /** The inputs' buffers as segments, and which of them the caller's NCHW arrays are converted into as NHWC. */
    private MemorySegment[] inputSegs;
    private boolean[] inputNhwc;
    private int copyThreads;
    private boolean compiled;
    private int reordersAdded;

    /** bf16: compute in bfloat16 (f32 accumulation). The graph's constants are its own. */
    public DnnlGraph(boolean bf16) { this(bf16, null); }

    /**
     * bf16: compute in bfloat16 (f32 accumulation). constants: a store shared with other graphs of the same weights
     * (held until close(); the caller closes the store when it makes no more graphs), or null for the graph's own.
     */
    public DnnlGraph(boolean bf16, DnnlConstants constants) { this(bf16, constants, Winograd.bf16Chosen(), GemmConv.chosen()); }

    /**
     * bf16Winograd: bf16 3x3 layers on the bf16 Winograd kernel where it suits them (needs {@link
     * Winograd#bf16Available()}); by default where plans choose it ({@link Winograd#bf16Chosen()}), and forced on by
     * its tests, which then run on AMX hosts too.
     */
    DnnlGraph(boolean bf16, DnnlConstants constants, boolean bf16Winograd) { this(bf16, constants, bf16Winograd, GemmConv.chosen()); }

    /**
     * gemmConv: float32 convolutions with small output maps on the one-GEMM kernel (needs {@link GemmConv#available()});
     * by default where plans choose it ({@link GemmConv#chosen()}), and forced on by its tests, which then run on every
     * host with AVX-512.
     */
    DnnlGraph(boolean bf16, DnnlConstants constants, boolean bf16Winograd, boolean gemmConv) {
        if (bf16Winograd && !Winograd.bf16Available())
            throw new IllegalStateException("bf16 Winograd kernel: " + Winograd.bf16UnavailableReason());
        if (gemmConv && !GemmConv.available()) throw new IllegalStateException("one-GEMM kernel: " + GemmConv.unavailableReason());
        this.gemmConv = gemmConv;
        this.bf16Winograd = bf16 && bf16Winograd;
        String why = DnnlLibrary.unavailableReason();
        if (why != null) throw new IllegalStateException("oneDNN not available: " + why);
        this.bf16 = bf16;
        this.dt = bf16 ? dnnl_bf16 : dnnl_f32;
        this.ownStore = constants == null;
        this.store = ownStore ? new DnnlConstants() : constants;
        store.acquire(); // first: a closed store refuses the graph before anything native is made
        try {
            engine = new dnnl_engine();
            check(dnnl_engine_create(engine, dnnl_cpu, 0), "dnnl_engine_create");
            stream = new dnnl_stream();
            check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "dnnl_stream_create");
        } catch (RuntimeException | Error e) {
            close(); // destroys what was made and gives the store back
            throw e;
        }
    }

    /** Whether oneDNN loads here (the graph cannot be built otherwise). */
    public static boolean available() { return DnnlLibrary.unavailableReason() == null; }

    // ------------------------------------------------------------------ values and ops

    private final class Val implements Value {
        final int[] shape;
        final dnnl_memory_desc md;
        final long bytes;
        /** The value whose buffer this one takes over (in-place sum), or null. */
        final Val aliasOf;
        final int producer;
        int lastUse = -1;
        Buffer buf;
        dnnl_memory mem;
        /** Copies of this value in other layouts or types, made for convolutions that read it (see converted). */
        final List<Val> conversions = new ArrayList<>();

        Val(int[] shape, dnnl_memory_desc md, Val aliasOf) {
            this.shape = shape;
            this.md = md;
            this.bytes = dnnl_memory_desc_get_size(md);
            this.aliasOf = aliasOf;
            this.producer = ops.size();
            values.add(this);
        }

        @Override public int[] shape() { return shape.clone(); }
    }

    /** An argument bound to a graph value, or to a fixed memory owned by the op (weights, bias). */
    private record Arg(int which, Val v, dnnl_memory fixed) { }

    private final class Op {
        final String kind;
        final dnnl_primitive prim;
        final List<Arg> args = new ArrayList<>();
        /** Values read without being an argument of their own (the summed shortcut: it is the output's buffer). */
        final List<Val> reads = new ArrayList<>();
        final String impl;
        dnnl_memory_desc scratchMd;
        long scratchBytes;
        dnnl_exec_arg_t exec;
        int nargs;

        /** Set for a convolution run by conta's own kernel instead of a oneDNN primitive (prim is null then). */
        final NativeConv kernel;

        /** An op run by conta's own kernel (no oneDNN primitive). */
        Op(String kind, NativeConv kernel, String impl) {
            this.kind = kind;
            this.kernel = kernel;
            this.prim = null;
            this.impl = impl;
        }

        Op(String kind, dnnl_primitive_desc pd) {
            this.kind = kind;
            this.kernel = null;
            dnnl_memory_desc s = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
            scratchBytes = s == null || s.isNull() ? 0 : dnnl_memory_desc_get_size(s);
            if (scratchBytes > 0) scratchMd = cloneMd(s);
            impl = implName(pd);
            dnnl_primitive p = new dnnl_primitive();
            check(dnnl_primitive_create(p, pd), "dnnl_primitive_create " + kind);
            destroy.add(() -> dnnl_primitive_destroy(p));
            prim = p;
        }

        Op in(int which, Val v) { args.add(new Arg(which, v, null)); return this; }

        Op fixed(int which, dnnl_memory m) { args.add(new Arg(which, null, m)); return this; }

        /** Registers the op; its output argument is the last value argument added with out(). */
        Val out(int which, Val v) {
            args.add(new Arg(which, v, null));
            ops.add(this);
            for (Arg a : args) if (a.v != null && a.v != v) a.v.lastUse = ops.size() - 1;
            for (Val r : reads) r.lastUse = ops.size() - 1;
            return v;
        }
    }

    // ------------------------------------------------------------------ building

    @Override
    public Value input(int n, int c, int h, int w) {
        if (compiled) throw new IllegalStateException("inputs added after compile()");
        int[] shape = {n, c, h, w};
        // NHWC float32 plans take their inputs in NHWC, converted while copied in (Layout), not by a reorder op after the
        // copy; a bf16 plan's one reorder converts the layout and the type together
        Val in = new Val(shape, NHWC && !bf16 && Layout.available() ? md(dnnl_f32, dnnl_acdb, shape) : plainMd(dnnl_f32, shape), null);
        inputs.add(in);
        return in;
    }

    /** The data type a convolution computes in: the plan's, except where bf16 would not pay (DnnlConv.f32Faster). */
    private int convType(int cin, ConvSpec s) { return bf16 && DnnlConv.f32Faster(cin, s) ? dnnl_f32 : this.dt; }

    @Override
    public Value conv(Value srcV, float[] w, int[] wShape, float[] bias, ConvSpec s, Value addIntoV, boolean relu) {
        Val src = val(srcV), addInto = addIntoV == null ? null : val(addIntoV);
        int n = src.shape[0], cin = src.shape[1], h = src.shape[2], wd = src.shape[3], cout = wShape[0];
        if (wShape[1] != cin || wShape[2] != s.kh() || wShape[3] != s.kw())
            throw new IllegalArgumentException("conv: weight " + Arrays.toString(wShape) + " for input " + Arrays.toString(src.shape) + " and " + s);
        if (CentreTap.applies(s, h, wd)) { // only the centre tap reads data: the same sums as a 1x1 convolution
            w = CentreTap.centre(w, wShape);
            wShape = new int[]{cout, cin, 1, 1};
            s = CentreTap.ONE;
        }
        int[] outShape = {n, cout, s.outH(h), s.outW(wd)};
        if (addInto != null && !Arrays.equals(addInto.shape, outShape))
            throw new IllegalArgumentException("conv: residual " + Arrays.toString(addInto.shape) + " for output " + Arrays.toString(outShape));
        // relu?(conv(x) + x): a sum written over x while the convolution still reads it gave wrong values (oneDNN's 1x1
        // at 7x7, 64 channels; GemmConvTest); and a graph output read as it is (see output()) must keep its values: the
        // convolution into a buffer of its own, then the add
        if (addInto == src || addInto != null && outputs.contains(addInto))
            return addAfter(addInto, val(conv(srcV, w, wShape, bias, s, null, false)), relu, outShape);
        if (NHWC && !bf16 && n == 1 && isNhwc(src) && (addInto == null || isNhwc(addInto)) && gemmConv
                && GemmConv.suits(cout, outShape[2], outShape[3], s.strideH(), s.strideW(), s.padH(), s.padW(), s.dilH(), s.dilW()))
            return gemmConv(src, w, wShape, bias, s, addInto, relu, outShape);
        if (NHWC && addInto == null && n == 1 && isNhwc(src)
                && Winograd.suits(cin, cout, s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(), s.dilH(), s.dilW())
                && (bf16 ? bf16Winograd && cin % 2 == 0 : Winograd.available()))
            return winograd(src, w, bias, s, cout, relu, outShape);
        int dt = convType(cin, s);
        dnnl_memory_desc wAny = anyMd(dt, wShape), biasMd = bias == null ? null : plainMd(dnnl_f32, new int[]{cout});
        dnnl_memory_desc dst = addInto != null ? addInto.md : NHWC ? md(dt, dnnl_acdb, outShape) : anyMd(dt, outShape);
        dnnl_primitive_attr attr = attr(addInto != null, relu);
        long[] strides = {s.strideH(), s.strideW()}, dil = {s.dilH() - 1, s.dilW() - 1}, pad = {s.padH(), s.padW()};
        // the value's own layout first; a reorder in front only if no implementation reads it
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        int st = dataType(src.md) == dt ? dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference,
                dnnl_convolution_direct, src.md, wAny, biasMd, dst, strides, dil, pad, pad, attr) : dnnl_unimplemented;
        if (st != dnnl_success) {
            check(dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_convolution_direct,
                    anyMd(dt, src.shape), wAny, biasMd, dst, strides, dil, pad, pad, attr), "convolution descriptor " + Arrays.toString(wShape) + " " + s);
            src = converted(src, queryMd(pd, DNNL_ARG_SRC));
        }
        destroy.add(() -> dnnl_primitive_desc_destroy(pd));
        if (implName(pd).startsWith("ref")) {
            // only oneDNN's reference kernel takes these layouts (seen: DeepLab's rate-24 ASPP conv on the 21x21 map
            // of the 0.5 scale, 38% of a call, now a 1x1 by CentreTap; large dilations that still read data can land
            // here): let oneDNN choose all layouts, without the sum post-op, and add after
            dnnl_primitive_desc free = new dnnl_primitive_desc();
            if (dnnl_convolution_forward_primitive_desc_create(free, engine, dnnl_forward_inference, dnnl_convolution_direct,
                    anyMd(dt, src.shape), wAny, biasMd, anyMd(dt, outShape), strides, dil, pad, pad,
                    attr(false, relu && addInto == null)) == dnnl_success) {
                destroy.add(() -> dnnl_primitive_desc_destroy(free));
                if (!implName(free).startsWith("ref")) {
                    Val in = dnnl_memory_desc_equal(src.md, queryMd(free, DNNL_ARG_SRC)) != 0 ? src : converted(src, queryMd(free, DNNL_ARG_SRC));
                    Op op = new Op("conv " + wShape[0] + "x" + wShape[1] + "x" + wShape[2] + "x" + wShape[3] + " s" + s.strideH() + " d" + s.dilH(), free);
                    op.in(DNNL_ARG_SRC, in).fixed(DNNL_ARG_WEIGHTS, constant(w, plainMd(dnnl_f32, wShape), queryMd(free, DNNL_ARG_WEIGHTS)));
                    if (bias != null) op.fixed(DNNL_ARG_BIAS, constant(bias, biasMd, biasMd));
                    Val c = op.out(DNNL_ARG_DST, new Val(outShape, queryMd(free, DNNL_ARG_DST), null));
                    return addInto == null ? c : addAfter(addInto, c, relu, outShape);
                }
            }
        }
        Op op = new Op("conv " + wShape[0] + "x" + wShape[1] + "x" + wShape[2] + "x" + wShape[3] + " s" + s.strideH() + " d" + s.dilH()
                + (addInto != null ? " +sum" : "") + (relu ? " +relu" : ""), pd);
        op.in(DNNL_ARG_SRC, src).fixed(DNNL_ARG_WEIGHTS, constant(w, plainMd(dnnl_f32, wShape), queryMd(pd, DNNL_ARG_WEIGHTS)));
        if (bias != null) op.fixed(DNNL_ARG_BIAS, constant(bias, biasMd, biasMd));
        Val out = new Val(outShape, addInto != null ? addInto.md : queryMd(pd, DNNL_ARG_DST), addInto);
        if (addInto != null) op.reads.add(addInto); // read by the sum post-op: the output is written over it
        return op.out(DNNL_ARG_DST, out);
    }

    /**
     * A 3x3 stride-1 convolution by the Winograd kernel (see {@link Winograd#suits}): NHWC float32 in and out, its
     * transformed weights and bias made once here; ReLU fused, no residual sum (the caller checked).
     */
    private Val winograd(Val src, float[] w, float[] bias, ConvSpec s, int cout, boolean relu, int[] outShape) {
        int cin = src.shape[1];
        Pointer u = bf16
                ? shared(w, -2 - cin, Winograd.bf16WeightsHalfs(cin, cout) * 2, p -> { // tag: bf16 U apart from the float one
                    try (FloatPointer plain = new FloatPointer(w); FloatPointer tmp = new FloatPointer(Winograd.bf16WeightsHalfs(cin, cout))) {
                        Winograd.bf16TransformWeights(MemorySegment.ofAddress(plain.address()), cin, cout,
                                MemorySegment.ofAddress(tmp.address()), segment(p));
                    }
                })
                : shared(w, cin, Winograd.weightsFloats(cin, cout) * Float.BYTES, p -> {
                    try (FloatPointer plain = new FloatPointer(w)) {
                        Winograd.transformWeights(MemorySegment.ofAddress(plain.address()), cin, cout, segment(p));
                    }
                });
        MemorySegment b = bias == null ? MemorySegment.NULL
                : segment(shared(bias, -1, (long) cout * Float.BYTES, p -> floats(p, cout).put(bias, 0, cout)));
        WinogradConv wc = new WinogradConv(src.shape[2], src.shape[3], s.dilH(), cin, cout, segment(u), b, relu, bf16);
        int m = bf16 ? 2 : Winograd.tile(cin, cout);
        Op op = new Op("conv " + cout + "x" + cin + "x3x3 s1 d" + s.dilH() + " winograd" + (relu ? " +relu" : ""), wc,
                "conta:winograd_f" + m + "x" + m + (bf16 ? ":avx512_bf16" : ":avx512"));
        op.in(DNNL_ARG_SRC, src);
        return op.out(DNNL_ARG_DST, new Val(outShape, md(dt, dnnl_acdb, outShape), null));
    }

    /** relu?(addInto + c) as a oneDNN binary add into a new value in addInto's layout (a sum not fused into c's convolution). */
    private Val addAfter(Val addInto, Val c, boolean relu, int[] outShape) {
        dnnl_primitive_desc bpd = new dnnl_primitive_desc();
        check(dnnl_binary_primitive_desc_create(bpd, engine, dnnl_binary_add, addInto.md, c.md, addInto.md, attr(false, relu)),
                "binary add descriptor");
        destroy.add(() -> dnnl_primitive_desc_destroy(bpd));
        return new Op("add" + (relu ? " +relu" : ""), bpd).in(DNNL_ARG_SRC_0, addInto).in(DNNL_ARG_SRC_1, c)
                .out(DNNL_ARG_DST, new Val(outShape, queryMd(bpd, DNNL_ARG_DST), null));
    }

    /**
     * A convolution with a small output map by the one-GEMM kernel (see {@link GemmConv#suits}): NHWC float32 in and
     * out, its packed weights and bias made once here; ReLU and the residual sum (written over the shortcut, as
     * oneDNN's sum post-op does) fused.
     */
    private Val gemmConv(Val src, float[] w, int[] wShape, float[] bias, ConvSpec s, Val addInto, boolean relu, int[] outShape) {
        int cin = src.shape[1], cout = wShape[0], kh = wShape[2], kw = wShape[3];
        Pointer packed = shared(w, PACKED_GEMM, GemmConv.weightsFloats(cin, cout, kh, kw) * Float.BYTES, p -> {
            try (FloatPointer plain = new FloatPointer(w)) {
                GemmConv.pack(MemorySegment.ofAddress(plain.address()), cin, cout, kh, kw, segment(p));
            }
        });
        MemorySegment b = bias == null ? MemorySegment.NULL
                : segment(shared(bias, -1, (long) cout * Float.BYTES, p -> floats(p, cout).put(bias, 0, cout)));
        SmallMapConv c = new SmallMapConv(src.shape[2], src.shape[3], cin, cout, kh, kw, s.strideH(), s.padH(), s.dilH(), segment(packed), b,
                addInto != null, relu);
        Op op = new Op("conv " + cout + "x" + cin + "x" + kh + "x" + kw + " s" + s.strideH() + " d" + s.dilH() + " gemm"
                + (addInto != null ? " +sum" : "") + (relu ? " +relu" : ""), c, "conta:gemmconv:avx512");
        op.in(DNNL_ARG_SRC, src);
        if (addInto != null) op.reads.add(addInto); // the output is written over it
        return op.out(DNNL_ARG_DST, new Val(outShape, addInto != null ? addInto.md : md(dt, dnnl_acdb, outShape), addInto));
    }

    /** The constants tag of the one-GEMM kernel's packed weights (apart from a primitive's and Winograd's). */
    private static final int PACKED_GEMM = Integer.MIN_VALUE;

    /**
     * Native memory made from values, once per content (tag: how; cin for the float kernel's transformed weights,
     * -2 - cin for the bf16 kernel's, -1 for a bias).
     */
    private Pointer shared(float[] values, int tag, long bytes, java.util.function.Consumer<Pointer> fill) {
        DnnlConstants.Entry e = store.get(DnnlConstants.Key.of(values, tag), null, bytes, fill);
        used.add(e);
        return e.data;
    }

    /** A convolution run by conta's own kernel (libconta_cpu.so): its constants, and its buffers once compile() placed them. */
    private interface NativeConv {
        /** Scratch floats one call on `threads` threads needs (one workspace serves every such op of the plan). */
        long workspaceFloats(int threads);

        /** The input, the output (for a residual sum: the shortcut's buffer, written over), the workspace. */
        void bind(MemorySegment x, MemorySegment y, MemorySegment ws, int threads);

        void run();

        /** Writes this op, as bound, into row i of the C loop's table (PlanLoop). */
        void encode(org.bytedeco.javacpp.LongPointer table, int i);
    }

    /** One Winograd convolution's constants, and its buffers once compile() placed them. */
    private static final class WinogradConv implements NativeConv {
        final int h, w, dil, cin, cout;
        final MemorySegment u, bias;
        final boolean relu;
        /** x and y bfloat16, the bf16 kernel (F(2x2), U in bf16 pairs) */
        final boolean bf16;
        MemorySegment x, y, ws;
        int threads;

        WinogradConv(int h, int w, int dil, int cin, int cout, MemorySegment u, MemorySegment bias, boolean relu, boolean bf16) {
            this.h = h; this.w = w; this.dil = dil; this.cin = cin; this.cout = cout; this.u = u; this.bias = bias; this.relu = relu;
            this.bf16 = bf16;
        }

        @Override
        public long workspaceFloats(int threads) {
            return bf16 ? Winograd.bf16WorkspaceFloats(h, w, dil, cin, cout, threads) : Winograd.workspaceFloats(h, w, dil, cin, cout, threads);
        }

        @Override
        public void bind(MemorySegment x, MemorySegment y, MemorySegment ws, int threads) {
            this.x = x; this.y = y; this.ws = ws; this.threads = threads;
        }

        @Override
        public void run() {
            if (bf16) Winograd.bf16Conv(x, h, w, dil, cin, cout, u, bias, relu, y, ws, threads);
            else Winograd.conv(x, h, w, dil, cin, cout, u, bias, relu, y, ws, threads);
        }

        @Override
        public void encode(org.bytedeco.javacpp.LongPointer table, int i) { // plan.c: x, y, ws, U, bias, h, w, d, cin, cout, relu, threads
            PlanLoop.put(table, i, bf16 ? PlanLoop.WINO_BF16 : PlanLoop.WINO, x.address(), y.address(), ws.address(), u.address(), bias.address(),
                    h, w, dil, cin, cout, relu ? 1 : 0, threads);
        }
    }

    /** One convolution by the one-GEMM kernel: its packed weights and bias, and its buffers once compile() placed them. */
    private static final class SmallMapConv implements NativeConv {
        final int h, w, cin, cout, kh, kw, stride, pad, dil;
        final MemorySegment packed, bias;
        final boolean sum, relu;
        MemorySegment x, y, ws;
        int threads;
        /** The op run right after this one, when it is on this kernel too (its first panels prefetched), else null. */
        SmallMapConv next;

        SmallMapConv(int h, int w, int cin, int cout, int kh, int kw, int stride, int pad, int dil, MemorySegment packed, MemorySegment bias,
                     boolean sum, boolean relu) {
            this.h = h; this.w = w; this.cin = cin; this.cout = cout; this.kh = kh; this.kw = kw;
            this.stride = stride; this.pad = pad; this.dil = dil;
            this.packed = packed; this.bias = bias; this.sum = sum; this.relu = relu;
        }

        @Override
        public long workspaceFloats(int threads) { return GemmConv.workspaceFloats(h, w, cin, kh, kw, stride, pad, dil); }

        @Override
        public void bind(MemorySegment x, MemorySegment y, MemorySegment ws, int threads) {
            this.x = x; this.y = y; this.ws = ws; this.threads = threads;
        }

        @Override
        public void run() {
            GemmConv.conv(x, h, w, cin, cout, kh, kw, stride, pad, dil, packed, bias, sum, relu, y, ws,
                    next == null ? MemorySegment.NULL : next.packed, next == null ? 0 : next.kh * next.kw * next.cin, next == null ? 0 : next.cout,
                    threads);
        }

        @Override
        public void encode(org.bytedeco.javacpp.LongPointer table, int i) {
            // plan.c: x, y, ws, packed, bias, next_wp, h, w, cin, cout, kh, kw, stride, pad, dil, sum, relu, next_k, next_cout, threads
            PlanLoop.put(table, i, PlanLoop.GEMM, x.address(), y.address(), ws.address(), packed.address(), bias.address(),
                    next == null ? 0 : next.packed.address(), h, w, cin, cout, kh, kw, stride, pad, dil, sum ? 1 : 0, relu ? 1 : 0,
                    next == null ? 0 : next.kh * next.kw * next.cin, next == null ? 0 : next.cout, threads);
        }
    }

    /** Whether a value is dense NHWC in the plan's type (what the Winograd kernels read: float32, or bf16 in a bf16 plan). */
    private boolean isNhwc(Val v) {
        return v.shape.length == 4 && dnnl_memory_desc_equal(v.md, md(dt, dnnl_acdb, v.shape)) != 0;
    }

    /** The address an aligned() pointer starts at (its position counted in). */
    private static MemorySegment segment(Pointer p) { return MemorySegment.ofAddress(p.address() + p.position()); }

    @Override
    public Value maxPool(Value srcV, ConvSpec s, boolean ceil) {
        Val src = val(srcV);
        int h = src.shape[2], w = src.shape[3], oh = s.poolOutH(h, ceil), ow = s.poolOutW(w, ceil);
        int[] outShape = {src.shape[0], src.shape[1], oh, ow};
        // oneDNN has no ceil mode: a right padding that yields PyTorch's output size (max pooling ignores padding)
        long[] padL = {s.padH(), s.padW()};
        long[] padR = {(long) (oh - 1) * s.strideH() + (long) s.dilH() * (s.kh() - 1) + 1 - h - s.padH(),
                       (long) (ow - 1) * s.strideW() + (long) s.dilW() * (s.kw() - 1) + 1 - w - s.padW()};
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_pooling_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_pooling_max, src.md,
                anyMd(dataType(src.md), outShape), new long[]{s.strideH(), s.strideW()}, new long[]{s.kh(), s.kw()},
                new long[]{s.dilH() - 1, s.dilW() - 1}, padL, padR, attr(false, false)), "max pooling descriptor");
        destroy.add(() -> dnnl_primitive_desc_destroy(pd));
        return new Op("maxpool " + s.kh() + "x" + s.kw() + " s" + s.strideH(), pd).in(DNNL_ARG_SRC, src)
                .out(DNNL_ARG_DST, new Val(outShape, queryMd(pd, DNNL_ARG_DST), null));
    }

    @Override
    public Value globalAvgPool(Value srcV) {
        Val src = val(srcV);
        int h = src.shape[2], w = src.shape[3];
        int[] outShape = {src.shape[0], src.shape[1], 1, 1};
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_pooling_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_pooling_avg_exclude_padding, src.md,
                anyMd(dataType(src.md), outShape), new long[]{1, 1}, new long[]{h, w}, new long[]{0, 0}, new long[]{0, 0},
                new long[]{0, 0}, attr(false, false)), "average pooling descriptor");
        destroy.add(() -> dnnl_primitive_desc_destroy(pd));
        return new Op("global avgpool " + h + "x" + w, pd).in(DNNL_ARG_SRC, src)
                .out(DNNL_ARG_DST, new Val(outShape, queryMd(pd, DNNL_ARG_DST), null));
    }

    @Override
    public Value linear(Value srcV, float[] w, int out, float[] bias) {
        Val src = val(srcV);
        int n = src.shape[0], c = src.shape[1];
        int[] wShape = src.shape.length == 4 ? new int[]{out, c, src.shape[2], src.shape[3]} : new int[]{out, c};
        if ((long) out * c * (src.shape.length == 4 ? src.shape[2] * src.shape[3] : 1) != w.length)
            throw new IllegalArgumentException("linear: " + w.length + " weights for " + Arrays.toString(src.shape) + " -> " + out);
        int[] outShape = {n, out};
        dnnl_memory_desc biasMd = bias == null ? null : plainMd(dnnl_f32, new int[]{out});
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_inner_product_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, src.md, anyMd(dt, wShape), biasMd,
                anyMd(dnnl_f32, outShape), attr(false, false)), "inner product descriptor");
        destroy.add(() -> dnnl_primitive_desc_destroy(pd));
        Op op = new Op("linear " + c + "->" + out, pd).in(DNNL_ARG_SRC, src)
                .fixed(DNNL_ARG_WEIGHTS, constant(w, plainMd(dnnl_f32, wShape), queryMd(pd, DNNL_ARG_WEIGHTS)));
        if (bias != null) op.fixed(DNNL_ARG_BIAS, constant(bias, biasMd, biasMd));
        return op.out(DNNL_ARG_DST, new Val(outShape, queryMd(pd, DNNL_ARG_DST), null));
    }

    @Override
    public Value resizeBilinear(Value srcV, int h, int w) {
        Val src = val(srcV);
        int[] outShape = {src.shape[0], src.shape[1], h, w};
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        // factors from the sizes (null): source coordinate (o + 0.5) * in / out - 0.5, as align_corners = False
        check(dnnl_resampling_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_resampling_linear, (FloatPointer) null,
                src.md, anyMd(dataType(src.md), outShape), attr(false, false)), "resampling descriptor");
        destroy.add(() -> dnnl_primitive_desc_destroy(pd));
        return new Op("resize " + src.shape[2] + "x" + src.shape[3] + "->" + h + "x" + w, pd).in(DNNL_ARG_SRC, src)
                .out(DNNL_ARG_DST, new Val(outShape, queryMd(pd, DNNL_ARG_DST), null));
    }

    @Override
    public Value max(Value aV, Value bV) {
        Val a = val(aV), b = val(bV);
        if (!Arrays.equals(a.shape, b.shape)) throw new IllegalArgumentException("max: " + Arrays.toString(a.shape) + " vs " + Arrays.toString(b.shape));
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_binary_primitive_desc_create(pd, engine, dnnl_binary_max, a.md, b.md, anyMd(dataType(a.md), a.shape), attr(false, false)),
                "binary max descriptor");
        destroy.add(() -> dnnl_primitive_desc_destroy(pd));
        return new Op("max", pd).in(DNNL_ARG_SRC_0, a).in(DNNL_ARG_SRC_1, b)
                .out(DNNL_ARG_DST, new Val(a.shape, queryMd(pd, DNNL_ARG_DST), null));
    }

    @Override
    public void output(Value v) {
        Val src = val(v);
        if (outputs.contains(src)) throw new IllegalArgumentException("value already an output");
        dnnl_memory_desc plain = plainMd(dnnl_f32, src.shape);
        // already NCHW float32 (a classifier's logits): read as it is; compile() gives it a buffer of its own. Not an
        // input (its buffer is the caller's copy) nor an in-place sum (its buffer is the summed value's)
        if (dnnl_memory_desc_equal(src.md, plain) != 0 && !inputs.contains(src) && src.aliasOf == null) {
            outputs.add(src);
            return;
        }
        outputs.add(reorderTo(src, plain));
        if (!inputs.contains(src)) reordersAdded--; // the output's own conversion is not a layout change inside the network
    }

    /**
     * src in layout md for a convolution to read: one copy per layout, shared by every convolution that reads src so
     * (DeepLab's four ASPP branches read one map, converted to f32 once, see DnnlConv.f32Faster). Values are written once
     * (an in-place sum makes a new value), so a copy never goes stale.
     */
    private Val converted(Val src, dnnl_memory_desc md) {
        for (Val c : src.conversions) if (dnnl_memory_desc_equal(c.md, md) != 0) return c;
        Val c = reorderTo(src, md);
        src.conversions.add(c);
        return c;
    }

    /** A reorder of src into layout md (a new value), counted. */
    private Val reorderTo(Val src, dnnl_memory_desc md) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_reorder_primitive_desc_create(pd, src.md, engine, md, engine, null), "reorder descriptor");
        destroy.add(() -> dnnl_primitive_desc_destroy(pd));
        if (!inputs.contains(src)) reordersAdded++; // an input's conversion into the network's layout is not inside the network
        return new Op("reorder", pd).in(DNNL_ARG_FROM, src).out(DNNL_ARG_TO, new Val(src.shape, md, null));
    }

    // ------------------------------------------------------------------ compile and run

    /** A span of native memory that values share over time (sizes decided before any allocation). */
    private static final class Buffer {
        long bytes;
        int users;
        Pointer ptr;
    }

    @Override
    public void compile() {
        if (compiled) throw new IllegalStateException("compiled twice");
        if (inputs.isEmpty() || outputs.isEmpty()) throw new IllegalStateException("a graph needs an input and an output");
        compiled = true;
        // liveness: a buffer returns to the free list after its value's last reader; an in-place sum hands the
        // buffer to the op's output, so the summed value must have no reader after that op
        List<Buffer> all = new ArrayList<>(), free = new ArrayList<>();
        for (Val in : inputs) {
            in.buf = newBuffer(all, in.bytes);
            in.buf.users = Integer.MAX_VALUE / 2; // pinned: run() writes it
        }
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            Val out = op.args.getLast().v;
            if (out.aliasOf != null) {
                if (out.aliasOf.lastUse != i)
                    throw new IllegalStateException("in-place sum into a value read again later (op " + i + ", last read " + out.aliasOf.lastUse + ")");
                out.buf = out.aliasOf.buf;
                out.buf.users++;
            } else if (outputs.contains(out)) { // pinned: run() reads it
                out.buf = newBuffer(all, out.bytes);
                out.buf.users = Integer.MAX_VALUE / 2;
            } else {
                out.buf = take(free, all, out.bytes);
                out.buf.users = 1;
            }
            for (Arg a : op.args)
                if (a.v != null && a.v != out && a.v.lastUse == i && --a.v.buf.users == 0) free.add(a.v.buf);
            for (Val r : op.reads)
                if (r.lastUse == i && --r.buf.users == 0) free.add(r.buf);
            if (out.lastUse < 0 && !outputs.contains(out) && --out.buf.users == 0) free.add(out.buf); // never read
        }
        for (Buffer b : all) b.ptr = aligned(b.bytes);
        long scratch = 0;
        for (Op op : ops) scratch = Math.max(scratch, op.scratchBytes);
        Pointer scratchPtr = scratch > 0 ? aligned(scratch) : null;
        for (Val v : values) {
            if (v.buf == null) continue; // made but never produced (cannot happen with the public calls)
            v.mem = memory(v.md, v.buf.ptr);
        }
        long wsFloats = 0;
        int threads = 0;
        for (Op op : ops) if (op.kernel != null) {
            if (threads == 0) threads = Winograd.maxThreads();
            wsFloats = Math.max(wsFloats, op.kernel.workspaceFloats(threads));
        }
        MemorySegment ws = wsFloats > 0 ? segment(aligned(wsFloats * Float.BYTES)) : MemorySegment.NULL;
        for (int i = 0; i + 1 < ops.size(); i++) // a chain of small-map ops: each warms the next one's first panels
            if (ops.get(i).kernel instanceof SmallMapConv a && ops.get(i + 1).kernel instanceof SmallMapConv b) a.next = b;
        for (Op op : ops) {
            if (op.kernel != null) {
                op.kernel.bind(segment(op.args.getFirst().v.buf.ptr), segment(op.args.getLast().v.buf.ptr), ws, threads);
                continue;
            }
            op.nargs = op.args.size() + (op.scratchBytes > 0 ? 1 : 0);
            op.exec = new dnnl_exec_arg_t(op.nargs);
            dnnl_exec_arg_t e = op.exec;
            destroy.add(e::close);
            for (int k = 0; k < op.args.size(); k++) {
                Arg a = op.args.get(k);
                e.getPointer(k).arg(a.which).memory(a.v != null ? a.v.mem : a.fixed);
            }
            if (op.scratchBytes > 0) e.getPointer(op.args.size()).arg(DNNL_ARG_SCRATCHPAD).memory(memory(op.scratchMd, scratchPtr));
        }
        inputBufs = inputs.stream().map(v -> floats(v.buf.ptr, numel(v.shape))).toArray(FloatPointer[]::new);
        inputSegs = inputs.stream().map(v -> segment(v.buf.ptr)).toArray(MemorySegment[]::new);
        inputNhwc = new boolean[inputs.size()];
        copyThreads = Layout.available() ? Winograd.maxThreads() : 1; // the library's OpenMP count (unbound without it)
        for (int i = 0; i < inputNhwc.length; i++) { // NHWC in (see input()), and more than one channel to interleave
            Val v = inputs.get(i);
            inputNhwc[i] = v.shape[1] > 1 && dnnl_memory_desc_equal(v.md, plainMd(dnnl_f32, v.shape)) == 0;
        }
        outputBufs = outputs.stream().map(v -> floats(v.buf.ptr, numel(v.shape))).toArray(FloatPointer[]::new);
        if (PlanProfile.ON) profile = new PlanProfile(ops.size());
        if (PlanLoop.on()) { // the call loop in C (PlanLoop): the same ops, in the same order
            org.bytedeco.javacpp.LongPointer table = PlanLoop.table(ops.size());
            destroy.add(table::close);
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                if (op.kernel != null) op.kernel.encode(table, i);
                else PlanLoop.put(table, i, PlanLoop.DNNL, op.prim.address(), op.nargs, op.exec.address());
            }
            loopStatus = new org.bytedeco.javacpp.IntPointer(1);
            destroy.add(loopStatus::close);
            loopTable = table;
        }
    }

    private static Buffer newBuffer(List<Buffer> all, long bytes) {
        Buffer b = new Buffer();
        b.bytes = bytes;
        all.add(b);
        return b;
    }

    /** The smallest free buffer that fits, else the largest free one grown, else a new one. */
    private static Buffer take(List<Buffer> free, List<Buffer> all, long bytes) {
        Buffer best = null;
        for (Buffer b : free) if (b.bytes >= bytes && (best == null || b.bytes < best.bytes)) best = b;
        if (best == null && !free.isEmpty()) {
            best = free.stream().max(Comparator.comparingLong(b -> b.bytes)).orElseThrow();
            best.bytes = bytes;
        }
        if (best == null) return newBuffer(all, bytes);
        free.remove(best);
        return best;
    }

    @Override
    public synchronized void run(float[] in, float[] out) {
        ready();
        if (inputs.size() != 1 || outputs.size() != 1)
            throw new IllegalStateException("the graph has " + inputs.size() + " inputs and " + outputs.size() + " outputs: run(float[][], float[][])");
        checkArray("input", 0, in, inputs.getFirst());
        checkArray("output", 0, out, outputs.getFirst());
        copyIn(0, in);
        execute();
        outputBufs[0].get(out, 0, out.length * work);
    }

    @Override
    public synchronized void run(float[][] in, float[][] out) {
        ready();
        if (in.length != inputs.size()) throw new IllegalArgumentException(in.length + " input arrays, the plan has " + inputs.size() + " inputs");
        if (out.length != outputs.size()) throw new IllegalArgumentException(out.length + " output arrays, the plan has " + outputs.size() + " outputs");
        for (int i = 0; i < in.length; i++) checkArray("input", i, in[i], inputs.get(i));
        for (int i = 0; i < out.length; i++) checkArray("output", i, out[i], outputs.get(i));
        for (int i = 0; i < in.length; i++) copyIn(i, in[i]);
        execute();
        for (int i = 0; i < out.length; i++) outputBufs[i].get(out[i], 0, out[i].length * work);
    }

    /** The caller's NCHW array into input i's buffer: as it is, or converted to NHWC on the way (see input()). */
    private void copyIn(int i, float[] in) {
        int[] sh = inputs.get(i).shape;
        if (inputNhwc[i]) Layout.nchwToNhwc(in, sh[0] * work, sh[1], (long) sh[2] * sh[3], inputSegs[i], Math.max(1, copyThreads * work));
        else inputBufs[i].put(in, 0, in.length * work);
    }

    /**
     * While on, run() goes through all its code without its work: no input copied, no op run, no output written (the
     * JIT warm-up at a plan's compile, conta.infer.CallPathWarmup). Only with the C loop (the Java loop runs Java per
     * op anyway): returns false, and stays off, elsewhere.
     */
    public synchronized boolean dryRun(boolean on) {
        if (loopTable == null) return false;
        work = on ? 0 : 1;
        return true;
    }

    /** Before a run touches the buffers: compiled, and not closed (close frees them). */
    private void ready() {
        if (!compiled) throw new IllegalStateException("run before compile");
        if (engine == null) throw new IllegalStateException("graph used after close()");
    }

    /** Every op in order, then waits for the stream: the inputs written, the outputs ready to read. */
    private void execute() {
        if (loopTable != null) { // in C (PlanLoop); the loop below is its reference, and the profile's
            int n = ops.size() * work;
            int failed = PlanLoop.run(loopTable, n, stream.address(), loopStatus);
            if (failed >= 0) check(loopStatus.get(), failed == n ? "dnnl_stream_wait" : ops.get(failed).kind);
            return;
        }
        if (profile != null) profile.begin();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            long t0 = profile != null ? System.nanoTime() : 0;
            if (op.kernel == null) {
                check(dnnl_primitive_execute(op.prim, stream, op.nargs, op.exec), op.kind);
            } else {
                check(dnnl_stream_wait(stream), "dnnl_stream_wait"); // its input written (CPU primitives finish in execute)
                op.kernel.run();
            }
            if (profile != null) profile.op(i, System.nanoTime() - t0);
        }
        if (profile != null) profile.end();
        check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    /** An array of run() against its value: its numel floats (nothing allocated unless it fails). */
    private static void checkArray(String what, int i, float[] a, Val v) {
        if (a.length != numel(v.shape))
            throw new IllegalArgumentException(what + " " + i + " has " + a.length + " floats, the plan's is " + Arrays.toString(v.shape));
    }

    @Override
    public int[] outputShape(int i) { return outputs.get(i).shape.clone(); }

    @Override
    public int outputs() { return outputs.size(); }

    /**
     * Bytes of weights and biases the graph reads (each distinct constant once per layout), whether its own or
     * shared with other graphs through their store.
     */
    @Override
    public long constantBytes() {
        long b = 0;
        for (DnnlConstants.Entry e : used) b += e.bytes;
        return b;
    }

    /** Bytes of activation buffers after liveness sharing (compiled graphs). */
    public long activationBytes() {
        long s = 0;
        java.util.Set<Buffer> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Val v : values) if (v.buf != null && seen.add(v.buf)) s += v.buf.bytes;
        return s;
    }

    /** Reorders inserted between ops because a primitive could not read its input's layout (0 when layouts chain; the input's and output's own conversions do not count). */
    public int innerReorders() { return reordersAdded; }

    @Override
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            Val out = op.args.getLast().v;
            b.append(i).append(' ').append(op.kind).append(" -> ").append(Arrays.toString(out.shape)).append(" ").append(op.impl);
            if (profile != null) b.append(profile.mean(i));
            b.append('\n');
        }
        return b.toString();
    }

    @Override
    public synchronized void close() {
        if (profile != null) profile.writeCalls(ops.stream().map(op -> op.kind + ":" + op.impl).toList());
        for (int i = destroy.size() - 1; i >= 0; i--) destroy.get(i).run();
        destroy.clear();
        for (Pointer p : mallocs) Pointer.free(p);
        mallocs.clear();
        if (stream != null) dnnl_stream_destroy(stream);
        if (engine != null) dnnl_engine_destroy(engine);
        stream = null;
        engine = null;
        loopTable = null;
        if (!storeReleased) { // the constants last: nothing of this graph reads them any more
            storeReleased = true;
            store.release();
            if (ownStore) store.close();
        }
    }

    // ------------------------------------------------------------------ helpers

    private Val val(Value v) {
        if (compiled) throw new IllegalStateException("ops added after compile()");
        if (!(v instanceof Val x) || !values.contains(x)) throw new IllegalArgumentException("value of another graph");
        return x;
    }

    private static long numel(int[] s) {
        long n = 1;
        for (int d : s) n *= d;
        return n;
    }

    private static long[] dims(int[] s) { return Arrays.stream(s).asLongStream().toArray(); }

    private static int plainTag(int rank) {
        return switch (rank) { case 1 -> dnnl_a; case 2 -> dnnl_ab; case 4 -> dnnl_abcd; default -> throw new IllegalArgumentException("rank " + rank); };
    }

    private dnnl_memory_desc plainMd(int type, int[] shape) { return md(type, plainTag(shape.length), shape); }

    /**
     * Convolution outputs in NHWC, where oneDNN runs its brgemm convolutions, instead of the blocked layout it picks
     * for format any (jit:avx512_core here): 3-8% lower batch-1 latency for ResNet-50 @224, the CAM network @448 and
     * DeepLab-v2 @321 on AVX-512 (bench/RESULTS-latency.md). -Dconta.plan.nhwc=false restores format any.
     */
    static final boolean NHWC = conta.io.SystemProps.flag("conta.plan.nhwc", true);

    /** Per-op times of the runs, with -Dconta.plan.profile=true ({@link PlanProfile}); null otherwise. */
    private PlanProfile profile;

    private dnnl_memory_desc anyMd(int type, int[] shape) { return md(type, dnnl_format_tag_any, shape); }

    private dnnl_memory_desc md(int type, int tag, int[] shape) {
        dnnl_memory_desc m = new dnnl_memory_desc();
        check(dnnl_memory_desc_create_with_tag(m, shape.length, dims(shape), type, tag), "dnnl_memory_desc_create_with_tag");
        destroy.add(() -> dnnl_memory_desc_destroy(m));
        return m;
    }

    private dnnl_memory_desc cloneMd(dnnl_memory_desc q) {
        dnnl_memory_desc m = new dnnl_memory_desc();
        check(dnnl_memory_desc_clone(m, q), "dnnl_memory_desc_clone");
        destroy.add(() -> dnnl_memory_desc_destroy(m));
        return m;
    }

    private dnnl_memory_desc queryMd(dnnl_primitive_desc pd, int arg) {
        return cloneMd(dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg));
    }

    private static int dataType(dnnl_memory_desc md) {
        try (org.bytedeco.javacpp.IntPointer t = new org.bytedeco.javacpp.IntPointer(1)) {
            check(dnnl_memory_desc_query(md, dnnl_query_data_type, t), "dnnl_memory_desc_query");
            return t.get(0);
        }
    }

    private dnnl_primitive_attr attr(boolean sum, boolean relu) {
        dnnl_primitive_attr a = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(a), "dnnl_primitive_attr_create");
        destroy.add(() -> dnnl_primitive_attr_destroy(a));
        check(dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user), "set_scratchpad_mode");
        if (sum || relu) {
            dnnl_post_ops po = new dnnl_post_ops();
            check(dnnl_post_ops_create(po), "dnnl_post_ops_create");
            destroy.add(() -> dnnl_post_ops_destroy(po));
            if (sum) check(dnnl_post_ops_append_sum(po, 1f, 0, dnnl_data_type_undef), "append_sum"); // before relu: relu(conv + shortcut)
            if (relu) check(dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0f, 0f), "append_eltwise");
            check(dnnl_primitive_attr_set_post_ops(a, po), "set_post_ops");
        }
        return a;
    }

    /** 64-byte aligned native memory, freed by close(). */
    private Pointer aligned(long bytes) {
        Pointer raw = Pointer.malloc(bytes + 64);
        if (raw == null || raw.isNull()) throw new OutOfMemoryError("cannot allocate " + bytes + " bytes for an inference plan");
        mallocs.add(raw);
        return new BytePointer(raw).position((64 - raw.address() % 64) % 64);
    }

    /**
     * A float view of an aligned() pointer. The position must be re-expressed in floats: JavaCPP's copy constructor
     * keeps a position in elements of the new type, so a FloatPointer made from the byte pointer would start at 4x
     * the offset.
     */
    private static FloatPointer floats(Pointer alignedBytes, long count) {
        long off = alignedBytes.position();
        if (off % Float.BYTES != 0) throw new IllegalStateException("misaligned buffer");
        FloatPointer f = new FloatPointer(new BytePointer(alignedBytes).position(0));
        return f.position(off / Float.BYTES).capacity(off / Float.BYTES + count).limit(off / Float.BYTES + count);
    }

    private dnnl_memory memory(dnnl_memory_desc md, Pointer handle) {
        dnnl_memory m = new dnnl_memory();
        check(dnnl_memory_create(m, md, engine, handle), "dnnl_memory_create");
        destroy.add(() -> dnnl_memory_destroy(m));
        return m;
    }

    /** A constant (weights, bias) in layout `chosen`, converted once from plain f32 values. */
    private dnnl_memory constant(float[] values, dnnl_memory_desc plain, dnnl_memory_desc chosen) {
        DnnlConstants.Entry e = store.get(DnnlConstants.Key.of(values, 0), chosen, dnnl_memory_desc_get_size(chosen),
                dst -> place(values, plain, chosen, dst));
        used.add(e);
        return memory(chosen, e.data);
    }

    /** Writes plain f32 values into dst in layout chosen (a copy, or a oneDNN reorder on this graph's stream). */
    private void place(float[] values, dnnl_memory_desc plain, dnnl_memory_desc chosen, Pointer dst) {
        if (dnnl_memory_desc_equal(plain, chosen) != 0) {
            floats(dst, values.length).put(values, 0, values.length);
            return;
        }
        dnnl_memory from = new dnnl_memory(), to = new dnnl_memory();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        dnnl_primitive r = new dnnl_primitive();
        try (FloatPointer src = new FloatPointer(values); dnnl_exec_arg_t args = new dnnl_exec_arg_t(2)) {
            check(dnnl_memory_create(from, plain, engine, src), "dnnl_memory_create");
            check(dnnl_memory_create(to, chosen, engine, dst), "dnnl_memory_create");
            check(dnnl_reorder_primitive_desc_create(pd, plain, engine, chosen, engine, null), "weights reorder descriptor");
            check(dnnl_primitive_create(r, pd), "weights reorder");
            args.getPointer(0).arg(DNNL_ARG_FROM).memory(from);
            args.getPointer(1).arg(DNNL_ARG_TO).memory(to);
            check(dnnl_primitive_execute(r, stream, 2, args), "weights reorder");
            check(dnnl_stream_wait(stream), "dnnl_stream_wait");
        } finally {
            if (!r.isNull()) dnnl_primitive_destroy(r);
            if (!pd.isNull()) dnnl_primitive_desc_destroy(pd);
            if (!to.isNull()) dnnl_memory_destroy(to);
            if (!from.isNull()) dnnl_memory_destroy(from);
        }
    }

    private static String implName(dnnl_primitive_desc pd) {
        try (PointerPointer<BytePointer> pp = new PointerPointer<>(1)) {
            if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, pp) != dnnl_success) return "?";
            BytePointer s = pp.get(BytePointer.class, 0);
            return s == null || s.isNull() ? "?" : s.getString();
        }
    }

    /** For messages: whether the graph computes in bfloat16. */
    public boolean bf16() { return bf16; }
}
