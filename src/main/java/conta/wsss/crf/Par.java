package conta.wsss.crf;

import java.util.stream.IntStream;

/** Splits [0, n) into one contiguous chunk per core; small jobs stay on the calling thread. */
final class Par {
    private Par() { }

    static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

    interface Range { void run(int lo, int hi); }

    /** Runs body over chunks of [0, n); parallel when n * costPerItem is worth a thread hand-off. */
    static void forRange(int n, long costPerItem, Range body) {
        if (THREADS == 1 || (long) n * costPerItem < 65_536) {
            body.run(0, n);
            return;
        }
        int chunks = THREADS * 4;   // a few chunks per core so that one slow core does not hold the others up
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int lo = (int) ((long) n * c / chunks), hi = (int) ((long) n * (c + 1) / chunks);
            if (lo < hi) body.run(lo, hi);
        });
    }
}
