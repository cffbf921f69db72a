package conta.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Hand-worked cases and finite differences for the Java references of the domain kernels (no GPU needed). */
class KernelRefTest {
    @Test
    void camIsReluOfWeightedSumThenMaxNormalised() {
        // 1 image, 2 channels, 2 classes, 3 pixels
        float[] feat = {1, 2, 3, /* ch1 */ -1, 0, 1};
        float[] w = {1, 1, /* class 1 */ -1, 0};
        float[] cam = KernelRef.cam(feat, w, 1, 2, 2, 3);
        assertArrayEquals(new float[]{0, 2, 4, 0, 0, 0}, cam, 0f);
        KernelRef.normaliseMax(cam, 2, 3, 1e-5f); // eps keeps the all-zero plane at 0
        assertArrayEquals(new float[]{0, 0.5f, 1, 0, 0, 0}, cam, 1e-5f);
    }

    @Test
    void seedsUseForegroundAndBackgroundThresholds() {
        float[] cam = {0.9f, 0.5f, 0.1f, /* class 2 */ 0.2f, 0.6f, 0.05f};
        float[] present = {1, 1};
        assertArrayEquals(new float[]{1, 2, 0}, KernelRef.seeds(cam, present, 1, 2, 3, 0.3f, 0.3f, 255), 0f);
        assertArrayEquals(new float[]{1, 255, 0}, KernelRef.seeds(cam, present, 1, 2, 3, 0.7f, 0.15f, 255), 0f);
        assertArrayEquals(new float[]{2, 2, 0}, KernelRef.seeds(cam, new float[]{0, 1}, 1, 2, 3, 0.1f, 0.1f, 255), 0f);
    }

    @Test
    void classMeansAverageTheLabelledPixels() {
        float[] feat = {1, 2, 3, 4, /* k1 */ 10, 20, 30, 40};
        float[] lab = {0, 1, 1, 255};
        float[][] r = KernelRef.classMeans(feat, lab, 1, 2, 3, 4);
        assertArrayEquals(new float[]{1, 10, 2.5f, 25, 0, 0}, r[0], 0f);
        assertArrayEquals(new float[]{1, 2, 0}, r[1], 0f);
    }

    @Test
    void contaAttentionBackwardMatchesFiniteDifferences() {
        int n = 2, c = 4, d = 3, k = 5;
        SplittableRandom r = new SplittableRandom(3);
        float[] q = rand(r, n * d), kz = rand(r, c * d), z = rand(r, c * k), prior = {0.1f, 0.2f, 0.3f, 0.4f}, dm = rand(r, n * k);
        float[][] f = KernelRef.contaAttentionForward(q, kz, z, prior, n, c, d, k);
        float[][] g = KernelRef.contaAttentionBackward(q, kz, z, prior, f[0], dm, n, c, d, k);
        float[][] ins = {q, kz};
        for (int which = 0; which < 2; which++)
            for (int i = 0; i < ins[which].length; i++) {
                float[] x = ins[which];
                float old = x[i], h = 1e-2f;
                x[i] = old + h;
                double up = dot(KernelRef.contaAttentionForward(q, kz, z, prior, n, c, d, k)[1], dm);
                x[i] = old - h;
                double down = dot(KernelRef.contaAttentionForward(q, kz, z, prior, n, c, d, k)[1], dm);
                x[i] = old;
                assertEquals((up - down) / (2 * h), g[which][i], 2e-3, (which == 0 ? "dq" : "dkz") + "[" + i + "]");
            }
        for (int ni = 0; ni < n; ni++) {
            double s = 0;
            for (int ci = 0; ci < c; ci++) s += f[0][ni * c + ci];
            assertEquals(1, s, 1e-6);
        }
    }

    @Test
    void randomWalkKeepsConstantsAndMatchesADenseMatrix() {
        int h = 3, w = 4, p = h * w;
        int[] dy = {0, 1}, dx = {1, 0};
        SplittableRandom r = new SplittableRandom(5);
        float[] aff = new float[2 * p];
        for (int i = 0; i < aff.length; i++) aff[i] = (float) r.nextDouble();
        float beta = 2f;
        float[] d = KernelRef.walkColumnSums(aff, dy, dx, 1, h, w, beta);
        float[] ones = new float[p];
        java.util.Arrays.fill(ones, 3f);
        float[] out = KernelRef.walkStep(ones, aff, dy, dx, d, 1, 1, h, w, beta);
        for (float v : out) assertEquals(3f, v, 1e-5f); // columns of T sum to 1
        // dense A: symmetric, unit diagonal, A[p, p+off] = aff[o][p]^beta
        double[][] a = new double[p][p];
        for (int i = 0; i < p; i++) a[i][i] = 1;
        for (int o = 0; o < 2; o++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int y1 = y + dy[o], x1 = x + dx[o];
                    if (y1 >= h || x1 >= w) continue;
                    double v = Math.pow(aff[o * p + y * w + x], beta);
                    a[y * w + x][y1 * w + x1] = a[y1 * w + x1][y * w + x] = v;
                }
        float[] v = rand(r, p), got = KernelRef.walkStep(v, aff, dy, dx, d, 1, 1, h, w, beta);
        for (int j = 0; j < p; j++) {
            double col = 0, s = 0;
            for (int i = 0; i < p; i++) col += a[i][j];
            for (int i = 0; i < p; i++) s += v[i] * a[i][j] / col;
            assertEquals(s, got[j], 1e-5);
        }
    }

    static float[] rand(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
