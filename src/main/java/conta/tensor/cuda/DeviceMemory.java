package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import conta.tensor.Storage;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Caching device allocator: freed blocks go to a free list keyed by rounded size and are handed out again, so a
 * training step with the same shapes as the previous one makes no cudaMalloc. All work runs on one stream, so a block
 * freed while kernels that use it are still queued is only reused by later work on that stream (stream order keeps
 * this safe, as in PyTorch's caching allocator). On out-of-memory the cache is released and the allocation retried once.
 */
final class DeviceMemory implements AutoCloseable {
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private long inUse, cached, mallocs;

    /** Sizes up to 1 MiB round to 512 bytes; larger ones to 1/8 of their power of two (<= 12.5% slack). */
    static long round(long bytes) {
        long b = Math.max(bytes, 1);
        if (b <= (1 << 20)) return (b + 511) & ~511L;
        long step = Long.highestOneBit(b - 1) >> 3;
        return (b + step - 1) / step * step;
    }

    synchronized long allocate(long bytes, String what) {
        long size = round(bytes);
        ArrayDeque<Long> q = free.get(size);
        if (q != null && !q.isEmpty()) {
            cached -= size;
            inUse += size;
            return q.pop();
        }
        Pointer p = new Pointer();
        int rc = cudaMalloc(p, size);
        if (rc == cudaErrorMemoryAllocation) {
            cudaGetLastError(); // clear the sticky-free error state before retrying
            releaseCached();
            rc = cudaMalloc(p, size);
        }
        if (rc != cudaSuccess) {
            cudaGetLastError();
            String msg = "CUDA out of memory allocating " + what + " (" + mib(size) + "): " + CudaRuntime.errorName(rc)
                    + "; conta holds " + mib(inUse) + " in tensors, device free/total " + deviceInfo();
            if (rc == cudaErrorMemoryAllocation) throw new CudaException.OutOfMemory(msg);
            throw new CudaException(msg);
        }
        mallocs++;
        inUse += size;
        return p.address();
    }

    synchronized void release(long address, long bytes) {
        long size = round(bytes);
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(address);
        inUse -= size;
        cached += size;
    }

    /** cudaFree of every cached block (cudaFree synchronises the device, so nothing queued still uses them). */
    synchronized void releaseCached() {
        for (var e : free.entrySet()) for (long a : e.getValue()) cudaFree(DevPtr.of(a));
        free.clear();
        cached = 0;
    }

    synchronized long mallocCount() { return mallocs; }

    synchronized long bytesInUse() { return inUse; }

    synchronized long bytesCached() { return cached; }

    static String mib(long b) { return String.format("%.1f MiB", b / 1048576.0); }

    private static String deviceInfo() {
        SizeTPointer f = new SizeTPointer(1), t = new SizeTPointer(1);
        return cudaMemGetInfo(f, t) == cudaSuccess ? mib(f.get()) + " / " + mib(t.get()) : "unknown";
    }

    @Override public void close() { releaseCached(); }

    /** A tensor's device memory; free() returns it to the cache. */
    static final class Block implements Storage {
        private final DeviceMemory mem;
        private final long bytes;
        private long address;

        Block(DeviceMemory mem, long bytes, String what) {
            this.mem = mem;
            this.bytes = bytes;
            this.address = mem.allocate(bytes, what);
        }

        long address() {
            if (address == 0) throw new IllegalStateException("CUDA tensor used after close()");
            return address;
        }

        @Override public long bytes() { return bytes; }

        @Override public synchronized void free() {
            if (address != 0) {
                mem.release(address, bytes);
                address = 0;
            }
        }

        @Override public boolean isFreed() { return address == 0; }
    }
}
