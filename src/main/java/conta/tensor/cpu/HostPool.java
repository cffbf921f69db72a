package conta.tensor.cpu;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;

/**
 * Reuses freed tensor memory of the exact same size, the CPU twin of a caching GPU allocator. A training step frees
 * and allocates the same shapes every time; glibc hands large blocks back to the kernel on free (munmap), so without
 * this cache every step page-faults and zero-fills its ~1 GB of activations and gradients again (measured in
 * bench/RESULTS.md). Blocks under {@link #MIN_BYTES} go straight to malloc. The cache holds at most
 * {@code -Dconta.host.cache=MB} (0 turns it off); beyond that the longest-cached blocks are freed. The default is a
 * quarter of the machine's memory, at least 2048 MB. With 2048 MB fixed, IRNet's boundary branch at batch 4 and 512 px
 * outgrew the cache and page-faulted every step: 2.67 s a step, against 1.60 s with 6 GB, on a 23 GB machine
 * (bench/RESULTS.md, session 16). The price: where shapes keep changing (inference at every image's own size), blocks
 * of sizes no longer asked for stay cached up to the cap before the oldest go. Memory handed out is not zeroed, as
 * with malloc; when malloc fails, the cache is given back and the allocation tried once more.
 */
final class HostPool {
    private HostPool() { }

    static final long MIN_BYTES = 64 << 10;
    static final long CAP = conta.io.SystemProps.count("conta.host.cache", defaultCapMiB()) << 20;

    /** A quarter of the machine's memory, at least 2048 MiB (2048 where the JVM cannot tell). */
    static long defaultCapMiB() {
        try {
            long total = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                    .getTotalMemorySize();
            return Math.max(2048L, (total >> 20) / 4);
        } catch (RuntimeException | LinkageError e) {
            return 2048L;
        }
    }

    private record Block(long bytes, Pointer ptr) { }

    private static final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private static final ArrayDeque<Block> order = new ArrayDeque<>(); // oldest first, for eviction
    private static long cached;

    /** A block of at least {@code bytes}, reused when one of that size is cached; null when malloc fails. */
    static Pointer take(long bytes) {
        if (bytes >= MIN_BYTES && CAP > 0) {
            synchronized (HostPool.class) {
                ArrayDeque<Block> q = free.get(bytes);
                if (q != null && !q.isEmpty()) {
                    Block b = q.pollLast(); // most recently freed: likeliest still in the CPU caches
                    order.removeLastOccurrence(b);
                    cached -= bytes;
                    return b.ptr();
                }
            }
        }
        Pointer p = Pointer.malloc(bytes);
        if ((p == null || p.isNull()) && bytes >= MIN_BYTES) { // out of memory: give the cache back and retry once
            trim();
            p = Pointer.malloc(bytes);
        }
        return p == null || p.isNull() ? null : p;
    }

    static void give(Pointer p, long bytes) {
        if (bytes < MIN_BYTES || CAP <= 0 || bytes > CAP) { Pointer.free(p); return; }
        synchronized (HostPool.class) {
            Block b = new Block(bytes, p);
            free.computeIfAbsent(bytes, k -> new ArrayDeque<>()).addLast(b);
            order.addLast(b);
            cached += bytes;
            while (cached > CAP) {
                Block old = order.pollFirst();
                free.get(old.bytes()).removeFirstOccurrence(old);
                cached -= old.bytes();
                Pointer.free(old.ptr());
            }
        }
    }

    /** Frees every cached block. */
    static synchronized void trim() {
        for (Block b : order) Pointer.free(b.ptr());
        order.clear();
        free.clear();
        cached = 0;
    }

    static synchronized long cachedBytes() { return cached; }
}
