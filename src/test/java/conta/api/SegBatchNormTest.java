package conta.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.io.WeightFiles;
import conta.io.HostArray;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The segmentation stage trains the convolutions only (deeplab-pytorch's get_params; seg.train_bn=false): after the
 * tiny run's 6 steps from random weights every batch norm still has its initial scale 1 and shift 0, while the ASPP
 * and the backbone's convolutions have moved.
 */
class SegBatchNormTest {
    @Test
    void batchNormsKeepTheirScaleAndShift() throws Exception {
        Map<String, HostArray> w = WeightFiles.load(TinyRun.segModel());
        int norms = 0;
        for (String k : w.keySet()) {
            if (!k.endsWith(".running_mean")) continue;
            String bn = k.substring(0, k.length() - ".running_mean".length());
            for (float v : w.get(bn + ".weight").data()) assertEquals(1f, v, bn + ".weight");
            for (float v : w.get(bn + ".bias").data()) assertEquals(0f, v, bn + ".bias");
            norms++;
        }
        assertTrue(norms >= 10, "batch norms found: " + norms + " in " + w.keySet());
        float[] bias = w.entrySet().stream().filter(e -> e.getKey().startsWith("aspp.") && e.getKey().endsWith(".bias"))
                .findFirst().orElseThrow().getValue().data();
        boolean moved = false;
        for (float v : bias) moved |= v != 0f; // ASPP biases start at 0 (deeplab-pytorch's init) and train at 20x
        assertTrue(moved, "the ASPP trained");
    }
}
