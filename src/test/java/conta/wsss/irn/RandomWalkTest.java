package conta.wsss.irn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.tensor.Backend;
import conta.tensor.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RandomWalkTest {
    static Backend be;

    @BeforeAll
    static void open() { be = new CpuBackend(); }

    @AfterAll
    static void close() { be.close(); }

    /** Two pixels: T = [[1, a], [a, 1]] / (1 + a), so x T^n = (s + d l^n, s - d l^n) / 2 with l = (1 - a) / (1 + a). */
    @Test
    void twoPixelsMatchClosedForm() {
        float[] boundary = {0f, 0.5f}, cams = {1f, 0.6f};
        double a = Math.pow(0.5, 10), l = (1 - a) / (1 + a);
        double x0 = 1, x1 = 0.6 * 0.5, s = x0 + x1, d = x0 - x1; // cams * (1 - boundary)
        for (int e : new int[]{0, 3, 8}) {
            float[] rw = new RandomWalk(new RandomWalk.Params(5, 10, e, 0.25f)).propagate(cams, 1, boundary, 1, 2);
            double ln = Math.pow(l, 1 << e);
            assertEquals((s + d * ln) / 2, rw[0], 1e-6, "exp " + e);
            assertEquals((s - d * ln) / 2, rw[1], 1e-6, "exp " + e);
        }
    }

    /** Against a float64 dense walk whose affinities come from the geometric definition written out here. */
    @Test
    void matchesFloat64BruteForce() {
        Random rnd = new Random(7);
        int h = 10, w = 13, k = 2, n = h * w, r = 5;
        float[] cams = WalkFixtures.cams(rnd, k, h, w), b = WalkFixtures.boundary(rnd, h, w);
        double[][] t = new double[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                int dy = j / w - i / w, dx = j % w - i % w;
                if (i == j) { t[i][j] = 1; continue; } // IRNet's identity self-loop, whatever the boundary
                if (dy * dy + dx * dx >= r * r) continue;
                double m = 0; // max boundary over cells of the box within distance < 1 of the segment's line
                for (int y = Math.min(i / w, j / w); y <= Math.max(i / w, j / w); y++)
                    for (int x = Math.min(i % w, j % w); x <= Math.max(i % w, j % w); x++) {
                        double cr = (double) dy * (x - i % w) - (double) dx * (y - i / w);
                        if (cr * cr / (dy * dy + dx * dx) < 1) m = Math.max(m, b[y * w + x]);
                    }
                t[i][j] = Math.pow(1 - m, 10);
            }
        for (int j = 0; j < n; j++) { // column-normalise
            double s = 0;
            for (int i = 0; i < n; i++) s += t[i][j];
            for (int i = 0; i < n; i++) t[i][j] /= s;
        }
        for (int e = 0; e < 8; e++) t = square(t);
        float[] rw = new RandomWalk(RandomWalk.Params.IRNET).propagate(cams, k, b, h, w);
        double worst = 0, max = 0;
        for (int c = 0; c < k; c++)
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int i = 0; i < n; i++) v += cams[c * n + i] * (1 - b[i]) * t[i][j];
                worst = Math.max(worst, Math.abs(v - rw[c * n + j]));
                max = Math.max(max, Math.abs(v));
            }
        // measured 2.7e-5: float32 rounding over 256 steps (row vs column normalisation would be off by > 1e-2)
        assertTrue(worst / max < 1e-4, "sparse float32 vs float64 brute force: max rel err " + worst / max);
    }

    @Test
    void sparseAgreesWithDenseSgemm() {
        RandomWalk rw = new RandomWalk(RandomWalk.Params.IRNET);
        int k = 3;
        long agree = 0, total = 0;
        double worstProb = 0;
        int[][] grids = {{30, 40}, {32, 24}}; // h, w; dense cost 16 (hw)^3 flops, ~27 GFLOP for 40x30
        for (long seed = 1; seed <= grids.length; seed++) {
            int h = grids[(int) seed - 1][0], w = grids[(int) seed - 1][1], outH = 4 * h - 2, outW = 4 * w - 3;
            Random rnd = new Random(seed);
            float[] cams = WalkFixtures.cams(rnd, k, h, w), b = WalkFixtures.boundary(rnd, h, w);
            float[] sparse = rw.propagate(cams, k, b, h, w);
            float[] dense = DenseWalk.propagate(be, rw.params(), cams, k, b, h, w);
            float[] ps = WalkFixtures.scores(rw, be, sparse, k, h, w, outH, outW), pd = WalkFixtures.scores(rw, be, dense, k, h, w, outH, outW);
            for (int i = 0; i < ps.length; i++) worstProb = Math.max(worstProb, Math.abs(ps[i] - pd[i]));
            int[] ids = {3, 7, 15};
            byte[] ls = WalkFixtures.labels(ps, k + 1, ids, outH, outW), ld = WalkFixtures.labels(pd, k + 1, ids, outH, outW);
            for (int i = 0; i < ls.length; i++) if (ls[i] == ld[i]) agree++;
            total += ls.length;
        }
        double agreement = (double) agree / total;
        System.out.printf("sparse vs dense (40x30 and 24x32 grids): label agreement %.6f, max |score diff| %.3e%n", agreement, worstProb);
        assertTrue(agreement >= 0.999, "label agreement " + agreement);
        assertTrue(worstProb < 2e-4, "max score difference " + worstProb); // measured 4.4e-5
    }

    @Test
    void scoresAndLabelsFollowIrnet() {
        RandomWalk rw = new RandomWalk(RandomWalk.Params.IRNET);
        // constant walk maps 0.2 and 0.8 on a 1x1 grid: normalised 0.25 (ties the bg plane, bg wins) and 1.0
        float[] s = WalkFixtures.scores(rw, be, new float[]{0.2f, 0.8f}, 2, 1, 1, 3, 4);
        assertEquals(3 * 12, s.length);
        for (int i = 0; i < 12; i++) {
            assertEquals(0.25f, s[i]);
            assertEquals(0.25f, s[12 + i], 1e-7);
            assertEquals(1f, s[24 + i], 1e-7);
        }
        assertArrayEquals(filled(12, (byte) 9), WalkFixtures.labels(s, 3, new int[]{4, 9}, 3, 4));
        float[] s2 = WalkFixtures.scores(rw, be, new float[]{0.2f, 0.05f}, 2, 1, 1, 3, 4); // 1.0 and 0.25
        assertArrayEquals(filled(12, (byte) 4), WalkFixtures.labels(s2, 3, new int[]{4, 9}, 3, 4));
        // no CAM mass at all: IRNet would divide by zero; here every pixel is background
        byte[] none = rw.segment(be, new float[2 * 6], new int[]{4, 9}, new float[6], 2, 3, 8, 12);
        assertArrayEquals(new byte[96], none);
        byte[] noClass = rw.segment(be, new float[0], new int[0], new float[6], 2, 3, 8, 12);
        assertArrayEquals(new byte[96], noClass);
    }

    @Test
    void badShapesAreRejected() {
        RandomWalk rw = new RandomWalk(RandomWalk.Params.IRNET);
        assertThrows(IllegalArgumentException.class, () -> rw.propagate(new float[5], 1, new float[6], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> rw.propagate(new float[6], 1, new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> rw.segment(be, new float[6], new int[]{1}, new float[6], 2, 3, 9, 12));
        assertThrows(IllegalArgumentException.class, () -> rw.segment(be, new float[6], new int[]{0}, new float[6], 2, 3, 8, 12));
    }

    @Test
    void segmentOnTheSeamEqualsTheHostReference() {
        RandomWalk rw = new RandomWalk(new RandomWalk.Params(5, 10, 4, 0.25f));
        for (long seed = 11; seed <= 13; seed++) {
            Random rnd = new Random(seed);
            int k = 1 + (int) (seed % 3), h = 9 + (int) seed % 4, w = 14 - (int) seed % 3, outH = 4 * h - 3, outW = 4 * w - 1;
            float[] cams = WalkFixtures.cams(rnd, k, h, w), b = WalkFixtures.boundary(rnd, h, w);
            int[] ids = new int[k];
            for (int c = 0; c < k; c++) ids[c] = 2 + 3 * c;
            byte[] ref = WalkFixtures.labels(WalkFixtures.scores(rw, be, rw.propagate(cams, k, b, h, w), k, h, w, outH, outW), k + 1, ids, outH, outW);
            byte[] got = rw.segment(be, cams, ids, b, h, w, outH, outW);
            assertArrayEquals(ref, got, "seed " + seed);
            java.util.Set<Byte> seen = new java.util.HashSet<>();
            for (byte v : got) seen.add(v);
            assertTrue(seen.size() >= 2, "a non-trivial labelling: " + seen);
        }
    }

    static byte[] filled(int n, byte v) {
        byte[] a = new byte[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    static double[][] square(double[][] a) {
        int n = a.length;
        double[][] c = new double[n][n];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) {
                double v = a[i][k];
                if (v == 0) continue;
                for (int j = 0; j < n; j++) c[i][j] += v * a[k][j];
            }
        return c;
    }
}
