package conta.image;

/**
 * Pillow's {@code Image.resize} for 8-bit images, bit for bit, so that conta resizes images as IRNet does
 * ({@code imutils.pil_rescale}: BICUBIC for photos, NEAREST for label maps).
 *
 * <p>BICUBIC is Pillow's {@code ImagingResample} (src/libImaging/Resample.c): separable, horizontal pass first into an
 * 8-bit intermediate, then vertical; the cubic kernel (a = -0.5) has support 2 scaled by the shrink factor, so
 * shrinking antialiases (OpenCV's INTER_CUBIC does not); each output's weights are normalised to sum 1, converted to
 * 22-bit fixed point ({@code PRECISION_BITS = 32 - 8 - 2}) rounding half away from zero, accumulated in an int
 * starting at 1/2 and shifted back with clipping to 0..255. A pass is skipped when its axis keeps its size.
 *
 * <p>NEAREST is Pillow's {@code ImagingScaleAffine} (src/libImaging/Geometry.c): the source coordinate starts at
 * half a step and is advanced by adding the step (in double precision, so accumulated rounding decides ties as
 * Pillow's does), truncated to an int.
 */
public final class PilResample {
    private PilResample() { }

    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double SUPPORT = 2.0; // bicubic

    /** IRNet's output size of {@code pil_rescale}: {@code int(np.round(n * scale))} (NumPy rounds half to even). */
    public static int rescaledSize(int n, double scale) {
        return Math.max(1, (int) Math.rint(n * scale));
    }

    /** Pillow {@code img.resize((w, h), Image.BICUBIC)} of an RGB image. */
    public static RgbImage bicubic(RgbImage im, int h, int w) {
        if (h < 1 || w < 1) throw new IllegalArgumentException("resize to " + w + "x" + h);
        if (h == im.h() && w == im.w()) return im;
        byte[] px = im.rgb();
        int ih = im.h(), iw = im.w();
        if (w != iw) {
            px = horizontal(px, ih, iw, w);
            iw = w;
        }
        if (h != ih) px = vertical(px, ih, iw, h);
        return new RgbImage(h, w, px);
    }

    /** Pillow {@code img.resize((w, h), Image.NEAREST)} of a label map. */
    public static Mask nearest(Mask m, int h, int w) {
        if (h < 1 || w < 1) throw new IllegalArgumentException("resize to " + w + "x" + h);
        if (h == m.h() && w == m.w()) return m;
        int[] xs = nearestIndex(m.w(), w), ys = nearestIndex(m.h(), h);
        byte[] src = m.data(), out = new byte[h * w];
        for (int y = 0; y < h; y++) {
            if (ys[y] < 0) continue; // outside the source: Pillow fills 0
            int row = ys[y] * m.w();
            for (int x = 0; x < w; x++) if (xs[x] >= 0) out[y * w + x] = src[row + xs[x]];
        }
        return new Mask(h, w, out);
    }

    /**
     * Source index of each output position along one axis for Pillow's NEAREST, or -1 where Pillow leaves the pixel 0
     * (never for ordinary sizes; kept to mirror its bounds check).
     */
    public static int[] nearestIndex(int in, int out) {
        double step = (double) in / out;
        double pos = step * 0.5;
        int[] idx = new int[out];
        for (int i = 0; i < out; i++) {
            int v = pos < 0 ? -1 : (int) pos;
            idx[i] = v >= 0 && v < in ? v : -1;
            pos += step;
        }
        return idx;
    }

    /** Per output position: first source index, count, and ksize fixed-point weights (Pillow's precompute_coeffs). */
    record Coeffs(int[] start, int[] count, int ksize, int[] k) { }

    static Coeffs coeffs(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = SUPPORT * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        double inv = 1.0 / filterscale;
        int[] start = new int[outSize], count = new int[outSize], k = new int[outSize * ksize];
        double[] w = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            int xmin = Math.max(0, (int) (center - support + 0.5)); // C's truncating cast, then clamp
            int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
            double ww = 0;
            for (int x = 0; x < xmax; x++) {
                w[x] = cubic((x + xmin - center + 0.5) * inv);
                ww += w[x];
            }
            for (int x = 0; x < xmax; x++) {
                double v = ww != 0.0 ? w[x] / ww : w[x];
                k[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            start[xx] = xmin;
            count[xx] = xmax;
        }
        return new Coeffs(start, count, ksize, k);
    }

    /** Keys' cubic convolution kernel with a = -0.5, written as Pillow evaluates it. */
    static double cubic(double x) {
        final double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    private static byte[] horizontal(byte[] in, int h, int iw, int ow) {
        Coeffs c = coeffs(iw, ow);
        byte[] out = new byte[3 * h * ow];
        for (int y = 0; y < h; y++) {
            int rowIn = 3 * y * iw, rowOut = 3 * y * ow;
            for (int xx = 0; xx < ow; xx++) {
                int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                int kb = xx * c.ksize(), first = rowIn + 3 * c.start()[xx];
                for (int x = 0; x < c.count()[xx]; x++) {
                    int kv = c.k()[kb + x], p = first + 3 * x;
                    s0 += (in[p] & 0xFF) * kv;
                    s1 += (in[p + 1] & 0xFF) * kv;
                    s2 += (in[p + 2] & 0xFF) * kv;
                }
                out[rowOut + 3 * xx] = clip8(s0);
                out[rowOut + 3 * xx + 1] = clip8(s1);
                out[rowOut + 3 * xx + 2] = clip8(s2);
            }
        }
        return out;
    }

    private static byte[] vertical(byte[] in, int ih, int w, int oh) {
        Coeffs c = coeffs(ih, oh);
        byte[] out = new byte[3 * oh * w];
        int[] acc = new int[3 * w];
        for (int yy = 0; yy < oh; yy++) {
            java.util.Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
            int kb = yy * c.ksize();
            for (int y = 0; y < c.count()[yy]; y++) {
                int kv = c.k()[kb + y], row = 3 * (c.start()[yy] + y) * w;
                for (int i = 0; i < 3 * w; i++) acc[i] += (in[row + i] & 0xFF) * kv;
            }
            for (int i = 0; i < 3 * w; i++) out[3 * yy * w + i] = clip8(acc[i]);
        }
        return out;
    }

    /** Pillow's clip8: the fixed-point sum shifted back (floor), clipped to 0..255. */
    private static byte clip8(int s) {
        int v = s >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }
}
