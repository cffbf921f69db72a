package conta.wsss.crf;

import conta.image.RgbImage;

/**
 * Test oracle: the same mean field as {@link DenseCrf} in float64 with the exact kernels summed over all pixel
 * pairs (O(N²), tiny images only). K_ij = exp(-|f_i - f_j|² / 2) with f = (x/sxy, y/sxy[, r/srgb, g/srgb, b/srgb]),
 * self term included, message D^-1/2 K D^-1/2 Q with D = K·1.
 */
final class ExactDenseCrf {
    private ExactDenseCrf() { }

    static double[] gaussianFeatures(int w, int h, double sxy) {
        double[] f = new double[w * h * 2];
        for (int i = 0; i < w * h; i++) { f[2 * i] = (i % w) / sxy; f[2 * i + 1] = (i / w) / sxy; }
        return f;
    }

    static double[] bilateralFeatures(RgbImage img, double sxy, double srgb) {
        int w = img.w(), n = w * img.h();
        double[] f = new double[n * 5];
        for (int i = 0; i < n; i++) {
            f[5 * i] = (i % w) / sxy;
            f[5 * i + 1] = (i / w) / sxy;
            for (int c = 0; c < 3; c++) f[5 * i + 2 + c] = (img.rgb()[3 * i + c] & 0xFF) / srgb;
        }
        return f;
    }

    /** Dense N x N kernel matrix exp(-|f_i - f_j|² / 2). */
    static double[] kernel(double[] f, int n, int d) {
        double[] k = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int t = 0; t < d; t++) { double df = f[i * d + t] - f[j * d + t]; s += df * df; }
                k[i * n + j] = Math.exp(-0.5 * s);
            }
        return k;
    }

    /** K·v for one N-vector. */
    static double[] apply(double[] k, double[] v) {
        int n = v.length;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j < n; j++) s += k[i * n + j] * v[j]; out[i] = s; }
        return out;
    }

    /** Q (nLabels x N, label-major) after p.iterations() mean-field updates. */
    static double[] infer(float[] unary, RgbImage img, int nLabels, CrfParams p) {
        int w = img.w(), n = w * img.h(), L = nLabels;
        double[][] ks = {
                kernel(gaussianFeatures(w, img.h(), p.gaussSxy()), n, 2),
                kernel(bilateralFeatures(img, p.bilatSxy(), p.bilatSrgb()), n, 5)};
        double[] compat = {p.gaussCompat(), p.bilatCompat()};
        double[][] norm = new double[2][];
        for (int m = 0; m < 2; m++) {
            double[] ones = new double[n];
            java.util.Arrays.fill(ones, 1);
            norm[m] = apply(ks[m], ones);
            for (int i = 0; i < n; i++) norm[m][i] = 1 / Math.sqrt(norm[m][i] + 1e-20);
        }
        double[] q = new double[L * n];
        for (int i = 0; i < L * n; i++) q[i] = -unary[i];
        softmax(q, n, L);
        for (int it = 0; it < p.iterations(); it++) {
            double[] next = new double[L * n];
            for (int i = 0; i < L * n; i++) next[i] = -unary[i];
            for (int m = 0; m < 2; m++) {
                for (int c = 0; c < L; c++) {
                    double[] v = new double[n];
                    for (int i = 0; i < n; i++) v[i] = q[c * n + i] * norm[m][i];
                    double[] kv = apply(ks[m], v);
                    for (int i = 0; i < n; i++) next[c * n + i] += compat[m] * norm[m][i] * kv[i];
                }
            }
            softmax(next, n, L);
            q = next;
        }
        return q;
    }

    static void softmax(double[] a, int n, int L) {
        for (int i = 0; i < n; i++) {
            double mx = Double.NEGATIVE_INFINITY, s = 0;
            for (int c = 0; c < L; c++) mx = Math.max(mx, a[c * n + i]);
            for (int c = 0; c < L; c++) { a[c * n + i] = Math.exp(a[c * n + i] - mx); s += a[c * n + i]; }
            for (int c = 0; c < L; c++) a[c * n + i] /= s;
        }
    }
}
