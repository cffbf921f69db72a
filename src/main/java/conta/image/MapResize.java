package conta.image;

/**
 * Host-side resizing of float map stacks (c x H x W, row-major) with PyTorch's F.interpolate rules: the confounder
 * set, CONTA's X_m, C²AM's global CAM, and the labels a score map's cross-entropy reads (nearest). Computed in double
 * (nearest: PyTorch's float source index), one pass per output cell; these maps are small (20 x 32 x 32, a batch of
 * label maps), so the host is the right place and no device op is needed. Images are resized by
 * {@link Resampling}; device tensors by the backend's resize ops.
 */
public final class MapResize {
    private MapResize() { }

    public enum Mode {
        /**
         * Mean over the source cells each output cell covers, PyTorch's {@code interpolate(mode='area')} =
         * {@code adaptive_avg_pool2d}: rows floor(i*H/h) .. ceil((i+1)*H/h)-1. A binary mask becomes the fraction of each
         * output cell that the class covers; the right default when shrinking a full-resolution mask to a 32x32 grid,
         * where bilinear sampling would read only a few source pixels and alias.
         */
        AREA,
        /** PyTorch {@code interpolate(mode='bilinear', align_corners=False)}, no antialiasing (C²AM resizes CAMs this way). */
        BILINEAR,
        /**
         * PyTorch {@code interpolate(mode='nearest')}: src = min(floor(dst * (float) (in / out)), in - 1), the scale and
         * product in float as in ATen's nearest_idx; keeps masks binary.
         */
        NEAREST
    }

    /** Resizes c maps of H x W to h x w. */
    public static float[] resize(float[] src, int c, int H, int W, int h, int w, Mode mode) {
        if (H <= 0 || W <= 0 || h <= 0 || w <= 0 || c <= 0)
            throw new IllegalArgumentException("resize: sizes must be positive, got " + c + " x " + H + " x " + W + " -> " + h + " x " + w);
        if (src.length != (long) c * H * W)
            throw new IllegalArgumentException("resize: " + src.length + " values for " + c + " x " + H + " x " + W);
        float[] dst = new float[c * h * w];
        for (int k = 0; k < c; k++) {
            int s0 = k * H * W, d0 = k * h * w;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    dst[d0 + y * w + x] = (float) switch (mode) {
                        case AREA -> area(src, s0, H, W, y, x, h, w);
                        case BILINEAR -> bilinear(src, s0, H, W, y, x, h, w);
                        case NEAREST -> src[s0 + nearest(y, H, h) * W + nearest(x, W, w)];
                    };
        }
        return dst;
    }

    /** ATen's nearest_idx: the same size maps to itself, else floor(dst * scale) in float, clamped. */
    static int nearest(int dst, int in, int out) {
        if (in == out) return dst;
        float scale = (float) in / out;
        return Math.min((int) Math.floor(dst * scale), in - 1);
    }

    private static double area(float[] s, int s0, int H, int W, int y, int x, int h, int w) {
        int y0 = Math.floorDiv(y * H, h), y1 = -Math.floorDiv(-(y + 1) * H, h);
        int x0 = Math.floorDiv(x * W, w), x1 = -Math.floorDiv(-(x + 1) * W, w);
        double sum = 0;
        for (int i = y0; i < y1; i++) for (int j = x0; j < x1; j++) sum += s[s0 + i * W + j];
        return sum / ((double) (y1 - y0) * (x1 - x0));
    }

    private static double bilinear(float[] s, int s0, int H, int W, int y, int x, int h, int w) {
        double sy = Math.max(0.0, (y + 0.5) * H / h - 0.5), sx = Math.max(0.0, (x + 0.5) * W / w - 0.5);
        int y0 = Math.min((int) sy, H - 1), x0 = Math.min((int) sx, W - 1);
        int y1 = Math.min(y0 + 1, H - 1), x1 = Math.min(x0 + 1, W - 1);
        double ly = sy - y0, lx = sx - x0;
        return (1 - ly) * ((1 - lx) * s[s0 + y0 * W + x0] + lx * s[s0 + y0 * W + x1])
                + ly * ((1 - lx) * s[s0 + y1 * W + x0] + lx * s[s0 + y1 * W + x1]);
    }
}
