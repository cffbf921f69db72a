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
 * {@code -Dconta.host.cache=MB} (default 2048; 0 turns it off); beyond that the longest-cached blocks are freed. Memory
 * handed out is not zeroed, as with malloc.
 */
final class HostPool {
    private HostPool() { }

    static final long MIN_BYTES = 64 << 10;
    static final long CAP = Long.getLong("conta.host.cache", 2048L) << 20;

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
