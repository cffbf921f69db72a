package conta.wsss.irn;

import conta.tensor.Backend;
import conta.tensor.Tensor;
import java.util.stream.IntStream;

/**
 * IRNet's semantic random walk (step/make_sem_seg_labels.py + misc/indexing.py propagate_to_edge) with a sparse
 * transition matrix. IRNet builds the dense HW x HW matrix T = A D^-1 (A = affinity^beta over the 68 neighbours and a
 * self-loop of 1, D = diag of A's column sums) and squares it expTimes times; here T^(2^expTimes) is applied as that
 * many sparse mat-vecs, which is the same product in a different association order: memory O(HW * directions).
 *
 * <p>All maps are host arrays in row-major order: CAMs K x h x w at stride 4 (the image's foreground classes only),
 * boundary h x w in [0, 1].
 */
public final class RandomWalk {
    /** IRNet's make_sem_seg_labels settings: radius 5, beta 10, exp_times 8, sem_seg_bg_thres 0.25. */
    public record Params(int radius, double beta, int expTimes, float bgThreshold) {
        public static final Params IRNET = new Params(5, 10, 8, 0.25f);

        public Params {
            if (expTimes < 0 || expTimes > 20) throw new IllegalArgumentException("expTimes must be in [0, 20], got " + expTimes);
            if (beta <= 0) throw new IllegalArgumentException("beta must be positive, got " + beta);
        }
    }

    private final Params params;
    private final PathIndex index;

    public RandomWalk(Params params) {
        this.params = params;
        this.index = new PathIndex(params.radius());
    }

    public Params params() { return params; }

    public PathIndex pathIndex() { return index; }

    /** Propagated CAMs, K x h x w: (cams * (1 - boundary)) T^(2^expTimes), as IRNet's propagate_to_edge. */
    public float[] propagate(float[] cams, int k, float[] boundary, int h, int w) {
        checkMaps(cams, k, boundary, h, w);
        SparseAffinity g = new SparseAffinity(index, boundary, h, w, params.beta());
        int pw = g.paddedWidth(), r = g.pad(), n = h * w;
        float[][] cur = new float[k][g.paddedSize()], next = new float[k][g.paddedSize()];
        for (int c = 0; c < k; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    cur[c][(y + r) * pw + x + r] = cams[c * n + y * w + x] * (1f - boundary[y * w + x]);
        int chunks = Math.min(h, 4 * Runtime.getRuntime().availableProcessors());
        long steps = 1L << params.expTimes();
        for (long s = 0; s < steps; s++) {
            float[][] src = cur, dst = next;
            IntStream.range(0, chunks).parallel().forEach(t -> {
                int y0 = (int) ((long) h * t / chunks), y1 = (int) ((long) h * (t + 1) / chunks);
                for (int c = 0; c < src.length; c++) g.step(src[c], dst[c], y0, y1);
            });
            cur = dst;
            next = src;
        }
        float[] out = new float[k * n];
        for (int c = 0; c < k; c++)
            for (int y = 0; y < h; y++) System.arraycopy(cur[c], (y + r) * pw + r, out, c * n + y * w, w);
        return out;
    }

    /**
     * Scores (K + 1) x outH x outW: the propagated maps upsampled x4 (bilinear, align_corners false), cropped to the
     * image, divided by their global maximum, after a constant background plane bgThreshold.
     */
    public float[] scores(Backend b, float[] rw, int k, int h, int w, int outH, int outW) {
        if (rw.length != (long) k * h * w) throw new IllegalArgumentException(rw.length + " walk values for " + k + " x " + h + " x " + w);
        if (outH > 4 * h || outW > 4 * w || outH <= 0 || outW <= 0)
            throw new IllegalArgumentException("image " + outW + "x" + outH + " does not fit the x4 upsampled grid " + 4 * w + "x" + 4 * h);
        int on = outH * outW;
        float[] out = new float[(k + 1) * on];
        java.util.Arrays.fill(out, 0, on, params.bgThreshold());
        if (k == 0) return out;
        float[] up;
        try (Tensor x = Tensor.of(b, rw, 1, k, h, w); Tensor y = b.empty(1, k, 4 * h, 4 * w)) {
            b.resizeBilinear(x, false, y);
            up = y.toArray();
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++)
            for (int yy = 0; yy < outH; yy++)
                for (int xx = 0; xx < outW; xx++) max = Math.max(max, up[(c * 4 * h + yy) * 4 * w + xx]);
        // IRNet divides by the max unguarded; an all-zero walk (no CAM mass) would give NaNs there, here all background
        float inv = max > 0 ? 1f / max : 0f;
        for (int c = 0; c < k; c++)
            for (int yy = 0; yy < outH; yy++)
                for (int xx = 0; xx < outW; xx++)
                    out[(c + 1) * on + yy * outW + xx] = up[(c * 4 * h + yy) * 4 * w + xx] * inv;
        return out;
    }

    /** Argmax over the K + 1 planes (first maximum wins, so background wins ties), mapped to class ids (unsigned bytes). */
    public static byte[] labels(float[] scores, int planes, int[] classIds, int outH, int outW) {
        int on = outH * outW;
        if (scores.length != (long) planes * on || classIds.length != planes - 1)
            throw new IllegalArgumentException(scores.length + " scores, " + classIds.length + " class ids for " + planes + " planes of " + outW + "x" + outH);
        byte[] out = new byte[on];
        for (int i = 0; i < on; i++) {
            int best = 0;
            float bv = scores[i];
            for (int c = 1; c < planes; c++) if (scores[c * on + i] > bv) { bv = scores[c * on + i]; best = c; }
            out[i] = (byte) (best == 0 ? 0 : classIds[best - 1]);
        }
        return out;
    }

    /**
     * The whole step for one image: pseudo-label map outH x outW of class ids (0 background). classIds[c] is the
     * dataset class id (1-based) of CAM channel c; the image is outH x outW and the stride-4 grid h x w covers it.
     */
    public byte[] segment(Backend b, float[] cams, int[] classIds, float[] boundary, int h, int w, int outH, int outW) {
        int k = classIds.length;
        for (int id : classIds) if (id < 1 || id > 254) throw new IllegalArgumentException("class id " + id + " outside 1..254");
        float[] rw = propagate(cams, k, boundary, h, w);
        return labels(scores(b, rw, k, h, w, outH, outW), k + 1, classIds, outH, outW);
    }

    static void checkMaps(float[] cams, int k, float[] boundary, int h, int w) {
        if (h <= 0 || w <= 0 || k < 0) throw new IllegalArgumentException("bad grid " + k + " x " + h + " x " + w);
        if (boundary.length != (long) h * w)
            throw new IllegalArgumentException("boundary has " + boundary.length + " values, grid is " + w + "x" + h);
        if (cams.length != (long) k * h * w)
            throw new IllegalArgumentException("CAMs have " + cams.length + " values, expected " + k + " x " + h + " x " + w);
    }
}
