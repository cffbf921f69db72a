package conta.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.Tape;
import conta.data.Preprocess;
import conta.image.CamMaps;
import conta.image.Resampling;
import conta.infer.InferencePlan;
import conta.infer.PlanCache;
import conta.infer.Precision;
import conta.io.HostArray;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.Cams;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * CONTA's classifiers (context map M joined at conta.blocks) through CAM inference plans, against the training graph's
 * eval forward of the same network: the raw activation maps relu(classifier([X, M])) per element within
 * 1e-5 * max + 1e-4 * |ref| (the bf16 plan within 3% of the largest value), and the pipeline's CAMs (Cams.compute:
 * scales, flips, normalisation) within PlanCacheTest's tolerance. Every weight, BN statistic and affine comes from
 * FormulaResNetTest's formula, so BN folding matters, and the context weights are as large as the features' (the
 * context channels really move the maps: checked).
 */
class ContextPlanTest {
    static final int K = 3, CLASSES = 5;

    static Stream<Arguments> networks() {
        ResNetConfig bottleneck = ResNetConfig.torchvision(true, 1, 1, 1, 1).withWidth(8).withStrides(new int[]{1, 2, 2, 1})
                .withFrozenBn(true).withHead(ResNetConfig.Head.CAM, CLASSES);
        ResNetConfig basic = ResNetConfig.torchvision(false, 1, 1, 1, 1).withWidth(8).withHead(ResNetConfig.Head.CAM, CLASSES);
        return Stream.of(
                Arguments.of("bottleneck, M at block 5 (the default)", bottleneck.withContext(K, 5)),
                Arguments.of("bottleneck, M at blocks 2, 3, 4, 5", bottleneck.withContext(K, 2, 3, 4, 5)),
                Arguments.of("bottleneck MSRA (stride on the 1x1), M at blocks 3, 5", bottleneck.withMsra(true, false, 1e-5f).withContext(K, 3, 5)),
                Arguments.of("basic blocks (3x3 context conv), M at blocks 2, 4", basic.withContext(K, 2, 4)));
    }

    /** A smooth non-negative context map K x h x w, as CONTA's M (a mixture of class-mean masks). */
    static float[] context(int h, int w, long seed) {
        float[] m = new float[K * h * w];
        for (int k = 0; k < K; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    m[(k * h + y) * w + x] = (float) (0.5 + 0.5 * Math.sin(seed + 1.3 * k + 0.9 * y) * Math.cos(0.7 * x - k));
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void activationMapsMatchTheForward(String what, ResNetConfig cfg) {
        try (CpuBackend b = new CpuBackend(); ResNet net = new ResNet(b, cfg)) {
            FormulaResNetTest.fill(net, b);
            net.train(false);
            int n = 2, h = 45, w = 38, mh = 5, mw = 4;
            float[] img = images(n, h, w);
            float[] ctx = new float[n * K * mh * mw];
            for (int i = 0; i < n; i++) System.arraycopy(context(mh, mw, i), 0, ctx, i * K * mh * mw, K * mh * mw);
            float[] ref, zeroCtx;
            try (Tape t = Tape.open(false)) {
                ref = graphCams(net, b, img, n, h, w, ctx, mh, mw);
                zeroCtx = graphCams(net, b, img, n, h, w, new float[ctx.length], mh, mw);
            }
            try (InferencePlan plan = InferencePlan.compileCam(net, Precision.FP32, new int[]{n, 3, h, w}, new int[]{n, K, mh, mw})) {
                assertEquals(2, plan.inputShapes().length);
                float[] got = plan.runAll(img, ctx)[0];
                double max = 0, moved = 0;
                for (int i = 0; i < ref.length; i++) {
                    max = Math.max(max, Math.abs(ref[i]));
                    moved = Math.max(moved, Math.abs(ref[i] - zeroCtx[i]));
                }
                assertTrue(moved > 0.05 * max, what + ": the context changes the maps (by " + moved + " of max " + max + ")");
                assertEquals(ref.length, got.length);
                for (int i = 0; i < ref.length; i++)
                    assertEquals(ref[i], got[i], 1e-5 * max + 1e-4 * Math.abs(ref[i]), what + ": element " + i);
            }
            // bf16 (weights, activations and the context in bfloat16, f32 accumulation): rounding of a few parts in 1000
            try (InferencePlan plan = InferencePlan.compileCam(net, Precision.BF16, new int[]{n, 3, h, w}, new int[]{n, K, mh, mw})) {
                float[] got = plan.runAll(img, ctx)[0];
                double max = 0, worst = 0;
                for (float v : ref) max = Math.max(max, Math.abs(v));
                for (int i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
                assertTrue(worst <= 0.03 * max, what + ", bf16: worst difference " + worst + " of max " + max);
            }
        }
    }

    /** The pipeline's path: Cams.compute with and without plans, on two image sizes and three scales. */
    @Test
    void pipelineCamsThroughContextPlansMatchTheForward() {
        ResNetConfig cfg = ResNetConfig.torchvision(true, 1, 1, 1, 1).withWidth(8).withStrides(new int[]{1, 2, 2, 1})
                .withFrozenBn(true).withHead(ResNetConfig.Head.CAM, CLASSES).withContext(K, 5);
        try (CpuBackend b = new CpuBackend(); ResNet net = new ResNet(b, cfg)) {
            FormulaResNetTest.fill(net, b);
            double[] scales = {1.0, 0.5, 1.5};
            int[] labels = {1, 3, 4};
            try (PlanCache plans = PlanCache.forBackend(b, net, PlanCache.Output.CAM, Precision.FP32, 8)) {
                assertNotNull(plans, "CAM plans serve CONTA's classifiers");
                int images = 0;
                for (var im : new conta.image.RgbImage[]{PlanCacheTest.image(70, 53, 1), PlanCacheTest.image(41, 64, 3)}) {
                    HostArray m = new HostArray(new int[]{K, 6, 6}, context(6, 6, images++));
                    CamMaps ref = Cams.compute(net, Preprocess.IMAGENET, im, labels, scales, m, Resampling.PIL);
                    CamMaps got = Cams.compute(net, Preprocess.IMAGENET, im, labels, scales, m, Resampling.PIL, plans);
                    PlanCacheTest.close(ref.highRes(), got.highRes(), "high-res CAMs");
                    PlanCacheTest.close(ref.stride4(), got.stride4(), "stride-4 CAMs");
                }
                assertEquals(6, plans.shapes(), "one plan per scale and image size");
            }
            assertNull(PlanCache.forBackend(b, net, PlanCache.Output.FORWARD, Precision.FP32, 2), "no forward (logits) plan with context");
        }
    }

    @Test
    void contextShapeMustMatchTheNetwork() {
        try (CpuBackend b = new CpuBackend();
             ResNet with = new ResNet(b, ResNetConfig.torchvision(false, 1, 1, 1, 1).withWidth(8).withHead(ResNetConfig.Head.CAM, CLASSES).withContext(K, 5));
             ResNet without = new ResNet(b, ResNetConfig.torchvision(false, 1, 1, 1, 1).withWidth(8).withHead(ResNetConfig.Head.CAM, CLASSES))) {
            assertThrows(IllegalArgumentException.class, () -> InferencePlan.compileCam(with, Precision.FP32, 1, 3, 32, 32), "context network without a context shape");
            assertThrows(IllegalArgumentException.class, () -> InferencePlan.compileCam(without, Precision.FP32, new int[]{1, 3, 32, 32}, new int[]{1, K, 4, 4}),
                    "context shape for a network without context");
            try (InferencePlan p = InferencePlan.compileCam(with, Precision.FP32, new int[]{1, 3, 64, 64}, new int[]{1, K, 4, 4})) {
                assertThrows(IllegalStateException.class, () -> p.run(new float[3 * 64 * 64]), "two inputs: run(float[][], float[][])");
                assertThrows(IllegalArgumentException.class, () -> p.runAll(new float[3 * 64 * 64], new float[K * 4 * 5]), "context of the wrong size");
                assertArrayEquals(new int[]{1, CLASSES, 2, 2}, p.outputShape());
            }
        }
    }

    private static float[] images(int n, int h, int w) {
        float[] x = new float[n * 3 * h * w];
        for (int i = 0; i < n; i++) {
            float[] one = Preprocess.IMAGENET.chw(PlanCacheTest.image(h, w, 10 + i), false);
            System.arraycopy(one, 0, x, i * one.length, one.length);
        }
        return x;
    }

    /** relu(classifier(withContext(features(x, M), M))): what Cams.compute runs without plans. */
    private static float[] graphCams(ResNet net, CpuBackend b, float[] img, int n, int h, int w, float[] ctx, int mh, int mw) {
        Tensor x = Tape.track(Tensor.of(b, img, n, 3, h, w)), m = Tape.track(Tensor.of(b, ctx, n, K, mh, mw));
        Tensor f = net.withContext(net.features(x, m), m);
        Tensor cam = Tape.track(b.empty(n, CLASSES, f.dim(2), f.dim(3)));
        b.wsss().cam(f, net.camWeight(), cam);
        return cam.toArray();
    }
}
