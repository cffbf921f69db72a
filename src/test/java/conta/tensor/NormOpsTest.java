package conta.tensor;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** batchNormTrain / batchNormBackward and channelAffine (with its primitive-composed backward). */
class NormOpsTest extends OpsTestBase {
    static final float EPS = 1e-5f;

    record Case(String name, int n, int c, int h, int w, float momentum, double xMean) {
        int hw() { return h * w; }

        @Override public String toString() { return name; }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("2x3x4x5 m0.1", 2, 3, 4, 5, 0.1f, 0.0),
                new Case("4x2x3x3 m0.3 mean 2", 4, 2, 3, 3, 0.3f, 2.0),
                new Case("1x4x5x3 m0.1", 1, 4, 5, 3, 0.1f, -1.0),
                new Case("8x3x1x1 (BN over batch only)", 8, 3, 1, 1, 0.1f, 0.5),
                new Case("2x2x65x65 mean 1 (planes over 4096 floats: flushed to double inside a plane)", 2, 2, 65, 65, 0.1f, 1.0));
    }

    /** x (per-channel offset + scale), gamma, beta, running mean, running var. */
    private double[][] inputs(Case k, long seed) {
        Random rnd = new Random(seed);
        double[] x = new double[k.n * k.c * k.hw()];
        for (int n = 0; n < k.n; n++) for (int c = 0; c < k.c; c++) {
            double sc = 0.5 + c * 0.4, off = k.xMean + 0.3 * c;
            for (int i = 0; i < k.hw(); i++) x[(n * k.c + c) * k.hw() + i] = (float) (off + sc * (rnd.nextDouble() * 2 - 1));
        }
        return new double[][]{x, rand(rnd, k.c, 0.5, 1.5), rand(rnd, k.c, -0.5, 0.5), rand(rnd, k.c, -0.2, 0.2),
                rand(rnd, k.c, 0.5, 2)};
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void trainForwardAndRunningStats(Case k) {
        double[][] in = inputs(k, 1);
        RefOps.BnResult ref = RefOps.batchNormTrain(in[0], k.n, k.c, k.hw(), in[1], in[2], in[3], in[4], k.momentum, EPS);
        Tensor x = t(in[0], k.n, k.c, k.h, k.w), gamma = t(in[1], k.c), beta = t(in[2], k.c);
        Tensor rm = t(in[3], k.c), rv = t(in[4], k.c);
        Tensor y = filled(Float.NaN, k.n, k.c, k.h, k.w), sm = filled(Float.NaN, k.c), sis = filled(Float.NaN, k.c);
        be.batchNormTrain(x, gamma, beta, rm, rv, k.momentum, EPS, y, sm, sis);
        GradCheck.assertClose("bn y " + k, ref.y(), get(y), FWD_TOL);
        GradCheck.assertClose("bn saveMean " + k, ref.mean(), get(sm), FWD_TOL);
        GradCheck.assertClose("bn saveInvStd " + k, ref.invStd(), get(sis), FWD_TOL);
        GradCheck.assertClose("bn runMean " + k, ref.runMean(), get(rm), FWD_TOL);
        GradCheck.assertClose("bn runVar (unbiased) " + k, ref.runVar(), get(rv), FWD_TOL);
    }

    /** Two successive training steps: running stats keep compounding with momentum. */
    @Test
    void runningStatsOverTwoSteps() {
        Case k = cases().toList().get(1);
        double[][] a = inputs(k, 2), b = inputs(k, 3);
        RefOps.BnResult r1 = RefOps.batchNormTrain(a[0], k.n, k.c, k.hw(), a[1], a[2], a[3], a[4], k.momentum, EPS);
        RefOps.BnResult r2 = RefOps.batchNormTrain(b[0], k.n, k.c, k.hw(), a[1], a[2], r1.runMean(), r1.runVar(), k.momentum, EPS);
        Tensor gamma = t(a[1], k.c), beta = t(a[2], k.c), rm = t(a[3], k.c), rv = t(a[4], k.c);
        Tensor y = zeros(k.n, k.c, k.h, k.w), sm = zeros(k.c), sis = zeros(k.c);
        be.batchNormTrain(t(a[0], k.n, k.c, k.h, k.w), gamma, beta, rm, rv, k.momentum, EPS, y, sm, sis);
        be.batchNormTrain(t(b[0], k.n, k.c, k.h, k.w), gamma, beta, rm, rv, k.momentum, EPS, y, sm, sis);
        GradCheck.assertClose("runMean after 2 steps", r2.runMean(), get(rm), FWD_TOL);
        GradCheck.assertClose("runVar after 2 steps", r2.runVar(), get(rv), FWD_TOL);
        GradCheck.assertClose("y of step 2", r2.y(), get(y), FWD_TOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardMatchesFiniteDifferences(Case k) {
        double[][] all = inputs(k, 4);
        double[] rm0 = all[3], rv0 = all[4];
        GradCheck.check("batchNorm " + k, new double[][]{all[0], all[1], all[2]}, new boolean[]{true, true, true},
                in -> RefOps.batchNormTrain(in[0], k.n, k.c, k.hw(), in[1], in[2], rm0, rv0, k.momentum, EPS).y(),
                (in, dy) -> {
                    Tensor x = t(in[0], k.n, k.c, k.h, k.w), gamma = t(in[1], k.c), beta = t(in[2], k.c);
                    Tensor y = zeros(k.n, k.c, k.h, k.w), sm = zeros(k.c), sis = zeros(k.c);
                    be.batchNormTrain(x, gamma, beta, t(rm0, k.c), t(rv0, k.c), k.momentum, EPS, y, sm, sis);
                    Tensor dx = zeros(k.n, k.c, k.h, k.w), dg = zeros(k.c), db = zeros(k.c);
                    be.batchNormBackward(x, gamma, t(dy, k.n, k.c, k.h, k.w), sm, sis, dx, dg, db);
                    return new float[][]{get(dx), get(dg), get(db)};
                }, 5);
    }

    /** dgamma and dbeta accumulate, dx is overwritten. */
    @Test
    void backwardAccumulatesParamGradsAndOverwritesDx() {
        Case k = cases().toList().get(0);
        double[][] in = inputs(k, 6);
        Random rnd = new Random(7);
        Tensor x = t(in[0], k.n, k.c, k.h, k.w), gamma = t(in[1], k.c), beta = t(in[2], k.c);
        Tensor y = zeros(k.n, k.c, k.h, k.w), sm = zeros(k.c), sis = zeros(k.c);
        be.batchNormTrain(x, gamma, beta, t(in[3], k.c), t(in[4], k.c), k.momentum, EPS, y, sm, sis);
        Tensor dy = t(rand(rnd, k.n * k.c * k.hw(), -1, 1), k.n, k.c, k.h, k.w);
        Tensor dx1 = zeros(k.n, k.c, k.h, k.w), dg1 = zeros(k.c), db1 = zeros(k.c);
        be.batchNormBackward(x, gamma, dy, sm, sis, dx1, dg1, db1);
        double[] g0 = rand(rnd, k.c, -1, 1), b0 = rand(rnd, k.c, -1, 1);
        Tensor dx2 = filled(-77f, k.n, k.c, k.h, k.w), dg2 = t(g0, k.c), db2 = t(b0, k.c);
        be.batchNormBackward(x, gamma, dy, sm, sis, dx2, dg2, db2);
        be.batchNormBackward(x, gamma, dy, sm, sis, dx2, dg2, db2);
        GradCheck.assertClose("bn dx overwritten", f2d(get(dx1)), get(dx2), 1e-6);
        GradCheck.assertClose("bn dgamma accumulated", RefOps.addScaled(g0, 1, f2d(get(dg1)), 2), get(dg2), 1e-6);
        GradCheck.assertClose("bn dbeta accumulated", RefOps.addScaled(b0, 1, f2d(get(db1)), 2), get(db2), 1e-6);
    }

    /**
     * Robustness: channel mean 100 times the channel std. A one-pass E[x^2]-E[x]^2 variance in float32 loses about 4
     * digits here; the two-pass result is exact to float rounding.
     */
    @Test
    void largeMeanSmallVariance() {
        Case k = new Case("2x2x4x4 mean 100", 2, 2, 4, 4, 0.1f, 100.0);
        double[][] in = inputs(k, 8);
        RefOps.BnResult ref = RefOps.batchNormTrain(in[0], k.n, k.c, k.hw(), in[1], in[2], in[3], in[4], k.momentum, EPS);
        Tensor x = t(in[0], k.n, k.c, k.h, k.w), rm = t(in[3], k.c), rv = t(in[4], k.c);
        Tensor y = zeros(k.n, k.c, k.h, k.w), sm = zeros(k.c), sis = zeros(k.c);
        be.batchNormTrain(x, t(in[1], k.c), t(in[2], k.c), rm, rv, k.momentum, EPS, y, sm, sis);
        GradCheck.assertClose("bn y, mean 100", ref.y(), get(y), 1e-4);
        GradCheck.assertClose("bn runVar, mean 100", ref.runVar(), get(rv), 1e-4);
    }

    // ------------------------------------------------------------------ channelAffine

    @Test
    void channelAffineForward() {
        Random rnd = new Random(9);
        int n = 2, c = 3, h = 4, w = 5;
        double[] x = rand(rnd, n * c * h * w, -2, 2), sc = rand(rnd, c, -1.5, 1.5), sh = rand(rnd, c, -1, 1);
        Tensor y = filled(Float.NaN, n, c, h, w), y2 = filled(Float.NaN, n, c, h, w);
        be.channelAffine(t(x, n, c, h, w), t(sc, c), t(sh, c), y);
        be.channelAffine(t(x, n, c, h, w), t(sc, c), null, y2);
        GradCheck.assertClose("channelAffine", RefOps.channelAffine(x, n, c, h * w, sc, sh), get(y), FWD_TOL);
        GradCheck.assertClose("channelAffine no shift", RefOps.channelAffine(x, n, c, h * w, sc, null), get(y2), FWD_TOL);
        // 2-d N x C
        Tensor y3 = filled(Float.NaN, 4, c);
        double[] x2 = rand(rnd, 4 * c, -2, 2);
        be.channelAffine(t(x2, 4, c), t(sc, c), t(sh, c), y3);
        GradCheck.assertClose("channelAffine 2-d", RefOps.channelAffine(x2, 4, c, 1, sc, sh), get(y3), FWD_TOL);
    }

    /** channelAffine has no backward op: dx = channelAffine(dy, scale), dscale = channelDot(dy, x), dshift = channelSum(dy). */
    @Test
    void channelAffineGradientsViaPrimitives() {
        Random rnd = new Random(10);
        int n = 2, c = 3, h = 3, w = 4;
        GradCheck.check("channelAffine", new double[][]{rand(rnd, n * c * h * w, -2, 2), rand(rnd, c, -1.5, 1.5),
                        rand(rnd, c, -1, 1)}, new boolean[]{true, true, true},
                in -> RefOps.channelAffine(in[0], n, c, h * w, in[1], in[2]),
                (in, dy) -> {
                    Tensor x = t(in[0], n, c, h, w), sc = t(in[1], c), dyT = t(dy, n, c, h, w);
                    Tensor y = zeros(n, c, h, w);
                    be.channelAffine(x, sc, t(in[2], c), y);
                    Tensor dx = zeros(n, c, h, w), dsc = zeros(c), dsh = zeros(c);
                    be.channelAffine(dyT, sc, null, dx);
                    be.channelDot(dyT, x, dsc, false);
                    be.channelSum(dyT, dsh, false);
                    return new float[][]{get(dx), get(dsc), get(dsh)};
                }, 11);
    }
}
