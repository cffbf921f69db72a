package conta.cli;

import conta.error.UserError;
import conta.autograd.Tape;
import conta.models.Models;
import conta.models.Network;
import conta.optim.Sgd;
import conta.tensor.Backend;
import conta.tensor.OpTimingBackend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import conta.tensor.cuda.CudaBackend;
import conta.train.Objective;
import java.util.List;
import java.util.SplittableRandom;

/**
 * `conta bench train|infer|latency --arch A [--batch N] [--size PX] [--iters K] [--warmup W] [--classes C] [--width W] [--blocks a,b,c,d]
 * [--device cpu|cuda:0|auto]`: images/s of a training step (forward, backward, SGD update) or of inference, on random data,
 * with the loss the pipeline trains that network with (resnet50-os16: multi-label soft margin on its CAM head, frozen BN;
 * deeplabv2-*: per-pixel cross-entropy on every MSC output, frozen BN). On CUDA it also prints the device, cuDNN and cuBLAS
 * versions and the convolution algorithm chosen for every shape (bench/frozen-bn.sh collects them). bench/resnet50_cpu.sh runs it beside PyTorch. On the CPU,
 * {@code CONTA_JAVA_OPTS=-Dconta.conv=blas} times the im2col + sgemm convolutions instead of oneDNN's (sgemm: see Blas).
 */
public final class BenchCommand implements Command {
    static final String USAGE = """
            usage: conta bench train|infer [--arch resnet50] [--batch 8] [--size 224] [--iters 5] [--warmup 1] [--classes 1000] [--width W]
                         [--blocks a,b,c,d] [--device cpu|cuda:0|auto] [--precision fp32|bf16|auto] [--impl graph|plan] [--profile host|device]
                         (--arch irn-boundary: IRNet's boundary branch, train only; --impl plan|graph for its frozen backbone, plan by
                         default; --impl otherwise applies to infer only)
                   conta bench latency --arch ARCH [--size 224] [--iters 50] [--warmup 10] [--impl plan|graph] [--precision fp32|bf16|auto]
                         [--weights FILE] [--classes K] [--width W] [--blocks a,b,c,d] [--strides ...] [--dilations ...] [--scales ...]
                         [--seed S] [--strict] [--trace FILE] [--gap-ms 0]
                   conta bench latency --impl api --bundle FILE [--arch LABEL] [--size 224] [--iters 50] [--warmup 10] [--precision ...] [--trace FILE]
                         [--gap-ms 0]
              images/s of a training step (forward, backward, SGD update) or of inference on random data and random weights;
              --precision bf16 runs the convolutions in bfloat16 (oneDNN; weights, gradients and the update stay f32). infer: the
              training graph in eval mode, or with --impl plan the inference plan (what predict, the APIs and the pipeline run) at
              batch N. latency (on the CPU): batch-1 p50/p90/p99 of the inference plan or the training graph, on --weights
              (the flags of conta model; random without), or with --impl api --bundle F of the Java API's segment() on a
              segmentation bundle (RGB bytes in, label map out; the bundle gives the network, --arch only names it in the
              LATENCY line); --trace writes every call's start and ms as CSV (for bench/latency_tail.py); --gap-ms N idles N ms
              between calls, untimed (a service between requests: its threads go to sleep). train/infer
              --profile: a table of the time per op over the timed steps; host = the time to issue each op (on a GPU: is the
              host the bottleneck?), device = each op run alone (the backend drained around it; slower steps, no overlap).""";

    /** The flags of each mode: another is refused (a typo must not time the default). */
    static final List<String> TRAIN_INFER_FLAGS = List.of("arch", "batch", "size", "iters", "warmup", "classes", "width", "blocks", "device",
            "precision", "impl", "profile");
    /** The threads oneDNN's OpenMP runs the work on: OMP_NUM_THREADS when set (the launcher's bench runs set it), else the cores. */
    static int threads() {
        try {
            String n = System.getenv("OMP_NUM_THREADS");
            if (n != null && !n.isBlank()) return Integer.parseInt(n.split(",")[0].strip());
        } catch (NumberFormatException e) {
            // OpenMP ignores a value it cannot read, and so does this label
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * "N threads, OpenMP ..." for the result lines: how oneDNN's OpenMP workers wait between primitives, which moves
     * small-batch times (the launcher spins ~100 us for predict and bench latency, and sleeps at once, passive, for
     * bench train and infer, as in the pipeline; your own OMP_WAIT_POLICY or GOMP_SPINCOUNT acts alone).
     */
    static String threadsLabel() { return threads() + " threads, " + ompWait(System.getenv()); }

    /** The OpenMP wait setting of an environment, in words. */
    static String ompWait(java.util.Map<String, String> env) {
        String spin = env.get("GOMP_SPINCOUNT"), policy = env.get("OMP_WAIT_POLICY");
        return spin != null && !spin.isBlank() ? "OpenMP spin " + spin.strip()
                : policy != null && !policy.isBlank() ? "OpenMP " + policy.strip().toLowerCase(java.util.Locale.ROOT) : "OpenMP libgomp's default wait";
    }

    static final List<String> LATENCY_FLAGS = List.of("arch", "size", "iters", "warmup", "impl", "precision", "weights", "bundle", "trace", "gap-ms",
            "classes", "width", "blocks", "strides", "dilations", "scales", "seed", "strict");
    private static final String MODES = "give a mode: conta bench train, infer or latency (conta bench --help for their flags)";

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "bench"; }

    @Override public String summary() { return "time a training step or inference of an architecture (images/s)"; }

    private static Network build(String arch, Models.Options o, Backend b) {
        try {
            return Models.build(arch, o, b);
        } catch (IllegalArgumentException e) {
            throw new UserError("--arch " + arch + ": " + e.getMessage());
        }
    }

    @Override
    public int run(Args a) throws Exception {
        if (a.positional().isEmpty()) throw new UserError(MODES);
        String mode = a.positional().getFirst();
        if (!List.of("train", "infer", "latency").contains(mode)) throw new UserError("unknown bench mode '" + mode + "'; " + MODES);
        if (a.positional().size() > 1) throw new UserError("bench " + mode + " takes flags, not '" + a.positional().get(1) + "' (conta bench --help)");
        List<String> flags = mode.equals("latency") ? LATENCY_FLAGS : TRAIN_INFER_FLAGS, unknown = a.unknownNames(flags);
        if (!unknown.isEmpty()) {
            String name = unknown.getFirst();
            if (!mode.equals("latency") && LATENCY_FLAGS.contains(name))
                throw new UserError("--" + name + " does not apply to bench " + mode + " (it times random weights on random data); it is a flag of bench latency");
            if (mode.equals("latency") && TRAIN_INFER_FLAGS.contains(name))
                throw new UserError("--" + name + " does not apply to bench latency (batch 1 on the CPU); it is a flag of bench train and infer");
            throw new UserError("unknown flag --" + name + Args.nearest(name, flags) + " for bench " + mode + " (conta bench --help lists the flags of each mode)");
        }
        if (mode.equals("latency")) return LatencyBench.run(a); // batch-1 p50/p90/p99, see LatencyBench
        String arch = a.get("arch", "resnet50");
        if (!Models.ARCHS.contains(arch) && !arch.equals("irn-boundary"))
            throw new UserError("--arch " + arch + ": unknown architecture (known: " + String.join(", ", Models.ARCHS) + ", and for bench train irn-boundary)");
        int batch = a.getInt("batch", 8), size = a.getInt("size", 224), iters = a.getInt("iters", 5), warmup = a.getInt("warmup", 1);
        int classes = a.getInt("classes", 1000);
        int[] blocks = null;
        if (a.has("blocks")) {
            String[] p = a.get("blocks", "").split(",");
            blocks = new int[p.length];
            for (int i = 0; i < p.length; i++) blocks[i] = Integer.parseInt(p[i].trim());
        }
        Models.Options o = new Models.Options(a.has("width") ? a.getInt("width", 64) : null, blocks, classes, null, null, null, 0L);
        ModelCommand.checkNetworkFlags(o);
        if (batch < 1 || size < 1 || iters < 1 || warmup < 0 || classes < 1)
            throw new UserError("bench needs --batch, --size, --iters, --classes >= 1 and --warmup >= 0; got batch " + batch + ", size " + size
                    + ", iters " + iters + ", classes " + classes + ", warmup " + warmup);
        String profile = a.get("profile", null);
        if (profile != null && !profile.equals("host") && !profile.equals("device"))
            throw new UserError("--profile must be host or device, got " + profile);
        try (Backend raw = conta.pipeline.Methods.backend(a.get("device", "cpu"), a.get("precision", "fp32"))) {
            OpTimingBackend prof = profile == null ? null : new OpTimingBackend(raw, profile.equals("device"));
            return run(a, mode, arch, o, batch, size, iters, warmup, classes, raw, prof);
        }
    }

    private static int run(Args a, String mode, String arch, Models.Options o, int batch, int size, int iters, int warmup, int classes,
                           Backend raw, OpTimingBackend prof) {
        Backend b = prof == null ? raw : prof.backend;
        if (arch.equals("irn-boundary")) {
            if (!mode.equals("train")) throw new UserError("bench " + mode + " --arch irn-boundary: the boundary network is timed training (bench train)");
            String impl = a.get("impl", "plan");
            if (!impl.equals("graph") && !impl.equals("plan")) throw new UserError("bench train --arch irn-boundary: --impl must be plan or graph, got " + impl);
            return boundaryTrain(o, b, raw, prof, batch, size, iters, warmup, impl.equals("plan"));
        }
        try (Network net = build(arch, o, b)) {
            SplittableRandom r = new SplittableRandom(1);
            float[] img = randomImages(batch, size, r);
            // the loss each network trains with in the pipeline: a CAM head multi-label soft margin (IRNet), score maps
            // per-pixel cross-entropy against N x size x size labels (DeepLab, resized to each MSC output), else CE
            boolean cam = Models.resnetConfigOrNull(arch) != null && Models.resnetConfigOrNull(arch).head() == conta.models.ResNetConfig.Head.CAM;
            boolean dense = arch.startsWith("deeplab");
            float[] labels = new float[dense ? batch * size * size : cam ? batch * classes : batch];
            for (int i = 0; i < labels.length; i++) labels[i] = cam ? (r.nextInt(4) == 0 ? 1 : 0) : r.nextInt(classes);
            int[] labelShape = dense ? new int[]{batch, size, size} : cam ? new int[]{batch, classes} : new int[]{batch};
            Objective obj = cam ? Objective.MULTILABEL_SOFT_MARGIN : Objective.CE;
            boolean train = mode.equals("train");
            if (train && !a.get("impl", "graph").equals("graph")) throw new UserError("bench train --impl applies to --arch irn-boundary (its frozen backbone); --impl plan|graph times bench infer");
            net.module().train(train);
            String impl = a.get("impl", "graph");
            if (!train && !impl.equals("graph") && !impl.equals("plan")) throw new UserError("bench infer: --impl must be graph or plan, got " + impl);
            if (!train && impl.equals("plan") && a.has("profile"))
                throw new UserError("--profile times the training graph's ops (--impl graph); a plan's per-op times: CONTA_JAVA_OPTS=-Dconta.plan.profile=true conta bench latency --impl plan");
            if (!train && impl.equals("plan")) return inferPlan(net, a.get("precision", "fp32"), img, batch, size, warmup, iters, arch);
            try (Tensor x = Tensor.of(b, img, batch, 3, size, size);
                 Sgd opt = Sgd.single(net.module().trainableParameters(), 0.9f, 1e-4f)) {
                double total = 0;
                long heap0 = 0;
                for (int it = 0; it < warmup + iters; it++) {
                    if (it == warmup && prof != null) prof.reset();
                    if (it == warmup) heap0 = heapAllocated();
                    long t0 = System.nanoTime();
                    if (train) {
                        opt.zeroGrad();
                        try (Tape tape = Tape.open(true)) {
                            Tensor loss = obj.loss(net.trainOutputs(x), labels, labelShape, null, 255);
                            tape.backward(loss);
                        } catch (IllegalArgumentException e) { // batch norm statistics of a single value: the arguments' doing
                            if (e.getMessage() == null || !e.getMessage().contains("more than one value per channel")) throw e;
                            throw new UserError("--batch " + batch + " --size " + size + ": " + e.getMessage()
                                    + " (training batch norm needs --batch 2 or more, or a --size that leaves a larger map)");
                        }
                        opt.step(0.01f);
                    } else {
                        try (Tape tape = Tape.open(false)) {
                            net.forward(x);
                        }
                    }
                    b.synchronize(); // a GPU step is only done when its queue is
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (it >= warmup) total += s;
                    System.err.printf("iter %d: %.3f s%n", it, s);
                }
                double ips = batch * iters / total;
                long heap = heapAllocated() - heap0;
                System.out.printf("conta %s %s batch %d size %d on %s: %.2f images/s (%.3f s/iter, %s)%n",
                        arch, mode, batch, size, deviceLabel(raw), ips, total / iters, threadsLabel());
                if (heap0 >= 0 && heap >= 0) // hundreds of MB per step: vectors boxed by a kernel the JIT did not inline (bench/RESULTS.md, session 18)
                    System.err.printf("Java heap allocated per timed step: %.1f MB%n", heap / 1e6 / iters);
                if (prof != null) System.out.print(prof.table(iters, total / iters));
                if (raw instanceof CudaBackend g) { // what ran: library versions and the convolution algorithm of each shape
                    System.out.println("device: " + g.describe());
                    for (String alg : g.convAlgorithms()) System.out.println("algorithm: " + alg);
                    System.out.println("conv plans evicted: " + g.convPlanEvictions());
                }
            }
        }
        return 0;
    }

    /** N x 3 x size x size standard-normal values: the benchmarks' input batch. */
    private static float[] randomImages(int batch, int size, SplittableRandom r) {
        float[] img = new float[batch * 3 * size * size];
        for (int i = 0; i < img.length; i++) img[i] = (float) r.nextGaussian();
        return img;
    }

    /** What ran, for the rate line: the CPU with its convolutions, or the device's name. */
    private static String deviceLabel(Backend raw) {
        return raw instanceof CpuBackend cpu ? "cpu, " + cpu.convImpl().name().toLowerCase(java.util.Locale.ROOT) + " convolutions" : raw.name();
    }

    /**
     * A training step of IRNet's boundary branch (--arch irn-boundary): the frozen ResNet-50 backbone (strides 2,2,2,1),
     * the five side convolutions and the fused affinity loss against random IR labels on the stride-4 grid (radius 10),
     * SGD on the head, as PseudoStage.trainBoundary runs it. --width / --blocks shrink the backbone. plan: the frozen
     * backbone through its inference plans where they run (the CPU with oneDNN; irn.plan), else its training-graph forward.
     */
    private static int boundaryTrain(Models.Options o, Backend b, Backend raw, OpTimingBackend prof, int batch, int size, int iters, int warmup,
                                     boolean plan) {
        conta.models.ResNetConfig c = conta.models.ResNetConfig.torchvision(true, 3, 4, 6, 3).withStrides(new int[]{1, 2, 2, 1})
                .withFrozenBn(true).withHead(conta.models.ResNetConfig.Head.NONE, 0);
        if (o.width() != null) c = c.withWidth(o.width());
        if (o.blocks() != null) c = c.withBlocks(o.blocks());
        SplittableRandom r = new SplittableRandom(1);
        float[] img = randomImages(batch, size, r);
        try (conta.wsss.irn.BoundaryNet net = new conta.wsss.irn.BoundaryNet(b, c, conta.wsss.irn.BoundaryNet.TRAIN_RADIUS, 1);
             Tensor x = Tensor.of(b, img, batch, 3, size, size);
             Sgd opt = Sgd.single(net.headParameters(), 0.9f, 1e-4f);
             conta.infer.PlanCache plans = plan ? conta.infer.PlanCache.forBackend(raw, net.backbone(), conta.infer.PlanCache.Output.STAGES,
                     conta.infer.Precision.FP32, 1) : null) {
            net.useBackbonePlans(plans);
            net.train(true);
            int[] grid; // the logits' stride-4 grid, where the IR labels live
            try (Tape probe = Tape.open(false)) { grid = net.logits(x).shape(); }
            try {
                new conta.wsss.irn.PathIndex(conta.wsss.irn.BoundaryNet.TRAIN_RADIUS).sources(grid[2], grid[3]);
            } catch (IllegalArgumentException e) {
                throw new UserError("--size " + size + ": the boundary loss's " + e.getMessage() + "; use a larger --size (e.g. 128)");
            }
            byte[] labels = new byte[grid[0] * grid[2] * grid[3]]; // random IR labels, 1 in 10 ignored
            for (int i = 0; i < labels.length; i++) labels[i] = (byte) (r.nextInt(10) == 0 ? 255 : r.nextInt(3));
            double total = 0;
            for (int it = 0; it < warmup + iters; it++) {
                if (it == warmup && prof != null) prof.reset();
                long t0 = System.nanoTime();
                opt.zeroGrad();
                try (Tape tape = Tape.open(true)) {
                    tape.backward(net.loss(x, labels).total());
                }
                opt.step(0.01f);
                b.synchronize();
                double sec = (System.nanoTime() - t0) / 1e9;
                if (it >= warmup) total += sec;
                System.err.printf("iter %d: %.3f s%n", it, sec);
            }
            System.out.printf("conta irn-boundary train batch %d size %d on %s%s: %.2f images/s (%.3f s/iter, %s)%n",
                    batch, size, deviceLabel(raw), plans != null ? ", backbone through inference plans" : "", batch * iters / total, total / iters,
                    threadsLabel());
            if (prof != null) System.out.print(prof.table(iters, total / iters));
        }
        return 0;
    }

    /** Inference through the plan that predict, the APIs and the pipeline use (at batch N), images/s as for the graph. */
    private static int inferPlan(Network net, String precision, float[] img, int batch, int size, int warmup, int iters, String arch) {
        try (conta.infer.InferencePlan plan = conta.infer.InferencePlan.compile(net, conta.infer.Precision.parse(precision), batch, 3, size, size)) {
            float[] out = new float[plan.outputNumel()];
            double total = 0;
            for (int it = 0; it < warmup + iters; it++) {
                long t0 = System.nanoTime();
                plan.run(img, out);
                double s = (System.nanoTime() - t0) / 1e9;
                if (it >= warmup) total += s;
                System.err.printf("iter %d: %.3f s%n", it, s);
            }
            System.out.printf("conta %s infer batch %d size %d on cpu, %s inference plan: %.2f images/s (%.3f s/iter, %s)%n",
                    arch, batch, size, plan.precision().name().toLowerCase(java.util.Locale.ROOT), batch * iters / total, total / iters,
                    threadsLabel());
        }
        return 0;
    }

    /** Bytes the JVM's threads have allocated on the heap so far, or -1 where the JVM does not tell. */
    static long heapAllocated() {
        try {
            return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
        } catch (RuntimeException | LinkageError e) {
            return -1;
        }
    }
}
