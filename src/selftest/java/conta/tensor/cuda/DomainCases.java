package conta.tensor.cuda;

import conta.tensor.HostWsss;
import conta.tensor.Tensor;
import conta.tensor.WalkPaths;
import conta.tensor.WsssOps;
import conta.tensor.cpu.CpuBackend;

/**
 * SelfTest cases for the WSSS ops: CudaWsss (the kernels) against the CPU implementation HostWsss on the CPU backend,
 * the same inputs on both sides. Label outputs must agree exactly; maps within TOL (relative L2).
 */
final class DomainCases {
    private final SelfTest t;
    private final CudaBackend g;
    private final CpuBackend cpu;
    private final WsssOps gw, cw;
    private static final double TOL = 1e-5;

    DomainCases(SelfTest t, CudaBackend g) {
        this.t = t;
        this.g = g;
        this.cpu = t.cpu;
        this.gw = g.wsss();
        this.cw = new HostWsss(cpu);
    }

    void all() {
        t.run("cam", this::cam);
        t.run("seeds", this::seeds);
        t.run("classMasks", this::classMasks);
        t.run("randomWalk", this::walk);
        t.run("confusion", this::confusion);
    }

    private void cam() {
        int k = 64, c = 5, h = 8, w = 9, hi = 37, wi = 35;
        float[] feat = t.randn(2L * k * h * w), wt = t.randn((long) c * k);
        int[] sel = {4, 1, 2};
        try (Tensor fg = Tensor.of(g, feat, 2, k, h, w); Tensor wg = Tensor.of(g, wt, c, k, 1, 1); Tensor camG = g.empty(2, c, h, w);
             Tensor fc = Tensor.of(cpu, feat, 2, k, h, w); Tensor wc = Tensor.of(cpu, wt, c, k, 1, 1); Tensor camC = cpu.empty(2, c, h, w);
             Tensor mG = g.empty(1, 3, h, w); Tensor mC = cpu.empty(1, 3, h, w); Tensor aG = Tensor.zeros(g, 1, 3, hi, wi); Tensor aC = Tensor.zeros(cpu, 1, 3, hi, wi)) {
            gw.cam(fg, wg, camG);
            cw.cam(fc, wc, camC);
            t.check("cam = relu(W . features)", camG.toArray(), camC.toArray(), TOL);
            gw.flipMergeSelect(camG, sel, mG);
            cw.flipMergeSelect(camC, sel, mC);
            t.check("cam flip-merge + class selection", mG.toArray(), mC.toArray(), TOL);
            for (int[] grid : new int[][]{{hi, wi}, {48, 48}}) { // the stride-4 grid, then the stride-up grid cropped
                gw.resizeCropAccumulate(mG, grid[0], grid[1], aG);
                cw.resizeCropAccumulate(mC, grid[0], grid[1], aC);
            }
            t.check("cam multi-scale resize-crop-accumulate", aG.toArray(), aC.toArray(), TOL);
            gw.normaliseMax(aG, (long) hi * wi, 1e-5f);
            cw.normaliseMax(aC, (long) hi * wi, 1e-5f);
            t.check("cam per-class max-normalisation", aG.toArray(), aC.toArray(), TOL);
        }
    }

    private void seeds() {
        int n = 2, c = 6, p = 50;
        float[] cam = new float[n * c * p];
        for (int i = 0; i < cam.length; i++) cam[i] = (float) t.rnd.nextDouble();
        for (float[] thr : new float[][]{{0.3f, 0.3f}, {0.7f, 0.2f}}) {
            try (Tensor cg = Tensor.of(g, cam, n, c, p, 1); Tensor lg = g.empty(n, p); Tensor cc = Tensor.of(cpu, cam, n, c, p, 1); Tensor lc = cpu.empty(n, p)) {
                gw.seeds(cg, thr[0], thr[1], 255, lg);
                cw.seeds(cc, thr[0], thr[1], 255, lc);
                t.check("seeds fg " + thr[0] + " bg " + thr[1], lg.toArray(), lc.toArray(), 0);
            }
        }
    }

    private void classMasks() {
        int H = 45, W = 61, n = 5, h = 8, w = 8;
        float[] lab = new float[H * W];
        for (int i = 0; i < lab.length; i++) lab[i] = t.rnd.nextInt(8) == 0 ? 255 : t.rnd.nextInt(n + 1);
        boolean[] present = {true, false, true, true, false};
        for (boolean area : new boolean[]{true, false}) {
            try (Tensor lg = Tensor.of(g, lab, H, W); Tensor mg = g.empty(n, h, w); Tensor sg = Tensor.zeros(g, n, h, w);
                 Tensor lc = Tensor.of(cpu, lab, H, W); Tensor mc = cpu.empty(n, h, w); Tensor sc = Tensor.zeros(cpu, n, h, w)) {
                gw.classMasks(lg, 1, area, mg);
                cw.classMasks(lc, 1, area, mc);
                t.check("confounder class masks (" + (area ? "area" : "nearest") + ")", mg.toArray(), mc.toArray(), 0);
                for (int r = 0; r < 2; r++) {
                    gw.accumulatePresent(mg, present, sg);
                    cw.accumulatePresent(mc, present, sc);
                }
                t.check("confounder sums of present classes", sg.toArray(), sc.toArray(), 0);
            }
        }
    }

    private void walk() {
        int k = 3, h = 23, w = 29, r = 5;
        float[] cams = new float[k * h * w], bd = new float[h * w];
        for (int i = 0; i < cams.length; i++) cams[i] = (float) t.rnd.nextDouble();
        for (int i = 0; i < bd.length; i++) bd[i] = (float) Math.pow(t.rnd.nextDouble(), 4);
        WalkPaths paths = new conta.wsss.irn.PathIndex(r).paths();
        for (int steps : new int[]{1, 16}) {
            try (Tensor cg = Tensor.of(g, cams, k, h, w); Tensor bg = Tensor.of(g, bd, h, w); Tensor og = g.empty(k, h, w);
                 Tensor cc = Tensor.of(cpu, cams, k, h, w); Tensor bc = Tensor.of(cpu, bd, h, w); Tensor oc = cpu.empty(k, h, w)) {
                gw.randomWalk(cg, bg, paths, 10.0, steps, og);
                cw.randomWalk(cc, bc, paths, 10.0, steps, oc);
                t.check("random walk, " + steps + " steps (beta 10, radius 5)", og.toArray(), oc.toArray(), TOL);
            }
        }
    }

    private void confusion() {
        int k = 21, px = 5000;
        float[] gt = new float[px], pred = new float[px];
        for (int i = 0; i < px; i++) {
            gt[i] = t.rnd.nextInt(10) == 0 ? 255 : t.rnd.nextInt(k);
            pred[i] = t.rnd.nextInt(20) == 0 ? 255 : t.rnd.nextInt(k);
        }
        try (Tensor tg = Tensor.of(g, gt, px); Tensor tp = Tensor.of(g, pred, px); Tensor cg = Tensor.of(cpu, gt, px); Tensor cp = Tensor.of(cpu, pred, px)) {
            long[] got = gw.confusion(tg, tp, k), ref = cw.confusion(cg, cp, k);
            t.report("confusion matrix accumulation", java.util.Arrays.equals(got, ref) && java.util.Arrays.equals(ref, SelfTest.confusionRef(gt, pred, k)),
                    "sum " + java.util.Arrays.stream(got).sum());
        }
    }
}
