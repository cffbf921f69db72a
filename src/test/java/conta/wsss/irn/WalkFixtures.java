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

    /**
     * The walk's scores as RandomWalk computed them on the host before the seam (the reference for segment): the
     * propagated maps upsampled x4, cropped, divided by their global maximum, after a constant background plane.
     */
    public static float[] scores(RandomWalk rw, conta.tensor.Backend b, float[] walked, int k, int h, int w, int outH, int outW) {
        if (walked.length != (long) k * h * w) throw new IllegalArgumentException(walked.length + " walk values for " + k + " x " + h + " x " + w);
        if (outH > 4 * h || outW > 4 * w || outH <= 0 || outW <= 0) throw new IllegalArgumentException("image does not fit the x4 grid");
        int on = outH * outW;
        float[] out = new float[(k + 1) * on];
        java.util.Arrays.fill(out, 0, on, rw.params().bgThreshold());
        if (k == 0) return out;
        float[] up;
        try (conta.tensor.Tensor x = conta.tensor.Tensor.of(b, walked, 1, k, h, w); conta.tensor.Tensor y = b.empty(1, k, 4 * h, 4 * w)) {
            b.resizeBilinear(x, false, y);
            up = y.toArray();
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++)
            for (int yy = 0; yy < outH; yy++)
                for (int xx = 0; xx < outW; xx++) max = Math.max(max, up[(c * 4 * h + yy) * 4 * w + xx]);
        float inv = max > 0 ? 1f / max : 0f;
        for (int c = 0; c < k; c++)
            for (int yy = 0; yy < outH; yy++)
                for (int xx = 0; xx < outW; xx++) out[(c + 1) * on + yy * outW + xx] = up[(c * 4 * h + yy) * 4 * w + xx] * inv;
        return out;
    }

    /** Argmax over the K + 1 planes (first maximum wins, so background wins ties), mapped to class ids. */
    public static byte[] labels(float[] scores, int planes, int[] classIds, int outH, int outW) {
        int on = outH * outW;
        byte[] out = new byte[on];
        for (int i = 0; i < on; i++) {
            int best = 0;
            float bv = scores[i];
            for (int c = 1; c < planes; c++) if (scores[c * on + i] > bv) { bv = scores[c * on + i]; best = c; }
            out[i] = (byte) (best == 0 ? 0 : classIds[best - 1]);
        }
        return out;
    }

}
