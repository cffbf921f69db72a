package conta.wsss;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.data.Preprocess;
import conta.image.Resampling;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.io.HostArray;
import conta.io.Npy;
import conta.models.ResNet;
import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Class activation maps as IRNet's make_cam.py computes them: for each scale the image (Pillow bicubic, as pil_rescale) and its mirror
 * go through the backbone, CAM = ReLU(1x1 classifier over the features), the mirror's map is flipped back and added;
 * per-scale maps are resized bilinearly to the stride-4 grid and to the full image (via the stride-up grid, then
 * cropped), summed over scales, restricted to the image's classes and max-normalised per class (+1e-5).
 */
public final class Cams {
    private Cams() { }

    /**
     * CAMs of the image's classes: keys are class ids (1..C); stride4 is K x h4 x w4 with h4 = ceil(H/4); highRes is
     * K x H x W.
     */
    public record Maps(int[] keys, int h4, int w4, float[] stride4, int h, int w, float[] highRes) {
        /** Writes {keys, cam, high_res} as an .npz (keys as float32 class ids). */
        public void save(Path file) throws IOException {
            Map<String, HostArray> m = new LinkedHashMap<>();
            float[] k = new float[keys.length];
            for (int i = 0; i < keys.length; i++) k[i] = keys[i];
            m.put("keys", new HostArray(new int[]{keys.length}, k));
            m.put("cam", new HostArray(new int[]{keys.length, h4, w4}, stride4));
            m.put("high_res", new HostArray(new int[]{keys.length, h, w}, highRes));
            Npy.writeNpz(file, m);
        }

        public static Maps load(Path file) throws IOException {
            var a = Npy.readNpz(file);
            HostArray k = a.get("keys"), c = a.get("cam"), hr = a.get("high_res");
            if (k == null || c == null || hr == null) throw new IOException(file + " lacks keys/cam/high_res; delete it to recompute");
            int[] keys = new int[k.data().length];
            for (int i = 0; i < keys.length; i++) keys[i] = Math.round(k.data()[i]);
            return new Maps(keys, c.shape()[1], c.shape()[2], c.data(), hr.shape()[1], hr.shape()[2], hr.data());
        }

        /** All C classes at full size, zeros for absent ones (the CAM file convention of `conta eval --cam`). */
        public float[] denseHighRes(int numClasses) {
            float[] d = new float[numClasses * h * w];
            for (int i = 0; i < keys.length; i++) System.arraycopy(highRes, i * h * w, d, (keys[i] - 1) * h * w, h * w);
            return d;
        }

        /** Argmax over [background = threshold, CAMs]; class ids, 0 = background. */
        public Mask seeds(double threshold) {
            return argmaxWithBackground(keys, highRes, h, w, (float) threshold);
        }
    }

    /** Label map from per-class scores and a constant background plane (ties go to the lower index, as numpy argmax). */
    public static Mask argmaxWithBackground(int[] keys, float[] scores, int h, int w, float bg) {
        int hw = h * w;
        byte[] out = new byte[hw];
        for (int p = 0; p < hw; p++) {
            float best = bg;
            int arg = 0;
            for (int k = 0; k < keys.length; k++) {
                float v = scores[k * hw + p];
                if (v > best) { best = v; arg = keys[k]; }
            }
            out[p] = (byte) arg;
        }
        return new Mask(h, w, out);
    }

    /**
     * @param input   the preprocessing the classifier's weights expect
     * @param context per-image context map for CONTA (K x h x w), or null; it is concatenated to the features of each
     *                scale exactly as in training (at every block of the network's context blocks)
     */
    public static Maps compute(ResNet net, Preprocess input, RgbImage im, int[] labels, double[] scales, HostArray context) {
        return compute(net, input, im, labels, scales, context, Resampling.PIL);
    }

    /** The same with the given resizing of the image to each scale (IRNet's Pillow bicubic is {@link Resampling#PIL}). */
    public static Maps compute(ResNet net, Preprocess input, RgbImage im, int[] labels, double[] scales, HostArray context, Resampling resize) {
        Backend b = net.backend();
        int H = im.h(), W = im.w(), h4 = (H + 3) / 4, w4 = (W + 3) / 4;
        int os = net.config.outputStride();
        int upH = (H + os - 1) / os * os, upW = (W + os - 1) / os * os;
        int c = net.config.classes(), k = labels.length;
        float[] s4 = new float[k * h4 * w4], hr = new float[k * H * W];
        net.train(false);
        for (double s : scales) {
            int sh = resize.size(H, s), sw = resize.size(W, s);
            RgbImage r = resize.camScale(im, sh, sw);
            try (Tape t = Tape.open(false)) {
                Tensor x = Tape.track(Tensor.of(b, input.chw(r, true), 2, 3, sh, sw));
                Tensor ctx = null;
                if (context != null) {
                    int[] cs = context.shape();
                    float[] two = new float[2 * context.data().length];
                    System.arraycopy(context.data(), 0, two, 0, context.data().length);
                    System.arraycopy(context.data(), 0, two, context.data().length, context.data().length);
                    ctx = Tape.track(Tensor.of(b, two, 2, cs[cs.length - 3], cs[cs.length - 2], cs[cs.length - 1]));
                }
                Tensor feats = net.withContext(net.features(x, ctx), ctx); // M joins at every block of conta.blocks, as in training
                Tensor cam = F.relu(F.conv2d(feats, net.camWeight(), null, ConvSpec.of(1, 1, 0, 1)));
                int fh = cam.dim(2), fw = cam.dim(3);
                float[] both = cam.toArray();
                float[] one = new float[c * fh * fw];
                for (int ch = 0; ch < c; ch++)
                    for (int y = 0; y < fh; y++)
                        for (int xx = 0; xx < fw; xx++)
                            one[(ch * fh + y) * fw + xx] = both[(ch * fh + y) * fw + xx] + both[((c + ch) * fh + y) * fw + (fw - 1 - xx)];
                Tensor merged = Tape.track(Tensor.of(b, selectClasses(one, labels, fh * fw), 1, k, fh, fw));
                add(s4, F.resizeBilinear(merged, h4, w4, false).toArray());
                float[] up = F.resizeBilinear(merged, upH, upW, false).toArray();
                for (int ch = 0; ch < k; ch++)
                    for (int y = 0; y < H; y++)
                        for (int xx = 0; xx < W; xx++) hr[(ch * H + y) * W + xx] += up[(ch * upH + y) * upW + xx];
            }
        }
        maxNormalise(s4, k, h4 * w4);
        maxNormalise(hr, k, H * W);
        return new Maps(labels.clone(), h4, w4, s4, H, W, hr);
    }


    private static float[] selectClasses(float[] all, int[] labels, int plane) {
        float[] out = new float[labels.length * plane];
        for (int i = 0; i < labels.length; i++) System.arraycopy(all, (labels[i] - 1) * plane, out, i * plane, plane);
        return out;
    }

    private static void add(float[] acc, float[] v) {
        for (int i = 0; i < acc.length; i++) acc[i] += v[i];
    }

    static void maxNormalise(float[] a, int k, int plane) {
        for (int ch = 0; ch < k; ch++) {
            float m = 0;
            for (int p = 0; p < plane; p++) m = Math.max(m, a[ch * plane + p]);
            float inv = 1f / (m + 1e-5f);
            for (int p = 0; p < plane; p++) a[ch * plane + p] *= inv;
        }
    }
}
