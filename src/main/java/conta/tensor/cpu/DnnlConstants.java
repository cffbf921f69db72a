package conta.tensor.cpu;

import static conta.tensor.cpu.DnnlConv.check;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_clone;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Weights and biases in native memory, one copy per content and layout, for every {@link DnnlGraph} built with this
 * store. A plan cache compiles one graph per input shape, and one more per caller running a shape at the same time;
 * without a shared store each held its own copy of the network's constants (a ResNet-50 fp32 plan's are 133 MB, a
 * DeepLab-v2 ResNet-101's more), so memory grew with every image size and every concurrent caller, and every compile
 * redid the weight reorders and Winograd transforms. Inside one graph the store also keeps a layer that runs more than
 * once (DeepLab-v2's three MSC scales) once.
 *
 * <p>Constants are found by a 128-bit digest of their values, not by the arrays: the model walker folds batch norm into
 * new arrays at every compile, and holding them as keys would keep a heap copy of the model alive as long as the store.
 * Two different arrays share memory only if their lengths, tags and both 64-bit halves agree.
 *
 * <p>Lifetime: a graph holds the store from its construction to its close. {@link #close()} refuses new graphs and
 * frees the memory once the last graph using it has closed, so a plan still running when its cache closes keeps valid
 * weights. Memory for a layout that later graphs no longer choose stays until then (layouts depend on the primitive
 * oneDNN picks, which may change with the input shape; there are at most a few per weight). Thread-safe.
 */
public final class DnnlConstants implements AutoCloseable {
    /** A constant's identity: the digest of its values, their count, and how it is used (tag). */
    record Key(long h1, long h2, int length, int tag) {
        /** The digest of values with a tag (e.g. 0 for a primitive's weights, others for Winograd's transformed ones). */
        static Key of(float[] values, int tag) {
            // two independent multiply-rotate chains over the raw bits; each step is a bijection of the state for a
            // given value, so arrays that differ in one value never collide, and other pairs with probability ~2^-128
            long h1 = 0x9E3779B97F4A7C15L ^ values.length, h2 = 0xC2B2AE3D27D4EB4FL + tag;
            for (float f : values) {
                long x = Float.floatToRawIntBits(f) & 0xFFFFFFFFL;
                h1 = Long.rotateLeft(h1 ^ x * 0x9E3779B97F4A7C15L, 27) * 0xBF58476D1CE4E5B9L;
                h2 = Long.rotateLeft(h2 + x * 0xC2B2AE3D27D4EB4FL, 31) * 0x94D049BB133111EBL;
            }
            return new Key(h1 ^ h1 >>> 31, h2 ^ h2 >>> 29, values.length, tag);
        }
    }

    /** One constant in one layout (md null: a raw block, e.g. Winograd's transformed weights). */
    static final class Entry {
        final dnnl_memory_desc md;
        final Pointer raw, data;
        final long bytes;

        private Entry(dnnl_memory_desc md, Pointer raw, Pointer data, long bytes) {
            this.md = md; this.raw = raw; this.data = data; this.bytes = bytes;
        }
    }

    private final Map<Key, List<Entry>> entries = new HashMap<>();
    private long bytes;
    private int graphs;
    private boolean closed, freed;

    /**
     * The memory of key's constant in layout md (null: a raw block without a layout), bytes long and 64-byte aligned:
     * the cached one, or a new one that fill writes (under the store's lock, once).
     */
    synchronized Entry get(Key key, dnnl_memory_desc md, long bytes, Consumer<Pointer> fill) {
        if (freed) throw new IllegalStateException("constants store used after it was freed");
        List<Entry> same = entries.computeIfAbsent(key, k -> new ArrayList<>());
        for (Entry e : same)
            if (e.bytes == bytes && (md == null ? e.md == null : e.md != null && dnnl_memory_desc_equal(e.md, md) != 0)) return e;
        Pointer raw = Pointer.malloc(bytes + 64);
        if (raw == null || raw.isNull()) throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of inference-plan weights");
        Pointer data = new BytePointer(raw).position((64 - raw.address() % 64) % 64);
        dnnl_memory_desc own = null;
        try {
            fill.accept(data);
            if (md != null) {
                own = new dnnl_memory_desc();
                check(dnnl_memory_desc_clone(own, md), "dnnl_memory_desc_clone");
            }
        } catch (RuntimeException | Error e) {
            Pointer.free(raw);
            throw e;
        }
        Entry e = new Entry(own, raw, data, bytes);
        same.add(e);
        this.bytes += bytes;
        return e;
    }

    /** A graph starts using the store. */
    synchronized void acquire() {
        if (closed) throw new IllegalStateException("constants store closed: make a new one");
        graphs++;
    }

    /** A graph stopped using the store (its close). */
    synchronized void release() {
        if (graphs <= 0) throw new IllegalStateException("release without acquire");
        if (--graphs == 0 && closed) free();
    }

    /** Bytes held (every constant once per layout); 0 once freed. */
    public synchronized long bytes() { return freed ? 0 : bytes; }

    /** Graphs using the store now. */
    public synchronized int graphs() { return graphs; }

    /** No new graphs; the memory is freed now, or when the last graph using it closes. */
    @Override
    public synchronized void close() {
        closed = true;
        if (graphs == 0) free();
    }

    private void free() {
        if (freed) return;
        freed = true;
        for (List<Entry> list : entries.values())
            for (Entry e : list) {
                Pointer.free(e.raw);
                if (e.md != null) dnnl_memory_desc_destroy(e.md);
            }
        entries.clear();
    }
}
