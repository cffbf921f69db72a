package conta.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import conta.autograd.F;
import conta.autograd.Tape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The layer helpers that keep BN and crop on the device (Backend.batchNormFold, batchNormFoldGammaGrad, copyWindow),
 * on the backend under test, against float64 formulas and index loops written here.
 */
class LayerOpsTest extends OpsTestBase {
    @Test
    void batchNormFoldIsScaleShiftAndInvStd() {
        double[] g = {2, -1, 0.5}, bt = {0.5, 1, -3}, m = {1, -2, 0.25}, v = {3, 0.25, 1e-3};
        float eps = 1e-5f;
        Tensor scale = zeros(3), shift = zeros(3), inv = zeros(3);
        be.batchNormFold(t(g, 3), t(bt, 3), t(m, 3), t(v, 3), eps, scale, shift, inv);
        for (int i = 0; i < 3; i++) {
            double iv = 1 / Math.sqrt(v[i] + (double) eps);
            assertEquals(iv, get(inv)[i], 1e-6 * iv, "inv " + i);
            assertEquals(g[i] * iv, get(scale)[i], 1e-6 * Math.abs(g[i] * iv), "scale " + i);
            assertEquals(bt[i] - m[i] * g[i] * iv, get(shift)[i], 1e-6 * (Math.abs(bt[i]) + Math.abs(m[i] * g[i] * iv)), "shift " + i);
        }
    }

    @Test
    void gammaGradAccumulatesInvTimesCentredSum() {
        double[] inv = {0.5, 2, 1}, m = {1, -1, 0}, sg = {3, 4, -2}, sgx = {5, -6, 7}, d0 = {0.25, 0, -1};
        Tensor d = t(d0, 3);
        be.batchNormFoldGammaGrad(t(inv, 3), t(m, 3), t(sg, 3), t(sgx, 3), d);
        // hand-worked: 0.25 + 0.5 * (5 - 3) = 1.25; 0 + 2 * (-6 + 4) = -4; -1 + 1 * (7 - 0) = 6
        assertArrayEquals(new float[]{1.25f, -4f, 6f}, get(d));
    }

    @Test
    void copyWindowCropsPadsAndAccumulatesByIndex() {
        Random rnd = new Random(3);
        int n = 2, c = 3, sh = 7, sw = 9, dh = 5, dw = 6, h = 4, w = 5;
        double[] src = rand(rnd, n * c * sh * sw, -1, 1), dst = rand(rnd, n * c * dh * dw, -1, 1);
        int st = 2, sl = 3, dt = 1, dl = 0;
        for (boolean acc : new boolean[]{false, true}) {
            Tensor s = t(src, n, c, sh, sw), d = t(dst, n, c, dh, dw);
            be.copyWindow(s, st, sl, d, dt, dl, h, w, acc);
            float[] want = GradCheck.toFloat(dst);
            for (int p = 0; p < n * c; p++)
                for (int r = 0; r < h; r++)
                    for (int q = 0; q < w; q++) {
                        int o = (p * dh + dt + r) * dw + dl + q;
                        float v = (float) src[(p * sh + st + r) * sw + sl + q];
                        want[o] = acc ? want[o] + v : v;
                    }
            assertArrayEquals(want, get(d), "accumulate " + acc);
        }
        Tensor s = zeros(n, c, sh, sw), d = zeros(n, c, dh, dw);
        assertThrows(IllegalArgumentException.class, () -> be.copyWindow(s, 4, 0, d, 0, 0, 4, 5, false)); // 4 + 4 > 7
        assertThrows(IllegalArgumentException.class, () -> be.copyWindow(s, 0, 0, d, 2, 0, 4, 5, false)); // 2 + 4 > 5
        assertThrows(IllegalArgumentException.class, () -> be.copyWindow(s, 0, 0, zeros(n, c + 1, dh, dw), 0, 0, 1, 1, false));
    }

    @Test
    void cropSpatialForwardAndGradientAreTheTopLeftWindow() {
        Random rnd = new Random(5);
        double[] xv = rand(rnd, 2 * 2 * 5 * 6, -1, 1), gv = rand(rnd, 2 * 2 * 3 * 4, -1, 1);
        try (Tape tape = Tape.open(true)) {
            Tensor x = t(xv, 2, 2, 5, 6);
            x.requiresGrad = true;
            Tensor y = F.cropSpatial(x, 3, 4);
            float[] yv = get(y);
            for (int p = 0; p < 4; p++)
                for (int r = 0; r < 3; r++)
                    for (int q = 0; q < 4; q++) assertEquals((float) xv[(p * 5 + r) * 6 + q], yv[(p * 3 + r) * 4 + q]);
            // loss = <y, g> as a 1x1 linear map: dx = g inside the window, 0 outside
            Tensor loss = F.linear(F.reshape(y, 1, 48), t(gv, 1, 48), null);
            tape.backward(loss);
            float[] dx = get(x.grad);
            for (int p = 0; p < 4; p++)
                for (int r = 0; r < 5; r++)
                    for (int q = 0; q < 6; q++)
                        assertEquals(r < 3 && q < 4 ? (float) gv[(p * 3 + r) * 4 + q] : 0f, dx[(p * 5 + r) * 6 + q], 1e-6, r + "," + q);
            x.grad.close();
            x.grad = null;
        }
    }
}
