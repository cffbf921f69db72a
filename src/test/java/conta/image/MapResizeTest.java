package conta.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import conta.image.MapResize.Mode;
import conta.tensor.GradCheck;
import conta.tensor.RefOps;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MapResizeTest {
    @Test
    void areaAveragesCoveredCells() {
        float[] x = {1, 2, 3, 4,
                     5, 6, 7, 8,
                     0, 0, 1, 1,
                     0, 0, 1, 1};
        // each output cell is the mean of a 2x2 block
        assertArrayEquals(new float[]{3.5f, 5.5f, 0f, 1f}, MapResize.resize(x, 1, 4, 4, 2, 2, Mode.AREA), 1e-7f);
    }

    @Test
    void areaWindowsOverlapWhenSizesDoNotDivide() {
        // 3 rows -> 2: rows {0,1} and {1,2} (adaptive_avg_pool2d's floor/ceil bounds)
        assertArrayEquals(new float[]{1.5f, 3f}, MapResize.resize(new float[]{1, 2, 4}, 1, 3, 1, 2, 1, Mode.AREA), 1e-7f);
    }

    @Test
    void nearestPicksFloorSource() {
        float[] x = {1, 2, 3, 4};
        assertArrayEquals(new float[]{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, MapResize.resize(x, 1, 2, 2, 4, 4, Mode.NEAREST));
        float[] y = new float[16];
        for (int i = 0; i < 16; i++) y[i] = i;
        assertArrayEquals(new float[]{0, 2, 8, 10}, MapResize.resize(y, 1, 4, 4, 2, 2, Mode.NEAREST));
    }

    @Test
    void nearestComputesTheSourceIndexInFloatAsPyTorch() {
        // ATen's nearest_idx: floor(41 * (float) (2 / 82.0)) = floor(0.99999994f) = 0, where exact arithmetic gives 1
        // (found by a float32 search: the smallest such case); the cross-entropy labels of DeepLab's scale outputs and
        // PyTorch's twin must pick the same rows
        float[] two = {5, 9};
        float[] r = MapResize.resize(two, 1, 2, 1, 82, 1, Mode.NEAREST);
        assertEquals(5f, r[40]);
        assertEquals(5f, r[41]);
        assertEquals(9f, r[42]);
        assertEquals(9f, r[81]);
        assertArrayEquals(r, conta.train.Objective.resizeNearest(two, 1, 2, 1, 82, 1), "the loss's label resize is this one");
    }

    @Test
    void bilinearMatchesFloat64Reference() {
        Random r = new Random(3);
        int[][] cases = {{2, 5, 7, 3, 4}, {3, 3, 3, 8, 8}, {1, 2, 2, 128, 128}};
        for (int[] k : cases) {
            float[] x = new float[k[0] * k[1] * k[2]];
            for (int i = 0; i < x.length; i++) x[i] = r.nextFloat();
            double[] ref = RefOps.resizeBilinear(GradCheck.toDouble(x), 1, k[0], k[1], k[2], k[3], k[4], false);
            GradCheck.assertClose("bilinear " + java.util.Arrays.toString(k), ref,
                    MapResize.resize(x, k[0], k[1], k[2], k[3], k[4], Mode.BILINEAR), 1e-6);
        }
    }

    @Test
    void badSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> MapResize.resize(new float[3], 1, 2, 2, 1, 1, Mode.AREA));
        assertThrows(IllegalArgumentException.class, () -> MapResize.resize(new float[4], 1, 2, 2, 0, 1, Mode.AREA));
    }
}
