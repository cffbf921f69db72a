package conta.data;

import conta.image.Mask;
import conta.image.RgbImage;
import java.util.SplittableRandom;

/**
 * Applies an {@link AugmentSpec} to an {@link Item}. Geometry runs on 8-bit data (one resize by the spec's
 * {@link conta.image.Resampling}: Pillow bicubic and nearest for masks as IRNet by default); flip, jitter, normalisation, crop and padding are fused into a
 * single pass that writes float CHW. All randomness comes from the given generator, so a seed fixes the result.
 */
public final class Augment {
    private Augment() { }

    public static Sample apply(Item it, AugmentSpec s, SplittableRandom rng) {
        RgbImage im = it.image();
        Mask m = it.mask();
        // geometry: long-side target and scale combine into one resize
        double f = 1;
        if (s.longMax() > 0) f *= (double) (s.longMin() + rng.nextInt(s.longMax() - s.longMin() + 1)) / Math.max(im.h(), im.w());
        if (s.scaleMax() != 1 || s.scaleMin() != 1) f *= s.scaleMin() + rng.nextDouble() * (s.scaleMax() - s.scaleMin());
        if (f != 1) {
            int nh = s.resampling().size(im.h(), f), nw = s.resampling().size(im.w(), f);
            im = s.resampling().augment(im, nh, nw);
            if (m != null) m = s.resampling().labels(m, nh, nw);
        }
        boolean flip = s.hflip() && rng.nextBoolean();
        float bri = 1, con = 1, sat = 1, hue = 0;
        if (s.jitters()) {
            bri = 1 + (float) ((rng.nextDouble() * 2 - 1) * s.brightness());
            con = 1 + (float) ((rng.nextDouble() * 2 - 1) * s.contrast());
            sat = 1 + (float) ((rng.nextDouble() * 2 - 1) * s.saturation());
            hue = (float) ((rng.nextDouble() * 2 - 1) * s.hue());
        }
        int h = im.h(), w = im.w();
        int oh = s.crop() > 0 ? s.crop() : h, ow = s.crop() > 0 ? s.crop() : w;
        int[] ry = window(h, oh, s.cropMode(), rng), rx = window(w, ow, s.cropMode(), rng);
        // ry = {source start, dest start, length}
        float[] out = new float[3 * oh * ow];
        byte[] mo = m == null ? null : new byte[oh * ow];
        if (mo != null) java.util.Arrays.fill(mo, (byte) 255);
        float grey = s.jitters() && con != 1 ? meanGrey(im) * bri : 0;
        float cosH = (float) Math.cos(2 * Math.PI * hue), sinH = (float) Math.sin(2 * Math.PI * hue);
        float[] sc = new float[3], of = new float[3];
        int[] from = new int[3];
        for (int c = 0; c < 3; c++) {
            sc[c] = s.input().scale(c);
            of[c] = s.input().offset(c);
            from[c] = s.input().source(c);
        }
        byte[] src = im.rgb();
        int plane = oh * ow;
        for (int y = 0; y < ry[2]; y++) {
            int sy = ry[0] + y, dy = ry[1] + y;
            for (int x = 0; x < rx[2]; x++) {
                int dx = rx[1] + x, sx = rx[0] + x;
                if (flip) sx = w - 1 - sx;
                int si = 3 * (sy * w + sx);
                float r = src[si] & 0xFF, g = src[si + 1] & 0xFF, b = src[si + 2] & 0xFF;
                if (s.jitters()) {
                    r = clamp(r * bri); g = clamp(g * bri); b = clamp(b * bri);
                    r = clamp((r - grey) * con + grey); g = clamp((g - grey) * con + grey); b = clamp((b - grey) * con + grey);
                    float l = 0.299f * r + 0.587f * g + 0.114f * b;
                    r = clamp(l + (r - l) * sat); g = clamp(l + (g - l) * sat); b = clamp(l + (b - l) * sat);
                    if (hue != 0) { // rotate chroma in YIQ space
                        float yy = 0.299f * r + 0.587f * g + 0.114f * b;
                        float i = 0.596f * r - 0.274f * g - 0.322f * b, q = 0.211f * r - 0.523f * g + 0.312f * b;
                        float i2 = i * cosH - q * sinH, q2 = i * sinH + q * cosH;
                        r = clamp(yy + 0.956f * i2 + 0.621f * q2);
                        g = clamp(yy - 0.272f * i2 - 0.647f * q2);
                        b = clamp(yy - 1.106f * i2 + 1.703f * q2);
                    }
                }
                int di = dy * ow + dx;
                out[di] = pick(from[0], r, g, b) * sc[0] + of[0];
                out[plane + di] = pick(from[1], r, g, b) * sc[1] + of[1];
                out[2 * plane + di] = pick(from[2], r, g, b) * sc[2] + of[2];
                if (mo != null) mo[di] = m.data()[sy * w + sx];
            }
        }
        return new Sample(it.id(), out, oh, ow, mo, it.labels());
    }

    /** IRNet-style crop along one axis: {source start, destination start, length}. */
    private static int[] window(int size, int out, AugmentSpec.CropMode mode, SplittableRandom rng) {
        int space = Math.abs(size - out);
        int off = switch (mode) {
            case RANDOM -> space == 0 ? 0 : rng.nextInt(space + 1);
            case CENTER -> space / 2;
            case TOP_LEFT -> 0;
        };
        return size > out ? new int[]{off, 0, out} : new int[]{0, off, size};
    }

    private static float pick(int channel, float r, float g, float b) { return channel == 0 ? r : channel == 1 ? g : b; }

    private static float meanGrey(RgbImage im) {
        double sum = 0;
        byte[] p = im.rgb();
        for (int i = 0; i < p.length; i += 3) sum += 0.299 * (p[i] & 0xFF) + 0.587 * (p[i + 1] & 0xFF) + 0.114 * (p[i + 2] & 0xFF);
        return (float) (sum / (p.length / 3));
    }

    private static float clamp(float v) { return v < 0 ? 0 : v > 255 ? 255 : v; }
}
