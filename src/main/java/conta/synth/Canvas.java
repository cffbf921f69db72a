package conta.synth;

import conta.image.Mask;
import conta.image.RgbImage;

/**
 * A 2x supersampled drawing surface holding colour and label. Shapes are tested at sub-pixel centres; the output
 * image is the 2x2 box average (anti-aliased edges) and a pixel whose four sub-labels disagree becomes 255 when one
 * of them is an object: the thin void border VOC annotations have.
 */
final class Canvas {
    static final int SS = 2;
    final int h, w, hs, ws;
    final float[] rgb;
    final byte[] lab;

    interface Shape {
        boolean in(double x, double y);

        /** x0, y0, x1, y1 in output pixels. */
        double[] box();
    }

    interface Tex {
        /** Colour (0..255) at output-pixel coordinates; writes out[0..2]. */
        void at(double x, double y, float[] out);
    }

    Canvas(int h, int w) {
        this.h = h;
        this.w = w;
        hs = h * SS;
        ws = w * SS;
        rgb = new float[hs * ws * 3];
        lab = new byte[hs * ws];
    }

    /** Paints a shape; label < 0 leaves labels as they are (unlabelled scenery). */
    void fill(Shape s, int label, Tex t) {
        double[] b = s.box();
        int x0 = Math.max(0, (int) Math.floor(b[0] * SS)), y0 = Math.max(0, (int) Math.floor(b[1] * SS));
        int x1 = Math.min(ws - 1, (int) Math.ceil(b[2] * SS)), y1 = Math.min(hs - 1, (int) Math.ceil(b[3] * SS));
        float[] c = new float[3];
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                double px = (x + 0.5) / SS, py = (y + 0.5) / SS;
                if (!s.in(px, py)) continue;
                t.at(px, py, c);
                int i = y * ws + x;
                rgb[3 * i] = c[0];
                rgb[3 * i + 1] = c[1];
                rgb[3 * i + 2] = c[2];
                if (label >= 0) lab[i] = (byte) label;
            }
    }

    /** Paints the whole canvas where pred(x, y) holds (regions defined by functions, e.g. a wavy shoreline). */
    void region(java.util.function.BiPredicate<Double, Double> pred, int label, Tex t) {
        fill(new Shape() {
            public boolean in(double x, double y) { return pred.test(x, y); }

            public double[] box() { return new double[]{0, 0, w, h}; }
        }, label, t);
    }

    RgbImage image() {
        byte[] out = new byte[h * w * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < 3; ch++) {
                    float s = 0;
                    for (int dy = 0; dy < SS; dy++)
                        for (int dx = 0; dx < SS; dx++) s += rgb[3 * ((y * SS + dy) * ws + x * SS + dx) + ch];
                    int v = Math.round(s / (SS * SS));
                    out[3 * (y * w + x) + ch] = (byte) Math.max(0, Math.min(255, v));
                }
        return new RgbImage(h, w, out);
    }

    Mask mask(boolean voidBorder) {
        byte[] out = new byte[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int first = lab[(y * SS) * ws + x * SS];
                boolean mixed = false, anyObj = first != 0;
                int[] votes = new int[256];
                for (int dy = 0; dy < SS; dy++)
                    for (int dx = 0; dx < SS; dx++) {
                        int v = lab[(y * SS + dy) * ws + x * SS + dx] & 0xFF;
                        votes[v]++;
                        if (v != first) mixed = true;
                        if (v != 0) anyObj = true;
                    }
                int best = 0;
                for (int v = 1; v < 256; v++) if (votes[v] > votes[best]) best = v;
                out[y * w + x] = (byte) (voidBorder && mixed && anyObj ? 255 : best);
            }
        return new Mask(h, w, out);
    }

    // ---- shapes ----
    static Shape ellipse(double cx, double cy, double rx, double ry, double angle) {
        double ca = Math.cos(angle), sa = Math.sin(angle), r = Math.max(rx, ry);
        return new Shape() {
            public boolean in(double x, double y) {
                double dx = x - cx, dy = y - cy, u = dx * ca + dy * sa, v = -dx * sa + dy * ca;
                return (u * u) / (rx * rx) + (v * v) / (ry * ry) <= 1;
            }

            public double[] box() { return new double[]{cx - r, cy - r, cx + r, cy + r}; }
        };
    }

    /** Convex or concave polygon (even-odd rule); xy = x0,y0,x1,y1,... */
    static Shape poly(double... xy) {
        double x0 = Double.MAX_VALUE, y0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (int i = 0; i < xy.length; i += 2) {
            x0 = Math.min(x0, xy[i]); x1 = Math.max(x1, xy[i]);
            y0 = Math.min(y0, xy[i + 1]); y1 = Math.max(y1, xy[i + 1]);
        }
        double[] bb = {x0, y0, x1, y1};
        return new Shape() {
            public boolean in(double x, double y) {
                boolean c = false;
                int n = xy.length / 2;
                for (int i = 0, j = n - 1; i < n; j = i++) {
                    double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
                    if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) c = !c;
                }
                return c;
            }

            public double[] box() { return bb; }
        };
    }

    static Shape rect(double x0, double y0, double x1, double y1) { return poly(x0, y0, x1, y0, x1, y1, x0, y1); }

    /** A thick segment from (x0,y0) to (x1,y1) of width t (limbs, necks, masts). */
    static Shape bar(double x0, double y0, double x1, double y1, double t) {
        double dx = x1 - x0, dy = y1 - y0, len = Math.max(1e-9, Math.hypot(dx, dy)), nx = -dy / len * t / 2, ny = dx / len * t / 2;
        return poly(x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny);
    }
}
