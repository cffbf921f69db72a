package conta.wsss;

import conta.image.CamMaps;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.data.Preprocess;
import conta.image.ImageCodec;
import conta.image.RgbImage;
import conta.models.ResNet;
import conta.models.ResNetConfig;
import conta.nn.Init;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Cams.compute on the WSSS seam gives, bit for bit on the CPU, the maps of the host code it replaced (kept below as the
 * reference: F.conv2d + F.relu, flip-merge and class selection on host arrays, per-scale F.resizeBilinear summed on the
 * host, max-normalised per class); and the seeds on the seam are the argmax against the threshold.
 */
class CamsSeamTest {
    @Test
    void computeEqualsTheHostCodeItReplaced() {
        int classes = 5;
        ResNetConfig cfg = ResNetConfig.torchvision(false, 1, 1, 1, 1).withWidth(4).withHead(ResNetConfig.Head.CAM, classes);
        Random r = new Random(1);
        byte[] rgb = new byte[3 * 45 * 38];
        r.nextBytes(rgb);
        RgbImage im = new RgbImage(45, 38, rgb);
        int[] labels = {2, 5};
        double[] scales = {1.0, 0.5, 1.5};
        try (CpuBackend b = new CpuBackend(); ResNet net = new ResNet(b, cfg)) {
            Init.torchvision(net, 4);
            net.visit("", (n, t, p) -> { if (n.startsWith("classifier")) { float[] v = t.toArray(); for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian(); b.upload(t, v); } });
            CamMaps got = Cams.compute(net, Preprocess.IMAGENET, im, labels, scales, null, conta.image.Resampling.OPENCV); // the old code resized with OpenCV
            CamMaps want = reference(net, Preprocess.IMAGENET, im, labels, scales);
            assertArrayEquals(want.stride4(), got.stride4(), 0f);
            assertArrayEquals(want.highRes(), got.highRes(), 0f);
            float max = 0;
            for (float v : got.highRes()) max = Math.max(max, v);
            assertEquals(1f, max, 1e-4f, "max-normalised");
            for (float thr : new float[]{0.15f, 0.5f}) {
                byte[] seeds = Cams.seeds(b, got, thr).data();
                for (int p = 0; p < seeds.length; p++) {
                    int best = 0;
                    float bv = thr;
                    for (int c = 0; c < labels.length; c++) if (got.highRes()[c * seeds.length + p] > bv) { bv = got.highRes()[c * seeds.length + p]; best = labels[c]; }
                    assertEquals(best, seeds[p], "pixel " + p + " at threshold " + thr);
                }
            }
        }
    }

    /** Cams.compute as it was before the seam. */
    static CamMaps reference(ResNet net, Preprocess input, RgbImage im, int[] labels, double[] scales) {
        Backend b = net.backend();
        int H = im.h(), W = im.w(), h4 = (H + 3) / 4, w4 = (W + 3) / 4;
        int os = net.config.outputStride();
        int upH = (H + os - 1) / os * os, upW = (W + os - 1) / os * os;
        int c = net.config.classes(), k = labels.length;
        float[] s4 = new float[k * h4 * w4], hr = new float[k * H * W];
        net.train(false);
        for (double s : scales) {
            int sh = Math.max(1, (int) Math.round(H * s)), sw = Math.max(1, (int) Math.round(W * s));
            RgbImage rs = ImageCodec.resize(im, sh, sw, ImageCodec.Interp.CUBIC);
            try (Tape t = Tape.open(false)) {
                Tensor x = Tape.track(Tensor.of(b, input.chw(rs, true), 2, 3, sh, sw));
                Tensor feats = net.withContext(net.features(x, null), null);
                Tensor cam = F.relu(F.conv2d(feats, net.camWeight(), null, ConvSpec.of(1, 1, 0, 1)));
                int fh = cam.dim(2), fw = cam.dim(3);
                float[] both = cam.toArray();
                float[] sel = new float[k * fh * fw];
                for (int i = 0; i < k; i++) {
                    int ch = labels[i] - 1;
                    for (int y = 0; y < fh; y++)
                        for (int xx = 0; xx < fw; xx++)
                            sel[(i * fh + y) * fw + xx] = both[(ch * fh + y) * fw + xx] + both[((c + ch) * fh + y) * fw + (fw - 1 - xx)];
                }
                Tensor merged = Tape.track(Tensor.of(b, sel, 1, k, fh, fw));
                float[] a = F.resizeBilinear(merged, h4, w4, false).toArray();
                for (int i = 0; i < s4.length; i++) s4[i] += a[i];
                float[] up = F.resizeBilinear(merged, upH, upW, false).toArray();
                for (int ch = 0; ch < k; ch++)
                    for (int y = 0; y < H; y++)
                        for (int xx = 0; xx < W; xx++) hr[(ch * H + y) * W + xx] += up[(ch * upH + y) * upW + xx];
            }
        }
        normalise(s4, k, h4 * w4);
        normalise(hr, k, H * W);
        return new CamMaps(labels.clone(), h4, w4, s4, H, W, hr);
    }

    static void normalise(float[] a, int k, int plane) {
        for (int ch = 0; ch < k; ch++) {
            float m = 0;
            for (int p = 0; p < plane; p++) m = Math.max(m, a[ch * plane + p]);
            float inv = 1f / (m + 1e-5f);
            for (int p = 0; p < plane; p++) a[ch * plane + p] *= inv;
        }
    }
}
