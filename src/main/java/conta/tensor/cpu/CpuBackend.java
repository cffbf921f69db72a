package conta.tensor.cpu;

import static conta.tensor.Shapes.gemmDims;
import static conta.tensor.Shapes.sameShape;
import static conta.tensor.Shapes.spatial;

import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.DType;
import conta.tensor.LayerShapes;
import conta.tensor.Layout;
import conta.tensor.Storage;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The CPU reference backend: convolutions through oneDNN ({@link DnnlConv}) or OpenBLAS im2col + sgemm ({@link Conv},
 * the reference; {@code -Dconta.conv=blas}), matrix products through OpenBLAS, everything else in Java over off-heap
 * memory, split over the cores. Ops live in small helper classes by family.
 */
public final class CpuBackend implements Backend {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;

    /**
     * How convolutions run: oneDNN primitives in f32, oneDNN computing in bfloat16 (f32 accumulation and weight
     * gradients; for CPUs with AMX / AVX512-BF16, emulated and slower elsewhere), or im2col + OpenBLAS sgemm.
     */
    public enum ConvImpl { DNNL, DNNL_BF16, BLAS }

    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private final ConvImpl convImpl;
    /** oneDNN engine, stream and cached primitives: made on the first convolution, freed by close(). */
    private DnnlConv dnnl;

    /** Convolutions as the system property conta.conv says: dnnl (default; blas with a warning if oneDNN cannot load), dnnl-bf16 or blas. */
    public CpuBackend() { this(defaultConvImpl()); }

    /** DNNL throws if the oneDNN library cannot load. */
    public CpuBackend(ConvImpl convImpl) { this(convImpl, Blocked.NHWC_HALF); }

    /** nhwcHalf: bf16 activations held in NHWC instead of nChw16c (see {@link Blocked}; tests run both on any host). */
    CpuBackend(ConvImpl convImpl, boolean nhwcHalf) {
        if (convImpl != ConvImpl.BLAS && DnnlLibrary.unavailableReason() != null)
            throw new IllegalStateException("oneDNN convolutions unavailable: " + DnnlLibrary.unavailableReason());
        this.convImpl = convImpl;
        this.nhwcHalf = nhwcHalf;
    }

    private final boolean nhwcHalf;

    /** Whether bf16 activations are held in NHWC (else nChw16c). */
    boolean nhwcHalf() { return nhwcHalf; }

    static ConvImpl defaultConvImpl() {
        String p = conta.io.SystemProps.choice("conta.conv", "dnnl");
        switch (p) {
            case "blas": return ConvImpl.BLAS;
            case "dnnl-bf16": {
                if (DnnlLibrary.unavailableReason() != null)
                    throw new IllegalStateException("-Dconta.conv=dnnl-bf16: oneDNN unavailable (" + DnnlLibrary.unavailableReason() + ")");
                return ConvImpl.DNNL_BF16;
            }
            case "dnnl": {
                String why = DnnlLibrary.unavailableReason();
                if (why == null) return ConvImpl.DNNL;
                if (WARNED.compareAndSet(false, true))
                    System.err.println("warning: oneDNN unavailable (" + why + "); convolutions use OpenBLAS im2col+sgemm");
                return ConvImpl.BLAS;
            }
            default: throw new IllegalArgumentException("-Dconta.conv=" + p + ": expected dnnl, dnnl-bf16 or blas");
        }
    }

    public ConvImpl convImpl() { return convImpl; }

    /** Whether oneDNN loaded (its graphs serve the inference plans); a package without it runs everything else. */
    public static boolean oneDnnAvailable() { return DnnlLibrary.unavailableReason() == null; }

    synchronized DnnlConv dnnl() {
        if (dnnl == null) dnnl = new DnnlConv(DnnlConv.MAX_PLANS, convImpl == ConvImpl.DNNL_BF16, nhwcHalf);
        return dnnl;
    }

    /** Cached oneDNN plans (one per pass, shapes and spec seen), for tests. */
    synchronized int dnnlPlans() { return dnnl == null ? 0 : dnnl.plans(); }

    /** Backward passes whose data pass reused the weight pass's reordered dy (for tests). */
    synchronized long dnnlSharedDy() { return dnnl == null ? 0 : dnnl.sharedDy(); }

    @Override
    public synchronized void close() {
        if (dnnl != null) dnnl.close();
        dnnl = null;
    }

    @Override public String name() { return "cpu"; }

    // ---------------------------------------------------------------- memory
    static CpuStorage storage(Tensor t) {
        Storage s = t.storage();
        if (s instanceof Tensor.SharedStorage sh) s = sh.owner;
        if (!(s instanceof CpuStorage c))
            throw new IllegalArgumentException("tensor " + t + " does not live on the CPU backend");
        return c;
    }

    static MemorySegment seg(Tensor t) { return storage(t).segment(); }

    /** The memory of a tensor as it is (layout-aware ops only; see {@link Blocked}). */
    static MemorySegment raw(Tensor t) { return t == null ? null : storage(t).rawSegment(); }

    /** Declares out (just overwritten whole by a layout-aware op) to hold the layout of the kind given, at its shape. */
    private static void markBlocked(Tensor out, Blocked kind) {
        storage(out).setBlocked(new Blocked(out.dim(0), out.dim(1), out.dim(2), out.dim(3), kind.half(), kind.nhwc()));
    }

    @Override
    public Tensor empty(int... shape) {
        return new Tensor(this, new CpuStorage(Tensor.numel(shape) * 4L), DType.F32, Layout.NCHW, shape);
    }

    @Override
    public void upload(Tensor t, float[] src) {
        if (src.length != t.numel()) throw new IllegalArgumentException(src.length + " values for " + t);
        MemorySegment.copy(src, 0, seg(t), F, 0, src.length);
    }

    @Override
    public float[] download(Tensor t) {
        float[] out = new float[Math.toIntExact(t.numel())];
        MemorySegment.copy(seg(t), F, 0, out, 0, out.length);
        return out;
    }

    @Override
    public void fill(Tensor t, float value) {
        CpuStorage st = storage(t);
        if (st.bytes() == t.numel() * 4) {
            if (value == 0f && st.zeroLazily()) return; // a fresh tensor (a gradient buffer): zeroed when first read
            st.setBlocked(null); // every value replaced: no conversion
        }
        MemorySegment s = seg(t);
        if (value == 0f) s.asSlice(0, t.numel() * 4).fill((byte) 0);
        else for (long i = 0; i < t.numel(); i++) s.setAtIndex(F, i, value);
    }

    @Override
    public void copy(Tensor src, long srcOff, Tensor dst, long dstOff, long n) {
        checkRange(src, srcOff, n);
        checkRange(dst, dstOff, n);
        MemorySegment.copy(seg(src), srcOff * 4, seg(dst), dstOff * 4, n * 4);
    }

    private static void checkRange(Tensor t, long off, long n) {
        if (off < 0 || n < 0 || off + n > t.numel())
            throw new IndexOutOfBoundsException("range [" + off + ", " + (off + n) + ") outside " + t);
    }

    @Override
    public void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int count, boolean accumulate) {
        int n = src.dim(0), hw = spatial(src);
        if (dst.dim(0) != n || spatial(dst) != hw || srcC0 + count > src.dim(1) || dstC0 + count > dst.dim(1))
            throw new IllegalArgumentException("copyChannels: " + src + "[" + srcC0 + "+" + count + "] -> " + dst + "[" + dstC0 + "]");
        MemorySegment s = seg(src), d = seg(dst);
        int cs = src.dim(1), cd = dst.dim(1);
        for (int b = 0; b < n; b++) {
            long so = ((long) b * cs + srcC0) * hw, dof = ((long) b * cd + dstC0) * hw;
            long len = (long) count * hw;
            if (!accumulate) MemorySegment.copy(s, so * 4, d, dof * 4, len * 4);
            else Elementwise.axpy(s, so, d, dof, len, 1f);
        }
    }

    /** Product of dims from 2 on (1 for 2-d tensors). */
    // ---------------------------------------------------------------- elementwise
    /** An elementwise kernel over matching slices of three tensors (the second and third may be the first). */
    private interface Pass3 { void run(MemorySegment a, MemorySegment b, MemorySegment out, long n); }

    /**
     * Checks that a, b and out have one shape and runs the kernel over both cores on matching pieces. Tensors in one
     * blocked layout stay in it (f32: the same kernel; bf16: BlockedKernels' loop for `half`, when the op has one).
     */
    private static void elementwise(String op, Tensor a, Tensor b, Tensor out, Pass3 kernel, BlockedKernels.Op half, float alpha, float beta) {
        sameShape(op, a, b);
        sameShape(op, a, out);
        Blocked kind = Blocked.unify(a, b);
        if (kind != null && Blocked.fits(out) && (!kind.half() || half != null)) {
            MemorySegment sa = raw(a), sb = raw(b), so = raw(out);
            if (kind.half()) BlockedKernels.elementwiseHalf(half, alpha, beta, sa, sb, so, a.numel());
            else Parallel.chunks(a.numel(), (o, k) -> kernel.run(sa.asSlice(o * 4, k * 4), sb.asSlice(o * 4, k * 4), so.asSlice(o * 4, k * 4), k));
            markBlocked(out, kind);
            return;
        }
        MemorySegment sa = seg(a), sb = seg(b), so = seg(out);
        Parallel.chunks(a.numel(), (o, k) -> kernel.run(sa.asSlice(o * 4, k * 4), sb.asSlice(o * 4, k * 4), so.asSlice(o * 4, k * 4), k));
    }

    @Override
    public void addScaled(Tensor a, float alpha, Tensor b, float beta, Tensor out) {
        elementwise("addScaled", a, b, out, (x, y, o, n) -> Elementwise.addScaled(x, alpha, y, beta, o, n), BlockedKernels.Op.ADD_SCALED, alpha, beta);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) { elementwise("mul", a, b, out, Elementwise::mul, BlockedKernels.Op.MUL, 0f, 0f); }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        elementwise("scale", x, x, out, (a, unused, o, n) -> Elementwise.addScaled(a, s, a, 0f, o, n), BlockedKernels.Op.ADD_SCALED, s, 0f);
    }

    @Override
    public void addRelu(Tensor a, Tensor b, Tensor y) { elementwise("addRelu", a, b, y, Elementwise::addRelu, BlockedKernels.Op.ADD_RELU, 0f, 0f); }

    @Override
    public void relu(Tensor x, Tensor y) { elementwise("relu", x, x, y, (a, unused, o, n) -> Elementwise.relu(a, o, n), BlockedKernels.Op.RELU, 0f, 0f); }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        elementwise("reluBackward", y, dy, dx, Elementwise::reluBackward, BlockedKernels.Op.RELU_BACKWARD, 0f, 0f);
    }

    @Override
    public void sigmoid(Tensor x, Tensor y) {
        sameShape("sigmoid", x, y);
        MemorySegment a = seg(x), b = seg(y);
        Parallel.chunks(x.numel(), (o, k) -> {
            for (long i = o; i < o + k; i++) b.setAtIndex(F, i, Losses.sigmoid(a.getAtIndex(F, i)));
        });
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        sameShape("softmax", x, y);
        Elementwise.softmax(seg(x), seg(y), x.dim(0), x.dim(1), spatial(x));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        sameShape("softmaxBackward", y, dy);
        sameShape("softmaxBackward", y, dx);
        Elementwise.softmaxBackward(seg(y), seg(dy), seg(dx), y.dim(0), y.dim(1), spatial(y));
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, Tensor y) { affine("channelAffine", x, scale, shift, y, false); }

    @Override
    public void channelAffineRelu(Tensor x, Tensor scale, Tensor shift, Tensor y) { affine("channelAffineRelu", x, scale, shift, y, true); }

    private static void affine(String op, Tensor x, Tensor scale, Tensor shift, Tensor y, boolean relu) {
        conta.tensor.Shapes.channelAffine(op, x, scale, shift, y);
        Blocked kind = Blocked.in(x);
        if (kind != null && Blocked.fits(y)) {
            BlockedKernels.affine(raw(x), seg(scale), shift == null ? null : seg(shift), raw(y), kind, relu);
            markBlocked(y, kind);
            return;
        }
        Elementwise.channelAffine(seg(x), seg(scale), shift == null ? null : seg(shift), seg(y), x.dim(0), x.dim(1), spatial(x), relu);
    }

    @Override
    public void batchNormFold(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor scale, Tensor shift, Tensor invStd) {
        int c = LayerShapes.perChannel("batchNormFold", gamma, beta, mean, var, scale, shift, invStd);
        LayerKernels.batchNormFold(seg(gamma), seg(beta), seg(mean), seg(var), eps, seg(scale), seg(shift), seg(invStd), c);
    }

    @Override
    public void batchNormFoldGammaGrad(Tensor invStd, Tensor mean, Tensor sumG, Tensor sumGX, Tensor dgamma) {
        int c = LayerShapes.perChannel("batchNormFoldGammaGrad", invStd, mean, sumG, sumGX, dgamma);
        LayerKernels.gammaGrad(seg(invStd), seg(mean), seg(sumG), seg(sumGX), seg(dgamma), c);
    }

    @Override
    public void copyWindow(Tensor src, int srcTop, int srcLeft, Tensor dst, int dstTop, int dstLeft, int h, int w, boolean accumulate) {
        int planes = LayerShapes.window("copyWindow", src, srcTop, srcLeft, dst, dstTop, dstLeft, h, w);
        LayerKernels.copyWindow(seg(src), src.dim(2), src.dim(3), srcTop, srcLeft, seg(dst), dst.dim(2), dst.dim(3), dstTop, dstLeft, h, w,
                planes, accumulate);
    }

    @Override
    public void channelAffineBackward(Tensor x, Tensor y, Tensor dy, Tensor scale, Tensor dx, Tensor sumG, Tensor sumGX) {
        sameShape("channelAffineBackward", x, dy);
        if (y != null) sameShape("channelAffineBackward", x, y);
        if (dx != null) sameShape("channelAffineBackward", x, dx);
        int n = x.dim(0), c = x.dim(1), hw = spatial(x);
        for (Tensor v : new Tensor[]{scale, sumG, sumGX})
            if (v != null && v.numel() != c) throw new IllegalArgumentException("channelAffineBackward: " + v + " for " + x);
        Blocked kind = Blocked.unify(x, y, dy);
        if (kind != null && (dx == null || Blocked.fits(dx))) {
            MemorySegment ssc = seg(scale), sg = sumG == null ? null : seg(sumG), sgx = sumGX == null ? null : seg(sumGX);
            BlockedKernels.affineBackward(raw(x), raw(y), raw(dy), ssc, raw(dx), sg, sgx, kind);
            if (dx != null) markBlocked(dx, kind);
            return;
        }
        MemorySegment sx = seg(x), sy = y == null ? null : seg(y), sd = seg(dy), sdx = dx == null ? null : seg(dx), ssc = seg(scale);
        MemorySegment sg = sumG == null ? null : seg(sumG), sgx = sumGX == null ? null : seg(sumGX);
        boolean sums = sg != null || sgx != null;
        Parallel.forRange(c, (long) n * hw, ch -> {
            double[] acc = new double[2];
            Elementwise.gradSums(sd, sy, sx, sdx, (long) ch * hw, (long) c * hw, n, hw, 0f, ssc.getAtIndex(F, ch), sums, acc);
            if (sg != null) sg.setAtIndex(F, ch, (float) acc[0]);
            if (sgx != null) sgx.setAtIndex(F, ch, (float) acc[1]);
        });
    }

    @Override
    public void channelSum(Tensor x, Tensor out, boolean accumulate) {
        channelDot(x, null, out, accumulate);
    }

    @Override
    public void channelDot(Tensor a, Tensor b, Tensor out, boolean accumulate) { channelDotImpl(a, b, out, accumulate); }

    static void channelDotImpl(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        if (b != null) sameShape("channelDot", a, b);
        int n = a.dim(0), c = a.dim(1), hw = spatial(a);
        if (out.numel() != c) throw new IllegalArgumentException("channelDot: out " + out + " for " + a);
        Blocked kind = Blocked.unify(a, b);
        if (kind != null) {
            BlockedKernels.channelDot(raw(a), raw(b), seg(out), accumulate, kind);
            return;
        }
        MemorySegment sa = seg(a), sb = b == null ? null : seg(b), so = seg(out);
        Parallel.forRange(c, (long) n * hw, ch -> {
            double acc = 0;
            for (int i = 0; i < n; i++) {
                long base = ((long) i * c + ch) * hw;
                acc += sb == null ? Elementwise.sum(sa, base, hw) : Elementwise.dot(sa, sb, base, hw);
            }
            so.setAtIndex(F, ch, (float) (accumulate ? so.getAtIndex(F, ch) + acc : acc));
        });
    }

    @Override
    public double sum(Tensor x) { return Elementwise.sumDouble(seg(x), 0, x.numel()); }

    // ---------------------------------------------------------------- linear algebra
    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int[] mnk = gemmDims(transA, transB, a, b, c);
        int m = mnk[0], n = mnk[1], k = mnk[2];
        Blas.sgemm(transA, transB, m, n, k, alpha, storage(a), 0, a.dim(1), storage(b), 0, b.dim(1), beta, storage(c), 0, n);
    }

    // ---------------------------------------------------------------- convolution
    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, ConvSpec s, Tensor y) {
        if (convImpl == ConvImpl.BLAS) {
            Conv.forward(x, w, bias, s, y);
        } else {
            Conv.check(x, w, s, y);
            if (CentreTap.applies(s, x.dim(2), x.dim(3))) {
                try (Tensor wc = CentreTap.centre(w)) { dnnl().forward(x, wc, bias, CentreTap.ONE, y); }
                return;
            }
            dnnl().forward(x, w, bias, s, y);
        }
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, Tensor dw, Tensor db) {
        if (convImpl == ConvImpl.BLAS) {
            Conv.backward(x, w, dy, s, dx, dw, db);
        } else {
            Conv.check(x, w, s, dy);
            Conv.checkGrads(x, w, dx, dw, db);
            if (CentreTap.applies(s, x.dim(2), x.dim(3))) {
                try (Tensor wc = CentreTap.centre(w); Tensor dwc = dw == null ? null : Tensor.zeros(this, wc.shape())) {
                    dnnl().backward(x, wc, dy, CentreTap.ONE, dx, dwc, db);
                    if (dw != null) CentreTap.addToCentre(dwc, dw);
                }
                return;
            }
            dnnl().backward(x, w, dy, s, dx, dw, db);
        }
    }

    // ---------------------------------------------------------------- batch norm
    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
                               Tensor y, Tensor saveMean, Tensor saveInvStd) {
        normTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, false);
    }

    @Override
    public void batchNormReluTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum,
                                   float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        normTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, true);
    }

    private static void normTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
                                  Tensor y, Tensor saveMean, Tensor saveInvStd, boolean relu) {
        Blocked kind = Blocked.in(x);
        if (kind != null && Blocked.fits(y) && x.sameShape(y)) {
            if ((long) x.dim(0) * x.dim(2) * x.dim(3) < 2) throw new IllegalArgumentException("batch norm in training mode needs more than one value per channel, got input " + x.shapeString());
            BlockedKernels.train(raw(x), seg(gamma), seg(beta), runMean == null ? null : seg(runMean), runVar == null ? null : seg(runVar),
                    momentum, eps, raw(y), seg(saveMean), seg(saveInvStd), kind, relu);
            markBlocked(y, kind);
            return;
        }
        Norm.train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, relu);
    }

    private static void normBackward(Tensor x, Tensor gamma, Tensor y, Tensor dy, Tensor saveMean, Tensor saveInvStd,
                                     Tensor dx, Tensor dgamma, Tensor dbeta) {
        Blocked kind = Blocked.unify(x, y, dy);
        if (kind != null && (dx == null || Blocked.fits(dx))) {
            BlockedKernels.backward(raw(x), seg(gamma), raw(y), raw(dy), seg(saveMean), seg(saveInvStd), raw(dx),
                    dgamma == null ? null : seg(dgamma), dbeta == null ? null : seg(dbeta), kind);
            if (dx != null) markBlocked(dx, kind);
            return;
        }
        Norm.backward(x, gamma, y, dy, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    @Override
    public void batchNormReluBackward(Tensor x, Tensor gamma, Tensor y, Tensor dy, Tensor saveMean, Tensor saveInvStd,
                                      Tensor dx, Tensor dgamma, Tensor dbeta) {
        sameShape("batchNormReluBackward", x, y);
        sameShape("batchNormReluBackward", x, dy);
        normBackward(x, gamma, y, dy, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor gamma, Tensor dy, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        sameShape("batchNormBackward", x, dy);
        normBackward(x, gamma, null, dy, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    // ---------------------------------------------------------------- pooling and resize
    @Override
    public void maxPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        Blocked kind = Blocked.in(x);
        if (kind != null && Blocked.fits(y)) { // a blocked input (ResNet's stem): pooled in its layout
            Pool.checkOut("maxPool2d", x, s, ceil, y);
            BlockedKernels.maxPool(raw(x), raw(y), kind, s, y.dim(2), y.dim(3));
            markBlocked(y, kind);
            return;
        }
        Pool.max(x, s, ceil, y);
    }

    @Override
    public void maxPool2dBackward(Tensor x, ConvSpec s, boolean ceil, Tensor dy, Tensor dx) {
        Blocked kind = Blocked.in(x);
        if (kind != null && Blocked.fits(dy) && Blocked.fits(dx) && x.sameShape(dx)) {
            Pool.checkOut("maxPool2dBackward", x, s, ceil, dy);
            Blocked kdy = Blocked.in(dy);
            if (kdy == null) storage(dy).toBlocked(kind.resized(dy.dim(2), dy.dim(3))); // as Blocked.unify would
            if (kdy == null || kdy.equals(kind.resized(dy.dim(2), dy.dim(3)))) {
                BlockedKernels.maxPoolBackward(raw(x), raw(dy), raw(dx), kind, s, dy.dim(2), dy.dim(3));
                markBlocked(dx, kind);
                return;
            }
        }
        Pool.maxBackward(x, s, ceil, dy, dx);
    }

    @Override
    public void avgPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        Blocked kind = Blocked.in(x);
        if (kind != null && global(s, ceil, x)) { // the mean over the map (the classifier heads): read in its layout
            Pool.checkOut("avgPool2d", x, s, ceil, y);
            BlockedKernels.globalMean(raw(x), seg(y), kind);
            return;
        }
        Pool.avg(x, s, ceil, y);
    }

    /**
     * The gradient of a mean over the map is written blocked (in bf16 where the convolutions are: the activations it
     * flows into are), so that it meets the blocked activations in their layout. Only where oneDNN runs the
     * convolutions: with OpenBLAS convolutions nothing else is blocked, and oneDNN, which converts layouts, may be absent.
     */
    @Override
    public void avgPool2dBackward(ConvSpec s, boolean ceil, Tensor dy, Tensor dx) {
        if (convImpl != ConvImpl.BLAS && Blocked.fits(dx) && global(s, ceil, dx)) {
            Pool.checkOut("avgPool2dBackward", dx, s, ceil, dy);
            Blocked kind = Blocked.of(dx, convImpl == ConvImpl.DNNL_BF16);
            BlockedKernels.globalMeanBackward(seg(dy), raw(dx), kind);
            markBlocked(dx, kind);
            return;
        }
        Pool.avgBackward(s, ceil, dy, dx);
    }

    /** Whether s pools x's whole map into one value (F.globalAvgPool). */
    private static boolean global(ConvSpec s, boolean ceil, Tensor x) {
        return x.rank() == 4 && s.kh() == x.dim(2) && s.kw() == x.dim(3) && s.padH() == 0 && s.padW() == 0
                && s.dilH() == 1 && s.dilW() == 1 && s.poolOutH(x.dim(2), ceil) == 1 && s.poolOutW(x.dim(3), ceil) == 1;
    }

    @Override public void resizeBilinear(Tensor x, boolean alignCorners, Tensor y) { Resize.forward(x, alignCorners, y); }

    @Override public void resizeBilinearBackward(Tensor dy, boolean alignCorners, Tensor dx) { Resize.backward(dy, alignCorners, dx); }

    // ---------------------------------------------------------------- losses
    @Override
    public float multilabelSoftMarginLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) {
        return Losses.multilabelSoftMargin(logits, targets, dlogits, gradScale);
    }

    @Override
    public float bceWithLogitsLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) {
        return Losses.bceWithLogits(logits, targets, dlogits, gradScale);
    }

    @Override
    public float crossEntropyLoss(Tensor logits, Tensor labels, Tensor classWeights, int ignoreIndex, Tensor dlogits, float gradScale) {
        return Losses.crossEntropy(logits, labels, classWeights, ignoreIndex, dlogits, gradScale);
    }

    // ---------------------------------------------------------------- optimizer
    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, float lr, float momentum, float weightDecay, boolean firstStep) {
        sameShape("sgdStep", param, grad);
        if (momentum != 0f && buf == null) throw new IllegalArgumentException("sgdStep: momentum needs a buffer for " + param);
        // the update is elementwise: it runs in the gradient's layout when that is OIhw16i16o (see BlockedWeights),
        // bringing the parameter and its momentum there once (a first step overwrites the momentum: no conversion)
        BlockedWeights kind = BlockedWeights.in(grad);
        if (kind != null && BlockedWeights.fits(param) && (buf == null || BlockedWeights.fits(buf))) {
            storage(param).toBlocked(kind);
            if (buf != null) {
                if (firstStep) storage(buf).setBlocked(kind);
                else storage(buf).toBlocked(kind);
            }
        } else kind = null;
        MemorySegment p = kind != null ? raw(param) : seg(param), g = kind != null ? raw(grad) : seg(grad),
                m = buf == null ? null : kind != null ? raw(buf) : seg(buf);
        Parallel.chunks(param.numel(), (from, count) -> Elementwise.sgd(p, g, m, from, count, lr, momentum, weightDecay, firstStep));
    }

    @Override public String toString() { return "CpuBackend(" + Parallel.THREADS + " threads, convolutions " + convImpl.name().toLowerCase(java.util.Locale.ROOT) + ")"; }

    static FloatVector load(MemorySegment s, long i) { return FloatVector.fromMemorySegment(SP, s, i * 4, java.nio.ByteOrder.nativeOrder()); }

    static void store(FloatVector v, MemorySegment s, long i) { v.intoMemorySegment(s, i * 4, java.nio.ByteOrder.nativeOrder()); }

}
