package conta.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.autograd.F;
import conta.autograd.Tape;
import conta.optim.Sgd;
import conta.tensor.ConvSpec;
import conta.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Convolution weights, their gradients and momenta held in oneDNN's OIhw16i16o ({@link BlockedWeights}): the layout
 * against its hand-written index formula; convolutions reading packed weights give exactly what plain weights give
 * (the same values reach the same kernel); a fresh gradient is written in the layout and later ones are added to it
 * there; the SGD step on packed tensors against the update written out by hand; and a training step through the tape
 * against the im2col convolutions of the BLAS backend. Where the host's oneDNN picks OIhw16i16o (every AVX-512 CPU),
 * each case also asserts that the packed path was taken.
 */
class BlockedWeightsTest {
    static CpuBackend b;
    private final TestTensors tt = new TestTensors(b, 11, 1);
    /** oneDNN's f32 kernels choose OIhw16i16o on AVX-512 hosts; elsewhere everything stays plain (values still checked). */
    static final boolean AVX512 = cpuFlag("avx512f");
    /** Where the packed path is expected: such a host, and the layout not switched off (-Dconta.cpu.blockedWeights=false). */
    static final boolean PACKS = AVX512 && BlockedWeights.ENABLED;

    @BeforeAll
    static void open() { b = new CpuBackend(CpuBackend.ConvImpl.DNNL); }

    @AfterAll
    static void close() { b.close(); }

    @AfterEach
    void free() { tt.closeAll(); }

    static boolean cpuFlag(String flag) {
        try {
            return Files.readString(Path.of("/proc/cpuinfo")).matches("(?s).*\\bflags\\b[^\\n]*\\b" + flag + "\\b.*");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private Tensor t(float[] v, int... shape) { return tt.of(v, shape); }

    private Tensor rand(int... shape) { return tt.rand(shape); }

    private Tensor empty(int... shape) { return tt.empty(shape); }

    private Tensor zeros(int... shape) { return tt.zeros(shape); }

    /** A copy of w (plain) held in OIhw16i16o. */
    private Tensor packed(Tensor w) {
        Tensor y = t(w.toArray(), w.shape());
        CpuBackend.storage(y).toBlocked(BlockedWeights.of(y));
        return y;
    }

    private static void assertPacked(Tensor w, String what) {
        if (PACKS) assertTrue(BlockedWeights.holds(w), what + ": " + w + " should hold OIhw16i16o");
    }

    @Test
    void layoutMatchesTheIndexFormula() {
        int o = 48, i = 32, kh = 3, kw = 2;
        Tensor w = rand(o, i, kh, kw);
        float[] plain = w.toArray();
        Tensor p = packed(w);
        MemorySegment raw = CpuBackend.storage(p).rawSegment();
        for (int a = 0; a < o; a++)
            for (int c = 0; c < i; c++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++) {
                        long at = ((((long) (a / 16) * (i / 16) + c / 16) * kh + y) * kw + x) * 256 + (c % 16) * 16 + a % 16;
                        assertEquals(plain[((a * i + c) * kh + y) * kw + x], raw.getAtIndex(CpuBackend.F, at));
                    }
        assertArrayEquals(plain, p.toArray(), "reading converts back");
        assertNull(CpuBackend.storage(p).packing(), "and leaves it plain");
    }

    @Test
    void weightsNotInSixteensStayPlain() {
        Tensor x = rand(2, 3, 9, 9), w = rand(32, 3, 3, 3), dy = rand(2, 32, 9, 9), dw = zeros(32, 3, 3, 3);
        assertFalse(BlockedWeights.fits(w));
        b.conv2dBackward(x, w, dy, ConvSpec.of(3, 1, 1, 1), null, dw, null);
        assertNull(CpuBackend.storage(dw).packing());
        Tensor want = t(new float[(int) w.numel()], w.shape());
        b.conv2dBackward(x, w, dy, ConvSpec.of(3, 1, 1, 1), null, want, null);
        assertArrayEquals(want.toArray(), dw.toArray(), 0f);
    }

    /**
     * Every convolution kind of a ResNet, f32 and bf16: packed weights give exactly the plain weights' y and dx, and
     * stay packed (oneDNN reads them as they are, or reorders them into the layout its pass wants).
     */
    @Test
    void convolutionsReadPackedWeightsAsTheyAre() {
        try (CpuBackend bf = new CpuBackend(CpuBackend.ConvImpl.DNNL_BF16)) {
            for (CpuBackend be : new CpuBackend[]{b, bf})
                for (ConvSpec s : new ConvSpec[]{ConvSpec.of(1, 1, 0, 1), ConvSpec.of(1, 2, 0, 1), ConvSpec.of(3, 1, 1, 1), ConvSpec.of(3, 2, 1, 1), ConvSpec.of(3, 1, 2, 2)}) {
                    String what = (be == b ? "f32 " : "bf16 ") + s;
                    int h = 14, w = 14, oh = s.outH(h), ow = s.outW(w);
                    Tensor x = rand(2, 32, h, w), wt = rand(48, 32, s.kh(), s.kw()), dy = rand(2, 48, oh, ow), wp = packed(wt);
                    Tensor yW = empty(2, 48, oh, ow), yG = empty(2, 48, oh, ow), dxW = empty(x.shape()), dxG = empty(x.shape());
                    be.conv2d(x, wt, null, s, yW);
                    be.conv2d(x, wp, null, s, yG);
                    be.conv2dBackward(x, wt, dy, s, dxW, null, null);
                    be.conv2dBackward(x, wp, dy, s, dxG, null, null);
                    if (BlockedWeights.ENABLED) assertTrue(BlockedWeights.holds(wp), what + ": the packed weight stays packed");
                    assertArrayEquals(yW.toArray(), yG.toArray(), 0f, what + " y");
                    assertArrayEquals(dxW.toArray(), dxG.toArray(), 0f, what + " dx");
                }
        }
    }

    /**
     * A fresh gradient buffer (Tensor.zeros, as the tape makes it) is written by oneDNN's weight pass in its own layout,
     * without a fill or a reorder; a second backward adds to it in that layout. Values: those of a plain buffer.
     */
    @Test
    void freshGradientsAreWrittenPackedAndAddedToInTheLayout() {
        try (CpuBackend bf = new CpuBackend(CpuBackend.ConvImpl.DNNL_BF16)) {
            for (CpuBackend be : new CpuBackend[]{b, bf})
                for (ConvSpec s : new ConvSpec[]{ConvSpec.of(1, 1, 0, 1), ConvSpec.of(3, 1, 1, 1), ConvSpec.of(3, 2, 1, 1)}) {
                    String what = (be == b ? "f32 " : "bf16 ") + s;
                    int h = 12, w = 12, oh = s.outH(h), ow = s.outW(w);
                    Tensor x1 = rand(2, 32, h, w), x2 = rand(2, 32, h, w), wt = rand(32, 32, s.kh(), s.kw());
                    Tensor dy1 = rand(2, 32, oh, ow), dy2 = rand(2, 32, oh, ow);
                    Tensor dwW = t(new float[(int) wt.numel()], wt.shape()), dwG = zeros(wt.shape());
                    be.conv2dBackward(x1, wt, dy1, s, null, dwW, null);
                    be.conv2dBackward(x1, wt, dy1, s, null, dwG, null);
                    if (be == b) assertPacked(dwG, what + " first gradient");
                    be.conv2dBackward(x2, wt, dy2, s, null, dwW, null);
                    be.conv2dBackward(x2, wt, dy2, s, null, dwG, null);
                    if (be == b) assertPacked(dwG, what + " accumulated gradient");
                    assertArrayEquals(dwW.toArray(), dwG.toArray(), 0f, what + " dw");
                }
        }
    }

    /** The SGD step in the gradient's layout, two steps (the first sets the momentum), against the update by hand. */
    @Test
    void sgdStepRunsInTheGradientsLayout() {
        float lr = 0.1f, mom = 0.9f, wd = 1e-3f;
        int[] shape = {32, 48, 3, 3};
        Tensor p = rand(shape), m = empty(shape);
        float[] pv = p.toArray(), mv = new float[pv.length];
        for (int step = 0; step < 2; step++) {
            Tensor g = packed(rand(shape));
            float[] gv = g.toArray();
            CpuBackend.storage(g).toBlocked(BlockedWeights.of(g)); // reading converted it back
            b.sgdStep(p, g, m, lr, mom, wd, step == 0);
            if (BlockedWeights.ENABLED) assertTrue(BlockedWeights.holds(p) && BlockedWeights.holds(m), "parameter and momentum brought to the layout");
            if (step == 0) { // a checkpoint reads both (plain again): the next step converts them back
                p.toArray();
                m.toArray();
            }
            for (int i = 0; i < pv.length; i++) { // Elementwise.sgd: g + wd p, then momentum, each rounded to float
                float d = gv[i] + wd * pv[i];
                d = step == 0 ? d : mom * mv[i] + d;
                mv[i] = d;
                pv[i] = pv[i] - lr * d;
            }
        }
        assertArrayEquals(mv, m.toArray(), 0f, "momentum");
        assertArrayEquals(pv, p.toArray(), 0f, "parameter");
    }

    @Test
    void pendingZerosAreZerosWhenRead() {
        // a dirty block back in the pool: a fresh zeros tensor that reuses it must still read as zeros
        Tensor dirty = b.empty(64, 64);
        b.fill(dirty, 3f);
        dirty.close();
        Tensor z = zeros(64, 64);
        for (float v : z.toArray()) assertEquals(0f, v);
        // a tensor already handed out is filled at once
        Tensor y = rand(4, 4);
        b.fill(y, 0f);
        for (float v : y.toArray()) assertEquals(0f, v);
        // pending zeros converted to a layout stay zeros
        Tensor w = zeros(16, 16, 1, 1);
        CpuBackend.storage(w).toBlocked(BlockedWeights.of(w));
        for (float v : w.toArray()) assertEquals(0f, v);
    }

    /**
     * Pending zeros taken by several threads at once (a parallel op writing its parts of a fresh tensor): the fill
     * happens once, before any thread writes, so every part written survives.
     */
    @Test
    void pendingZerosTakenByManyThreadsAtOnce() throws Exception {
        int threads = 4, part = 1 << 16;
        for (int rep = 0; rep < 50; rep++) {
            Tensor z = zeros(threads * part);
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
            List<Thread> ts = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                int me = k;
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                    MemorySegment m = CpuBackend.storage(z).rawSegment();
                    for (int i = 0; i < part; i++) m.setAtIndex(CpuBackend.F, (long) me * part + i, me + 1);
                });
                th.start();
                ts.add(th);
            }
            for (Thread th : ts) th.join();
            float[] v = z.toArray();
            for (int i = 0; i < v.length; i++) assertEquals(i / part + 1, v[i], "element " + i + " of repetition " + rep);
        }
    }

    /**
     * A weight used twice in a small network, trained two steps through the tape and Sgd: its gradient, update and the
     * next forward against the same network on the BLAS backend's im2col convolutions (an independent implementation),
     * and the weight stays packed from the first update on.
     */
    @Test
    void trainingStepsThroughTheTapeAgreeWithIm2col() {
        try (CpuBackend blas = new CpuBackend(CpuBackend.ConvImpl.BLAS)) {
            float[] xv = rand(2, 32, 10, 10).toArray(), wv = rand(32, 32, 3, 3).toArray(), rv = rand(2, 32, 10, 10).toArray();
            float[][] want = train(blas, xv, wv, rv), got = train(b, xv, wv, rv);
            String[] names = {"gradient, step 1", "gradient, step 2", "forward after two updates", "weight after two updates"};
            for (int i = 0; i < want.length; i++) BlockedLayoutTest.assertClose(want[i], got[i], 1e-5, names[i]);
        }
    }

    /** y = conv(relu(conv(x, w)), w); loss = sum(y * r); two SGD steps; returns {grad 1, grad 2, y after, w after}. */
    private float[][] train(CpuBackend be, float[] xv, float[] wv, float[] rv) {
        ConvSpec s = ConvSpec.of(3, 1, 1, 1);
        float[][] out = new float[4][];
        try (Tensor w = Tensor.of(be, wv, 32, 32, 3, 3); Sgd sgd = Sgd.single(List.of(w), 0.9f, 1e-4f)) {
            w.requiresGrad = true;
            for (int step = 0; step < 2; step++) {
                try (Tape tape = Tape.open(true)) {
                    Tensor x = tape.keep(Tensor.of(be, xv, 2, 32, 10, 10));
                    Tensor y = F.conv2d(F.relu(F.conv2d(x, w, null, s)), w, null, s);
                    Tensor seed = Tape.track(Tensor.of(be, new float[]{0f}, 1));
                    Tape.record("dot", seed, gy -> Tape.accumulate(y, Tensor.of(be, rv, y.shape())));
                    tape.backward(seed);
                    if (be == b) assertPacked(w.grad, "gradient of step " + step);
                    sgd.step(0.01f);
                    out[step] = w.grad.toArray();
                    sgd.zeroGrad();
                    x.close();
                }
                if (be == b) assertPacked(w, "weight after step " + step);
            }
            try (Tape tape = Tape.open(false)) {
                Tensor x = tape.keep(Tensor.of(be, xv, 2, 32, 10, 10));
                out[2] = F.conv2d(x, w, null, s).toArray();
                if (be == b) assertPacked(w, "weight read by the forward");
                x.close();
            }
            out[3] = w.toArray();
        }
        return out;
    }
}
