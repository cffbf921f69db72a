package conta.wsss;

import conta.autograd.Tape;
import conta.data.Preprocess;
import conta.image.ImageCodec;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.io.HostArray;
import conta.io.Npy;
import conta.models.ResNet;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.WsssOps;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Class activation maps as IRNet's make_cam.py computes them: for each scale the image (bicubic-resized) and its mirror
 * go through the backbone, CAM = ReLU(1x1 classifier over the features), the mirror's map is flipped back and added;
 * per-scale maps are resized bilinearly to the stride-4 grid and to the full image (via the stride-up grid, then
 * cropped), summed over scales, restricted to the image's classes and max-normalised per class (+1e-5). Every map op
 * runs on the network's backend through {@link WsssOps}, so on a GPU only the finished maps come back to the host.
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

        /** Argmax over [background = threshold, CAMs] on the backend's WSSS ops; class ids, 0 = background. */
        public Mask seeds(Backend b, double threshold) {
            return new Mask(h, w, labelsAt(b, keys, highRes, h, w, (float) threshold, (float) threshold)[0]);
        }
    }

    /**
     * Label maps of per-class scores (keys.length x h x w) thresholded on the backend ({@link WsssOps#seeds}), one per
     * threshold (as fg = bg): the argmax against a constant background plane, ties to the lower index as numpy's argmax;
     * index i + 1 is mapped to keys[i], background to 0.
     */
    public static byte[][] labelsAt(Backend b, int[] keys, float[] scores, int h, int w, float... thresholds) {
        int k = keys.length;
        byte[][] out = new byte[thresholds.length][h * w];
        if (k == 0) return out;
        WsssOps ops = b.wsss();
        try (Tensor s = Tensor.of(b, scores, 1, k, h, w); Tensor lab = b.empty(1, h, w)) {
            for (int t = 0; t < thresholds.length; t++) {
                ops.seeds(s, thresholds[t], thresholds[t], 0, lab);
                float[] l = lab.toArray();
                for (int p = 0; p < l.length; p++) out[t][p] = (byte) (l[p] == 0f ? 0 : keys[(int) l[p] - 1]);
            }
        }
        return out;
    }

    /**
     * @param input   the preprocessing the classifier's weights expect
     * @param context per-image context map for CONTA (K x h x w), or null; it is concatenated to the features of each
     *                scale exactly as in training (at every block of the network's context blocks)
     */
    public static Maps compute(ResNet net, Preprocess input, RgbImage im, int[] labels, double[] scales, HostArray context) {
        Backend b = net.backend();
        WsssOps ops = b.wsss();
        int H = im.h(), W = im.w(), h4 = (H + 3) / 4, w4 = (W + 3) / 4;
        int os = net.config.outputStride();
        int upH = (H + os - 1) / os * os, upW = (W + os - 1) / os * os;
        int c = net.config.classes(), k = labels.length;
        if (k == 0) return new Maps(new int[0], h4, w4, new float[0], H, W, new float[0]);
        int[] channels = new int[k];
        for (int i = 0; i < k; i++) channels[i] = labels[i] - 1;
        net.train(false);
        try (Tensor s4 = Tensor.zeros(b, 1, k, h4, w4); Tensor hr = Tensor.zeros(b, 1, k, H, W)) {
            for (double s : scales) {
                int sh = Math.max(1, (int) Math.round(H * s)), sw = Math.max(1, (int) Math.round(W * s));
                RgbImage r = ImageCodec.resize(im, sh, sw, ImageCodec.Interp.CUBIC);
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
                    Tensor cam = Tape.track(b.empty(2, c, feats.dim(2), feats.dim(3)));
                    ops.cam(feats, net.camWeight(), cam);
                    Tensor merged = Tape.track(b.empty(1, k, cam.dim(2), cam.dim(3)));
                    ops.flipMergeSelect(cam, channels, merged);
                    ops.resizeCropAccumulate(merged, h4, w4, s4);
                    ops.resizeCropAccumulate(merged, upH, upW, hr); // via the stride-up grid, cropped to the image
                }
            }
            ops.normaliseMax(s4, (long) h4 * w4, 1e-5f);
            ops.normaliseMax(hr, (long) H * W, 1e-5f);
            return new Maps(labels.clone(), h4, w4, s4.toArray(), H, W, hr.toArray());
        }
    }
}
