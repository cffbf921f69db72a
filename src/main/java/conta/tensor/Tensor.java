package conta.tensor;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A dense, contiguous float32 tensor whose memory lives off the Java heap in its backend.
 * Lifetimes are explicit: {@link #close()} frees the storage; intermediates made under a
 * tape (conta.autograd.Tape) are freed when the tape closes.
 *
 * <p>The autograd fields ({@code grad}, {@code requiresGrad}, {@code gradFn}) live here so that layer code
 * can work with one type; the primitive ops in {@link Backend} ignore them.
 */
public final class Tensor implements AutoCloseable {
    private final int[] shape;
    private final long numel;
    private final Backend backend;
    private final DType dtype;
    private final Layout layout;
    private final Storage storage;

    /** Gradient accumulated by backward; owned by this tensor. */
    public Tensor grad;
    /** Whether backward should produce a gradient for this tensor. */
    public boolean requiresGrad;
    /** The recorded op that produced this tensor, or null for leaves. */
    public GradFn gradFn;
    /** Optional name (parameters carry their state-dict name). */
    public String name;
    private long version;

    public Tensor(Backend backend, Storage storage, DType dtype, Layout layout, int... shape) {
        this.backend = backend;
        this.storage = storage;
        this.dtype = dtype;
        this.layout = layout;
        this.shape = shape.clone();
        this.numel = numel(shape);
        if (storage.bytes() < numel * dtype.bytes)
            throw new IllegalArgumentException("storage of " + storage.bytes() + " bytes too small for " + Arrays.toString(shape));
    }

    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n *= d;
        }
        return n;
    }

    // ---- factories on a given backend ----
    public static Tensor empty(Backend b, int... shape) { return b.empty(shape); }

    public static Tensor zeros(Backend b, int... shape) {
        Tensor t = b.empty(shape);
        b.fill(t, 0f);
        return t;
    }

    public static Tensor of(Backend b, float[] data, int... shape) {
        if (data.length != numel(shape))
            throw new IllegalArgumentException(data.length + " values for shape " + Arrays.toString(shape));
        Tensor t = b.empty(shape);
        b.upload(t, data);
        return t;
    }

    public float[] toArray() { return backend.download(this); }

    /** Single value of a one-element tensor. */
    public float item() {
        if (numel != 1) throw new IllegalStateException("item() on tensor of shape " + shapeString());
        return toArray()[0];
    }

    // ---- shape ----
    public int[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    public long numel() { return numel; }

    public boolean sameShape(Tensor o) { return Arrays.equals(shape, o.shape); }

    public String shapeString() { return Arrays.toString(shape); }

    public Backend backend() { return backend; }

    public Storage storage() { return storage; }

    public DType dtype() { return dtype; }

    public Layout layout() { return layout; }

    /** A tensor of another shape over the same storage (no copy); the view must not outlive this tensor. */
    public Tensor view(int... newShape) {
        if (numel(newShape) != numel)
            throw new IllegalArgumentException("cannot view " + shapeString() + " as " + Arrays.toString(newShape));
        return new Tensor(backend, new SharedStorage(storage), dtype, layout, newShape);
    }

    public boolean isClosed() { return storage.isFreed(); }

    /**
     * How often the values were overwritten in place by a writer that says so with {@link #markModified()} (the
     * optimizer step, state loading, initialisation, batch-norm statistics updates): caches derived from a tensor, e.g.
     * frozen BN's folded scale/shift, compare it instead of reading the values back.
     */
    public long version() { return version; }

    public void markModified() { version++; }

    @Override
    public void close() {
        if (!storage.isFreed()) storage.free();
        if (grad != null) {
            grad.close();
            grad = null;
        }
        gradFn = null;
    }

    @Override
    public String toString() { return "Tensor" + shapeString() + (name != null ? "(" + name + ")" : ""); }

    /**
     * n tensors of this shape that own this tensor's memory together: the memory is freed when the last of them is
     * closed. This tensor hands its memory over and must not be used or closed after. It must own its memory: alone,
     * or as the last holder left of an earlier sharing; not a view (another tensor's memory).
     */
    public Tensor[] shareOwnership(int n) {
        if (n < 1) throw new IllegalArgumentException("share between n >= 1 tensors, got " + n);
        if (!ownsMemory()) throw new IllegalStateException("share a tensor that owns its memory, not a view or a holder among others");
        Storage owner = storage instanceof SharedStorage s ? s.handOver() : storage;
        AtomicInteger holders = new AtomicInteger(n);
        Tensor[] out = new Tensor[n];
        for (int i = 0; i < n; i++) out[i] = new Tensor(backend, new SharedStorage(owner, holders), dtype, layout, shape);
        return out;
    }

    /** Whether this tensor alone owns its memory: not a view, and not held with other tensors ({@link #shareOwnership}). */
    public boolean ownsMemory() { return !(storage instanceof SharedStorage s) || s.soleHolder(); }

    /** Whether another tensor still holds this tensor's memory ({@link #shareOwnership}): writing to it in place would change that one too. */
    public boolean sharesMemory() { return storage instanceof SharedStorage s && s.sharedWithOthers(); }

    /**
     * Storage seen through a view: freeing the view leaves the owner's memory alone. Or one holder of memory several
     * tensors own together ({@link #shareOwnership}): freeing the last holder frees it.
     */
    public static final class SharedStorage implements Storage {
        public final Storage owner;
        /** Null for a view; else the count of holders not yet freed, shared by all of them. */
        private final AtomicInteger holders;
        private boolean released;

        SharedStorage(Storage owner) { this(owner, null); }

        private SharedStorage(Storage owner, AtomicInteger holders) {
            this.owner = owner instanceof SharedStorage s ? s.owner : owner;
            this.holders = holders;
        }

        @Override public long bytes() { return owner.bytes(); }

        @Override public void free() {
            if (holders == null || released) return;
            released = true;
            if (holders.decrementAndGet() == 0) owner.free();
        }

        @Override public boolean isFreed() { return released || owner.isFreed(); }

        boolean sharedWithOthers() { return holders != null && !released && holders.get() > 1; }

        boolean soleHolder() { return holders != null && !released && holders.get() == 1; }

        /** The last holder gives its memory to a new sharing: released without freeing it. */
        Storage handOver() {
            if (!soleHolder()) throw new IllegalStateException("only the last holder of shared memory hands it over");
            released = true;
            holders.decrementAndGet();
            return owner;
        }
    }
}
