package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** relu, sigmoid, softmax, addScaled, mul, scale, channelSum, channelDot, sum, copy, fill, copyChannels. */
class ElementwiseOpsTest extends OpsTestBase {
    static final int N = 2, C = 3, H = 4, W = 5, NUMEL = N * C * H * W;

    @Test
    void reluForwardAndBackward() {
        Random rnd = new Random(1);
        double[] x = rand(rnd, NUMEL, -2, 2);
        Tensor y = filled(Float.NaN, N, C, H, W);
        be.relu(t(x, N, C, H, W), y);
        GradCheck.assertClose("relu", RefOps.relu(x), get(y), 0);
        GradCheck.check("relu", new double[][]{distinct(rnd, NUMEL, -2, 2, 0.05)}, new boolean[]{true},
                in -> RefOps.relu(in[0]),
                (in, dy) -> {
                    Tensor yy = zeros(N, C, H, W), dx = filled(3f, N, C, H, W);
                    be.relu(t(in[0], N, C, H, W), yy);
                    be.reluBackward(yy, t(dy, N, C, H, W), dx);
                    return new float[][]{get(dx)};
                }, 2);
    }

    @Test
    void reluInPlace() {
        double[] x = rand(new Random(3), NUMEL, -2, 2);
        Tensor xt = t(x, N, C, H, W);
        be.relu(xt, xt);
        GradCheck.assertClose("relu in place", RefOps.relu(x), get(xt), 0);
    }

    @Test
    void sigmoidForward() {
        double[] x = rand(new Random(4), NUMEL, -6, 6);
        x[0] = 100;
        x[1] = -100;
        x[2] = 0;
        Tensor y = filled(Float.NaN, N, C, H, W);
        be.sigmoid(t(x, N, C, H, W), y);
        GradCheck.assertClose("sigmoid", RefOps.sigmoid(x), get(y), FWD_TOL);
    }

    @Test
    void softmaxForward() {
        Random rnd = new Random(5);
        double[] x = rand(rnd, NUMEL, -3, 3);
        Tensor y = filled(Float.NaN, N, C, H, W);
        be.softmax(t(x, N, C, H, W), y);
        GradCheck.assertClose("softmax 4-d", RefOps.softmax(x, N, C, H * W), get(y), FWD_TOL);
        double[] x2 = rand(rnd, 4 * 7, -3, 3);
        Tensor y2 = filled(Float.NaN, 4, 7);
        be.softmax(t(x2, 4, 7), y2);
        GradCheck.assertClose("softmax N x C", RefOps.softmax(x2, 4, 7, 1), get(y2), FWD_TOL);
        // 2,400 positions per image: pieces of 1,024 positions on both cores, forward and backward
        double[] x3 = rand(rnd, 2 * 5 * 2400, -3, 3), dy3 = rand(rnd, 2 * 5 * 2400, -1, 1);
        Tensor y3 = filled(Float.NaN, 2, 5, 40, 60), dx3 = filled(Float.NaN, 2, 5, 40, 60);
        be.softmax(t(x3, 2, 5, 40, 60), y3);
        double[] ref3 = RefOps.softmax(x3, 2, 5, 2400);
        GradCheck.assertClose("softmax 2 x 5 x 40x60", ref3, get(y3), FWD_TOL);
        be.softmaxBackward(y3, t(dy3, 2, 5, 40, 60), dx3);
        double[] dref = new double[ref3.length]; // dx = y * (dy - sum_c dy y), per position
        for (int b = 0; b < 2; b++)
            for (int p = 0; p < 2400; p++) {
                double dot = 0;
                for (int c = 0; c < 5; c++) dot += ref3[(b * 5 + c) * 2400 + p] * dy3[(b * 5 + c) * 2400 + p];
                for (int c = 0; c < 5; c++) { int i = (b * 5 + c) * 2400 + p; dref[i] = ref3[i] * (dy3[i] - dot); }
            }
        GradCheck.assertClose("softmax backward 2 x 5 x 40x60", dref, get(dx3), FWD_TOL);
    }

    /** Logits around +-100: exp overflows float unless the max is subtracted. */
    @Test
    void softmaxLargeLogitsStable() {
        double[] x = rand(new Random(6), NUMEL, -3, 3);
        for (int i = 0; i < NUMEL; i += 2) x[i] += 100;
        for (int i = 1; i < NUMEL; i += 4) x[i] -= 100;
        Tensor y = filled(Float.NaN, N, C, H, W);
        be.softmax(t(x, N, C, H, W), y);
        GradCheck.assertClose("softmax large logits", RefOps.softmax(x, N, C, H * W), get(y), FWD_TOL);
    }

    @Test
    void softmaxBackward() {
        GradCheck.check("softmax", new double[][]{rand(new Random(7), NUMEL, -3, 3)}, new boolean[]{true},
                in -> RefOps.softmax(in[0], N, C, H * W),
                (in, dy) -> {
                    Tensor y = zeros(N, C, H, W), dx = filled(3f, N, C, H, W);
                    be.softmax(t(in[0], N, C, H, W), y);
                    be.softmaxBackward(y, t(dy, N, C, H, W), dx);
                    return new float[][]{get(dx)};
                }, 8);
    }

    /**
     * Worked by hand: one pixel, C = 3, x = [1, 2, 3]: softmax = [1, e, e^2] / (1 + e + e^2)
     * = [1, 2.718281828, 7.389056099] / 11.107337927 = [0.0900305732, 0.2447284711, 0.6652409558].
     * Second pixel x = [0, 0, 0] -> 1/3 each. Backward for y = [1/3]*3, dy = [1, 0, 0]: sum dy*y = 1/3,
     * dx = y*(dy - 1/3) = [2/9, -1/9, -1/9].
     */
    @Test
    void handWorkedSoftmax() {
        // layout 1 x 3 x 1 x 2: channel-major, pixel 0 = (1,2,3), pixel 1 = (0,0,0)
        double[] x = {1, 0, 2, 0, 3, 0};
        double[] expected = {0.0900305732, 1.0 / 3, 0.2447284711, 1.0 / 3, 0.6652409558, 1.0 / 3};
        assertArrayEquals(expected, RefOps.softmax(x, 1, 3, 2), 1e-9);
        Tensor y = zeros(1, 3, 1, 2);
        be.softmax(t(x, 1, 3, 1, 2), y);
        assertArrayEquals(GradCheck.toFloat(expected), get(y), 1e-7f);
        Tensor yy = t(new double[]{1.0 / 3, 1.0 / 3, 1.0 / 3}, 1, 3, 1, 1), dx = zeros(1, 3, 1, 1);
        be.softmaxBackward(yy, t(new double[]{1, 0, 0}, 1, 3, 1, 1), dx);
        assertArrayEquals(new float[]{2f / 9, -1f / 9, -1f / 9}, get(dx), 1e-7f);
    }

    @Test
    void addScaledMulScale() {
        Random rnd = new Random(9);
        double[] a = rand(rnd, NUMEL, -2, 2), b = rand(rnd, NUMEL, -2, 2);
        Tensor at = t(a, N, C, H, W), bt = t(b, N, C, H, W), out = filled(Float.NaN, N, C, H, W);
        be.addScaled(at, 1.5f, bt, -0.25f, out);
        GradCheck.assertClose("addScaled", RefOps.addScaled(a, 1.5, b, -0.25), get(out), FWD_TOL);
        be.mul(at, bt, out);
        GradCheck.assertClose("mul", RefOps.mul(a, b), get(out), FWD_TOL);
        be.scale(at, -3.5f, out);
        GradCheck.assertClose("scale", RefOps.scale(a, -3.5), get(out), FWD_TOL);
    }

    /** addScaled documents that out may alias a or b. */
    @Test
    void addScaledAliasing() {
        Random rnd = new Random(10);
        double[] a = rand(rnd, NUMEL, -2, 2), b = rand(rnd, NUMEL, -2, 2);
        Tensor at = t(a, N, C, H, W), bt = t(b, N, C, H, W);
        be.addScaled(at, 0.5f, bt, 2f, at);
        GradCheck.assertClose("addScaled out=a", RefOps.addScaled(a, 0.5, b, 2), get(at), FWD_TOL);
        Tensor at2 = t(a, N, C, H, W);
        be.addScaled(at2, 0.5f, bt, 2f, bt);
        GradCheck.assertClose("addScaled out=b", RefOps.addScaled(a, 0.5, b, 2), get(bt), FWD_TOL);
        Tensor ct = t(a, N, C, H, W);
        be.addScaled(ct, 1f, ct, 1f, ct);
        GradCheck.assertClose("addScaled a=b=out", RefOps.scale(a, 2), get(ct), FWD_TOL);
    }

    @ParameterizedTest(name = "accumulate={0}")
    @ValueSource(booleans = {false, true})
    void channelSumAndDot(boolean accumulate) {
        Random rnd = new Random(11);
        double[] a = rand(rnd, NUMEL, -2, 2), b = rand(rnd, NUMEL, -2, 2), o0 = rand(rnd, C, -1, 1);
        Tensor out = t(o0, C);
        be.channelSum(t(a, N, C, H, W), out, accumulate);
        GradCheck.assertClose("channelSum", RefOps.channelSum(a, N, C, H * W, o0, accumulate), get(out), FWD_TOL);
        Tensor out2 = t(o0, C);
        be.channelDot(t(a, N, C, H, W), t(b, N, C, H, W), out2, accumulate);
        GradCheck.assertClose("channelDot", RefOps.channelDot(a, b, N, C, H * W, o0, accumulate), get(out2), FWD_TOL);
        // 2-d N x C
        double[] a2 = rand(rnd, 6 * C, -2, 2);
        Tensor out3 = t(o0, C);
        be.channelSum(t(a2, 6, C), out3, accumulate);
        GradCheck.assertClose("channelSum 2-d", RefOps.channelSum(a2, 6, C, 1, o0, accumulate), get(out3), FWD_TOL);
    }

    @Test
    void sumCopyFill() {
        Random rnd = new Random(12);
        double[] a = rand(rnd, 1000, -1, 3);
        Tensor at = t(a, 10, 100);
        assertEquals(RefOps.sum(a), be.sum(at), FWD_TOL * Math.abs(RefOps.sum(a)), "sum");
        Tensor dst = filled(7f, 500);
        be.copy(at, 100, dst, 50, 300);
        float[] d = get(dst);
        for (int i = 0; i < 500; i++)
            assertEquals(i >= 50 && i < 350 ? (float) a[100 + i - 50] : 7f, d[i], "copy element " + i);
        be.fill(dst, -2.5f);
        for (float v : get(dst)) assertEquals(-2.5f, v);
    }

    /**
     * The interface says sum is "in double": the float32 inputs summed in double are exact to ~1e-16 relative here
     * (1000 terms), far below float32 accumulation error (~1e-8 relative).
     */
    @Test
    void sumAccumulatesInDouble() {
        double[] a = rand(new Random(12), 1000, -1, 3);
        double abs = 0;
        for (double v : a) abs += Math.abs(v);
        double got = be.sum(t(a, 10, 100));
        assertEquals(RefOps.sum(a), got, 1e-12 * abs, "sum accumulated in double (diff " + (got - RefOps.sum(a)) + ")");
    }

    @ParameterizedTest(name = "accumulate={0}")
    @ValueSource(booleans = {false, true})
    void copyChannels(boolean accumulate) {
        Random rnd = new Random(13);
        int srcC = 4, dstC = 5;
        double[] src = rand(rnd, N * srcC * H * W, -2, 2), dst = rand(rnd, N * dstC * H * W, -2, 2);
        Tensor dt = t(dst, N, dstC, H, W);
        be.copyChannels(t(src, N, srcC, H, W), 1, dt, 2, 3, accumulate);
        GradCheck.assertClose("copyChannels src[1..4) -> dst[2..5)",
                RefOps.copyChannels(src, srcC, 1, dst, dstC, 2, 3, N, H * W, accumulate), get(dt), FWD_TOL);
        // concat: two sources into one destination, then slice back out
        double[] s2 = rand(rnd, N * 1 * H * W, -2, 2);
        Tensor cat = filled(Float.NaN, N, srcC + 1, H, W);
        be.copyChannels(t(src, N, srcC, H, W), 0, cat, 0, srcC, false);
        be.copyChannels(t(s2, N, 1, H, W), 0, cat, srcC, 1, false);
        double[] ref = RefOps.copyChannels(src, srcC, 0, new double[N * (srcC + 1) * H * W], srcC + 1, 0, srcC, N, H * W, false);
        ref = RefOps.copyChannels(s2, 1, 0, ref, srcC + 1, srcC, 1, N, H * W, false);
        GradCheck.assertClose("concat", ref, get(cat), 0);
        double[] base = rand(rnd, N * H * W, -1, 1);
        Tensor slice = t(base, N, 1, H, W);
        be.copyChannels(cat, srcC, slice, 0, 1, accumulate);
        GradCheck.assertClose("slice", accumulate ? RefOps.addScaled(base, 1, s2, 1) : s2, get(slice), FWD_TOL);
    }

    @Test
    void nonFiniteNotProducedByWellDefinedOps() {
        double[] x = rand(new Random(14), NUMEL, -50, 50);
        Tensor y = zeros(N, C, H, W);
        be.sigmoid(t(x, N, C, H, W), y);
        for (float v : get(y)) assertFalse(Float.isNaN(v));
    }
}
