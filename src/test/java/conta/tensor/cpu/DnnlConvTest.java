package conta.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.tensor.ConvGeometry;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** oneDNN convolutions against the OpenBLAS im2col+sgemm reference: forward, dx, dw and db, accumulation and null grads. */
class DnnlConvTest {
    static final double TOL = 1e-4;

    static CpuBackend dnnl, blas;
    private final List<Tensor> live = new ArrayList<>();

    static Stream<ConvGeometry> geometries() {
        return Stream.of(
                new ConvGeometry("1x1 batch3 bias", 3, 16, 7, 9, 32, ConvSpec.of(1, 1, 0, 1), true),
                new ConvGeometry("1x1 56x56 map (plain NCHW kernels)", 2, 8, 56, 57, 16, ConvSpec.of(1, 1, 0, 1), true),
                new ConvGeometry("1x1 stride2 batch1 odd", 1, 32, 9, 11, 16, ConvSpec.of(1, 2, 0, 1), false),
                new ConvGeometry("1x1 stride2 batch3 (resnet downsample)", 3, 24, 14, 14, 48, ConvSpec.of(1, 2, 0, 1), false),
                new ConvGeometry("3x3 pad1 batch3 bias", 3, 24, 13, 10, 20, ConvSpec.of(3, 1, 1, 1), true),
                new ConvGeometry("3x3 stride2 pad1 odd channels", 1, 17, 15, 13, 33, ConvSpec.of(3, 2, 1, 1), false),
                new ConvGeometry("3x3 stride2 pad0 (last row unused)", 3, 5, 8, 8, 6, ConvSpec.of(3, 2, 0, 1), true),
                new ConvGeometry("7x7 stride2 pad3 rgb input", 3, 3, 29, 31, 16, ConvSpec.of(7, 2, 3, 1), true),
                new ConvGeometry("3x3 dilation2 pad2", 1, 16, 17, 19, 8, ConvSpec.of(3, 1, 2, 2), false),
                new ConvGeometry("3x3 dilation12 pad12 (ASPP)", 3, 8, 25, 27, 5, ConvSpec.of(3, 1, 12, 12), true),
                new ConvGeometry("3x3 dilation24 pad24 larger than map", 1, 16, 13, 11, 21, ConvSpec.of(3, 1, 24, 24), true),
                new ConvGeometry("ASPP rate 18 on 8x8 (centre tap only)", 3, 32, 8, 8, 5, ConvSpec.of(3, 1, 18, 18), true),
                new ConvGeometry("3x3 dilation12 on 11x27 (rows dead, columns live)", 2, 8, 11, 27, 6, ConvSpec.of(3, 1, 12, 12), true),
                new ConvGeometry("kh3 kw5 stride(2,1) pad(1,2) dil(1,2)", 3, 6, 11, 13, 7, new ConvSpec(3, 5, 2, 1, 1, 2, 1, 2), true),
                new ConvGeometry("3x3 pad1 64ch batch1", 1, 64, 14, 14, 64, ConvSpec.of(3, 1, 1, 1), false));
    }

    @BeforeAll
    static void open() {
        dnnl = new CpuBackend(CpuBackend.ConvImpl.DNNL);
        blas = new CpuBackend(CpuBackend.ConvImpl.BLAS);
    }

    @AfterAll
    static void close() {
        dnnl.close();
        blas.close();
    }

    @AfterEach
    void free() {
        for (Tensor t : live) t.close();
        live.clear();
    }

    private Tensor t(CpuBackend b, float[] v, int... shape) {
        Tensor x = Tensor.of(b, v, shape);
        live.add(x);
        return x;
    }

    private static float[] rand(SplittableRandom r, long n, double scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return v;
    }

    private static float[] nan(long n) {
        float[] v = new float[Math.toIntExact(n)];
        java.util.Arrays.fill(v, Float.NaN);
        return v;
    }

    /** max |a - ref| <= TOL * max(1e-3, max |ref|), and no NaN. */
    static void close(String what, float[] ref, float[] got) { close(what, ref, got, TOL); }

    static void close(String what, float[] ref, float[] got, double tol) {
        assertEquals(ref.length, got.length, what + ": length");
        double scale = 1e-3, err = 0;
        for (float v : ref) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Float.isFinite(got[i]), what + ": non-finite value at " + i);
            err = Math.max(err, Math.abs(got[i] - ref[i]));
        }
        assertTrue(err <= tol * scale, what + ": max error " + err + " > " + tol + " x " + scale);
    }

    /** {y, dx, dw (accumulated onto dw0), db (accumulated onto db0)} of one geometry on one backend, seeded by its name. */
    private float[][] forwardBackward(CpuBackend b, ConvGeometry g) {
        SplittableRandom r = new SplittableRandom(g.name().hashCode());
        int oh = g.s().outH(g.h()), ow = g.s().outW(g.w());
        int[] xs = {g.n(), g.c(), g.h(), g.w()}, ws = {g.o(), g.c(), g.s().kh(), g.s().kw()}, ys = {g.n(), g.o(), oh, ow};
        float[] x = rand(r, Tensor.numel(xs), 1), w = rand(r, Tensor.numel(ws), 0.3), bias = g.bias() ? rand(r, g.o(), 1) : null;
        float[] dy = rand(r, Tensor.numel(ys), 1), dw0 = rand(r, Tensor.numel(ws), 1), db0 = rand(r, g.o(), 1);
        Tensor tx = t(b, x, xs), tw = t(b, w, ws), tb = g.bias() ? t(b, bias, g.o()) : null, ty = t(b, nan(Tensor.numel(ys)), ys);
        b.conv2d(tx, tw, tb, g.s(), ty);
        Tensor tdy = t(b, dy, ys), tdx = t(b, nan(Tensor.numel(xs)), xs), tdw = t(b, dw0, ws), tdb = t(b, db0, g.o());
        b.conv2dBackward(tx, tw, tdy, g.s(), tdx, tdw, g.bias() ? tdb : null);
        if (!g.bias()) assertEquals(java.util.Arrays.toString(db0), java.util.Arrays.toString(tdb.toArray()), "db untouched when not requested");
        return new float[][]{ty.toArray(), tdx.toArray(), tdw.toArray(), tdb.toArray()};
    }

    private static final String[] OUTPUTS = {"forward", "dx", "dw (accumulated)", "db (accumulated)"};

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void forwardAndGradientsMatchBlas(ConvGeometry g) {
        float[][] ref = forwardBackward(blas, g), got = forwardBackward(dnnl, g);
        for (int i = 0; i < OUTPUTS.length; i++) close(g + " " + OUTPUTS[i], ref[i], got[i]);
    }

    /**
     * ConvImpl.DNNL_BF16 (bfloat16 inputs, f32 accumulation and weight gradients) against the f32 im2col path: within
     * bfloat16 rounding (8-bit mantissa, ~0.4% per input; 3% of the largest value allows for the sums).
     */
    @Test
    void bfloat16ConvolutionsStayWithinBfloat16Rounding() {
        try (CpuBackend bf16 = new CpuBackend(CpuBackend.ConvImpl.DNNL_BF16)) {
            for (ConvGeometry g : geometries().toList().subList(0, 4)) {
                float[][] ref = forwardBackward(blas, g), got = forwardBackward(bf16, g);
                for (int i = 0; i < OUTPUTS.length; i++) close("bf16 " + g + " " + OUTPUTS[i], ref[i], got[i], 3e-2);
                assertTrue(maxDiff(ref[0], got[0]) > 0, "bf16 forward differs from f32 somewhere (it really ran in bf16)");
            }
            assertTrue(bf16.dnnlSharedDy() > 0, "the data pass reused the weight pass's bf16 dy");
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void nullGradientsAreSkippedAndOthersStillRight() {
        ConvGeometry g = new ConvGeometry("3x3", 2, 8, 9, 7, 12, ConvSpec.of(3, 1, 1, 1), true);
        SplittableRandom r = new SplittableRandom(5);
        int[] xs = {g.n(), g.c(), g.h(), g.w()}, ws = {g.o(), g.c(), 3, 3}, ys = {g.n(), g.o(), g.h(), g.w()};
        float[] x = rand(r, Tensor.numel(xs), 1), w = rand(r, Tensor.numel(ws), 0.3), dy = rand(r, Tensor.numel(ys), 1);
        float[] dw0 = rand(r, Tensor.numel(ws), 1), db0 = rand(r, g.o(), 1);
        // frozen layer: dx only
        float[][] dx = new float[2][];
        CpuBackend[] bes = {blas, dnnl};
        for (int i = 0; i < 2; i++) {
            Tensor tx = t(bes[i], x, xs), tw = t(bes[i], w, ws), tdy = t(bes[i], dy, ys), tdx = t(bes[i], nan(Tensor.numel(xs)), xs);
            bes[i].conv2dBackward(tx, tw, tdy, g.s(), tdx, null, null);
            dx[i] = tdx.toArray();
        }
        close("dx only", dx[0], dx[1]);
        // first layer: no dx; bias only (frozen weights, trained bias); weights only
        float[][] dw = new float[2][], db = new float[2][], db2 = new float[2][];
        for (int i = 0; i < 2; i++) {
            Tensor tx = t(bes[i], x, xs), tw = t(bes[i], w, ws), tdy = t(bes[i], dy, ys);
            Tensor tdw = t(bes[i], dw0, ws), tdb = t(bes[i], db0, g.o()), tdb2 = t(bes[i], db0, g.o());
            bes[i].conv2dBackward(tx, tw, tdy, g.s(), null, tdw, null);
            bes[i].conv2dBackward(tx, tw, tdy, g.s(), null, null, tdb);
            bes[i].conv2dBackward(tx, tw, tdy, g.s(), null, tdw, tdb2); // accumulates a second time into dw
            dw[i] = tdw.toArray();
            db[i] = tdb.toArray();
            db2[i] = tdb2.toArray();
        }
        close("dw twice", dw[0], dw[1]);
        close("db only", db[0], db[1]);
        close("db with dw", db2[0], db2[1]);
    }

    @Test
    void leastRecentlyUsedPlansAreEvictedAndRemade() {
        ConvSpec s = ConvSpec.of(3, 1, 1, 1);
        float[][] first = new float[2][];
        try (DnnlConv d = new DnnlConv(2)) {
            for (int round = 0; round < 2; round++) {
                for (int size = 5; size <= 7; size++) { // three forward plans through a cache of two
                    SplittableRandom r = new SplittableRandom(size);
                    Tensor x = t(dnnl, rand(r, 2 * 3 * size * size, 1), 2, 3, size, size), w = t(dnnl, rand(r, 4 * 3 * 9, 1), 4, 3, 3, 3);
                    Tensor y = t(dnnl, new float[2 * 4 * size * size], 2, 4, size, size);
                    d.forward(x, w, null, s, y);
                    if (size == 5) first[round] = y.toArray();
                    Tensor ref = t(blas, new float[2 * 4 * size * size], 2, 4, size, size);
                    blas.conv2d(t(blas, x.toArray(), 2, 3, size, size), t(blas, w.toArray(), 4, 3, 3, 3), null, s, ref);
                    close("evicting cache, size " + size, ref.toArray(), y.toArray());
                }
                assertEquals(2, d.plans());
            }
        }
        assertEquals(java.util.Arrays.toString(first[0]), java.util.Arrays.toString(first[1]), "a remade plan gives the same result");
    }

    /** Which shapes the plain-layout 1x1 rule sends to oneDNN's NCHW kernels (the geometries above cover both kinds). */
    @Test
    void plainLayoutOnlyForStrideOne1x1OnLargeMaps() {
        assertEquals(3136, DnnlConv.PLAIN_1X1_MIN_PIXELS, "the default; the test geometries assume it");
        assertTrue(DnnlConv.plain1x1(ConvSpec.of(1, 1, 0, 1), 56, 57, false));
        assertTrue(DnnlConv.plain1x1(ConvSpec.of(1, 1, 0, 1), 56, 56, false));
        assertFalse(DnnlConv.plain1x1(ConvSpec.of(1, 1, 0, 1), 28, 28, false), "small maps run blocked");
        assertFalse(DnnlConv.plain1x1(ConvSpec.of(1, 2, 0, 1), 112, 112, false), "strided 1x1 runs blocked");
        assertFalse(DnnlConv.plain1x1(ConvSpec.of(3, 1, 1, 1), 112, 112, false), "3x3 runs blocked");
        assertFalse(DnnlConv.plain1x1(ConvSpec.of(1, 1, 0, 1), 56, 57, true), "activations kept blocked: no plain 1x1");
    }

    /** Which dilated convolutions CentreTap turns into 1x1 ones (the geometries above check the results of both kinds). */
    @Test
    void centreTapOnlyWhereEveryOtherTapReadsPadding() {
        assertTrue(CentreTap.applies(ConvSpec.of(3, 1, 18, 18), 8, 8));
        assertTrue(CentreTap.applies(ConvSpec.of(3, 1, 12, 12), 12, 12), "dilation = map size: y +- 12 is outside 0..11");
        assertFalse(CentreTap.applies(ConvSpec.of(3, 1, 12, 12), 13, 12), "row 12 reads row 0");
        assertFalse(CentreTap.applies(ConvSpec.of(3, 1, 12, 12), 11, 27), "columns live");
        assertFalse(CentreTap.applies(ConvSpec.of(3, 2, 24, 24), 8, 8), "strided");
        assertFalse(CentreTap.applies(ConvSpec.of(3, 1, 0, 24), 30, 30), "not 'same' padding");
        assertFalse(CentreTap.applies(ConvSpec.of(1, 1, 0, 1), 8, 8), "already 1x1");
        assertTrue(CentreTap.applies(new ConvSpec(1, 3, 1, 1, 0, 6, 1, 6), 40, 5), "1x3 with dead columns");
    }

    /** A 3x3 convolution over 32 channels gets blocked layouts: the backward reorders dy once, and the result is the reference's. */
    @Test
    void backwardReordersDyOnceForBothPasses() {
        ConvGeometry g = new ConvGeometry("3x3 32ch", 2, 32, 10, 9, 32, ConvSpec.of(3, 1, 1, 1), false);
        try (CpuBackend b = new CpuBackend(CpuBackend.ConvImpl.DNNL)) {
            float[][] ref = forwardBackward(blas, g), got = forwardBackward(b, g);
            for (int i = 0; i < OUTPUTS.length; i++) close(g + " " + OUTPUTS[i], ref[i], got[i]);
            assertEquals(1, b.dnnlSharedDy(), "the data pass reused the weight pass's reordered dy");
        }
    }

    @Test
    void plansAreMadeOncePerShapeAndFreedOnClose() {
        try (CpuBackend b = new CpuBackend(CpuBackend.ConvImpl.DNNL)) {
            ConvSpec s = ConvSpec.of(3, 1, 1, 1);
            Tensor x = t(b, new float[2 * 4 * 6 * 6], 2, 4, 6, 6), w = t(b, new float[5 * 4 * 9], 5, 4, 3, 3);
            Tensor y = t(b, new float[2 * 5 * 36], 2, 5, 6, 6), dx = t(b, new float[2 * 4 * 36], 2, 4, 6, 6), dw = t(b, new float[5 * 36], 5, 4, 3, 3);
            for (int i = 0; i < 3; i++) {
                b.conv2d(x, w, null, s, y);
                b.conv2dBackward(x, w, y, s, dx, dw, null);
            }
            assertEquals(3, b.dnnlPlans(), "forward, backward-data, backward-weights");
            b.close();
            assertEquals(0, b.dnnlPlans());
            b.conv2d(x, w, null, s, y); // usable again after close (a fresh engine)
            assertEquals(1, b.dnnlPlans());
        }
    }
}
