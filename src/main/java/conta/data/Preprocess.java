package conta.data;

import conta.image.RgbImage;

/**
 * How 8-bit RGB pixels become network input, which must match what the weights were trained on: torchvision-style
 * ImageNet weights want RGB/255 standardised by the ImageNet mean and std; MSRA/Caffe weights (the npm Keras ResNet-50,
 * DeepLab-v2's Caffe init) want BGR in 0..255 minus the BGR mean; RAW keeps RGB 0..255 (tests, debugging).
 */
public enum Preprocess {
    RAW, IMAGENET, CAFFE;

    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};
    /** Caffe's per-channel mean in B, G, R order. */
    private static final float[] BGR_MEAN = {103.939f, 116.779f, 123.68f};

    /** The RGB channel (0 = R) that output channel c takes. */
    public int source(int c) { return this == CAFFE ? 2 - c : c; }

    /** Output channel c = source value (0..255) * scale(c) + offset(c). */
    public float scale(int c) { return this == IMAGENET ? 1f / (255f * STD[c]) : 1f; }

    public float offset(int c) {
        return switch (this) {
            case RAW -> 0f;
            case IMAGENET -> -MEAN[c] / STD[c];
            case CAFFE -> -BGR_MEAN[c];
        };
    }

    /** The image as 3 x h x w input and, if mirrored, its horizontal mirror after it (2 x 3 x h x w). */
    public float[] chw(RgbImage im, boolean mirrored) { return chw(im, mirrored, null); }

    /** The same, written into `into` when it has exactly the values' length (else into a new array), and returned. */
    public float[] chw(RgbImage im, boolean mirrored, float[] into) {
        int h = im.h(), w = im.w(), plane = h * w;
        float[] out = into != null && into.length == (mirrored ? 6 : 3) * plane ? into : new float[(mirrored ? 6 : 3) * plane];
        byte[] src = im.rgb();
        for (int c = 0; c < 3; c++) {
            int s = source(c);
            float sc = scale(c), of = offset(c);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float v = (src[3 * (y * w + x) + s] & 0xFF) * sc + of;
                    out[c * plane + y * w + x] = v;
                    if (mirrored) out[(3 + c) * plane + y * w + (w - 1 - x)] = v;
                }
        }
        return out;
    }

    /** What a caller does to 8-bit RGB pixels to make this input, in words (as docs/onnx.md says it). */
    public String describe() {
        return switch (this) {
            case RAW -> "RGB 0..255";
            case IMAGENET -> "RGB / 255, minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225)";
            case CAFFE -> "BGR 0..255 minus (103.939, 116.779, 123.68)";
        };
    }

    /** Config value (imagenet | caffe | raw) to a mode; the message names the key. */
    public static Preprocess parse(String v, String key) {
        return switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "imagenet" -> IMAGENET;
            case "caffe" -> CAFFE;
            case "raw" -> RAW;
            default -> throw new IllegalArgumentException(key + " must be auto, imagenet, caffe or raw, got '" + v + "'");
        };
    }
}
