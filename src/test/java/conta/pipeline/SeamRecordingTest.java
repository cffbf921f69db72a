package conta.pipeline;

import conta.config.Config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.synth.SynthGenerator;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import conta.tensor.WalkPaths;
import conta.tensor.WsssOps;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline's map work goes through the backend's WSSS seam: CONTA (two rounds, confounders from the pseudo-masks)
 * on PipelineResumeTest's tiny recipe runs on a backend that records every {@link WsssOps} call, and the CAM,
 * seed, confounder, walk and confusion ops are all found, each stage's count matching the images it handled. On
 * {@code --device cuda:0} the same calls reach the CUDA implementation.
 */
class SeamRecordingTest {
    @TempDir static Path tmp;

    @SuppressWarnings("unchecked")
    @Test
    void theStagesCallTheSeam() throws Exception {
        Path data = tmp.resolve("synth");
        SynthGenerator.generate(data, new SynthGenerator.Config(5, 24, 8, 64, 0.8));
        Config c = PipelineResumeTest.tiny();
        c.applySets(java.util.List.of("method=conta", "conta.rounds=1", "conta.confounder_source=pseudo"));
        Map<String, Object> report;
        try (Recording b = new Recording(new CpuBackend())) {
            report = Methods.run(c, data, tmp.resolve("out"), b);
            assertEquals(tmp.resolve("out"), b.runFolder, "the backend is told the run's folder (where CUDA keeps its engine choices)");
            assertEquals(0, b.opsBeforeRunFolder, "before the run's first op (no tensor allocated yet)");
            assertTrue(b.calls.getOrDefault("empty", 0L) > 0, "allocations are counted");
            Map<String, Long> n = b.calls;
            System.out.println("WSSS ops recorded: " + n);
            int train = ((Number) report.get("train_images")).intValue();
            for (String op : new String[]{"cam", "flipMergeSelect", "resizeCropAccumulate", "normaliseMax", "seeds", "classMasks",
                    "accumulatePresent", "randomWalk", "confusion"})
                assertTrue(n.getOrDefault(op, 0L) > 0, op + " recorded: " + n);
            long rounds = 2, scales = c.numbers("cam.scales").length;
            assertNotNull(report.get("rounds"));
            assertTrue(train > 0);
            assertEquals(rounds * train * scales, n.get("cam"), "one CAM per image, scale and round");
            assertEquals(rounds * train, n.get("randomWalk"), "one walk per training image and round");
            assertEquals(train, n.get("classMasks"), "one class-mask op per image of round 1's confounder set");
        }
    }

    /** A CPU backend that counts the WSSS ops it is asked for (the tensor ops are passed through unchanged). */
    static final class Recording implements Backend {
        final CpuBackend d;
        final Map<String, Long> calls = new ConcurrentHashMap<>();

        Recording(CpuBackend d) { this.d = d; }

        void count(String op) { calls.merge(op, 1L, Long::sum); }

        @Override public String name() { return "cpu"; } // same scheduling as the CPU backend (parallel IR labels, eval)

        @Override public void close() { d.close(); }

        /** The folder useRunFolder gave, and the WSSS ops recorded by then. */
        volatile Path runFolder;
        volatile int opsBeforeRunFolder = -1;

        @Override public void useRunFolder(Path dir) {
            runFolder = dir;
            opsBeforeRunFolder = calls.size();
        }

        @Override public WsssOps wsss() {
            WsssOps o = d.wsss();
            return new WsssOps() {
                @Override public void cam(Tensor feat, Tensor w, Tensor cam) { count("cam"); o.cam(feat, w, cam); }
                @Override public void flipMergeSelect(Tensor cam, int[] ch, Tensor out) { count("flipMergeSelect"); o.flipMergeSelect(cam, ch, out); }
                @Override public void resizeCropAccumulate(Tensor x, int gh, int gw, Tensor acc) { count("resizeCropAccumulate"); o.resizeCropAccumulate(x, gh, gw, acc); }
                @Override public void normaliseMax(Tensor x, long plane, float eps) { count("normaliseMax"); o.normaliseMax(x, plane, eps); }
                @Override public void seeds(Tensor s, float fg, float bg, int ig, Tensor l) { count("seeds"); o.seeds(s, fg, bg, ig, l); }
                @Override public void classMasks(Tensor l, int first, boolean area, Tensor m) { count("classMasks"); o.classMasks(l, first, area, m); }
                @Override public void accumulatePresent(Tensor m, boolean[] p, Tensor s) { count("accumulatePresent"); o.accumulatePresent(m, p, s); }
                @Override public void randomWalk(Tensor c, Tensor bd, WalkPaths p, double beta, int steps, Tensor out) { count("randomWalk"); o.randomWalk(c, bd, p, beta, steps, out); }
                @Override public long[] confusion(Tensor g, Tensor p, int k) { count("confusion"); return o.confusion(g, p, k); }
            };
        }

        @Override public Tensor empty(int... shape) { count("empty"); return d.empty(shape); } // every stage's first op needs a tensor
        @Override public void upload(Tensor t, float[] src) { d.upload(t, src); }
        @Override public float[] download(Tensor t) { return d.download(t); }
        @Override public void fill(Tensor t, float value) { d.fill(t, value); }
        @Override public void copy(Tensor src, long srcOff, Tensor dst, long dstOff, long n) { d.copy(src, srcOff, dst, dstOff, n); }
        @Override public void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int count, boolean accumulate) { d.copyChannels(src, srcC0, dst, dstC0, count, accumulate); }
        @Override public void addScaled(Tensor a, float alpha, Tensor b, float beta, Tensor out) { d.addScaled(a, alpha, b, beta, out); }
        @Override public void mul(Tensor a, Tensor b, Tensor out) { d.mul(a, b, out); }
        @Override public void scale(Tensor x, float s, Tensor out) { d.scale(x, s, out); }
        @Override public void relu(Tensor x, Tensor y) { d.relu(x, y); }
        @Override public void reluBackward(Tensor y, Tensor dy, Tensor dx) { d.reluBackward(y, dy, dx); }
        @Override public void sigmoid(Tensor x, Tensor y) { d.sigmoid(x, y); }
        @Override public void softmax(Tensor x, Tensor y) { d.softmax(x, y); }
        @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) { d.softmaxBackward(y, dy, dx); }
        @Override public void channelAffine(Tensor x, Tensor scale, Tensor shift, Tensor y) { d.channelAffine(x, scale, shift, y); }
        @Override public void channelSum(Tensor x, Tensor out, boolean accumulate) { d.channelSum(x, out, accumulate); }
        @Override public void channelDot(Tensor a, Tensor b, Tensor out, boolean accumulate) { d.channelDot(a, b, out, accumulate); }
        @Override public double sum(Tensor x) { return d.sum(x); }
        @Override public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) { d.gemm(transA, transB, alpha, a, b, beta, c); }
        @Override public void conv2d(Tensor x, Tensor w, Tensor bias, ConvSpec s, Tensor y) { d.conv2d(x, w, bias, s, y); }
        @Override public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, Tensor dw, Tensor db) { d.conv2dBackward(x, w, dy, s, dx, dw, db); }
        @Override public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) { d.batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd); }
        @Override public void batchNormBackward(Tensor x, Tensor gamma, Tensor dy, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta) { d.batchNormBackward(x, gamma, dy, saveMean, saveInvStd, dx, dgamma, dbeta); }
        @Override public void batchNormReluTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) { d.batchNormReluTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd); }
        @Override public void batchNormReluBackward(Tensor x, Tensor gamma, Tensor y, Tensor dy, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta) { d.batchNormReluBackward(x, gamma, y, dy, saveMean, saveInvStd, dx, dgamma, dbeta); }
        @Override public void channelAffineRelu(Tensor x, Tensor scale, Tensor shift, Tensor y) { d.channelAffineRelu(x, scale, shift, y); }
        @Override public void channelAffineBackward(Tensor x, Tensor y, Tensor dy, Tensor scale, Tensor dx, Tensor sumG, Tensor sumGX) { d.channelAffineBackward(x, y, dy, scale, dx, sumG, sumGX); }
        @Override public void addRelu(Tensor a, Tensor b, Tensor y) { d.addRelu(a, b, y); }
        @Override public void maxPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y) { d.maxPool2d(x, s, ceil, y); }
        @Override public void maxPool2dBackward(Tensor x, ConvSpec s, boolean ceil, Tensor dy, Tensor dx) { d.maxPool2dBackward(x, s, ceil, dy, dx); }
        @Override public void avgPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y) { d.avgPool2d(x, s, ceil, y); }
        @Override public void avgPool2dBackward(ConvSpec s, boolean ceil, Tensor dy, Tensor dx) { d.avgPool2dBackward(s, ceil, dy, dx); }
        @Override public void resizeBilinear(Tensor x, boolean alignCorners, Tensor y) { d.resizeBilinear(x, alignCorners, y); }
        @Override public void resizeBilinearBackward(Tensor dy, boolean alignCorners, Tensor dx) { d.resizeBilinearBackward(dy, alignCorners, dx); }
        @Override public float multilabelSoftMarginLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) { return d.multilabelSoftMarginLoss(logits, targets, dlogits, gradScale); }
        @Override public float bceWithLogitsLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) { return d.bceWithLogitsLoss(logits, targets, dlogits, gradScale); }
        @Override public float crossEntropyLoss(Tensor logits, Tensor labels, Tensor classWeights, int ignoreIndex, Tensor dlogits, float gradScale) { return d.crossEntropyLoss(logits, labels, classWeights, ignoreIndex, dlogits, gradScale); }
        @Override public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuf, float lr, float momentum, float weightDecay, boolean firstStep) { d.sgdStep(param, grad, momentumBuf, lr, momentum, weightDecay, firstStep); }
        @Override public void batchNormFold(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor scale, Tensor shift, Tensor invStd) { d.batchNormFold(gamma, beta, mean, var, eps, scale, shift, invStd); }
        @Override public void batchNormFoldGammaGrad(Tensor invStd, Tensor mean, Tensor sumG, Tensor sumGX, Tensor dgamma) { d.batchNormFoldGammaGrad(invStd, mean, sumG, sumGX, dgamma); }
        @Override public void copyWindow(Tensor src, int srcTop, int srcLeft, Tensor dst, int dstTop, int dstLeft, int h, int w, boolean accumulate) { d.copyWindow(src, srcTop, srcLeft, dst, dstTop, dstLeft, h, w, accumulate); }
        @Override public void synchronize() { d.synchronize(); }
    }
}
