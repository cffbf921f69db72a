package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;

/**
 * Loading the CUDA runtime through the JavaCPP preset (JNI libs only; libcudart, libcuda and friends come from the
 * machine: LD_LIBRARY_PATH or -Djava.library.path with -Dorg.bytedeco.javacpp.pathsFirst=true, see bench/gpu-selftest.sh),
 * the device probe, and error texts. The probe runs once per process.
 */
public final class CudaRuntime {
    private static volatile String reason;
    private static volatile boolean probed;

    private CudaRuntime() { }

    /** Null when a CUDA device is usable, else a one-line reason (missing libraries, no driver, no GPU). */
    public static synchronized String unavailableReason() {
        if (!probed) {
            reason = probe();
            probed = true;
        }
        return reason;
    }

    private static String probe() {
        if (conta.io.SystemProps.flag("conta.cuda.disable", false)) return "disabled by -Dconta.cuda.disable=true";
        try {
            Loader.load(org.bytedeco.cuda.global.cudart.class);
        } catch (LinkageError e) { // UnsatisfiedLinkError without libcuda.so.1/libcudart.so.13, NoClassDefFoundError without the preset jar
            return plain(rootCause(e));
        }
        int[] n = new int[1];
        int rc = cudaGetDeviceCount(n);
        if (rc != cudaSuccess) return "cudaGetDeviceCount: " + errorName(rc);
        if (n[0] == 0) return "the CUDA driver reports no GPU";
        return null;
    }

    /** The dynamic linker's complaint from the innermost cause, without the JNI library's cache path. */
    static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) t = t.getCause();
        String m = String.valueOf(t.getMessage()).lines().findFirst().orElse(t.toString());
        int i = m.indexOf(".so: ");
        return i >= 0 && m.startsWith("/") ? m.substring(i + 5) : m;
    }

    /**
     * The linker's complaint in a user's words where it is the usual one: a machine without an NVIDIA driver lacks
     * libcuda.so.1, which is most CPU-only hosts and not worth the linker's full sentence on every run.
     */
    static String plain(String linker) {
        String missing = " cannot open shared object file";
        int i = linker.indexOf(':');
        if (i > 0 && linker.startsWith(":" + missing, i)) {
            String lib = linker.substring(0, i);
            if (lib.startsWith("libcuda.so")) return "no NVIDIA driver here (" + lib + " not found)";
            return "the CUDA libraries are not found (" + lib + "; put them on LD_LIBRARY_PATH)";
        }
        return "cannot load the CUDA runtime: " + linker;
    }

    static String firstLine(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null && sb.length() < 400; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).lines().findFirst().orElse("");
            if (!sb.isEmpty()) sb.append(" <- ");
            sb.append(m);
        }
        return sb.toString();
    }

    static String errorName(int rc) {
        BytePointer name = cudaGetErrorName(rc), text = cudaGetErrorString(rc);
        return (name == null ? "error" : name.getString()) + " (" + rc + ")" + (text == null ? "" : ": " + text.getString());
    }

    static String driverErrorName(int rc) {
        // const char** out-parameter: the PointerPointer overload receives the string's address
        org.bytedeco.javacpp.PointerPointer<BytePointer> pp = new org.bytedeco.javacpp.PointerPointer<>(1);
        BytePointer s = cuGetErrorName(rc, pp) == CUDA_SUCCESS ? pp.get(BytePointer.class, 0) : null;
        return (s == null || s.isNull() ? "CUresult" : s.getString()) + " (" + rc + ")";
    }

    /** Throws a CudaException naming the op unless rc is cudaSuccess; OutOfMemory for cudaErrorMemoryAllocation. */
    static void check(int rc, String call, String op) {
        if (rc == cudaSuccess) return;
        String msg = op + ": " + call + " failed: " + errorName(rc);
        if (rc == cudaErrorMemoryAllocation) throw new CudaException.OutOfMemory(msg);
        throw new CudaException(msg);
    }

    static void checkDriver(int rc, String call, String op) {
        if (rc != CUDA_SUCCESS) throw new CudaException(op + ": " + call + " failed: " + driverErrorName(rc));
    }

    /** "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB, runtime 13000, driver 13000 (preset built for 13010)". */
    static String describe(int dev) {
        cudaDeviceProp p = new cudaDeviceProp();
        check(cudaGetDeviceProperties(p, dev), "cudaGetDeviceProperties", "device " + dev);
        int[] rt = new int[1], drv = new int[1];
        cudaRuntimeGetVersion(rt);
        cudaDriverGetVersion(drv);
        return String.format(java.util.Locale.ROOT, "%s, sm_%d%d, %.1f GiB, runtime %d, driver %d (preset built for %d)", p.name().getString(), p.major(),
                p.minor(), p.totalGlobalMem() / (double) (1L << 30), rt[0], drv[0], CUDART_VERSION);
    }

    static int[] computeCapability(int dev) {
        int[] major = new int[1], minor = new int[1];
        check(cudaDeviceGetAttribute(major, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute", "device " + dev);
        check(cudaDeviceGetAttribute(minor, cudaDevAttrComputeCapabilityMinor, dev), "cudaDeviceGetAttribute", "device " + dev);
        return new int[]{major[0], minor[0]};
    }
}
