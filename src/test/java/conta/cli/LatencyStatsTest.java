package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nearest-rank percentiles worked by hand, and the per-call trace bench/latency_tail.py reads. */
class LatencyStatsTest {
    @Test
    void nearestRankPercentiles() {
        double[] ms = new double[100];
        for (int i = 0; i < 100; i++) ms[i] = 100 - i;              // 100 .. 1, unsorted on purpose
        LatencyStats s = LatencyStats.of(ms);
        assertEquals(50, s.p50());                                   // ceil(0.50 * 100) = 50th smallest
        assertEquals(90, s.p90());
        assertEquals(99, s.p99());
        assertEquals(1, s.min());
        assertEquals(50.5, s.mean(), 1e-12);
        LatencyStats seven = LatencyStats.of(new double[]{7, 1, 3, 5, 2, 6, 4});
        assertEquals(4, seven.p50());                                // ceil(3.5) = 4th of 1..7
        assertEquals(7, seven.p99());                                // ceil(6.93) = 7th
    }

    @Test
    void traceStartsAtTheFirstTimedCall(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("t.csv");
        LatencyStats.writeTrace(f.toString(), new double[]{1000.0, 1021.5, 1043.25}, new double[]{21.5, 21.75, 26.0});
        assertEquals(List.of("call,start_ms,ms,clock_ms", "0,0.000,21.500,1000.000", "1,21.500,21.750,1021.500", "2,43.250,26.000,1043.250"),
                Files.readAllLines(f));
    }
}
