package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.tensor.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * HostWsss.upsampleArgmax, the label map of a prediction without storing its full-size scores: byte for byte the
 * argmax of the CPU backend's resizeBilinear output (what SegStage computed before), and against PyTorch's bilinear
 * rule in float64 wherever the two best classes are not within float rounding of each other.
 */
class UpsampleArgmaxTest {
    /** PyTorch upsample_bilinear2d (align_corners false) in double: source coordinate, clamped taps. */
    static double bilinear(float[] x, int c, int h, int w, int oh, int ow, int oy, int ox) {
        double sy = Math.max(0, (oy + 0.5) * h / oh - 0.5), sx = Math.max(0, (ox + 0.5) * w / ow - 0.5);
        int y0 = Math.min((int) sy, h - 1), x0 = Math.min((int) sx, w - 1), y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
        double ly = sy - y0, lx = sx - x0;
        int o = c * h * w;
        return (1 - ly) * ((1 - lx) * x[o + y0 * w + x0] + lx * x[o + y0 * w + x1]) + ly * ((1 - lx) * x[o + y1 * w + x0] + lx * x[o + y1 * w + x1]);
    }

    @Test
    void equalsTheArgmaxOfTheBackendsResizeAndOfPyTorchsFormula() {
        int[][] cases = {{5, 11, 13, 64, 50}, {21, 41, 41, 321, 321}, {3, 9, 7, 9, 7}, {4, 20, 16, 8, 6}, {1, 5, 5, 17, 17}};
        Random r = new Random(7);
        try (CpuBackend b = new CpuBackend()) {
            for (int[] cs : cases) {
                int k = cs[0], h = cs[1], w = cs[2], oh = cs[3], ow = cs[4];
                float[] x = new float[k * h * w];
                for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 4);
                byte[] got = HostWsss.upsampleArgmax(x, k, h, w, oh, ow);
                float[] up;
                try (Tensor in = Tensor.of(b, x, 1, k, h, w); Tensor y = Tensor.zeros(b, 1, k, oh, ow)) {
                    b.resizeBilinear(in, false, y);
                    up = y.toArray();
                }
                int[] want = HostWsss.argmax(up, k);
                for (int p = 0; p < want.length; p++) assertEquals(want[p], got[p], "pixel " + p + " of " + k + "x" + h + "x" + w + " -> " + oh + "x" + ow);
                int checked = 0;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++) {
                        double best = Double.NEGATIVE_INFINITY, second = Double.NEGATIVE_INFINITY;
                        int arg = 0;
                        for (int c = 0; c < k; c++) {
                            double v = bilinear(x, c, h, w, oh, ow, oy, ox);
                            if (v > best) { second = best; best = v; arg = c; } else if (v > second) second = v;
                        }
                        if (best - second < 1e-4) continue; // a near tie: float rounding may pick either
                        checked++;
                        assertEquals(arg, got[oy * ow + ox], "pixel (" + oy + ", " + ox + ") against float64");
                    }
                assertTrue(checked > 0.99 * oh * ow, checked + " of " + oh * ow + " pixels compared with float64");
            }
        }
    }

    @Test
    void tiesGoToTheFirstClassAndBadShapesAreRefused() {
        assertArrayEquals(new byte[]{0, 0, 0, 0}, HostWsss.upsampleArgmax(new float[]{1, 1, 1, 1, 1, 1, 1, 1}, 2, 2, 2, 2, 2));
        // class 0 scores 1 on the left column, class 1 on the right; 2 -> 4 columns sample x = 0 (clamped), 0.25, 0.75,
        // 1 (clamped): class 0 scores 1, 0.75, 0.25, 0
        float[] x = {1, 0, 1, 0, 0, 1, 0, 1};
        assertArrayEquals(new byte[]{0, 0, 1, 1, 0, 0, 1, 1}, HostWsss.upsampleArgmax(x, 2, 2, 2, 2, 4));
        assertThrows(IllegalArgumentException.class, () -> HostWsss.upsampleArgmax(new float[7], 2, 2, 2, 4, 4));
    }
}
