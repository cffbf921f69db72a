package conta.tensor.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The inference plan's Winograd convolution (native/src/winograd.c in libconta_cpu.so, bound through the FFM API):
 * F(4x4,3x3) up to 128 -> 128 channels (4x fewer multiply-adds than the direct convolution), F(2x2,3x3) above (2.25x),
 * for 3x3, stride 1, padding = dilation, batch 1, NHWC float32. {@link DnnlGraph} uses it for such convolutions where
 * {@link #available()}; everything else stays with oneDNN. The library is built with the sources (native/build.sh,
 * needs gcc) and shipped on the classpath; it shares oneDNN's OpenMP runtime (libgomp), so the plan has one thread pool
 * and one wait policy.
 *
 * <p>-Dconta.plan.winograd=false turns it off (the plan then runs oneDNN's direct kernels everywhere);
 * -Dconta.plan.winograd.maxpairs=N takes only layers with cin x cout at most N (default 512 x 512:
 * {@link #DEFAULT_MAX_PAIRS}).
 */
public final class Winograd {
    private static final String RESOURCE = "native/libconta_cpu.so";
    private static final MethodHandle WEIGHTS_FLOATS, TRANSFORM, WORKSPACE_FLOATS, CONV, MAX_THREADS, TILE, SET_L2;
    private static final MethodHandle BF16_HALFS, BF16_TRANSFORM, BF16_WORKSPACE_FLOATS, BF16_CONV;
    private static final String UNAVAILABLE, BF16_UNAVAILABLE;

    /**
     * The widest layer (cin x cout) the kernel takes unless told: 512 x 512, ResNet's widest. Session 29 kept the
     * 512 -> 512 layers off it on the AMX hosts (Intel Xeon), where oneDNN's direct kernel ran them 1.12-1.42x faster;
     * that was the kernel's blocks of 8 tiles reading all 16.8 MB of U from memory each. With blocks sized by the L2
     * (winograd.c, session 30) it runs them faster than oneDNN there too: 5.5 against 8.2 ms at 28x28 (the CAM
     * network's layer 4), 7.0 against 9.2 at DeepLab's 31x31 with dilation 4 (bench/wino_blocks_bench.c); the CAM
     * network @448 109 against 115-116 ms with them, DeepLab-v2 @321 602-609 against 613-619.
     */
    static final long DEFAULT_MAX_PAIRS = 512L * 512;

    /**
     * Whether layers whose transformed weights exceed L2 take blocks of half of L2 (winograd.c, v_block_bytes) rather
     * than 256 KB: by default where a core's L2 holds 2 MB ({@link CpuFlags#largeL2}, where it was measured: session
     * 30, Intel); -Dconta.plan.winograd.wideblocks=true|false says otherwise.
     */
    static final boolean WIDE_BLOCKS = conta.io.SystemProps.flag("conta.plan.winograd.wideblocks", CpuFlags.largeL2(CpuFlags.l2Bytes()));
    private static final long MAX_PAIRS = conta.io.SystemProps.count("conta.plan.winograd.maxpairs", DEFAULT_MAX_PAIRS);

    /** libconta_cpu.so's symbols (also {@link GemmConv}'s), or null: then {@link #LIBRARY_UNAVAILABLE} says why. */
    static final SymbolLookup LIBRARY;
    /** Null when libconta_cpu.so loaded and the CPU has AVX-512, else why not (one line). */
    static final String LIBRARY_UNAVAILABLE;
    static {
        SymbolLookup lookup = null;
        String why;
        try {
            why = DnnlLibrary.unavailableReason(); // oneDNN first: it loads the libgomp this library links to
            if (why == null) {
                Path lib = library();
                if (lib == null) why = "libconta_cpu.so not on the classpath (built by native/build.sh with gcc)";
                else {
                    lookup = SymbolLookup.libraryLookup(lib, Arena.global());
                    MethodHandle supported = Linker.nativeLinker().downcallHandle(lookup.find("conta_wino_supported").orElseThrow(),
                            FunctionDescriptor.of(JAVA_INT));
                    if ((int) supported.invokeExact() == 0) why = "this CPU has no AVX-512";
                }
            }
        } catch (Throwable e) {
            why = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        LIBRARY = why == null ? lookup : null;
        LIBRARY_UNAVAILABLE = why;
    }
    static {
        MethodHandle wf = null, tr = null, wsf = null, conv = null, mt = null, tile = null, l2 = null;
        MethodHandle bh = null, btr = null, bwsf = null, bconv = null;
        String why, whyBf16 = null;
        try {
            why = !conta.io.SystemProps.flag("conta.plan.winograd", true) ? "off (-Dconta.plan.winograd=false)" : LIBRARY_UNAVAILABLE;
            if (LIBRARY != null) mt = bind("conta_wino_max_threads", FunctionDescriptor.of(JAVA_INT));
            if (why == null) {
                wf = bind("conta_wino_weights_floats", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT));
                tr = bind("conta_wino_transform_weights", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
                wsf = bind("conta_wino_workspace_floats",
                        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
                conv = bind("conta_wino_conv", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
                tile = bind("conta_wino_tile", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
                // the kernel sizes its blocks of tiles by the core's L2 (winograd.c, v_block_bytes): set before any
                // workspace is sized, so that the sizes and the calls agree
                l2 = bind("conta_wino_set_l2", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT));
                l2.invokeExact(Math.max(CpuFlags.l2Bytes(), 0L), WIDE_BLOCKS ? 1 : 0);
                if (!conta.io.SystemProps.flag("conta.plan.winograd.bf16", true)) whyBf16 = "off (-Dconta.plan.winograd.bf16=false)";
                else if ((int) bind("conta_wino_bf16_supported", FunctionDescriptor.of(JAVA_INT)).invokeExact() == 0)
                    whyBf16 = "this CPU has no AVX512-BF16";
                else {
                    bh = bind("conta_wino_bf16_weights_halfs", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT));
                    btr = bind("conta_wino_bf16_transform_weights", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
                    bwsf = bind("conta_wino_bf16_workspace_floats",
                            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
                    bconv = bind("conta_wino_bf16_conv", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                            JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
                }
            }
        } catch (Throwable e) {
            why = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        WEIGHTS_FLOATS = wf; TRANSFORM = tr; WORKSPACE_FLOATS = wsf; CONV = conv; MAX_THREADS = mt; TILE = tile; SET_L2 = l2;
        BF16_HALFS = bh; BF16_TRANSFORM = btr; BF16_WORKSPACE_FLOATS = bwsf; BF16_CONV = bconv;
        UNAVAILABLE = why;
        BF16_UNAVAILABLE = why != null ? why : whyBf16;
    }

    private Winograd() { }

    /** A downcall handle for a libconta_cpu.so function (the library loaded: {@link #LIBRARY} not null). */
    static MethodHandle bind(String name, FunctionDescriptor fd, Linker.Option... options) {
        return Linker.nativeLinker().downcallHandle(LIBRARY.find(name).orElseThrow(), fd, options);
    }

    /**
     * For tests: the L2 size the kernel sizes its blocks of tiles by, and whether wide layers take blocks of half of it
     * (this CPU's and {@link #WIDE_BLOCKS} unless set), so that both block sizes run on any host. Plans compiled before
     * and run after a change would size their workspace for the other blocks: set it before compiling and restore it
     * ({@link #restoreBlocks}) after running.
     */
    static void blockL2(long bytes, boolean wide) {
        try {
            SET_L2.invokeExact(Math.max(bytes, 0L), wide ? 1 : 0);
        } catch (Throwable e) { throw rethrow(e); }
    }

    /** For tests: this CPU's L2 and {@link #WIDE_BLOCKS} again, after {@link #blockL2}. */
    static void restoreBlocks() { blockL2(CpuFlags.l2Bytes(), WIDE_BLOCKS); }

    /** Whether the kernel can run here (library built and loaded, AVX-512, not turned off). */
    public static boolean available() { return UNAVAILABLE == null; }

    /** Null when available, else why not (one line). */
    public static String unavailableReason() { return UNAVAILABLE; }

    /**
     * Whether the bf16 kernel can run here: the library, AVX512-BF16, not turned off (-Dconta.plan.winograd.bf16=false).
     * It always uses F(2x2,3x3): F(4x4) with bf16 transformed inputs was 12x less accurate than oneDNN's direct bf16
     * convolution (native/src/winograd.c).
     */
    public static boolean bf16Available() { return BF16_UNAVAILABLE == null; }

    /** Null when the bf16 kernel can run, else why not. */
    public static String bf16UnavailableReason() { return BF16_UNAVAILABLE; }

    /**
     * Whether bf16 plans use the kernel: where it runs and the CPU has no AMX (with AMX oneDNN's tile kernels are
     * several times faster, bench/RESULTS-latency.md).
     */
    public static boolean bf16Chosen() { return bf16Available() && !CpuFlags.amx(); }

    /** Null when bf16 plans use the kernel, else why not. */
    public static String bf16NotChosenReason() {
        return !bf16Available() ? BF16_UNAVAILABLE : bf16Chosen() ? null : "this CPU has AMX (oneDNN's tile kernels are faster)";
    }

    /** bf16 values of the bf16 kernel's transformed weights for cin -> cout (also the floats its transform borrows). */
    static long bf16WeightsHalfs(int cin, int cout) {
        try { return (long) BF16_HALFS.invokeExact(cin, cout); } catch (Throwable e) { throw rethrow(e); }
    }

    /** Transforms w [cout][cin][3][3] into the bf16 kernel's u (bf16WeightsHalfs halfs), using tmp (as many floats). */
    static void bf16TransformWeights(MemorySegment w, int cin, int cout, MemorySegment tmp, MemorySegment u) {
        try { BF16_TRANSFORM.invokeExact(w, cin, cout, tmp, u); } catch (Throwable e) { throw rethrow(e); }
    }

    /** Workspace floats of one bf16 call on `threads` threads. */
    static long bf16WorkspaceFloats(int h, int w, int dil, int cin, int cout, int threads) {
        try { return (long) BF16_WORKSPACE_FLOATS.invokeExact(h, w, dil, cin, cout, threads); } catch (Throwable e) { throw rethrow(e); }
    }

    /** y = relu?(conv(x) + bias) with x, y NHWC bfloat16 and bias float32 (may be NULL), at native addresses. */
    static void bf16Conv(MemorySegment x, int h, int w, int dil, int cin, int cout, MemorySegment u, MemorySegment bias, boolean relu,
                         MemorySegment y, MemorySegment ws, int threads) {
        try {
            BF16_CONV.invokeExact(x, h, w, dil, cin, cout, u, bias, relu ? 1 : 0, y, ws, threads);
        } catch (Throwable e) { throw rethrow(e); }
    }

    /**
     * Whether the plan should take this convolution to the kernel: 3x3, stride 1, padding = dilation (the same in both
     * directions), output channels a multiple of 32, and at most {@link #DEFAULT_MAX_PAIRS} channel pairs (512 -> 512 is
     * the widest ResNet layer; nothing wider was measured). The 512 -> 512 layers, whose 16 transformed weight planes
     * (1.8x the direct weights) come from memory every call, pay only since the GEMM prefetches them (session 12, AMD:
     * their share of a call 1.5 -> 1.2 ms in ResNet-50 @224, 26 -> 19 ms in the CAM network @448, 100 -> 90 ms in
     * DeepLab-v2 @321) and, where U exceeds L2, since the blocks are sized by it ({@link #DEFAULT_MAX_PAIRS}).
     */
    public static boolean suits(int cin, int cout, int kh, int kw, int strideH, int strideW, int padH, int padW, int dilH, int dilW) {
        return kh == 3 && kw == 3 && strideH == 1 && strideW == 1 && dilH == dilW && padH == dilH && padW == dilW
                && cout % 32 == 0 && (long) cin * cout <= MAX_PAIRS;
    }

    /** The output tile the kernel uses for cin -> cout: 4 (F(4x4,3x3)) for narrow layers, else 2 (F(2x2,3x3)). */
    static int tile(int cin, int cout) {
        try { return (int) TILE.invokeExact(cin, cout); } catch (Throwable e) { throw rethrow(e); }
    }

    /** Floats of the transformed weights for cin -> cout. */
    static long weightsFloats(int cin, int cout) {
        try { return (long) WEIGHTS_FLOATS.invokeExact(cin, cout); } catch (Throwable e) { throw rethrow(e); }
    }

    /** Transforms w [cout][cin][3][3] (at address w) into u (weightsFloats floats). */
    static void transformWeights(MemorySegment w, int cin, int cout, MemorySegment u) {
        try { TRANSFORM.invokeExact(w, cin, cout, u); } catch (Throwable e) { throw rethrow(e); }
    }

    /** Workspace floats one call on `threads` threads needs. */
    static long workspaceFloats(int h, int w, int dil, int cin, int cout, int threads) {
        try { return (long) WORKSPACE_FLOATS.invokeExact(h, w, dil, cin, cout, threads); } catch (Throwable e) { throw rethrow(e); }
    }

    /** OpenMP's thread count (OMP_NUM_THREADS or the cores), the one oneDNN's primitives use. */
    static int maxThreads() {
        try { return (int) MAX_THREADS.invokeExact(); } catch (Throwable e) { throw rethrow(e); }
    }

    /** y = relu?(conv(x) + bias), all NHWC float32 at native addresses; bias may be NULL. */
    static void conv(MemorySegment x, int h, int w, int dil, int cin, int cout, MemorySegment u, MemorySegment bias, boolean relu,
                     MemorySegment y, MemorySegment ws, int threads) {
        try {
            CONV.invokeExact(x, h, w, dil, cin, cout, u, bias, relu ? 1 : 0, y, ws, threads);
        } catch (Throwable e) { throw rethrow(e); }
    }

    static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException r) return r;
        if (e instanceof Error err) throw err;
        return new IllegalStateException(e);
    }

    /**
     * The library's file: as it is when the classpath is a directory; else copied out of the jar once into the user's
     * cache, ~/.cache/conta/native/SHA/ (XDG_CACHE_HOME), named by the SHA-256 of its bytes and reused by every later
     * process. A copy per process in /tmp was left behind by every embedding host (its JVM never shuts down) and by
     * deleteOnExit's order; a shared /tmp name could be planted by another user, a folder under home cannot.
     */
    private static Path library() throws IOException {
        URL url = Winograd.class.getResource(RESOURCE);
        if (url == null) return null;
        if ("file".equals(url.getProtocol())) return Path.of(java.net.URI.create(url.toString()));
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        String sha = sha256(bytes);
        String xdg = System.getenv("XDG_CACHE_HOME");
        String home = System.getProperty("user.home", "");
        Path base = xdg != null && xdg.startsWith("/") ? Path.of(xdg) : home.startsWith("/") ? Path.of(home, ".cache") : null;
        Path tmp = null;
        try {
            if (base == null) throw new IOException("no home folder (user.home " + home + ")"); // not ./?/.cache
            Path lib = base.resolve("conta").resolve("native").resolve(sha.substring(0, 16)).resolve("libconta_cpu.so");
            if (Files.isRegularFile(lib) && sha256(Files.readAllBytes(lib)).equals(sha)) return lib;
            Files.createDirectories(lib.getParent());
            tmp = Files.createTempFile(lib.getParent(), "libconta_cpu", ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, lib, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE); // racing processes: same bytes
            tmp = null;
            return lib;
        } catch (IOException | RuntimeException unwritableHome) {
            // no usable home (read-only, none): one copy for this process, removed at its exit (a C host's JVM never
            // exits, so there the folder stays: docs/api.md)
            Path dir = Files.createTempDirectory("conta-native");
            Path one = dir.resolve("libconta_cpu.so");
            Files.write(one, bytes);
            dir.toFile().deleteOnExit(); // registered first: deleteOnExit runs in reverse order, the file before its folder
            one.toFile().deleteOnExit();
            return one;
        } finally {
            if (tmp != null) Files.deleteIfExists(tmp); // a failed write or move leaves no .tmp in the cache
        }
    }

    private static String sha256(byte[] b) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
