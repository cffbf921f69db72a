package conta.image;

/**
 * How the pipeline rescales photos and label maps (augmentation and the CAM scales). PIL, the default, is IRNet's
 * {@code imutils.pil_rescale}: Pillow BICUBIC (antialiased when shrinking), NEAREST for labels, and the target size
 * {@code int(np.round(n * scale))}, which rounds halves to even. OPENCV is conta's behaviour before issue 17, kept so old
 * runs can be reproduced: INTER_AREA to shrink and INTER_CUBIC to enlarge in augmentation, INTER_CUBIC at every CAM
 * scale, centre-sampling nearest for labels, sizes rounded half up.
 */
public enum Resampling {
    PIL, OPENCV;

    /** Config value ({@code pil} | {@code opencv}); key names the setting in the error. */
    public static Resampling parse(String v, String key) {
        return switch (v.strip().toLowerCase()) {
            case "pil" -> PIL;
            case "opencv" -> OPENCV;
            default -> throw new conta.error.UserError("config " + key + " must be pil (IRNet's Pillow resizing) or opencv (conta's old OpenCV resizing), got '" + v + "'");
        };
    }

    /** Side length after rescaling n by f (at least 1). */
    public int size(int n, double f) {
        return this == PIL ? PilResample.rescaledSize(n, f) : Math.max(1, (int) Math.round(n * f));
    }

    /** A training image rescaled in augmentation. */
    public RgbImage augment(RgbImage im, int h, int w) {
        if (this == PIL) return PilResample.bicubic(im, h, w);
        boolean shrink = (long) h * w < (long) im.h() * im.w();
        return ImageCodec.resize(im, h, w, shrink ? ImageCodec.Interp.AREA : ImageCodec.Interp.CUBIC);
    }

    /** The image at one CAM inference scale. */
    public RgbImage camScale(RgbImage im, int h, int w) {
        return this == PIL ? PilResample.bicubic(im, h, w) : ImageCodec.resize(im, h, w, ImageCodec.Interp.CUBIC);
    }

    /** A label map (never interpolated). */
    public Mask labels(Mask m, int h, int w) {
        return this == PIL ? PilResample.nearest(m, h, w) : ImageCodec.resize(m, h, w);
    }
}
