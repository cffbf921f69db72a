package conta.tensor.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * conta's own kernels: modules from the jar (cubin for sm_80/sm_90, else PTX JIT), loaded with cuModuleLoadData into the
 * runtime's primary context, launched with cuLaunchKernel. Arguments go through one preallocated block of 8-byte slots
 * (kernelParams[i] points at slot i), so a launch allocates nothing native.
 */
final class Kernels implements AutoCloseable {
    static final String DIR = "/conta/tensor/cuda/kernels/";
    static final int BLOCK = 256;
    private static final int MAX_ARGS = 32;

    private final Map<String, CUfunc_st> functions = new HashMap<>();
    private final Map<String, Ptx.Entry> signatures = new HashMap<>();
    private final Map<String, CUmod_st> modules = new HashMap<>();
    private final BytePointer slots = new BytePointer(8L * MAX_ARGS);
    private final PointerPointer<?> params = new PointerPointer<>(MAX_ARGS);
    private final String variant;

    Kernels(int[] cc) {
        if (cc[0] < 8) throw new CudaException("conta's kernels need compute capability 8.0 or newer, the device has " + cc[0] + "." + cc[1]);
        // SASS runs on the same major with an equal or newer minor; anything newer than Hopper JIT-compiles the PTX
        variant = cc[0] == 8 ? "sm_80.cubin" : cc[0] == 9 ? "sm_90.cubin" : "compute_90.ptx";
        for (int i = 0; i < MAX_ARGS; i++) params.put(i, new DevPtr(slots.address() + 8L * i));
        String index = text("index.txt");
        for (String mod : index.split("\\s+")) if (!mod.isEmpty()) load(mod);
    }

    String variant() { return variant; }

    private void load(String mod) {
        byte[] image = bytes(mod + "." + variant);
        if (variant.endsWith(".ptx")) image = java.util.Arrays.copyOf(image, image.length + 1); // NUL-terminated text
        CUmod_st m = new CUmod_st();
        CudaRuntime.checkDriver(cuModuleLoadData(m, new BytePointer(image)), "cuModuleLoadData", "loading kernels " + mod + "." + variant);
        modules.put(mod, m);
        for (Ptx.Entry e : Ptx.entries(text(mod + ".compute_90.ptx")).values()) {
            CUfunc_st f = new CUfunc_st();
            CudaRuntime.checkDriver(cuModuleGetFunction(f, m, e.name()), "cuModuleGetFunction(" + e.name() + ")", "loading kernels " + mod);
            functions.put(e.name(), f);
            signatures.put(e.name(), e);
        }
    }

    private static byte[] bytes(String name) {
        try (InputStream in = Kernels.class.getResourceAsStream(DIR + name)) {
            if (in == null) throw new CudaException("kernel file " + DIR + name + " is not in the jar: build conta where nvcc is installed"
                    + " (kernels/build.sh runs in the Maven build)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("reading " + DIR + name + ": " + e);
        }
    }

    private static String text(String name) { return new String(bytes(name), StandardCharsets.US_ASCII); }

    /** Blocks for n elements with a grid-stride loop: enough to fill the GPU, no more. */
    static int grid(long n) { return (int) Math.max(1, Math.min((n + BLOCK - 1) / BLOCK, 1 << 16)); }

    /** Launches name<<<grid, block, smem, stream>>>(args); arguments must match the PTX parameter kinds exactly. */
    synchronized void launch(String name, int grid, int block, int smem, CUstream_st stream, String op, Object... args) {
        CUfunc_st f = functions.get(name);
        Ptx.Entry sig = signatures.get(name);
        if (f == null) throw new CudaException(op + ": kernel " + name + " not found in the loaded modules");
        if (args.length != sig.kinds().length())
            throw new IllegalArgumentException(name + " takes " + sig.kinds().length() + " arguments, got " + args.length);
        for (int i = 0; i < args.length; i++) put(name, i, sig.kinds().charAt(i), args[i]);
        CudaRuntime.checkDriver(cuLaunchKernel(f, grid, 1, 1, block, 1, 1, smem, stream, params, (PointerPointer<?>) null),
                "cuLaunchKernel(" + name + ")", op);
    }

    private void put(String name, int i, char kind, Object a) {
        long off = 8L * i;
        switch (kind) {
            case 'p' -> {
                if (a == null) slots.putLong(off, 0L);
                else if (a instanceof Long l) slots.putLong(off, l);
                else throw bad(name, i, kind, a);
            }
            case 'i' -> {
                if (!(a instanceof Integer v)) throw bad(name, i, kind, a);
                slots.putInt(off, v);
            }
            case 'f' -> {
                if (!(a instanceof Float v)) throw bad(name, i, kind, a);
                slots.putFloat(off, v);
            }
            case 'd' -> {
                if (!(a instanceof Double v)) throw bad(name, i, kind, a);
                slots.putDouble(off, v);
            }
            default -> throw bad(name, i, kind, a);
        }
    }

    private static IllegalArgumentException bad(String name, int i, char kind, Object a) {
        String want = switch (kind) { case 'p' -> "a device address or 64-bit value (Long)"; case 'i' -> "Integer"; case 'f' -> "Float"; default -> "Double"; };
        return new IllegalArgumentException(name + " argument " + i + ": expected " + want + ", got " + (a == null ? "null" : a.getClass().getSimpleName()));
    }

    @Override
    public synchronized void close() {
        for (CUmod_st m : modules.values()) cuModuleUnload(m);
        modules.clear();
        functions.clear();
    }
}
