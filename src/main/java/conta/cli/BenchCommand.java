package conta.cli;

import conta.error.UserError;
import conta.autograd.Tape;
import conta.models.Models;
import conta.models.Network;
import conta.optim.Sgd;
import conta.tensor.Backend;
import conta.tensor.Backends;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import conta.train.Objective;
import java.util.List;
import java.util.SplittableRandom;

/**
 * `conta bench train|infer --arch A [--batch N] [--size PX] [--iters K] [--warmup W] [--device cpu|cuda:0|auto]`: images/s of a training step
 * (forward, backward, SGD update) or of inference, on random data. bench/resnet50_cpu.sh runs it beside PyTorch. On the CPU,
 * {@code CONTA_JAVA_OPTS=-Dconta.conv=blas} times the OpenBLAS im2col+sgemm convolutions instead of oneDNN's.
 */
public final class BenchCommand implements Command {
    @Override public String name() { return "bench"; }

    @Override public String summary() { return "time a training step or inference of an architecture (images/s)"; }

    @Override
    public int run(Args a) throws Exception {
        if (a.positional().isEmpty()) throw new UserError("usage: conta bench train|infer|latency --arch ARCH [--batch 8] [--size 224] [--iters 5] [--device cpu|cuda:0|auto]");
        String mode = a.positional().getFirst();
        if (mode.equals("latency")) return LatencyBench.run(a); // batch-1 p50/p90/p99, see LatencyBench
        String arch = a.get("arch", "resnet50");
        int batch = a.getInt("batch", 8), size = a.getInt("size", 224), iters = a.getInt("iters", 5), warmup = a.getInt("warmup", 1);
        int classes = a.getInt("classes", 1000);
        Models.Options o = new Models.Options(null, null, classes, null, null, null, 0L);
        try (Backend b = Backends.select(a.get("device", "cpu")); Network net = Models.build(arch, o, b)) {
            float[] img = new float[batch * 3 * size * size];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < img.length; i++) img[i] = (float) r.nextGaussian();
            float[] labels = new float[batch];
            for (int i = 0; i < batch; i++) labels[i] = r.nextInt(classes);
            boolean train = mode.equals("train");
            if (!train && !mode.equals("infer")) throw new UserError("bench mode must be train or infer, got " + mode);
            net.module().train(train);
            try (Tensor x = Tensor.of(b, img, batch, 3, size, size);
                 Sgd opt = Sgd.single(net.module().trainableParameters(), 0.9f, 1e-4f)) {
                double total = 0;
                for (int it = 0; it < warmup + iters; it++) {
                    long t0 = System.nanoTime();
                    if (train) {
                        opt.zeroGrad();
                        try (Tape tape = Tape.open(true)) {
                            Tensor loss = Objective.CE.loss(List.of(net.forward(x)), labels, new int[]{batch}, null, 255);
                            tape.backward(loss);
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
                String dev = b instanceof CpuBackend cpu ? "cpu, " + cpu.convImpl().name().toLowerCase(java.util.Locale.ROOT) + " convolutions" : b.name();
                System.out.printf("conta %s %s batch %d size %d on %s: %.2f images/s (%.3f s/iter, %d threads)%n",
                        arch, mode, batch, size, dev, ips, total / iters, Runtime.getRuntime().availableProcessors());
            }
        }
        return 0;
    }
}
