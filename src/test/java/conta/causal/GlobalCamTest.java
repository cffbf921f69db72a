package conta.causal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.io.HostArray;
import conta.tensor.GradCheck;
import conta.tensor.RefOps;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GlobalCamTest {
    static HostArray cams(Random r, int n, int h, int w) {
        float[] v = new float[n * h * w];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat() * 3;
        return new HostArray(new int[]{n, h, w}, v);
    }

    /** c2am's recipe in float64: bilinear to S x S, sum over scales, / (max + eps) for present classes, 0 otherwise. */
    static double[] reference(List<HostArray> scales, boolean[] present, int S, double eps) {
        int n = present.length;
        double[] sum = new double[n * S * S];
        for (HostArray a : scales) {
            double[] r = RefOps.resizeBilinear(GradCheck.toDouble(a.data()), 1, n, a.shape()[1], a.shape()[2], S, S, false);
            for (int i = 0; i < r.length; i++) sum[i] += r[i];
        }
        double[] out = new double[sum.length];
        for (int c = 0; c < n; c++) {
            if (!present[c]) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p < S * S; p++) max = Math.max(max, sum[c * S * S + p]);
            for (int p = 0; p < S * S; p++) out[c * S * S + p] = sum[c * S * S + p] / (max + eps);
        }
        return out;
    }

    @Test
    void averagesNormalisedCamsWithZerosForAbsentClasses() {
        Random r = new Random(5);
        int S = 6;
        GlobalCam g = new GlobalCam(3, S, 1e-5);
        HostArray a = cams(r, 3, 4, 5);
        List<HostArray> b = List.of(cams(r, 3, 3, 3), cams(r, 3, 7, 2));
        boolean[] pa = {true, false, true}, pb = {true, true, false};
        g.add(a, pa);
        g.addScales(b, pb);
        double[] ra = reference(List.of(a), pa, S, 1e-5), rb = reference(b, pb, S, 1e-5);
        double[] expect = new double[ra.length];
        for (int i = 0; i < expect.length; i++) expect[i] = (ra[i] + rb[i]) / 2; // absent-class zeros count
        HostArray m = g.mean();
        assertArrayEquals(new int[]{3, S, S}, m.shape());
        GradCheck.assertClose("global CAM", expect, m.data(), 1e-6);
        assertEquals(2, g.images());
    }

    @Test
    void oneImagePeaksAtOneAndAbsentClassesStayZero() {
        GlobalCam g = new GlobalCam(2); // 128 x 128, eps 1e-5
        g.add(new HostArray(new int[]{2, 2, 2}, new float[]{0, 1, 2, 4, 9, 9, 9, 9}), new boolean[]{true, false});
        float[] m = g.mean().data();
        float max = 0, abs1 = 0;
        for (int p = 0; p < 128 * 128; p++) {
            max = Math.max(max, m[p]);
            abs1 += Math.abs(m[128 * 128 + p]);
        }
        assertEquals(4 / (4 + 1e-5), max, 1e-7);
        assertEquals(0f, abs1);
        assertEquals(0f, m[0]); // the corner reads source pixel (0, 0) exactly
    }

    @Test
    void saveLoadAndErrors(@TempDir Path dir) throws Exception {
        GlobalCam g = new GlobalCam(2, 4, 1e-5);
        assertThrows(IllegalStateException.class, g::mean);
        assertThrows(IllegalArgumentException.class, () -> g.add(new HostArray(new int[]{3, 2, 2}, new float[12]), new boolean[2]));
        assertThrows(IllegalArgumentException.class, () -> g.add(new HostArray(new int[]{2, 2, 2}, new float[8]), new boolean[3]));
        g.add(cams(new Random(1), 2, 3, 3), new boolean[]{true, true});
        Path f = dir.resolve("global_cam.npy");
        g.save(f);
        assertArrayEquals(g.mean().data(), GlobalCam.load(f, 2).data());
        var ex = assertThrows(IllegalArgumentException.class, () -> GlobalCam.load(f, 20));
        assertTrue(ex.getMessage().contains("20 x S x S"), ex.getMessage());
    }
}
