package conta.wsss.irn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.Tape;
import conta.models.ResNetConfig;
import conta.optim.Sgd;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.GradCheck;
import conta.tensor.RefOps;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BoundaryNetTest {
    static Backend be;

    @BeforeAll
    static void open() { be = new CpuBackend(); }

    @AfterAll
    static void close() { be.close(); }

    /** Tiny ResNet (basic blocks, width 4): side channels 4, 4, 8, 16, 32 at strides 4, 4, 8, 16, 16. */
    static final ResNetConfig TINY = ResNetConfig.torchvision(false, 1, 1, 1, 1).withWidth(4).withStrides(new int[]{1, 2, 2, 1});

    // side feature shapes of a 28x36 image: stride-4 grid 7x9; 4x5 and 2x3 upsample to 8x10 / 8x12 and are cropped
    static final int N = 2, GH = 7, GW = 9;
    static final int[][] SIDES = {{4, 7, 9}, {4, 7, 9}, {8, 4, 5}, {16, 2, 3}, {32, 2, 3}};
    static final int[] UP = {1, 1, 2, 4, 4};
    static final String[] CHECKED = {"fc_edge1.0.weight", "fc_edge3.0.weight", "fc_edge4.1.weight", "fc_edge4.1.bias",
            "fc_edge6.weight", "fc_edge6.bias"};

    @Test
    void headGradientsMatchFloat64FiniteDifferences() {
        try (BoundaryNet net = new BoundaryNet(be, TINY, 3, 1)) {
            Random rnd = new Random(9);
            double[][] feats = new double[5][];
            for (int i = 0; i < 5; i++) feats[i] = rand(rnd, N * SIDES[i][0] * SIDES[i][1] * SIDES[i][2], 0, 2);
            Map<String, Tensor> params = net.namedParameters();
            // perturb GroupNorm affines and the fuse bias away from their 1/0 init so that they matter
            for (String k : params.keySet())
                if (k.startsWith("fc_edge") && !k.endsWith("0.weight") && !k.equals("fc_edge6.weight"))
                    be.upload(params.get(k), GradCheck.toFloat(rand(rnd, (int) params.get(k).numel(), -0.5, 1.5)));
            Map<String, double[]> fixed = new java.util.HashMap<>();
            params.forEach((k, t) -> fixed.put(k, GradCheck.toDouble(t.toArray())));
            byte[] labels = new byte[N * GH * GW];
            for (int i = 0; i < labels.length; i++) labels[i] = (byte) new int[]{0, 0, 1, 2, 255}[rnd.nextInt(5)];
            PathIndex pi = net.pairIndex();
            double[][] inputs = new double[CHECKED.length][];
            for (int i = 0; i < CHECKED.length; i++) inputs[i] = fixed.get(CHECKED[i]);
            boolean[] wrt = new boolean[CHECKED.length];
            java.util.Arrays.fill(wrt, true);
            try (Tape tape = Tape.open(false)) { // forward: float32 head vs the float64 reference
                List<Tensor> sides = new ArrayList<>();
                for (int i = 0; i < 5; i++)
                    sides.add(Tape.track(Tensor.of(be, GradCheck.toFloat(feats[i]), N, SIDES[i][0], SIDES[i][1], SIDES[i][2])));
                GradCheck.assertClose("head logits", refHead(feats, fixed), net.head(sides).toArray(), 1e-5);
            }
            GradCheck.check("boundary head", inputs, wrt, in -> {
                Map<String, double[]> p = new java.util.HashMap<>(fixed);
                for (int i = 0; i < CHECKED.length; i++) p.put(CHECKED[i], in[i]);
                double[] logits = refHead(feats, p);
                double[] prob = RefOps.sigmoid(logits);
                return new double[]{AffinityTest.refLoss(AffinityTest.refAffinity(prob, N, GH, GW, pi), labels, N, GH, GW, pi)};
            }, (in, r) -> {
                for (int i = 0; i < CHECKED.length; i++) be.upload(params.get(CHECKED[i]), in[i]);
                try (Tape tape = Tape.open(true)) {
                    List<Tensor> sides = new ArrayList<>();
                    for (int i = 0; i < 5; i++)
                        sides.add(Tape.track(Tensor.of(be, GradCheck.toFloat(feats[i]), N, SIDES[i][0], SIDES[i][1], SIDES[i][2])));
                    Tensor logits = net.head(sides);
                    Tensor prob = conta.autograd.F.sigmoid(logits);
                    tape.backward(Affinity.loss(Affinity.fromBoundary(prob, pi), labels, GH, GW, pi).total(), r[0]);
                }
                float[][] g = new float[CHECKED.length][];
                for (int i = 0; i < CHECKED.length; i++) g[i] = params.get(CHECKED[i]).grad.toArray();
                for (Tensor t : params.values()) if (t.grad != null) { t.grad.close(); t.grad = null; }
                return g;
            }, 31, 1e-6);
        }
    }

    @Test
    void sgdStepsLowerTheLossAndLeaveTheBackboneAlone() {
        try (BoundaryNet net = new BoundaryNet(be, TINY, 3, 2)) {
            int n = 2, h = 32, w = 32, gh = 8, gw = 8;
            float[] img = new float[n * 3 * h * w];
            byte[] masks = new byte[n * h * w];
            Random rnd = new Random(4);
            for (int i = 0; i < n; i++) // a bright object (class i + 1) on a dark textured background
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        boolean obj = i == 0 ? x >= 12 : y >= 14 && x >= 6 && x < 26;
                        masks[(i * h + y) * w + x] = (byte) (obj ? i + 1 : 0);
                        for (int c = 0; c < 3; c++)
                            img[((i * 3 + c) * h + y) * w + x] = (float) ((obj ? 1.2 - 0.4 * c : -0.8) + 0.2 * rnd.nextGaussian());
                    }
            byte[] ir = BoundaryNet.downsampleLabels(masks, n, h, w);
            float[] before = net.backbone().state().get("layer2.0.conv1.weight").toArray();
            List<Float> losses = new ArrayList<>();
            net.train(true);
            try (Sgd opt = Sgd.single(net.headParameters(), 0.9f, 1e-4f)) {
                assertEquals(17, opt.allParams().size(), "head only: 5 x (conv, GN weight, GN bias) + fuse weight and bias");
                for (int step = 0; step < 12; step++) {
                    opt.zeroGrad();
                    try (Tape tape = Tape.open(true); Tensor x = Tensor.of(be, img, n, 3, h, w)) {
                        Affinity.Loss l = net.loss(x, ir);
                        losses.add(l.total().item());
                        tape.backward(l.total());
                    }
                    opt.step(0.1f);
                }
            }
            System.out.println("boundary net SGD losses: " + losses);
            assertTrue(losses.getLast() < 0.7 * losses.getFirst(), "loss " + losses);
            assertArrayEquals(before, net.backbone().state().get("layer2.0.conv1.weight").toArray());
            net.backbone().state().values().forEach(t -> assertNull(t.grad, t.name));
            assertEquals(gh * gw * n, ir.length);
        }
    }

    /**
     * The frozen backbone through its stage plans (what PseudoStage trains and walks with on the CPU) against its
     * training-graph forward, on backbones (bottleneck and basic blocks) whose BN statistics are far from the identity: logits per element
     * within 1e-5 x max + 1e-4 x |ref|, the loss within 1e-5 relative, every head gradient within 1e-4 of its largest.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void backbonePlansGiveTheForwardsLogitsLossAndGradients(boolean bottleneck) {
        // basic blocks: layer1's first block has no downsample, so it sums its shortcut into the stem's output in place
        ResNetConfig cfg = ResNetConfig.torchvision(bottleneck, 1, 1, 1, 1).withWidth(8).withStrides(new int[]{1, 2, 2, 1});
        try (BoundaryNet net = new BoundaryNet(be, cfg, 3, 5)) {
            Random rnd = new Random(6);
            net.backbone().state().forEach((k, t) -> {
                double lo = 0, hi = 0;
                if (k.endsWith("running_var")) { lo = 0.5; hi = 1.5; }
                else if (k.endsWith("running_mean") || k.endsWith("bias")) { lo = -0.2; hi = 0.2; }
                else if (t.rank() == 1) { lo = 0.5; hi = 1.5; } // BN weight
                if (hi > lo) be.upload(t, GradCheck.toFloat(rand(rnd, (int) t.numel(), lo, hi)));
            });
            int n = 2, h = 64, w = 80;
            float[] img = GradCheck.toFloat(rand(rnd, n * 3 * h * w, -1.5, 1.5));
            byte[] labels = new byte[n * 16 * 20];
            for (int i = 0; i < labels.length; i++) labels[i] = (byte) new int[]{0, 0, 1, 2, 255}[rnd.nextInt(5)];
            net.train(true);
            float[][] logits = new float[2][], loss = new float[2][];
            List<float[]> grads = new ArrayList<>();
            try (conta.infer.PlanCache plans = conta.infer.PlanCache.forBackend(be, net.backbone(), conta.infer.PlanCache.Output.STAGES,
                    conta.infer.Precision.FP32, 1)) {
                assertTrue(plans != null, "stage plans run on the CPU backend");
                for (int planned = 0; planned < 2; planned++) {
                    net.useBackbonePlans(planned == 1 ? plans : null);
                    net.headParameters().forEach(t -> t.grad = null);
                    try (Tape tape = Tape.open(true); Tensor x = Tensor.of(be, img, n, 3, h, w)) {
                        logits[planned] = net.logits(x).toArray();
                        Affinity.Loss l = net.loss(x, labels);
                        loss[planned] = new float[]{l.total().item()};
                        tape.backward(l.total());
                    }
                    for (Tensor t : net.headParameters()) grads.add(t.grad.toArray());
                }
                net.useBackbonePlans(null);
            }
            double max = 0;
            for (float v : logits[0]) max = Math.max(max, Math.abs(v));
            for (int i = 0; i < logits[0].length; i++)
                assertEquals(logits[0][i], logits[1][i], 1e-5 * max + 1e-4 * Math.abs(logits[0][i]), "logit " + i);
            assertEquals(loss[0][0], loss[1][0], 1e-5 * Math.abs(loss[0][0]), "loss");
            int params = grads.size() / 2;
            for (int p = 0; p < params; p++) {
                float[] ref = grads.get(p), got = grads.get(params + p);
                double gmax = 0;
                for (float v : ref) gmax = Math.max(gmax, Math.abs(v));
                assertTrue(gmax > 0, "head parameter " + p + " gets a gradient");
                for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 1e-4 * gmax, "head parameter " + p + ", element " + i);
            }
        }
    }

    @Test
    void inferenceAveragesLogitsWithTheMirrorImage() {
        try (BoundaryNet net = new BoundaryNet(be, TINY, 3, 3)) {
            int h = 20, w = 28, oh = 5, ow = 7;
            float[] img = GradCheck.toFloat(rand(new Random(2), 3 * h * w, -1, 1));
            float[] mirror = new float[img.length];
            for (int p = 0; p < 3 * h; p++) for (int x = 0; x < w; x++) mirror[p * w + x] = img[p * w + w - 1 - x];
            float[] a, b;
            try (Tape t = Tape.open(false)) {
                a = net.logits(Tape.track(Tensor.of(be, img, 1, 3, h, w))).toArray();
                b = net.logits(Tape.track(Tensor.of(be, mirror, 1, 3, h, w))).toArray();
            }
            float[] got = net.boundary(img, h, w);
            assertEquals(oh * ow, got.length);
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    assertEquals(RefOps.sigmoid((a[y * ow + x] + (double) b[y * ow + ow - 1 - x]) / 2), got[y * ow + x], 1e-6);
        }
    }

    /**
     * Against Pillow (test-data/pil/make_pil_fixtures.py): real VOC label crops 48x64 (IRNet's pil_rescale(label, 0.25, 0)
     * = label[2::4, 2::4], checked by the script) and 45x63 (Pillow NEAREST to the network's 12x16 grid).
     */
    @Test
    void downsampledLabelsArePillowNearest() throws java.io.IOException {
        var fx = conta.io.Npy.readNpz(java.nio.file.Path.of("test-data/pil/pil_resize.npz"));
        for (String s : new String[]{"A", "B"}) {
            var src = fx.get("src_lbl_" + s);
            var want = fx.get("nn_" + s + "_q4");
            int h = src.shape()[0], w = src.shape()[1];
            byte[] two = new byte[2 * h * w]; // two images in the batch: the second mirrored, so both positions count
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    two[y * w + x] = (byte) (int) src.data()[y * w + x];
                    two[h * w + y * w + x] = (byte) (int) src.data()[y * w + w - 1 - x];
                }
            byte[] got = BoundaryNet.downsampleLabels(two, 2, h, w);
            int oh = want.shape()[0], ow = want.shape()[1];
            assertEquals((h + 3) / 4 * ((w + 3) / 4), oh * ow, s);
            for (int i = 0; i < oh * ow; i++) assertEquals((int) want.data()[i], got[i] & 0xFF, s + " cell " + i);
            // the mirrored image at (y, x) samples source column w-1-xs[x]; compare with the source directly
            int[] ys = conta.image.PilResample.nearestIndex(h, oh), xs = conta.image.PilResample.nearestIndex(w, ow);
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    assertEquals((int) src.data()[ys[y] * w + w - 1 - xs[x]], got[oh * ow + y * ow + x] & 0xFF, s + " mirrored " + y + "," + x);
        }
    }

    @Test
    void labelsAndShapesAreChecked() {
        byte[] m = new byte[2 * 8 * 8];
        for (int i = 0; i < m.length; i++) m[i] = (byte) i;
        // 8x8 -> 2x2 picks the cell centres (2,2), (2,6), (6,2), (6,6) of each image, as IRNet's pil_rescale(label, 0.25, 0)
        assertArrayEquals(new byte[]{18, 22, 50, 54, 82, 86, 114, 118}, BoundaryNet.downsampleLabels(m, 2, 8, 8));
        try (BoundaryNet net = new BoundaryNet(be, TINY, 3, 1); Tape t = Tape.open(true); Tensor x = Tensor.zeros(be, 1, 3, 32, 32)) {
            assertThrows(IllegalArgumentException.class, () -> net.loss(x, new byte[63]));
            assertThrows(IllegalArgumentException.class, () -> net.logits(Tensor.zeros(be, 1, 1, 8, 8)));
        }
        assertThrows(IllegalArgumentException.class, () -> new BoundaryNet(be, TINY.withStrides(new int[]{2, 2, 2, 1}), 3, 1));
    }

    /** The edge head in float64: per side conv 1x1, GroupNorm(4), bilinear upsample, crop, ReLU; concat; conv with bias. */
    static double[] refHead(double[][] feats, Map<String, double[]> p) {
        int hw = GH * GW;
        double[] cat = new double[N * 160 * hw];
        for (int i = 0; i < 5; i++) {
            int c = SIDES[i][0], h = SIDES[i][1], w = SIDES[i][2];
            String k = "fc_edge" + (i + 1);
            double[] y = RefOps.conv2d(feats[i], N, c, h, w, p.get(k + ".0.weight"), 32, null, ConvSpec.of(1, 1, 0, 1));
            y = refGroupNorm(y, N, 32, h * w, 4, p.get(k + ".1.weight"), p.get(k + ".1.bias"));
            int uh = h * UP[i], uw = w * UP[i];
            if (UP[i] > 1) y = RefOps.resizeBilinear(y, N, 32, h, w, uh, uw, false);
            for (int n = 0; n < N; n++)
                for (int ch = 0; ch < 32; ch++)
                    for (int yy = 0; yy < GH; yy++)
                        for (int xx = 0; xx < GW; xx++)
                            cat[((n * 160 + i * 32 + ch) * GH + yy) * GW + xx] = Math.max(0, y[((n * 32 + ch) * uh + yy) * uw + xx]);
        }
        return RefOps.conv2d(cat, N, 160, GH, GW, p.get("fc_edge6.weight"), 1, p.get("fc_edge6.bias"), ConvSpec.of(1, 1, 0, 1));
    }

    static double[] refGroupNorm(double[] x, int n, int c, int hw, int groups, double[] gamma, double[] beta) {
        int m = c / groups * hw;
        double[] y = new double[x.length];
        for (int i = 0; i < n * groups; i++) {
            double mean = 0, var = 0;
            for (int j = 0; j < m; j++) mean += x[i * m + j];
            mean /= m;
            for (int j = 0; j < m; j++) var += (x[i * m + j] - mean) * (x[i * m + j] - mean);
            double inv = 1 / Math.sqrt(var / m + 1e-5);
            for (int j = 0; j < m; j++) {
                int ch = (i % groups) * (c / groups) + j / hw;
                y[i * m + j] = (x[i * m + j] - mean) * inv * gamma[ch] + beta[ch];
            }
        }
        return y;
    }

    static double[] rand(Random rnd, int n, double lo, double hi) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return a;
    }
}
