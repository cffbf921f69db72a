package conta.wsss.crf;

import java.util.Arrays;

/**
 * Permutohedral lattice (Adams, Baek and Davis 2010) for Gaussian filtering in d dimensions:
 * out_i ≈ alpha · Σ_j exp(-|f_i - f_j|² / 2) · in_j, with features f already divided by their standard deviations.
 *
 * <p>Same construction as densecrf's {@code Permutohedral} (which pydensecrf wraps): each point is lifted onto the
 * plane Σ = 0 in R^{d+1} scaled by sqrt(2/3)(d+1), its enclosing simplex found by rounding and ranking, and its d+1
 * vertices stored with barycentric weights. {@link #filter} splats values onto the vertices, blurs with [1/2, 1, 1/2]
 * along each of the d+1 lattice directions and slices back, times densecrf's constant 1/(1+2^-d). The lattice
 * includes the self contribution (j = i). Splat is done as a gather per vertex (a transposed index built here),
 * so every step runs in parallel without races and the result does not depend on the thread count.
 */
final class PermutohedralLattice {
    final int n;          // points
    final int d;          // feature dimensions
    final int m;          // lattice vertices
    private final int[] offset;        // n x (d+1): vertex index of each simplex corner
    private final float[] bary;        // n x (d+1): barycentric weight of each corner
    private final int[] splatStart;    // m+1: CSR rows of (point, corner) pairs per vertex
    private final int[] splatPoint;    // point of each pair
    private final float[] splatWeight; // its barycentric weight
    private final int[] neighbours;    // (d+1) x m x 2: vertex index of the -/+ neighbour along each direction, or -1

    /** features: n points x d values, row-major. Simplices and neighbours in parallel, hashing on one thread. */
    PermutohedralLattice(float[] features, int n, int d) {
        if (d < 1 || n < 1 || features.length != (long) n * d)
            throw new IllegalArgumentException("lattice needs n x d features, got " + features.length + " for n=" + n + " d=" + d);
        this.n = n;
        this.d = d;
        int d1 = d + 1;
        offset = new int[n * d1];
        bary = new float[n * d1];
        int[] keys = new int[n * d1 * d];      // key of each (point, corner)
        Par.forRange(n, 40L * d1 * d1, (lo, hi) -> simplices(features, lo, hi, keys));

        KeyTable table = new KeyTable(d, Math.max(16, n));
        int[] key = new int[d];
        for (int e = 0; e < n * d1; e++) {
            System.arraycopy(keys, e * d, key, 0, d);
            offset[e] = table.insert(key);
        }
        m = table.size();

        // Transposed index for splatting as a gather, in point order (deterministic sums).
        splatStart = new int[m + 1];
        for (int e = 0; e < n * d1; e++) splatStart[offset[e] + 1]++;
        for (int v = 0; v < m; v++) splatStart[v + 1] += splatStart[v];
        splatPoint = new int[n * d1];
        splatWeight = new float[n * d1];
        int[] fill = Arrays.copyOf(splatStart, m);
        for (int e = 0; e < n * d1; e++) {
            int s = fill[offset[e]]++;
            splatPoint[s] = e / d1;
            splatWeight[s] = bary[e];
        }

        // Neighbours along direction j: key - 1 on every coordinate except j, which moves by +d (and mirrored).
        neighbours = new int[d1 * m * 2];
        Par.forRange(m, 20L * d1 * d, (lo, hi) -> {
            int[] n1 = new int[d], n2 = new int[d];
            for (int v = lo; v < hi; v++)
                for (int j = 0; j <= d; j++) {
                    for (int k = 0; k < d; k++) {
                        int kv = table.keyAt(v, k);
                        n1[k] = kv - 1;
                        n2[k] = kv + 1;
                    }
                    if (j < d) {
                        n1[j] = table.keyAt(v, j) + d;
                        n2[j] = table.keyAt(v, j) - d;
                    }
                    neighbours[(j * m + v) * 2] = table.find(n1);
                    neighbours[(j * m + v) * 2 + 1] = table.find(n2);
                }
        });
    }

    /** Enclosing simplex of points [lo, hi): corner keys into keys, barycentric weights into bary. */
    private void simplices(float[] features, int lo, int hi, int[] keys) {
        int d1 = d + 1;
        // Canonical simplex: row r (remainder) gives the key offset for a coordinate of rank k.
        int[] canonical = new int[d1 * d1];
        for (int r = 0; r <= d; r++) {
            for (int k = 0; k <= d - r; k++) canonical[r * d1 + k] = r;
            for (int k = d - r + 1; k <= d; k++) canonical[r * d1 + k] = r - d1;
        }
        float invStd = (float) (Math.sqrt(2.0 / 3.0) * d1);
        float[] scale = new float[d];
        for (int i = 0; i < d; i++) scale[i] = (float) (1.0 / Math.sqrt((double) (i + 2) * (i + 1)) * invStd);

        float[] elevated = new float[d1];
        int[] rem0 = new int[d1];
        int[] rank = new int[d1];
        float[] b = new float[d + 2];
        float down = 1.0f / d1;
        for (int p = lo; p < hi; p++) {
            // Elevate onto the plane (E p in the paper), scaled so that the blur below has standard deviation 1.
            float sm = 0;
            for (int j = d; j > 0; j--) {
                float cf = features[p * d + j - 1] * scale[j - 1];
                elevated[j] = sm - j * cf;
                sm += cf;
            }
            elevated[0] = sm;
            // Nearest remainder-0 point: round each coordinate to a multiple of d+1.
            int sum = 0;
            for (int i = 0; i <= d; i++) {
                float v = down * elevated[i];
                float up = (float) Math.ceil(v) * d1, dn = (float) Math.floor(v) * d1;
                rem0[i] = (int) (up - elevated[i] < elevated[i] - dn ? up : dn);
                sum += rem0[i] / d1;
            }
            // Rank of each coordinate's residual; then move back onto the plane if rounding left it (sum != 0).
            Arrays.fill(rank, 0);
            for (int i = 0; i < d; i++) {
                float di = elevated[i] - rem0[i];
                for (int j = i + 1; j <= d; j++) {
                    if (di < elevated[j] - rem0[j]) rank[i]++;
                    else rank[j]++;
                }
            }
            for (int i = 0; i <= d; i++) {
                rank[i] += sum;
                if (rank[i] < 0) { rank[i] += d1; rem0[i] += d1; }
                else if (rank[i] > d) { rank[i] -= d1; rem0[i] -= d1; }
            }
            Arrays.fill(b, 0);
            for (int i = 0; i <= d; i++) {
                float v = (elevated[i] - rem0[i]) * down;
                b[d - rank[i]] += v;
                b[d - rank[i] + 1] -= v;
            }
            b[0] += 1.0f + b[d + 1];
            for (int r = 0; r <= d; r++) {
                int e = p * d1 + r;
                for (int i = 0; i < d; i++) keys[e * d + i] = rem0[i] + canonical[r * d1 + rank[i]];
                bary[e] = b[r];
            }
        }
    }

    private float[] bufA = new float[0], bufB = new float[0];   // vertex values, reused across filter calls

    /**
     * out[i*vs + k] = alpha · Σ_j K(f_i, f_j) in[j*vs + k] (lattice approximation), vs values per point.
     * in and out may be the same array. Not thread-safe: one lattice serves one inference at a time.
     */
    void filter(float[] in, float[] out, int vs) {
        if (in.length != (long) n * vs || out.length != (long) n * vs)
            throw new IllegalArgumentException("filter needs " + (long) n * vs + " values, got " + in.length + " and " + out.length);
        int d1 = d + 1;
        // Vertex values shifted by one: slot 0 stays zero and stands for a missing neighbour. Every vertex has at
        // least one splat entry and every pass writes rows 1..m in full, so the buffers need no clearing.
        if (bufA.length != (m + 1) * vs) { bufA = new float[(m + 1) * vs]; bufB = new float[(m + 1) * vs]; }
        float[] val = bufA, tmp = bufB, sp = bufA;
        Par.forRange(m, (long) vs * 8, (lo, hi) -> {
            for (int v = lo; v < hi; v++) {
                int o = (v + 1) * vs;
                Arrays.fill(sp, o, o + vs, 0f);
                for (int s = splatStart[v]; s < splatStart[v + 1]; s++) {
                    float w = splatWeight[s];
                    int src = splatPoint[s] * vs;
                    for (int k = 0; k < vs; k++) sp[o + k] += w * in[src + k];
                }
            }
        });
        for (int j = 0; j <= d; j++) {
            float[] a = val, c = tmp;
            int base = j * m * 2;
            Par.forRange(m, (long) vs * 3, (lo, hi) -> {
                for (int v = lo; v < hi; v++) {
                    int o = (v + 1) * vs;
                    int o1 = (neighbours[base + 2 * v] + 1) * vs, o2 = (neighbours[base + 2 * v + 1] + 1) * vs;
                    for (int k = 0; k < vs; k++) c[o + k] = a[o + k] + 0.5f * (a[o1 + k] + a[o2 + k]);
                }
            });
            float[] t = val; val = tmp; tmp = t;
        }
        float alpha = 1.0f / (1 + (float) Math.pow(2, -d));
        float[] res = val;
        Par.forRange(n, (long) vs * d1, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int o = i * vs;
                for (int k = 0; k < vs; k++) out[o + k] = 0;
                for (int r = 0; r < d1; r++) {
                    float w = bary[i * d1 + r] * alpha;
                    int src = (offset[i * d1 + r] + 1) * vs;
                    for (int k = 0; k < vs; k++) out[o + k] += w * res[src + k];
                }
            }
        });
    }

    /** Open-addressing table of integer keys (d ints each) to dense vertex indices. */
    private static final class KeyTable {
        private final int d;
        private int[] keys;     // size x d, in insertion order
        private int[] slots;    // hash slot -> vertex index, -1 empty
        private int size;

        KeyTable(int d, int expected) {
            this.d = d;
            int cap = Integer.highestOneBit(Math.max(expected, 8)) * 4;
            slots = new int[cap];
            Arrays.fill(slots, -1);
            keys = new int[Math.max(expected, 8) * d];
        }

        int size() { return size; }

        int keyAt(int v, int k) { return keys[v * d + k]; }

        int find(int[] key) {
            int mask = slots.length - 1;
            for (int s = hash(key) & mask; ; s = (s + 1) & mask) {
                int v = slots[s];
                if (v < 0) return -1;
                if (equal(v, key)) return v;
            }
        }

        int insert(int[] key) {
            if (2 * (size + 1) > slots.length) grow();
            int mask = slots.length - 1;
            for (int s = hash(key) & mask; ; s = (s + 1) & mask) {
                int v = slots[s];
                if (v < 0) {
                    if ((size + 1) * d > keys.length) keys = Arrays.copyOf(keys, keys.length * 2);
                    System.arraycopy(key, 0, keys, size * d, d);
                    slots[s] = size;
                    return size++;
                }
                if (equal(v, key)) return v;
            }
        }

        private boolean equal(int v, int[] key) {
            for (int k = 0; k < d; k++) if (keys[v * d + k] != key[k]) return false;
            return true;
        }

        private int hash(int[] key) {
            long h = 0;
            for (int k = 0; k < d; k++) h = (h + key[k]) * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29));
        }

        private void grow() {
            int[] old = slots;
            slots = new int[old.length * 2];
            Arrays.fill(slots, -1);
            int mask = slots.length - 1;
            int[] key = new int[d];
            for (int v = 0; v < size; v++) {
                System.arraycopy(keys, v * d, key, 0, d);
                int s = hash(key) & mask;
                while (slots[s] >= 0) s = (s + 1) & mask;
                slots[s] = v;
            }
        }
    }
}
