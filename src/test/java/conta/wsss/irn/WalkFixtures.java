package conta.wsss.irn;

import java.util.Random;

/** Smooth random CAMs and boundary maps for the random-walk tests and benchmark. */
public final class WalkFixtures {
    private WalkFixtures() { }

    /** K maps h x w, each a sum of a few Gaussian blobs, in [0, 1] (max-normalised per channel like IRNet's CAMs). */
    public static float[] cams(Random rnd, int k, int h, int w) {
        float[] out = new float[k * h * w];
        for (int c = 0; c < k; c++) {
            double[] m = blobs(rnd, 3, h, w, Math.max(h, w) / 6.0);
            double max = 0;
            for (double v : m) max = Math.max(max, v);
            for (int i = 0; i < h * w; i++) out[c * h * w + i] = (float) (m[i] / max);
        }
        return out;
    }

    /** Boundary in [0, 1]: high near the zero level set of a smooth random field (curved ridges), low elsewhere. */
    public static float[] boundary(Random rnd, int h, int w) {
        double[] a = blobs(rnd, 4, h, w, Math.max(h, w) / 5.0), b = blobs(rnd, 4, h, w, Math.max(h, w) / 5.0);
        double scale = 0;
        for (int i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i] - b[i]));
        float[] out = new float[h * w];
        for (int i = 0; i < out.length; i++) {
            double z = (a[i] - b[i]) / scale;
            out[i] = (float) Math.exp(-z * z / (2 * 0.08 * 0.08)); // ridge of width ~0.08 of the field's range
        }
        return out;
    }

    static double[] blobs(Random rnd, int n, int h, int w, double sigma) {
        double[] m = new double[h * w];
        for (int b = 0; b < n; b++) {
            double cy = rnd.nextDouble() * h, cx = rnd.nextDouble() * w, s = sigma * (0.5 + rnd.nextDouble()), amp = 0.3 + rnd.nextDouble();
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) m[y * w + x] += amp * Math.exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (2 * s * s));
        }
        return m;
    }
}
