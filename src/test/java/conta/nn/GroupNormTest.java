package conta.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.tensor.Backend;
import conta.tensor.GradCheck;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** F.groupNorm, F.channelAffine and F.cropSpatial against float64 references and central differences. */
class GroupNormTest {
    static Backend be;

    @BeforeAll
    static void open() { be = new CpuBackend(); }

    @AfterAll
    static void close() { be.close(); }

    static final int N = 2, C = 6, H = 3, W = 4, G = 3;

    /** PyTorch GroupNorm in double: biased variance over (C/G channels x H x W) per sample and group. */
    static double[] refGroupNorm(double[] x, double[] gamma, double[] beta, double eps) {
        int cg = C / G, hw = H * W, m = cg * hw;
        double[] y = new double[x.length];
        for (int n = 0; n < N; n++)
            for (int g = 0; g < G; g++) {
                int base = (n * C + g * cg) * hw;
                double mean = 0, var = 0;
                for (int i = 0; i < m; i++) mean += x[base + i];
                mean /= m;
                for (int i = 0; i < m; i++) var += (x[base + i] - mean) * (x[base + i] - mean);
                double inv = 1 / Math.sqrt(var / m + eps);
                for (int i = 0; i < m; i++) {
                    int c = g * cg + i / hw;
                    y[base + i] = (x[base + i] - mean) * inv * gamma[c] + beta[c];
                }
            }
        return y;
    }

    @Test
    void groupNormForwardAndGradients() {
        Random rnd = new Random(5);
        double[] x = rand(rnd, N * C * H * W, -2, 2), gamma = rand(rnd, C, 0.5, 1.5), beta = rand(rnd, C, -1, 1);
        double[][] in = {x, gamma, beta};
        double[] ref = refGroupNorm(GradCheck.toDouble(GradCheck.toFloat(x)), GradCheck.toDouble(GradCheck.toFloat(gamma)),
                GradCheck.toDouble(GradCheck.toFloat(beta)), 1e-5);
        float[] got = run(new float[][]{GradCheck.toFloat(x), GradCheck.toFloat(gamma), GradCheck.toFloat(beta)}, new float[0], ts -> F.groupNorm(ts[0], G, ts[1], ts[2], 1e-5f))[3];
        GradCheck.assertClose("groupNorm forward", ref, got, 1e-5);
        GradCheck.check("groupNorm", in, new boolean[]{true, true, true}, i -> refGroupNorm(i[0], i[1], i[2], 1e-5),
                (i, r) -> run(i, r, ts -> F.groupNorm(ts[0], G, ts[1], ts[2], 1e-5f)), 21);
    }

    @Test
    void channelAffineGradients() {
        Random rnd = new Random(6);
        double[][] in = {rand(rnd, N * C * H * W, -2, 2), rand(rnd, C, -1, 1), rand(rnd, C, -1, 1)};
        GradCheck.check("channelAffine", in, new boolean[]{true, true, true}, i -> {
            double[] y = new double[i[0].length];
            for (int k = 0; k < y.length; k++) y[k] = i[0][k] * i[1][k / (H * W) % C] + i[2][k / (H * W) % C];
            return y;
        }, (i, r) -> run(i, r, ts -> F.channelAffine(ts[0], ts[1], ts[2])), 22);
    }

    @Test
    void cropGradients() {
        Random rnd = new Random(7);
        double[][] in = {rand(rnd, N * C * H * W, -2, 2), new double[C], new double[C]};
        GradCheck.check("crop", in, new boolean[]{true, false, false}, i -> {
            double[] y = new double[N * C * 2 * 3];
            for (int p = 0; p < N * C; p++)
                for (int r = 0; r < 2; r++)
                    for (int c = 0; c < 3; c++) y[(p * 2 + r) * 3 + c] = i[0][(p * H + r) * W + c];
            return y;
        }, (i, r) -> run(i, r, ts -> F.cropSpatial(ts[0], 2, 3)), 23);
    }

    @Test
    void badShapes() {
        try (Tensor x = Tensor.zeros(be, 1, 6, 2, 2); Tensor g = Tensor.zeros(be, 6)) {
            assertThrows(IllegalArgumentException.class, () -> F.groupNorm(x, 4, g, g, 1e-5f));
            assertThrows(IllegalArgumentException.class, () -> F.cropSpatial(x, 3, 2));
            assertThrows(IllegalArgumentException.class, () -> new GroupNorm(be, 4, 6, 1e-5f));
        }
    }

    /** Runs op on (x, gamma, beta) and back-propagates r; returns {dx, dgamma, dbeta, forward output}. */
    static float[][] run(float[][] in, float[] r, Function<Tensor[], Tensor> op) {
        try (Tape tape = Tape.open(true)) {
            Tensor x = tape.keep(Tensor.of(be, in[0], N, C, H, W));
            Tensor g = tape.keep(Tensor.of(be, in[1], C)), b = tape.keep(Tensor.of(be, in[2], C));
            for (Tensor t : new Tensor[]{x, g, b}) t.requiresGrad = true;
            Tensor y = op.apply(new Tensor[]{x, g, b});
            float[] fwd = y.toArray();
            if (r.length > 0) {
                Tensor seed = Tape.track(Tensor.of(be, new float[]{0f}, 1));
                Tape.record("dot", seed, gy -> Tape.accumulate(y, Tensor.of(be, r, y.shape())));
                tape.backward(seed);
            }
            float[][] out = {x.grad == null ? null : x.grad.toArray(), g.grad == null ? null : g.grad.toArray(),
                    b.grad == null ? null : b.grad.toArray(), fwd};
            x.close();
            g.close();
            b.close();
            return out;
        }
    }

    static double[] rand(Random rnd, int n, double lo, double hi) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return a;
    }
}
