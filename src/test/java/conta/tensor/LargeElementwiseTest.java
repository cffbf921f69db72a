package conta.tensor;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Elementwise ops and the SGD step on tensors large enough to be split over the cores (above 65,536 floats, with a
 * length that is not a multiple of the split or the vector width): every element must match the float64 reference.
 */
class LargeElementwiseTest extends OpsTestBase {
    static final int N = 3 * 65_536 + 17;

    @Test
    void splitPassesMatchReference() {
        Random rnd = new Random(5);
        double[] a = rand(rnd, N, -2, 2), b = rand(rnd, N, -2, 2);
        Tensor ta = t(a, 1, N), tb = t(b, 1, N), out = t(new double[N], 1, N);
        be.addScaled(ta, 0.75f, tb, -1.5f, out);
        GradCheck.assertClose("addScaled", RefOps.addScaled(a, 0.75, b, -1.5), get(out), FWD_TOL);
        be.scale(ta, -3f, out);
        GradCheck.assertClose("scale", RefOps.addScaled(a, -3, a, 0), get(out), FWD_TOL);
        be.relu(ta, out);
        GradCheck.assertClose("relu", RefOps.relu(a), get(out), FWD_TOL);
        double[] prod = new double[N], rb = new double[N];
        for (int i = 0; i < N; i++) { prod[i] = a[i] * b[i]; rb[i] = a[i] > 0 ? b[i] : 0; }
        be.mul(ta, tb, out);
        GradCheck.assertClose("mul", prod, get(out), FWD_TOL);
        Tensor y = t(RefOps.relu(a), 1, N);
        be.reluBackward(y, tb, out);
        GradCheck.assertClose("reluBackward", rb, get(out), FWD_TOL);
    }

    @Test
    void splitSgdStepMatchesReference() {
        Random rnd = new Random(6);
        double[] p = rand(rnd, N, -1, 1), buf = new double[N];
        Tensor pt = t(p, 1, N), bt = t(buf, 1, N);
        for (int step = 0; step < 3; step++) {
            double[] g = rand(rnd, N, -1, 1);
            RefOps.sgdStep(p, g, buf, 0.05, 0.9, 1e-3, step == 0);
            be.sgdStep(pt, t(g, 1, N), bt, 0.05f, 0.9f, 1e-3f, step == 0);
            GradCheck.assertClose("param after step " + (step + 1), p, get(pt), FWD_TOL);
            GradCheck.assertClose("momentum after step " + (step + 1), buf, get(bt), FWD_TOL);
        }
    }
}
