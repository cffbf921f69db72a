package conta.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.tensor.ConvSpec;
import conta.tensor.LayerGraph.Value;
import conta.tensor.RefOps;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * DnnlGraph's ops one at a time against the float64 references of RefOps (written from PyTorch's formulas), at
 * channel counts where oneDNN picks blocked layouts and JIT kernels (32, 48): conv with bias + in-place residual sum +
 * ReLU, max pooling in ceil mode, bilinear resize down and up (align_corners = False), global average pooling with a
 * linear layer, elementwise max; and the buffer plan (liveness sharing, the in-place rule).
 */
class DnnlGraphTest {
    static final SplittableRandom R = new SplittableRandom(11);

    static float[] rand(int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (scale * R.nextGaussian());
        return v;
    }

    static double[] d(float[] f) {
        double[] r = new double[f.length];
        for (int i = 0; i < f.length; i++) r[i] = f[i];
        return r;
    }

    static void close(double[] want, float[] got, double tol) {
        assertEquals(want.length, got.length, "length");
        double m = 0;
        for (double v : want) m = Math.max(m, Math.abs(v));
        for (int i = 0; i < want.length; i++)
            assertTrue(Math.abs(got[i] - want[i]) <= tol * (m + Math.abs(want[i])), "element " + i + ": " + got[i] + " vs " + want[i]);
    }

    @Test
    void convBiasResidualSumRelu() {
        int c = 32, h = 13, w = 11;
        ConvSpec s3 = ConvSpec.of(3, 1, 2, 2), s1 = ConvSpec.of(1, 1, 0, 1);
        float[] x = rand(c * h * w, 1), wa = rand(48 * c * 9, 0.1), ba = rand(48, 0.5), wb = rand(48 * 48, 0.1), bb = rand(48, 0.5);
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value in = g.input(1, c, h, w);
            Value a = g.conv(in, wa, new int[]{48, c, 3, 3}, ba, s3, null, false);
            Value b = g.conv(a, wb, new int[]{48, 48, 1, 1}, bb, s1, a, true); // relu(conv(a) + a): convolved, then added
            g.output(b);
            g.compile();
            assertEquals(0, g.innerReorders(), g.describe());
            float[] got = new float[48 * h * w];
            g.run(x, got);
            double[] ra = RefOps.conv2d(d(x), 1, c, h, w, d(wa), 48, d(ba), s3);
            double[] rb = RefOps.conv2d(ra, 1, 48, h, w, d(wb), 48, d(bb), s1);
            close(RefOps.relu(RefOps.addScaled(rb, 1, ra, 1)), got, 1e-5);
        }
    }

    /**
     * On AMX hosts a bf16 plan computes DeepLab's ASPP classifiers in f32 (2048 -> 21 at rates 6 and 12, summed; see
     * DnnlConv.f32Faster): on bf16-exact input they match float64 with the weights unrounded to 1e-5, where bf16 weights
     * alone are off by ~2^-9 relative. Elsewhere the rule is off and the same layers show bf16's rounding (> 1e-4).
     */
    @Test
    void bf16PlanComputesWideDilatedConvolutionsInF32OnAmx() {
        int c = 2048, h = 14, w = 15, k = 21; // larger than 12: no branch reduces to its centre tap (CentreTap)
        float[] x = new float[c * h * w];
        float[] r = rand(x.length, 1);
        for (int i = 0; i < x.length; i++) x[i] = Float.intBitsToFloat(Float.floatToRawIntBits(r[i]) & 0xFFFF0000); // bf16-exact
        float[] w1 = rand(k * c * 9, 0.02), b1 = rand(k, 0.5), w2 = rand(k * c * 9, 0.02), b2 = rand(k, 0.5);
        ConvSpec s6 = ConvSpec.of(3, 1, 6, 6), s12 = ConvSpec.of(3, 1, 12, 12);
        assertEquals(CpuFlags.amx(), DnnlConv.f32Faster(c, s6));
        assertTrue(!DnnlConv.f32Faster(c, ConvSpec.of(3, 1, 2, 2)) && !DnnlConv.f32Faster(512, s12), "bf16 pays there");
        try (DnnlGraph g = new DnnlGraph(true)) {
            Value in = g.input(1, c, h, w);
            Value a = g.conv(in, w1, new int[]{k, c, 3, 3}, b1, s6, null, false);
            g.output(g.conv(in, w2, new int[]{k, c, 3, 3}, b2, s12, a, false));
            g.compile();
            float[] got = new float[k * h * w];
            g.run(x, got);
            double[] want = RefOps.addScaled(RefOps.conv2d(d(x), 1, c, h, w, d(w1), k, d(b1), s6), 1,
                    RefOps.conv2d(d(x), 1, c, h, w, d(w2), k, d(b2), s12), 1);
            if (CpuFlags.amx()) close(want, got, 1e-5);
            else {
                double m = 0, e = 0;
                for (int i = 0; i < want.length; i++) { m = Math.max(m, Math.abs(want[i])); e = Math.max(e, Math.abs(got[i] - want[i])); }
                assertTrue(e > 1e-4 * m, "bf16 rounding expected without AMX, error " + e / m);
            }
        }
    }

    /** DeepLab's ASPP on a small map: rates 6 (every tap live), 18 and 24 (centre tap only, CentreTap), summed. */
    @Test
    void dilatedConvolutionsLargerThanTheMap() {
        int c = 32, h = 9, w = 11, k = 5;
        float[] x = rand(c * h * w, 1);
        int[] rates = {6, 18, 24};
        float[][] ws = new float[rates.length][], bs = new float[rates.length][];
        for (int i = 0; i < rates.length; i++) { ws[i] = rand(k * c * 9, 0.1); bs[i] = rand(k, 0.5); }
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value in = g.input(1, c, h, w), sum = null;
            for (int i = 0; i < rates.length; i++)
                sum = g.conv(in, ws[i], new int[]{k, c, 3, 3}, bs[i], ConvSpec.of(3, 1, rates[i], rates[i]), sum, false);
            g.output(sum);
            g.compile();
            float[] got = new float[k * h * w];
            g.run(x, got);
            double[] want = new double[k * h * w];
            for (int i = 0; i < rates.length; i++)
                want = RefOps.addScaled(want, 1, RefOps.conv2d(d(x), 1, c, h, w, d(ws[i]), k, d(bs[i]), ConvSpec.of(3, 1, rates[i], rates[i])), 1);
            close(want, got, 1e-5);
        }
    }

    @Test
    void maxPoolCeilModeAndResizeAndMax() {
        int c = 32, h = 17, w = 14;
        ConvSpec p = ConvSpec.of(3, 2, 1, 1);
        float[] x = rand(c * h * w, 1);
        int oh = RefOps.poolOut(h, 3, 2, 1, 1, true), ow = RefOps.poolOut(w, 3, 2, 1, 1, true);
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value in = g.input(1, c, h, w);
            Value pooled = g.maxPool(in, p, true);
            assertArrayEquals(new int[]{1, c, oh, ow}, pooled.shape());
            Value down = g.resizeBilinear(pooled, 5, 4), up = g.resizeBilinear(down, oh, ow);
            g.output(g.max(pooled, up));
            g.compile();
            float[] got = new float[c * oh * ow];
            g.run(x, got);
            double[] rp = RefOps.maxPool2d(d(x), 1, c, h, w, p, true);
            double[] rd = RefOps.resizeBilinear(rp, 1, c, oh, ow, 5, 4, false), ru = RefOps.resizeBilinear(rd, 1, c, 5, 4, oh, ow, false);
            double[] want = new double[rp.length];
            for (int i = 0; i < want.length; i++) want[i] = Math.max(rp[i], ru[i]);
            close(want, got, 1e-6);
        }
    }

    @Test
    void globalAvgPoolThenLinear() {
        int c = 48, h = 7, w = 5, out = 10;
        float[] x = rand(c * h * w, 1), wt = rand(out * c, 0.2), bias = rand(out, 1);
        try (DnnlGraph g = new DnnlGraph(false)) {
            g.output(g.linear(g.globalAvgPool(g.input(1, c, h, w)), wt, out, bias));
            g.compile();
            float[] got = new float[out];
            g.run(x, got);
            double[] want = new double[out];
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int ch = 0; ch < c; ch++) {
                    double mean = 0;
                    for (int i = 0; i < h * w; i++) mean += x[ch * h * w + i];
                    s += wt[o * c + ch] * mean / (h * w);
                }
                want[o] = s;
            }
            close(want, got, 1e-5);
            // the logits are NCHW float32 already: read as they are, no reorder after the classifier
            String last = g.describe().strip().lines().reduce((a, b) -> b).orElseThrow();
            assertTrue(last.contains("linear"), g.describe());
        }
    }

    /**
     * Inputs are converted from the caller's NCHW to NHWC while copied in (where libconta_cpu.so is loaded): two images
     * of five channels on an odd map through a 1x1 convolution, against float64, then the same graph again (the
     * buffers reused). A graph output read as it is (a 1x1 map's convolution output is NCHW already) and then summed
     * into by a later convolution keeps its own values: the sum goes to a new buffer.
     */
    @Test
    void inputsConvertedOnCopyAndOutputsKeptFromLaterSums() {
        int n = 2, c = 5, h = 3, w = 7, o = 32;
        ConvSpec one = ConvSpec.of(1, 1, 0, 1);
        float[] x = rand(n * c * h * w, 1), wt = rand(o * c, 0.3), bias = rand(o, 0.5);
        try (DnnlGraph g = new DnnlGraph(false)) {
            g.output(g.conv(g.input(n, c, h, w), wt, new int[]{o, c, 1, 1}, bias, one, null, false));
            g.compile();
            float[] got = new float[n * o * h * w];
            for (int round = 0; round < 2; round++) {
                g.run(x, got);
                close(RefOps.conv2d(d(x), n, c, h, w, d(wt), o, d(bias), one), got, 1e-5);
            }
        }
        float[] x1 = rand(o, 1), w1 = rand(o * o, 0.3), w2 = rand(o * o, 0.3);
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value in = g.input(1, o, 1, 1);
            Value a = g.conv(in, w1, new int[]{o, o, 1, 1}, null, one, null, false);
            g.output(a);
            Value b = g.conv(g.conv(in, w2, new int[]{o, o, 1, 1}, null, one, null, false), w1, new int[]{o, o, 1, 1}, null, one, a, true);
            g.output(b);
            g.compile();
            float[] ga = new float[o], gb = new float[o];
            g.run(new float[][]{x1}, new float[][]{ga, gb});
            double[] ra = RefOps.conv2d(d(x1), 1, o, 1, 1, d(w1), o, null, one);
            double[] rc = RefOps.conv2d(d(x1), 1, o, 1, 1, d(w2), o, null, one);
            close(ra, ga, 1e-5);
            close(RefOps.relu(RefOps.addScaled(RefOps.conv2d(rc, 1, o, 1, 1, d(w1), o, null, one), 1, ra, 1)), gb, 1e-5);
        }
    }

    /**
     * The same weights used twice (as DeepLab's MSC scales do, each use with its own array) are held once: 1x1 layers
     * and 3x3 ones (the Winograd kernel where it runs, else oneDNN), against float64 convolutions. Each 3x3 layer
     * follows a 1x1 one, so that every use reads the same layout and takes the same kernel.
     */
    @Test
    void equalWeightsAreHeldOnce() {
        int c = 64, h = 12, w = 12;
        ConvSpec s3 = ConvSpec.of(3, 1, 1, 1), s1 = ConvSpec.of(1, 1, 0, 1);
        float[] w3 = rand(c * c * 9, 0.04), b3 = rand(c, 0.1), w1 = rand(c * c, 0.1), x = rand(c * h * w, 1);
        long once, twice, distinct;
        float[] got = new float[c * h * w];
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value v = g.input(1, c, h, w);
            v = g.conv(v, w1, new int[]{c, c, 1, 1}, null, s1, null, true);
            g.output(g.conv(v, w3, new int[]{c, c, 3, 3}, b3, s3, null, true));
            g.compile();
            once = g.constantBytes();
        }
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value v = g.input(1, c, h, w);
            for (int i = 0; i < 2; i++) {
                v = g.conv(v, w1.clone(), new int[]{c, c, 1, 1}, null, s1, null, true);
                v = g.conv(v, w3.clone(), new int[]{c, c, 3, 3}, b3.clone(), s3, null, true);
            }
            g.output(v);
            g.compile();
            twice = g.constantBytes();
            g.run(x, got);
        }
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value v = g.input(1, c, h, w);
            for (int i = 0; i < 2; i++) {
                float[] w3i = w3.clone();
                w3i[i] += 1e-3f;                                    // one value apart: not the same constant
                v = g.conv(v, w1, new int[]{c, c, 1, 1}, null, s1, null, true);
                v = g.conv(v, w3i, new int[]{c, c, 3, 3}, b3, s3, null, true);
            }
            g.output(v);
            g.compile();
            distinct = g.constantBytes();
        }
        assertTrue(once >= (long) c * c * 10 * Float.BYTES, "constants of one block: " + once);
        assertEquals(once, twice, "the second use of the same weights holds nothing new");
        // different 3x3 weights held twice; the 1x1 weights (c x c) and the 3x3 bias (c), the same arrays, once
        assertEquals(2 * once - (long) c * c * Float.BYTES - (long) c * Float.BYTES, distinct);
        double[] want = d(x);
        for (int i = 0; i < 2; i++)
            want = RefOps.relu(RefOps.conv2d(RefOps.relu(RefOps.conv2d(want, 1, c, h, w, d(w1), c, null, s1)), 1, c, h, w, d(w3), c, d(b3), s3));
        close(want, got, 1e-5);
    }

    @Test
    void buffersAreSharedByLiveness() {
        int c = 32, h = 16, w = 16;
        long one = (long) c * h * w * Float.BYTES;
        float[] wt = rand(c * c, 0.05);
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value v = g.input(1, c, h, w);
            for (int i = 0; i < 10; i++) v = g.conv(v, wt, new int[]{c, c, 1, 1}, null, ConvSpec.of(1, 1, 0, 1), null, true);
            g.output(v);
            g.compile();
            // input + output + two ping-pong buffers, not eleven
            assertTrue(g.activationBytes() <= 4 * one, "activation bytes " + g.activationBytes() + " for 11 values of " + one);
            float[] x = rand(c * h * w, 1), a = new float[c * h * w], b = new float[c * h * w];
            g.run(x, a);
            g.run(x, b);
            assertArrayEquals(a, b);
        }
    }

    @Test
    void inPlaceSumIntoAValueReadLaterIsRefused() {
        float[] wt = rand(32 * 32, 0.1);
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value in = g.input(1, 32, 8, 8);
            Value a = g.conv(in, wt, new int[]{32, 32, 1, 1}, null, ConvSpec.of(1, 1, 0, 1), null, false);
            Value c = g.conv(in, wt, new int[]{32, 32, 1, 1}, null, ConvSpec.of(1, 1, 0, 1), null, true);
            Value b = g.conv(c, wt, new int[]{32, 32, 1, 1}, null, ConvSpec.of(1, 1, 0, 1), a, false);
            g.output(g.max(a, b)); // a is read after b was written over it
            assertThrows(IllegalStateException.class, g::compile);
        }
    }

    @Test
    void wrongInputLengthIsRefused() {
        try (DnnlGraph g = new DnnlGraph(false)) {
            g.output(g.globalAvgPool(g.input(1, 16, 4, 4)));
            g.compile();
            assertThrows(IllegalArgumentException.class, () -> g.run(new float[255], new float[16]));
        }
    }

    /** close() frees the buffers: a later run, of either form, is refused. */
    @Test
    void runAfterCloseIsRefused() {
        DnnlGraph g = new DnnlGraph(false);
        g.output(g.globalAvgPool(g.input(1, 16, 4, 4)));
        g.compile();
        g.close();
        assertThrows(IllegalStateException.class, () -> g.run(new float[256], new float[16]));
        assertThrows(IllegalStateException.class, () -> g.run(new float[][]{new float[256]}, new float[][]{new float[16]}));
    }
    /** A 1x1 + ReLU, 3x3 (bias) + ReLU block on input c x h x w, its constants in store (null: its own). */
    private static DnnlGraph block(DnnlConstants store, int c, int h, int w, float[] w1, float[] w3, float[] b3) {
        DnnlGraph g = new DnnlGraph(false, store);
        Value v = g.input(1, c, h, w);
        v = g.conv(v, w1.clone(), new int[]{c, c, 1, 1}, null, ConvSpec.of(1, 1, 0, 1), null, true);
        g.output(g.conv(v, w3.clone(), new int[]{c, c, 3, 3}, b3.clone(), ConvSpec.of(3, 1, 1, 1), null, true));
        g.compile();
        return g;
    }

    /**
     * Graphs built with one store hold one copy of equal weights (what a plan cache's shapes and concurrent callers
     * share), and compute what graphs with their own copies compute, bit for bit; a graph at another input size
     * matches the float64 reference.
     */
    @Test
    void graphsShareTheirStoresWeights() {
        int c = 64, h = 12, w = 12;
        float[] w3 = rand(c * c * 9, 0.04), b3 = rand(c, 0.1), w1 = rand(c * c, 0.1), x = rand(c * h * w, 1), x2 = rand(c * 7 * 9, 1);
        float[] own = new float[c * h * w], a = new float[c * h * w], b = new float[c * h * w], small = new float[c * 7 * 9];
        long ownBytes;
        try (DnnlGraph g = block(null, c, h, w, w1, w3, b3)) {
            g.run(x, own);
            ownBytes = g.constantBytes();
        }
        try (DnnlConstants store = new DnnlConstants();
             DnnlGraph ga = block(store, c, h, w, w1, w3, b3);
             DnnlGraph gb = block(store, c, h, w, w1, w3, b3)) {
            assertEquals(ownBytes, store.bytes(), "two graphs of one shape: the weights once");
            assertEquals(ownBytes, ga.constantBytes());
            assertEquals(ownBytes, gb.constantBytes());
            assertEquals(2, store.graphs());
            ga.run(x, a);
            gb.run(x, b);
            try (DnnlGraph gs = block(store, c, 7, 9, w1, w3, b3)) {
                assertTrue(store.bytes() <= 2 * ownBytes, "another shape adds at most a second layout: " + store.bytes());
                gs.run(x2, small);
            }
        }
        assertArrayEquals(own, a);
        assertArrayEquals(own, b);
        double[] want = RefOps.relu(RefOps.conv2d(RefOps.relu(RefOps.conv2d(d(x2), 1, c, 7, 9, d(w1), c, null, ConvSpec.of(1, 1, 0, 1))),
                1, c, 7, 9, d(w3), c, d(b3), ConvSpec.of(3, 1, 1, 1)));
        close(want, small, 1e-5);
    }

    /**
     * A store closed while a graph still uses it (a plan cache closed during a call) keeps the weights until that
     * graph closes: its runs give the same values; a new graph is refused; then the memory is freed.
     */
    @Test
    void aClosedStoreLivesUntilItsLastGraphCloses() {
        int c = 32, h = 8, w = 8;
        float[] w3 = rand(c * c * 9, 0.05), b3 = rand(c, 0.1), w1 = rand(c * c, 0.1), x = rand(c * h * w, 1);
        float[] before = new float[c * h * w], after = new float[c * h * w];
        DnnlConstants store = new DnnlConstants();
        DnnlGraph g = block(store, c, h, w, w1, w3, b3);
        g.run(x, before);
        store.close();
        assertTrue(store.bytes() > 0, "still held by the graph");
        assertThrows(IllegalStateException.class, () -> block(store, c, h, w, w1, w3, b3));
        g.run(x, after);
        assertArrayEquals(before, after);
        g.close();
        assertEquals(0, store.bytes(), "freed with the last graph");
        assertEquals(0, store.graphs());
    }

    /**
     * The store's key: equal contents in other arrays match; one value apart (first, middle, last), two values
     * swapped, another tag or another length, does not.
     */
    @Test
    void constantsAreKeyedByContentsAndTag() {
        float[] v = rand(1003, 1), u = v.clone();
        assertEquals(DnnlConstants.Key.of(v, 0), DnnlConstants.Key.of(u, 0));
        for (int at : new int[]{0, 1, 2, 3, 517, 1000, 1001, 1002}) {
            float[] near = v.clone();
            near[at] = Math.nextUp(near[at]);
            assertTrue(!DnnlConstants.Key.of(v, 0).equals(DnnlConstants.Key.of(near, 0)), "one ulp apart at " + at);
        }
        float[] swapped = v.clone();
        swapped[4] = v[8];
        swapped[8] = v[4];
        assertTrue(!DnnlConstants.Key.of(v, 0).equals(DnnlConstants.Key.of(swapped, 0)), "two values of one lane swapped");
        assertTrue(!DnnlConstants.Key.of(v, 0).equals(DnnlConstants.Key.of(v, 1)), "another tag");
        assertTrue(!DnnlConstants.Key.of(new float[2], 0).equals(DnnlConstants.Key.of(new float[3], 0)), "another length");
    }
}
