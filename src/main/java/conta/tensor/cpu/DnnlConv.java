package conta.tensor.cpu;

import static org.bytedeco.dnnl.global.dnnl.*;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.Pointer;

/**
 * Convolutions through oneDNN (the C API of the JavaCPP preset), one engine and stream per backend.
 *
 * <p>Each (pass, shapes, spec) gets a {@link Plan} the first time it is seen, kept until {@link #close()} (or evicted
 * as the least recently used of more than {@code conta.dnnl.maxPlans}): the
 * primitive, made with {@code format_tag::any} so that oneDNN picks its fast blocked layouts, and for every argument
 * the memory object over our plain NCHW/OIHW tensor plus, when the layouts differ, a memory in the chosen layout and
 * the reorder between them. Per call only the data handles change. The blocked copies and oneDNN's scratchpad live in
 * a few workspace slots shared by all plans (grown, never shrunk), so memory does not grow with the number of shapes.
 *
 * <p>Activations may also be held in nChw16c (bf16 ones in NHWC on AMX hosts) between convolutions ({@link Blocked}), and weights with their gradients
 * in OIhw16i16o ({@link BlockedWeights}): an argument for which oneDNN chose that layout then uses the tensor's own
 * memory (no reorder), outputs are left in it, and a tensor held so where oneDNN wants another layout is reordered
 * straight from or into it.
 *
 * <p>Semantics are those of {@link Conv}: y and dx are overwritten; dw is accumulated, through a reorder with a sum
 * post-op from oneDNN's gradient buffer, or written directly where dw is a fresh gradient (zeros still pending, see
 * {@link CpuStorage}); db is summed in Java as in Conv. Threads: the preset's OpenMP runtime
 * (libgomp; OMP_NUM_THREADS, all cores by default). Calls are serialised per instance (the slots are shared).
 */
final class DnnlConv implements AutoCloseable {
    private enum Pass { FWD, BWD_DATA, BWD_WEIGHTS }

    /** bias: the forward has a bias (the weight pass never makes db, see backward). */
    private record Key(Pass pass, int n, int cin, int h, int w, int cout, ConvSpec s, boolean bias) { }

    private static final int SCRATCH_SLOT = 5;
    /**
     * 1x1 stride-1 convolutions on our NCHW activations as they are (oneDNN's matmul-based "ncsp" kernels) instead of
     * blocked layouts: it saves two activation reorders per pass, which pays on large maps (ResNet-50 at 224: a
     * quarter of those convolutions' time in a training step on AVX-512) and costs on small ones, where the ncsp
     * kernels are slower than the blocked ones by more than the reorders (bench/RESULTS.md: IRNet's classifier and
     * DeepLab at 112 px train 8-16% faster without). So only maps of at least PLAIN_1X1_MIN_PIXELS (H x W) go plain;
     * -Dconta.dnnl.plain1x1=false sends none, -Dconta.dnnl.plain1x1.minPixels=0 all.
     */
    private static final boolean PLAIN_1X1 = conta.io.SystemProps.flag("conta.dnnl.plain1x1", true);
    static final int PLAIN_1X1_MIN_PIXELS = (int) conta.io.SystemProps.count("conta.dnnl.plain1x1.minPixels", 3136);

    /**
     * Whether a convolution of this shape runs on plain NCHW (see PLAIN_1X1): never where activations stay blocked
     * between convolutions ({@link Blocked}), since then none of them needs the reorders the rule saves.
     */
    static boolean plain1x1(ConvSpec s, int h, int w) { return plain1x1(s, h, w, Blocked.ENABLED); }

    static boolean plain1x1(ConvSpec s, int h, int w, boolean blockedActivations) {
        return PLAIN_1X1 && !blockedActivations && Conv.direct(s) && (long) h * w >= PLAIN_1X1_MIN_PIXELS;
    }

    /**
     * Convolutions compute in bfloat16 (f32 accumulation; our tensors stay f32 and the reorders convert; weight
     * gradients stay f32): CpuBackend.ConvImpl.DNNL_BF16, for CPUs with AMX / AVX512-BF16.
     */
    private final boolean bf16;
    /** bf16 activations are held in NHWC, not nChw16c ({@link Blocked#NHWC_HALF}, {@link CpuBackend#nhwcHalf()}). */
    private final boolean nhwcHalf;

    private dnnl_engine engine;
    private dnnl_stream stream;
    /**
     * Plans in least-recently-used order, at most maxPlans: inference at every image's own size (CAMs, predictions)
     * would otherwise add plans without end. An evicted plan is remade when its shape returns (oneDNN's own primitive
     * cache makes that cheap for recent ones).
     */
    private final LinkedHashMap<Key, Plan> plans;
    private final Slot[] slots = new Slot[SCRATCH_SLOT + 1];

    static final int MAX_PLANS = (int) conta.io.SystemProps.count("conta.dnnl.maxPlans", 512);

    DnnlConv() { this(MAX_PLANS, false, false); }

    DnnlConv(int maxPlans) { this(maxPlans, false, false); }

    DnnlConv(int maxPlans, boolean bf16, boolean nhwcHalf) {
        this.bf16 = bf16;
        this.nhwcHalf = bf16 && nhwcHalf;
        plans = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Plan> eldest) {
                if (size() <= maxPlans) return false;
                eldest.getValue().close();
                return true;
            }
        };
        String why = DnnlLibrary.unavailableReason();
        if (why != null) throw new IllegalStateException("oneDNN not available: " + why);
        engine = new dnnl_engine();
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "dnnl_engine_create");
        stream = new dnnl_stream();
        check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "dnnl_stream_create");
        for (int i = 0; i < slots.length; i++) slots[i] = new Slot();
    }

    // ------------------------------------------------------------------ the ops

    synchronized void forward(Tensor x, Tensor w, Tensor bias, ConvSpec s, Tensor y) {
        if (bias != null && bias.numel() != w.dim(0))
            throw new IllegalArgumentException("conv2d: bias " + bias.shapeString() + " for " + w.dim(0) + " outputs");
        if (x.dim(0) == 0) return;
        Plan p = plan(new Key(Pass.FWD, x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), s, bias != null));
        if (bias != null) p.run(x, w, bias, y);
        else p.run(x, w, y);
    }

    synchronized void backward(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, Tensor dw, Tensor db) {
        if (x.dim(0) == 0) return;
        int n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3), cout = w.dim(0);
        // db in Java with double sums, as the reference does: a conv bias before train-mode batch norm has an exactly
        // zero gradient, and oneDNN's float sums over N*H*W leave noise orders of magnitude above PyTorch's there
        if (db != null) CpuBackend.channelDotImpl(dy, null, db, true);
        Plan pw = dw != null ? plan(new Key(Pass.BWD_WEIGHTS, n, cin, h, wd, cout, s, false)) : null;
        Plan pd = dx != null ? plan(new Key(Pass.BWD_DATA, n, cin, h, wd, cout, s, false)) : null;
        if (pw != null) pw.run(-1, x, dy, dw);
        // both passes read dy in oneDNN's layout, from the same slot: when they chose the same layout, dy is
        // reordered once (the weight pass's copy serves the data pass)
        if (pd != null) {
            boolean share = pw != null && sameInner(pw, pd, DNNL_ARG_DIFF_DST);
            if (share) sharedDy++;
            pd.run(share ? DNNL_ARG_DIFF_DST : -1, dy, w, dx);
        }
    }

    private long sharedDy, nhwcCopies;

    /** Outputs copied from oneDNN's NHWC into nChw16c by BlockedKernels.fromNhwc (for tests). */
    synchronized long nhwcCopies() { return nhwcCopies; }

    /** Backward passes whose data pass reused the weight pass's reordered dy (for tests). */
    synchronized long sharedDy() { return sharedDy; }

    /** Whether both plans copy argument `which` into the same slot in the same layout. */
    private static boolean sameInner(Plan a, Plan b, int which) {
        Arg x = a.arg(which), y = b.arg(which);
        return x.inner != null && y.inner != null && x.slot == y.slot && x.innerBytes == y.innerBytes
                && dnnl_memory_desc_equal(x.chosen, y.chosen) != 0;
    }

    /** Number of cached plans (for tests). */
    synchronized int plans() { return plans.size(); }

    @Override
    public synchronized void close() {
        for (Plan p : plans.values()) p.close();
        plans.clear();
        for (Slot sl : slots) sl.free();
        if (stream != null) dnnl_stream_destroy(stream);
        if (engine != null) dnnl_engine_destroy(engine);
        stream = null;
        engine = null;
    }

    /**
     * Whether a bf16 convolution with cin inputs and spec s runs faster in f32 here: on AMX hosts, wide dilated ones.
     * oneDNN's AMX kernels (brg_conv_fwd:avx10_1_512_amx) fall off a cliff with many input channels and dilation >= 3:
     * 2048 -> 21 at 41x41 took 0.14x f32's time at dilation 2 but 1.3x at 3, 1.7x at 6 and 12x at 24; 2048 -> 81 and
     * -> 1000 likewise; 1024 inputs 1.4x at dilation 12 with 21 outputs (0.3-0.6x with 256); 512 or fewer inputs stay
     * faster in bf16 at every dilation (bench/RESULTS-latency.md, session 27). In conta's networks that is DeepLab's
     * ASPP (2048 -> classes, dilations 6-24): half of a bf16 DeepLab call, and of a training step 5% with 21 classes,
     * 8% with 81, two thirds with 1000 (bench train's default). Measured on AMX only: elsewhere bf16 stays bf16.
     */
    static boolean f32Faster(int cin, ConvSpec s) {
        return CpuFlags.amx() && cin >= 1024 && Math.max(s.dilH(), s.dilW()) >= 3;
    }

    private Plan plan(Key k) {
        if (engine == null) throw new IllegalStateException("oneDNN convolutions used after close()");
        Plan p = plans.get(k);
        if (p == null) {
            p = new Plan(k);
            plans.put(k, p);
        }
        return p;
    }

    // ------------------------------------------------------------------ plans

    /** Native objects of one plan, destroyed in reverse order of creation. */
    private final class Plan implements AutoCloseable {
        private final List<Runnable> destroy = new ArrayList<>();
        private final List<Arg> args = new ArrayList<>();
        private dnnl_primitive prim;
        private dnnl_exec_arg_t execArgs;
        private dnnl_memory scratch;
        private long scratchBytes;

        Plan(Key k) {
            try {
                build(k);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private void build(Key k) {
            ConvSpec s = k.s();
            int oh = s.outH(k.h()), ow = s.outW(k.w());
            // bf16 except where f32 is faster (f32Faster); activations stay held in bf16 either way (the reorders convert)
            int compute = bf16 && !f32Faster(k.cin(), s) ? dnnl_bf16 : dnnl_f32;
            dnnl_memory_desc srcPlain = md(dnnl_nchw, k.n(), k.cin(), k.h(), k.w()), srcAny = typed(compute, dnnl_format_tag_any, k.n(), k.cin(), k.h(), k.w());
            dnnl_memory_desc wPlain = md(dnnl_oihw, k.cout(), k.cin(), s.kh(), s.kw()), wAny = typed(compute, dnnl_format_tag_any, k.cout(), k.cin(), s.kh(), s.kw());
            dnnl_memory_desc dstPlain = md(dnnl_nchw, k.n(), k.cout(), oh, ow), dstAny = typed(compute, dnnl_format_tag_any, k.n(), k.cout(), oh, ow);
            // bf16: the weight gradient in f32 (accumulated into our f32 gradient), the rest in bf16
            dnnl_memory_desc dwAny = bf16 ? typed(dnnl_f32, dnnl_format_tag_any, k.cout(), k.cin(), s.kh(), s.kw()) : wAny;
            dnnl_memory_desc biasPlain = k.bias() ? md(dnnl_a, k.cout()) : null;
            if (!bf16 && plain1x1(s, k.h(), k.w())) { // see PLAIN_1X1
                srcAny = srcPlain;
                dstAny = dstPlain;
            }
            long[] srcDims = {k.n(), k.cin(), k.h(), k.w()}, dstDims = {k.n(), k.cout(), oh, ow};
            long[] wDims = {k.cout(), k.cin(), s.kh(), s.kw()};
            long[] strides = {s.strideH(), s.strideW()};
            long[] dil = {s.dilH() - 1, s.dilW() - 1}; // oneDNN counts the gaps: PyTorch dilation 1 is 0 here
            long[] pad = {s.padH(), s.padW()};
            // the output size is floor((h + 2p - span) / stride) + 1 in both libraries, so symmetric padding fits

            dnnl_primitive_attr attr = new dnnl_primitive_attr();
            check(dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create");
            destroy.add(() -> dnnl_primitive_attr_destroy(attr));
            check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode");
            check(dnnl_primitive_attr_set_deterministic(attr, 1), "set_deterministic"); // runs stay reproducible (resume)

            // the forward descriptor: the forward pass's own, and the backward passes' hint
            dnnl_primitive_desc fwd = new dnnl_primitive_desc();
            check(dnnl_convolution_forward_primitive_desc_create(fwd, engine, dnnl_forward_training, dnnl_convolution_direct,
                    srcAny, wAny, biasPlain, dstAny, strides, dil, pad, pad, attr), "convolution forward descriptor " + k);
            destroy.add(() -> dnnl_primitive_desc_destroy(fwd));
            dnnl_primitive_desc pd;
            switch (k.pass()) {
                case FWD -> {
                    pd = fwd;
                    arg(pd, DNNL_ARG_SRC, srcPlain, false, false, srcDims);
                    arg(pd, DNNL_ARG_WEIGHTS, wPlain, false, false, wDims);
                    if (k.bias()) arg(pd, DNNL_ARG_BIAS, biasPlain, false, false, null);
                    arg(pd, DNNL_ARG_DST, dstPlain, true, false, dstDims);
                }
                case BWD_DATA -> {
                    dnnl_primitive_desc b = new dnnl_primitive_desc();
                    check(dnnl_convolution_backward_data_primitive_desc_create(b, engine, dnnl_convolution_direct,
                            srcAny, wAny, dstAny, strides, dil, pad, pad, fwd, attr), "convolution backward-data descriptor " + k);
                    destroy.add(() -> dnnl_primitive_desc_destroy(b));
                    pd = b;
                    arg(pd, DNNL_ARG_DIFF_DST, dstPlain, false, false, dstDims);
                    arg(pd, DNNL_ARG_WEIGHTS, wPlain, false, false, wDims);
                    arg(pd, DNNL_ARG_DIFF_SRC, srcPlain, true, false, srcDims);
                    args.get(0).slot = 1; // dy in the slot of the weight pass's dy (argument 1 there), see backward
                    args.get(1).slot = 0;
                }
                case BWD_WEIGHTS -> {
                    dnnl_primitive_desc b = new dnnl_primitive_desc();
                    check(dnnl_convolution_backward_weights_primitive_desc_create(b, engine, dnnl_convolution_direct,
                            srcAny, dwAny, biasPlain, dstAny, strides, dil, pad, pad, fwd, attr), "convolution backward-weights descriptor " + k);
                    destroy.add(() -> dnnl_primitive_desc_destroy(b));
                    pd = b;
                    arg(pd, DNNL_ARG_SRC, srcPlain, false, false, srcDims);
                    arg(pd, DNNL_ARG_DIFF_DST, dstPlain, false, false, dstDims);
                    arg(pd, DNNL_ARG_DIFF_WEIGHTS, wPlain, true, true, wDims);
                }
                default -> throw new AssertionError(k.pass());
            }
            dnnl_memory_desc scratchMd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
            scratchBytes = scratchMd == null || scratchMd.isNull() ? 0 : dnnl_memory_desc_get_size(scratchMd);
            if (scratchBytes > 0) scratch = memory(scratchMd);

            prim = new dnnl_primitive();
            check(dnnl_primitive_create(prim, pd), "dnnl_primitive_create " + k);
            destroy.add(() -> dnnl_primitive_destroy(prim));

            int na = args.size() + (scratch != null ? 1 : 0);
            execArgs = new dnnl_exec_arg_t(na);
            destroy.add(execArgs::close);
            for (int i = 0; i < args.size(); i++) {
                Arg a = args.get(i);
                execArgs.getPointer(i).arg(a.which).memory(a.inner != null ? a.inner : a.user);
            }
            if (scratch != null) execArgs.getPointer(args.size()).arg(DNNL_ARG_SCRATCHPAD).memory(scratch);
        }

        /** A plain descriptor, destroyed with the plan. */
        private dnnl_memory_desc md(int tag, long... dims) { return typed(dnnl_f32, tag, dims); }

        private dnnl_memory_desc typed(int type, int tag, long... dims) {
            dnnl_memory_desc m = new dnnl_memory_desc();
            check(dnnl_memory_desc_create_with_tag(m, dims.length, dims, type, tag), "dnnl_memory_desc_create_with_tag");
            destroy.add(() -> dnnl_memory_desc_destroy(m));
            return m;
        }

        /** A memory object without data (handles are set per call), destroyed with the plan. */
        private dnnl_memory memory(dnnl_memory_desc m) {
            dnnl_memory mem = new dnnl_memory();
            check(dnnl_memory_create(mem, m, engine, null), "dnnl_memory_create");
            destroy.add(() -> dnnl_memory_destroy(mem));
            return mem;
        }

        /**
         * Argument `which` of pd over a plain tensor. Inputs are reordered into oneDNN's layout before the primitive,
         * outputs back after it; accumulated outputs (the weight gradient) go through their own buffer and a reorder
         * with a sum. Activations for which oneDNN chose nChw16c (f32, or bf16 in bf16 plans) are read and written as
         * they are when the tensor holds that layout or may take it ({@link Blocked}); so are weights and a fresh
         * weight gradient for which it chose OIhw16i16o ({@link BlockedWeights}), and a gradient already in that
         * layout is added to in it. dims: the tensor's dimensions (null for the bias); its weight arguments are
         * DNNL_ARG_WEIGHTS and DNNL_ARG_DIFF_WEIGHTS.
         */
        private void arg(dnnl_primitive_desc pd, int which, dnnl_memory_desc plain, boolean output, boolean accumulate, long[] dims) {
            dnnl_memory_desc chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, which);
            Arg a = new Arg(which, output, memory(plain));
            a.slot = args.size();
            args.add(a);
            if (!accumulate && dnnl_memory_desc_equal(plain, chosen) != 0) return; // same layout: no copy
            // a tensor that may be held in a oneDNN layout, and that layout's descriptor
            dnnl_memory_desc blocked = null;
            if (a.weight() && BlockedWeights.suits(dims[0], dims[1])) blocked = typed(dnnl_f32, dnnl_OIhw16i16o, dims);
            else if (!a.weight() && dims != null && Blocked.ENABLED && dims[1] % Blocked.LANES == 0)
                blocked = typed(bf16 ? dnnl_bf16 : dnnl_f32, nhwcHalf ? dnnl_nhwc : dnnl_nChw16c, dims);
            a.blockedOk = blocked != null && dnnl_memory_desc_equal(blocked, chosen) != 0;
            a.inner = memory(chosen);
            a.chosen = chosen;
            a.innerBytes = dnnl_memory_desc_get_size(chosen);
            dnnl_primitive_attr rattr = null;
            if (accumulate) {
                dnnl_post_ops po = new dnnl_post_ops();
                check(dnnl_post_ops_create(po), "dnnl_post_ops_create");
                destroy.add(() -> dnnl_post_ops_destroy(po));
                check(dnnl_post_ops_append_sum(po, 1f, 0, dnnl_data_type_undef), "dnnl_post_ops_append_sum");
                dnnl_primitive_attr ra = new dnnl_primitive_attr();
                check(dnnl_primitive_attr_create(ra), "dnnl_primitive_attr_create");
                destroy.add(() -> dnnl_primitive_attr_destroy(ra));
                check(dnnl_primitive_attr_set_post_ops(ra, po), "dnnl_primitive_attr_set_post_ops");
                rattr = ra;
            }
            a.reorder = output ? reorder(chosen, plain, rattr) : reorder(plain, chosen, rattr);
            a.reorderArgs = fromTo(output ? a.inner : a.user, output ? a.user : a.inner);
            if (blocked != null && (accumulate ? a.blockedOk : !a.blockedOk)) {
                // the tensor held blocked where oneDNN wants another layout: an input converted straight into it (NHWC
                // for the strided kernels, bf16 or transposed weights), leaving the tensor blocked for its other
                // readers; an activation output (NHWC from the strided kernels) converted straight into nChw16c; and a
                // weight gradient that holds OIhw16i16o already, oneDNN's gradient added to it in that layout
                a.blockedUser = memory(blocked);
                // NHWC outputs go through a Java copy instead (BlockedKernels.fromNhwc: oneDNN's reorder is slow there)
                a.nhwcOut = output && !accumulate && dnnl_memory_desc_equal(typed(bf16 ? dnnl_bf16 : dnnl_f32, dnnl_nhwc, dims), chosen) != 0;
                if (!a.nhwcOut) {
                    a.blockedReorder = output ? reorder(chosen, blocked, rattr) : reorder(blocked, chosen, null);
                    a.blockedReorderArgs = fromTo(output ? a.inner : a.blockedUser, output ? a.blockedUser : a.inner);
                }
            }
        }

        /** The arguments of a reorder, destroyed with the plan. */
        private dnnl_exec_arg_t fromTo(dnnl_memory from, dnnl_memory to) {
            dnnl_exec_arg_t args = new dnnl_exec_arg_t(2);
            destroy.add(args::close);
            args.getPointer(0).arg(DNNL_ARG_FROM).memory(from);
            args.getPointer(1).arg(DNNL_ARG_TO).memory(to);
            return args;
        }

        /** A reorder primitive between two layouts, destroyed with the plan. */
        private dnnl_primitive reorder(dnnl_memory_desc from, dnnl_memory_desc to, dnnl_primitive_attr attr) {
            dnnl_primitive_desc rpd = new dnnl_primitive_desc();
            check(dnnl_reorder_primitive_desc_create(rpd, from, engine, to, engine, attr), "reorder descriptor");
            try {
                dnnl_primitive r = new dnnl_primitive();
                check(dnnl_primitive_create(r, rpd), "reorder primitive");
                destroy.add(() -> dnnl_primitive_destroy(r));
                return r;
            } finally {
                dnnl_primitive_desc_destroy(rpd);
            }
        }

        /** Runs the plan on tensors given in argument order. */
        void run(Tensor... t) { run(-1, t); }

        /** The argument `which` (a DNNL_ARG_*). */
        Arg arg(int which) {
            for (Arg a : args) if (a.which == which) return a;
            throw new IllegalArgumentException("no argument " + which);
        }

        /** The same, where argument `present` (or -1) is already in its slot in oneDNN's layout: its reorder is skipped. */
        void run(int present, Tensor... t) {
            if (t.length != args.size()) throw new IllegalStateException("plan takes " + args.size() + " tensors, got " + t.length);
            for (int i = 0; i < t.length; i++) {
                Arg a = args.get(i);
                CpuStorage st = CpuBackend.storage(t[i]);
                // blocked tensors are read as they are; outputs are written blocked when they may be, a weight
                // gradient when it is fresh (its zeros still pending) and added to in its layout when it holds it
                boolean route = a.blockedReorder != null || a.nhwcOut; // a way between oneDNN's layout and the tensor's
                if (a.weight()) {
                    boolean holds = BlockedWeights.holds(t[i]);
                    a.direct = a.blockedOk && (a.output ? BlockedWeights.fits(t[i]) && st.takeZero() : holds);
                    a.viaBlocked = !a.direct && route && holds;
                } else {
                    Blocked held = Blocked.in(t[i]);
                    boolean may = a.output ? Blocked.fits(t[i]) : held != null && held.equals(layout(t[i]));
                    a.direct = a.blockedOk && may;
                    a.viaBlocked = !a.direct && route && may;
                }
                if (a.direct) {
                    check(dnnl_memory_set_data_handle(a.inner, st.rawFloats()), "set_data_handle");
                    continue;
                }
                if (a.viaBlocked) {
                    check(dnnl_memory_set_data_handle(a.blockedUser, st.rawFloats()), "set_data_handle");
                    check(dnnl_memory_set_data_handle(a.inner, slots[a.slot].get(a.innerBytes)), "set_data_handle");
                    continue;
                }
                if (a.output && !a.accumulates()) st.setBlocked(null); // overwritten whole: no need to convert first
                check(dnnl_memory_set_data_handle(a.user, st.floats(0)), "set_data_handle");
                if (a.inner != null) check(dnnl_memory_set_data_handle(a.inner, slots[a.slot].get(a.innerBytes)), "set_data_handle");
            }
            if (scratch != null) check(dnnl_memory_set_data_handle(scratch, slots[SCRATCH_SLOT].get(scratchBytes)), "set_data_handle");
            for (Arg a : args)
                if (!a.output && a.reorder != null && a.which != present && !a.direct) runReorder(a);
            check(dnnl_primitive_execute(prim, stream, (int) execArgs.capacity(), execArgs), "convolution");
            for (Arg a : args)
                if (a.output && a.reorder != null && !a.direct && !(a.viaBlocked && a.nhwcOut)) runReorder(a);
            check(dnnl_stream_wait(stream), "dnnl_stream_wait");
            for (int i = 0; i < t.length; i++) {
                Arg a = args.get(i);
                if (a.output && a.viaBlocked && a.nhwcOut) {
                    nhwcCopies++;
                    Pointer in = slots[a.slot].get(a.innerBytes); // a byte pointer positioned at the aligned start
                    BlockedKernels.fromNhwc(MemorySegment.ofAddress(in.address() + in.position()).reinterpret(a.innerBytes),
                            CpuBackend.storage(t[i]).rawSegment(), layout(t[i]));
                }
            }
            for (int i = 0; i < t.length; i++) {
                Arg a = args.get(i);
                if (a.output && (a.direct || a.viaBlocked))
                    CpuBackend.storage(t[i]).setBlocked(a.weight() ? BlockedWeights.of(t[i]) : layout(t[i]));
            }
        }

        /** The layout in which this instance holds activation t: nChw16c (f32 or bf16), or NHWC bf16. */
        private Blocked layout(Tensor t) { return new Blocked(t.dim(0), t.dim(1), t.dim(2), t.dim(3), bf16, nhwcHalf); }

        /** Runs argument a's reorder of this call: through the tensor's blocked layout, or between it plain and inner. */
        private void runReorder(Arg a) {
            check(dnnl_primitive_execute(a.viaBlocked ? a.blockedReorder : a.reorder, stream, 2,
                    a.viaBlocked ? a.blockedReorderArgs : a.reorderArgs), "reorder");
        }

        @Override
        public void close() {
            for (int i = destroy.size() - 1; i >= 0; i--) destroy.get(i).run();
            destroy.clear();
        }
    }

    /** One argument of a plan; inner/reorder are null when oneDNN takes the plain tensor as it is. */
    private static final class Arg {
        final int which;
        final boolean output;
        final dnnl_memory user;
        dnnl_memory inner;
        /** inner's layout (owned by the primitive descriptor, which lives as long as the plan). */
        dnnl_memory_desc chosen;
        long innerBytes;
        int slot;
        dnnl_primitive reorder;
        dnnl_exec_arg_t reorderArgs;
        /** oneDNN chose nChw16c of the plan's type for this activation (see {@link Blocked}), OIhw16i16o for this weight. */
        boolean blockedOk;
        /** In this call, the tensor's own memory is inner (no reorder). */
        boolean direct;
        /**
         * Between the tensor's own memory in its blocked layout (blockedUser) and inner, where oneDNN wants another
         * layout: an input's reorder into inner; an activation output's from inner into nChw16c; a weight gradient's
         * sum of inner into the OIhw16i16o it holds.
         */
        dnnl_memory blockedUser;
        dnnl_primitive blockedReorder;
        dnnl_exec_arg_t blockedReorderArgs;
        /** An activation output oneDNN writes in NHWC: copied into nChw16c by BlockedKernels.fromNhwc (no blockedReorder). */
        boolean nhwcOut;
        /** In this call, the tensor goes through blockedReorder instead of reorder (or fromNhwc). */
        boolean viaBlocked;
        boolean accumulates() { return which == DNNL_ARG_DIFF_WEIGHTS; }
        boolean weight() { return which == DNNL_ARG_WEIGHTS || which == DNNL_ARG_DIFF_WEIGHTS; }

        Arg(int which, boolean output, dnnl_memory user) {
            this.which = which;
            this.output = output;
            this.user = user;
        }
    }

    /** A 64-byte aligned buffer that grows to the largest request. */
    private static final class Slot {
        private Pointer raw;
        private Pointer aligned;
        private long bytes;

        Pointer get(long need) {
            if (need > bytes) {
                free();
                raw = Pointer.malloc(need + 64);
                if (raw == null || raw.isNull()) throw new OutOfMemoryError("cannot allocate " + need + " bytes for oneDNN");
                long addr = raw.address();
                aligned = new org.bytedeco.javacpp.BytePointer(raw).position((64 - addr % 64) % 64);
                bytes = need;
            }
            return aligned;
        }

        void free() {
            if (raw != null) Pointer.free(raw);
            raw = null;
            aligned = null;
            bytes = 0;
        }
    }

    static void check(int status, String what) {
        if (status == dnnl_success) return;
        String name = status == dnnl_out_of_memory ? "out of memory"
                : status == dnnl_invalid_arguments ? "invalid arguments"
                : status == dnnl_unimplemented ? "unimplemented"
                : status == dnnl_runtime_error ? "runtime error" : "status " + status;
        if (status == dnnl_out_of_memory) throw new OutOfMemoryError("oneDNN: " + what + ": " + name);
        throw new IllegalStateException("oneDNN: " + what + " failed: " + name);
    }
}
