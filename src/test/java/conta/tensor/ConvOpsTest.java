package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** conv2d forward and conv2dBackward (dx, dw, db) against RefOps and finite differences. */
class ConvOpsTest extends OpsTestBase {

    static Stream<ConvGeometry> geometries() {
        return Stream.of(
                new ConvGeometry("3x3 s1 p1 batch2 7x6", 2, 3, 7, 6, 4, ConvSpec.of(3, 1, 1, 1), true),
                new ConvGeometry("3x3 s1 p1 no bias", 2, 3, 5, 6, 3, ConvSpec.of(3, 1, 1, 1), false),
                new ConvGeometry("3x3 stride2 pad1 9x8", 1, 2, 9, 8, 3, ConvSpec.of(3, 2, 1, 1), true),
                new ConvGeometry("3x3 stride2 pad0 8x8 (last row unused)", 2, 2, 8, 8, 2, ConvSpec.of(3, 2, 0, 1), true),
                new ConvGeometry("3x3 dilation2 pad2 9x7", 1, 2, 9, 7, 2, ConvSpec.of(3, 1, 2, 2), true),
                new ConvGeometry("1x1 batch2 5x4", 2, 3, 5, 4, 4, ConvSpec.of(1, 1, 0, 1), true),
                new ConvGeometry("7x7 pad3 8x8", 1, 2, 8, 8, 2, ConvSpec.of(7, 1, 3, 1), true),
                new ConvGeometry("7x7 stride2 pad3 batch2 9x7", 2, 2, 9, 7, 2, ConvSpec.of(7, 2, 3, 1), true),
                new ConvGeometry("kh3 kw5 stride(2,1) pad(1,2) dil(1,2) 7x9", 1, 2, 7, 9, 3, new ConvSpec(3, 5, 2, 1, 1, 2, 1, 2), true),
                new ConvGeometry("kh1 kw3 pad(0,1) 4x6", 2, 3, 4, 6, 2, new ConvSpec(1, 3, 1, 1, 0, 1, 1, 1), true));
    }

    private double[][] inputs(ConvGeometry g, long seed) {
        Random rnd = new Random(seed);
        return new double[][]{
                rand(rnd, g.n() * g.c() * g.h() * g.w(), -1, 1),
                rand(rnd, g.o() * g.c() * g.s().kh() * g.s().kw(), -0.5, 0.5),
                g.bias() ? rand(rnd, g.o(), -1, 1) : null};
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void forwardMatchesReference(ConvGeometry g) {
        double[][] in = inputs(g, 11);
        double[] ref = RefOps.conv2d(in[0], g.n(), g.c(), g.h(), g.w(), in[1], g.o(), in[2], g.s());
        Tensor x = t(in[0], g.n(), g.c(), g.h(), g.w()), w = t(in[1], g.o(), g.c(), g.s().kh(), g.s().kw());
        Tensor b = g.bias() ? t(in[2], g.o()) : null;
        Tensor y = filled(Float.NaN, g.n(), g.o(), g.oh(), g.ow());
        be.conv2d(x, w, b, g.s(), y);
        GradCheck.assertClose("conv2d " + g, ref, get(y), FWD_TOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void gradientsMatchFiniteDifferences(ConvGeometry g) {
        GradCheck.check("conv2d " + g, inputs(g, 12), new boolean[]{true, true, g.bias()},
                in -> RefOps.conv2d(in[0], g.n(), g.c(), g.h(), g.w(), in[1], g.o(), in[2], g.s()),
                (in, dy) -> {
                    Tensor x = t(in[0], g.n(), g.c(), g.h(), g.w()), w = t(in[1], g.o(), g.c(), g.s().kh(), g.s().kw());
                    Tensor b = g.bias() ? t(in[2], g.o()) : null;
                    Tensor y = zeros(g.n(), g.o(), g.oh(), g.ow());
                    be.conv2d(x, w, b, g.s(), y);
                    Tensor dyT = t(dy, g.n(), g.o(), g.oh(), g.ow());
                    Tensor dx = zeros(g.n(), g.c(), g.h(), g.w()), dw = zeros(g.o(), g.c(), g.s().kh(), g.s().kw());
                    Tensor db = g.bias() ? zeros(g.o()) : null;
                    be.conv2dBackward(x, w, dyT, g.s(), dx, dw, db);
                    return new float[][]{get(dx), get(dw), db == null ? null : get(db)};
                }, 13);
    }

    /** dw and db accumulate (twice -> previous + 2g), dx is overwritten (garbage before is ignored). */
    @Test
    void backwardAccumulatesParamGradsAndOverwritesDx() {
        ConvGeometry g = geometries().toList().get(2);
        double[][] in = inputs(g, 21);
        Random rnd = new Random(22);
        double[] dyv = rand(rnd, g.n() * g.o() * g.oh() * g.ow(), -1, 1);
        Tensor x = t(in[0], g.n(), g.c(), g.h(), g.w()), w = t(in[1], g.o(), g.c(), g.s().kh(), g.s().kw());
        Tensor dy = t(dyv, g.n(), g.o(), g.oh(), g.ow());
        // one call from zero
        Tensor dx1 = zeros(g.n(), g.c(), g.h(), g.w()), dw1 = zeros(g.o(), g.c(), g.s().kh(), g.s().kw()), db1 = zeros(g.o());
        be.conv2dBackward(x, w, dy, g.s(), dx1, dw1, db1);
        // two calls on top of prior values / garbage
        double[] dw0 = rand(rnd, g.o() * g.c() * g.s().kh() * g.s().kw(), -1, 1), db0 = rand(rnd, g.o(), -1, 1);
        Tensor dx2 = filled(123f, g.n(), g.c(), g.h(), g.w()), dw2 = t(dw0, g.o(), g.c(), g.s().kh(), g.s().kw()), db2 = t(db0, g.o());
        be.conv2dBackward(x, w, dy, g.s(), dx2, dw2, db2);
        be.conv2dBackward(x, w, dy, g.s(), dx2, dw2, db2);
        GradCheck.assertClose("dx overwritten", f2d(get(dx1)), get(dx2), 1e-6);
        GradCheck.assertClose("dw accumulated twice", RefOps.addScaled(dw0, 1, f2d(get(dw1)), 2), get(dw2), 1e-6);
        GradCheck.assertClose("db accumulated twice", RefOps.addScaled(db0, 1, f2d(get(db1)), 2), get(db2), 1e-6);
    }

    /** Null dx / dw / db are skipped and do not change the others. */
    @Test
    void backwardWithNullOutputs() {
        ConvGeometry g = geometries().toList().get(0);
        double[][] in = inputs(g, 31);
        Tensor x = t(in[0], g.n(), g.c(), g.h(), g.w()), w = t(in[1], g.o(), g.c(), g.s().kh(), g.s().kw());
        Tensor dy = t(rand(new Random(32), g.n() * g.o() * g.oh() * g.ow(), -1, 1), g.n(), g.o(), g.oh(), g.ow());
        Tensor dx = zeros(g.n(), g.c(), g.h(), g.w()), dw = zeros(g.o(), g.c(), g.s().kh(), g.s().kw()), db = zeros(g.o());
        be.conv2dBackward(x, w, dy, g.s(), dx, dw, db);
        Tensor dxOnly = zeros(g.n(), g.c(), g.h(), g.w());
        be.conv2dBackward(x, w, dy, g.s(), dxOnly, null, null);
        Tensor dwOnly = zeros(g.o(), g.c(), g.s().kh(), g.s().kw()), dbOnly = zeros(g.o());
        be.conv2dBackward(x, w, dy, g.s(), null, dwOnly, dbOnly);
        GradCheck.assertClose("dx alone", f2d(get(dx)), get(dxOnly), 1e-6);
        GradCheck.assertClose("dw alone", f2d(get(dw)), get(dwOnly), 1e-6);
        GradCheck.assertClose("db alone", f2d(get(db)), get(dbOnly), 1e-6);
    }

    /**
     * Worked by hand. x (1x1x2x2) = [[1,2],[3,4]], one filter w (1x1x2x2) = [[1,0],[-1,2]], bias 0.5, stride 1, pad 1:
     * output 3x3, y[i][j] = 0.5 + sum_{a,b} x[i-1+a][j-1+b] * w[a][b] (x = 0 outside):
     * <pre>
     * y00 = x00*w11 = 2                      -> 2.5
     * y01 = x00*w10 + x01*w11 = -1 + 4 = 3   -> 3.5
     * y02 = x01*w10 = -2                     -> -1.5
     * y10 = x00*w01 + x10*w11 = 0 + 6 = 6    -> 6.5
     * y11 = 1*1 + 2*0 + 3*(-1) + 4*2 = 6     -> 6.5
     * y12 = x01*w00 + x11*w10 = 2 - 4 = -2   -> -1.5
     * y20 = x10*w01 = 0                      -> 0.5
     * y21 = x10*w00 + x11*w01 = 3            -> 3.5
     * y22 = x11*w00 = 4                      -> 4.5
     * </pre>
     * Backward with dy = ones(3x3): every x pixel meets every filter tap exactly once, so dx = sum(w) = 2 everywhere,
     * dw = sum(x) = 10 everywhere, db = 9.
     */
    @Test
    void handWorked2x2() {
        double[] xv = {1, 2, 3, 4}, wv = {1, 0, -1, 2}, bv = {0.5};
        ConvSpec s = ConvSpec.of(2, 1, 1, 1);
        double[] expected = {2.5, 3.5, -1.5, 6.5, 6.5, -1.5, 0.5, 3.5, 4.5};
        assertArrayEquals(expected, RefOps.conv2d(xv, 1, 1, 2, 2, wv, 1, bv, s), 0, "RefOps");
        Tensor x = t(xv, 1, 1, 2, 2), w = t(wv, 1, 1, 2, 2), b = t(bv, 1), y = zeros(1, 1, 3, 3);
        be.conv2d(x, w, b, s, y);
        assertArrayEquals(GradCheck.toFloat(expected), get(y), 1e-6f, "conv2d");
        Tensor dy = filled(1f, 1, 1, 3, 3), dx = zeros(1, 1, 2, 2), dw = zeros(1, 1, 2, 2), db = zeros(1);
        be.conv2dBackward(x, w, dy, s, dx, dw, db);
        assertArrayEquals(new float[]{2, 2, 2, 2}, get(dx), 1e-6f, "dx");
        assertArrayEquals(new float[]{10, 10, 10, 10}, get(dw), 1e-6f, "dw");
        assertArrayEquals(new float[]{9}, get(db), 1e-6f, "db");
    }
}
