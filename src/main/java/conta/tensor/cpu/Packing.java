package conta.tensor.cpu;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.Pointer;

/**
 * A oneDNN layout other than plain row-major in which a {@link CpuStorage} may hold a 4-d tensor's values: activations
 * in nChw16c, or bf16 ones in NHWC on AMX hosts ({@link Blocked}), convolution weights and their gradients in
 * OIhw16i16o ({@link BlockedWeights}). The
 * plain side of a conversion is always f32 in row-major (NCHW / OIHW) order; conversions are oneDNN reorders, made once
 * per (packing, direction) and kept for the life of the process.
 */
sealed interface Packing permits Blocked, BlockedWeights {
    /** The plain tensor's dimensions. */
    long[] dims();

    /** oneDNN's data type of the packed values (dnnl_f32 or dnnl_bf16). */
    int dataType();

    /** oneDNN's format tag of the packed values. */
    int formatTag();

    /**
     * Bytes of the storage that holds the values: that of the plain f32 tensor (packings here have no padding; bf16
     * values fill its first half).
     */
    default long storageBytes() {
        long n = 4;
        for (long d : dims()) n *= d;
        return n;
    }

    /** Writes the values at {@code from} (this packing) into {@code to} in plain order. */
    default void toPlain(Pointer from, Pointer to) { Reorders.run(this, true, from, to); }

    /** Writes the plain values at {@code from} into {@code to} in this packing. */
    default void fromPlain(Pointer from, Pointer to) { Reorders.run(this, false, from, to); }

    /** The cached conversions and the engine and stream they run on. */
    final class Reorders {
        private Reorders() { }

        private static dnnl_engine engine;
        private static dnnl_stream stream;
        /** Keyed by (packing, direction): true for packed -> plain. */
        private static final Map<Map.Entry<Packing, Boolean>, Reorder> CACHE = new HashMap<>();

        private record Reorder(dnnl_primitive prim, dnnl_memory from, dnnl_memory to, dnnl_exec_arg_t args) { }

        static synchronized void run(Packing p, boolean toPlain, Pointer from, Pointer to) {
            Reorder r = CACHE.computeIfAbsent(Map.entry(p, toPlain), k -> make(k.getKey(), k.getValue()));
            DnnlConv.check(dnnl_memory_set_data_handle(r.from(), from), "set_data_handle");
            DnnlConv.check(dnnl_memory_set_data_handle(r.to(), to), "set_data_handle");
            DnnlConv.check(dnnl_primitive_execute(r.prim(), stream, 2, r.args()), toPlain ? "reorder to plain from " + p : "reorder to " + p);
            DnnlConv.check(dnnl_stream_wait(stream), "dnnl_stream_wait");
        }

        private static Reorder make(Packing p, boolean toPlain) {
            if (engine == null) {
                dnnl_engine e = new dnnl_engine();
                DnnlConv.check(dnnl_engine_create(e, dnnl_cpu, 0), "dnnl_engine_create");
                dnnl_stream s = new dnnl_stream();
                DnnlConv.check(dnnl_stream_create(s, e, dnnl_stream_default_flags), "dnnl_stream_create");
                engine = e;
                stream = s;
            }
            long[] dims = p.dims();
            dnnl_memory_desc plain = new dnnl_memory_desc(), packed = new dnnl_memory_desc();
            DnnlConv.check(dnnl_memory_desc_create_with_tag(plain, dims.length, dims, dnnl_f32, dnnl_abcd), "memory desc");
            DnnlConv.check(dnnl_memory_desc_create_with_tag(packed, dims.length, dims, p.dataType(), p.formatTag()), "memory desc");
            dnnl_memory_desc src = toPlain ? packed : plain, dst = toPlain ? plain : packed;
            dnnl_memory from = new dnnl_memory(), to = new dnnl_memory();
            DnnlConv.check(dnnl_memory_create(from, src, engine, null), "dnnl_memory_create");
            DnnlConv.check(dnnl_memory_create(to, dst, engine, null), "dnnl_memory_create");
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            DnnlConv.check(dnnl_reorder_primitive_desc_create(pd, src, engine, dst, engine, null), "reorder descriptor");
            dnnl_primitive prim = new dnnl_primitive();
            try {
                DnnlConv.check(dnnl_primitive_create(prim, pd), "reorder primitive");
            } finally {
                dnnl_primitive_desc_destroy(pd);
                dnnl_memory_desc_destroy(plain);
                dnnl_memory_desc_destroy(packed);
            }
            dnnl_exec_arg_t args = new dnnl_exec_arg_t(2);
            args.getPointer(0).arg(DNNL_ARG_FROM).memory(from);
            args.getPointer(1).arg(DNNL_ARG_TO).memory(to);
            return new Reorder(prim, from, to, args);
        }
    }
}
