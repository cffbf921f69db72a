package conta.tensor;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fused pairs (batch norm + ReLU in training and frozen form, residual add + ReLU) against float64 references of
 * the composition and float64 finite differences. Shapes of 37 and 150 spatial values per image exercise both the
 * 16-lane vector loops and their scalar tails; a channel mean of 3 with std 0.5 puts about half of the BN outputs
 * below zero for the ReLU mask.
 */
class FusedOpsTest extends OpsTestBase {
    static final float EPS = 1e-5f;

    private static double[] input(Random rnd, int n, int c, int hw, double mean) {
        double[] x = new double[n * c * hw];
        for (int b = 0; b < n; b++) for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < hw; i++) x[(b * c + ch) * hw + i] = (float) (mean + 0.3 * ch + 0.5 * rnd.nextGaussian());
        return x;
    }

    @Test
    void batchNormReluTrainMatchesReluOfReference() {
        for (int[] d : new int[][]{{2, 3, 37}, {3, 2, 150}}) {
            int n = d[0], c = d[1], hw = d[2];
            Random rnd = new Random(hw);
            double[] x = input(rnd, n, c, hw, 3.0), g = rand(rnd, c, 0.5, 1.5), bt = rand(rnd, c, -0.5, 0.5);
            double[] rm = rand(rnd, c, -0.2, 0.2), rv = rand(rnd, c, 0.5, 2);
            RefOps.BnResult ref = RefOps.batchNormTrain(x, n, c, hw, g, bt, rm, rv, 0.1, EPS);
            Tensor rmT = t(rm, c), rvT = t(rv, c);
            Tensor y = filled(Float.NaN, n, c, hw, 1), sm = zeros(c), sis = zeros(c);
            be.batchNormReluTrain(t(x, n, c, hw, 1), t(g, c), t(bt, c), rmT, rvT, 0.1f, EPS, y, sm, sis);
            GradCheck.assertClose("bn+relu y", RefOps.relu(ref.y()), get(y), FWD_TOL);
            GradCheck.assertClose("bn+relu saveMean", ref.mean(), get(sm), FWD_TOL);
            GradCheck.assertClose("bn+relu saveInvStd", ref.invStd(), get(sis), FWD_TOL);
            GradCheck.assertClose("bn+relu runVar", ref.runVar(), get(rvT), FWD_TOL);
        }
    }

    @Test
    void batchNormReluBackwardMatchesFiniteDifferences() {
        int n = 3, c = 2, hw = 37;
        Random rnd = new Random(5);
        double[] x0 = input(rnd, n, c, hw, 0.0), g0 = rand(rnd, c, 0.5, 1.5), b0 = rand(rnd, c, -0.5, 0.5);
        double[] rm = new double[c], rv = new double[c];
        java.util.Arrays.fill(rv, 1);
        GradCheck.check("batchNormRelu", new double[][]{x0, g0, b0}, new boolean[]{true, true, true},
                in -> RefOps.relu(RefOps.batchNormTrain(in[0], n, c, hw, in[1], in[2], rm, rv, 0.1, EPS).y()),
                (in, dy) -> {
                    Tensor x = t(in[0], n, c, hw, 1), gamma = t(in[1], c), beta = t(in[2], c);
                    Tensor y = zeros(n, c, hw, 1), sm = zeros(c), sis = zeros(c);
                    be.batchNormReluTrain(x, gamma, beta, null, null, 0f, EPS, y, sm, sis);
                    Tensor dx = filled(-5f, n, c, hw, 1), dg = zeros(c), db = zeros(c);
                    be.batchNormReluBackward(x, gamma, y, t(dy, n, c, hw, 1), sm, sis, dx, dg, db);
                    return new float[][]{get(dx), get(dg), get(db)};
                }, 11);
    }

    @Test
    void frozenAffineReluAndItsBackward() {
        int n = 2, c = 3, hw = 150;
        Random rnd = new Random(9);
        double[] x = input(rnd, n, c, hw, 0.0), sc = rand(rnd, c, -1.5, 1.5), sh = rand(rnd, c, -0.5, 0.5);
        double[] dy = rand(rnd, n * c * hw, -1, 1);
        double[] ref = RefOps.relu(RefOps.channelAffine(x, n, c, hw, sc, sh));
        Tensor y = filled(Float.NaN, n, c, hw, 1);
        be.channelAffineRelu(t(x, n, c, hw, 1), t(sc, c), t(sh, c), y);
        GradCheck.assertClose("affine+relu y", ref, get(y), FWD_TOL);
        for (boolean relu : new boolean[]{true, false}) {
            double[] dx = new double[x.length], sg = new double[c], sgx = new double[c];
            for (int k = 0; k < x.length; k++) {
                int ch = (k / hw) % c;
                double g = !relu || ref[k] > 0 ? dy[k] : 0;
                dx[k] = g * sc[ch];
                sg[ch] += g;
                sgx[ch] += g * x[k];
            }
            Tensor dxT = filled(Float.NaN, n, c, hw, 1), sgT = filled(Float.NaN, c), sgxT = filled(Float.NaN, c);
            be.channelAffineBackward(t(x, n, c, hw, 1), relu ? y : null, t(dy, n, c, hw, 1), t(sc, c), dxT, sgT, sgxT);
            GradCheck.assertClose("affine backward dx, relu " + relu, dx, get(dxT), FWD_TOL);
            GradCheck.assertClose("affine backward sum g, relu " + relu, sg, get(sgT), FWD_TOL);
            GradCheck.assertClose("affine backward sum g x, relu " + relu, sgx, get(sgxT), FWD_TOL);
            Tensor only = filled(Float.NaN, n, c, hw, 1); // dx alone, no sums
            be.channelAffineBackward(t(x, n, c, hw, 1), relu ? y : null, t(dy, n, c, hw, 1), t(sc, c), only, null, null);
            GradCheck.assertClose("affine backward dx only, relu " + relu, dx, get(only), FWD_TOL);
        }
    }

    @Test
    void addReluMatchesReference() {
        Random rnd = new Random(13);
        double[] a = rand(rnd, 1000, -1, 1), b = rand(rnd, 1000, -1, 1);
        Tensor y = filled(Float.NaN, 4, 250);
        be.addRelu(t(a, 4, 250), t(b, 4, 250), y);
        GradCheck.assertClose("addRelu", RefOps.relu(RefOps.addScaled(a, 1, b, 1)), get(y), FWD_TOL);
    }
}
