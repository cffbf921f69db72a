package conta.cli;

import conta.autograd.Tape;
import conta.error.UserError;
import conta.infer.InferencePlan;
import conta.infer.Precision;
import conta.models.Network;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code conta bench latency --arch A --size PX [--impl plan|graph] [--precision fp32|bf16|auto] [--weights F]
 * [--iters 50] [--warmup 10] [--gap-ms 0]}: batch-1 latency of one image through conta's inference plan (plan) or its training
 * graph's eval forward (graph), p50/p90/p99 over --iters calls after --warmup; bench/latency.sh runs it beside ONNX
 * Runtime and PyTorch on the same weights. {@code --impl api --bundle F}: what an embedding Java program gets,
 * {@code ContaModel.segment} from RGB bytes to the label map of a PX x PX image (preprocessing, the plan, MSC fusion,
 * upsampling and argmax), as bench/capi_latency.c times the C ABI's {@code conta_segment_rgb8}. {@code --gap-ms N}
 * sleeps N ms after every call, outside the timing: calls that come after an idle spell, as a service's do, when the
 * OpenMP workers have gone to sleep (the default 0 calls back to back).
 */
final class LatencyBench {
    private LatencyBench() { }

    /** The network flags of plan / graph, which a bundle's own network makes meaningless. */
    private static final List<String> NETWORK_FLAGS = List.of("weights", "classes", "width", "blocks", "strides", "dilations", "scales", "seed", "strict");

    /** The Java API on a segmentation bundle: a random RGB image (content does not change the work), label map out. */
    private static int api(Args a, int size, int iters, int warmup, int gapMs) throws Exception {
        if (!a.has("bundle")) throw new UserError("--impl api needs --bundle F (a segmentation bundle: conta export)");
        for (String f : NETWORK_FLAGS)
            if (a.has(f)) throw new UserError("--" + f + " does not apply to --impl api: the bundle holds the network and its weights");
        conta.wsss.BundleModel.checkSize(size, size, "--size " + size + ": the image"); // what segment() would refuse, before timing
        Path bundle = Path.of(a.require("bundle"));
        if (!Files.isRegularFile(bundle)) throw new UserError("--bundle " + bundle + " does not exist (a segmentation bundle: conta export)");
        String arch = a.has("arch") ? a.require("arch") : archOf(bundle); // before the open: a bare --arch leaks nothing
        conta.api.ContaModel opened;
        try {
            opened = conta.api.ContaModel.open(bundle, "cpu", a.get("precision", "fp32"));
        } catch (conta.api.ContaException e) { // the API's code says whose problem it is
            if (e.code() == conta.api.ContaException.Code.INTERNAL) throw e;
            throw new UserError(e.getMessage().contains(bundle.toString()) ? e.getMessage() : "--bundle " + bundle + ": " + e.getMessage());
        }
        try (conta.api.ContaModel m = opened) {
            if (!m.kind().equals("seg")) throw new UserError("--impl api times segmentation: " + bundle + " is a " + m.kind() + " bundle");
            byte[] rgb = new byte[3 * size * size], out = new byte[size * size];
            new SplittableRandom(1).nextBytes(rgb);
            report(a, time(warmup, iters, gapMs, () -> m.segment(rgb, size, size, out)), "conta-api-" + m.precision(), arch, size);
        }
        return 0;
    }

    /** Per timed call: its start (ms on the nanoTime clock) and its duration (ms), after warmup untimed calls. */
    private record Timings(double[] startMs, double[] ms) { }

    /** warmup + iters calls, each followed by gapMs ms of sleep (not timed). */
    private static Timings time(int warmup, int iters, int gapMs, Runnable call) throws InterruptedException {
        double[] start = new double[iters], ms = new double[iters];
        for (int it = 0; it < warmup + iters; it++) {
            long s = System.nanoTime();
            call.run();
            if (it >= warmup) {
                start[it - warmup] = s / 1e6;
                ms[it - warmup] = (System.nanoTime() - s) / 1e6;
            }
            if (gapMs > 0) Thread.sleep(gapMs);
        }
        return new Timings(start, ms);
    }

    /** The LATENCY line that bench/latency.sh parses, and with --trace every call's ms. */
    private static void report(Args a, Timings t, String label, String arch, int size) throws java.io.IOException {
        System.out.println(LatencyStats.of(t.ms()).line(label, arch, size));
        if (a.has("trace")) LatencyStats.writeTrace(a.get("trace", ""), t.startMs(), t.ms());
    }

    /** The LATENCY line's name of a bundle's network: deeplabv2-resnetD / resnetD from its description (D: the depth). */
    private static String archOf(Path bundle) {
        conta.wsss.Bundle b = conta.wsss.Bundle.readMeta(bundle);
        if (b == null) return "bundle";
        conta.models.ResNetConfig c = b.spec().backbone();
        int depth = (c.bottleneck() ? 3 : 2) * java.util.Arrays.stream(c.blocks()).sum() + 2;
        return (b.spec().kind() == conta.wsss.ModelSpec.Kind.DEEPLAB ? "deeplabv2-" : "") + "resnet" + depth;
    }

    static int run(Args a) throws Exception {
        int size = a.getInt("size", 224), iters = a.getInt("iters", 50), warmup = a.getInt("warmup", 10), gapMs = a.getInt("gap-ms", 0);
        String impl = a.get("impl", "plan");
        if (!impl.equals("plan") && !impl.equals("graph") && !impl.equals("api")) throw new UserError("--impl must be plan, graph or api, got " + impl);
        if (iters < 1 || warmup < 0) throw new UserError("--iters must be >= 1 and --warmup >= 0");
        if (size < 1) throw new UserError("--size must be >= 1, got " + size);
        if (gapMs < 0 || gapMs > 60_000) throw new UserError("--gap-ms must be 0 to 60000 (ms between calls), got " + gapMs);
        if (a.has("trace")) { // checked before the timing, not after it
            Path parent = Path.of(a.get("trace", "")).toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) throw new UserError("--trace " + a.get("trace", "") + ": folder " + parent + " does not exist");
        }
        if (impl.equals("graph") && !a.get("precision", "fp32").equals("fp32"))
            throw new UserError("--precision applies to --impl plan and api; the training graph's forward (--impl graph) runs in fp32");
        if (impl.equals("api")) return api(a, size, iters, warmup, gapMs);
        if (a.has("bundle")) throw new UserError("--bundle applies to --impl api; --impl " + impl + " times --arch ARCH (with --weights FILE)");
        String arch = a.require("arch");
        Backend b = new CpuBackend();
        try (Network net = ModelCommand.build(a, b)) {
            net.module().train(false);
            float[] img = new float[3 * size * size];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < img.length; i++) img[i] = (float) r.nextGaussian();
            Timings timings;
            String label;
            if (impl.equals("plan")) {
                long t0 = System.nanoTime();
                try (InferencePlan plan = InferencePlan.compile(net, Precision.parse(a.get("precision", "fp32")), 1, 3, size, size)) {
                    long wb = plan.weightBytes();
                    System.err.printf("plan compiled in %.0f ms (%s; Winograd 3x3 kernel: %s; small-map GEMM kernel: %s; call loop: %s; weights %s)%n",
                            (System.nanoTime() - t0) / 1e6, plan.precision(), plan.precision() == Precision.BF16
                                    ? (conta.tensor.cpu.Winograd.bf16Chosen() ? "on (bf16, F(2x2))" : conta.tensor.cpu.Winograd.bf16NotChosenReason())
                                    : conta.tensor.cpu.Winograd.available() ? "on" : conta.tensor.cpu.Winograd.unavailableReason(),
                            plan.precision() == Precision.BF16 ? "fp32 plans only"
                                    : conta.tensor.cpu.GemmConv.chosen() ? "on" : conta.tensor.cpu.GemmConv.notChosenReason(),
                            conta.tensor.cpu.PlanLoop.chosen(),
                            wb < 0 ? "not counted" : String.format(java.util.Locale.ROOT, "%.1f MB", wb / 1e6));
                    float[] out = new float[plan.outputNumel()];
                    timings = time(warmup, iters, gapMs, () -> plan.run(img, out));
                    if (conta.io.SystemProps.flag("conta.plan.profile", false)) System.err.print(plan.describe()); // per-op ms
                    label = "conta-plan-" + plan.precision().name().toLowerCase(java.util.Locale.ROOT);
                }
            } else {
                try (Tensor x = Tensor.of(b, img, 1, 3, size, size)) {
                    timings = time(warmup, iters, gapMs, () -> {
                        try (Tape t = Tape.open(false)) {
                            net.forward(x).toArray();
                        }
                    });
                }
                label = "conta-graph";
            }
            report(a, timings, label, arch, size);
        }
        return 0;
    }
}
