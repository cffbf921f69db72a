package conta.wsss.crf;

import conta.image.RgbImage;

/**
 * Fully connected CRF with Potts compatibility and mean-field inference (Krähenbühl and Koltun 2011), with the
 * semantics of pydensecrf's {@code DenseCRF2D} (densecrf 2.2):
 *
 * <ul>
 * <li>Kernels: Gaussian K_ij = exp(-|p_i - p_j|² / 2 sxy²) on pixel positions (x = column, y = row) and bilateral
 *     exp(-|p_i - p_j|² / 2 sxy² - |I_i - I_j|² / 2 srgb²) on positions and 0..255 RGB. Both are evaluated by a
 *     {@link PermutohedralLattice} (d = 2 and d = 5), never over all pixel pairs, so K is an approximation.</li>
 * <li>Normalisation NORMALIZE_SYMMETRIC: the message is D^-1/2 K D^-1/2 Q with D_ii = (K·1)_i + 1e-20. The sums
 *     over j <b>include j = i</b> (densecrf 2.2 does not subtract the self term, unlike Algorithm 1 of the paper).
 *     This normalisation cancels any constant factor of the lattice.</li>
 * <li>Potts compat w: the update is Q_i(l) ∝ exp(-U_i(l) + Σ_m w_m (D^-1/2 K_m D^-1/2 Q)_i(l)), i.e. energy -w
 *     for agreeing labels. Q starts as softmax(-U) and is updated {@code iterations} times (0 returns softmax(-U)).</li>
 * </ul>
 *
 * Unaries U are energies (nLabels x H x W, label-major) from {@link Unary}; Q is returned in the same layout.
 */
public final class DenseCrf {
    private DenseCrf() { }

    /** IRNet's gt_prob in {@code crf_inference_label}. */
    public static final float IRN_GT_PROB = 0.7f;

    /** Mean-field marginals Q (nLabels x H x W) for unary energies U (nLabels x H x W) on image img. */
    public static float[] inferProbs(float[] unary, RgbImage img, int nLabels, CrfParams p) {
        int w = img.w(), h = img.h(), n = w * h;
        if (nLabels < 1) throw new IllegalArgumentException("nLabels must be >= 1, got " + nLabels);
        if (unary.length != (long) nLabels * n)
            throw new IllegalArgumentException("unary has " + unary.length + " values, expected nLabels x H x W = "
                    + nLabels + " x " + h + " x " + w);
        for (int i = 0; i < unary.length; i++)
            if (!Float.isFinite(unary[i]))
                throw new IllegalArgumentException("unary energy " + unary[i] + " at label " + i / n + ", pixel (x="
                        + i % n % w + ", y=" + i % n / w + ") is not finite");
        int L = nLabels;
        float[] negU = new float[n * L];          // pixel-major (N x L): one pixel's labels are contiguous
        for (int c = 0; c < L; c++) for (int i = 0; i < n; i++) negU[i * L + c] = -unary[c * n + i];

        Kernel[] kernels = {
                p.gaussCompat() == 0 ? null : new Kernel(positions(w, h, p.gaussSxy()), n, 2, p.gaussCompat()),
                p.bilatCompat() == 0 ? null : new Kernel(bilateral(img, p.bilatSxy(), p.bilatSrgb()), n, 5, p.bilatCompat())};

        float[] q = negU.clone();
        softmaxRows(q, n, L);
        float[] acc = new float[n * L], msg = new float[n * L];
        for (int it = 0; it < p.iterations(); it++) {
            System.arraycopy(negU, 0, acc, 0, acc.length);
            for (Kernel k : kernels) if (k != null) k.addMessage(q, msg, acc, L);
            float[] t = q; q = acc; acc = t;
            softmaxRows(q, n, L);
        }
        float[] out = new float[L * n];
        for (int c = 0; c < L; c++) for (int i = 0; i < n; i++) out[c * n + i] = q[i * L + c];
        return out;
    }

    /** Argmax over labels of {@link #inferProbs} (first label on ties, as numpy). */
    public static int[] inferLabels(float[] unary, RgbImage img, int nLabels, CrfParams p) {
        return argmax(inferProbs(unary, img, nLabels, p), nLabels);
    }

    /** IRNet {@code crf_inference_label}: hard labels 0..nLabels-1 refined with gt_prob 0.7 and {@link CrfParams#IRN_LABEL}. */
    public static int[] irnLabel(RgbImage img, int[] labels, int nLabels) {
        return inferLabels(Unary.fromLabels(labels, nLabels, IRN_GT_PROB, false), img, nLabels, CrfParams.IRN_LABEL);
    }

    /** deeplab-pytorch {@code DenseCRF.__call__}: probabilities (nLabels x H x W) to refined Q, {@link CrfParams#DEEPLAB}. */
    public static float[] deeplab(RgbImage img, float[] probs, int nLabels) {
        return inferProbs(Unary.fromSoftmax(probs, nLabels), img, nLabels, CrfParams.DEEPLAB);
    }

    /** Per-pixel argmax of label-major scores (nLabels x N). */
    public static int[] argmax(float[] q, int nLabels) { return conta.tensor.HostWsss.argmax(q, nLabels); }

    static float[] positions(int w, int h, float sxy) {
        float[] f = new float[w * h * 2];
        for (int y = 0, i = 0; y < h; y++)
            for (int x = 0; x < w; x++, i++) { f[2 * i] = x / sxy; f[2 * i + 1] = y / sxy; }
        return f;
    }

    static float[] bilateral(RgbImage img, float sxy, float srgb) {
        int w = img.w(), n = w * img.h();
        byte[] rgb = img.rgb();
        float[] f = new float[n * 5];
        for (int i = 0; i < n; i++) {
            f[5 * i] = (i % w) / sxy;
            f[5 * i + 1] = (i / w) / sxy;
            for (int c = 0; c < 3; c++) f[5 * i + 2 + c] = (rgb[3 * i + c] & 0xFF) / srgb;
        }
        return f;
    }

    /** Softmax of each pixel's row of L values, in place, max-shifted. */
    private static void softmaxRows(float[] a, int n, int L) {
        Par.forRange(n, 4L * L, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int o = i * L;
                float mx = a[o];
                for (int c = 1; c < L; c++) mx = Math.max(mx, a[o + c]);
                float s = 0;
                for (int c = 0; c < L; c++) { float e = (float) Math.exp(a[o + c] - mx); a[o + c] = e; s += e; }
                float inv = 1 / s;
                for (int c = 0; c < L; c++) a[o + c] *= inv;
            }
        });
    }

    /** One pairwise term: lattice, symmetric normalisation and Potts weight. */
    private static final class Kernel {
        final PermutohedralLattice lattice;
        final float[] norm;     // 1 / sqrt(K·1 + 1e-20) per pixel
        final float compat;

        Kernel(float[] features, int n, int d, float compat) {
            lattice = new PermutohedralLattice(features, n, d);
            norm = new float[n];
            java.util.Arrays.fill(norm, 1f);
            lattice.filter(norm, norm, 1);
            for (int i = 0; i < n; i++) norm[i] = (float) (1.0 / Math.sqrt(norm[i] + 1e-20));
            this.compat = compat;
        }

        /** acc += compat · D^-1/2 K D^-1/2 q (pixel-major, L values per pixel); msg is scratch. */
        void addMessage(float[] q, float[] msg, float[] acc, int L) {
            int n = norm.length;
            Par.forRange(n, L, (lo, hi) -> {
                for (int i = lo; i < hi; i++) for (int c = 0; c < L; c++) msg[i * L + c] = q[i * L + c] * norm[i];
            });
            lattice.filter(msg, msg, L);
            Par.forRange(n, L, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    float s = compat * norm[i];
                    for (int c = 0; c < L; c++) acc[i * L + c] += s * msg[i * L + c];
                }
            });
        }
    }
}
