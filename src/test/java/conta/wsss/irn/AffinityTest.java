package conta.wsss.irn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.Tape;
import conta.tensor.Backend;
import conta.tensor.GradCheck;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AffinityTest {
    static Backend be;

    @BeforeAll
    static void open() { be = new CpuBackend(); }

    @AfterAll
    static void close() { be.close(); }

    // radius 2: directions (0,1), (1,0), (1,-1), (1,1); on a 2x3 grid the only source is (0,1)
    static final PathIndex R2 = new PathIndex(2);
    static final float[] EDGE = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, /* image 2 */ 0.9f, 0f, 0.2f, 0.1f, 0.3f, 0.05f};
    static final byte[] LABELS = {0, 1, 0, (byte) 255, 1, 2, /* image 2 */ 0, 0, 0, 0, 0, 1};

    @Test
    void handWorkedAffinitiesAndLoss() {
        try (Tape tape = Tape.open(true)) {
            Tensor e = tape.keep(Tensor.of(be, EDGE, 2, 1, 2, 3));
            e.requiresGrad = true;
            Tensor aff = Affinity.fromBoundary(e, R2);
            assertArrayEquals(new int[]{2, 4, 1}, aff.shape());
            // image 1 paths from (0,1): {(0,1),(0,2)} max .3; {(0,1),(1,1)} .5; {(0,0),(0,1),(1,0),(1,1)} .5; {(0,1),(0,2),(1,1),(1,2)} .6
            // image 2: .2, .3, .9, .3
            assertArrayEquals(new float[]{0.7f, 0.5f, 0.5f, 0.4f, 0.8f, 0.7f, 0.1f, 0.7f}, aff.toArray(), 1e-6f);
            Affinity.Loss l = Affinity.loss(aff, LABELS, 2, 3, R2);
            // image 1 (label 1 at the source): neg, fg, ignored (255), neg; image 2 (label 0): bg, bg, bg, neg
            double eps = 1e-5;
            double bg = -(Math.log(0.8 + eps) + Math.log(0.7 + eps) + Math.log(0.1 + eps)) / (3 + eps);
            double fg = -Math.log(0.5 + eps) / (1 + eps);
            double neg = -(Math.log(1 + eps - 0.7) + Math.log(1 + eps - 0.4) + Math.log(1 + eps - 0.7)) / (3 + eps);
            assertEquals(3, l.bgPairs());
            assertEquals(1, l.fgPairs());
            assertEquals(3, l.negPairs());
            assertEquals(bg, l.bgPos(), 1e-6);
            assertEquals(fg, l.fgPos(), 1e-6);
            assertEquals(neg, l.neg(), 1e-6);
            assertEquals((bg / 2 + fg / 2 + neg) / 2, l.total().item(), 1e-6);
            tape.backward(l.total());
            float[] g = e.grad.toArray();
            // the 0.9 at image 2 (0,0) holds the max of the bg pair with aff 0.1: d total/d e = +(1/4)/(3+eps)/(0.1+eps)
            assertEquals(0.25 / (3 + eps) / (0.1 + eps), g[6], 1e-5);
            // image 1 cell (0,0) is on the ignored pair's path but not its max: no gradient
            assertEquals(0f, g[0]);
            e.close();
        }
    }

    /** Float64 finite differences of L = r . aff(e) and of the loss through the affinities. */
    @Test
    void gradientsMatchFiniteDifferences() {
        PathIndex pi = new PathIndex(3);
        int n = 2, h = 6, w = 7;
        Random rnd = new Random(3);
        double[] e = distinct(rnd, n * h * w);
        GradCheck.check("edgeToAffinity", new double[][]{e}, new boolean[]{true}, in -> refAffinity(in[0], n, h, w, pi),
                (in, r) -> {
                    try (Tape tape = Tape.open(true)) {
                        Tensor x = tape.keep(Tensor.of(be, in[0], n, 1, h, w));
                        x.requiresGrad = true;
                        Tensor aff = Affinity.fromBoundary(x, pi);
                        Tensor dot = weightedSum(aff, r);
                        tape.backward(dot);
                        float[] g = x.grad.toArray();
                        x.close();
                        return new float[][]{g};
                    }
                }, 11);
        byte[] labels = new byte[n * h * w];
        for (int i = 0; i < labels.length; i++) labels[i] = (byte) new int[]{0, 0, 1, 2, 255}[rnd.nextInt(5)];
        GradCheck.check("affinityLoss", new double[][]{e}, new boolean[]{true},
                in -> new double[]{refLoss(refAffinity(in[0], n, h, w, pi), labels, n, h, w, pi)},
                (in, r) -> {
                    try (Tape tape = Tape.open(true)) {
                        Tensor x = tape.keep(Tensor.of(be, in[0], n, 1, h, w));
                        x.requiresGrad = true;
                        Tensor loss = Affinity.loss(Affinity.fromBoundary(x, pi), labels, h, w, pi).total();
                        tape.backward(loss, r[0]);
                        float[] g = x.grad.toArray();
                        x.close();
                        return new float[][]{g};
                    }
                }, 12);
    }

    /**
     * The fused loss (what BoundaryNet trains with) gives the composed ops' numbers: the terms, counts and total
     * exactly, and the boundary gradient bit for bit, on random maps with ties (values on a coarse grid), ignored
     * pixels and several images, for two radii, source rows shorter and longer than a vector, and a backward seed
     * other than 1.
     */
    @Test
    void fusedLossEqualsTheComposedOps() {
        Random r = new Random(11);
        // widths: source rows of 13 and 9 cells (less than a vector) and of 37 (two full AVX-512 vectors and a part)
        for (int[] rw : new int[][]{{3, 17}, {5, 17}, {5, 45}}) {
            int radius = rw[0];
            PathIndex pi = new PathIndex(radius);
            int n = 3, h = 13, w = rw[1];
            float[] edge = new float[n * h * w];
            for (int i = 0; i < edge.length; i++) edge[i] = r.nextInt(8) / 8f; // ties: the first maximum must win in both
            byte[] labels = new byte[n * h * w];
            for (int i = 0; i < labels.length; i++) labels[i] = (byte) (r.nextInt(12) == 0 ? 255 : r.nextInt(3));
            Affinity.Loss[] l = new Affinity.Loss[2];
            float[][] grad = new float[2][];
            for (int fused = 0; fused < 2; fused++)
                try (Tape tape = Tape.open(true)) {
                    Tensor e = tape.keep(Tensor.of(be, edge, n, 1, h, w));
                    e.requiresGrad = true;
                    l[fused] = fused == 1 ? Affinity.boundaryLoss(e, labels, pi) : Affinity.loss(Affinity.fromBoundary(e, pi), labels, h, w, pi);
                    tape.backward(l[fused].total(), 0.37f);
                    grad[fused] = e.grad.toArray();
                    l[fused] = new Affinity.Loss(null, l[fused].bgPos(), l[fused].fgPos(), l[fused].neg(), l[fused].bgPairs(), l[fused].fgPairs(),
                            l[fused].negPairs());
                    e.close();
                }
            assertEquals(l[0], l[1], "radius " + radius);
            assertTrue(l[0].bgPairs() > 0 && l[0].fgPairs() > 0 && l[0].negPairs() > 0);
            assertArrayEquals(grad[0], grad[1], 0f, "radius " + radius);
            assertTrue(java.util.stream.IntStream.range(0, grad[0].length).filter(i -> grad[0][i] != 0).count() > 20, "gradient reaches the map");
        }
    }

    @Test
    void badShapesAreRejected() {
        try (Tensor e = Tensor.zeros(be, 1, 2, 4, 4); Tensor a = Tensor.zeros(be, 1, 3, 2)) {
            assertThrows(IllegalArgumentException.class, () -> Affinity.fromBoundary(e, R2));
            assertThrows(IllegalArgumentException.class, () -> Affinity.loss(a, new byte[6], 2, 3, R2));
        }
    }

    /** sum(r * aff) as a differentiable scalar: backward seeds aff's gradient with r directly. */
    static Tensor weightedSum(Tensor aff, float[] r) {
        Tensor s = Tape.track(Tensor.of(be, new float[]{0f}, 1));
        Tape.record("dot", s, gy -> Tape.accumulate(aff, Tensor.of(be, r, aff.shape())));
        return s;
    }

    static double[] refAffinity(double[] e, int n, int h, int w, PathIndex pi) {
        int p = pi.sources(h, w), dirs = pi.directions();
        double[] out = new double[n * dirs * p];
        for (int im = 0; im < n; im++)
            for (int d = 0; d < dirs; d++)
                for (int q = 0; q < p; q++) {
                    int s = pi.source(q, h, w), y = s / w, x = s % w;
                    double m = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < pi.pathLength(d); c++) m = Math.max(m, e[im * h * w + (y + pi.pathY(d)[c]) * w + x + pi.pathX(d)[c]]);
                    out[(im * dirs + d) * p + q] = 1 - m;
                }
        return out;
    }

    static double refLoss(double[] aff, byte[] labels, int n, int h, int w, PathIndex pi) {
        int p = pi.sources(h, w), dirs = pi.directions();
        double[] sum = new double[4], cnt = new double[4];
        for (int im = 0; im < n; im++)
            for (int d = 0; d < dirs; d++)
                for (int q = 0; q < p; q++) {
                    int s = pi.source(q, h, w);
                    int a = labels[im * h * w + s] & 0xff, b = labels[im * h * w + s + pi.dy(d) * w + pi.dx(d)] & 0xff;
                    if (a == 255 || b == 255) continue;
                    double v = aff[(im * dirs + d) * p + q];
                    int k = a != b ? 3 : a == 0 ? 1 : 2;
                    sum[k] -= Math.log(1e-5 + (k == 3 ? 1 - v : v));
                    cnt[k]++;
                }
        return (sum[1] / (cnt[1] + 1e-5) / 2 + sum[2] / (cnt[2] + 1e-5) / 2 + sum[3] / (cnt[3] + 1e-5)) / 2;
    }

    /** n distinct values in [0.02, 0.98], spaced far more than the finite-difference step, so every max is unique. */
    static double[] distinct(Random rnd, int n) {
        List<Double> v = new ArrayList<>();
        for (int i = 0; i < n; i++) v.add((float) (0.02 + 0.96 * i / (n - 1)) + 0.0);
        Collections.shuffle(v, rnd);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = v.get(i);
        return a;
    }
}
