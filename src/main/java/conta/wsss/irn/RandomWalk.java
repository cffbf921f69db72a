package conta.wsss.irn;

import conta.tensor.Backend;
import conta.tensor.HostWsss;
import conta.tensor.Tensor;
import conta.tensor.WalkPaths;
import conta.tensor.WsssOps;

/**
 * IRNet's semantic random walk (step/make_sem_seg_labels.py + misc/indexing.py propagate_to_edge) with a sparse
 * transition matrix. IRNet builds the dense HW x HW matrix T = A D^-1 (A = affinity^beta over the 68 neighbours and a
 * self-loop of 1, D = diag of A's column sums) and squares it expTimes times; here T^(2^expTimes) is applied as that
 * many sparse mat-vecs, which is the same product in a different association order: memory O(HW * directions). The
 * walk and the labelling run on the backend's {@link WsssOps}.
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
    private final WalkPaths paths;

    public RandomWalk(Params params) {
        this.params = params;
        this.index = new PathIndex(params.radius());
        this.paths = index.paths();
    }

    public Params params() { return params; }

    public PathIndex pathIndex() { return index; }

    /** Propagated CAMs, K x h x w: (cams * (1 - boundary)) T^(2^expTimes), as IRNet's propagate_to_edge (on the host). */
    public float[] propagate(float[] cams, int k, float[] boundary, int h, int w) {
        checkMaps(cams, k, boundary, h, w);
        if (k == 0) return new float[0];
        return HostWsss.walk(cams, k, boundary, h, w, paths, params.beta(), 1L << params.expTimes());
    }

    /**
     * The whole step for one image, on the backend's WSSS ops: pseudo-label map outH x outW of class ids (0 background).
     * classIds[c] is the dataset class id (1-based) of CAM channel c; the image is outH x outW and the stride-4 grid h x w
     * covers it. The walked maps are upsampled x4 (bilinear, align_corners false), cropped to the image, divided by their
     * global maximum (an all-zero walk gives all background, where IRNet's unguarded division gives NaNs) and put
     * against a constant background plane bgThreshold (ties go to the background).
     */
    public byte[] segment(Backend b, float[] cams, int[] classIds, float[] boundary, int h, int w, int outH, int outW) {
        int k = classIds.length;
        for (int id : classIds) if (id < 1 || id > 254) throw new IllegalArgumentException("class id " + id + " outside 1..254");
        checkMaps(cams, k, boundary, h, w);
        if (outH > 4 * h || outW > 4 * w || outH <= 0 || outW <= 0)
            throw new IllegalArgumentException("image " + outW + "x" + outH + " does not fit the x4 upsampled grid " + 4 * w + "x" + 4 * h);
        byte[] out = new byte[outH * outW];
        if (k == 0) return out;
        WsssOps ops = b.wsss();
        try (Tensor c = Tensor.of(b, cams, 1, k, h, w); Tensor bd = Tensor.of(b, boundary, 1, 1, h, w); Tensor rw = b.empty(1, k, h, w);
             Tensor up = Tensor.zeros(b, 1, k, outH, outW); Tensor lab = b.empty(1, outH, outW)) {
            ops.randomWalk(c, bd, paths, params.beta(), 1 << params.expTimes(), rw);
            ops.resizeCropAccumulate(rw, 4 * h, 4 * w, up);
            ops.normaliseMax(up, up.numel(), 0f);
            ops.seeds(up, params.bgThreshold(), params.bgThreshold(), 0, lab);
            float[] l = lab.toArray();
            for (int i = 0; i < l.length; i++) out[i] = (byte) (l[i] == 0f ? 0 : classIds[(int) l[i] - 1]);
        }
        return out;
    }

    static void checkMaps(float[] cams, int k, float[] boundary, int h, int w) {
        if (h <= 0 || w <= 0 || k < 0) throw new IllegalArgumentException("bad grid " + k + " x " + h + " x " + w);
        if (boundary.length != (long) h * w)
            throw new IllegalArgumentException("boundary has " + boundary.length + " values, grid is " + w + "x" + h);
        if (cams.length != (long) k * h * w)
            throw new IllegalArgumentException("CAMs have " + cams.length + " values, expected " + k + " x " + h + " x " + w);
    }
}
