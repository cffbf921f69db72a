package conta.causal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.causal.ContextAttention.Mode;
import conta.models.ResNet;
import conta.models.ResNetConfig;
import conta.nn.Init;
import conta.nn.Module;
import conta.tensor.GradCheck;
import conta.tensor.RefOps;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ContextAttentionTest {
    static CpuBackend b;

    @BeforeAll
    static void open() { b = new CpuBackend(); }

    @AfterAll
    static void close() { b.close(); }

    // Hand-worked case: n = 2, h = w = 2, d = 2. c_0 = top row, c_1 = bottom row. W2 picks pixels 0 and 2, so
    // k_0 = (1, 0), k_1 = (0, 1). W1 = a * (pixel 0; pixel 2) with a = sqrt(2) ln 3, so q.k_i / sqrt(2) is ln 3 for
    // every query pixel set: softmax(ln 3, 0) = (3/4, 1/4), and M = (alpha_0 c_0 + alpha_1 c_1) / 2.
    static final float A = (float) (Math.sqrt(2) * Math.log(3));
    static final float[] C = {1, 1, 0, 0, /* c_1 */ 0, 0, 1, 1};
    static final float[] W1 = {A, 0, 0, 0, /* row 2 */ 0, 0, A, 0};
    static final float[] W2 = {1, 0, 0, 0, /* row 2 */ 0, 0, 1, 0};

    static ContextAttention handModule() {
        ContextAttention ca = new ContextAttention(b, 2, 2, 2, 2, Mode.ATTENTION);
        b.upload(ca.w1, W1);
        b.upload(ca.w2, W2);
        return ca;
    }

    @Test
    void foregroundQueryHandWorked() {
        try (ContextAttention ca = handModule(); Tape t = Tape.open(false)) {
            Tensor c = Tape.track(Tensor.of(b, C, 2, 2, 2));
            // image 0: foreground only at pixel 0 -> scores (ln 3, 0); image 1: pixels 0 and 2 -> (ln 3, ln 3)
            Tensor xm = Tape.track(Tensor.of(b, new float[]{1, 0, 0, 0, 1, 0, 1, 0}, 2, 1, 2, 2));
            assertArrayEquals(new float[]{0.75f, 0.25f, 0.5f, 0.5f}, ca.attention(xm, c).toArray(), 1e-6f);
            Tensor m = ca.forward(xm, c);
            assertArrayEquals(new int[]{2, 1, 2, 2}, m.shape());
            assertArrayEquals(new float[]{3 / 8f, 3 / 8f, 1 / 8f, 1 / 8f, 0.25f, 0.25f, 0.25f, 0.25f}, m.toArray(), 1e-6f);
        }
    }

    @Test
    void perClassQueriesFromALabelMap() {
        MaskEncoding e = MaskEncoding.of(2, 2, 2).withQuery(MaskEncoding.Query.PER_CLASS);
        // label 1 (class 0) at pixel 0, label 2 (class 1) at pixel 2: x_0 = (1,0,0,0), x_1 = (0,0,1,0)
        float[] x = e.query(e.classMaps(new int[]{1, 0, 2, 0}, 2, 2));
        try (ContextAttention ca = handModule(); Tape t = Tape.open(false)) {
            Tensor c = Tape.track(Tensor.of(b, C, 2, 2, 2));
            Tensor xm = Tape.track(e.batch(b, List.of(x)));
            assertArrayEquals(new float[]{0.75f, 0.25f, 0.25f, 0.75f}, ca.attention(xm, c).toArray(), 1e-6f);
            Tensor m = ca.forward(xm, c);
            assertArrayEquals(new int[]{1, 2, 2, 2}, m.shape());
            assertArrayEquals(new float[]{3 / 8f, 3 / 8f, 1 / 8f, 1 / 8f, 1 / 8f, 1 / 8f, 3 / 8f, 3 / 8f}, m.toArray(), 1e-6f);
        }
    }

    @Test
    void rawMaskAblationReturnsTheMaskAndHasNoParameters() {
        try (ContextAttention ca = new ContextAttention(b, 2, 2, 2, 2, Mode.RAW_MASK); Tape t = Tape.open(false)) {
            assertTrue(ca.namedParameters().isEmpty());
            Tensor c = Tape.track(Tensor.of(b, C, 2, 2, 2));
            Tensor xm = Tape.track(Tensor.of(b, new float[]{1, 0, 0, 0}, 1, 1, 2, 2));
            assertSame(xm, ca.forward(xm, c));
            assertThrows(IllegalStateException.class, () -> ca.attention(xm, c));
        }
    }

    /** The control: CONTA's channel count and shape, all zero, whatever the mask; no parameters. */
    @Test
    void zeroControlReturnsZerosOfTheContextShape() {
        try (ContextAttention ca = new ContextAttention(b, 2, 2, 2, 2, Mode.ZERO); Tape t = Tape.open(false)) {
            assertTrue(ca.namedParameters().isEmpty());
            Tensor c = Tape.track(Tensor.of(b, C, 2, 2, 2));
            Tensor xm = Tape.track(Tensor.of(b, new float[]{1, 0, 0, 1, 0, 1, 1, 0}, 2, 1, 2, 2));
            Tensor m = ca.forward(xm, c);
            assertArrayEquals(new int[]{2, 1, 2, 2}, m.shape());
            assertArrayEquals(new float[8], m.toArray());
            assertThrows(IllegalStateException.class, () -> ca.attention(xm, c));
        }
    }

    @Test
    void onesControlReturnsOnes() {
        try (ContextAttention ca = new ContextAttention(b, 2, 2, 2, 2, Mode.ONES); Tape t = Tape.open(false)) {
            assertTrue(ca.namedParameters().isEmpty());
            Tensor xm = Tape.track(Tensor.of(b, new float[]{1, 0, 0, 1}, 1, 1, 2, 2));
            assertArrayEquals(new float[]{1, 1, 1, 1}, ca.forward(xm, Tape.track(Tensor.of(b, C, 2, 2, 2))).toArray());
        }
    }

    @Test
    void parametersAreNamedAndInitialisedLikeMt() {
        final class Holder extends Module {
            Holder() {
                super(b);
                child("context", new ContextAttention(b, 20, 32, 32, 20, Mode.ATTENTION)).init(7);
            }
        }
        try (Holder h = new Holder()) {
            var p = h.namedParameters();
            assertEquals(List.of("context.w1", "context.w2"), List.copyOf(p.keySet()));
            assertArrayEquals(new int[]{20, 1024}, p.get("context.w1").shape());
            for (Tensor w : p.values()) {
                float[] v = w.toArray();
                double s = 0, ss = 0;
                for (float f : v) { s += f; ss += (double) f * f; }
                double mean = s / v.length, std = Math.sqrt(ss / v.length - mean * mean);
                assertTrue(Math.abs(mean) < 1e-3 && Math.abs(std - 0.02) < 1e-3, "mean " + mean + " std " + std);
            }
        }
    }

    @Test
    void badShapesAreRejected() {
        try (ContextAttention ca = handModule(); Tape t = Tape.open(false)) {
            Tensor c = Tape.track(Tensor.of(b, C, 2, 2, 2));
            Tensor wrongGrid = Tape.track(Tensor.zeros(b, 1, 1, 3, 3));
            var ex = assertThrows(IllegalArgumentException.class, () -> ca.forward(wrongGrid, c));
            assertTrue(ex.getMessage().contains("N x k x 2 x 2"), ex.getMessage());
            Tensor wrongC = Tape.track(Tensor.zeros(b, 3, 2, 2));
            assertThrows(IllegalArgumentException.class, () -> ca.forward(Tape.track(Tensor.zeros(b, 1, 1, 2, 2)), wrongC));
        }
    }

    /** M joins a tiny ResNet at block 5 through the model's own concat path; the full forward runs and W1 learns. */
    @Test
    void fullModelForwardReachesW1() {
        ResNetConfig cfg = ResNetConfig.torchvision(false, 1, 1, 1, 1).withWidth(2).withHead(ResNetConfig.Head.CAM, 2).withHeadExtraIn(1);
        try (ResNet net = new ResNet(b, cfg); ContextAttention ca = handModule(); Tape t = Tape.open(true)) {
            Init.torchvision(net, 1);
            Tensor x = Tape.track(Tensor.of(b, GradCheck.toFloat(GradCheck.projection(2 * 3 * 64 * 64, 5)), 2, 3, 64, 64));
            Tensor xm = Tape.track(Tensor.of(b, new float[]{1, 0, 0, 0, 1, 0, 1, 1}, 2, 1, 2, 2));
            // c_i with different means: the CAM head pools before its 1x1 classifier, so logits see M only through
            // mean(M) = sum_i alpha_i mean(c_i) / n, which is constant in alpha when the means are equal (as in C)
            Tensor c = Tape.track(Tensor.of(b, new float[]{1, 1, 1, 0, 0, 0, 1, 0}, 2, 2, 2));
            Tensor logits = net.forward(x, ca.forward(xm, c));
            assertArrayEquals(new int[]{2, 2}, logits.shape());
            t.backward(F.multilabelSoftMarginLoss(logits, Tape.track(Tensor.of(b, new float[]{1, 0, 0, 1}, 2, 2))));
            assertNotNull(ca.w1.grad);
            double norm = 0;
            for (float g : ca.w1.grad.toArray()) norm += g * g;
            assertTrue(norm > 0, "W1 got a zero gradient");
        }
    }

    /**
     * Float64 central differences of L = r . logits, logits = head(concat(features, resize(M))), against the engine's
     * gradients for W1, W2 and the block-5 features. M is 2x2 and the features 4x4, so the model's bilinear resize is on
     * the path too. k = 1 (foreground query) and k = 3 (per-class queries).
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void finiteDifferencesThroughTheHead(int k) {
        int n = 3, h = 2, w = 2, hw = h * w, d = 4, N = 2, feat = 16, G = 4, classes = 2;
        ResNetConfig cfg = ResNetConfig.torchvision(false, 1, 1, 1, 1).withWidth(2).withHead(ResNetConfig.Head.CAM, classes).withHeadExtraIn(k);
        Random rnd = new Random(11);
        double[] c = new double[n * hw], xm = new double[N * k * hw];
        for (int i = 0; i < c.length; i++) c[i] = (float) rnd.nextDouble();
        for (int i = 0; i < xm.length; i++) xm[i] = (float) rnd.nextDouble();
        double[] w1 = new double[d * hw], w2 = new double[d * hw], f = new double[N * feat * G * G];
        for (int i = 0; i < w1.length; i++) { w1[i] = rnd.nextGaussian() * 0.7; w2[i] = rnd.nextGaussian() * 0.7; }
        for (int i = 0; i < f.length; i++) f[i] = rnd.nextGaussian();
        try (ResNet net = new ResNet(b, cfg); ContextAttention ca = new ContextAttention(b, n, h, w, d, Mode.ATTENTION)) {
            Init.torchvision(net, 3);
            assertEquals(feat, cfg.featureChannels());
            double[] cw = GradCheck.toDouble(net.camWeight().toArray()); // classes x (feat + k)
            GradCheck.RefFn ref = in -> {
                double[] m = referenceM(in[0], in[1], xm, c, N * k, n, hw, d);
                double[] mr = RefOps.resizeBilinear(m, N, k, h, w, G, G, false);
                double[] logits = new double[N * classes];
                for (int bi = 0; bi < N; bi++)
                    for (int o = 0; o < classes; o++) {
                        double acc = 0;
                        for (int ch = 0; ch < feat + k; ch++) {
                            double mean = 0;
                            for (int p = 0; p < G * G; p++)
                                mean += ch < feat ? in[2][(bi * feat + ch) * G * G + p] : mr[(bi * k + ch - feat) * G * G + p];
                            acc += cw[o * (feat + k) + ch] * mean / (G * G);
                        }
                        logits[bi * classes + o] = acc;
                    }
                return logits;
            };
            GradCheck.BackendGradFn engine = (in, r) -> {
                b.upload(ca.w1, in[0]);
                b.upload(ca.w2, in[1]);
                try (Tape t = Tape.open(true); Tensor feats = Tensor.of(b, in[2], N, feat, G, G)) {
                    feats.requiresGrad = true;
                    Tensor m = ca.forward(Tape.track(Tensor.of(b, GradCheck.toFloat(xm), N, k, h, w)),
                            Tape.track(Tensor.of(b, GradCheck.toFloat(c), n, h, w)));
                    Tensor logits = net.head(net.withContext(feats, m));
                    Tensor loss = F.linear(F.reshape(logits, 1, N * classes), Tape.track(Tensor.of(b, r, 1, N * classes)), null);
                    t.backward(loss);
                    float[][] g = {ca.w1.grad.toArray(), ca.w2.grad.toArray(), feats.grad.toArray()};
                    ca.w1.grad.close();
                    ca.w1.grad = null;
                    ca.w2.grad.close();
                    ca.w2.grad = null;
                    return g;
                }
            };
            GradCheck.check("context k=" + k, new double[][]{w1, w2, f}, new boolean[]{true, true, true}, ref, engine, 17);
        }
    }

    /** M in float64, straight from the formula: rows are the Q = N*k queries. */
    static double[] referenceM(double[] w1, double[] w2, double[] xm, double[] c, int Q, int n, int hw, int d) {
        double[] m = new double[Q * hw];
        for (int j = 0; j < Q; j++) {
            double[] q = new double[d];
            for (int e = 0; e < d; e++) for (int p = 0; p < hw; p++) q[e] += w1[e * hw + p] * xm[j * hw + p];
            double[] s = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                for (int e = 0; e < d; e++) {
                    double kk = 0;
                    for (int p = 0; p < hw; p++) kk += w2[e * hw + p] * c[i * hw + p];
                    s[i] += q[e] * kk;
                }
                s[i] /= Math.sqrt(d);
                max = Math.max(max, s[i]);
            }
            double z = 0;
            for (int i = 0; i < n; i++) z += Math.exp(s[i] - max);
            for (int i = 0; i < n; i++)
                for (int p = 0; p < hw; p++) m[j * hw + p] += Math.exp(s[i] - max) / z * c[i * hw + p] / n;
        }
        return m;
    }
}
