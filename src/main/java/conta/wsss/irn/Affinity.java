package conta.wsss.irn;

import conta.autograd.Tape;
import conta.tensor.Backend;
import conta.tensor.Tensor;

/**
 * IRNet's training affinities and their loss (net/resnet50_irn.py edge_to_affinity, step/train_irn.py).
 *
 * <p>Pairs follow IRNet's layout on an h x w grid: for direction d of the {@link PathIndex} and source p of its
 * source region, the pair (source p, source p + offset(d)); affinities are N x D x P. Both ops run on the host
 * (gather / scatter have no backend primitive yet) and record their backward on the current {@link Tape}.
 */
public final class Affinity {
    private Affinity() { }

    /** IRNet's epsilon inside the logs. */
    static final double EPS = 1e-5;

    /**
     * aff[n, d, p] = 1 - max of the boundary over the path of pair (d, p), for boundary probabilities N x 1 x h x w.
     * Backward routes -grad to the path cell holding the maximum (the first one on ties, as max_pool2d).
     */
    public static Tensor fromBoundary(Tensor boundary, PathIndex index) {
        if (boundary.rank() != 4 || boundary.dim(1) != 1)
            throw new IllegalArgumentException("boundary must be N x 1 x H x W, got " + boundary.shapeString());
        Backend b = boundary.backend();
        int n = boundary.dim(0), h = boundary.dim(2), w = boundary.dim(3), hw = h * w;
        int dirs = index.directions(), p = index.sources(h, w);
        float[] e = boundary.toArray();
        float[] aff = new float[n * dirs * p];
        int[] at = new int[aff.length]; // flat boundary index of each maximum
        for (int d = 0; d < dirs; d++) {
            int[] py = index.pathY(d), px = index.pathX(d), cell = new int[py.length];
            for (int c = 0; c < cell.length; c++) cell[c] = py[c] * w + px[c];
            for (int q = 0; q < p; q++) {
                int s = index.source(q, h, w);
                for (int im = 0; im < n; im++) {
                    int base = im * hw + s, best = base + cell[0];
                    for (int c = 1; c < cell.length; c++) if (e[base + cell[c]] > e[best]) best = base + cell[c];
                    int o = (im * dirs + d) * p + q;
                    aff[o] = 1f - e[best];
                    at[o] = best;
                }
            }
        }
        Tensor y = Tape.track(Tensor.of(b, aff, n, dirs, p));
        if (Tape.needs(boundary)) Tape.record("edgeToAffinity", y, gy -> {
            float[] g = gy.toArray(), ge = new float[n * hw];
            for (int i = 0; i < g.length; i++) ge[at[i]] -= g[i];
            Tape.accumulate(boundary, Tensor.of(b, ge, boundary.shape()));
        });
        return y;
    }

    /** IRNet's affinity loss terms (each averaged over its pairs) and the total (bgPos/2 + fgPos/2 + neg)/2. */
    public record Loss(Tensor total, float bgPos, float fgPos, float neg, long bgPairs, long fgPairs, long negPairs) { }

    /**
     * The boundary loss from IR labels N x h x w at stride 4 (unsigned bytes: 0 background, k class, 255 ignore):
     * bgPos pairs have both ends 0, fgPos the same class > 0, neg different classes, pairs touching 255 are skipped
     * (IRNet tests label < 21, the same on VOC). Positive pairs cost -log(1e-5 + aff), negative ones
     * -log(1e-5 + 1 - aff); each term is divided by (its pair count + 1e-5) as IRNet does.
     */
    public static Loss loss(Tensor aff, byte[] labels, int h, int w, PathIndex index) {
        int n = aff.dim(0), dirs = index.directions(), p = index.sources(h, w), hw = h * w;
        if (aff.rank() != 3 || aff.dim(1) != dirs || aff.dim(2) != p)
            throw new IllegalArgumentException("affinities " + aff.shapeString() + " do not match " + dirs + " directions x "
                    + p + " sources of a " + w + "x" + h + " grid");
        if (labels.length != (long) n * hw)
            throw new IllegalArgumentException(labels.length + " labels for " + n + " maps of " + w + "x" + h);
        float[] a = aff.toArray();
        byte[] kind = new byte[a.length]; // 0 none, 1 bg pos, 2 fg pos, 3 neg
        long[] count = new long[4];
        for (int im = 0; im < n; im++)
            for (int d = 0; d < dirs; d++) {
                int off = index.dy(d) * w + index.dx(d);
                for (int q = 0; q < p; q++) {
                    int s = im * hw + index.source(q, h, w);
                    int from = labels[s] & 0xff, to = labels[s + off] & 0xff;
                    if (from == 255 || to == 255) continue;
                    int k = from != to ? 3 : from == 0 ? 1 : 2;
                    int o = (im * dirs + d) * p + q;
                    kind[o] = (byte) k;
                    count[k]++;
                }
            }
        double[] sum = new double[4];
        for (int i = 0; i < a.length; i++)
            if (kind[i] != 0) sum[kind[i]] -= Math.log(EPS + (kind[i] == 3 ? 1.0 - a[i] : a[i]));
        double bg = sum[1] / (count[1] + EPS), fg = sum[2] / (count[2] + EPS), neg = sum[3] / (count[3] + EPS);
        Backend b = aff.backend();
        Tensor total = Tape.track(Tensor.of(b, new float[]{(float) ((bg / 2 + fg / 2 + neg) / 2)}, 1));
        if (Tape.needs(aff)) Tape.record("affinityLoss", total, gy -> {
            double s = gy.item();
            // d total / d term: 1/4 for bgPos and fgPos, 1/2 for neg; each term divides by its count
            double[] coef = {0, s / 4 / (count[1] + EPS), s / 4 / (count[2] + EPS), s / 2 / (count[3] + EPS)};
            float[] g = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                int k = kind[i];
                if (k == 0) continue;
                g[i] = (float) (k == 3 ? coef[3] / (EPS + 1.0 - a[i]) : -coef[k] / (EPS + a[i]));
            }
            Tape.accumulate(aff, Tensor.of(b, g, aff.shape()));
        });
        return new Loss(total, (float) bg, (float) fg, (float) neg, count[1], count[2], count[3]);
    }
}
