package conta.wsss.irn;

import conta.tensor.Backend;
import conta.tensor.Tensor;

/**
 * IRNet's dense random walk, the test reference for {@link RandomWalk#propagate}: the HW x HW transition matrix
 * T = A / A.sum(dim=0) is built explicitly (affinities recomputed here from the path definitions, not taken from the
 * sparse graph), squared expTimes times with the backend's sgemm, and applied as cams (K x HW) times T. Memory is
 * 2 (HW)^2 floats (two matrices): small images only, or one run for the benchmark.
 */
public final class DenseWalk {
    private DenseWalk() { }

    public static float[] propagate(Backend b, RandomWalk.Params p, float[] cams, int k, float[] boundary, int h, int w) {
        RandomWalk.checkMaps(cams, k, boundary, h, w);
        int n = h * w;
        Tensor t = transition(b, p, boundary, h, w), t2 = b.empty(n, n);
        try {
            for (int s = 0; s < p.expTimes(); s++) {
                b.gemm(false, false, 1f, t, t, 0f, t2);
                Tensor tmp = t;
                t = t2;
                t2 = tmp;
            }
            float[] x = new float[k * n];
            for (int c = 0; c < k; c++) for (int i = 0; i < n; i++) x[c * n + i] = cams[c * n + i] * (1f - boundary[i]);
            try (Tensor xs = Tensor.of(b, x, k, n); Tensor out = b.empty(k, n)) {
                b.gemm(false, false, 1f, xs, t, 0f, out);
                return out.toArray();
            }
        } finally {
            t.close();
            t2.close();
        }
    }

    /** IRNet's T (HW x HW, row-major): T[i][j] = A[i][j] / sum_i A[i][j], self-loops A[i][i] = 1. The caller closes it. */
    public static Tensor transition(Backend b, RandomWalk.Params p, float[] boundary, int h, int w) {
        RandomWalk.checkMaps(new float[0], 0, boundary, h, w);
        PathIndex index = new PathIndex(p.radius());
        int n = h * w;
        // column sums of A = row sums (A symmetric), each pair visited from both ends
        double[] colSum = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 1.0;
            for (int d = 0; d < index.directions(); d++)
                for (int sign = -1; sign <= 1; sign += 2) s += pairAffinity(index, d, sign, i, boundary, h, w, p.beta());
            colSum[i] = s;
        }
        Tensor t = b.empty(n, n);
        try (Tensor row = b.empty(1, n)) {
            float[] r = new float[n];
            for (int i = 0; i < n; i++) {
                java.util.Arrays.fill(r, 0f);
                r[i] = (float) (1.0 / colSum[i]);
                for (int d = 0; d < index.directions(); d++)
                    for (int sign = -1; sign <= 1; sign += 2) {
                        int j = neighbour(index, d, sign, i, h, w);
                        if (j >= 0) r[j] = pairAffinity(index, d, sign, i, boundary, h, w, p.beta()) / (float) colSum[j];
                    }
                b.upload(row, r);
                b.copy(row, 0, t, (long) i * n, n);
            }
        }
        return t;
    }

    /** Flat index of i + sign * offset(d), or -1 outside the grid. */
    static int neighbour(PathIndex index, int d, int sign, int i, int h, int w) {
        int y = i / w + sign * index.dy(d), x = i % w + sign * index.dx(d);
        return y < 0 || y >= h || x < 0 || x >= w ? -1 : y * w + x;
    }

    /** A between i and its neighbour in direction sign * d: (1 - max boundary on the path)^beta, 0 outside. */
    static float pairAffinity(PathIndex index, int d, int sign, int i, float[] boundary, int h, int w, double beta) {
        if (neighbour(index, d, sign, i, h, w) < 0) return 0f;
        int y = i / w, x = i % w;
        int[] py = index.pathY(d), px = index.pathX(d);
        float m = 0f;
        for (int c = 0; c < py.length; c++) m = Math.max(m, boundary[(y + sign * py[c]) * w + x + sign * px[c]]);
        return (float) Math.pow(1f - m, beta); // aff^beta rounded to float, as torch.pow on IRNet's float tensor
    }
}
