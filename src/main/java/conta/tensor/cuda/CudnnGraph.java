package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import org.bytedeco.cuda.cudnn.cudnnBackendDescriptor_t;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The plumbing of cuDNN's graph (backend) API that {@link ConvGraphs} and {@link GraphEngines} share: descriptors made,
 * attributes set and read, an engine config's engine and notes, an execution plan and its workspace. Every cuDNN status
 * other than success is an exception naming the call and the op, except where a method says it returns null.
 */
final class CudnnGraph {
    private CudnnGraph() { }

    /** The unique ids of a convolution's three tensors: x (or dx), w (or dw), y (or dy). */
    static final long UID_X = 1, UID_W = 2, UID_Y = 3;

    /** A finalized variant pack binding the three tensors (uids x, w, y) and the workspace; the caller destroys it. */
    static cudnnBackendDescriptor_t variantPack(long ax, long aw, long ay, long ws, String op) {
        cudnnBackendDescriptor_t vp = create(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, op);
        try {
            // the addresses as 64-bit values: cuDNN reads them as void*[3] and void*[1]
            set(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, int64(ax, aw, ay), op);
            set(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, int64(UID_X, UID_W, UID_Y), op);
            set(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, int64(ws), op);
            Cudnn.check(cudnnBackendFinalize(vp), "cudnnBackendFinalize(variant pack)", op);
            return vp;
        } catch (RuntimeException e) {
            cudnnBackendDestroyDescriptor(vp);
            throw e;
        }
    }

    // JavaCPP's single-argument constructors are traps here: new LongPointer(2L) allocates two longs, new IntPointer(0)
    // none, and new PointerPointer(d) is a cast of d, not an array holding d. These build the one-element arrays.
    static IntPointer int32(int v) { return new IntPointer(new int[]{v}); }

    static LongPointer int64(long... v) { return new LongPointer(v); }

    static PointerPointer<Pointer> ref(Pointer d) { return new PointerPointer<>(new Pointer[]{d}); }

    static cudnnBackendDescriptor_t create(int type, String op) {
        cudnnBackendDescriptor_t d = new cudnnBackendDescriptor_t();
        Cudnn.check(cudnnBackendCreateDescriptor(type, d), "cudnnBackendCreateDescriptor(" + type + ")", op);
        return d;
    }

    static void set(cudnnBackendDescriptor_t d, int attribute, int type, long count, Pointer value, String op) {
        Cudnn.check(cudnnBackendSetAttribute(d, attribute, type, count, value), "cudnnBackendSetAttribute(" + attribute + ")", op);
    }

    /** A finalized execution plan of this config (the caller owns it), or null where it does not finalize here. */
    static cudnnBackendDescriptor_t executionPlan(cudnnContext handle, cudnnBackendDescriptor_t cfg, String op) {
        cudnnBackendDescriptor_t exec = create(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, op);
        try {
            set(exec, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, ref(handle), op);
            set(exec, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, ref(cfg), op);
            if (cudnnBackendFinalize(exec) == CUDNN_STATUS_SUCCESS) return exec;
        } catch (RuntimeException e) {
            cudnnBackendDestroyDescriptor(exec);
            throw e;
        }
        cudnnBackendDestroyDescriptor(exec);
        return null;
    }

    static long workspaceOf(cudnnBackendDescriptor_t exec, String op) {
        LongPointer ws = new LongPointer(1), got = new LongPointer(1);
        int rc = cudnnBackendGetAttribute(exec, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, got, ws);
        if (rc != CUDNN_STATUS_SUCCESS) {
            cudnnBackendDestroyDescriptor(exec);
            Cudnn.check(rc, "cudnnBackendGetAttribute(workspace size)", op);
        }
        return ws.get();
    }

    /**
     * The engine index plus a CRC of the plan's JSON form, which holds its knob settings too: the heuristic's list may
     * hold one engine several times with other knobs. Only the index where cuDNN gives no JSON.
     */
    static String identity(String engine, cudnnBackendDescriptor_t exec) {
        LongPointer count = new LongPointer(1);
        if (cudnnBackendGetAttribute(exec, CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION, CUDNN_TYPE_CHAR, 0, count, (Pointer) null)
                != CUDNN_STATUS_SUCCESS || count.get() <= 0) return engine;
        org.bytedeco.javacpp.BytePointer json = new org.bytedeco.javacpp.BytePointer(count.get());
        if (cudnnBackendGetAttribute(exec, CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION, CUDNN_TYPE_CHAR, count.get(), count, json)
                != CUDNN_STATUS_SUCCESS) return engine;
        byte[] bytes = new byte[(int) Math.min(count.get(), json.capacity())];
        json.get(bytes);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        return engine + " #" + Long.toHexString(crc.getValue());
    }

    static cudnnBackendDescriptor_t engine(cudnnBackendDescriptor_t cfg, String op) {
        cudnnBackendDescriptor_t engine = create(CUDNN_BACKEND_ENGINE_DESCRIPTOR, op);
        LongPointer got = new LongPointer(1);
        int rc = cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, got, ref(engine));
        if (rc != CUDNN_STATUS_SUCCESS) {
            cudnnBackendDestroyDescriptor(engine);
            Cudnn.check(rc, "cudnnBackendGetAttribute(engine of config)", op);
        }
        return engine;
    }

    static int[] notes(cudnnBackendDescriptor_t engine, int attribute, int type, int max, String op) {
        IntPointer values = new IntPointer(max);
        LongPointer got = new LongPointer(1);
        Cudnn.check(cudnnBackendGetAttribute(engine, attribute, type, max, got, values), "cudnnBackendGetAttribute(engine notes)", op);
        int[] out = new int[(int) Math.min(got.get(), max)]; // cuDNN reports the full count, which may exceed what was asked
        values.get(out);
        return out;
    }
}
