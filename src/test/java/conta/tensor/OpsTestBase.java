package conta.tensor;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Shared fixture for the op tests: one backend per class (TestBackends: -Dconta.test.backend, cpu by default), tensors
 * made here are freed after each test.
 */
abstract class OpsTestBase {
    /** Forward tolerance (elementwise relative to max(1,|ref|) and relative L2) on well-conditioned inputs. */
    static final double FWD_TOL = 1e-5;

    static Backend be;
    private final List<Tensor> live = new ArrayList<>();

    @BeforeAll
    static void openBackend() { be = TestBackends.absentReason() == null ? TestBackends.open() : null; }

    /** Per test rather than in openBackend, so that every skipped test is listed with the reason. */
    @BeforeEach
    void needBackend() { assumeTrue(be != null, TestBackends::absentReason); }

    @AfterAll
    static void closeBackend() {
        if (be != null) be.close();
        be = null;
    }

    @AfterEach
    void freeTensors() {
        for (Tensor t : live) t.close();
        live.clear();
    }

    Tensor t(float[] data, int... shape) {
        Tensor x = be.empty(shape);
        live.add(x);
        be.upload(x, data);
        return x;
    }

    Tensor t(double[] data, int... shape) { return t(GradCheck.toFloat(data), shape); }

    Tensor zeros(int... shape) { return filled(0f, shape); }

    Tensor filled(float v, int... shape) {
        Tensor x = be.empty(shape);
        live.add(x);
        be.fill(x, v);
        return x;
    }

    static float[] get(Tensor x) { return be.download(x); }

    static double[] getD(Tensor x) { return GradCheck.toDouble(be.download(x)); }

    /** n values uniform in [lo, hi), rounded to float. */
    static double[] rand(Random rnd, int n, double lo, double hi) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return a;
    }

    /**
     * n distinct values, a random permutation of an evenly spaced grid in [lo, hi] (spacing (hi-lo)/(n-1), far above
     * the finite-difference step), skipping |v| < minAbs (kinks of ReLU at 0).
     */
    static double[] distinct(Random rnd, int n, double lo, double hi, double minAbs) {
        List<Double> vals = new ArrayList<>();
        int m = n;
        while (true) {
            vals.clear();
            for (int i = 0; i < m; i++) {
                double v = (float) (lo + (hi - lo) * i / (m - 1));
                if (Math.abs(v) >= minAbs) vals.add(v);
            }
            if (vals.size() >= n) break;
            m++;
        }
        java.util.Collections.shuffle(vals, rnd);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = vals.get(i);
        return a;
    }

    static double[] constant(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    static double[] f2d(float[] a) { return GradCheck.toDouble(a); }

    static int numel(int... shape) { return (int) Tensor.numel(shape); }
}
