package conta.tensor.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The inference plan's convolutions with small output maps, as one GEMM over gathered pixels (native/src/gemmconv.c
 * in libconta_cpu.so, bound through the FFM API): batch 1, NHWC float32, any kernel size, stride, padding and dilation
 * (the same both ways), bias, ReLU and the residual sum fused. On maps of at most {@link #MAX_PIXELS} output pixels
 * (ResNet's 7x7 stage at 224) a layer's weights outweigh its products, and in a plan they come from memory on every
 * call; oneDNN's kernels then wait for them (cold 0.45 ms against 0.28 warm for 7x7 2048 -> 512), where this kernel
 * prefetches each thread's next 32-channel panel while it multiplies the current one (0.34 ms;
 * bench/gemmconv_cold_bench.c, bench/RESULTS-latency.md session 29). It comes before the Winograd kernel: on such
 * maps the two are level cold (7x7 512 -> 512: 0.85 against 0.86 ms), and its direct weights are 9.4 MB where
 * Winograd's transformed ones are 16.8 MB (ResNet-50 @224's plan holds 118 MB of weights against 133). On larger maps
 * oneDNN's kernels are as fast cold and faster warm, so they keep them.
 *
 * <p>On by default where a core's L2 holds 2 MB ({@link CpuFlags#largeL2}: the kernel keeps a thread's current panel,
 * the next one it prefetches and the gathered rows there, up to 0.6 + 0.6 + 0.9 MB for the 7x7 512 -> 512 3x3 layers);
 * -Dconta.plan.gemmconv=false|true turns it off or on;
 * -Dconta.plan.gemmconv.maxpixels=N moves the map-size bound (for measurements).
 */
public final class GemmConv {
    /** The largest output map (h x w) the plan gives this kernel: 7x7 at 224 (14x14, 196, was no faster cold, slower warm). */
    static final long MAX_PIXELS = conta.io.SystemProps.count("conta.plan.gemmconv.maxpixels", 64);
    private static final MethodHandle PACK, CONV, WORKSPACE_FLOATS;
    /** Null when the kernel can run, else why not; null when plans use it, else why not (one line each). */
    private static final String UNAVAILABLE, NOT_CHOSEN;

    static {
        MethodHandle pack = null, conv = null, wsf = null;
        // off only when told; whether plans choose it unless told depends on the CPU (NOT_CHOSEN)
        String why = !conta.io.SystemProps.flag("conta.plan.gemmconv", true) ? "off (-Dconta.plan.gemmconv=false)" : Winograd.LIBRARY_UNAVAILABLE;
        if (why == null) {
            try {
                pack = Winograd.bind("conta_gc_pack", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
                conv = Winograd.bind("conta_gc_conv", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT,
                        JAVA_INT, JAVA_INT));
                wsf = Winograd.bind("conta_gc_workspace_floats", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
            } catch (Throwable e) {
                why = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
        PACK = pack; CONV = conv; WORKSPACE_FLOATS = wsf; UNAVAILABLE = why;
        long l2 = CpuFlags.l2Bytes();
        NOT_CHOSEN = why != null ? why : conta.io.SystemProps.flag("conta.plan.gemmconv", CpuFlags.largeL2(l2)) ? null
                : "off by default on this CPU (L2 " + (l2 < 0 ? "unknown" : l2 / 1024 + " KB") + " a core; measured with 2048 KB:"
                        + " -Dconta.plan.gemmconv=true to use it)";
    }

    private GemmConv() { }

    /** Whether the kernel can run here (library built and loaded, AVX-512, not turned off); its tests force it on. */
    public static boolean available() { return UNAVAILABLE == null; }

    /** Null when available, else why not (one line). */
    public static String unavailableReason() { return UNAVAILABLE; }

    /** Whether fp32 plans use it: available, and on this CPU by default ({@link CpuFlags#largeL2}) or told (-Dconta.plan.gemmconv=true). */
    public static boolean chosen() { return NOT_CHOSEN == null; }

    /** Null when plans use the kernel, else why not (one line). */
    public static String notChosenReason() { return NOT_CHOSEN; }

    /**
     * Whether the plan should take this float32 convolution to the kernel: the same stride, padding and dilation both
     * ways, outputs a multiple of 32 (the kernel's panels), an output map of at most MAX_PIXELS.
     */
    static boolean suits(int cout, int outH, int outW, int strideH, int strideW, int padH, int padW, int dilH, int dilW) {
        return strideH == strideW && padH == padW && dilH == dilW && cout % 32 == 0 && (long) outH * outW <= MAX_PIXELS;
    }

    /** Floats of the packed weights for cin -> cout, kh x kw (as many as the weights). */
    static long weightsFloats(int cin, int cout, int kh, int kw) { return (long) cin * cout * kh * kw; }

    /** Packs w [cout][cin][kh][kw] (at address w) into the kernel's 32-wide panels p (weightsFloats floats). */
    static void pack(MemorySegment w, int cin, int cout, int kh, int kw, MemorySegment p) {
        try { PACK.invokeExact(w, cin, cout, kh, kw, p); } catch (Throwable e) { throw Winograd.rethrow(e); }
    }

    /** Workspace floats of one call: the gathered pixels, none for a 1x1 stride-1 unpadded convolution. */
    static long workspaceFloats(int h, int w, int cin, int kh, int kw, int stride, int pad, int dil) {
        try {
            return (long) WORKSPACE_FLOATS.invokeExact(h, w, cin, kh, kw, stride, pad, dil);
        } catch (Throwable e) { throw Winograd.rethrow(e); }
    }

    /**
     * y = relu?(conv(x) + bias (+ y when sum)) of an h x w NHWC map, at native addresses; bias may be NULL. With sum the
     * shortcut is y itself: the output is written over it. nextPacked (NULL if none) is the packed weights of the op
     * the plan runs next on this kernel (nextK = its kh kw cin, nextCout its outputs): each thread prefetches its first
     * panel of them during its last one here.
     */
    static void conv(MemorySegment x, int h, int w, int cin, int cout, int kh, int kw, int stride, int pad, int dil, MemorySegment packed,
                     MemorySegment bias, boolean sum, boolean relu, MemorySegment y, MemorySegment ws, MemorySegment nextPacked, int nextK,
                     int nextCout, int threads) {
        try {
            CONV.invokeExact(x, h, w, cin, cout, kh, kw, stride, pad, dil, packed, bias, sum ? 1 : 0, relu ? 1 : 0, y, ws, nextPacked, nextK,
                    nextCout, threads);
        } catch (Throwable e) { throw Winograd.rethrow(e); }
    }
}
