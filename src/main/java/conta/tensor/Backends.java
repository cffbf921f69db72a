package conta.tensor;

import conta.tensor.cpu.CpuBackend;
import conta.tensor.cuda.CudaBackend;
import conta.tensor.cuda.CudaRuntime;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Device selection from a spec string: {@code cpu}, {@code cuda[:N]} or {@code auto} (CUDA if a device is there and
 * every CUDA part loads: runtime, kernels, cuDNN, cuBLAS; else CPU). {@code auto} says once per process why it fell back; {@code cuda:N} without a device is
 * an error that gives the reason.
 */
public final class Backends {
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    /** Where the one-time fallback message goes (tests swap it). */
    static volatile PrintStream log = System.err;

    private Backends() { }

    public static Backend select(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("cpu")) return new CpuBackend();
        if (s.equals("auto")) return auto(CudaRuntime::unavailableReason, () -> new CudaBackend(0));
        if (s.equals("cuda") || s.startsWith("cuda:")) {
            int dev = parseDevice(spec, s);
            String why = CudaRuntime.unavailableReason();
            if (why != null) throw new IllegalStateException(spec + " requested but no CUDA device: " + why + " (use --device cpu or auto)");
            return new CudaBackend(dev);
        }
        throw new IllegalArgumentException("unknown device '" + spec + "': expected cpu, cuda, cuda:N or auto");
    }

    /**
     * auto: the CUDA backend when the probe finds a device and every CUDA part loads (kernels, cuDNN, cuBLAS, the first
     * allocations), else the CPU backend, saying once why. Any failure of the CUDA set-up is a reason, not an error.
     */
    static Backend auto(Supplier<String> probe, Supplier<Backend> cuda) {
        String why = probe.get();
        if (why == null) {
            try {
                return cuda.get();
            } catch (RuntimeException | LinkageError e) {
                why = "the CUDA backend failed to start: " + reason(e);
            }
        }
        if (WARNED.compareAndSet(false, true)) log.println("no CUDA device: " + why + "; running on CPU");
        return new CpuBackend();
    }

    /** One line from an exception chain: each cause's first message line, innermost last (at most 400 characters). */
    static String reason(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null && sb.length() < 400; t = t.getCause()) {
            String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().lines().findFirst().orElse("");
            if (!sb.isEmpty()) sb.append(" <- ");
            sb.append(m);
        }
        return sb.length() > 400 ? sb.substring(0, 400) + "..." : sb.toString();
    }

    /** Lets a test see the one-time message again; returns whether it had been said. */
    static boolean resetWarningForTest() { return WARNED.getAndSet(false); }

    private static int parseDevice(String spec, String s) {
        if (s.equals("cuda")) return 0;
        try {
            int d = Integer.parseInt(s.substring(5));
            if (d >= 0) return d;
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("bad CUDA device in '" + spec + "': expected cuda:N with N >= 0");
    }
}
