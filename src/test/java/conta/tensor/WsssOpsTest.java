package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.causal.MaskEncoding;
import conta.image.MapResize;
import conta.eval.Confusion;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.irn.PathIndex;
import conta.wsss.irn.RandomWalk;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CPU implementation of the WSSS ops (HostWsss, what {@code Backend.wsss()} gives on the CPU) against hand-worked
 * cases and the references the stages used before the seam: MaskEncoding/MapResize for the class masks,
 * conta.eval.Confusion for the counts, RandomWalk.propagate (held to a float64 brute force in RandomWalkTest) for the
 * walk, and PyTorch's bilinear formula in double for the resize.
 */
class WsssOpsTest {
    static CpuBackend b;
    static WsssOps ops;

    @BeforeAll
    static void open() {
        b = new CpuBackend();
        ops = b.wsss();
    }

    @AfterAll
    static void close() { b.close(); }

    @Test
    void cpuBackendGivesTheHostImplementation() { assertTrue(ops instanceof HostWsss); }

    @Test
    void camIsReluOfTheClassifierThenMaxNormalised() {
        // 1 image, 2 feature channels, 2 classes, 3 pixels
        try (Tensor feat = Tensor.of(b, new float[]{1, 2, 3, /* ch1 */ -1, 0, 1}, 1, 2, 1, 3);
             Tensor w = Tensor.of(b, new float[]{1, 1, /* class 1 */ -1, 0}, 2, 2, 1, 1); Tensor cam = b.empty(1, 2, 1, 3)) {
            ops.cam(feat, w, cam);
            assertArrayEquals(new float[]{0, 2, 4, 0, 0, 0}, cam.toArray(), 0f);
            ops.normaliseMax(cam, 3, 1e-5f); // eps keeps the all-zero plane at 0
            float inv = 1f / (4f + 1e-5f);
            assertArrayEquals(new float[]{0, 2 * inv, 4 * inv, 0, 0, 0}, cam.toArray(), 0f);
        }
    }

    @Test
    void normaliseWithoutEpsGuardsEmptyAndNegativeRuns() {
        try (Tensor x = Tensor.of(b, new float[]{0, 0, -3, -1, 2, 8}, 3, 2)) {
            ops.normaliseMax(x, 2, 0f); // the walk's global normalisation, here per run of 2
            assertArrayEquals(new float[]{0, 0, 0, 0, 0.25f, 1f}, x.toArray(), 0f);
        }
    }

    @Test
    void flipMergeAddsTheMirrorFlippedBackAndSelectsClasses() {
        float[] both = {1, 2, 3, /* c1 */ 4, 5, 6, /* mirror c0 */ 10, 20, 30, /* mirror c1 */ 40, 50, 60};
        try (Tensor cam = Tensor.of(b, both, 2, 2, 1, 3); Tensor out = b.empty(1, 2, 1, 3)) {
            ops.flipMergeSelect(cam, new int[]{1, 0}, out);
            assertArrayEquals(new float[]{64, 55, 46, 31, 22, 13}, out.toArray(), 0f);
            assertThrows(IllegalArgumentException.class, () -> ops.flipMergeSelect(cam, new int[]{2, 0}, out));
        }
    }

    /** PyTorch upsample_bilinear2d, align_corners=False, in double: the value at (oy, ox) of an oh x ow resize. */
    static double bilinear(float[] x, int h, int w, int oh, int ow, int oy, int ox) {
        double sy = Math.max(0, (oy + 0.5) * h / oh - 0.5), sx = Math.max(0, (ox + 0.5) * w / ow - 0.5);
        int y0 = Math.min((int) sy, h - 1), x0 = Math.min((int) sx, w - 1), y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
        double ly = sy - y0, lx = sx - x0;
        return (1 - ly) * ((1 - lx) * x[y0 * w + x0] + lx * x[y0 * w + x1]) + ly * ((1 - lx) * x[y1 * w + x0] + lx * x[y1 * w + x1]);
    }

    @Test
    void resizeCropAccumulateAddsTheCroppedResizes() {
        float[] x = {1, 5, -2, 3, 0, 7}; // 1 x 1 x 2 x 3
        float[] start = new float[3 * 4];
        for (int i = 0; i < start.length; i++) start[i] = i * 0.5f;
        try (Tensor t = Tensor.of(b, x, 1, 1, 2, 3); Tensor acc = Tensor.of(b, start, 1, 1, 3, 4)) {
            ops.resizeCropAccumulate(t, 3, 4, acc); // the grid is the output: a plain resize
            ops.resizeCropAccumulate(t, 5, 7, acc); // a larger grid cropped to its top-left 3 x 4
            float[] got = acc.toArray();
            for (int y = 0; y < 3; y++)
                for (int xx = 0; xx < 4; xx++) {
                    double want = start[y * 4 + xx] + bilinear(x, 2, 3, 3, 4, y, xx) + bilinear(x, 2, 3, 5, 7, y, xx);
                    assertEquals(want, got[y * 4 + xx], 1e-5, "(" + y + ", " + xx + ")");
                }
            assertThrows(IllegalArgumentException.class, () -> ops.resizeCropAccumulate(t, 2, 4, acc)); // grid smaller than acc
        }
    }

    @Test
    void seedsThresholdTheFirstMaximum() {
        float[] cam = {0.9f, 0.5f, 0.1f, 0.4f, /* class 2 */ 0.2f, 0.6f, 0.05f, 0.4f};
        try (Tensor s = Tensor.of(b, cam, 1, 2, 1, 4); Tensor lab = b.empty(1, 1, 4)) {
            ops.seeds(s, 0.3f, 0.3f, 255, lab);
            assertArrayEquals(new float[]{1, 2, 0, 1}, lab.toArray(), 0f); // a tie between classes goes to the first
            ops.seeds(s, 0.7f, 0.15f, 255, lab);
            assertArrayEquals(new float[]{1, 255, 0, 255}, lab.toArray(), 0f);
            ops.seeds(s, 0.4f, 0.4f, 255, lab);
            assertArrayEquals(new float[]{1, 2, 0, 0}, lab.toArray(), 0f); // a value equal to the background is background
        }
        try (Tensor none = b.empty(2, 0, 1, 3); Tensor lab = b.empty(2, 1, 3)) {
            ops.seeds(none, 0.1f, 0.1f, 255, lab);
            assertArrayEquals(new float[6], lab.toArray(), 0f);
        }
    }

    @Test
    void classMasksEqualMaskEncodingsOneHotResize() {
        Random r = new Random(3);
        int H = 37, W = 50, n = 4, h = 8, w = 11;
        int[] lab = new int[H * W];
        float[] lf = new float[lab.length];
        for (int i = 0; i < lab.length; i++) { lab[i] = r.nextInt(7) == 0 ? 255 : r.nextInt(n + 1); lf[i] = lab[i]; }
        for (MapResize.Mode mode : new MapResize.Mode[]{MapResize.Mode.AREA, MapResize.Mode.NEAREST}) {
            MaskEncoding enc = MaskEncoding.of(n, h, w).withResize(mode);
            try (Tensor l = Tensor.of(b, lf, H, W); Tensor maps = b.empty(n, h, w)) {
                ops.classMasks(l, 1, mode == MapResize.Mode.AREA, maps);
                assertArrayEquals(enc.classMaps(lab, H, W), maps.toArray(), 0f, mode.toString());
            }
        }
    }

    @Test
    void accumulatePresentAddsOnlyPresentClasses() {
        try (Tensor maps = Tensor.of(b, new float[]{1, 2, 3, 4, 5, 6}, 3, 2); Tensor sums = Tensor.of(b, new float[]{10, 10, 10, 10, 10, 10}, 3, 2)) {
            ops.accumulatePresent(maps, new boolean[]{true, false, true}, sums);
            assertArrayEquals(new float[]{11, 12, 10, 10, 15, 16}, sums.toArray(), 0f);
        }
    }

    @Test
    void randomWalkOpIsRandomWalksPropagation() {
        Random r = new Random(5);
        int k = 2, h = 9, w = 12;
        float[] cams = new float[k * h * w], bd = new float[h * w];
        for (int i = 0; i < cams.length; i++) cams[i] = r.nextFloat();
        for (int i = 0; i < bd.length; i++) bd[i] = (float) Math.pow(r.nextFloat(), 3);
        float[] want = new RandomWalk(new RandomWalk.Params(5, 10, 3, 0.25f)).propagate(cams, k, bd, h, w);
        try (Tensor c = Tensor.of(b, cams, 1, k, h, w); Tensor bt = Tensor.of(b, bd, 1, 1, h, w); Tensor out = b.empty(1, k, h, w)) {
            ops.randomWalk(c, bt, new PathIndex(5).paths(), 10, 8, out);
            assertArrayEquals(want, out.toArray(), 0f);
            ops.randomWalk(c, bt, new PathIndex(5).paths(), 10, 0, out); // no step: the start, cams * (1 - boundary)
            float[] z = out.toArray();
            for (int i = 0; i < z.length; i++) assertEquals(cams[i] * (1f - bd[i % (h * w)]), z[i], 0f);
        }
    }

    @Test
    void confusionCountsLikeConfusion() {
        Random r = new Random(9);
        int k = 6, n = 3000;
        byte[] g = new byte[n], p = new byte[n];
        float[] gf = new float[n], pf = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (byte) (r.nextInt(9) == 0 ? 255 : r.nextInt(k));
            p[i] = (byte) (r.nextInt(9) == 0 ? 255 : r.nextInt(k));
            gf[i] = g[i] & 0xFF;
            pf[i] = p[i] & 0xFF;
        }
        Confusion c = new Confusion(k);
        c.add(g, p);
        try (Tensor tg = Tensor.of(b, gf, 50, 60); Tensor tp = Tensor.of(b, pf, 50, 60)) {
            long[] m = ops.confusion(tg, tp, k);
            for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) assertEquals(c.get(i, j), m[i * k + j], i + "," + j);
        }
        try (Tensor tg = Tensor.of(b, new float[]{0, 7}, 2); Tensor tp = Tensor.of(b, new float[]{0, 1}, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ops.confusion(tg, tp, k));
            assertEquals("ground-truth value 7 but only 6 classes (0..5)", e.getMessage());
        }
        try (Tensor tg = Tensor.of(b, new float[]{0, 1}, 2); Tensor tp = Tensor.of(b, new float[]{9, 1}, 2)) {
            assertEquals("predicted value 9 but only 6 classes (0..5)", assertThrows(IllegalArgumentException.class, () -> ops.confusion(tg, tp, k)).getMessage());
        }
    }
}
