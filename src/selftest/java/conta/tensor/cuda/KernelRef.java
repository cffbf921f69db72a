package conta.tensor.cuda;

/**
 * Plain-Java references of the domain kernels in kernels/cam.cu, conta.cu and walk.cu (same formulas, same summation
 * order where it matters), used by the GPU self-test and by CPU unit tests. Arrays are flat row-major; shapes follow
 * the kernel comments. The other kernels' references are the CPU backend's ops and conta.eval.Confusion.
 */
public final class KernelRef {
    private KernelRef() { }

    /** cam[n,c,p] = relu(sum_k w[c,k] feat[n,k,p]), summed with fma in k order as the kernel does. */
    public static float[] cam(float[] feat, float[] w, int n, int k, int c, int p) {
        float[] out = new float[n * c * p];
        for (int ni = 0; ni < n; ni++)
            for (int ci = 0; ci < c; ci++)
                for (int q = 0; q < p; q++) {
                    float acc = 0f;
                    for (int j = 0; j < k; j++) acc = Math.fma(w[ci * k + j], feat[(ni * k + j) * p + q], acc);
                    out[(ni * c + ci) * p + q] = Math.max(acc, 0f);
                }
        return out;
    }

    /** x[plane] /= max(x[plane]) + eps, in place. */
    public static void normaliseMax(float[] x, int planes, int p, float eps) {
        for (int pl = 0; pl < planes; pl++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int q = 0; q < p; q++) m = Math.max(m, x[pl * p + q]);
            float d = m + eps;
            for (int q = 0; q < p; q++) x[pl * p + q] /= d;
        }
    }

    /** Seeds from CAMs of the present classes: argmax+1 if its score > fgThr, 0 if <= bgThr, else ignore. */
    public static float[] seeds(float[] cam, float[] present, int n, int c, int p, float fgThr, float bgThr, int ignore) {
        float[] out = new float[n * p];
        for (int ni = 0; ni < n; ni++)
            for (int q = 0; q < p; q++) {
                int best = -1;
                float m = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) {
                    if (present[ni * c + k] == 0f) continue;
                    float v = cam[(ni * c + k) * p + q];
                    if (best < 0 || v > m) { best = k; m = v; }
                }
                out[ni * p + q] = best >= 0 && m > fgThr ? best + 1 : (best < 0 || m <= bgThr ? 0 : ignore);
            }
        return out;
    }

    /** {means [n,c,k], counts [n,c]}: mean feature over the pixels labelled c (0 where there are none). */
    public static float[][] classMeans(float[] feat, float[] labels, int n, int k, int c, int p) {
        float[] means = new float[n * c * k], counts = new float[n * c];
        for (int ni = 0; ni < n; ni++)
            for (int ci = 0; ci < c; ci++) {
                int cnt = 0;
                for (int q = 0; q < p; q++) if (labels[ni * p + q] == ci) cnt++;
                counts[ni * c + ci] = cnt;
                for (int kk = 0; kk < k; kk++) {
                    double s = 0;
                    for (int q = 0; q < p; q++) if (labels[ni * p + q] == ci) s += feat[(ni * k + kk) * p + q];
                    means[(ni * c + ci) * k + kk] = cnt == 0 ? 0f : (float) (s / cnt);
                }
            }
        return new float[][]{means, counts};
    }

    /** {a [n,c], m [n,k]}: a = softmax_c(q kz^T / sqrt(d)), m = sum_c a prior z (see kernels/conta.cu). */
    public static float[][] contaAttentionForward(float[] q, float[] kz, float[] z, float[] prior, int n, int c, int d, int k) {
        float inv = (float) (1 / Math.sqrt(d));
        float[] a = new float[n * c], m = new float[n * k];
        float[] s = new float[c];
        for (int ni = 0; ni < n; ni++) {
            float mx = Float.NEGATIVE_INFINITY;
            for (int ci = 0; ci < c; ci++) {
                double acc = 0;
                for (int j = 0; j < d; j++) acc += (double) q[ni * d + j] * kz[ci * d + j];
                s[ci] = (float) (acc * inv);
                mx = Math.max(mx, s[ci]);
            }
            double sum = 0;
            for (int ci = 0; ci < c; ci++) sum += Math.exp((double) s[ci] - mx);
            for (int ci = 0; ci < c; ci++) a[ni * c + ci] = (float) (Math.exp((double) s[ci] - mx) / sum);
            for (int kk = 0; kk < k; kk++) {
                double acc = 0;
                for (int ci = 0; ci < c; ci++) acc += (double) a[ni * c + ci] * prior[ci] * z[ci * k + kk];
                m[ni * k + kk] = (float) acc;
            }
        }
        return new float[][]{a, m};
    }

    /** {dq [n,d], dkz [c,d]} from dm [n,k]; a is the forward's attention. Z and the prior are constants. */
    public static float[][] contaAttentionBackward(float[] q, float[] kz, float[] z, float[] prior, float[] a, float[] dm,
                                                   int n, int c, int d, int k) {
        float inv = (float) (1 / Math.sqrt(d));
        float[] ds = new float[n * c], dq = new float[n * d], dkz = new float[c * d];
        float[] da = new float[c];
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                double acc = 0;
                for (int kk = 0; kk < k; kk++) acc += (double) dm[ni * k + kk] * z[ci * k + kk];
                da[ci] = (float) (acc * prior[ci]);
            }
            double dot = 0;
            for (int ci = 0; ci < c; ci++) dot += (double) a[ni * c + ci] * da[ci];
            for (int ci = 0; ci < c; ci++) ds[ni * c + ci] = (float) (a[ni * c + ci] * (da[ci] - dot));
            for (int j = 0; j < d; j++) {
                double acc = 0;
                for (int ci = 0; ci < c; ci++) acc += (double) ds[ni * c + ci] * kz[ci * d + j];
                dq[ni * d + j] = (float) (acc * inv);
            }
        }
        for (int ci = 0; ci < c; ci++)
            for (int j = 0; j < d; j++) {
                double acc = 0;
                for (int ni = 0; ni < n; ni++) acc += (double) ds[ni * c + ci] * q[ni * d + j];
                dkz[ci * d + j] = (float) (acc * inv);
            }
        return new float[][]{dq, dkz};
    }

    /** Sum over the neighbours i of pixel (y, x) of A[i,j]^beta (times v[i] unless v is null), self-loop weight 1. */
    private static double gather(float[] v, int vOff, float[] aff, int aOff, int[] dy, int[] dx, int h, int w, int y, int x, float beta) {
        int p = h * w, j = y * w + x;
        double s = v == null ? 1 : v[vOff + j];
        for (int t = 0; t < dy.length; t++) {
            int y1 = y + dy[t], x1 = x + dx[t];
            if (y1 >= 0 && y1 < h && x1 >= 0 && x1 < w) {
                double a = Math.pow(aff[aOff + t * p + j], beta);
                s += v == null ? a : a * v[vOff + y1 * w + x1];
            }
            int y0 = y - dy[t], x0 = x - dx[t];
            if (y0 >= 0 && y0 < h && x0 >= 0 && x0 < w) {
                double a = Math.pow(aff[aOff + t * p + y0 * w + x0], beta);
                s += v == null ? a : a * v[vOff + y0 * w + x0];
            }
        }
        return s;
    }

    /** d[n,j] = column sums of A^beta; aff [n, O, h*w] holds the edge from p to p + (dy[o], dx[o]). */
    public static float[] walkColumnSums(float[] aff, int[] dy, int[] dx, int n, int h, int w, float beta) {
        int p = h * w;
        float[] d = new float[n * p];
        for (int ni = 0; ni < n; ni++)
            for (int j = 0; j < p; j++) d[ni * p + j] = (float) gather(null, 0, aff, ni * dy.length * p, dy, dx, h, w, j / w, j % w, beta);
        return d;
    }

    /** One step v'[n,c,j] = sum_i v[n,c,i] A[i,j]^beta / d[n,j]. */
    public static float[] walkStep(float[] v, float[] aff, int[] dy, int[] dx, float[] d, int n, int c, int h, int w, float beta) {
        int p = h * w;
        float[] out = new float[n * c * p];
        for (int ni = 0; ni < n; ni++)
            for (int ci = 0; ci < c; ci++)
                for (int j = 0; j < p; j++)
                    out[(ni * c + ci) * p + j] = (float) (gather(v, (ni * c + ci) * p, aff, ni * dy.length * p, dy, dx, h, w, j / w, j % w, beta)
                            / d[ni * p + j]);
        return out;
    }
}
