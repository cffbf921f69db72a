package conta.tensor.cpu;

import conta.tensor.Storage;
import java.lang.foreign.MemorySegment;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Host memory from malloc (through {@link HostPool}'s cache of freed blocks), 64-byte aligned, seen by Java as a
 * MemorySegment and by native libraries as a JavaCPP pointer.
 *
 * <p>The values are in plain NCHW order unless {@link #blocked} says the last writer (a oneDNN convolution or a
 * layout-aware op, see {@link Blocked}) left them in oneDNN's nChw16c layout. {@link #segment()} and {@link #floats}
 * hand out plain memory, converting first when needed, so that every op that does not know the blocked layout stays
 * correct; the ops that know it read and write through {@link #rawSegment()} / {@link #rawFloats()}.
 */
final class CpuStorage implements Storage {
    private final long bytes;
    private Pointer raw;
    /**
     * The first 64-byte boundary in raw (malloc returns 16-byte aligned blocks), as a pointer whose address is that
     * boundary and position 0: JavaCPP adds a position in bytes for void* arguments and in elements for float*.
     */
    private Pointer aligned;
    private MemorySegment seg;
    /** The layout of the values when not plain NCHW (null: plain). */
    private Blocked blocked;

    CpuStorage(long bytes) {
        this.bytes = bytes;
        this.raw = HostPool.take(allocation(bytes));
        if (raw == null)
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of host memory for a tensor");
        setPointer(raw);
    }

    /** Room for the values and the step to a 64-byte boundary (oneDNN's blocked kernels load whole cache lines). */
    private static long allocation(long bytes) { return Math.max(bytes, 16) + 64; }

    private void setPointer(Pointer r) {
        raw = r;
        long addr = r.address();
        seg = MemorySegment.ofAddress(addr + (64 - addr % 64) % 64).reinterpret(Math.max(bytes, 16));
        aligned = new Pointer(seg.asSlice(0, 16).asByteBuffer());
    }

    /** The values in plain NCHW order (converted in place if they were blocked). */
    MemorySegment segment() {
        plain();
        return rawSegment();
    }

    /** A float view positioned at element offset {@code off} of the plain values, for BLAS and oneDNN calls. */
    FloatPointer floats(long off) {
        plain();
        FloatPointer f = rawFloats();
        return f.position(f.position() + off);
    }

    /** The memory as it is, in whatever layout {@link #blocked()} says. */
    MemorySegment rawSegment() {
        if (seg == null) throw new IllegalStateException("tensor used after close()");
        return seg;
    }

    FloatPointer rawFloats() {
        if (raw == null) throw new IllegalStateException("tensor used after close()");
        return new FloatPointer(aligned);
    }

    Blocked blocked() { return blocked; }

    /** Declares the values written in layout b (null: plain), by a writer that just overwrote all of them. */
    void setBlocked(Blocked b) {
        if (b != null && b.storageBytes() != bytes)
            throw new IllegalStateException("blocked layout " + b + " does not fit " + bytes + " bytes");
        blocked = b;
    }

    /** -Dconta.cpu.blocked.trace=true prints where every layout conversion happens (to find ops that still read plain). */
    static final boolean TRACE = Boolean.getBoolean("conta.cpu.blocked.trace");

    /** Converts plain values to layout b. */
    synchronized void toBlocked(Blocked b) {
        if (blocked != null) throw new IllegalStateException("already blocked: " + blocked);
        if (b.storageBytes() != bytes) throw new IllegalStateException("blocked layout " + b + " does not fit " + bytes + " bytes");
        convert("to " + b, b::toBlocked);
        blocked = b;
    }

    /** Converts blocked values to plain order. */
    private synchronized void plain() {
        if (blocked == null || raw == null) return;
        convert("to plain from " + blocked, blocked::toPlain);
        blocked = null;
    }

    /** Reorders the values into a fresh block, which then replaces the old one (in place would need a transposition). */
    private void convert(String what, java.util.function.BiConsumer<Pointer, Pointer> reorder) {
        if (TRACE) new Throwable(what).printStackTrace();
        Pointer fresh = HostPool.take(allocation(bytes));
        if (fresh == null) throw new OutOfMemoryError("cannot allocate " + bytes + " bytes to convert a tensor's layout");
        Pointer old = raw;
        FloatPointer from = rawFloats();
        setPointer(fresh);
        reorder.accept(from, rawFloats());
        HostPool.give(old, allocation(bytes));
    }

    @Override public long bytes() { return bytes; }

    @Override public synchronized void free() {
        if (raw != null) {
            HostPool.give(raw, allocation(bytes));
            raw = null;
            aligned = null;
            seg = null;
            blocked = null;
        }
    }

    @Override public boolean isFreed() { return raw == null; }
}
