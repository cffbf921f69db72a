package conta.tensor;

import conta.tensor.cpu.CpuBackend;
import conta.tensor.cuda.CudaBackend;
import conta.tensor.cuda.CudaRuntime;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Device selection from a spec string: {@code cpu}, {@code cuda[:N]} or {@code auto} (CUDA if a device and the CUDA
 * libraries are there, else CPU). {@code auto} says once per process why it fell back; {@code cuda:N} without a device is
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
        if (s.equals("auto")) {
            String why = CudaRuntime.unavailableReason();
            if (why == null) return new CudaBackend(0);
            if (WARNED.compareAndSet(false, true)) log.println("no CUDA device: " + why + "; running on CPU");
            return new CpuBackend();
        }
        if (s.equals("cuda") || s.startsWith("cuda:")) {
            int dev = parseDevice(spec, s);
            String why = CudaRuntime.unavailableReason();
            if (why != null) throw new IllegalStateException(spec + " requested but no CUDA device: " + why + " (use --device cpu or auto)");
            return new CudaBackend(dev);
        }
        throw new IllegalArgumentException("unknown device '" + spec + "': expected cpu, cuda, cuda:N or auto");
    }

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
