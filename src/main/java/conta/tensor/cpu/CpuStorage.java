package conta.tensor.cpu;

import conta.tensor.Storage;
import java.lang.foreign.MemorySegment;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** Host memory from malloc (through {@link HostPool}'s cache of freed blocks), seen by Java as a MemorySegment and by native libraries as a JavaCPP pointer. */
final class CpuStorage implements Storage {
    private final long bytes;
    private Pointer ptr;
    private MemorySegment seg;

    CpuStorage(long bytes) {
        this.bytes = bytes;
        this.ptr = HostPool.take(Math.max(bytes, 16));
        if (ptr == null)
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of host memory for a tensor");
        this.seg = MemorySegment.ofAddress(ptr.address()).reinterpret(Math.max(bytes, 16));
    }

    MemorySegment segment() {
        if (seg == null) throw new IllegalStateException("tensor used after close()");
        return seg;
    }

    /** A float view positioned at element offset {@code off}, for BLAS calls. */
    FloatPointer floats(long off) {
        if (ptr == null) throw new IllegalStateException("tensor used after close()");
        return new FloatPointer(ptr).position(off);
    }

    @Override public long bytes() { return bytes; }

    @Override public synchronized void free() {
        if (ptr != null) {
            HostPool.give(ptr, Math.max(bytes, 16));
            ptr = null;
            seg = null;
        }
    }

    @Override public boolean isFreed() { return ptr == null; }
}
