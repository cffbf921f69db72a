package conta.data;

import conta.image.Resampling;

/**
 * What {@link Augment} does to one item, in this order: random long-side resize to U{longMin..longMax} (IRNet 320-640;
 * 0 = off), random rescale by U(scaleMin, scaleMax) (DeepLab 0.5-1.5), horizontal flip with probability 1/2, colour
 * jitter (brightness/contrast/saturation factors 1±x, hue shift ±x turns), the weights' input {@link Preprocess}
 * (ImageNet mean/std, Caffe BGR minus mean, or raw 0..255), then a crop×crop window (0 = whole image) padded with 0 (the mean colour after normalisation) and mask 255.
 * The two rescales are one resize by {@link #resampling} (Pillow's, as IRNet, unless set to OpenCV).
 */
public record AugmentSpec(int longMin, int longMax, double scaleMin, double scaleMax, boolean hflip,
                          float brightness, float contrast, float saturation, float hue,
                          Preprocess input, int crop, CropMode cropMode, Resampling resampling) {
    /** RANDOM for training; CENTER; TOP_LEFT as IRNet's validation crop. */
    public enum CropMode { RANDOM, CENTER, TOP_LEFT }

    public AugmentSpec {
        if (longMin < 0 || longMax < longMin) throw new IllegalArgumentException("long-side range " + longMin + ".." + longMax);
        if (scaleMin <= 0 || scaleMax < scaleMin) throw new IllegalArgumentException("scale range " + scaleMin + ".." + scaleMax);
        if (input == null) throw new IllegalArgumentException("input preprocessing is null");
        if (crop < 0) throw new IllegalArgumentException("crop " + crop);
        if (resampling == null) throw new IllegalArgumentException("resampling is null");
    }

    /** With IRNet's (Pillow) resampling. */
    public AugmentSpec(int longMin, int longMax, double scaleMin, double scaleMax, boolean hflip, float brightness, float contrast,
                       float saturation, float hue, Preprocess input, int crop, CropMode cropMode) {
        this(longMin, longMax, scaleMin, scaleMax, hflip, brightness, contrast, saturation, hue, input, crop, cropMode, Resampling.PIL);
    }

    /** Normalise only, whole image. */
    public static AugmentSpec none() { return new AugmentSpec(0, 0, 1, 1, false, 0, 0, 0, 0, Preprocess.IMAGENET, 0, CropMode.TOP_LEFT); }

    /** IRNet CAM training: long side U[320,640], flip, normalise, random crop (512). */
    public static AugmentSpec irnCam(int crop) { return new AugmentSpec(320, 640, 1, 1, true, 0, 0, 0, 0, Preprocess.IMAGENET, crop, CropMode.RANDOM); }

    /** DeepLab training: scale U(0.5,1.5), flip, normalise, random crop (321 or 513). */
    public static AugmentSpec deeplab(int crop) { return new AugmentSpec(0, 0, 0.5, 1.5, true, 0, 0, 0, 0, Preprocess.IMAGENET, crop, CropMode.RANDOM); }

    public AugmentSpec withJitter(float b, float c, float s, float h) {
        return new AugmentSpec(longMin, longMax, scaleMin, scaleMax, hflip, b, c, s, h, input, crop, cropMode, resampling);
    }

    public AugmentSpec withLongSide(int min, int max) {
        return new AugmentSpec(min, max, scaleMin, scaleMax, hflip, brightness, contrast, saturation, hue, input, crop, cropMode, resampling);
    }

    public AugmentSpec withCrop(int size, CropMode mode) {
        return new AugmentSpec(longMin, longMax, scaleMin, scaleMax, hflip, brightness, contrast, saturation, hue, input, size, mode, resampling);
    }

    public AugmentSpec withInput(Preprocess p) {
        return new AugmentSpec(longMin, longMax, scaleMin, scaleMax, hflip, brightness, contrast, saturation, hue, p, crop, cropMode, resampling);
    }

    public AugmentSpec withResampling(Resampling r) {
        return new AugmentSpec(longMin, longMax, scaleMin, scaleMax, hflip, brightness, contrast, saturation, hue, input, crop, cropMode, r);
    }

    boolean jitters() { return brightness > 0 || contrast > 0 || saturation > 0 || hue > 0; }
}
