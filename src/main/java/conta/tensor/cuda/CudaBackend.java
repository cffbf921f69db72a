package conta.tensor.cuda;

import conta.io.SystemProps;
import static conta.tensor.Shapes.gemmDims;
import static conta.tensor.Shapes.sameShape;
import static conta.tensor.Shapes.spatial;

import static org.bytedeco.cuda.global.cudart.*;

import conta.tensor.Backend;
import conta.tensor.ConvSpec;
import conta.tensor.DType;
import conta.tensor.LayerShapes;
import conta.tensor.Layout;
import conta.tensor.Storage;
import conta.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.Pointer;

/**
 * The CUDA backend: one device, one stream per instance (one per trainer), memory from a caching allocator, cuDNN for
 * convolution (algorithm cached per shape), batch norm and softmax, cuBLAS for GEMM, conta's kernels (kernels/*.cu) for
 * the rest. Same contract as {@link conta.tensor.cpu.CpuBackend}, which is the reference the self-test compares with.
 *
 * <p>Options (system properties): conta.cuda.tf32 (default true), conta.cuda.deterministic (default true: only
 * deterministic cuDNN algorithms), conta.cuda.convSearch=heuristic|auto|find (default heuristic when deterministic, else
 * auto: heuristic for a shape seen once, measured when it recurs), conta.cuda.planCache (default 64 plans, LRU),
 * conta.cuda.convApi=legacy|graph (default legacy: cudnnConvolution* calls; graph: cached graph-API execution plans
 * chosen as conta.cuda.graphSearch=heuristic|top|measure says, saved and replayed with conta.cuda.graphChoices=FILE
 * (ConvGraphs); convSearch applies to the legacy calls only; the legacy call where no engine fits; planCache bounds
 * each direction's graph plans too), conta.cuda.workspaceMiB (default 256), conta.cuda.sync=true (synchronise after every op so an asynchronous error
 * names the op that caused it).
 */
public final class CudaBackend implements Backend {
    private static volatile boolean announced;
    final int device;
    final CUstream_st stream = new CUstream_st();
    final DeviceMemory mem = new DeviceMemory();
    final Kernels kernels;
    final Cudnn dnn;
    final ConvPlans conv;
    final Cublas blas;
    final PinnedStaging staging;
    final boolean tf32;
    final boolean deterministic;
    private final boolean syncEach = SystemProps.flag("conta.cuda.sync", false);
    // kernels written in session 19 after its GPU time was spent: opt-in until a GPU self-test has passed with them
    private final boolean fusedAffineBackward = SystemProps.flag("conta.cuda.fusedAffineBackward", false);
    private final boolean vectorElementwise = SystemProps.flag("conta.cuda.vectorElementwise", false);
    private final boolean fusedRelu = SystemProps.flag("conta.cuda.fusedRelu", false);
    private final boolean argmaxMaxPool = "argmax".equals(SystemProps.choice("conta.cuda.maxPoolBackward", "gather"));
    private final DeviceMemory.Block scratch; // partial sums (512 doubles) + an error flag and value for loss kernels
    private volatile Thread bound;

    public CudaBackend(int device) { this(device, SystemProps.flag("conta.cuda.tf32", true)); }

    public CudaBackend(int device, boolean tf32) {
        String why = CudaRuntime.unavailableReason();
        if (why != null) throw new IllegalStateException("cuda:" + device + ": no CUDA device: " + why);
        this.device = device;
        this.tf32 = tf32;
        CudaRuntime.check(cudaSetDevice(device), "cudaSetDevice(" + device + ")", "CUDA setup");
        CudaRuntime.check(cudaFree(null), "cudaFree(0)", "CUDA setup"); // creates the primary context the driver API shares
        CudaRuntime.checkDriver(cuInit(0), "cuInit", "CUDA setup");
        bound = Thread.currentThread();
        CudaRuntime.check(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags", "CUDA setup");
        // deterministic by default (resume repeats the sums): heuristic choice among deterministic algorithms, which is
        // reproducible; -Dconta.cuda.deterministic=false allows every algorithm and measures shapes that recur
        deterministic = SystemProps.flag("conta.cuda.deterministic", true);
        PinnedStaging st = null;
        Kernels k = null;
        Cudnn d = null;
        ConvPlans cp = null;
        Cublas bl = null;
        try { // any part may fail to load (kernels missing from the jar, no cuDNN or cuBLAS): release what was made
            st = new PinnedStaging(stream);
            k = new Kernels(CudaRuntime.computeCapability(device));
            d = new Cudnn(mem, stream, SystemProps.count("conta.cuda.workspaceMiB", 256) << 20);
            cp = new ConvPlans(d, mem, tf32, ConvPlans.search(SystemProps.choice("conta.cuda.convSearch", deterministic ? "heuristic" : "auto")),
                    deterministic, convApi(SystemProps.choice("conta.cuda.convApi", "legacy")) ? graphs(d, device, tf32, deterministic) : null);
            bl = new Cublas(stream, tf32);
            scratch = new DeviceMemory.Block(mem, 8192, "loss scratch");
        } catch (RuntimeException | LinkageError e) {
            for (AutoCloseable c : new AutoCloseable[]{bl, cp, d, k, st})
                if (c != null) try { c.close(); } catch (Exception | LinkageError ignored) { /* the first failure is the one to report */ }
            mem.close();
            cudaStreamDestroy(stream);
            throw e;
        }
        staging = st;
        kernels = k;
        dnn = d;
        conv = cp;
        blas = bl;
        if (!announced) {
            announced = true;
            System.err.println("conta: " + describe());
        }
    }

    /**
     * The graph-API convolutions with their search mode and, under measure or when -Dconta.cuda.graphChoices names a
     * file, the choices (kept in memory until a file is named: the property's, or a pipeline run's, useRunFolder).
     */
    private ConvGraphs graphs(Cudnn d, int device, boolean tf32, boolean deterministic) {
        GraphEngines.Search search = GraphEngines.search(SystemProps.choice("conta.cuda.graphSearch", "heuristic"));
        String file = SystemProps.text("conta.cuda.graphChoices");
        long capMiB = SystemProps.count("conta.cuda.graphWorkspaceCapMiB", -1); // unset: GraphEngines' 4x the workspace
        // a choice holds for the same GPU, cuDNN and settings only
        ConvChoices choices = file == null && search != GraphEngines.Search.MEASURE ? null : new ConvChoices(file == null ? null : Path.of(file),
                CudaRuntime.describe(device) + "; " + d.describe() + "; TF32 " + tf32 + "; deterministic " + deterministic + "; search " + search
                + "; workspace " + (d.workspaceLimit >> 20) + " MiB, cap " + (capMiB < 0 ? "4x" : capMiB + " MiB")
                + ", candidates " + SystemProps.count("conta.cuda.graphCandidates", 8));
        return new ConvGraphs(d, new GraphEngines(d, mem, stream, tf32, deterministic, search, choices));
    }

    /** The file in a pipeline run's folder where the graph path's measured engine choices are kept (see useRunFolder). */
    public static final String GRAPH_CHOICES_FILE = "cuda-graph-choices.tsv";

    /**
     * With the graph path measuring its engines (-Dconta.cuda.convApi=graph -Dconta.cuda.graphSearch=measure) and no
     * -Dconta.cuda.graphChoices, the choices are saved in the run's folder ({@value #GRAPH_CHOICES_FILE}), so that a
     * resumed run replays them and repeats its sums. The graph path's heuristic and top choices repeat by themselves;
     * the legacy calls' measured ones (convSearch auto or find) are allowed only with -Dconta.cuda.deterministic=false,
     * which gives up repeating the sums anyway.
     */
    @Override
    public void useRunFolder(Path dir) {
        if (conv.graphs() == null || SystemProps.text("conta.cuda.graphChoices") != null) return;
        conv.graphs().keepChoicesIn(dir.resolve(GRAPH_CHOICES_FILE), this::synchronize);
    }

    /** true for the graph API (cuDNN backend descriptors, {@link ConvGraphs}), false for the legacy calls only. */
    static boolean convApi(String v) {
        return switch (v) {
            case "graph" -> true;
            case "legacy" -> false;
            default -> throw new IllegalArgumentException("-Dconta.cuda.convApi=" + v + ": expected graph or legacy");
        };
    }

    /** Device, driver/runtime versions, cuDNN version, kernel image and TF32 setting, for logs and the self-test. */
    public String describe() {
        return "cuda:" + device + " " + CudaRuntime.describe(device) + "; " + dnn.describe() + "; " + blas.describe() + "; kernels "
                + kernels.variant() + "; TF32 " + (tf32 ? "on" : "off") + "; deterministic " + (deterministic ? "on" : "off") + "; conv API " + SystemProps.choice("conta.cuda.convApi", "legacy");
    }

    /** The convolution algorithm chosen per shape and direction (latest 256), for the benchmark. */
    public java.util.List<String> convAlgorithms() { return conv.algorithms(); }

    /** Convolution plans evicted from the bounded cache so far. */
    public long convPlanEvictions() { return conv.evictions();
    }

    @Override public String name() { return "cuda:" + device; }

    /** The WSSS ops on this device: conta's kernels (kernels/cam.cu, walk.cu, resize.cu, confusion.cu). */
    @Override public conta.tensor.WsssOps wsss() { return new CudaWsss(this); }

    /** cudaMalloc calls so far: constant across steps once the allocator's cache is warm. */
    public long mallocCount() { return mem.mallocCount(); }

    /** Convolution algorithm searches so far: one per new shape and direction, never per call. */
    public int convSearches() { return conv.searches(); }

    public String memoryStats() { return "in use " + DeviceMemory.mib(mem.bytesInUse()) + ", cached " + DeviceMemory.mib(mem.bytesCached()); }

    // ---------------------------------------------------------------- plumbing
    static long addr(Tensor t) {
        Storage s = t.storage();
        if (s instanceof Tensor.SharedStorage sh) s = sh.owner;
        if (!(s instanceof DeviceMemory.Block b)) throw new IllegalArgumentException("tensor " + t + " does not live on a CUDA backend");
        return b.address();
    }

    static Pointer ptr(Tensor t) { return t == null ? null : new DevPtr(addr(t)); }

    static Long a(Tensor t) { return t == null ? null : addr(t); }

    /** Runtime calls bind the primary context per thread by themselves; driver-API launches need it current. */
    void enter() {
        if (bound != Thread.currentThread()) {
            CudaRuntime.check(cudaSetDevice(device), "cudaSetDevice", "binding " + name() + " to thread " + Thread.currentThread().getName());
            bound = Thread.currentThread();
        }
    }

    void launch(String kernel, long n, String op, Object... args) {
        kernels.launch(kernel, Kernels.grid(n), Kernels.BLOCK, 0, stream, op, args);
    }

    void done(String op) {
        if (syncEach) CudaRuntime.check(cudaStreamSynchronize(stream), "cudaStreamSynchronize", op);
    }

    private static Object[] concat(Object[] a, Object[] b) {
        Object[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static String shapes(Tensor... ts) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : ts) if (t != null) sb.append(sb.isEmpty() ? "" : " ").append(t.shapeString());
        return sb.toString();
    }

    // ---------------------------------------------------------------- memory
    @Override
    public Tensor empty(int... shape) {
        enter();
        return new Tensor(this, new DeviceMemory.Block(mem, Tensor.numel(shape) * 4L, "tensor " + Arrays.toString(shape)), DType.F32,
                Layout.NCHW, shape);
    }

    @Override
    public void upload(Tensor t, float[] src) {
        if (src.length != t.numel()) throw new IllegalArgumentException(src.length + " values for " + t);
        enter();
        staging.upload(src, addr(t), "upload " + t); // pinned, stream-ordered, returns before the copy has run
        done("upload");
    }

    @Override
    public float[] download(Tensor t) {
        enter();
        return staging.downloadFloats(addr(t), Math.toIntExact(t.numel()), "download " + t);
    }

    private double[] downloadDoubles(long address, int n, String op) { return staging.downloadDoubles(address, n, op); }

    @Override
    public void fill(Tensor t, float value) {
        enter();
        if (value == 0f && Float.floatToRawIntBits(value) == 0)
            CudaRuntime.check(cudaMemsetAsync(ptr(t), 0, t.numel() * 4, stream), "cudaMemsetAsync", "fill " + t);
        else launch("fill_f32", t.numel(), "fill " + t, a(t), t.numel(), value);
        done("fill");
    }

    @Override
    public void copy(Tensor src, long srcOff, Tensor dst, long dstOff, long n) {
        checkRange(src, srcOff, n);
        checkRange(dst, dstOff, n);
        enter();
        CudaRuntime.check(cudaMemcpyAsync(new DevPtr(addr(dst) + dstOff * 4), new DevPtr(addr(src) + srcOff * 4), n * 4,
                cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync", "copy " + shapes(src, dst));
        done("copy");
    }

    private static void checkRange(Tensor t, long off, long n) {
        if (off < 0 || n < 0 || off + n > t.numel()) throw new IndexOutOfBoundsException("range [" + off + ", " + (off + n) + ") outside " + t);
    }

    @Override
    public void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int count, boolean accumulate) {
        int n = src.dim(0), hw = spatial(src);
        if (dst.dim(0) != n || spatial(dst) != hw || srcC0 + count > src.dim(1) || dstC0 + count > dst.dim(1))
            throw new IllegalArgumentException("copyChannels: " + src + "[" + srcC0 + "+" + count + "] -> " + dst + "[" + dstC0 + "]");
        enter();
        int cs = src.dim(1), cd = dst.dim(1);
        String op = "copyChannels " + shapes(src, dst);
        if (!accumulate) { // n rows of count*hw floats: one strided 2-d copy
            CudaRuntime.check(cudaMemcpy2DAsync(new DevPtr(addr(dst) + (long) dstC0 * hw * 4), (long) cd * hw * 4,
                    new DevPtr(addr(src) + (long) srcC0 * hw * 4), (long) cs * hw * 4, (long) count * hw * 4, n,
                    cudaMemcpyDeviceToDevice, stream), "cudaMemcpy2DAsync", op);
        } else {
            launch("copy_channels_acc", (long) n * count * hw, op, a(src), cs, srcC0, a(dst), cd, dstC0, count, (long) hw, n);
        }
        done(op);
    }

    // ---------------------------------------------------------------- elementwise
    /** Whether the float4 kernels serve these arrays: opted in, and every address 16-byte aligned. */
    private boolean vector(Tensor... ts) {
        if (!vectorElementwise) return false;
        for (Tensor t : ts) if ((addr(t) & 15) != 0) return false;
        return true;
    }

    /** The threads a kernel needs: one per element, one per four for the float4 variants (their tail rides along). */
    private static long lanes(String kernel, long n) { return kernel.endsWith("_v4") ? (n + 3) / 4 : n; }

    @Override
    public void addScaled(Tensor x, float alpha, Tensor y, float beta, Tensor out) {
        sameShape("addScaled", x, y);
        sameShape("addScaled", x, out);
        enter();
        String k = vector(x, y, out) ? "add_scaled_v4" : "add_scaled";
        launch(k, lanes(k, x.numel()), "addScaled " + x, a(x), alpha, a(y), beta, a(out), x.numel());
        done("addScaled");
    }

    @Override
    public void mul(Tensor x, Tensor y, Tensor out) {
        sameShape("mul", x, y);
        sameShape("mul", x, out);
        enter();
        launch("mul_f32", x.numel(), "mul " + x, a(x), a(y), a(out), x.numel());
        done("mul");
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        sameShape("scale", x, out);
        enter();
        String k = vector(x, out) ? "scale_f32_v4" : "scale_f32";
        launch(k, lanes(k, x.numel()), "scale " + x, a(x), s, a(out), x.numel());
        done("scale");
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        sameShape("relu", x, y);
        enter();
        String k = vector(x, y) ? "relu_fwd_v4" : "relu_fwd";
        launch(k, lanes(k, x.numel()), "relu " + x, a(x), a(y), x.numel());
        done("relu");
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        sameShape("reluBackward", y, dy);
        sameShape("reluBackward", y, dx);
        enter();
        String k = vector(y, dy, dx) ? "relu_bwd_v4" : "relu_bwd";
        launch(k, lanes(k, y.numel()), "reluBackward " + y, a(y), a(dy), a(dx), y.numel());
        done("reluBackward");
    }

    @Override
    public void sigmoid(Tensor x, Tensor y) {
        sameShape("sigmoid", x, y);
        enter();
        launch("sigmoid_fwd", x.numel(), "sigmoid " + x, a(x), a(y), x.numel());
        done("sigmoid");
    }

    @Override
    public void softmax(Tensor x, Tensor y) {
        sameShape("softmax", x, y);
        enter();
        dnn.softmax(x, y, "softmax " + x);
        done("softmax");
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        sameShape("softmaxBackward", y, dy);
        sameShape("softmaxBackward", y, dx);
        enter();
        dnn.softmaxBackward(y, dy, dx, "softmaxBackward " + y);
        done("softmaxBackward");
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, Tensor y) {
        conta.tensor.Shapes.channelAffine("channelAffine", x, scale, shift, y);
        int c = x.dim(1);
        enter();
        launch("channel_affine", x.numel(), "channelAffine " + x, a(x), a(scale), a(shift), a(y), c, (long) spatial(x), x.numel());
        done("channelAffine");
    }

    /**
     * Frozen batch norm's backward. With -Dconta.cuda.fusedAffineBackward=true in one pass (kernels/reduce.cu,
     * channel_affine_bwd: blocks of (channel, part) and a fixed-order sum of the parts); else the Backend default's four.
     */
    @Override
    public void channelAffineBackward(Tensor x, Tensor y, Tensor dy, Tensor scale, Tensor dx, Tensor sumG, Tensor sumGX) {
        if (!fusedAffineBackward) {
            Backend.super.channelAffineBackward(x, y, dy, scale, dx, sumG, sumGX);
            return;
        }
        sameShape("channelAffineBackward", x, dy);
        if (y != null) sameShape("channelAffineBackward", x, y);
        if (dx != null) sameShape("channelAffineBackward", x, dx);
        int n = x.dim(0), c = x.dim(1);
        for (Tensor t : new Tensor[]{scale, sumG, sumGX})
            if (t != null && t.numel() != c) throw new IllegalArgumentException("channelAffineBackward: " + t + " for " + x + " (one value per channel)");
        long hw = spatial(x), total = n * hw;
        boolean sums = sumG != null || sumGX != null;
        if (c == 0 || dx == null && !sums) return;
        // enough blocks for the GPU (about 1024) and at least 2048 values each; a function of the shape only (deterministic)
        int parts = (int) Math.max(1, Math.min((1024 + c - 1) / c, (total + 2047) / 2048));
        long chunk = (total + parts - 1) / parts;
        String op = "channelAffineBackward " + x;
        enter();
        DeviceMemory.Block partial = sums ? new DeviceMemory.Block(mem, 16L * c * parts, "partial sums for " + op) : null;
        try { // freed at once: the stream orders any reuse after these kernels
            kernels.launch("channel_affine_bwd", c * parts, 256, 0, stream, op, a(x), a(y), a(dy), a(scale), a(dx),
                    partial == null ? null : partial.address(), n, c, hw, parts, chunk, sums ? 1 : 0);
            if (sums) launch("channel_affine_bwd_finish", c, op, partial.address(), a(sumG), a(sumGX), c, parts);
        } finally {
            if (partial != null) partial.free();
        }
        done(op);
    }

    /** Frozen BN + ReLU: one kernel with -Dconta.cuda.fusedRelu=true (channel_affine_relu), else the Backend default's two. */
    @Override
    public void channelAffineRelu(Tensor x, Tensor scale, Tensor shift, Tensor y) {
        if (!fusedRelu) {
            Backend.super.channelAffineRelu(x, scale, shift, y);
            return;
        }
        conta.tensor.Shapes.channelAffine("channelAffineRelu", x, scale, shift, y);
        enter();
        launch("channel_affine_relu", x.numel(), "channelAffineRelu " + x, a(x), a(scale), a(shift), a(y), x.dim(1), (long) spatial(x), x.numel());
        done("channelAffineRelu");
    }

    /** A residual block's output: one kernel with -Dconta.cuda.fusedRelu=true (add_relu), else the Backend default's two. */
    @Override
    public void addRelu(Tensor a, Tensor b, Tensor y) {
        if (!fusedRelu) {
            Backend.super.addRelu(a, b, y);
            return;
        }
        sameShape("addRelu", a, b);
        sameShape("addRelu", a, y);
        enter();
        launch("add_relu", a.numel(), "addRelu " + a, a(a), a(b), a(y), a.numel());
        done("addRelu");
    }

    @Override
    public void batchNormFold(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor scale, Tensor shift, Tensor invStd) {
        int c = LayerShapes.perChannel("batchNormFold", gamma, beta, mean, var, scale, shift, invStd);
        enter();
        launch("bn_fold", c, "batchNormFold " + gamma, a(gamma), a(beta), a(mean), a(var), eps, a(scale), a(shift), a(invStd), c);
        done("batchNormFold");
    }

    @Override
    public void batchNormFoldGammaGrad(Tensor invStd, Tensor mean, Tensor sumG, Tensor sumGX, Tensor dgamma) {
        int c = LayerShapes.perChannel("batchNormFoldGammaGrad", invStd, mean, sumG, sumGX, dgamma);
        enter();
        launch("bn_fold_dgamma", c, "batchNormFoldGammaGrad " + dgamma, a(invStd), a(mean), a(sumG), a(sumGX), a(dgamma), c);
        done("batchNormFoldGammaGrad");
    }

    @Override
    public void copyWindow(Tensor src, int srcTop, int srcLeft, Tensor dst, int dstTop, int dstLeft, int h, int w, boolean accumulate) {
        int planes = LayerShapes.window("copyWindow", src, srcTop, srcLeft, dst, dstTop, dstLeft, h, w);
        long n = (long) planes * h * w;
        if (n == 0) return;
        enter();
        launch("copy_window", n, "copyWindow " + shapes(src, dst), a(src), src.dim(2), src.dim(3), srcTop, srcLeft, a(dst), dst.dim(2), dst.dim(3),
                dstTop, dstLeft, h, w, planes, accumulate ? 1 : 0);
        done("copyWindow");
    }

    @Override
    public void channelSum(Tensor x, Tensor out, boolean accumulate) { channelDot(x, null, out, accumulate); }

    @Override
    public void channelDot(Tensor x, Tensor y, Tensor out, boolean accumulate) {
        if (y != null) sameShape("channelDot", x, y);
        int c = x.dim(1);
        if (out.numel() != c) throw new IllegalArgumentException("channelDot: out " + out + " for " + x);
        enter();
        kernels.launch("channel_dot", c, 256, 0, stream, "channelDot " + x, a(x), a(y), a(out), x.dim(0), c, (long) spatial(x), accumulate ? 1 : 0);
        done("channelDot");
    }

    @Override
    public double sum(Tensor x) {
        enter();
        kernels.launch("sum_partial", 256, 256, 0, stream, "sum " + x, a(x), x.numel(), scratch.address());
        double s = 0;
        for (double v : downloadDoubles(scratch.address(), 256, "sum " + x)) s += v;
        return s;
    }

    // ---------------------------------------------------------------- linear algebra
    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor x, Tensor y, float beta, Tensor c) {
        int[] mnk = gemmDims(transA, transB, x, y, c);
        int m = mnk[0], n = mnk[1], k = mnk[2];
        if (m == 0 || n == 0) return;
        enter();
        blas.gemm(transA, transB, m, n, k, alpha, x, y, beta, c, "gemm " + shapes(x, y, c));
        done("gemm");
    }

    // ---------------------------------------------------------------- convolution, batch norm
    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, ConvSpec s, Tensor y) {
        CudaChecks.conv(x, w, s, y);
        enter();
        String op = "conv2d x" + x.shapeString() + " w" + w.shapeString() + " " + s;
        conv.forward(x, w, s, y, op);
        if (bias != null) dnn.addBias(bias, y, op);
        done(op);
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, Tensor dw, Tensor db) {
        CudaChecks.conv(x, w, s, dy);
        enter();
        String op = "conv2dBackward x" + x.shapeString() + " w" + w.shapeString() + " " + s;
        if (dx != null) conv.backwardData(x, w, dy, s, dx, op);
        if (dw != null) conv.backwardFilter(x, w, dy, s, dw, op);
        if (db != null) dnn.biasBackward(dy, db, op);
        done(op);
    }

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
                               Tensor y, Tensor saveMean, Tensor saveInvStd) {
        sameShape("batchNorm", x, y);
        if ((long) x.dim(0) * spatial(x) < 2)
            throw new IllegalArgumentException("batch norm in training mode needs more than one value per channel, got input " + x.shapeString());
        enter();
        String op = "batchNormTrain " + x.shapeString();
        dnn.batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, op);
        done(op);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor gamma, Tensor dy, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta) {
        enter();
        String op = "batchNormBackward " + x.shapeString();
        // cuDNN writes all three gradients: stand-ins for the ones the caller does not want
        Tensor sdx = dx != null ? dx : empty(x.shape()), sg = dgamma != null ? dgamma : empty(gamma.shape());
        Tensor sb = dbeta != null ? dbeta : empty(gamma.shape());
        try {
            if (dgamma == null) fill(sg, 0f);
            if (dbeta == null) fill(sb, 0f);
            dnn.batchNormBackward(x, gamma, dy, saveMean, saveInvStd, sdx, sg, sb, op);
        } finally {
            if (dx == null) sdx.close();
            if (dgamma == null) sg.close();
            if (dbeta == null) sb.close();
        }
        done(op);
    }

    // ---------------------------------------------------------------- pooling and resize
    @Override
    public void maxPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        CudaChecks.pool("maxPool2d", x, s, ceil, y);
        enter();
        launch("max_pool_fwd", y.numel(), "maxPool2d " + shapes(x, y), a(x), a(y), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3),
                s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(), s.dilH(), s.dilW());
        done("maxPool2d");
    }

    @Override
    public void maxPool2dBackward(Tensor x, ConvSpec s, boolean ceil, Tensor dy, Tensor dx) {
        CudaChecks.pool("maxPool2dBackward", x, s, ceil, dy);
        sameShape("maxPool2dBackward", x, dx);
        enter();
        String op = "maxPool2dBackward " + shapes(x, dy);
        Object[] geometry = {x.dim(0) * x.dim(1), x.dim(2), x.dim(3), dy.dim(2), dy.dim(3), s.kh(), s.kw(), s.strideH(), s.strideW(),
                s.padH(), s.padW(), s.dilH(), s.dilW()};
        if (argmaxMaxPool) { // -Dconta.cuda.maxPoolBackward=argmax: each window's maximum found once (kernels/pool.cu)
            try (Tensor idx = empty(dy.shape())) { // int indices in a float tensor's bytes
                launch("max_pool_argmax", dy.numel(), op, concat(new Object[]{a(x), a(idx)}, geometry));
                launch("max_pool_bwd_idx", x.numel(), op, concat(new Object[]{a(idx), a(dy), a(dx)}, geometry));
            }
        } else {
            launch("max_pool_bwd", x.numel(), op, concat(new Object[]{a(x), a(dy), a(dx)}, geometry));
        }
        done("maxPool2dBackward");
    }

    @Override
    public void avgPool2d(Tensor x, ConvSpec s, boolean ceil, Tensor y) {
        CudaChecks.pool("avgPool2d", x, s, ceil, y);
        enter();
        launch("avg_pool_fwd", y.numel(), "avgPool2d " + shapes(x, y), a(x), a(y), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3),
                s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW());
        done("avgPool2d");
    }

    @Override
    public void avgPool2dBackward(ConvSpec s, boolean ceil, Tensor dy, Tensor dx) {
        CudaChecks.pool("avgPool2dBackward", dx, s, ceil, dy);
        enter();
        launch("avg_pool_bwd", dx.numel(), "avgPool2dBackward " + shapes(dy, dx), a(dy), a(dx), dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3),
                dy.dim(2), dy.dim(3), s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW());
        done("avgPool2dBackward");
    }

    @Override
    public void resizeBilinear(Tensor x, boolean alignCorners, Tensor y) { resize(x, alignCorners, y, false, "resizeBilinear"); }

    /** y (+)= bilinear(x): accumulate is the multi-scale CAM sum. */
    void resize(Tensor x, boolean alignCorners, Tensor y, boolean accumulate, String name) {
        CudaChecks.resize(x, y);
        enter();
        int h = x.dim(2), w = x.dim(3), oh = y.dim(2), ow = y.dim(3);
        launch("resize_bilinear_fwd", y.numel(), name + " " + shapes(x, y), a(x), a(y), x.dim(0) * x.dim(1), h, w, oh, ow,
                CudaChecks.resizeScale(h, oh, alignCorners), CudaChecks.resizeScale(w, ow, alignCorners), alignCorners ? 1 : 0, accumulate ? 1 : 0);
        done(name);
    }

    @Override
    public void resizeBilinearBackward(Tensor dy, boolean alignCorners, Tensor dx) {
        CudaChecks.resize(dx, dy);
        enter();
        String op = "resizeBilinearBackward " + shapes(dy, dx);
        int h = dx.dim(2), w = dx.dim(3), oh = dy.dim(2), ow = dy.dim(3);
        // gather form: one thread per dx element sums its taps in a fixed order (deterministic, no float atomics)
        launch("resize_bilinear_bwd", dx.numel(), op, a(dy), a(dx), dx.dim(0) * dx.dim(1), h, w, oh, ow,
                CudaChecks.resizeScale(h, oh, alignCorners), CudaChecks.resizeScale(w, ow, alignCorners), alignCorners ? 1 : 0);
        done(op);
    }

    // ---------------------------------------------------------------- losses
    @Override
    public float multilabelSoftMarginLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) {
        return sigmoidLoss("multilabelSoftMarginLoss", logits, targets, dlogits, gradScale);
    }

    @Override
    public float bceWithLogitsLoss(Tensor logits, Tensor targets, Tensor dlogits, float gradScale) {
        return sigmoidLoss("bceWithLogitsLoss", logits, targets, dlogits, gradScale);
    }

    /** Both losses average softplus(x) - x y over all elements (multilabel's mean over classes then batch is the same). */
    private float sigmoidLoss(String name, Tensor logits, Tensor targets, Tensor dlogits, float gradScale) {
        if (!logits.sameShape(targets))
            throw new IllegalArgumentException(name + ": logits " + logits.shapeString() + " vs targets " + targets.shapeString());
        enter();
        long m = logits.numel();
        String op = name + " " + logits.shapeString();
        kernels.launch("sigmoid_bce", 256, 256, 0, stream, op, a(logits), a(targets), a(dlogits), m, (double) gradScale / m, scratch.address());
        double s = 0;
        for (double v : downloadDoubles(scratch.address(), 256, op)) s += v;
        return (float) (s / m);
    }

    @Override
    public float crossEntropyLoss(Tensor logits, Tensor labels, Tensor classWeights, int ignoreIndex, Tensor dlogits, float gradScale) {
        int n = logits.dim(0), c = logits.dim(1), hw = spatial(logits);
        if (labels.numel() != (long) n * hw || labels.dim(0) != n)
            throw new IllegalArgumentException("crossEntropyLoss: labels " + labels.shapeString() + " do not match logits " + logits.shapeString());
        if (classWeights != null && classWeights.numel() != c)
            throw new IllegalArgumentException("crossEntropyLoss: " + classWeights.numel() + " class weights for " + c + " classes");
        enter();
        String op = "crossEntropyLoss " + logits.shapeString();
        long flag = scratch.address() + 4096;
        CudaRuntime.check(cudaMemsetAsync(new DevPtr(flag), 0, 8, stream), "cudaMemsetAsync", op);
        kernels.launch("cross_entropy", 256, 256, 0, stream, op, a(logits), a(labels), a(classWeights), a(dlogits), n, c, (long) hw,
                ignoreIndex, scratch.address(), flag, flag + 4);
        double[] part = downloadDoubles(scratch.address(), 512, op);
        int[] bad = staging.downloadInts(flag, 2, op); // on the backend's stream, after the kernel that wrote it
        if (bad[0] != 0)
            throw new IllegalArgumentException("crossEntropyLoss: label " + Float.intBitsToFloat(bad[1]) + " outside [0, " + c
                    + ") and not the ignore index " + ignoreIndex);
        double loss = 0, wsum = 0;
        for (int i = 0; i < 256; i++) {
            loss += part[2 * i];
            wsum += part[2 * i + 1];
        }
        if (wsum == 0) return 0f; // every pixel ignored, as on the CPU
        if (dlogits != null) launch("scale_f32", dlogits.numel(), op, a(dlogits), (float) (gradScale / wsum), a(dlogits), dlogits.numel());
        done(op);
        return (float) (loss / wsum);
    }

    // ---------------------------------------------------------------- optimizer
    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, float lr, float momentum, float weightDecay, boolean firstStep) {
        sameShape("sgdStep", param, grad);
        if (momentum != 0f && buf == null) throw new IllegalArgumentException("sgdStep: momentum needs a buffer for " + param);
        enter();
        launch("sgd_step", param.numel(), "sgdStep " + param, a(param), a(grad), a(buf), lr, momentum, weightDecay, firstStep ? 1 : 0, param.numel());
        done("sgdStep");
    }

    @Override
    public void synchronize() {
        enter();
        CudaRuntime.check(cudaStreamSynchronize(stream), "cudaStreamSynchronize", "synchronize");
    }

    @Override
    public void close() {
        synchronize();
        staging.close();
        scratch.free();
        blas.close();
        conv.close();
        dnn.close();
        kernels.close();
        mem.close();
        cudaStreamDestroy(stream);
    }

    @Override public String toString() { return "CudaBackend(" + name() + ", TF32 " + (tf32 ? "on" : "off") + ")"; }
}
