package conta.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.data.Preprocess;
import conta.image.CamMaps;
import conta.image.Mask;
import conta.image.Resampling;
import conta.image.RgbImage;
import conta.infer.PlanCache;
import conta.infer.Precision;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.Cams;
import conta.wsss.SegStage;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's CAMs and label maps through inference plans (conta.infer.PlanCache, what the cam and pred stages,
 * `conta predict` and the API run on the CPU) against the same functions on the training graph's eval forward, with
 * every weight, BN statistic and affine set by FormulaResNetTest's formula so that the BN folding matters. The graph
 * is the reference: CAMs per pixel within 1e-5 + 1e-4 * |ref| (max-normalised to [0, 1]), label maps equal where the
 * graph's top two probabilities are more than 1e-4 apart.
 */
class PlanCacheTest {
    static RgbImage image(int h, int w, long seed) {
        byte[] rgb = new byte[h * w * 3];
        Random r = new Random(seed);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) // smooth colour fields plus noise: the CAMs get structure
                    rgb[3 * (y * w + x) + c] = (byte) Math.min(255, Math.max(0, 128 + 90 * Math.sin((x + 7 * c) / 6.0) * Math.cos(y / 9.0) + r.nextInt(40) - 20));
        return new RgbImage(h, w, rgb);
    }

    @Test
    void camsThroughPlansMatchTheForward() {
        try (CpuBackend b = new CpuBackend(); Network n = Models.build("resnet50-os16", new Models.Options(8, new int[]{1, 1, 1, 1}, 5, null, null, null, 3L), b)) {
            ResNet net = (ResNet) n.module();
            FormulaResNetTest.fill(net, b);
            double[] scales = {1.0, 0.5, 1.5};
            int[] labels = {1, 3, 4};
            try (PlanCache plans = PlanCache.forBackend(b, net, PlanCache.Output.CAM, Precision.FP32, 8)) {
                assertNotNull(plans);
                for (RgbImage im : new RgbImage[]{image(70, 53, 1), image(70, 53, 2), image(41, 64, 3)}) {
                    CamMaps ref = Cams.compute(net, Preprocess.IMAGENET, im, labels, scales, null, Resampling.PIL);
                    CamMaps got = Cams.compute(net, Preprocess.IMAGENET, im, labels, scales, null, Resampling.PIL, plans);
                    close(ref.highRes(), got.highRes(), "high-res CAMs");
                    close(ref.stride4(), got.stride4(), "stride-4 CAMs");
                    float max = 0;
                    for (float v : ref.highRes()) max = Math.max(max, v);
                    assertEquals(1f, max, 1e-4f, "CAMs are max-normalised (a non-trivial map)");
                }
                assertEquals(6, plans.shapes(), "one plan per scale and image size (two sizes x three scales)");
            }
        }
    }

    /**
     * A cache's plans share one copy of the weights: three input sizes hold less than twice one plan's weights
     * (three copies before), and each size's output is bit for bit what a plan compiled alone computes.
     */
    @Test
    void plansOfOneCacheShareTheirWeights() {
        try (CpuBackend b = new CpuBackend(); Network n = Models.build("resnet50", new Models.Options(16, new int[]{1, 1, 1, 1}, 5, null, null, null, 3L), b)) {
            FormulaResNetTest.fill((ResNet) n.module(), b);
            n.module().train(false);
            int[][] shapes = {{1, 3, 40, 48}, {1, 3, 33, 29}, {1, 3, 64, 64}};
            long one = -1;
            try (PlanCache plans = PlanCache.forBackend(b, n, PlanCache.Output.FORWARD, Precision.FP32, 4)) {
                for (int[] s : shapes) {
                    float[] in = new float[3 * s[2] * s[3]];
                    Random r = new Random(s[2]);
                    for (int i = 0; i < in.length; i++) in[i] = (float) r.nextGaussian();
                    float[] got = plans.run(in, s).data();
                    try (conta.infer.InferencePlan alone = conta.infer.InferencePlan.compile(n, Precision.FP32, s)) {
                        assertTrue(java.util.Arrays.equals(alone.run(in), got), "size " + s[2] + "x" + s[3]);
                        if (one < 0) one = alone.weightBytes();
                    }
                }
                assertEquals(3, plans.shapes());
                assertTrue(one > 0 && plans.weightBytes() >= one && plans.weightBytes() < 2 * one,
                        "weights of three shapes " + plans.weightBytes() + " against one plan's " + one);
            }
        }
    }

    /**
     * A sibling cache (the classifier's logits beside its CAMs, as BundleModel.classProbabilities runs them) takes its
     * weights from the CAM cache's store: at the CAM plans' batch of 2 (image and mirror) the store grows by the head
     * alone (a batch-1 plan picks other layouts and added ~60% here), and the logits equal those of a cache of its own.
     */
    @Test
    void aSiblingCacheSharesTheWeights() {
        try (CpuBackend b = new CpuBackend(); Network n = Models.build("resnet50-os16", new Models.Options(16, new int[]{1, 1, 1, 1}, 5, null, null, null, 3L), b)) {
            FormulaResNetTest.fill((ResNet) n.module(), b);
            n.module().train(false);
            int[] s = {1, 3, 40, 48};
            float[] in = new float[3 * 40 * 48], pair = new float[2 * in.length];
            Random r = new Random(7);
            for (int i = 0; i < in.length; i++) in[i] = pair[i] = pair[in.length + i] = (float) r.nextGaussian();
            float[] own;
            long alone;
            try (PlanCache forward = PlanCache.forBackend(b, n, PlanCache.Output.FORWARD, Precision.FP32, 2)) {
                own = forward.run(in, s).data();
                alone = forward.weightBytes();
            }
            try (PlanCache cams = PlanCache.forBackend(b, n, PlanCache.Output.CAM, Precision.FP32, 2)) {
                cams.run(pair, 2, 3, 40, 48);
                long camBytes = cams.weightBytes();
                try (PlanCache logits = cams.sibling(PlanCache.Output.FORWARD)) {
                    assertNotNull(logits);
                    float[] both = logits.run(pair, 2, 3, 40, 48).data(); // image and mirror, as the CAM plans run
                    close(own, java.util.Arrays.copyOf(both, own.length), "the sibling's logits (row 0) against a cache of its own");
                    assertEquals(cams.weightBytes(), logits.weightBytes(), "one store");
                    assertTrue(cams.weightBytes() - camBytes < alone / 4,
                            "the logits' plan added " + (cams.weightBytes() - camBytes) + " bytes; a cache of its own holds " + alone);
                }
                cams.run(pair, 2, 3, 40, 48); // the CAM cache goes on after its sibling closed
            }
        }
    }

    @Test
    void labelMapsThroughPlansMatchTheForward() {
        try (CpuBackend b = new CpuBackend();
             Network n = Models.build("deeplabv2-resnet101", new Models.Options(8, new int[]{1, 1, 1, 1}, 4, null, null, new double[]{0.5, 0.75}, 5L), b)) {
            DeepLabV2 net = (DeepLabV2) n.module();
            FormulaResNetTest.fill(net, b);
            for (var m : net.children().get("aspp").children().values()) { // the formula's biases outweigh the features: scale them down
                conta.nn.Conv2d c = (conta.nn.Conv2d) m;
                float[] bias = c.bias.toArray();
                for (int i = 0; i < bias.length; i++) bias[i] *= 0.01f;
                b.upload(c.bias, bias);
            }
            try (PlanCache plans = PlanCache.forBackend(b, net, PlanCache.Output.FORWARD, Precision.FP32, 1)) {
                for (RgbImage im : new RgbImage[]{image(57, 66, 4), image(48, 40, 5), image(57, 66, 6)}) {
                    float[] ref = SegStage.probabilities(net, Preprocess.IMAGENET, im);
                    float[] got = SegStage.probabilities(net, Preprocess.IMAGENET, im, plans);
                    close(ref, got, "class probabilities");
                    Mask a = SegStage.predict(net, Preprocess.IMAGENET, im, null), c = SegStage.predict(net, Preprocess.IMAGENET, im, null, plans);
                    int hw = im.h() * im.w(), k = ref.length / hw, classesSeen = 0;
                    boolean[] seen = new boolean[k];
                    for (int p = 0; p < hw; p++) {
                        float top = -1, second = -1;
                        for (int j = 0; j < k; j++) {
                            float v = ref[j * hw + p];
                            if (v > top) { second = top; top = v; } else if (v > second) second = v;
                        }
                        if (top - second > 1e-4) assertEquals(a.data()[p], c.data()[p], "label at pixel " + p);
                        seen[a.data()[p]] = true;
                    }
                    for (boolean s : seen) classesSeen += s ? 1 : 0;
                    assertTrue(classesSeen >= 2, "the test network predicts more than one class");
                    assertTrue(plans.shapes() <= 1, "at most maxShapes plans kept");
                }
            }
        }
    }

    @Test
    void refusedWhereThePlanCannotServe() {
        try (CpuBackend b = new CpuBackend();
             Network noContext = Models.build("resnet50-os16", new Models.Options(8, new int[]{1, 1, 1, 1}, 5, null, null, null, 3L), b)) {
            ResNet net = (ResNet) noContext.module();
            PlanCache plans = PlanCache.forBackend(b, net, PlanCache.Output.CAM, Precision.FP32, 2);
            assertNotNull(plans);
            assertThrows(IllegalArgumentException.class, () -> Cams.compute(net, Preprocess.IMAGENET, image(32, 32, 1), new int[]{1}, new double[]{1},
                    new conta.io.HostArray(new int[]{1, 1, 2, 2}, new float[4]), Resampling.PIL, plans), "a network without context input takes no context map");
            plans.close();
            assertThrows(IllegalStateException.class, () -> plans.run(new float[2 * 3 * 32 * 32], 2, 3, 32, 32), "a closed cache refuses calls");
            try (Network fc = Models.build("resnet18", new Models.Options(8, null, 7, null, null, null, 5L), b)) {
                assertNull(PlanCache.forBackend(b, fc, PlanCache.Output.CAM, Precision.FP32, 2), "no CAM plan for an FC classifier");
            }
        }
    }

    static void close(float[] ref, float[] got, String what) {
        assertEquals(ref.length, got.length, what + ": length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < ref.length; i++) {
            double e = Math.abs((double) got[i] - ref[i]) / (1e-5 + 1e-4 * Math.abs(ref[i]));
            if (e > worst) { worst = e; at = i; }
        }
        assertTrue(worst <= 1, what + ": element " + at + " plan " + (at < 0 ? 0 : got[at]) + " vs forward " + (at < 0 ? 0 : ref[at]) + " (" + worst + " x tolerance)");
    }
}
