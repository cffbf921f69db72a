package conta.autograd;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import conta.tensor.Backend;
import conta.tensor.GradCheck;
import conta.tensor.Tensor;
import conta.tensor.TestBackends;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fused autograd ops give the same values and gradients as their unfused compositions (whose gradients the op
 * tests check against float64 finite differences), including the frozen-BN path with learnable gamma / beta that
 * needs the ReLU-masked gradient, and residual adds whose gradient buffer is handed on instead of copied.
 */
class FusedAutogradTest {
    private static final int[] SHAPE = {2, 3, 5, 7};
    private static final int N = 210;

    private static float[] rand(Random r, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return a;
    }

    /** {out, dx, dgamma, dbeta, dskip} for loss = w . (bn(x) + relu-chain + skip) as in a residual block. */
    private static float[][] run(Backend be, boolean fused, boolean frozen, float[] xv, float[] sv, float[] w) {
        try (Tape tape = Tape.open(true);
             Tensor x = Tensor.of(be, xv, SHAPE); Tensor skip = Tensor.of(be, sv, SHAPE);
             Tensor gamma = Tensor.of(be, new float[]{0.8f, 1.2f, -0.6f}, 3); Tensor beta = Tensor.of(be, new float[]{0.1f, -0.2f, 0.3f}, 3);
             Tensor rm = Tensor.of(be, new float[]{0.2f, -0.1f, 0.05f}, 3); Tensor rv = Tensor.of(be, new float[]{0.9f, 1.4f, 0.7f}, 3)) {
            for (Tensor t : new Tensor[]{x, skip, gamma, beta}) t.requiresGrad = true;
            Tensor h;
            if (frozen) h = fused ? F.batchNormFrozenRelu(x, gamma, beta, rm, rv, 1e-5f) : F.relu(F.batchNormFrozen(x, gamma, beta, rm, rv, 1e-5f));
            else h = fused ? F.batchNormTrainRelu(x, gamma, beta, null, null, 0f, 1e-5f) : F.relu(F.batchNormTrain(x, gamma, beta, null, null, 0f, 1e-5f));
            // skip feeds two adds (as a block input feeds its branch and its shortcut): accumulation after a hand-on
            Tensor out = fused ? F.addRelu(F.add(h, skip), skip) : F.relu(F.add(F.add(h, skip), skip));
            Tensor loss = F.linear(F.reshape(out, 1, N), Tape.track(Tensor.of(be, w, 1, N)), null);
            float[] y = out.toArray();
            tape.backward(loss);
            assertNull(out.grad, "an op output's gradient is freed once its node ran");
            assertNotNull(x.grad);
            return new float[][]{y, x.grad.toArray(), gamma.grad.toArray(), beta.grad.toArray(), skip.grad.toArray()};
        }
    }

    @Test
    void fusedOpsEqualTheirCompositions() {
        Random r = new Random(3);
        float[] xv = rand(r, N, -2, 2), sv = rand(r, N, -1, 1), w = rand(r, N, -1, 1);
        try (Backend be = TestBackends.open()) {
            for (boolean frozen : new boolean[]{false, true}) {
                float[][] plain = run(be, false, frozen, xv, sv, w), fused = run(be, true, frozen, xv, sv, w);
                String[] what = {"y", "dx", "dgamma", "dbeta", "dskip"};
                for (int i = 0; i < what.length; i++)
                    GradCheck.assertClose((frozen ? "frozen " : "train ") + what[i], GradCheck.toDouble(plain[i]), fused[i], 1e-5);
            }
        }
    }
}
