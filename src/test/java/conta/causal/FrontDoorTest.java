package conta.causal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import conta.autograd.Tape;
import conta.causal.FrontDoor.Aggregation;
import conta.io.HostArray;
import conta.tensor.GradCheck;
import conta.tensor.RefOps;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FrontDoorTest {
    static CpuBackend b;
    static final int N = 4, n = 3, S = 5;
    static HostArray g;
    static float[] logits;

    @BeforeAll
    static void setUp() {
        b = new CpuBackend();
        Random r = new Random(9);
        float[] v = new float[n * S * S];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat(); // a normalised global CAM lies in [0, 1]
        g = new HostArray(new int[]{n, S, S}, v);
        logits = new float[N * n];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) ((r.nextBoolean() ? 1 : -1) * (0.2 + 2 * r.nextDouble()));
    }

    @AfterAll
    static void close() { b.close(); }

    /** agg_p(x G[c, p]) by brute force over the S*S cells, in float64. */
    static double brute(Aggregation a, double rr, double x, int c) {
        double[] v = new double[S * S];
        for (int p = 0; p < v.length; p++) v[p] = x * g.data()[c * S * S + p];
        double acc = a == Aggregation.MAX ? Double.NEGATIVE_INFINITY : 0;
        for (double t : v) acc = switch (a) {
            case MEAN -> acc + rr * t / v.length;
            case MAX -> Math.max(acc, t);
            case LSE -> acc + Math.exp(rr * t);
        };
        return a == Aggregation.LSE ? Math.log(acc) / rr : acc;
    }

    static double[] bruteAll(Aggregation a, double rr, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = brute(a, rr, x[i], i % n);
        return y;
    }

    static float[] forward(FrontDoor fd) {
        try (Tape t = Tape.open(false)) {
            return fd.aggregate(Tape.track(Tensor.of(b, logits, N, n))).toArray();
        }
    }

    @Test
    void meanIsTheLogitTimesTheMeanOfG() {
        FrontDoor fd = FrontDoor.mean(g);
        float[] y = forward(fd);
        GradCheck.assertClose("mean", bruteAll(Aggregation.MEAN, 1, GradCheck.toDouble(logits)), y, 1e-6);
        for (int c = 0; c < n; c++) {
            double m = 0;
            for (int p = 0; p < S * S; p++) m += g.data()[c * S * S + p];
            m /= S * S;
            assertEquals(m, fd.classMeans()[c], 1e-12);
            for (int i = c; i < y.length; i += n) assertEquals((float) (logits[i] * m), y[i]); // a per-class scale, bit for bit
        }
    }

    @ParameterizedTest
    @EnumSource(Aggregation.class)
    void forwardMatchesBruteForce(Aggregation a) {
        double rr = a == Aggregation.MEAN ? 1.5 : 2.0;
        float[] y = forward(new FrontDoor(g, a, rr));
        GradCheck.assertClose(a.name(), bruteAll(a, rr, GradCheck.toDouble(logits)), y, 1e-6);
    }

    /** Central differences of L = r . BCE(agg(x), t) in float64 against the engine's d/dx through the fused BCE. */
    @ParameterizedTest
    @EnumSource(Aggregation.class)
    void gradientsThroughBce(Aggregation a) {
        double rr = a == Aggregation.MEAN ? 1.5 : 2.0;
        FrontDoor fd = new FrontDoor(g, a, rr);
        float[] targets = {1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0};
        GradCheck.RefFn ref = in -> new double[]{RefOps.bceWithLogitsLoss(bruteAll(a, rr, in[0]), GradCheck.toDouble(targets))};
        GradCheck.BackendGradFn engine = (in, r) -> {
            try (Tape t = Tape.open(true); Tensor x = Tensor.of(b, in[0], N, n)) {
                x.requiresGrad = true;
                t.backward(fd.loss(x, Tape.track(Tensor.of(b, targets, N, n))), r[0]);
                return new float[][]{x.grad.toArray()};
            }
        };
        GradCheck.check("front door " + a, new double[][]{GradCheck.toDouble(logits)}, new boolean[]{true}, ref, engine, 23);
    }

    @Test
    void badInputsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new FrontDoor(g, Aggregation.LSE, 0));
        assertThrows(IllegalArgumentException.class, () -> new FrontDoor(new HostArray(new int[]{3, 25}, new float[75]), Aggregation.MEAN, 1));
        FrontDoor fd = FrontDoor.mean(g);
        try (Tape t = Tape.open(false)) {
            var ex = assertThrows(IllegalArgumentException.class, () -> fd.aggregate(Tape.track(Tensor.zeros(b, 4, 20))));
            assertEquals("front-door aggregation needs N x 3 logits, got [4, 20]", ex.getMessage());
        }
    }
}
