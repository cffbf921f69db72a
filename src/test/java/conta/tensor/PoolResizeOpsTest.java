package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** maxPool2d / avgPool2d (incl. ceil mode and padding) and bilinear resize, forward and backward. */
class PoolResizeOpsTest extends OpsTestBase {

    record PoolCase(String name, int n, int c, int h, int w, ConvSpec s, boolean ceil) {
        int oh() { return RefOps.poolOut(h, s.kh(), s.strideH(), s.padH(), s.dilH(), ceil); }

        int ow() { return RefOps.poolOut(w, s.kw(), s.strideW(), s.padW(), s.dilW(), ceil); }

        @Override public String toString() { return name; }
    }

    static Stream<PoolCase> poolCases() {
        return Stream.of(
                new PoolCase("3x3 s2 p1 7x8", 2, 2, 7, 8, ConvSpec.of(3, 2, 1, 1), false),
                new PoolCase("3x3 s2 p1 7x8 ceil", 2, 2, 7, 8, ConvSpec.of(3, 2, 1, 1), true),
                new PoolCase("3x3 s2 p1 6x6 ceil (window past padded edge)", 1, 2, 6, 6, ConvSpec.of(3, 2, 1, 1), true),
                new PoolCase("2x2 s2 p0 7x7 ceil (partial windows)", 1, 3, 7, 7, ConvSpec.of(2, 2, 0, 1), true),
                new PoolCase("2x2 s2 p0 5x5 ceil", 2, 1, 5, 5, ConvSpec.of(2, 2, 0, 1), true),
                new PoolCase("3x3 s2 p0 8x8 ceil", 1, 2, 8, 8, ConvSpec.of(3, 2, 0, 1), true),
                new PoolCase("3x3 s1 p1 5x6", 1, 2, 5, 6, ConvSpec.of(3, 1, 1, 1), false),
                new PoolCase("2x2 s2 7x9 floor", 2, 2, 7, 9, ConvSpec.of(2, 2, 0, 1), false),
                new PoolCase("kh2 kw3 s(2,1) p(1,1) 6x7 ceil", 1, 2, 6, 7, new ConvSpec(2, 3, 2, 1, 1, 1, 1, 1), true));
    }

    static Stream<PoolCase> maxOnlyCases() {
        return Stream.concat(poolCases(), Stream.of(
                new PoolCase("max 3x3 s1 p2 dil2 7x7", 1, 2, 7, 7, ConvSpec.of(3, 1, 2, 2), false),
                new PoolCase("max 3x3 s2 p1 dil2 8x9 ceil", 1, 2, 8, 9, ConvSpec.of(3, 2, 1, 2), true),
                // wide rows: output rows of 35, 40 and 21 values run the 16-lane vector path and its tail
                new PoolCase("max 3x3 s2 p1 5x70 ceil (vector rows)", 1, 2, 5, 70, ConvSpec.of(3, 2, 1, 1), true),
                new PoolCase("max 3x3 s1 p1 4x40 (vector rows)", 1, 1, 4, 40, ConvSpec.of(3, 1, 1, 1), false),
                new PoolCase("max 3x3 s2 p2 dil2 6x41 (vector rows)", 1, 1, 6, 41, ConvSpec.of(3, 2, 2, 2), false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("maxOnlyCases")
    void maxPoolForward(PoolCase k) {
        double[] x = rand(new Random(1), k.n * k.c * k.h * k.w, -3, 1); // mostly negative: -inf padding must not win
        Tensor y = filled(Float.NaN, k.n, k.c, k.oh(), k.ow());
        be.maxPool2d(t(x, k.n, k.c, k.h, k.w), k.s, k.ceil, y);
        GradCheck.assertClose("maxPool " + k, RefOps.maxPool2d(x, k.n, k.c, k.h, k.w, k.s, k.ceil), get(y), FWD_TOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("maxOnlyCases")
    void maxPoolBackward(PoolCase k) {
        double[] x = distinct(new Random(2), k.n * k.c * k.h * k.w, -3, 1, 0);
        GradCheck.check("maxPool " + k, new double[][]{x}, new boolean[]{true},
                in -> RefOps.maxPool2d(in[0], k.n, k.c, k.h, k.w, k.s, k.ceil),
                (in, dy) -> {
                    Tensor xt = t(in[0], k.n, k.c, k.h, k.w), y = zeros(k.n, k.c, k.oh(), k.ow());
                    be.maxPool2d(xt, k.s, k.ceil, y);
                    Tensor dx = zeros(k.n, k.c, k.h, k.w);
                    be.maxPool2dBackward(xt, k.s, k.ceil, t(dy, k.n, k.c, k.oh(), k.ow()), dx);
                    return new float[][]{get(dx)};
                }, 3);
    }

    /**
     * PyTorch's rules, worked by hand on one 3x3 s2 p1 plane of 3 x 36 (vector path): a window holding NaN gives NaN
     * and its gradient goes to the first NaN; tied maxima send the gradient to the first in row-major order.
     */
    @Test
    void maxPoolNanAndTies() {
        int w = 36;
        float[] x = new float[3 * w];
        java.util.Arrays.fill(x, -1f);
        x[5] = Float.NaN;           // row 0, column 5: in the windows of outputs (0, 2) and (0, 3) only
        x[w + 20] = 7f;             // row 1, column 20 and row 2, column 19: tie inside the window of (1, 10)
        x[2 * w + 19] = 7f;
        Tensor y = filled(0f, 1, 1, 2, 18);
        Tensor xt = t(x, 1, 1, 3, w);
        be.maxPool2d(xt, ConvSpec.of(3, 2, 1, 1), false, y);
        float[] out = get(y);
        for (int o : new int[]{2, 3}) assertEquals(Float.NaN, out[o], "output " + o + " sees the NaN");
        assertEquals(-1f, out[1]);
        assertEquals(-1f, out[18 + 2], "row 0 is outside the windows of output row 1");
        assertEquals(7f, out[18 + 10]);
        float[] dy = new float[36];
        java.util.Arrays.fill(dy, 1f);
        Tensor dx = filled(0f, 1, 1, 3, w);
        be.maxPool2dBackward(xt, ConvSpec.of(3, 2, 1, 1), false, t(dy, 1, 1, 2, 18), dx);
        float[] g = get(dx);
        assertEquals(2f, g[5], "both windows with the NaN route to it");
        assertEquals(2f, g[w + 20], "(1, 10) and (0, 10) pick the first 7 in row-major order");
        assertEquals(1f, g[2 * w + 19], "only (1, 9) has the second 7 to itself");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolCases")
    void avgPoolForward(PoolCase k) {
        double[] x = rand(new Random(4), k.n * k.c * k.h * k.w, -1, 2);
        Tensor y = filled(Float.NaN, k.n, k.c, k.oh(), k.ow());
        be.avgPool2d(t(x, k.n, k.c, k.h, k.w), k.s, k.ceil, y);
        GradCheck.assertClose("avgPool " + k, RefOps.avgPool2d(x, k.n, k.c, k.h, k.w, k.s, k.ceil), get(y), FWD_TOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolCases")
    void avgPoolBackward(PoolCase k) {
        GradCheck.check("avgPool " + k, new double[][]{rand(new Random(5), k.n * k.c * k.h * k.w, -1, 2)}, new boolean[]{true},
                in -> RefOps.avgPool2d(in[0], k.n, k.c, k.h, k.w, k.s, k.ceil),
                (in, dy) -> {
                    Tensor dx = zeros(k.n, k.c, k.h, k.w);
                    be.avgPool2dBackward(k.s, k.ceil, t(dy, k.n, k.c, k.oh(), k.ow()), dx);
                    return new float[][]{get(dx)};
                }, 6);
    }

    /** The backend's output-size helper agrees with PyTorch's pooling_output_shape. */
    @Test
    void ceilOutputSizes() {
        for (int in = 1; in <= 12; in++) for (int k = 1; k <= 4; k++) for (int s = 1; s <= 3; s++)
            for (int p = 0; p <= k / 2; p++) {
                if (in + 2 * p < k) continue;
                assertEquals(RefOps.poolOut(in, k, s, p, 1, true), ConvSpec.poolOut(in, k, s, p, 1, true),
                        "in=" + in + " k=" + k + " s=" + s + " p=" + p);
                assertEquals(RefOps.poolOut(in, k, s, p, 1, false), new ConvSpec(k, k, s, s, p, p, 1, 1).poolOutH(in, false));
            }
    }

    /**
     * Worked by hand: 1x1x3x3 x = 1..9, avg 2x2 stride 2 pad 0 ceil: out 2x2. Windows: [1,2,4,5] /4 = 3;
     * [3,6] (cols 2..3, col 3 past the edge, divisor clipped to 2*1=2) = 4.5; [7,8] /2 = 7.5; [9] /1 = 9.
     * Max: 5, 6, 8, 9.
     */
    @Test
    void handWorkedCeilPools() {
        double[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        ConvSpec s = ConvSpec.of(2, 2, 0, 1);
        assertArrayEquals(new double[]{3, 4.5, 7.5, 9}, RefOps.avgPool2d(x, 1, 1, 3, 3, s, true), 1e-12);
        Tensor y = zeros(1, 1, 2, 2);
        be.avgPool2d(t(x, 1, 1, 3, 3), s, true, y);
        assertArrayEquals(new float[]{3, 4.5f, 7.5f, 9}, get(y), 1e-6f, "avg ceil");
        be.maxPool2d(t(x, 1, 1, 3, 3), s, true, y);
        assertArrayEquals(new float[]{5, 6, 8, 9}, get(y), 0f, "max ceil");
    }

    /** Ties: dy goes to the first maximum of each window (row-major scan), all of it. */
    @Test
    void maxPoolTiesGoToFirstMaximum() {
        // 1x1x2x4, 2x2 stride 2: window 0 all equal 1 -> first is (0,0); window 1 = {0, 3; 3, 2} -> first 3 is (0,3)
        double[] x = {1, 1, 0, 3, 1, 1, 3, 2};
        Tensor xt = t(x, 1, 1, 2, 4), y = zeros(1, 1, 1, 2), dx = filled(9f, 1, 1, 2, 4);
        ConvSpec s = ConvSpec.of(2, 2, 0, 1);
        be.maxPool2d(xt, s, false, y);
        assertArrayEquals(new float[]{1, 3}, get(y), 0f);
        be.maxPool2dBackward(xt, s, false, t(new double[]{5, 7}, 1, 1, 1, 2), dx);
        assertArrayEquals(new float[]{5, 0, 0, 7, 0, 0, 0, 0}, get(dx), 0f, "dx (also overwritten, not accumulated)");
        // overlapping windows (3x3 stride 1 on 1x1x3x4 with pad 1): dx sums routed dy
        double[] x2 = distinct(new Random(12), 12, -1, 1, 0);
        ConvSpec s2 = ConvSpec.of(3, 1, 1, 1);
        GradCheck.check("maxPool overlapping", new double[][]{x2}, new boolean[]{true},
                in -> RefOps.maxPool2d(in[0], 1, 1, 3, 4, s2, false),
                (in, dyv) -> {
                    Tensor xx = t(in[0], 1, 1, 3, 4), d = filled(-5f, 1, 1, 3, 4);
                    be.maxPool2dBackward(xx, s2, false, t(dyv, 1, 1, 3, 4), d);
                    return new float[][]{get(d)};
                }, 13);
    }

    /** Pool and resize backward overwrite dx (garbage before is ignored). */
    @Test
    void poolAndResizeBackwardOverwriteDx() {
        PoolCase k = poolCases().toList().get(1);
        Random rnd = new Random(14);
        double[] x = distinct(rnd, k.n * k.c * k.h * k.w, -1, 1, 0), dyv = rand(rnd, k.n * k.c * k.oh() * k.ow(), -1, 1);
        Tensor xt = t(x, k.n, k.c, k.h, k.w), dy = t(dyv, k.n, k.c, k.oh(), k.ow());
        Tensor a = zeros(k.n, k.c, k.h, k.w), b = filled(42f, k.n, k.c, k.h, k.w);
        be.maxPool2dBackward(xt, k.s, k.ceil, dy, a);
        be.maxPool2dBackward(xt, k.s, k.ceil, dy, b);
        be.maxPool2dBackward(xt, k.s, k.ceil, dy, b);
        GradCheck.assertClose("maxPool dx overwritten", f2d(get(a)), get(b), 0);
        be.avgPool2dBackward(k.s, k.ceil, dy, a);
        be.fill(b, 42f);
        be.avgPool2dBackward(k.s, k.ceil, dy, b);
        be.avgPool2dBackward(k.s, k.ceil, dy, b);
        GradCheck.assertClose("avgPool dx overwritten", f2d(get(a)), get(b), 0);
        Tensor ry = t(rand(rnd, 2 * 3 * 5, -1, 1), 1, 2, 3, 5), ra = zeros(1, 2, 4, 4), rb = filled(42f, 1, 2, 4, 4);
        be.resizeBilinearBackward(ry, false, ra);
        be.resizeBilinearBackward(ry, false, rb);
        be.resizeBilinearBackward(ry, false, rb);
        GradCheck.assertClose("resize dx overwritten", f2d(get(ra)), get(rb), 0);
    }

    // ------------------------------------------------------------------ resize

    record ResizeCase(int n, int c, int h, int w, int oh, int ow, boolean align) {
        @Override public String toString() { return h + "x" + w + " -> " + oh + "x" + ow + (align ? " align" : " half-pixel"); }
    }

    static Stream<ResizeCase> resizeCases() {
        int[][] sizes = {{4, 5, 8, 10}, {5, 7, 3, 4}, {3, 4, 7, 5}, {6, 6, 6, 6}, {7, 5, 11, 3}, {8, 8, 3, 3}, {1, 1, 3, 2},
                {4, 3, 1, 1}, {2, 2, 5, 5}};
        return Stream.of(false, true).flatMap(al -> Stream.of(sizes).map(z -> new ResizeCase(2, 2, z[0], z[1], z[2], z[3], al)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resizeCases")
    void resizeForward(ResizeCase k) {
        double[] x = rand(new Random(20), k.n * k.c * k.h * k.w, -2, 2);
        Tensor y = filled(Float.NaN, k.n, k.c, k.oh, k.ow);
        be.resizeBilinear(t(x, k.n, k.c, k.h, k.w), k.align, y);
        GradCheck.assertClose("resize " + k, RefOps.resizeBilinear(x, k.n, k.c, k.h, k.w, k.oh, k.ow, k.align), get(y), FWD_TOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resizeCases")
    void resizeBackward(ResizeCase k) {
        GradCheck.check("resize " + k, new double[][]{rand(new Random(21), k.n * k.c * k.h * k.w, -2, 2)}, new boolean[]{true},
                in -> RefOps.resizeBilinear(in[0], k.n, k.c, k.h, k.w, k.oh, k.ow, k.align),
                (in, dy) -> {
                    Tensor dx = zeros(k.n, k.c, k.h, k.w);
                    be.resizeBilinearBackward(t(dy, k.n, k.c, k.oh, k.ow), k.align, dx);
                    return new float[][]{get(dx)};
                }, 22);
    }

    /**
     * Worked by hand: 1x1x1x2 [0, 4] -> 1x1x1x4. Half-pixel: src = max(0, (d+0.5)*2/4 - 0.5) = 0, 0.25, 0.75, 1.25
     * -> 0, 1, 3, 4 (last clamps to x[1]). Align corners: src = d*(1/3) -> 0, 4/3, 8/3, 4.
     */
    @Test
    void handWorkedResize() {
        Tensor x = t(new double[]{0, 4}, 1, 1, 1, 2), y = zeros(1, 1, 1, 4);
        be.resizeBilinear(x, false, y);
        assertArrayEquals(new float[]{0, 1, 3, 4}, get(y), 1e-6f, "half-pixel");
        be.resizeBilinear(x, true, y);
        assertArrayEquals(new float[]{0, 4f / 3, 8f / 3, 4}, get(y), 1e-6f, "align corners");
        assertArrayEquals(new double[]{0, 1, 3, 4}, RefOps.resizeBilinear(new double[]{0, 4}, 1, 1, 1, 2, 1, 4, false), 1e-12);
    }
}
