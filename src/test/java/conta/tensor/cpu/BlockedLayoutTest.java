package conta.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tensors in oneDNN's nChw16c layout (Blocked): the layout against its hand-written index formula, and every op that
 * works on it against the same op on plain tensors (which the PyTorch fixtures check), within float rounding (sums
 * in another order; fused multiply-adds where the plain kernels' scalar tails round twice). Each case also asserts that the blocked path was taken (the output is left blocked), so
 * a silent fall back to plain cannot pass for it.
 */
class BlockedLayoutTest {
    static CpuBackend b;
    private final TestTensors tt = new TestTensors(b, 7, 2);

    @BeforeAll
    static void open() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Blocked.ENABLED, "blocked activations switched off (-Dconta.cpu.blocked=false)");
        b = new CpuBackend(CpuBackend.ConvImpl.DNNL, false);
    }

    /** Whether this class's backends hold bf16 activations in NHWC (BlockedLayoutNhwcTest) or nChw16c (here). */
    static boolean nhwc() { return b.nhwcHalf(); }

    /** A bf16 backend that holds bf16 activations as b does. */
    static CpuBackend bf16Backend() { return new CpuBackend(CpuBackend.ConvImpl.DNNL_BF16, nhwc()); }

    @AfterAll
    static void close() { if (b != null) b.close(); }

    @AfterEach
    void free() { tt.closeAll(); }

    private Tensor t(float[] v, int... shape) { return tt.of(v, shape); }

    private Tensor rand(int... shape) { return tt.rand(shape); }

    private Tensor empty(int... shape) { return tt.empty(shape); }

    /** A copy of x (plain) held in nChw16c. */
    private Tensor blocked(Tensor x) {
        Tensor y = t(x.toArray(), x.shape());
        CpuBackend.storage(y).toBlocked(Blocked.of(y, false));
        return y;
    }

    private static boolean isBlocked(Tensor x) { return CpuBackend.storage(x).blocked() != null; }

    private static void assertBlocked(Tensor x) { assertTrue(Blocked.holds(x), x + " should have been left in nChw16c"); }

    /** |got - want| <= tol * (max |want| + |want|) per element: float rounding in sums of another order. */
    static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length);
        double scale = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], tol * (scale + Math.abs(want[i])), what + ": element " + i);
    }

    static final int N = 3, C = 32, H = 5, W = 7;

    @Test
    void layoutMatchesTheIndexFormula() {
        Tensor x = rand(N, C, H, W);
        float[] plain = x.toArray();
        Tensor y = blocked(x);
        MemorySegment raw = CpuBackend.storage(y).rawSegment();
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int h = 0; h < H; h++)
                    for (int w = 0; w < W; w++) {
                        long at = ((((long) n * (C / 16) + c / 16) * H + h) * W + w) * 16 + c % 16;
                        assertEquals(plain[((n * C + c) * H + h) * W + w], raw.getAtIndex(CpuBackend.F, at));
                    }
        assertArrayEquals(plain, y.toArray(), "reading converts back");
        assertNull(CpuBackend.storage(y).blocked(), "and leaves it plain");
        assertEquals(0, CpuBackend.storage(y).rawSegment().address() % 64, "64-byte aligned");
    }

    @Test
    void channelsNotInSixteensStayPlain() {
        Tensor x = rand(2, 24, 3, 3), y = empty(2, 24, 3, 3);
        assertTrue(!Blocked.fits(x));
        b.relu(x, y);
        assertNull(CpuBackend.storage(y).blocked());
    }

    @Test
    void elementwiseOpsKeepTheLayout() {
        Tensor a = rand(N, C, H, W), c = rand(N, C, H, W);
        Tensor want = empty(N, C, H, W), got = empty(N, C, H, W);
        b.addRelu(a, c, want);
        b.addRelu(blocked(a), blocked(c), got);
        assertBlocked(got);
        assertArrayEquals(want.toArray(), got.toArray());

        // mixed layouts: the plain operand is converted to the blocked one's layout
        Tensor got2 = empty(N, C, H, W), ab = blocked(a);
        b.reluBackward(ab, c, got2);
        assertBlocked(got2);
        b.reluBackward(a, c, want);
        assertArrayEquals(want.toArray(), got2.toArray());

        Tensor g = blocked(c);
        b.addScaled(g, 0.5f, blocked(a), -2f, g); // in place
        assertBlocked(g);
        b.addScaled(c, 0.5f, a, -2f, want);
        assertArrayEquals(want.toArray(), g.toArray());
    }

    @Test
    void fillDropsTheLayoutWithoutConverting() {
        Tensor x = blocked(rand(N, C, H, W));
        b.fill(x, 0f);
        assertNull(CpuBackend.storage(x).blocked());
        assertEquals(0.0, b.sum(x));
    }

    @Test
    void frozenBatchNormForwardAndBackward() {
        Tensor x = rand(N, C, H, W), scale = rand(C), shift = rand(C), dy = rand(N, C, H, W);
        for (boolean relu : new boolean[]{false, true}) {
            Tensor want = empty(N, C, H, W), got = empty(N, C, H, W), xb = blocked(x);
            if (relu) { b.channelAffineRelu(x, scale, shift, want); b.channelAffineRelu(xb, scale, shift, got); }
            else { b.channelAffine(x, scale, shift, want); b.channelAffine(xb, scale, shift, got); }
            assertBlocked(got);
            // one rounding apart at most: the plain kernel's scalar tail (H*W % vector length) does not fuse the multiply-add
            assertClose(want.toArray(), got.toArray(), 1e-7, "y, relu " + relu);

            Tensor y = relu ? want : null, yb = relu ? got : null;
            Tensor dxW = empty(N, C, H, W), dxG = empty(N, C, H, W), sgW = empty(C), sgG = empty(C), sgxW = empty(C), sgxG = empty(C);
            b.channelAffineBackward(x, y, dy, scale, dxW, sgW, sgxW);
            b.channelAffineBackward(xb, yb, blocked(dy), scale, dxG, sgG, sgxG);
            assertBlocked(dxG);
            assertClose(dxW.toArray(), dxG.toArray(), 1e-7, "dx, relu " + relu);
            assertClose(sgW.toArray(), sgG.toArray(), 1e-6, "sum g");
            assertClose(sgxW.toArray(), sgxG.toArray(), 1e-6, "sum g x");
        }
    }

    @Test
    void batchNormWithBatchStatistics() {
        // an offset mean: the shifted sums must keep the variance accurate (|mean| >> std)
        float[] v = rand(N, C, H, W).toArray();
        for (int i = 0; i < v.length; i++) v[i] = 30f + v[i] * 0.1f;
        Tensor x = t(v, N, C, H, W), gamma = rand(C), beta = rand(C), dy = rand(N, C, H, W);
        for (boolean relu : new boolean[]{false, true}) {
            Tensor[] want = bn(x, gamma, beta, dy, relu, false), got = bn(x, gamma, beta, dy, relu, true);
            String[] names = {"y", "saveMean", "saveInvStd", "runMean", "runVar", "dx", "dgamma", "dbeta"};
            for (int i = 0; i < names.length; i++)
                assertClose(want[i].toArray(), got[i].toArray(), 1e-5, names[i] + ", relu " + relu);
        }
    }

    private Tensor[] bn(Tensor x, Tensor gamma, Tensor beta, Tensor dy, boolean relu, boolean blockedIn) {
        Tensor xin = blockedIn ? blocked(x) : x, y = empty(N, C, H, W), mean = empty(C), inv = empty(C);
        Tensor rm = t(new float[C], C), rv = t(filled(C, 1f), C), dx = empty(N, C, H, W), dg = t(new float[C], C), db = t(new float[C], C);
        if (relu) b.batchNormReluTrain(xin, gamma, beta, rm, rv, 0.1f, 1e-5f, y, mean, inv);
        else b.batchNormTrain(xin, gamma, beta, rm, rv, 0.1f, 1e-5f, y, mean, inv);
        if (blockedIn) assertBlocked(y);
        Tensor dyin = blockedIn ? blocked(dy) : dy;
        if (relu) b.batchNormReluBackward(xin, gamma, y, dyin, mean, inv, dx, dg, db);
        else b.batchNormBackward(xin, gamma, dyin, mean, inv, dx, dg, db);
        if (blockedIn) assertBlocked(dx);
        return new Tensor[]{y, mean, inv, rm, rv, dx, dg, db};
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    @Test
    void convolutionsReadAndWriteTheLayout() {
        // 3x3 pad 1 on 32 -> 48 channels: oneDNN's f32 kernels on AVX-512 choose nChw16c for both activations
        Tensor x = rand(2, 32, 9, 11), w = rand(48, 32, 3, 3), dy = rand(2, 48, 9, 11);
        ConvSpec s = ConvSpec.of(3, 1, 1, 1);
        Tensor yW = empty(2, 48, 9, 11), yG = empty(2, 48, 9, 11);
        b.conv2d(x, w, null, s, yW);
        Tensor xb = blocked(x);
        b.conv2d(xb, w, null, s, yG);
        assertNotNull(CpuBackend.storage(xb).blocked(), "the blocked input is read as it is");
        boolean chose = isBlocked(yG); // the kernel choice is oneDNN's: where it picks another layout both stay plain
        assertClose(yW.toArray(), yG.toArray(), 1e-6, "y");

        Tensor dxW = empty(2, 32, 9, 11), dxG = empty(2, 32, 9, 11), dwW = t(new float[48 * 32 * 9], 48, 32, 3, 3), dwG = t(new float[48 * 32 * 9], 48, 32, 3, 3);
        b.conv2dBackward(x, w, dy, s, dxW, dwW, null);
        b.conv2dBackward(blocked(x), w, blocked(dy), s, dxG, dwG, null);
        if (chose) assertBlocked(dxG);
        assertNull(CpuBackend.storage(dwG).blocked(), "weight gradients stay plain");
        assertClose(dxW.toArray(), dxG.toArray(), 1e-6, "dx");
        assertClose(dwW.toArray(), dwG.toArray(), 1e-6, "dw");
    }

    /**
     * Every convolution kind of a ResNet, in f32 and bf16: a blocked input gives what the plain input gives, whether
     * oneDNN reads it as it is or converts it into the layout it wants (bf16; strided kernels that pick NHWC), and
     * the blocked input stays blocked for its other readers.
     */
    @Test
    void convolutionsOfEveryKindAgreeOnBlockedInputs() {
        try (CpuBackend bf = bf16Backend()) {
            for (CpuBackend be : new CpuBackend[]{b, bf})
                for (ConvSpec s : new ConvSpec[]{ConvSpec.of(1, 1, 0, 1), ConvSpec.of(1, 2, 0, 1), ConvSpec.of(3, 1, 1, 1), ConvSpec.of(3, 2, 1, 1)}) {
                    String what = (be == b ? "f32 " : "bf16 ") + s;
                    int h = 14, w = 14, oh = s.outH(h), ow = s.outW(w);
                    Tensor x = rand(2, 32, h, w), wt = rand(32, 32, s.kh(), s.kw()), dy = rand(2, 32, oh, ow);
                    Tensor[] want = conv(be, x, wt, dy, s), got = conv(be, blocked(x), wt, blocked(dy), s);
                    String[] names = {"y", "dx", "dw"};
                    for (int i = 0; i < 3; i++) assertClose(want[i].toArray(), got[i].toArray(), 1e-6, what + " " + names[i]);
                }
        }
    }

    private Tensor[] conv(CpuBackend be, Tensor x, Tensor w, Tensor dy, ConvSpec s) {
        Tensor y = empty(dy.shape()), dx = empty(x.shape()), dw = t(new float[(int) w.numel()], w.shape());
        be.conv2d(x, w, null, s, y);
        be.conv2dBackward(x, w, dy, s, dx, dw, null);
        if (Blocked.holds(dy)) {
            assertTrue(Blocked.holds(x), "blocked inputs stay blocked");
            // outputs are left blocked, written so by oneDNN or converted straight from the layout it wrote (the
            // strided kernels' NHWC), wherever oneDNN picks a blocked or NHWC layout (every AVX-512 host)
            if (BlockedWeightsTest.AVX512 && Blocked.ENABLED) assertTrue(Blocked.holds(y) && Blocked.holds(dx), "outputs left blocked");
        }
        return new Tensor[]{y, dx, dw};
    }

    /**
     * got is want rounded once to bf16: within half a bf16 step at want's magnitude (2^(e-8) for want in [2^e,
     * 2^(e+1)): bf16 keeps 8 significant bits), plus atol times the largest |want| for f32 sums taken in another order.
     */
    static void assertHalfOf(float[] want, float[] got, double atol, String what) {
        assertEquals(want.length, got.length);
        double scale = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], (want[i] == 0 ? 0 : Math.scalb(1.0, Math.getExponent(want[i]) - 8)) + atol * scale,
                    what + ": element " + i);
    }

    /** A copy of x held in bf16 nChw16c or NHWC as b holds them (values rounded to bf16). */
    private Tensor blockedHalf(Tensor x) {
        Tensor y = t(x.toArray(), x.shape());
        CpuBackend.storage(y).toBlocked(Blocked.of(y, true));
        return y;
    }

    /** x's values rounded to bf16 (nearest even), in a plain f32 tensor: what a bf16 tensor holds. */
    private Tensor roundedHalf(Tensor x) { return t(blockedHalf(x).toArray(), x.shape()); }

    private static void assertHalf(Tensor x) {
        Blocked l = Blocked.in(x);
        assertTrue(l != null && l.half() && l.nhwc() == nhwc(), x + " should have been left in bf16 " + (nhwc() ? "NHWC" : "nChw16c") + ", holds " + l);
    }

    /** The bf16 rounding of one value, by hand: round to nearest even on the top 16 bits. */
    private static float bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return Float.intBitsToFloat((bits + 0x7FFF + ((bits >>> 16) & 1)) & 0xFFFF0000);
    }

    @Test
    void halfLayoutRoundsToNearestEvenAndConvertsBack() {
        float[] v = rand(N, C, H, W).toArray();
        v[0] = 1f + 1f / 256; // halfway between two bf16 values: to the even one, 1.0
        v[1] = 1f + 3f / 256; // halfway: up to the even 1 + 4/256
        v[2] = Float.NaN;
        Tensor y = blockedHalf(t(v, N, C, H, W));
        MemorySegment raw = CpuBackend.storage(y).rawSegment();
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int p = 0; p < H * W; p++) {
                    long at = nhwc() ? ((long) n * H * W + p) * C + c // NHWC, by hand
                            : (((long) n * (C / 16) + c / 16) * H * W + p) * 16 + c % 16;
                    float want = v[(n * C + c) * H * W + p], got = BlockedKernels.get(raw, at, true);
                    if (Float.isNaN(want)) assertTrue(Float.isNaN(got));
                    else assertEquals(bf16(want), got);
                }
        float[] back = y.toArray();
        assertEquals(1f, back[0]);
        assertEquals(1f + 4f / 256, back[1]);
        assertTrue(Float.isNaN(back[2]));
    }

    /**
     * The bf16 kernels against the f32 ops on the same (bf16-rounded) inputs: they compute in f32 and round the
     * output once, so each output is the f32 result rounded once (see assertHalfOf); a truncating rounding fails.
     */
    @Test
    void halfKernelsMatchF32OnRoundedInputs() {
        Tensor x = roundedHalf(rand(N, C, H, W)), dy = roundedHalf(rand(N, C, H, W)), scale = rand(C), shift = rand(C);

        Tensor want = empty(N, C, H, W), got = empty(N, C, H, W);
        b.addRelu(x, dy, want);
        b.addRelu(blockedHalf(x), blockedHalf(dy), got);
        assertHalf(got);
        assertHalfOf(want.toArray(), got.toArray(), 1e-7, "addRelu");

        Tensor g = empty(N, C, H, W);
        b.addScaled(x, 0.5f, dy, -2f, want);
        b.addScaled(blockedHalf(x), 0.5f, dy, -2f, g); // plain dy meets bf16: rounded to it
        assertHalf(g);
        assertHalfOf(want.toArray(), g.toArray(), 1e-7, "addScaled with a plain operand");

        Tensor yW = empty(N, C, H, W), yG = empty(N, C, H, W), xb = blockedHalf(x);
        b.channelAffineRelu(x, scale, shift, yW);
        b.channelAffineRelu(xb, scale, shift, yG);
        assertHalf(yG);
        assertHalfOf(yW.toArray(), yG.toArray(), 1e-7, "affine relu");

        Tensor yWr = roundedHalf(yW), dxW = empty(N, C, H, W), dxG = empty(N, C, H, W), sgW = empty(C), sgG = empty(C), sgxW = empty(C), sgxG = empty(C);
        b.channelAffineBackward(x, yWr, dy, scale, dxW, sgW, sgxW);
        b.channelAffineBackward(xb, yG, blockedHalf(dy), scale, dxG, sgG, sgxG);
        assertHalf(dxG);
        assertHalfOf(dxW.toArray(), dxG.toArray(), 1e-7, "affine backward dx");
        assertClose(sgW.toArray(), sgG.toArray(), 1e-6, "sum g");
        assertClose(sgxW.toArray(), sgxG.toArray(), 1e-6, "sum g x");

        Tensor sumW = empty(C), sumG = empty(C);
        b.channelDot(dy, x, sumW, false);
        b.channelDot(blockedHalf(dy), blockedHalf(x), sumG, false);
        assertClose(sumW.toArray(), sumG.toArray(), 1e-6, "channelDot");

        halfBatchNormMatchesF32(x, dy, true);
    }

    /**
     * bf16 batch norm with batch statistics (with its fused ReLU when relu), forward and backward, against the f32 op
     * on the same bf16-rounded x and dy: statistics and parameter gradients to f32 sums' accuracy, outputs within one
     * bf16 rounding.
     */
    private void halfBatchNormMatchesF32(Tensor x, Tensor dy, boolean relu) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor gamma = rand(c), beta = rand(c), xb = blockedHalf(x);
        Tensor mW = empty(c), iW = empty(c), mG = empty(c), iG = empty(c), yW = empty(n, c, h, w), yG = empty(n, c, h, w);
        if (relu) {
            b.batchNormReluTrain(x, gamma, beta, null, null, 0.1f, 1e-5f, yW, mW, iW);
            b.batchNormReluTrain(xb, gamma, beta, null, null, 0.1f, 1e-5f, yG, mG, iG);
        } else {
            b.batchNormTrain(x, gamma, beta, null, null, 0.1f, 1e-5f, yW, mW, iW);
            b.batchNormTrain(xb, gamma, beta, null, null, 0.1f, 1e-5f, yG, mG, iG);
        }
        assertHalf(yG);
        assertClose(mW.toArray(), mG.toArray(), 1e-6, "batch mean");
        assertClose(iW.toArray(), iG.toArray(), 1e-6, "batch inverse std");
        assertHalfOf(yW.toArray(), yG.toArray(), 1e-5, relu ? "batch norm relu" : "batch norm");
        Tensor dxW = empty(n, c, h, w), dxG = empty(n, c, h, w), dgW = t(new float[c], c), dgG = t(new float[c], c), dbW = t(new float[c], c), dbG = t(new float[c], c);
        if (relu) {
            b.batchNormReluBackward(x, gamma, roundedHalf(yW), dy, mW, iW, dxW, dgW, dbW);
            b.batchNormReluBackward(xb, gamma, yG, blockedHalf(dy), mG, iG, dxG, dgG, dbG);
        } else {
            b.batchNormBackward(x, gamma, dy, mW, iW, dxW, dgW, dbW);
            b.batchNormBackward(xb, gamma, blockedHalf(dy), mG, iG, dxG, dgG, dbG);
        }
        assertHalf(dxG);
        assertClose(dgW.toArray(), dgG.toArray(), 1e-5, "dgamma");
        assertClose(dbW.toArray(), dbG.toArray(), 1e-5, "dbeta");
        assertHalfOf(dxW.toArray(), dxG.toArray(), 1e-5, "batch norm backward dx");
    }

    /**
     * Batch norm with batch statistics on a map large enough that its sums are split over several position ranges or
     * image ranges and the passes run on several threads (4 x 64 x 16 x 16: 65536 values), bf16, against the f32 op.
     */
    @Test
    void halfBatchNormSplitOverThreads() {
        int n = 4, c = 64, h = 16;
        halfBatchNormMatchesF32(roundedHalf(rand(n, c, h, h)), roundedHalf(rand(n, c, h, h)), false);
    }

    /**
     * bf16 convolutions read and write the held bf16 layout (nChw16c here, NHWC in BlockedLayoutNhwcTest); results as
     * from plain inputs (the same bf16 values go in).
     */
    @Test
    void bf16ConvolutionsKeepBf16Activations() {
        try (CpuBackend bf = bf16Backend()) {
            Tensor x = roundedHalf(rand(2, 32, 9, 11)), w = rand(48, 32, 3, 3), dy = roundedHalf(rand(2, 48, 9, 11));
            ConvSpec s = ConvSpec.of(3, 1, 1, 1);
            Tensor yW = empty(2, 48, 9, 11), yG = empty(2, 48, 9, 11);
            bf.conv2d(x, w, null, s, yW);
            bf.conv2d(blockedHalf(x), w, null, s, yG);
            boolean chose = Blocked.holds(yG, true); // oneDNN's choice; on AVX512-BF16 hosts it picks nChw16c
            assertClose(yW.toArray(), yG.toArray(), 1e-6, "y");
            Tensor dxW = empty(2, 32, 9, 11), dxG = empty(2, 32, 9, 11), dwW = t(new float[(int) w.numel()], w.shape()), dwG = t(new float[(int) w.numel()], w.shape());
            bf.conv2dBackward(x, w, dy, s, dxW, dwW, null);
            bf.conv2dBackward(blockedHalf(x), w, blockedHalf(dy), s, dxG, dwG, null);
            if (chose) assertHalf(dxG);
            assertClose(dxW.toArray(), dxG.toArray(), 1e-6, "dx");
            assertClose(dwW.toArray(), dwG.toArray(), 1e-6, "dw");
        }
    }

    /**
     * DeepLab's ASPP classifier (2048 -> 21, rate 6) in bf16 training: on AMX hosts it computes in f32
     * (DnnlConv.f32Faster) on the bf16 activations, converted in and out. y, dx and dw against the f32 backend on the
     * same bf16-exact inputs: to f32 accuracy on AMX (dx then rounded once to bf16 where it is held so), within bf16
     * rounding elsewhere.
     */
    @Test
    void wideDilatedConvolutionInBf16Training() {
        try (CpuBackend bf = bf16Backend()) {
            int c = 2048, k = 21, h = 14;
            ConvSpec s = ConvSpec.of(3, 1, 6, 6);
            Tensor x = roundedHalf(rand(1, c, h, h)), w = rand(k, c, 3, 3), dy = rand(1, k, h, h);
            Tensor yW = empty(1, k, h, h), yG = empty(1, k, h, h);
            b.conv2d(x, w, null, s, yW);
            bf.conv2d(blockedHalf(x), w, null, s, yG);
            boolean f32 = DnnlConv.f32Faster(c, s);
            assertClose(yW.toArray(), yG.toArray(), f32 ? 1e-6 : 1e-2, "y");
            Tensor dxW = empty(1, c, h, h), dxG = empty(1, c, h, h), dwW = t(new float[(int) w.numel()], w.shape()), dwG = t(new float[(int) w.numel()], w.shape());
            b.conv2dBackward(x, w, dy, s, dxW, dwW, null);
            bf.conv2dBackward(blockedHalf(x), w, dy, s, dxG, dwG, null);
            if (Blocked.in(dxG) != null) assertHalf(dxG);
            if (f32) assertHalfOf(dxW.toArray(), dxG.toArray(), 1e-6, "dx"); // f32 sums, rounded once to bf16
            else assertClose(dxW.toArray(), dxG.toArray(), 1e-2, "dx");
            assertClose(dwW.toArray(), dwG.toArray(), f32 ? 1e-6 : 1e-2, "dw");
        }
    }

    /**
     * Max pooling on blocked f32 and bf16 (ResNet's stem: 3x3, stride 2, pad 1; and ceil mode) against the plain
     * kernel, on values with many ties (the first maximum in row-major order wins) and a NaN (it wins its windows).
     */
    @Test
    void maxPoolingOnBlockedInputs() {
        float[] v = new float[2 * 32 * 9 * 11];
        for (int i = 0; i < v.length; i++) v[i] = tt.nextInt(5) - 2; // ties everywhere
        v[37] = Float.NaN;
        Tensor x = t(v, 2, 32, 9, 11), dyAny = null;
        for (boolean ceil : new boolean[]{false, true})
            for (boolean half : new boolean[]{false, true}) {
                ConvSpec s = ConvSpec.of(3, 2, 1, 1);
                int oh = s.poolOutH(9, ceil), ow = s.poolOutW(11, ceil);
                Tensor dy = roundedHalf(rand(2, 32, oh, ow));
                Tensor yW = empty(2, 32, oh, ow), yG = empty(2, 32, oh, ow), dxW = empty(x.shape()), dxG = empty(x.shape());
                Tensor xb = half ? blockedHalf(x) : blocked(x);
                b.maxPool2d(x, s, ceil, yW);
                b.maxPool2d(xb, s, ceil, yG);
                assertTrue(Blocked.holds(yG, half), "pooled in the layout");
                assertArrayEquals(yW.toArray(), yG.toArray(), "ceil " + ceil + " half " + half);
                b.maxPool2dBackward(x, s, ceil, dy, dxW);
                b.maxPool2dBackward(xb, s, ceil, half ? blockedHalf(dy) : blocked(dy), dxG);
                assertTrue(Blocked.holds(dxG, half));
                if (half) assertHalfOf(dxW.toArray(), dxG.toArray(), 0, "dx ceil " + ceil); // summed in f32, rounded once
                else assertArrayEquals(dxW.toArray(), dxG.toArray(), "dx ceil " + ceil);
            }
    }

    /**
     * The mean over the map (the classifier heads' global average pooling) on blocked f32 and bf16 inputs: the same
     * double sums as the plain kernel (bit for bit), the input read as it is; its gradient written blocked (bf16 where
     * the convolutions are), the plain kernel's values (rounded once for bf16).
     */
    @Test
    void globalAveragePoolingOnBlockedInputs() {
        ConvSpec s = new ConvSpec(9, 11, 1, 1, 0, 0, 1, 1);
        try (CpuBackend bf = bf16Backend()) {
            for (boolean half : new boolean[]{false, true}) {
                CpuBackend be = half ? bf : b;
                Tensor x = half ? roundedHalf(rand(2, 32, 9, 11)) : rand(2, 32, 9, 11), xb = half ? blockedHalf(x) : blocked(x);
                Tensor yW = empty(2, 32, 1, 1), yG = empty(2, 32, 1, 1);
                Pool.avg(x, s, false, yW); // the plain kernel
                be.avgPool2d(xb, s, false, yG);
                assertTrue(Blocked.holds(xb, half), "read in its layout, not converted");
                assertArrayEquals(yW.toArray(), yG.toArray(), 0f, "mean, half " + half);
                Tensor dy = rand(2, 32, 1, 1), dxW = empty(x.shape()), dxG = empty(x.shape());
                Pool.avgBackward(s, false, dy, dxW);
                be.avgPool2dBackward(s, false, dy, dxG);
                assertTrue(Blocked.holds(dxG, half), "gradient written blocked, half " + half);
                if (half) assertHalfOf(dxW.toArray(), dxG.toArray(), 0, "dx");
                else assertArrayEquals(dxW.toArray(), dxG.toArray(), 0f, "dx");
            }
        }
    }

    /**
     * With OpenBLAS convolutions (oneDNN absent, as in the GPU package) nothing is blocked: the global mean's gradient
     * stays plain. Blocking it there made the GPU self-test's CPU reference fail with NoClassDefFoundError (dnnl_engine).
     */
    @Test
    void blasConvolutionsLeaveTheGlobalMeanGradientPlain() {
        ConvSpec s = new ConvSpec(9, 11, 1, 1, 0, 0, 1, 1);
        try (CpuBackend blas = new CpuBackend(CpuBackend.ConvImpl.BLAS)) {
            Tensor dy = rand(2, 32, 1, 1), dxW = empty(2, 32, 9, 11), dxG = empty(2, 32, 9, 11);
            Pool.avgBackward(s, false, dy, dxW);
            blas.avgPool2dBackward(s, false, dy, dxG);
            assertTrue(!isBlocked(dxG), "plain under BLAS convolutions");
            assertArrayEquals(dxW.toArray(), dxG.toArray(), 0f, "dx");
        }
    }

    /**
     * The strided convolutions of a ResNet at its real map sizes, where oneDNN's backward-data picks NHWC kernels
     * (brgconv_strided on AVX-512): dx is copied from NHWC into nChw16c by BlockedKernels.fromNhwc (the copy must have
     * run) and equals the plain path's dx; f32 and bf16.
     */
    @Test
    void nhwcOutputsCopiedIntoTheLayout() {
        try (CpuBackend bf = bf16Backend()) {
            for (CpuBackend be : new CpuBackend[]{b, bf}) {
                boolean half = be == bf;
                long before = be.dnnl().nhwcCopies();
                for (ConvSpec s : new ConvSpec[]{ConvSpec.of(1, 2, 0, 1), ConvSpec.of(3, 2, 1, 1)}) {
                    int cin = s.kh() == 1 ? 256 : 128, cout = s.kh() == 1 ? 512 : 128, h = 56, oh = s.outH(h);
                    Tensor x = half ? roundedHalf(rand(2, cin, h, h)) : rand(2, cin, h, h), w = rand(cout, cin, s.kh(), s.kw());
                    Tensor dy = half ? roundedHalf(rand(2, cout, oh, oh)) : rand(2, cout, oh, oh);
                    Tensor dxW = empty(x.shape()), dxG = empty(x.shape());
                    be.conv2dBackward(x, w, dy, s, dxW, null, null);
                    be.conv2dBackward(half ? blockedHalf(x) : blocked(x), w, half ? blockedHalf(dy) : blocked(dy), s, dxG, null, null);
                    assertTrue(Blocked.holds(dxG, half), "dx left blocked, " + s);
                    assertArrayEquals(dxW.toArray(), dxG.toArray(), 0f, (half ? "bf16 " : "f32 ") + s);
                }
                // where bf16 activations are held in NHWC, oneDNN's NHWC bf16 outputs are used as they are: no copy
                if (BlockedWeightsTest.AVX512 && !(half && nhwc()))
                    assertTrue(be.dnnl().nhwcCopies() > before, "an NHWC output was copied, half " + half);
            }
        }
    }
}
