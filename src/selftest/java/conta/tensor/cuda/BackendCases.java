package conta.tensor.cuda;

import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;

/** SelfTest cases for the Backend ops: the same call on CPU and CUDA with the same random inputs. */
final class BackendCases {
    private final SelfTest t;
    private final CudaBackend g;
    private final CpuBackend c;
    private final double tol;

    BackendCases(SelfTest t, CudaBackend g, double tol) {
        this.t = t;
        this.g = g;
        this.c = t.cpu;
        this.tol = tol;
    }

    private String tag(String s) { return s + (g.tf32 ? " [TF32]" : ""); }

    private void cmp(String name, SelfTest.Pair p) { cmp(name, p, 1); }

    /** k: the length of the sum behind each output element (tolerance grows with sqrt(k)). */
    private void cmp(String name, SelfTest.Pair p, long k) { t.check(tag(name), p.g().toArray(), p.c().toArray(), tol, k); }

    void all() {
        elementwise();
        reductions();
        convAndGemm();
        batchNorm();
        pooling();
        resize();
        losses();
        sgd();
    }

    void elementwise() {
        t.run("elementwise", () -> {
            try (var a = t.randPair(g, 2, 5, 7, 9); var b = t.randPair(g, 2, 5, 7, 9); var o = t.randPair(g, 2, 5, 7, 9)) {
                c.fill(o.c(), 1.5f); g.fill(o.g(), 1.5f); cmp("fill", o);
                c.addScaled(a.c(), 0.3f, b.c(), -2f, o.c()); g.addScaled(a.g(), 0.3f, b.g(), -2f, o.g()); cmp("addScaled", o);
                c.addScaled(a.c(), 1f, o.c(), 1f, o.c()); g.addScaled(a.g(), 1f, o.g(), 1f, o.g()); cmp("addScaled aliasing out", o);
                c.mul(a.c(), b.c(), o.c()); g.mul(a.g(), b.g(), o.g()); cmp("mul", o);
                c.scale(a.c(), -0.7f, o.c()); g.scale(a.g(), -0.7f, o.g()); cmp("scale", o);
                c.relu(a.c(), o.c()); g.relu(a.g(), o.g()); cmp("relu", o);
                c.reluBackward(o.c(), b.c(), a.c()); g.reluBackward(o.g(), b.g(), a.g()); cmp("reluBackward", a);
                c.sigmoid(b.c(), o.c()); g.sigmoid(b.g(), o.g()); cmp("sigmoid", o);
                c.softmax(b.c(), o.c()); g.softmax(b.g(), o.g()); cmp("softmax (cuDNN)", o);
                c.softmaxBackward(o.c(), a.c(), b.c()); g.softmaxBackward(o.g(), a.g(), b.g()); cmp("softmaxBackward (cuDNN)", b);
                c.copy(a.c(), 3, o.c(), 11, 100); g.copy(a.g(), 3, o.g(), 11, 100); cmp("copy", o);
            }
            try (var s = t.randPair(g, 3, 6, 4, 5); var d = t.randPair(g, 3, 8, 4, 5)) {
                c.copyChannels(s.c(), 1, d.c(), 2, 4, false); g.copyChannels(s.g(), 1, d.g(), 2, 4, false); cmp("copyChannels", d);
                c.copyChannels(s.c(), 2, d.c(), 0, 3, true); g.copyChannels(s.g(), 2, d.g(), 0, 3, true); cmp("copyChannels accumulate", d);
            }
            try (var x = t.randPair(g, 2, 6, 5, 5); var sc = t.randPair(g, 6); var sh = t.randPair(g, 6); var y = t.randPair(g, 2, 6, 5, 5)) {
                c.channelAffine(x.c(), sc.c(), sh.c(), y.c()); g.channelAffine(x.g(), sc.g(), sh.g(), y.g()); cmp("channelAffine", y);
                c.channelAffine(x.c(), sc.c(), null, y.c()); g.channelAffine(x.g(), sc.g(), null, y.g()); cmp("channelAffine no shift", y);
            }
        });
    }

    void reductions() {
        t.run("reductions", () -> {
            try (var x = t.randPair(g, 4, 7, 13, 11); var y = t.randPair(g, 4, 7, 13, 11); var o = t.randPair(g, 7)) {
                c.channelSum(x.c(), o.c(), false); g.channelSum(x.g(), o.g(), false); cmp("channelSum", o, 4 * 13 * 11);
                c.channelDot(x.c(), y.c(), o.c(), true); g.channelDot(x.g(), y.g(), o.g(), true); cmp("channelDot accumulate", o, 4 * 13 * 11);
                t.check("sum", new float[]{(float) g.sum(x.g())}, new float[]{(float) c.sum(x.c())}, tol, x.c().numel());
            }
        });
    }

    void convAndGemm() {
        t.run(tag("gemm"), () -> {
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    int m = 37, n = 29, k = 53;
                    try (var a = ta == 1 ? t.randPair(g, k, m) : t.randPair(g, m, k); var b = tb == 1 ? t.randPair(g, n, k) : t.randPair(g, k, n);
                         var cc = t.randPair(g, m, n)) {
                        c.gemm(ta == 1, tb == 1, 0.7f, a.c(), b.c(), 0.5f, cc.c());
                        g.gemm(ta == 1, tb == 1, 0.7f, a.g(), b.g(), 0.5f, cc.g());
                        cmp("gemm transA=" + (ta == 1) + " transB=" + (tb == 1), cc, k);
                    }
                }
        });
        ConvSpec[] specs = {ConvSpec.of(3, 1, 1, 1), ConvSpec.of(1, 1, 0, 1), ConvSpec.of(7, 2, 3, 1), ConvSpec.of(3, 1, 2, 2), ConvSpec.of(1, 2, 0, 1),
                ConvSpec.of(3, 1, 12, 12)};
        for (ConvSpec s : specs) t.run(tag("conv " + s), () -> conv(s, s.padH() == 12 ? 25 : 19));
    }

    /**
     * ResNet-scale shapes (run with -Dconta.cuda.convApi=graph by SelfTest's third pass): cuDNN picks other engines at
     * these sizes than at the small ones above, split-K reductions among them, and backward-filter's beta 1 (dw
     * accumulates onto a non-zero dw here) must hold for those engines too. Training alone would not show an engine
     * that ignores beta: a weight's gradient is zero before its one use in a step.
     */
    void convLarge() {
        int[][] shapes = {{8, 256, 64, 56}, {8, 64, 64, 56}, {4, 256, 512, 64}, {2, 512, 512, 33}}; // n, cin, cout, hw
        ConvSpec[] specs = {ConvSpec.of(1, 1, 0, 1), ConvSpec.of(3, 1, 1, 1), ConvSpec.of(1, 2, 0, 1), ConvSpec.of(3, 1, 2, 2)};
        for (int i = 0; i < specs.length; i++) {
            int[] d = shapes[i];
            ConvSpec s = specs[i];
            t.run(tag("large conv " + s), () -> conv(s, d[0], d[1], d[2], d[3]));
        }
    }

    private void conv(ConvSpec s, int hw) { conv(s, 2, 5, 6, hw); }

    private void conv(ConvSpec s, int n, int cin, int cout, int hw) {
        int oh = s.outH(hw), ow = s.outW(hw);
        String k = "conv " + (n > 2 ? "x[" + n + ", " + cin + ", " + hw + ", " + hw + "] -> " + cout + " " : "") + "k" + s.kh() + " s"
                + s.strideH() + " p" + s.padH() + " d" + s.dilH();
        try (var x = t.randPair(g, n, cin, hw, hw); var w = t.randPair(g, cout, cin, s.kh(), s.kw()); var b = t.randPair(g, cout);
             var y = t.randPair(g, n, cout, oh, ow); var dy = t.randPair(g, n, cout, oh, ow); var dx = t.randPair(g, n, cin, hw, hw);
             var dw = t.randPair(g, cout, cin, s.kh(), s.kw()); var db = t.randPair(g, cout)) {
            c.conv2d(x.c(), w.c(), b.c(), s, y.c()); g.conv2d(x.g(), w.g(), b.g(), s, y.g()); cmp(k + " forward+bias", y, (long) cin * s.kh() * s.kw());
            c.conv2dBackward(x.c(), w.c(), dy.c(), s, dx.c(), dw.c(), db.c());
            g.conv2dBackward(x.g(), w.g(), dy.g(), s, dx.g(), dw.g(), db.g());
            cmp(k + " dx", dx, (long) cout * s.kh() * s.kw());
            cmp(k + " dw (accumulated)", dw, (long) n * oh * ow);
            cmp(k + " db (accumulated)", db, (long) n * oh * ow);
        }
    }

    void batchNorm() {
        t.run("batchNorm", () -> {
            int[] sh = {4, 6, 9, 7};
            final long nhw = 4 * 9 * 7; // every BN output depends on a per-channel sum over N, H, W
            try (var x = t.randPair(g, sh); var gm = t.randPair(g, 6); var bt = t.randPair(g, 6); var y = t.randPair(g, sh);
                 var rm = t.randPair(g, 6); var rv = t.pair(g, new float[]{1, 2, 3, 1, 2, 3}, 6); var sm = t.randPair(g, 6); var si = t.randPair(g, 6);
                 var dy = t.randPair(g, sh); var dx = t.randPair(g, sh); var dg = t.randPair(g, 6); var db = t.randPair(g, 6)) {
                c.batchNormTrain(x.c(), gm.c(), bt.c(), rm.c(), rv.c(), 0.1f, 1e-5f, y.c(), sm.c(), si.c());
                g.batchNormTrain(x.g(), gm.g(), bt.g(), rm.g(), rv.g(), 0.1f, 1e-5f, y.g(), sm.g(), si.g());
                cmp("batchNormTrain y (cuDNN)", y, nhw);
                cmp("batchNormTrain running mean", rm, nhw);
                cmp("batchNormTrain running var (unbiased)", rv, nhw);
                cmp("batchNormTrain saved mean", sm, nhw);
                cmp("batchNormTrain saved inv std", si, nhw);
                c.batchNormBackward(x.c(), gm.c(), dy.c(), sm.c(), si.c(), dx.c(), dg.c(), db.c());
                g.batchNormBackward(x.g(), gm.g(), dy.g(), sm.g(), si.g(), dx.g(), dg.g(), db.g());
                cmp("batchNormBackward dx", dx, nhw);
                cmp("batchNormBackward dgamma (accumulated)", dg, nhw);
                cmp("batchNormBackward dbeta (accumulated)", db, nhw);
                c.batchNormBackward(x.c(), gm.c(), dy.c(), sm.c(), si.c(), null, dg.c(), null);
                g.batchNormBackward(x.g(), gm.g(), dy.g(), sm.g(), si.g(), null, dg.g(), null);
                cmp("batchNormBackward without dx/dbeta", dg, nhw);
                c.batchNormReluTrain(x.c(), gm.c(), bt.c(), rm.c(), rv.c(), 0.1f, 1e-5f, y.c(), sm.c(), si.c());
                g.batchNormReluTrain(x.g(), gm.g(), bt.g(), rm.g(), rv.g(), 0.1f, 1e-5f, y.g(), sm.g(), si.g());
                cmp("batchNormReluTrain y", y, nhw);
                c.batchNormReluBackward(x.c(), gm.c(), y.c(), dy.c(), sm.c(), si.c(), dx.c(), dg.c(), db.c());
                g.batchNormReluBackward(x.g(), gm.g(), y.g(), dy.g(), sm.g(), si.g(), dx.g(), dg.g(), db.g());
                cmp("batchNormReluBackward dx", dx, nhw);
                cmp("batchNormReluBackward dgamma (accumulated)", dg, nhw);
                c.channelAffineRelu(x.c(), gm.c(), bt.c(), y.c()); g.channelAffineRelu(x.g(), gm.g(), bt.g(), y.g()); cmp("channelAffineRelu", y);
                c.channelAffineBackward(x.c(), y.c(), dy.c(), gm.c(), dx.c(), sm.c(), si.c());
                g.channelAffineBackward(x.g(), y.g(), dy.g(), gm.g(), dx.g(), sm.g(), si.g());
                cmp("channelAffineBackward dx", dx);
                cmp("channelAffineBackward sum g", sm, nhw);
                cmp("channelAffineBackward sum g x", si, nhw);
                c.addRelu(x.c(), dy.c(), y.c()); g.addRelu(x.g(), dy.g(), y.g()); cmp("addRelu", y);
            }
        });
    }

    void pooling() {
        Object[][] cases = {{ConvSpec.of(3, 2, 1, 1), false}, {ConvSpec.of(3, 2, 1, 1), true}, {ConvSpec.of(2, 2, 0, 1), true},
                {ConvSpec.of(3, 1, 1, 2), false}, {ConvSpec.of(5, 3, 2, 1), true}};
        for (Object[] cs : cases) {
            ConvSpec s = (ConvSpec) cs[0];
            boolean ceil = (Boolean) cs[1];
            String k = "k" + s.kh() + " s" + s.strideH() + " p" + s.padH() + " d" + s.dilH() + (ceil ? " ceil" : "");
            t.run("pool " + k, () -> {
                int h = 14, w = 11, oh = s.poolOutH(h, ceil), ow = s.poolOutW(w, ceil);
                float[] xs = t.randn(2 * 3 * h * w);
                for (int i = 0; i < xs.length; i += 7) xs[i] = xs[(i + 1) % xs.length]; // ties: first maximum must win on both
                try (var x = t.pair(g, xs, 2, 3, h, w); var y = t.randPair(g, 2, 3, oh, ow); var dy = t.randPair(g, 2, 3, oh, ow); var dx = t.randPair(g, 2, 3, h, w)) {
                    c.maxPool2d(x.c(), s, ceil, y.c()); g.maxPool2d(x.g(), s, ceil, y.g()); cmp("maxPool2d " + k, y);
                    c.maxPool2dBackward(x.c(), s, ceil, dy.c(), dx.c()); g.maxPool2dBackward(x.g(), s, ceil, dy.g(), dx.g()); cmp("maxPool2dBackward " + k, dx);
                    if (s.dilH() == 1) {
                        c.avgPool2d(x.c(), s, ceil, y.c()); g.avgPool2d(x.g(), s, ceil, y.g()); cmp("avgPool2d " + k, y);
                        c.avgPool2dBackward(s, ceil, dy.c(), dx.c()); g.avgPool2dBackward(s, ceil, dy.g(), dx.g()); cmp("avgPool2dBackward " + k, dx);
                    }
                }
            });
        }
    }

    void resize() {
        int[][] sizes = {{7, 9, 15, 20}, {16, 16, 5, 7}, {1, 1, 4, 4}, {10, 12, 10, 12}};
        for (int[] sz : sizes)
            for (boolean ac : new boolean[]{false, true}) {
                String k = sz[0] + "x" + sz[1] + "->" + sz[2] + "x" + sz[3] + (ac ? " align" : "");
                t.run("resize " + k, () -> {
                    try (var x = t.randPair(g, 2, 3, sz[0], sz[1]); var y = t.randPair(g, 2, 3, sz[2], sz[3])) {
                        c.resizeBilinear(x.c(), ac, y.c()); g.resizeBilinear(x.g(), ac, y.g()); cmp("resizeBilinear " + k, y);
                        c.resizeBilinearBackward(y.c(), ac, x.c()); g.resizeBilinearBackward(y.g(), ac, x.g()); cmp("resizeBilinearBackward " + k, x);
                    }
                });
            }
    }

    void losses() {
        t.run("losses", () -> {
            float[] tg = new float[6 * 20];
            for (int i = 0; i < tg.length; i++) tg[i] = t.rnd.nextInt(3) == 0 ? 1 : 0;
            try (var x = t.randPair(g, 6, 20); var y = t.pair(g, tg, 6, 20); var d = t.randPair(g, 6, 20)) {
                float lc = c.multilabelSoftMarginLoss(x.c(), y.c(), d.c(), 2f), lg = g.multilabelSoftMarginLoss(x.g(), y.g(), d.g(), 2f);
                t.check("multilabelSoftMarginLoss", new float[]{lg}, new float[]{lc}, tol, x.c().numel());
                cmp("multilabelSoftMarginLoss grad", d);
                lc = c.bceWithLogitsLoss(x.c(), y.c(), d.c(), 1f);
                lg = g.bceWithLogitsLoss(x.g(), y.g(), d.g(), 1f);
                t.check("bceWithLogitsLoss", new float[]{lg}, new float[]{lc}, tol, x.c().numel());
                cmp("bceWithLogitsLoss grad", d);
            }
            int n = 2, k = 5, h = 9, w = 8;
            float[] lab = new float[n * h * w];
            for (int i = 0; i < lab.length; i++) lab[i] = t.rnd.nextInt(8) == 0 ? 255 : t.rnd.nextInt(k);
            try (var x = t.randPair(g, n, k, h, w); var l = t.pair(g, lab, n, h, w); var cw = t.pair(g, new float[]{1, 2, 0.5f, 1, 3}, k);
                 var d = t.randPair(g, n, k, h, w)) {
                float lc = c.crossEntropyLoss(x.c(), l.c(), cw.c(), 255, d.c(), 0.5f), lg = g.crossEntropyLoss(x.g(), l.g(), cw.g(), 255, d.g(), 0.5f);
                t.check("crossEntropyLoss (weights, ignore 255)", new float[]{lg}, new float[]{lc}, tol, x.c().numel());
                cmp("crossEntropyLoss grad", d);
                lab[5] = 7;
                try (var bad = t.pair(g, lab, n, h, w)) {
                    g.crossEntropyLoss(x.g(), bad.g(), null, 255, null, 1f);
                    t.report("crossEntropyLoss rejects label 7 of 5 classes", false, "no exception");
                } catch (IllegalArgumentException e) {
                    t.report("crossEntropyLoss rejects label 7 of 5 classes", e.getMessage().contains("label 7.0"), e.getMessage());
                }
            }
        });
    }

    void sgd() {
        t.run("sgd", () -> {
            try (var p = t.randPair(g, 1000); var gr = t.randPair(g, 1000); var buf = t.randPair(g, 1000)) {
                for (boolean first : new boolean[]{true, false}) {
                    c.sgdStep(p.c(), gr.c(), buf.c(), 0.1f, 0.9f, 1e-4f, first);
                    g.sgdStep(p.g(), gr.g(), buf.g(), 0.1f, 0.9f, 1e-4f, first);
                }
                cmp("sgdStep momentum (param)", p);
                cmp("sgdStep momentum (buffer)", buf);
                c.sgdStep(p.c(), gr.c(), null, 0.1f, 0f, 0f, false);
                g.sgdStep(p.g(), gr.g(), null, 0.1f, 0f, 0f, false);
                cmp("sgdStep plain", p);
            }
        });
    }
}
