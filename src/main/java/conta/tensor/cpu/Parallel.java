package conta.tensor.cpu;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/** Splits independent work (channels, images, rows) over the cores. Small jobs stay on the calling thread. */
final class Parallel {
    private Parallel() { }

    static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

    /** Runs body(i) for i in [0, n); parallel when the total work (n * costPerItem) is worth it. */
    static void forRange(int n, long costPerItem, IntConsumer body) {
        if (n <= 1 || THREADS == 1 || n * costPerItem < 32_768) {
            for (int i = 0; i < n; i++) body.accept(i);
        } else {
            IntStream.range(0, n).parallel().forEach(body);
        }
    }
}
