package conta.tensor.cuda;

import conta.autograd.Tape;
import conta.eval.Confusion;
import conta.models.Models;
import conta.models.Network;
import conta.optim.Sgd;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import conta.train.Objective;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * GPU self-test (bench/gpu-selftest.sh): every Backend op and every WSSS op (CudaWsss) on CUDA against the CPU backend (and its
 * HostWsss) on random inputs, per element within (atol + rtol |ref|) sqrt(k) (see {@link #worst}; rtol 1e-5
 * with TF32 off, 1e-3 for the TF32 conv/GEMM pass). Also checks that a second training step makes no cudaMalloc and no algorithm search,
 * and that errors name the op and sizes. Prints one line per case and exits 1 if any fails.
 */
public final class SelfTest {
    final CpuBackend cpu = new CpuBackend();
    final List<String> failures = new ArrayList<>();
    final SplittableRandom rnd = new SplittableRandom(42);
    int cases;

    public static void main(String[] args) {
        String why = CudaRuntime.unavailableReason();
        if (why != null) {
            System.out.println("SKIP: no CUDA device: " + why);
            System.exit(2);
        }
        SelfTest t = new SelfTest();
        // the first pass synchronises after every op (unless -Dconta.cuda.sync was given), so an asynchronous device
        // fault is reported by the case that caused it rather than by a later one
        String sync = System.getProperty("conta.cuda.sync");
        try {
            if (sync == null) System.setProperty("conta.cuda.sync", "true");
            t.run("pass 1: fp32, synchronous", () -> {
                try (CudaBackend fp32 = new CudaBackend(0, false)) {
                    System.out.println("device: " + fp32.describe());
                    new BackendCases(t, fp32, 1e-5).all();
                    new DomainCases(t, fp32).all();
                    t.steadyState(fp32);
                }
            });
            if (sync == null) System.clearProperty("conta.cuda.sync");
            t.run("pass 2: TF32 conv/GEMM", () -> {
                try (CudaBackend tf32 = new CudaBackend(0, true)) {
                    new BackendCases(t, tf32, 1e-3).convAndGemm();
                }
            });
            // cuDNN's graph-API convolutions (ConvGraphs) at ResNet-scale shapes, without and with TF32
            t.run("pass 3: graph-API convolutions at ResNet scale", () -> {
                String api = System.getProperty("conta.cuda.convApi");
                System.setProperty("conta.cuda.convApi", "graph");
                try {
                    for (boolean tf32 : new boolean[]{false, true})
                        try (CudaBackend graph = new CudaBackend(0, tf32)) {
                            new BackendCases(t, graph, tf32 ? 1e-3 : 1e-5).convLarge();
                        }
                } finally {
                    if (api == null) System.clearProperty("conta.cuda.convApi");
                    else System.setProperty("conta.cuda.convApi", api);
                }
            });
        } finally { // printed even when a device fault escapes a case: the summary is what the GPU window is for
            t.summary();
        }
        System.exit(t.failures.isEmpty() ? 0 : 1);
    }

    void summary() {
        System.out.printf("%d cases, %d failed%n", cases, failures.size());
        failures.forEach(f -> System.out.println("FAILED " + f));
        System.out.flush();
    }

    float[] randn(long n) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    static double relErr(float[] got, float[] want) {
        if (got.length != want.length) return Double.POSITIVE_INFINITY;
        double num = 0, den = 0;
        for (int i = 0; i < got.length; i++) {
            double d = (double) got[i] - want[i];
            num += d * d;
            den += (double) want[i] * want[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
    }

    /**
     * Worst element's share of its tolerance, llm.c's check_tensor per element: |got - ref| <= (atol + rtol |ref|) *
     * sqrt(k), with rtol = tol, atol = tol * rms(ref) (the tensor's own scale) and k the length of the sum behind each
     * element (float rounding of a k-term sum grows like sqrt(k); 1 for elementwise ops). Pass: <= 1. NaN anywhere fails.
     */
    static double[] worst(float[] got, float[] want, double tol, long k) {
        if (got.length != want.length) return new double[]{Double.POSITIVE_INFINITY, -1};
        double ss = 0;
        for (float v : want) ss += (double) v * v;
        double atol = tol * Math.sqrt(ss / Math.max(want.length, 1)), scale = Math.sqrt(Math.max(k, 1));
        double worst = 0;
        int at = -1;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs((double) got[i] - want[i]), bound = (atol + tol * Math.abs(want[i])) * scale;
            double r = Double.isNaN(got[i]) != Double.isNaN(want[i]) || Double.isNaN(d) && !Double.isNaN(want[i]) ? Double.POSITIVE_INFINITY
                     : d == 0 ? 0 : d / Math.max(bound, Double.MIN_NORMAL);
            if (r > worst || at < 0) { worst = r; at = i; }
        }
        return new double[]{worst, at};
    }

    void check(String name, float[] got, float[] want, double tol) { check(name, got, want, tol, 1); }

    void check(String name, float[] got, float[] want, double tol, long k) {
        double[] w = worst(got, want, tol, k);
        int i = (int) w[1];
        String at = i >= 0 && i < got.length ? String.format(", worst [%d] %.6g vs %.6g", i, got[i], want[i]) : "";
        report(name, w[0] <= 1, String.format("%.2f of tol (rtol %.0e, k %d), rel L2 %.2e%s", w[0], tol, k, relErr(got, want), at));
    }

    void report(String name, boolean ok, String detail) {
        cases++;
        System.out.printf("%-4s %-58s %s%n", ok ? "ok" : "FAIL", name, detail);
        if (!ok) failures.add(name + ": " + detail);
    }

    /** Runs a case and records an unexpected exception as a failure instead of stopping the run. */
    void run(String name, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException | Error e) { // Errors too (a JNI UnsatisfiedLinkError, an assertion): one case, not the run
            report(name, false, "threw " + e);
        }
    }

    /** A pair of tensors with the same random contents on CPU and GPU. */
    record Pair(Tensor c, Tensor g) implements AutoCloseable {
        @Override public void close() { c.close(); g.close(); }
    }

    Pair pair(Backend gpu, float[] data, int... shape) { return new Pair(Tensor.of(cpu, data, shape), Tensor.of(gpu, data, shape)); }

    Pair randPair(Backend gpu, int... shape) { return pair(gpu, randn(Tensor.numel(shape)), shape); }

    /** One SGD step of a small ResNet twice: the second may not cudaMalloc or search algorithms; loss vs the CPU. */
    void steadyState(CudaBackend gpu) {
        run("training step: no cudaMalloc / algorithm search after step 1", () -> {
            Models.Options o = new Models.Options(16, new int[]{1, 1, 1, 1}, 10, null, null, null, 7L);
            float[] img = randn(2 * 3 * 64 * 64);
            float[] labels = {3, 7};
            float[] losses = new float[2];
            Backend[] bs = {cpu, gpu};
            long mallocs = 0;
            int searches = 0;
            for (int bi = 0; bi < 2; bi++) {
                Backend b = bs[bi];
                try (Network net = Models.build("resnet18", o, b); Tensor x = Tensor.of(b, img, 2, 3, 64, 64);
                     Sgd opt = Sgd.single(net.module().trainableParameters(), 0.9f, 1e-4f)) {
                    net.module().train(true);
                    for (int step = 0; step < 3; step++) {
                        if (b == gpu && step == 2) { mallocs = gpu.mallocCount(); searches = gpu.convSearches(); }
                        opt.zeroGrad();
                        try (Tape tape = Tape.open(true)) {
                            Tensor loss = Objective.CE.loss(List.of(net.forward(x)), labels, new int[]{2}, null, 255);
                            if (step == 2) losses[bi] = loss.item();
                            tape.backward(loss);
                        }
                        opt.step(0.01f);
                    }
                    b.synchronize();
                }
            }
            report("training step: no cudaMalloc / algorithm search after step 1", gpu.mallocCount() == mallocs && gpu.convSearches() == searches,
                    "cudaMalloc +" + (gpu.mallocCount() - mallocs) + ", searches +" + (gpu.convSearches() - searches) + ", " + gpu.memoryStats());
            check("training step 3 loss, resnet18 width 16 (cuda vs cpu)", new float[]{losses[1]}, new float[]{losses[0]}, 1e-4);
        });
        run("out-of-memory names the tensor", () -> {
            try (Tensor t = gpu.empty(1 << 20, 1 << 19)) {
                report("out-of-memory names the tensor", false, "allocated 2 TiB?");
            } catch (CudaException.OutOfMemory e) {
                report("out-of-memory names the tensor", e.getMessage().contains("[1048576, 524288]"), e.getMessage());
            }
        });
    }

    // confusion-matrix helper for DomainCases: the CPU reference on byte labels
    static long[] confusionRef(float[] gt, float[] pred, int k) {
        byte[] g = new byte[gt.length], p = new byte[pred.length];
        for (int i = 0; i < g.length; i++) { g[i] = (byte) gt[i]; p[i] = (byte) pred[i]; }
        Confusion c = new Confusion(k);
        c.add(g, p);
        long[] out = new long[k * k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) out[i * k + j] = c.get(i, j);
        return out;
    }
}
