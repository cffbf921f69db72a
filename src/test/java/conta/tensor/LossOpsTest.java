package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The three fused losses: returned loss vs RefOps, and dlogits (times gradScale) vs finite differences of the
 * reference loss. GradCheck's projection r is a single number for a scalar loss, passed as gradScale.
 */
class LossOpsTest extends OpsTestBase {
    static final int IGNORE = 255;

    // ------------------------------------------------------------------ multilabel soft margin
    @ParameterizedTest(name = "logit range {0}")
    @ValueSource(doubles = {3, 40})
    void multilabelSoftMargin(double range) {
        int n = 4, c = 20;
        Random rnd = new Random(1);
        double[] x = rand(rnd, n * c, -range, range), y = new double[n * c];
        for (int i = 0; i < y.length; i++) y[i] = rnd.nextInt(3) == 0 ? 1 : 0;
        y[0] = 0.25; // soft target
        Tensor xt = t(x, n, c), yt = t(y, n, c), d = zeros(n, c);
        float loss = be.multilabelSoftMarginLoss(xt, yt, d, 1f);
        double ref = RefOps.multilabelSoftMarginLoss(x, y, n, c);
        assertEquals(ref, loss, FWD_TOL * Math.max(1, Math.abs(ref)), "multilabel soft margin loss");
        Tensor noGrad = null;
        assertEquals(loss, be.multilabelSoftMarginLoss(xt, yt, noGrad, 1f), 0f, "dlogits null");
        GradCheck.check("multilabelSoftMargin range " + range, new double[][]{x, y}, new boolean[]{true, false},
                in -> new double[]{RefOps.multilabelSoftMarginLoss(in[0], in[1], n, c)},
                (in, dy) -> {
                    Tensor dl = filled(5f, n, c);
                    be.multilabelSoftMarginLoss(t(in[0], n, c), t(in[1], n, c), dl, dy[0]);
                    return new float[][]{get(dl), null};
                }, 2);
    }

    // ------------------------------------------------------------------ BCE with logits
    @ParameterizedTest(name = "logit range {0}")
    @ValueSource(doubles = {3, 40})
    void bceWithLogits(double range) {
        int n = 2, c = 3, h = 4, w = 5, len = n * c * h * w;
        Random rnd = new Random(3);
        double[] x = rand(rnd, len, -range, range), y = rand(rnd, len, 0, 1);
        for (int i = 0; i < len; i += 3) y[i] = Math.round(y[i]);
        Tensor d = zeros(n, c, h, w);
        float loss = be.bceWithLogitsLoss(t(x, n, c, h, w), t(y, n, c, h, w), d, 1f);
        double ref = RefOps.bceWithLogitsLoss(x, y);
        assertEquals(ref, loss, FWD_TOL * Math.max(1, Math.abs(ref)), "bce loss");
        assertEquals(loss, be.bceWithLogitsLoss(t(x, n, c, h, w), t(y, n, c, h, w), null, 1f), 0f, "bce, dlogits null");
        GradCheck.check("bceWithLogits range " + range, new double[][]{x, y}, new boolean[]{true, false},
                in -> new double[]{RefOps.bceWithLogitsLoss(in[0], in[1])},
                (in, dy) -> {
                    Tensor dl = filled(5f, n, c, h, w);
                    be.bceWithLogitsLoss(t(in[0], n, c, h, w), t(in[1], n, c, h, w), dl, dy[0]);
                    return new float[][]{get(dl), null};
                }, 4);
    }

    // ------------------------------------------------------------------ cross-entropy
    record CeCase(String name, int n, int c, int h, int w, boolean weights, double ignoreFrac, int ignoreIndex) { }

    static double[] labels(Random rnd, CeCase k) {
        double[] lab = new double[k.n * k.h * k.w];
        for (int i = 0; i < lab.length; i++) lab[i] = rnd.nextDouble() < k.ignoreFrac ? k.ignoreIndex : rnd.nextInt(k.c);
        lab[0] = k.ignoreFrac > 0 ? k.ignoreIndex : 0;
        lab[1] = k.c - 1;
        return lab;
    }

    void checkCrossEntropy(CeCase k, double logitRange) {
        Random rnd = new Random(5);
        int hw = k.h * k.w;
        double[] x = rand(rnd, k.n * k.c * hw, -logitRange, logitRange), lab = labels(rnd, k);
        double[] wts = k.weights ? rand(rnd, k.c, 0.2, 3) : null;
        Tensor wt = wts == null ? null : t(wts, k.c);
        Tensor d = zeros(k.n, k.c, k.h, k.w);
        float loss = be.crossEntropyLoss(t(x, k.n, k.c, k.h, k.w), t(lab, k.n, k.h, k.w), wt, k.ignoreIndex, d, 1f);
        double ref = RefOps.crossEntropyLoss(x, lab, wts, k.ignoreIndex, k.n, k.c, hw);
        assertEquals(ref, loss, FWD_TOL * Math.max(1, Math.abs(ref)), "cross-entropy loss " + k.name);
        assertEquals(loss, be.crossEntropyLoss(t(x, k.n, k.c, k.h, k.w), t(lab, k.n, k.h, k.w), wt, k.ignoreIndex, null, 3f),
                0f, "cross-entropy, dlogits null");
        GradCheck.check("crossEntropy " + k.name, new double[][]{x, lab}, new boolean[]{true, false},
                in -> new double[]{RefOps.crossEntropyLoss(in[0], in[1], wts, k.ignoreIndex, k.n, k.c, hw)},
                (in, dy) -> {
                    Tensor dl = filled(5f, k.n, k.c, k.h, k.w);
                    be.crossEntropyLoss(t(in[0], k.n, k.c, k.h, k.w), t(in[1], k.n, k.h, k.w),
                            wts == null ? null : t(wts, k.c), k.ignoreIndex, dl, dy[0]);
                    return new float[][]{get(dl), null};
                }, 6);
    }

    @Test
    void crossEntropyPlain() { checkCrossEntropy(new CeCase("plain", 2, 5, 3, 4, false, 0, IGNORE), 3); }

    /** Large enough to run image by image on both cores: per-image sums, then the total in image order. */
    @Test
    void crossEntropyLargeBatchParallel() {
        CeCase k = new CeCase("4 x 21 x 24x30, weights, 20% ignored", 4, 21, 24, 30, true, 0.2, IGNORE);
        Random rnd = new Random(8);
        int hw = k.h() * k.w();
        double[] x = rand(rnd, k.n() * k.c() * hw, -4, 4), lab = labels(rnd, k), wts = rand(rnd, k.c(), 0.2, 3);
        Tensor d = filled(Float.NaN, k.n(), k.c(), k.h(), k.w());
        float loss = be.crossEntropyLoss(t(x, k.n(), k.c(), k.h(), k.w()), t(lab, k.n(), k.h(), k.w()), t(wts, k.c()), IGNORE, d, 1f);
        assertEquals(RefOps.crossEntropyLoss(x, lab, wts, IGNORE, k.n(), k.c(), hw), loss, 1e-5, "loss");
        float[] g = get(d);
        for (float v : g) assertTrue(Float.isFinite(v), "every logit gets a gradient (0 where ignored)");
        lab[3 * hw + 7] = 21; // a label out of range in the last image: the error names it, from whichever thread
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.crossEntropyLoss(
                t(x, k.n(), k.c(), k.h(), k.w()), t(lab, k.n(), k.h(), k.w()), null, IGNORE, null, 1f));
        assertTrue(e.getMessage().contains("label 21.0 outside [0, 21)"), e.getMessage());
    }

    @Test
    void crossEntropyIgnored() { checkCrossEntropy(new CeCase("ignored 30%", 2, 5, 3, 4, false, 0.3, IGNORE), 3); }

    @Test
    void crossEntropyWeightedIgnored() { checkCrossEntropy(new CeCase("weighted + ignored", 2, 5, 3, 4, true, 0.3, IGNORE), 3); }

    @Test
    void crossEntropyWeightedIgnoreMinus100() { checkCrossEntropy(new CeCase("weighted, ignore -100", 1, 4, 5, 3, true, 0.2, -100), 3); }

    @Test
    void crossEntropyLargeLogits() { checkCrossEntropy(new CeCase("logits +-60", 2, 21, 2, 3, true, 0.2, IGNORE), 60); }

    /** dlogits of ignored pixels are exactly 0, and dlogits is overwritten (not accumulated). */
    @Test
    void crossEntropyIgnoredPixelsHaveZeroGradient() {
        CeCase k = new CeCase("", 2, 4, 3, 3, true, 0.4, IGNORE);
        Random rnd = new Random(7);
        double[] x = rand(rnd, k.n * k.c * 9, -2, 2), lab = labels(rnd, k);
        Tensor d = filled(5f, k.n, k.c, 3, 3);
        be.crossEntropyLoss(t(x, k.n, k.c, 3, 3), t(lab, k.n, 3, 3), t(rand(rnd, k.c, 0.5, 2), k.c), IGNORE, d, 1f);
        float[] g = get(d);
        for (int n = 0; n < k.n; n++) for (int p = 0; p < 9; p++) {
            if (lab[n * 9 + p] != IGNORE) continue;
            for (int c = 0; c < k.c; c++) assertEquals(0f, g[(n * k.c + c) * 9 + p], "ignored pixel n=" + n + " p=" + p);
        }
    }

    /**
     * Worked by hand: N=1, C=2, three pixels (1x3). Logits per pixel (class 0, class 1): p0 = (0, 0), p1 = (1, 3),
     * p2 = (2, 0); labels 1, 255 (ignored), 0.
     * <pre>
     * p0: softmax = (1/2, 1/2), -log p[1] = ln 2 = 0.6931471806
     * p2: softmax = (1/(1+e^-2), e^-2/(1+e^-2)) = (0.8807970780, 0.1192029220), -log p[0] = ln(1+e^-2) = 0.1269280110
     * unweighted: loss = (0.6931471806 + 0.1269280110) / 2 = 0.4100375958
     *   dlogits p0 = (0.5, -0.5)/2 = (0.25, -0.25); p1 = (0, 0); p2 = (0.8807970780-1, 0.1192029220)/2 = (-0.0596014610, 0.0596014610)
     * weights (1, 3): p0 weight w[1] = 3, p2 weight w[0] = 1, sum 4:
     *   loss = (3*0.6931471806 + 0.1269280110)/4 = 0.5515923882
     *   dlogits p0 = 3*(0.5, -0.5)/4 = (0.375, -0.375); p2 = (-0.1192029220, 0.1192029220)/4 = (-0.0298007305, 0.0298007305)
     * gradScale 2 doubles dlogits, not the loss.
     * </pre>
     */
    @Test
    void handWorkedCrossEntropyWithIgnoredPixel() {
        double[] x = {0, 1, 2, /* class 1: */ 0, 3, 0};
        double[] lab = {1, IGNORE, 0};
        assertEquals(0.4100375958, RefOps.crossEntropyLoss(x, lab, null, IGNORE, 1, 2, 3), 1e-9);
        assertEquals(0.5515923882, RefOps.crossEntropyLoss(x, lab, new double[]{1, 3}, IGNORE, 1, 2, 3), 1e-9);
        Tensor xt = t(x, 1, 2, 1, 3), lt = t(lab, 1, 1, 3), d = zeros(1, 2, 1, 3);
        assertEquals(0.4100375958f, be.crossEntropyLoss(xt, lt, null, IGNORE, d, 2f), 1e-6f);
        assertArrayEquals(new float[]{0.5f, 0, -0.1192029220f, -0.5f, 0, 0.1192029220f}, get(d), 1e-6f, "unweighted x2");
        assertEquals(0.5515923882f, be.crossEntropyLoss(xt, lt, t(new double[]{1, 3}, 2), IGNORE, d, 1f), 1e-6f);
        assertArrayEquals(new float[]{0.375f, 0, -0.0298007305f, -0.375f, 0, 0.0298007305f}, get(d), 1e-6f, "weighted");
    }
}
