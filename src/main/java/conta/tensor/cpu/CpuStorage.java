package conta.tensor.cpu;

import conta.tensor.Storage;
import java.lang.foreign.MemorySegment;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Host memory from malloc (through {@link HostPool}'s cache of freed blocks), 64-byte aligned, seen by Java as a
 * MemorySegment and by native libraries as a JavaCPP pointer.
 *
 * <p>The values are in plain row-major order unless {@link #packing} says the last writer (a oneDNN convolution, a
 * layout-aware op or the SGD step) left them in one of oneDNN's layouts: nChw16c (NHWC for bf16 on AMX hosts) for
 * activations ({@link Blocked}), OIhw16i16o for convolution weights ({@link BlockedWeights}). {@link #segment()} and {@link #floats} hand out plain
 * memory, converting first when needed, so that every op that does not know those layouts stays correct; the ops that
 * know them read and write through {@link #rawSegment()} / {@link #rawFloats()}. A conversion moves the values to a
 * new block and frees the old one: while one thread works on a packed storage's raw memory (a training step), no
 * other may read it plain. Plain readers among themselves are safe (the first converts, under the lock).
 *
 * <p>Zeros may be pending: a storage nobody has read or written yet that is filled with zeros ({@link #zeroLazily()},
 * a fresh gradient buffer) is only zeroed when first handed out, so that a writer that overwrites it whole
 * ({@link #takeZero()}: oneDNN's weight pass) neither pays for the fill nor has to add to it.
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
    /** The layout of the values when not plain (null: plain). */
    private Packing packing;
    /** Whether the memory was ever handed out (from then on a fill must be done at once). */
    private volatile boolean touched;
    /**
     * The values are zeros not yet written (see the class comment). Volatile and cleared only after the fill, under
     * the lock: parallel ops may take the memory from several threads at once, and none may start writing before the
     * fill is done nor see it done twice.
     */
    private volatile boolean zeroPending;

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

    /** The values in plain order (converted in place if they were packed). */
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

    /** The memory as it is, in whatever layout {@link #packing()} says. */
    MemorySegment rawSegment() {
        if (seg == null) throw new IllegalStateException("tensor used after close()");
        handOut();
        return seg;
    }

    FloatPointer rawFloats() {
        if (raw == null) throw new IllegalStateException("tensor used after close()");
        handOut();
        return new FloatPointer(aligned);
    }

    private void handOut() {
        if (!touched) touched = true;
        if (zeroPending)
            synchronized (this) {
                if (zeroPending) {
                    seg.fill((byte) 0);
                    zeroPending = false;
                }
            }
    }

    /**
     * Fills the storage with zeros later, when first handed out, if nobody has had its memory yet (true); otherwise
     * (false) the caller must fill it now.
     */
    synchronized boolean zeroLazily() {
        if (touched || raw == null) return false;
        zeroPending = true;
        packing = null;
        return true;
    }

    /** Whether zeros are pending; they are then dropped: the caller overwrites every value (and declares the layout). */
    synchronized boolean takeZero() {
        if (!zeroPending) return false;
        zeroPending = false;
        touched = true;
        return true;
    }

    /** The activation layout the values are in, or null (plain, or another packing). */
    Blocked blocked() { return packing instanceof Blocked b ? b : null; }

    /** The layout the values are in, or null (plain). */
    Packing packing() { return packing; }

    /** Declares the values written in layout b (null: plain), by a writer that just overwrote all of them. */
    void setBlocked(Packing b) {
        if (b != null && b.storageBytes() != bytes)
            throw new IllegalStateException("layout " + b + " does not fit " + bytes + " bytes");
        packing = b;
    }

    /** -Dconta.cpu.blocked.trace=true prints where every layout conversion happens (to find ops that still read plain). */
    static final boolean TRACE = conta.io.SystemProps.flag("conta.cpu.blocked.trace", false);

    /** Converts the values to layout b (from plain, or from another layout through plain). */
    synchronized void toBlocked(Packing b) {
        if (b.equals(packing)) return;
        if (b.storageBytes() != bytes) throw new IllegalStateException("layout " + b + " does not fit " + bytes + " bytes");
        plain();
        if (zeroPending) { // zeros are zeros in every layout
            packing = b;
            return;
        }
        convert("to " + b, b::fromPlain);
        packing = b;
    }

    /** Converts packed values to plain order. */
    private synchronized void plain() {
        if (packing == null || raw == null) return;
        convert("to plain from " + packing, packing::toPlain);
        packing = null;
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
            packing = null;
            zeroPending = false;
        }
    }

    @Override public boolean isFreed() { return raw == null; }
}
