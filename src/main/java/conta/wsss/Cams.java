package conta.wsss;

import conta.autograd.Tape;
import conta.data.Preprocess;
import conta.image.CamMaps;
import conta.infer.PlanCache;
import conta.image.Resampling;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.io.HostArray;
import conta.models.ResNet;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.WsssOps;

/**
 * Class activation maps as IRNet's make_cam.py computes them: for each scale the image (Pillow bicubic, as pil_rescale) and its mirror
 * go through the backbone, CAM = ReLU(1x1 classifier over the features), the mirror's map is flipped back and added;
 * per-scale maps are resized bilinearly to the stride-4 grid and to the full image (via the stride-up grid, then
 * cropped), summed over scales, restricted to the image's classes and max-normalised per class (+1e-5). Every map op
 * runs on the network's backend through {@link WsssOps}, so on a GPU only the finished maps come back to the host.
 */
public final class Cams {
    private Cams() { }

    /**
     * Seeds of CAM maps: the argmax over [background = threshold, CAMs] on the backend's WSSS ops; class ids, 0 =
     * background.
     */
    public static Mask seeds(Backend b, CamMaps m, double threshold) {
        return new Mask(m.h(), m.w(), labelsAt(b, m.keys(), m.highRes(), m.h(), m.w(), (float) threshold, (float) threshold)[0]);
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
    public static CamMaps compute(ResNet net, Preprocess input, RgbImage im, int[] labels, double[] scales, HostArray context) {
        return compute(net, input, im, labels, scales, context, Resampling.PIL);
    }

    /** The same with the given resizing of the image to each scale (IRNet's Pillow bicubic is {@link Resampling#PIL}). */
    public static CamMaps compute(ResNet net, Preprocess input, RgbImage im, int[] labels, double[] scales, HostArray context, Resampling resize) {
        return compute(net, input, im, labels, scales, context, resize, null);
    }

    /**
     * The same, with the activation maps from inference plans when plans is not null (PlanCache.Output.CAM of this
     * network; a CONTA classifier's plans take the context map too): the numbers of net's forward to float rounding,
     * faster on the CPU.
     */
    public static CamMaps compute(ResNet net, Preprocess input, RgbImage im, int[] labels, double[] scales, HostArray context, Resampling resize,
                                  PlanCache plans) {
        return compute(net, labels.length == 0 ? Inputs.none(im) : inputs(input, im, scales, resize), labels, context, plans);
    }

    /**
     * The host half of a CAM computation, which a caller may run ahead on another thread: per scale, the image resized
     * and turned into the network's input with its flip (2 x 3 x sh x sw floats).
     */
    public record Inputs(int h, int w, int[] sh, int[] sw, float[][] chw) {
        /** No scales: for an image without labels, whose maps are empty. */
        public static Inputs none(RgbImage im) { return new Inputs(im.h(), im.w(), new int[0], new int[0], new float[0][]); }
    }

    /** The network inputs of im at each scale (see {@link Inputs}). */
    public static Inputs inputs(Preprocess input, RgbImage im, double[] scales, Resampling resize) {
        int H = im.h(), W = im.w();
        int[] sh = new int[scales.length], sw = new int[scales.length];
        float[][] chw = new float[scales.length][];
        for (int i = 0; i < scales.length; i++) {
            sh[i] = resize.size(H, scales[i]);
            sw[i] = resize.size(W, scales[i]);
            chw[i] = input.chw(resize.camScale(im, sh[i], sw[i]), true);
        }
        return new Inputs(H, W, sh, sw, chw);
    }

    /** The device half: the maps of the given inputs (from {@link #inputs}), as the full compute above. */
    public static CamMaps compute(ResNet net, Inputs in, int[] labels, HostArray context, PlanCache plans) {
        Backend b = net.backend();
        WsssOps ops = b.wsss();
        int H = in.h(), W = in.w(), h4 = (H + 3) / 4, w4 = (W + 3) / 4;
        int os = net.config.outputStride();
        int upH = (H + os - 1) / os * os, upW = (W + os - 1) / os * os;
        int c = net.config.classes(), k = labels.length;
        if (k == 0) return new CamMaps(new int[0], h4, w4, new float[0], H, W, new float[0]);
        int[] channels = new int[k];
        for (int i = 0; i < k; i++) channels[i] = labels[i] - 1;
        net.train(false);
        // the image and its mirror image (a batch of 2) both read the image's context map as it is
        float[] pair = null;
        int[] pairShape = null;
        if (context != null) {
            int[] cs = context.shape();
            pair = new float[2 * context.data().length];
            System.arraycopy(context.data(), 0, pair, 0, context.data().length);
            System.arraycopy(context.data(), 0, pair, context.data().length, context.data().length);
            pairShape = new int[]{2, cs[cs.length - 3], cs[cs.length - 2], cs[cs.length - 1]};
        }
        try (Tensor s4 = Tensor.zeros(b, 1, k, h4, w4); Tensor hr = Tensor.zeros(b, 1, k, H, W)) {
            for (int si = 0; si < in.chw().length; si++) {
                int sh = in.sh()[si], sw = in.sw()[si];
                try (Tape t = Tape.open(false)) {
                    Tensor cam;
                    if (plans != null) {
                        PlanCache.Result pr = context == null ? plans.run(in.chw()[si], 2, 3, sh, sw)
                                : plans.run(in.chw()[si], new int[]{2, 3, sh, sw}, pair, pairShape);
                        cam = Tape.track(Tensor.of(b, pr.data(), pr.shape()));
                    } else {
                        Tensor x = Tape.track(Tensor.of(b, in.chw()[si], 2, 3, sh, sw));
                        Tensor ctx = context == null ? null : Tape.track(Tensor.of(b, pair, pairShape));
                        Tensor feats = net.withContext(net.features(x, ctx), ctx); // M joins at every block of conta.blocks, as in training
                        cam = Tape.track(b.empty(2, c, feats.dim(2), feats.dim(3)));
                        ops.cam(feats, net.camWeight(), cam);
                    }
                    Tensor merged = Tape.track(b.empty(1, k, cam.dim(2), cam.dim(3)));
                    ops.flipMergeSelect(cam, channels, merged);
                    ops.resizeCropAccumulate(merged, h4, w4, s4);
                    ops.resizeCropAccumulate(merged, upH, upW, hr); // via the stride-up grid, cropped to the image
                }
            }
            ops.normaliseMax(s4, (long) h4 * w4, 1e-5f);
            ops.normaliseMax(hr, (long) H * W, 1e-5f);
            return new CamMaps(labels.clone(), h4, w4, s4.toArray(), H, W, hr.toArray());
        }
    }
}
