package conta.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.io.HostArray;
import conta.nn.Init;
import conta.nn.Module;
import conta.tensor.ConvSpec;
import conta.tensor.GradCheck;
import conta.tensor.RefOps;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CONTA's context map M joining the ResNet before the head (conta.blocks 2..4): M resized to block b's grid is
 * concatenated to its output, and layer b's first block (conv1, downsample.0) takes the k extra channels.
 */
class ContextBlocksTest {
    static CpuBackend b;
    static final int N = 2, CLASSES = 2, IMG = 64, MH = 3, MW = 3;

    @BeforeAll
    static void open() { b = new CpuBackend(); }

    @AfterAll
    static void close() { b.close(); }

    /** Basic blocks 1,1,1,1, width 4 (channels 4, 8, 16, 32), CAM head; k context channels at the given blocks. */
    static ResNetConfig tiny(int k, int... blocks) {
        return ResNetConfig.torchvision(false, 1, 1, 1, 1).withWidth(4).withHead(ResNetConfig.Head.CAM, CLASSES)
                .withContext(k, blocks.length == 0 ? ResNetConfig.BLOCK5 : blocks);
    }

    /** Random init plus random BN affine and running statistics, so eval-mode BN is not the identity. */
    static void randomise(Module m, long seed) {
        Init.torchvision(m, (int) seed);
        Random r = new Random(seed);
        m.visit("", (n, t, p) -> {
            float[] v = t.toArray();
            if (n.endsWith("running_var")) for (int i = 0; i < v.length; i++) v[i] = 0.5f + r.nextFloat();
            else if (n.endsWith("running_mean") || n.contains("bn") && n.endsWith("bias") || n.contains("downsample.1.bias"))
                for (int i = 0; i < v.length; i++) v[i] = 0.2f * (2 * r.nextFloat() - 1);
            else if (n.contains("bn") && n.endsWith("weight") || n.contains("downsample.1.weight"))
                for (int i = 0; i < v.length; i++) v[i] = 0.5f + r.nextFloat();
            else if (n.startsWith("classifier")) for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian() * 0.3f;
            else return;
            b.upload(t, v);
        });
    }

    static double[] d(Tensor t) { return GradCheck.toDouble(t.toArray()); }

    /** Eval-mode BN in float64 from the module's state. */
    static double[] bn(Map<String, double[]> s, String p, double[] x, int C, int hw) {
        double[] g = s.get(p + "weight"), be = s.get(p + "bias"), m = s.get(p + "running_mean"), v = s.get(p + "running_var");
        double[] sc = new double[C], sh = new double[C];
        for (int c = 0; c < C; c++) {
            sc[c] = g[c] / Math.sqrt(v[c] + 1e-5);
            sh[c] = be[c] - m[c] * sc[c];
        }
        return RefOps.channelAffine(x, N, C, hw, sc, sh);
    }

    /** A basic block with stride 2 and a downsample, float64: relu(bn2(conv2(relu(bn1(conv1 x)))) + bnd(convd x)). */
    static double[] basicDown(Map<String, double[]> s, String p, double[] x, int C, int H, int O, double[] w1, double[] wd) {
        int oh = H / 2, hw = oh * oh;
        double[] y = RefOps.relu(bn(s, p + "bn1.", RefOps.conv2d(x, N, C, H, H, w1, O, null, ConvSpec.of(3, 2, 1, 1)), O, hw));
        y = bn(s, p + "bn2.", RefOps.conv2d(y, N, O, oh, oh, s.get(p + "conv2.weight"), O, null, ConvSpec.of(3, 1, 1, 1)), O, hw);
        double[] id = bn(s, p + "downsample.1.", RefOps.conv2d(x, N, C, H, H, wd, O, null, ConvSpec.of(1, 2, 0, 1)), O, hw);
        return RefOps.relu(RefOps.addScaled(y, 1, id, 1));
    }

    /**
     * Context at block 3 (layer2's output, 8 channels at 8x8; layer3.0 takes 8 + k): float64 central differences of
     * L = r . logits with respect to M (3x3, so the bilinear resize to 8x8 is on the path), layer3.0.conv1.weight and
     * layer3.0.downsample.0.weight (both [16, 8 + k, ...]) against the engine's backward of the real forward.
     */
    @Test
    void finiteDifferencesThroughBlock3() {
        int k = 1;
        ResNetConfig cfg = tiny(k, 3);
        try (ResNet net = new ResNet(b, cfg)) {
            randomise(net, 7);
            net.train(false);
            Map<String, Tensor> st = net.state();
            assertArrayEquals(new int[]{16, 8 + k, 3, 3}, st.get("layer3.0.conv1.weight").shape());
            assertArrayEquals(new int[]{16, 8 + k, 1, 1}, st.get("layer3.0.downsample.0.weight").shape());
            assertArrayEquals(new int[]{8, 4, 3, 3}, st.get("layer2.0.conv1.weight").shape());
            assertArrayEquals(new int[]{CLASSES, 32, 1, 1}, net.camWeight().shape(), "the head takes no context at blocks {3}");
            Map<String, double[]> s = new HashMap<>();
            st.forEach((n, t) -> s.put(n, d(t)));
            float[] img = GradCheck.toFloat(GradCheck.projection(N * 3 * IMG * IMG, 5));
            double[] x2; // block 3's features (layer2's output), independent of M and of the checked weights
            try (Tape t = Tape.open(false)) {
                x2 = d(net.stage(1, net.stage(0, net.stem(Tape.track(Tensor.of(b, img, N, 3, IMG, IMG))))));
            }
            assertEquals(N * 8 * 8 * 8, x2.length);
            double[] m0 = GradCheck.projection(N * k * MH * MW, 9);
            for (int i = 0; i < m0.length; i++) m0[i] = Math.abs(m0[i]) * 2; // M >= 0 like a real context map, on the scale of the features
            GradCheck.RefFn ref = in -> {
                double[] mr = RefOps.resizeBilinear(in[0], N, k, MH, MW, 8, 8, false);
                double[] cat = new double[N * (8 + k) * 64];
                for (int n = 0; n < N; n++) {
                    System.arraycopy(x2, n * 8 * 64, cat, n * (8 + k) * 64, 8 * 64);
                    System.arraycopy(mr, n * k * 64, cat, (n * (8 + k) + 8) * 64, k * 64);
                }
                double[] y3 = basicDown(s, "layer3.0.", cat, 8 + k, 8, 16, in[1], in[2]);
                double[] y4 = basicDown(s, "layer4.0.", y3, 16, 4, 32, s.get("layer4.0.conv1.weight"), s.get("layer4.0.downsample.0.weight"));
                double[] cw = s.get("classifier.weight"), logits = new double[N * CLASSES];
                for (int n = 0; n < N; n++)
                    for (int o = 0; o < CLASSES; o++)
                        for (int c = 0; c < 32; c++) {
                            double mean = 0;
                            for (int p = 0; p < 4; p++) mean += y4[(n * 32 + c) * 4 + p];
                            logits[n * CLASSES + o] += cw[o * 32 + c] * mean / 4;
                        }
                return logits;
            };
            Tensor w1 = st.get("layer3.0.conv1.weight"), wd = st.get("layer3.0.downsample.0.weight");
            GradCheck.BackendGradFn engine = (in, r) -> {
                b.upload(w1, in[1]);
                b.upload(wd, in[2]);
                try (Tape t = Tape.open(true); Tensor m = Tensor.of(b, in[0], N, k, MH, MW)) {
                    m.requiresGrad = true;
                    Tensor logits = net.forward(Tape.track(Tensor.of(b, img, N, 3, IMG, IMG)), m);
                    t.backward(F.linear(F.reshape(logits, 1, N * CLASSES), Tape.track(Tensor.of(b, r, 1, N * CLASSES)), null));
                    return new float[][]{m.grad.toArray(), w1.grad.toArray(), wd.grad.toArray()};
                }
            };
            // step 1e-6 (float64 reference, so rounding stays ~1e-10): at the default 1e-4 a pre-ReLU value of layer3/4
            // within reach of zero bends the central difference of a downsample weight (relL2 2.3e-4 at 1e-4, fine below)
            GradCheck.check("context at block 3", new double[][]{m0, s.get("layer3.0.conv1.weight"), s.get("layer3.0.downsample.0.weight")},
                    new boolean[]{true, true, true}, ref, engine, 21, 1e-6);
        }
    }

    static Map<String, HostArray> export(Module m) { return m.exportState(); }

    /**
     * The plain network's state loaded (non-strict, as pretrained weights are) into a network with context at every
     * block: the context input channels of layer2.0/3.0/4.0's conv1 and downsample.0 and of the head's classifier are zero, the
     * rest is the plain weights, and the logits equal the plain network's for any M.
     */
    @Test
    void zeroContextChannelsGiveThePlainNetwork() {
        try (ResNet plain = new ResNet(b, tiny(0)); ResNet wide = new ResNet(b, tiny(2, 2, 3, 4, 5))) {
            randomise(plain, 3);
            randomise(wide, 4); // different values everywhere, so everything below comes from the load
            Module.LoadReport r = wide.loadState(export(plain), false);
            assertEquals(List.of("layer2.0.conv1.weight", "layer2.0.downsample.0.weight", "layer3.0.conv1.weight",
                    "layer3.0.downsample.0.weight", "layer4.0.conv1.weight", "layer4.0.downsample.0.weight", "classifier.weight"), r.widened());
            assertEquals(List.of(), r.unexpected());
            assertEquals(List.of(), r.badShape());
            Map<String, Tensor> p = plain.state(), w = wide.state();
            for (String n : r.widened()) {
                int[] ps = p.get(n).shape(), ws = w.get(n).shape();
                assertEquals(ps[1] + 2, ws[1], n);
                float[] pv = p.get(n).toArray(), wv = w.get(n).toArray();
                int hw = ps[2] * ps[3];
                for (int o = 0; o < ps[0]; o++)
                    for (int c = 0; c < ws[1]; c++)
                        for (int q = 0; q < hw; q++)
                            assertEquals(c < ps[1] ? pv[(o * ps[1] + c) * hw + q] : 0f, wv[(o * ws[1] + c) * hw + q], n);
            }
            plain.train(false);
            wide.train(false);
            float[] img = GradCheck.toFloat(GradCheck.projection(N * 3 * IMG * IMG, 8));
            float[] m = GradCheck.toFloat(GradCheck.projection(N * 2 * MH * MW, 6));
            try (Tape t = Tape.open(false)) {
                double[] ref = d(plain.forward(Tape.track(Tensor.of(b, img, N, 3, IMG, IMG))));
                float[] got = wide.forward(Tape.track(Tensor.of(b, img, N, 3, IMG, IMG)), Tape.track(Tensor.of(b, m, N, 2, MH, MW))).toArray();
                GradCheck.assertClose("widened net with zero context channels", ref, got, 1e-5);
                float[] got2 = wide.forward(Tape.track(Tensor.of(b, img, N, 3, IMG, IMG)), Tape.track(Tensor.zeros(b, N, 2, MH, MW))).toArray();
                GradCheck.assertClose("same with M = 0", ref, got2, 1e-5);
            }
        }
    }

    @Test
    void wrongShapesAreClearErrors() {
        try (ResNet plain = new ResNet(b, tiny(0)); ResNet wide = new ResNet(b, tiny(1, 3))) {
            Init.torchvision(plain, 1);
            Map<String, HostArray> s = new LinkedHashMap<>(export(plain));
            // a weight that is neither the plain [16, 8, 3, 3] nor the widened [16, 9, 3, 3]
            s.put("layer3.0.conv1.weight", new HostArray(new int[]{16, 7, 3, 3}, new float[16 * 7 * 9]));
            var e = assertThrows(IllegalArgumentException.class, () -> wide.loadState(s, false));
            assertTrue(e.getMessage().contains("layer3.0.conv1.weight file [16, 7, 3, 3] model [16, 9, 3, 3]"), e.getMessage());
            assertTrue(e.getMessage().contains("1 context input channels") && e.getMessage().contains("[16, 8, 3, 3]"), e.getMessage());
            // a shape mismatch elsewhere is reported as before
            Map<String, HostArray> s2 = new LinkedHashMap<>(export(plain));
            s2.put("layer2.0.conv1.weight", new HostArray(new int[]{8, 5, 3, 3}, new float[8 * 5 * 9]));
            var e2 = assertThrows(IllegalArgumentException.class, () -> wide.loadState(s2, false));
            assertTrue(e2.getMessage().contains("layer2.0.conv1.weight file [8, 5, 3, 3] model [8, 4, 3, 3]"), e2.getMessage());
            // our own checkpoints load strictly and must hold the widened shape
            var e3 = assertThrows(IllegalArgumentException.class, () -> wide.loadState(export(plain), true));
            assertTrue(e3.getMessage().contains("layer3.0.conv1.weight file [16, 8, 3, 3] model [16, 9, 3, 3]"), e3.getMessage());
            wide.loadState(export(wide), true);
        }
    }

    @Test
    void contextIsCheckedAtEveryBlock() {
        try (ResNet net = new ResNet(b, tiny(2, 3, 5)); Tape t = Tape.open(false)) {
            Init.torchvision(net, 1);
            net.train(false);
            Tensor x = Tape.track(Tensor.zeros(b, 1, 3, 32, 32));
            var e = assertThrows(IllegalArgumentException.class, () -> net.forward(x, null));
            assertTrue(e.getMessage().contains("2-channel context map at layer3"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> net.forward(x, Tape.track(Tensor.zeros(b, 1, 1, 2, 2))));
            assertTrue(e2.getMessage().contains("context has 1 channels, layer3 (after block 3) expects 2"), e2.getMessage());
            assertArrayEquals(new int[]{1, CLASSES}, net.forward(x, Tape.track(Tensor.zeros(b, 1, 2, 2, 2))).shape());
            assertArrayEquals(new int[]{CLASSES, 34, 1, 1}, net.camWeight().shape());
        }
        assertThrows(IllegalArgumentException.class, () -> tiny(1, 1));
        assertThrows(IllegalArgumentException.class, () -> tiny(1, 3, 3));
        assertArrayEquals(new int[]{2, 3, 5}, tiny(1, 5, 2, 3).contextBlocks());
        assertEquals(0, tiny(1, 3).headExtraIn());
        assertEquals(1, tiny(1, 3).stageExtraIn(2));
        assertEquals(0, tiny(1, 3).stageExtraIn(1));
    }

    /**
     * A first block with an identity shortcut (stride 1, in == out; no stage of conta's ResNets has one where M joins,
     * but Block supports it): M enters through conv1 only and the shortcut adds the first in channels. Float64 central
     * differences with respect to [x, M] and conv1's widened weight.
     */
    @Test
    void identityShortcutKeepsTheFeatureChannels() {
        int c = 4, k = 2, h = 5, hw = h * h;
        ResNetConfig cfg = tiny(0);
        try (Block blk = new Block(b, cfg, c, c, 1, 1, k)) {
            randomise(blk, 11);
            blk.train(false);
            Map<String, Tensor> st = blk.state();
            assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "conv2.weight",
                    "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var"), List.copyOf(st.keySet()), "no downsample");
            assertArrayEquals(new int[]{c, c + k, 3, 3}, st.get("conv1.weight").shape());
            Map<String, double[]> s = new HashMap<>();
            st.forEach((n, t) -> s.put(n, d(t)));
            GradCheck.RefFn ref = in -> {
                double[] y = RefOps.relu(bn(s, "bn1.", RefOps.conv2d(in[0], N, c + k, h, h, in[1], c, null, ConvSpec.of(3, 1, 1, 1)), c, hw));
                y = bn(s, "bn2.", RefOps.conv2d(y, N, c, h, h, s.get("conv2.weight"), c, null, ConvSpec.of(3, 1, 1, 1)), c, hw);
                for (int n = 0; n < N; n++)
                    for (int q = 0; q < c * hw; q++) y[n * c * hw + q] += in[0][n * (c + k) * hw + q];
                return RefOps.relu(y);
            };
            Tensor w1 = st.get("conv1.weight");
            GradCheck.BackendGradFn engine = (in, r) -> {
                b.upload(w1, in[1]);
                try (Tape t = Tape.open(true); Tensor x = Tensor.of(b, in[0], N, c + k, h, h)) {
                    x.requiresGrad = true;
                    Tensor y = blk.forward(x);
                    t.backward(F.linear(F.reshape(y, 1, N * c * hw), Tape.track(Tensor.of(b, r, 1, N * c * hw)), null));
                    return new float[][]{x.grad.toArray(), w1.grad.toArray()};
                }
            };
            GradCheck.check("identity shortcut with context", new double[][]{GradCheck.projection(N * (c + k) * hw, 2), s.get("conv1.weight")},
                    new boolean[]{true, true}, ref, engine, 23);
        }
    }
}
