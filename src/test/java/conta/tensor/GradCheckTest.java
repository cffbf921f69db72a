package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The checker itself: accepts a correct gradient, rejects a slightly wrong one, and its numerics are accurate. */
class GradCheckTest {
    // f(x) = (x0^2 * x1, sin(x1)), analytic dL/dx = (2 x0 x1 r0, x0^2 r0 + cos(x1) r1)
    static double[] f(double[][] in) { return new double[]{in[0][0] * in[0][0] * in[0][1], Math.sin(in[0][1])}; }

    static float[][] grad(float[][] in, float[] r, double error) {
        double x0 = in[0][0], x1 = in[0][1];
        return new float[][]{{(float) (2 * x0 * x1 * r[0]), (float) (x0 * x0 * r[0] + Math.cos(x1) * r[1] + error)}};
    }

    @Test
    void acceptsCorrectGradient() {
        GradCheck.check("ok", new double[][]{{0.7, -1.3}}, new boolean[]{true}, GradCheckTest::f,
                (in, r) -> grad(in, r, 0), 1);
    }

    @Test
    void rejectsWrongGradient() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> GradCheck.check("bad",
                new double[][]{{0.7, -1.3}}, new boolean[]{true}, GradCheckTest::f, (in, r) -> grad(in, r, 2e-3), 1));
        assertNotNull(e.getMessage());
        assertThrows(AssertionFailedError.class, () -> GradCheck.check("missing", new double[][]{{0.7, -1.3}},
                new boolean[]{true}, GradCheckTest::f, (in, r) -> new float[1][], 1));
    }

    @Test
    void numericGradAccurate() {
        double[] r = {0.3, -0.8};
        double[] g = GradCheck.numericGrad(GradCheckTest::f, new double[][]{{0.7, -1.3}}, 0, r, GradCheck.STEP);
        assertEquals(2 * 0.7 * -1.3 * 0.3, g[0], 1e-9);
        assertEquals(0.49 * 0.3 + Math.cos(-1.3) * -0.8, g[1], 1e-9);
    }

    @Test
    void compareReportsWorstElement() {
        assertNull(GradCheck.compare("same", new double[]{1, 2}, new float[]{1, 2}, 0, 0));
        String msg = GradCheck.compare("x", new double[]{1, 2, 3}, new float[]{1, 2.5f, 3}, 1e-3, 1e-4);
        assertNotNull(msg);
        assertEquals(true, msg.contains("worst at [1]"), msg);
        assertNotNull(GradCheck.compare("nan", new double[]{1}, new float[]{Float.NaN}, 1e-3, 1e-4));
    }
}
