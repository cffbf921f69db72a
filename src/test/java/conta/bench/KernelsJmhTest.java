package conta.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Benchmark;

/**
 * bench/jmh.sh's benchmarks still set up and run (each method once, on the CPU), and time what they say: the CAM
 * benchmark's output is relu(w . feat), checked at a few positions in float64 on the host.
 */
class KernelsJmhTest {
    @Test
    void everyBenchmarkRunsOnceAndTheCamOneComputesTheCam() throws Exception {
        KernelsJmh k = new KernelsJmh();
        k.device = "cpu";
        k.setup();
        try {
            List<String> ran = new ArrayList<>();
            for (Method m : KernelsJmh.class.getDeclaredMethods()) {
                if (!m.isAnnotationPresent(Benchmark.class)) continue;
                Object out = m.invoke(k);
                int n = out instanceof float[] f ? f.length : ((long[]) out).length;
                assertTrue(n > 0, m.getName());
                if (out instanceof float[] f) for (float v : f) assertTrue(Float.isFinite(v), m.getName());
                ran.add(m.getName());
            }
            assertEquals(7, ran.size(), ran.toString());
            float[] cam = k.cam(), feat = k.feat.toArray(), w = k.camW.toArray();
            int hw = KernelsJmh.GRID * KernelsJmh.GRID;
            for (int c : new int[] {0, 7, 19})
                for (int p : new int[] {0, 333, hw - 1}) {
                    double s = 0;
                    for (int i = 0; i < KernelsJmh.FEAT; i++) s += (double) w[c * KernelsJmh.FEAT + i] * feat[i * hw + p];
                    assertEquals(Math.max(0, s), cam[c * hw + p], 1e-4 + 1e-4 * Math.abs(s), "class " + c + " pixel " + p);
                }
            long[] conf = k.confusion();
            long total = 0, diagonal = 0;
            for (int i = 0; i < 21; i++) for (int j = 0; j < 21; j++) { total += conf[i * 21 + j]; if (i == j) diagonal += conf[i * 21 + j]; }
            assertEquals(512L * 512, total); // prediction == ground truth in this benchmark: all on the diagonal
            assertEquals(total, diagonal);
        } finally {
            k.close();
        }
    }
}
