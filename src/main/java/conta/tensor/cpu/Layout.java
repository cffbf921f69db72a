package conta.tensor.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The plan's input copied in from the caller's NCHW array straight into NHWC (native/src/layout.c in
 * libconta_cpu.so): one pass over the array, which the native code reads in place (a critical downcall: no copy
 * before), instead of a copy and a oneDNN reorder op (0.13 ms of a ResNet-50 @224 call; session 29). Where the library
 * is not loaded, DnnlGraph keeps an NCHW input and the reorder.
 */
final class Layout {
    private static final MethodHandle NCHW_TO_NHWC;

    static {
        MethodHandle h = null;
        if (Winograd.LIBRARY != null) {
            try {
                h = Winograd.bind("conta_nchw_to_nhwc", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT),
                        Linker.Option.critical(true));
            } catch (Throwable e) {
                h = null; // then inputs stay NCHW, converted by a reorder op
            }
        }
        NCHW_TO_NHWC = h;
    }

    private Layout() { }

    /** Whether the conversion can run here (libconta_cpu.so loaded). */
    static boolean available() { return NCHW_TO_NHWC != null; }

    /**
     * y[i][p][ch] = x[i][ch][p]: n images of c channels and hw pixels, from the Java array x into native memory y, on
     * the plan's OpenMP threads (each a contiguous share of the pixels).
     */
    static void nchwToNhwc(float[] x, int n, int c, long hw, MemorySegment y, int threads) {
        if ((long) n * c * hw > x.length || n < 0) throw new IllegalArgumentException(x.length + " floats for " + n + " x " + c + " x " + hw);
        try {
            NCHW_TO_NHWC.invokeExact(MemorySegment.ofArray(x), n, c, hw, y, threads);
        } catch (Throwable e) { throw Winograd.rethrow(e); }
    }
}
