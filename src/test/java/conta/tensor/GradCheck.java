package conta.tensor;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

/**
 * Central-difference gradient checker. An op is viewed as f(inputs) -> output (computed in double by {@link RefOps});
 * with a fixed random projection r, L = sum r . f. dL/d(input) is differentiated numerically in double and compared
 * with the gradient the backend's backward op produces in float32 when given dy = r.
 *
 * <p>Inputs are first rounded to float so that the reference and the backend see exactly the same point.
 */
public final class GradCheck {
    private GradCheck() { }

    /** Default finite-difference step (double precision: truncation ~h^2, rounding ~1e-16/h, both far below 1e-6). */
    public static final double STEP = 1e-4;
    /** Elementwise tolerance: |a - n| <= ELEM_TOL * max(1, |n|). */
    public static final double ELEM_TOL = 1e-3;
    /** Overall tolerance: ||a - n|| / ||n|| < REL_L2_TOL. */
    public static final double REL_L2_TOL = 1e-4;

    /** The op's forward in double (reference). */
    @FunctionalInterface
    public interface RefFn {
        double[] apply(double[][] inputs);
    }

    /**
     * The backend's gradient: given the inputs (float32) and dy = r, run the backend's forward and backward ops and
     * return one gradient array per input (null for inputs without a gradient).
     */
    @FunctionalInterface
    public interface BackendGradFn {
        float[][] apply(float[][] inputs, float[] dy);
    }

    /** r: uniform in [-1, 1), fixed seed. */
    public static double[] projection(int n, long seed) {
        Random rnd = new Random(seed);
        double[] r = new double[n];
        for (int i = 0; i < n; i++) r[i] = (float) (rnd.nextDouble() * 2 - 1);
        return r;
    }

    /** dL/d inputs[which] by central differences of L = sum r . f(inputs). */
    public static double[] numericGrad(RefFn f, double[][] inputs, int which, double[] r, double h) {
        double[][] in = inputs.clone();
        double[] x = inputs[which].clone();
        in[which] = x;
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double orig = x[i];
            x[i] = orig + h;
            double lp = dot(r, f.apply(in));
            x[i] = orig - h;
            double lm = dot(r, f.apply(in));
            x[i] = orig;
            g[i] = (lp - lm) / (2 * h);
        }
        return g;
    }

    /**
     * Checks every input i with wrt[i] against the backend's gradient. Fails (JUnit) with the worst element's index,
     * numeric and analytic values.
     */
    public static void check(String name, double[][] inputs, boolean[] wrt, RefFn f, BackendGradFn backend, long seed) {
        check(name, inputs, wrt, f, backend, seed, STEP);
    }

    public static void check(String name, double[][] inputs, boolean[] wrt, RefFn f, BackendGradFn backend, long seed,
                             double h) {
        double[][] in = new double[inputs.length][];
        float[][] fin = new float[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) continue;
            fin[i] = toFloat(inputs[i]);
            in[i] = toDouble(fin[i]);
        }
        int outLen = f.apply(in).length;
        double[] r = projection(outLen, seed);
        float[][] analytic = backend.apply(fin, toFloat(r));
        StringBuilder errors = new StringBuilder();
        for (int i = 0; i < in.length; i++) {
            if (!wrt[i]) continue;
            double[] num = numericGrad(f, in, i, r, h);
            if (analytic == null || analytic[i] == null) {
                errors.append(name).append(": backend returned no gradient for input ").append(i).append('\n');
                continue;
            }
            String msg = compare(name + " d(input " + i + ")", num, analytic[i], ELEM_TOL, REL_L2_TOL);
            if (msg != null) errors.append(msg).append('\n');
        }
        if (!errors.isEmpty()) fail(errors.toString());
    }

    /**
     * Compares backend output to a reference: |a - e| <= elemTol * max(1, |e|) everywhere and relative L2 error
     * < relTol. Returns null if fine, else a description with the worst element.
     */
    public static String compare(String what, double[] expected, float[] actual, double elemTol, double relTol) {
        if (expected.length != actual.length)
            return what + ": length " + actual.length + " != expected " + expected.length;
        double num = 0, den = 0, worst = -1;
        int worstAt = -1, bad = 0;
        for (int k = 0; k < expected.length; k++) {
            double d = Math.abs(actual[k] - expected[k]);
            if (Double.isNaN(actual[k]) && !Double.isNaN(expected[k])) d = Double.POSITIVE_INFINITY;
            num += d * d;
            den += expected[k] * expected[k];
            double ratio = d / Math.max(1.0, Math.abs(expected[k]));
            if (ratio > elemTol) bad++;
            if (ratio > worst || Double.isNaN(ratio)) {
                worst = ratio;
                worstAt = k;
            }
        }
        double rel = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        if (bad == 0 && (rel < relTol || rel == 0) && !Double.isNaN(rel)) return null;
        return String.format("%s: %d/%d elements out of tolerance %.1e, relL2=%.3e (tol %.1e); worst at [%d]: expected %.9g"
                        + " actual %.9g |diff|=%.3e", what, bad, expected.length, elemTol, rel, relTol, worstAt,
                expected[worstAt], actual[worstAt], Math.abs(actual[worstAt] - expected[worstAt]));
    }

    /** JUnit assertion form of {@link #compare}. */
    public static void assertClose(String what, double[] expected, float[] actual, double elemTol, double relTol) {
        String msg = compare(what, expected, actual, elemTol, relTol);
        if (msg != null) fail(msg);
    }

    /** Forward check: elementwise and relative L2 at the same tolerance. */
    public static void assertClose(String what, double[] expected, float[] actual, double tol) {
        assertClose(what, expected, actual, tol, tol);
    }

    // ------------------------------------------------------------------ helpers
    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    public static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
