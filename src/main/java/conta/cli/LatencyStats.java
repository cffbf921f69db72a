package conta.cli;

import java.util.Arrays;
import java.util.Locale;

/** Percentiles of per-call latencies (nearest rank), printed in one line that bench/latency.sh parses. */
public record LatencyStats(int n, double p50, double p90, double p99, double min, double mean) {
    /** ms: one latency per call, in milliseconds. */
    public static LatencyStats of(double[] ms) {
        if (ms.length == 0) throw new IllegalArgumentException("no calls timed");
        double[] s = ms.clone();
        Arrays.sort(s);
        return new LatencyStats(s.length, rank(s, 0.50), rank(s, 0.90), rank(s, 0.99), s[0], Arrays.stream(s).average().orElse(0));
    }

    /** Nearest-rank percentile: the smallest value with at least q of the calls at or below it. */
    static double rank(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** "LATENCY impl arch size p50 p90 p99 min mean n" with times in ms. */
    public String line(String impl, String arch, int size) {
        return String.format(Locale.ROOT, "LATENCY %s %s %d p50 %.1f p90 %.1f p99 %.1f min %.1f mean %.1f n %d", impl, arch, size, p50, p90, p99, min, mean, n);
    }

    /**
     * One line per timed call (index, start ms after the first timed call, ms, start on the clock startMs is read
     * from): where in a run the tail calls fall (warm-up, a periodic stall such as this VM's 500 ms DAMON sampling, the
     * load); bench/latency_tail.py reads it. The clock column is System.nanoTime's (CLOCK_MONOTONIC on Linux), that of
     * `perf record -k CLOCK_MONOTONIC`, so that bench/latency_join.py can say what else ran during each slow call.
     */
    public static void writeTrace(String file, double[] startMs, double[] ms) throws java.io.IOException {
        StringBuilder sb = new StringBuilder("call,start_ms,ms,clock_ms\n");
        for (int i = 0; i < ms.length; i++)
            sb.append(i).append(',').append(String.format(java.util.Locale.ROOT, "%.3f,%.3f,%.3f", startMs[i] - startMs[0], ms[i], startMs[i])).append('\n');
        java.nio.file.Files.writeString(java.nio.file.Path.of(file), sb);
    }
}
