package conta.wsss.crf;

import conta.image.RgbImage;
import java.util.Random;

/** Synthetic test scenes: coloured shapes, and CAM-like labels that miss the shapes' edges. */
final class CrfScenes {
    private CrfScenes() { }

    static final int[][] COLOURS = {{30, 110, 40}, {200, 50, 40}, {40, 70, 210}, {230, 200, 60}};

    /** Ground-truth layout: background 0, a rectangle 1, a disc 2, (with 4 labels) a bar 3. */
    static int[] layout(int w, int h, int nLabels, double shift) {
        int[] t = new int[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double u = (x + 0.5) / w + shift, v = (y + 0.5) / h + shift;
                int l = 0;
                if (u > 0.1 && u < 0.5 && v > 0.15 && v < 0.6) l = 1;
                if ((u - 0.7) * (u - 0.7) + (v - 0.6) * (v - 0.6) < 0.06) l = 2;
                if (nLabels > 3 && v > 0.8 && u < 0.6) l = 3;
                t[y * w + x] = l;
            }
        return t;
    }

    /** The layout painted in label colours with Gaussian colour noise of standard deviation noise. */
    static RgbImage image(int w, int h, int nLabels, double noise, Random r) {
        int[] t = layout(w, h, nLabels, 0);
        byte[] rgb = new byte[3 * w * h];
        for (int i = 0; i < w * h; i++)
            for (int c = 0; c < 3; c++)
                rgb[3 * i + c] = (byte) Math.clamp(Math.round(COLOURS[t[i]][c] + r.nextGaussian() * noise), 0, 255);
        return new RgbImage(h, w, rgb);
    }

    /** Layout shifted by 8% of the image (a CAM's blurred edges) with a fraction flip of random labels. */
    static int[] labels(int w, int h, int nLabels, double flip, Random r) {
        int[] t = layout(w, h, nLabels, 0.08);
        for (int i = 0; i < t.length; i++) if (r.nextDouble() < flip) t[i] = r.nextInt(nLabels);
        return t;
    }

    /** Soft scores: softmax of (3 x one-hot of labels(...) + Gaussian noise), nLabels x N. */
    static float[] probs(int w, int h, int nLabels, double flip, Random r) {
        int[] t = labels(w, h, nLabels, flip, r);
        int n = w * h;
        float[] p = new float[nLabels * n];
        for (int i = 0; i < n; i++) {
            double[] z = new double[nLabels];
            double s = 0;
            for (int c = 0; c < nLabels; c++) { z[c] = Math.exp((c == t[i] ? 3 : 0) + r.nextGaussian()); s += z[c]; }
            for (int c = 0; c < nLabels; c++) p[c * n + i] = (float) (z[c] / s);
        }
        return p;
    }
}
