package conta.bench;

import conta.autograd.Tape;
import conta.causal.ContextAttention;
import conta.tensor.Backend;
import conta.tensor.Backends;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import conta.tensor.WsssOps;
import conta.wsss.irn.RandomWalk;
import conta.wsss.irn.WalkFixtures;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH timings of conta's own WSSS kernels and a ResNet convolution, one backend per run (`-p device=cpu`, or
 * `cuda:0` on a GPU machine), at the sizes of one PASCAL VOC image through IRNet's recipe: block-5 features of a
 * 512 x 512 crop at output stride 16 (2048 x 32 x 32), 20 classes, the stride-4 grid of a 500 x 375 image (125 x 94).
 * bench/jmh.sh runs it; each call ends with the result read back to the host (download), so a GPU kernel's time is
 * its whole run, not its launch. What the numbers say and a run of them: bench/RESULTS.md ("Kernel timings, JMH").
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class KernelsJmh {
    /** The backend: cpu, cuda:N. */
    @Param("cpu")
    public String device;

    static final int FEAT = 2048, GRID = 32, CLASSES = 20, IMAGE = 512, WALK_W = 125, WALK_H = 94, WALK_K = 3;

    Backend be;
    WsssOps ops;
    Tensor feat, camW, cam;              // CAM: relu(w . feat)
    Tensor scores, labels;               // seeds: scores 20 x 128 x 128 (the stride-4 grid of 512) -> labels
    Tensor gtLabels, masks, sums;        // CONTA's class masks of a 512 x 512 label map at 32 x 32, their running sums
    boolean[] present;
    Tensor walkCams, walkBoundary, walked; // IRNet's random walk on the stride-4 grid
    RandomWalk walk;
    Tensor convX, convW, convY;          // a ResNet-50 stage-3 3x3 convolution (256 -> 256 at 32 x 32)
    ContextAttention attention;          // CONTA's W1/W2 attention for a batch of 8 images
    Tensor xm, confounders;
    Tensor gt, pred;                     // confusion matrix of a 512 x 512 prediction

    @Setup(Level.Trial)
    public void setup() {
        be = Backends.select(device);
        ops = be.wsss();
        SplittableRandom r = new SplittableRandom(7);
        feat = Tensor.of(be, uniform(r, FEAT * GRID * GRID, 0, 2), 1, FEAT, GRID, GRID);
        camW = Tensor.of(be, uniform(r, CLASSES * FEAT, -0.05f, 0.05f), CLASSES, FEAT);
        cam = be.empty(1, CLASSES, GRID, GRID);
        int s4 = IMAGE / 4;
        scores = Tensor.of(be, uniform(r, CLASSES * s4 * s4, 0, 1), 1, CLASSES, s4, s4);
        labels = be.empty(1, s4, s4);
        float[] lab = new float[IMAGE * IMAGE];
        for (int i = 0; i < lab.length; i++) lab[i] = (i / IMAGE / 64 * 8 + i % IMAGE / 64) % (CLASSES + 1); // 8 x 8 blocks of classes
        gtLabels = Tensor.of(be, lab, IMAGE, IMAGE);
        masks = be.empty(CLASSES, GRID, GRID);
        sums = be.empty(CLASSES, GRID, GRID);
        be.fill(sums, 0f);
        present = new boolean[CLASSES];
        for (int c = 0; c < CLASSES; c += 2) present[c] = true;
        walk = new RandomWalk(RandomWalk.Params.IRNET);
        java.util.Random wr = new java.util.Random(42);
        walkCams = Tensor.of(be, WalkFixtures.cams(wr, WALK_K, WALK_H, WALK_W), 1, WALK_K, WALK_H, WALK_W);
        walkBoundary = Tensor.of(be, WalkFixtures.boundary(wr, WALK_H, WALK_W), 1, 1, WALK_H, WALK_W);
        walked = be.empty(1, WALK_K, WALK_H, WALK_W);
        convX = Tensor.of(be, uniform(r, 256 * GRID * GRID, -1, 1), 1, 256, GRID, GRID);
        convW = Tensor.of(be, uniform(r, 256 * 256 * 9, -0.03f, 0.03f), 256, 256, 3, 3);
        convY = be.empty(1, 256, GRID, GRID);
        attention = new ContextAttention(be, CLASSES, GRID, GRID, CLASSES, ContextAttention.Mode.ATTENTION);
        attention.init(1);
        xm = Tensor.of(be, uniform(r, 8 * CLASSES * GRID * GRID, 0, 1), 8, CLASSES, GRID, GRID);
        confounders = Tensor.of(be, uniform(r, CLASSES * GRID * GRID, 0, 1), CLASSES, GRID, GRID);
        gt = gtLabels;
        pred = Tensor.of(be, lab.clone(), IMAGE, IMAGE);
    }

    static float[] uniform(SplittableRandom r, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float) r.nextDouble();
        return a;
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        for (Tensor t : new Tensor[] {feat, camW, cam, scores, labels, gtLabels, masks, sums, walkCams, walkBoundary, walked, convX, convW,
                convY, xm, confounders, pred}) t.close();
        attention.close();
        be.close();
    }

    /** CAM of block-5 features: 20 x 2048 weights over 2048 x 32 x 32, ReLU. */
    @Benchmark
    public float[] cam() {
        ops.cam(feat, camW, cam);
        return cam.toArray();
    }

    /** Seeds: argmax over 20 class maps of 128 x 128 against the foreground / background thresholds. */
    @Benchmark
    public float[] seeds() {
        ops.seeds(scores, 0.3f, 0.05f, 255, labels);
        return labels.toArray();
    }

    /** CONTA's confounder set: a 512 x 512 label map's class masks at 32 x 32 (area), added to the running sums. */
    @Benchmark
    public float[] classMeanMasks() {
        ops.classMasks(gtLabels, 1, true, masks);
        ops.accumulatePresent(masks, present, sums);
        return sums.toArray();
    }

    /** IRNet's random walk (2^8 steps, radius 5 paths) of 3 class maps on a 125 x 94 grid. */
    @Benchmark
    public float[] randomWalk() {
        ops.randomWalk(walkCams, walkBoundary, walk.pathIndex().paths(), walk.params().beta(), 1 << walk.params().expTimes(), walked);
        return walked.toArray();
    }

    /** 3x3 convolution 256 -> 256 at 32 x 32, batch 1 (the training graph's kernel, not an inference plan's). */
    @Benchmark
    public float[] conv3x3() {
        be.conv2d(convX, convW, null, ConvSpec.of(3, 1, 1, 1), convY);
        return convY.toArray();
    }

    /** CONTA's context M = sum_i alpha_i c_i / n for 8 images, forward and backward to W1, W2 (through the tape). */
    @Benchmark
    public float[] attentionForwardBackward() {
        try (Tape tape = Tape.open(true)) {
            Tensor m = attention.forward(xm, confounders);
            Tensor seed = Tape.track(Tensor.of(be, new float[] {0f}, 1));
            Tape.record("sum", seed, g -> {
                Tensor ones = Tensor.empty(be, m.shape());
                be.fill(ones, 1f);
                Tape.accumulate(m, ones);
            });
            tape.backward(seed);
        }
        float[] g = attention.w1.grad.toArray();
        attention.w1.grad.close();
        attention.w1.grad = null;
        attention.w2.grad.close();
        attention.w2.grad = null;
        return g;
    }

    /** Confusion matrix (21 classes) of a 512 x 512 prediction against its ground truth. */
    @Benchmark
    public long[] confusion() {
        return ops.confusion(gt, pred, CLASSES + 1);
    }
}
