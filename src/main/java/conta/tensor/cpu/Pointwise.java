package conta.tensor.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The inference plan's 1x1 convolution on small maps (native/src/pointwise.c in libconta_cpu.so, bound through the FFM
 * API): stride 1 or 2, batch 1, NHWC float32, bias, ReLU and the residual sum fused. On maps of at most
 * {@link #MAX_PIXELS} pixels (ResNet's 7x7 stage at 224) a layer's weights outweigh its products, and in a plan they
 * come from memory on every call; oneDNN's kernel then waits for them (cold 0.42-0.45 ms against 0.27-0.29 warm for
 * 7x7 2048 -> 512), where this kernel prefetches each thread's next 32-channel panel while it multiplies the current
 * one (0.33-0.34 ms; bench/pointwise_cold_bench.c, bench/RESULTS-latency.md session 29). On larger maps oneDNN's
 * kernel is as fast cold and faster warm, so it keeps them.
 *
 * <p>-Dconta.plan.pointwise=false turns it off; -Dconta.plan.pointwise.maxpixels=N moves the map-size bound (for
 * measurements).
 */
public final class Pointwise {
    /** The largest map (h x w) the plan gives this kernel: 7x7 at 224 (14x14, 196, was no faster cold, slower warm). */
    static final long MAX_PIXELS = conta.io.SystemProps.count("conta.plan.pointwise.maxpixels", 64);
    private static final MethodHandle PACK, CONV, WORKSPACE_FLOATS;
    private static final String UNAVAILABLE;

    static {
        MethodHandle pack = null, conv = null, wsf = null;
        String why = !conta.io.SystemProps.flag("conta.plan.pointwise", true) ? "off (-Dconta.plan.pointwise=false)" : Winograd.LIBRARY_UNAVAILABLE;
        if (why == null) {
            try {
                pack = Winograd.bind("conta_pw_pack", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
                conv = Winograd.bind("conta_pw_conv", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
                wsf = Winograd.bind("conta_pw_workspace_floats", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
            } catch (Throwable e) {
                why = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
        PACK = pack; CONV = conv; WORKSPACE_FLOATS = wsf; UNAVAILABLE = why;
    }

    private Pointwise() { }

    /** Whether the kernel can run here (library built and loaded, AVX-512, not turned off). */
    public static boolean available() { return UNAVAILABLE == null; }

    /** Null when available, else why not (one line). */
    public static String unavailableReason() { return UNAVAILABLE; }

    /**
     * Whether the plan should take this float32 convolution to the kernel: 1x1, stride 1 or 2 (the same both ways; a
     * downsampling shortcut), no padding, outputs a multiple of 32, an output map of at most MAX_PIXELS.
     */
    static boolean suits(int cout, int outH, int outW, int kh, int kw, int strideH, int strideW, int padH, int padW) {
        return kh == 1 && kw == 1 && strideH == strideW && (strideH == 1 || strideH == 2) && padH == 0 && padW == 0 && cout % 32 == 0
                && (long) outH * outW <= MAX_PIXELS;
    }

    /** Floats of the packed weights for cin -> cout (as many as the weights). */
    static long weightsFloats(int cin, int cout) { return (long) cin * cout; }

    /** Packs w [cout][cin] (1x1 OIHW, at address w) into the kernel's 32-wide panels p (weightsFloats floats). */
    static void pack(MemorySegment w, int cin, int cout, MemorySegment p) {
        try { PACK.invokeExact(w, cin, cout, p); } catch (Throwable e) { throw Winograd.rethrow(e); }
    }

    /** Workspace floats of one call (the gathered pixels of a strided convolution; none at stride 1). */
    static long workspaceFloats(int h, int w, int stride, int cin) {
        try { return (long) WORKSPACE_FLOATS.invokeExact(h, w, stride, cin); } catch (Throwable e) { throw Winograd.rethrow(e); }
    }

    /**
     * y = relu?(conv1x1(x) + bias (+ y when sum)) of an h x w NHWC map at the given stride, at native addresses; bias
     * may be NULL. With sum the shortcut is y itself: the output is written over it.
     */
    static void conv(MemorySegment x, int h, int w, int stride, int cin, int cout, MemorySegment packed, MemorySegment bias, boolean sum,
                     boolean relu, MemorySegment y, MemorySegment ws, int threads) {
        try {
            CONV.invokeExact(x, h, w, stride, cin, cout, packed, bias, sum ? 1 : 0, relu ? 1 : 0, y, ws, threads);
        } catch (Throwable e) { throw Winograd.rethrow(e); }
    }
}
