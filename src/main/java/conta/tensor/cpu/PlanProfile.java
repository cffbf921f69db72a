package conta.tensor.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The per-op times of an inference plan's runs ({@link DnnlGraph}), a diagnostic switched on by system properties:
 * <ul>
 * <li>{@code -Dconta.plan.profile=true}: every run times each op (its primitive's execute, which returns when the CPU
 *     work is done, or the Winograd call); the plan's describe() appends the mean ms per run and `conta bench latency`
 *     prints it. ONEDNN_VERBOSE=1 does not see the Winograd ops; this does.</li>
 * <li>{@code -Dconta.plan.profile.calls=F.csv} as well: every run's per-op ms, one CSV row per call (its start in ms
 *     of System.nanoTime, then one column per op), written when the plan closes. It shows where a slow call's extra
 *     time went: one op (a thread that lost its core) or all of them (cold caches); bench/latency_ops.py reads it,
 *     bench/latency_stalls.py joins it with a scheduler trace.</li>
 * </ul>
 */
final class PlanProfile {
    static final boolean ON = conta.io.SystemProps.flag("conta.plan.profile", false);
    private static final String CALLS = conta.io.SystemProps.text("conta.plan.profile.calls");
    /** Rows kept at most (100 000 calls of a 60-op plan: ~50 MB). */
    private static final int MAX_CALLS = 100_000;

    private final long[] totals;
    private long runs;
    private final List<long[]> calls = new ArrayList<>();
    private long[] row;

    PlanProfile(int ops) { totals = new long[ops]; }

    /** A run begins (its row allocated here: this is a diagnostic run, not the allocation-free one). */
    void begin() {
        row = CALLS != null && calls.size() < MAX_CALLS ? new long[totals.length + 1] : null;
        if (row != null) row[0] = System.nanoTime();
    }

    /** Op i took nanos in this run. */
    void op(int i, long nanos) {
        totals[i] += nanos;
        if (row != null) row[i + 1] = nanos;
    }

    void end() {
        runs++;
        if (row != null) calls.add(row);
        row = null;
    }

    /** " 0.123 ms": op i's mean over the runs so far, or "" before the first. */
    String mean(int i) { return runs == 0 ? "" : String.format(Locale.ROOT, " %.3f ms", totals[i] / 1e6 / runs); }

    /** Writes the per-call rows to the file named by -Dconta.plan.profile.calls (once: the rows are dropped after). */
    void writeCalls(List<String> opNames) {
        if (CALLS == null || calls.isEmpty()) return;
        StringBuilder b = new StringBuilder("start_ms");
        for (int i = 0; i < opNames.size(); i++) b.append(',').append(i).append(':').append(opNames.get(i).replace(',', ';'));
        b.append('\n');
        for (long[] r : calls) {
            b.append(String.format(Locale.ROOT, "%.3f", r[0] / 1e6));
            for (int i = 1; i < r.length; i++) b.append(String.format(Locale.ROOT, ",%.4f", r[i] / 1e6));
            b.append('\n');
        }
        calls.clear();
        try {
            Files.writeString(Path.of(CALLS), b);
        } catch (IOException e) {
            System.err.println("conta: cannot write the plan's per-call profile " + CALLS + ": " + e.getMessage());
        }
    }
}
