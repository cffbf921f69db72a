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

    /** Body over the floats [from, from + count). */
    interface Chunk { void run(long from, long count); }

    /** Below this many floats an elementwise pass stays on the calling thread (fork/join costs more than it saves). */
    static final long CHUNK_MIN = 1 << 16;

    /**
     * Splits an elementwise pass over n floats into one piece per core, each a multiple of 64 floats; the result does
     * not depend on the split, since every element is computed on its own.
     */
    static void chunks(long n, Chunk body) {
        if (THREADS == 1 || n < CHUNK_MIN) { body.run(0, n); return; }
        long piece = (n / THREADS + 63) & ~63L;
        int pieces = (int) ((n + piece - 1) / piece);
        IntStream.range(0, pieces).parallel().forEach(i -> {
            long from = i * piece;
            body.run(from, Math.min(piece, n - from));
        });
    }
}
