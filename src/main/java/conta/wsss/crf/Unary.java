package conta.wsss.crf;

/** Unary energies (-log probabilities, nLabels x N, label-major) as pydensecrf.utils builds them. */
public final class Unary {
    private Unary() { }

    /** pydensecrf's clip floor in {@code unary_from_softmax}. */
    public static final float SOFTMAX_CLIP = 1e-5f;

    /**
     * {@code unary_from_labels(labels, nLabels, gtProb, zero_unsure)}: -log(gtProb) for the given label and
     * -log((1 - gtProb) / (nLabels - 1)) for every other one. With zeroUnsure, labels run 1..nLabels (row label-1)
     * and 0 means unknown: every row gets -log(1/nLabels). Without it (IRNet), labels run 0..nLabels-1.
     */
    public static float[] fromLabels(int[] labels, int nLabels, float gtProb, boolean zeroUnsure) {
        if (nLabels < 2) throw new IllegalArgumentException("unary from labels needs nLabels >= 2, got " + nLabels);
        if (!(gtProb > 0 && gtProb < 1)) throw new IllegalArgumentException("gtProb must be in (0, 1), got " + gtProb);
        int n = labels.length;
        int lo = 0, hi = zeroUnsure ? nLabels : nLabels - 1;
        // pydensecrf computes the energies in float64 and stores float32.
        float neg = (float) -Math.log((1.0 - gtProb) / (nLabels - 1));
        float pos = (float) -Math.log(gtProb);
        float unsure = (float) -Math.log(1.0 / nLabels);
        float[] u = new float[nLabels * n];
        java.util.Arrays.fill(u, neg);
        for (int i = 0; i < n; i++) {
            int l = labels[i];
            if (l < lo || l > hi)
                throw new IllegalArgumentException("label " + l + " at pixel " + i + " is outside " + lo + ".." + hi
                        + (zeroUnsure ? " (zeroUnsure: 0 = unknown, 1..nLabels)" : ""));
            if (zeroUnsure && l == 0) {
                for (int c = 0; c < nLabels; c++) u[c * n + i] = unsure;
            } else {
                u[(zeroUnsure ? l - 1 : l) * n + i] = pos;
            }
        }
        return u;
    }

    /** {@code unary_from_softmax(probs)}: -log(clip(p, 1e-5, 1)) over nLabels x N probabilities. */
    public static float[] fromSoftmax(float[] probs, int nLabels) {
        if (nLabels < 1 || probs.length == 0 || probs.length % nLabels != 0)
            throw new IllegalArgumentException("softmax of " + probs.length + " values is not nLabels=" + nLabels + " x N");
        float[] u = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            float p = probs[i];
            if (Float.isNaN(p))
                throw new IllegalArgumentException("NaN probability at label " + i / (probs.length / nLabels)
                        + ", pixel " + i % (probs.length / nLabels));
            u[i] = (float) -Math.log(Math.min(1f, Math.max(SOFTMAX_CLIP, p)));
        }
        return u;
    }
}
