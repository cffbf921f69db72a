package conta.tensor;

/**
 * The random walk's affinity graph A for one boundary map, stored per direction: weight[d][p] = (1 - max boundary on
 * the path from p to p + offset(d))^beta, 0 where the neighbour lies outside the image. The grid is padded by
 * radiusFloor on every side so that the mat-vec needs no bounds checks (IRNet pads with boundary 1, which also gives
 * affinity 0 there). Together with the self-loop of weight 1, A is symmetric, so A's column sums are its row sums.
 * The CPU side of {@link WsssOps#randomWalk} (kernels/walk.cu is the CUDA side, on the unpadded grid).
 */
final class SparseAffinity {
    private final int w, pad, pw, ph, dirs;
    private final int[] offset;
    private final float[][] weight, incoming; // incoming[d][p] = weight[d][p - offset(d)]: the pair ending at p
    private final float[] degree;

    SparseAffinity(WalkPaths index, float[] boundary, int h, int w, double beta) {
        this.w = w;
        this.pad = index.pad();
        this.pw = w + 2 * pad;
        this.ph = h + 2 * pad;
        this.dirs = index.directions();
        offset = new int[dirs];
        weight = new float[dirs][ph * pw];
        degree = new float[ph * pw];
        for (int d = 0; d < dirs; d++) {
            int dy = index.dy()[d], dx = index.dx()[d];
            int[] py = index.pathY()[d], px = index.pathX()[d];
            offset[d] = dy * pw + dx;
            for (int y = 0; y < h; y++) {
                if (y + dy >= h) break;
                for (int x = 0; x < w; x++) {
                    if (x + dx < 0 || x + dx >= w) continue;
                    float m = 0f;
                    for (int c = 0; c < py.length; c++) m = Math.max(m, boundary[(y + py[c]) * w + x + px[c]]);
                    float a = affinityPow(1f - m, beta);
                    weight[d][(y + pad) * pw + x + pad] = a < MIN_WEIGHT ? 0f : a;
                }
            }
        }
        incoming = new float[dirs][ph * pw];
        for (int d = 0; d < dirs; d++)
            for (int p = offset[d] > 0 ? offset[d] : 0; p < ph * pw && p - offset[d] < ph * pw; p++) incoming[d][p] = weight[d][p - offset[d]];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int p = (y + pad) * pw + x + pad;
                double s = 1.0; // the self-loop
                for (int d = 0; d < dirs; d++) s += weight[d][p] + weight[d][p - offset[d]];
                degree[p] = (float) s;
            }
    }

    /**
     * Weights below this are dropped, and {@link #step} flushes values below its floor to zero: x86 CPUs multiply
     * subnormal floats (below 1.2e-38, which aff^10 and long walks produce) up to 100x slower. The change per step is
     * at most 68 x 1e-20 of the largest value, far below float resolution of the normalised scores.
     */
    static final float MIN_WEIGHT = 1e-20f;

    /** aff^beta rounded to float, as torch.pow on IRNet's float tensor. */
    static float affinityPow(float a, double beta) { return (float) Math.pow(a, beta); }

    int pad() { return pad; }

    int paddedWidth() { return pw; }

    int paddedSize() { return ph * pw; }

    /** Grid-indexed (unpadded) degree: A's column sum at (y, x). */
    float degree(int y, int x) { return degree[(y + pad) * pw + x + pad]; }

    /** Grid-indexed weight of the pair ((y, x), (y, x) + offset(d)); 0 if the neighbour is outside. */
    float weight(int d, int y, int x) { return weight[d][(y + pad) * pw + x + pad]; }

    /**
     * One step of x <- x T on rows [y0, y1) (padded arrays): out_j = (x_j + sum_i A_ij x_i) / colsum_j, the product
     * IRNet computes as matmul(x, T) with T = A / A.sum(dim=0). Results below floor become 0 (see MIN_WEIGHT).
     */
    void step(float[] in, float[] out, int y0, int y1, float floor) {
        float[] acc = new float[w];
        for (int y = y0; y < y1; y++) {
            int row = (y + pad) * pw + pad;
            System.arraycopy(in, row, acc, 0, w); // the self-loop
            for (int d = 0; d < dirs; d++) { // contiguous along the row, so the JIT vectorises it
                float[] wf = weight[d], wb = incoming[d];
                int o = offset[d], a = row + o, b = row - o;
                for (int x = 0; x < w; x++) acc[x] += wf[row + x] * in[a + x] + wb[row + x] * in[b + x];
            }
            for (int x = 0; x < w; x++) {
                float v = acc[x] / degree[row + x];
                out[row + x] = Math.abs(v) < floor ? 0f : v;
            }
        }
    }
}
