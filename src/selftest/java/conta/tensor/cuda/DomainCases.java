package conta.tensor.cuda;

import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;

/** SelfTest cases for the WSSS kernels (CudaDomain) against KernelRef, the CPU resize and conta.eval.Confusion. */
final class DomainCases {
    private final SelfTest t;
    private final CudaBackend g;
    private final CudaDomain d;
    private static final double TOL = 1e-5;

    DomainCases(SelfTest t, CudaBackend g) {
        this.t = t;
        this.g = g;
        this.d = new CudaDomain(g);
    }

    private Tensor up(float[] a, int... shape) { return Tensor.of(g, a, shape); }

    void all() {
        t.run("cam", this::cam);
        t.run("seeds", this::seeds);
        t.run("classMeans", this::classMeans);
        t.run("contaAttention", this::attention);
        t.run("randomWalk", this::walk);
        t.run("confusion", this::confusion);
    }

    private void cam() {
        int n = 2, k = 64, c = 5, h = 8, w = 9, p = h * w;
        float[] feat = t.randn(n * k * p), wt = t.randn(c * k);
        float[] ref = KernelRef.cam(feat, wt, n, k, c, p);
        try (Tensor f = up(feat, n, k, h, w); Tensor ww = up(wt, c, k); Tensor cam = g.empty(n, c, h, w)) {
            d.cam(f, ww, cam);
            t.check("cam = relu(W . features)", cam.toArray(), ref, TOL);
            KernelRef.normaliseMax(ref, n * c, p, 1e-5f);
            d.normaliseMax(cam, 1e-5f);
            t.check("cam per-class max-normalisation", cam.toArray(), ref, TOL);
            // multi-scale accumulation: acc = up(cam) + up(cam at another scale), CPU = resize + addScaled
            CpuBackend cpu = t.cpu;
            try (Tensor cc = Tensor.of(cpu, ref, n, c, h, w); Tensor accC = Tensor.zeros(cpu, n, c, 32, 36); Tensor tmp = cpu.empty(n, c, 32, 36);
                 Tensor accG = Tensor.zeros(g, n, c, 32, 36)) {
                for (int s = 0; s < 2; s++) {
                    cpu.resizeBilinear(cc, false, tmp);
                    cpu.addScaled(accC, 1f, tmp, 1f, accC);
                    d.resizeAccumulate(cam, false, accG);
                }
                t.check("cam multi-scale accumulation (resize + add)", accG.toArray(), accC.toArray(), TOL);
            }
        }
    }

    private void seeds() {
        int n = 2, c = 6, p = 50;
        float[] cam = new float[n * c * p];
        for (int i = 0; i < cam.length; i++) cam[i] = (float) t.rnd.nextDouble();
        float[] present = {1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}; // image 2 has no class: all background
        for (float[] thr : new float[][]{{0.3f, 0.3f}, {0.7f, 0.2f}}) {
            float[] ref = KernelRef.seeds(cam, present, n, c, p, thr[0], thr[1], 255);
            try (Tensor cm = up(cam, n, c, p, 1); Tensor pr = up(present, n, c); Tensor lab = g.empty(n, p)) {
                d.seeds(cm, pr, thr[0], thr[1], 255, lab);
                t.check("seeds fg " + thr[0] + " bg " + thr[1], lab.toArray(), ref, 0);
            }
        }
    }

    private void classMeans() {
        int n = 2, k = 16, c = 4, p = 60;
        float[] feat = t.randn(n * k * p), lab = new float[n * p];
        for (int i = 0; i < lab.length; i++) lab[i] = t.rnd.nextInt(6) == 0 ? 255 : t.rnd.nextInt(c - 1); // class 3 absent
        float[][] ref = KernelRef.classMeans(feat, lab, n, k, c, p);
        try (Tensor f = up(feat, n, k, p, 1); Tensor l = up(lab, n, p); Tensor m = g.empty(n, c, k); Tensor cnt = g.empty(n, c)) {
            d.classMeans(f, l, m, cnt);
            t.check("class-mean masks: means", m.toArray(), ref[0], TOL);
            t.check("class-mean masks: counts", cnt.toArray(), ref[1], 0);
        }
    }

    private void attention() {
        int n = 3, c = 20, dd = 32, k = 48;
        float[] q = t.randn(n * dd), kz = t.randn(c * dd), z = t.randn(c * k), prior = new float[c], dm = t.randn(n * k);
        for (int i = 0; i < c; i++) prior[i] = 1f / c;
        float[][] f = KernelRef.contaAttentionForward(q, kz, z, prior, n, c, dd, k);
        float[][] b = KernelRef.contaAttentionBackward(q, kz, z, prior, f[0], dm, n, c, dd, k);
        try (Tensor tq = up(q, n, dd); Tensor tk = up(kz, c, dd); Tensor tz = up(z, c, k); Tensor tp = up(prior, c); Tensor a = g.empty(n, c);
             Tensor m = g.empty(n, k); Tensor tdm = up(dm, n, k); Tensor dq = g.empty(n, dd); Tensor dk = g.empty(c, dd)) {
            d.contaAttentionForward(tq, tk, tz, tp, a, m);
            t.check("CONTA attention softmax A", a.toArray(), f[0], TOL);
            t.check("CONTA attention M", m.toArray(), f[1], TOL);
            d.contaAttentionBackward(tq, tk, tz, tp, a, tdm, dq, dk);
            t.check("CONTA attention backward dQ (W1 side)", dq.toArray(), b[0], TOL);
            t.check("CONTA attention backward dKz (W2 side)", dk.toArray(), b[1], TOL);
        }
    }

    private void walk() {
        int n = 2, c = 3, h = 11, w = 13, p = h * w;
        int[] dy = {0, 1, 1, 1, 2}, dx = {1, -1, 0, 1, 0};
        float[] aff = new float[n * dy.length * p], v = t.randn(n * c * p);
        for (int i = 0; i < aff.length; i++) aff[i] = (float) t.rnd.nextDouble();
        float[] dRef = KernelRef.walkColumnSums(aff, dy, dx, n, h, w, 8f);
        float[] vRef = KernelRef.walkStep(v, aff, dy, dx, dRef, n, c, h, w, 8f);
        try (Tensor ta = up(aff, n, dy.length, h, w); Tensor tv = up(v, n, c, h, w); Tensor td = g.empty(n, h, w); Tensor out = g.empty(n, c, h, w)) {
            d.walkColumnSums(ta, dy, dx, 8f, td);
            t.check("random walk column sums (beta 8)", td.toArray(), dRef, TOL);
            d.walkStep(tv, ta, dy, dx, td, 8f, out);
            t.check("random walk step", out.toArray(), vRef, TOL);
        }
    }

    private void confusion() {
        int k = 21, px = 5000;
        float[] gt = new float[px], pred = new float[px];
        for (int i = 0; i < px; i++) {
            gt[i] = t.rnd.nextInt(10) == 0 ? 255 : t.rnd.nextInt(k);
            pred[i] = t.rnd.nextInt(20) == 0 ? 255 : t.rnd.nextInt(k);
        }
        long[] ref = SelfTest.confusionRef(gt, pred, k);
        try (Tensor tg = up(gt, px); Tensor tpd = up(pred, px)) {
            long[] got = d.confusion(tg, tpd, k);
            t.report("confusion matrix accumulation", java.util.Arrays.equals(got, ref), "sum " + java.util.Arrays.stream(got).sum());
        }
    }
}
