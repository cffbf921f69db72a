package conta.tensor.cpu;

import static conta.tensor.cpu.DnnlGraphTest.close;
import static conta.tensor.cpu.DnnlGraphTest.d;
import static conta.tensor.cpu.DnnlGraphTest.rand;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import conta.tensor.ConvSpec;
import conta.tensor.LayerGraph.Value;
import conta.tensor.RefOps;
import org.junit.jupiter.api.Test;

/**
 * The plan's 1x1 convolutions on small maps (native/src/pointwise.c through {@link Pointwise}) inside a DnnlGraph,
 * against RefOps' float64 convolution, per element within 1e-5: a bottleneck's tail as ResNet runs it (1x1 + bias +
 * ReLU, then 1x1 + bias + the shortcut summed in place + ReLU), at stride 1 and 2, with pixel counts that cut into row blocks of 8 and
 * of fewer (49 = 7 x 7, 15, 1), input channels that are and are not multiples of 16, output channels of one panel and
 * of several split unevenly between threads (96 = 3 panels), and no bias or ReLU. Skipped where the kernel cannot
 * run (no gcc at build, no AVX-512); the plan then uses oneDNN, which DnnlGraphTest covers.
 */
class PointwiseTest {

    /**
     * x -> t = 1x1(x) (oneDNN: the input is NCHW, as a plan's stem is) -> a = relu(1x1(t) + b1) -> relu(1x1(a) + b2 + s),
     * s = 1x1(t) (the shortcut): the last three on the kernel. With stride 2 the first two are strided (a downsampling
     * block: the pixels gathered first).
     */
    private static void check(int cin, int mid, int cout, int h, int w, int stride, boolean bias, boolean relu) {
        assumeTrue(Pointwise.available(), "pointwise kernel: " + Pointwise.unavailableReason());
        ConvSpec one = ConvSpec.of(1, 1, 0, 1), down = ConvSpec.of(1, stride, 0, 1);
        int oh = down.outH(h), ow = down.outW(w);
        float[] x = rand(cin * h * w, 1), w0 = rand(cin * cin, 0.2), w1 = rand(mid * cin, 0.3), b1 = bias ? rand(mid, 0.2) : null;
        float[] w2 = rand(cout * mid, 0.2), b2 = bias ? rand(cout, 0.5) : null, ws = rand(cout * cin, 0.3);
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value in = g.conv(g.input(1, cin, h, w), w0, new int[]{cin, cin, 1, 1}, null, one, null, false);
            Value shortcut = g.conv(in, ws, new int[]{cout, cin, 1, 1}, null, down, null, false);
            Value a = g.conv(in, w1, new int[]{mid, cin, 1, 1}, b1, down, null, relu);
            g.output(g.conv(a, w2, new int[]{cout, mid, 1, 1}, b2, one, shortcut, relu));
            g.compile();
            String plan = g.describe();
            assertEquals(3, plan.split("conta:pointwise", -1).length - 1, plan);
            assertTrue(plan.contains("pointwise +sum"), plan);
            assertEquals(0, g.innerReorders(), plan);
            float[] got = new float[cout * oh * ow];
            g.run(x, got);
            double[] rt = RefOps.conv2d(d(x), 1, cin, h, w, d(w0), cin, null, one);
            double[] rs = RefOps.conv2d(rt, 1, cin, h, w, d(ws), cout, null, down);
            double[] ra = RefOps.conv2d(rt, 1, cin, h, w, d(w1), mid, bias ? d(b1) : null, down);
            if (relu) ra = RefOps.relu(ra);
            double[] rb = RefOps.addScaled(RefOps.conv2d(ra, 1, mid, oh, ow, d(w2), cout, bias ? d(b2) : null, one), 1, rs, 1);
            if (relu) rb = RefOps.relu(rb);
            close(rb, got, 1e-5);
            float[] again = new float[got.length];
            g.run(x, again); // buffers reused, the shortcut recomputed before it is summed into: the same numbers
            assertTrue(java.util.Arrays.equals(got, again));
        }
    }

    @Test void resnetTailSevenBySeven() { check(64, 32, 96, 7, 7, 1, true, true); }

    @Test void oddPixelsOddChannelsNoBiasNoRelu() { check(40, 64, 32, 5, 3, 1, false, false); }

    @Test void onePixel() { check(24, 32, 64, 1, 1, 1, true, true); }

    /** Two blocks of 8 pixels, and wide inputs: K longer than the prefetch distance. */
    @Test void wideInputsManyPanels() { check(512, 64, 256, 4, 4, 1, true, true); }

    /** ResNet's downsampling block on a 14x14 map: 7x7 out, every other pixel of every other row gathered. */
    @Test void strideTwoDownsampling() { check(64, 32, 96, 14, 14, 2, true, true); }

    /** An odd map at stride 2 (9x7 -> 5x4: the last row and column read), input channels not a multiple of 16. */
    @Test void strideTwoOddMapOddChannels() { check(40, 32, 64, 9, 7, 2, false, true); }

    @Test
    void onlySmallStrideOneUnpaddedMapsWithThirtyTwoWidePanelsAreTaken() {
        assertTrue(Pointwise.suits(512, 7, 7, 1, 1, 1, 1, 0, 0));
        assertTrue(Pointwise.suits(2048, 7, 7, 1, 1, 2, 2, 0, 0), "stride 2 (the bound is on the output map)");
        assertTrue(Pointwise.suits(32, 8, 8, 1, 1, 1, 1, 0, 0), "64 pixels: the bound");
        assertFalse(Pointwise.suits(512, 14, 14, 1, 1, 1, 1, 0, 0), "196 pixels: oneDNN");
        assertFalse(Pointwise.suits(512, 9, 8, 1, 1, 1, 1, 0, 0), "72 pixels");
        assertFalse(Pointwise.suits(48, 7, 7, 1, 1, 1, 1, 0, 0), "48 outputs: not 32-wide panels");
        assertFalse(Pointwise.suits(512, 7, 7, 1, 1, 3, 3, 0, 0), "stride 3");
        assertFalse(Pointwise.suits(512, 7, 7, 1, 1, 1, 2, 0, 0), "strides that differ");
        assertFalse(Pointwise.suits(512, 7, 7, 3, 3, 1, 1, 1, 1), "3x3");
        assertFalse(Pointwise.suits(512, 7, 7, 1, 1, 1, 1, 1, 1), "padded");
    }

    /** A map over the bound stays with oneDNN, and so does a bf16 plan's 1x1 (the kernel is float32). */
    @Test
    void largeMapsAndBf16PlansStayWithOneDnn() {
        assumeTrue(Pointwise.available(), "pointwise kernel: " + Pointwise.unavailableReason());
        ConvSpec one = ConvSpec.of(1, 1, 0, 1);
        float[] w1 = rand(64 * 32, 0.3);
        try (DnnlGraph g = new DnnlGraph(false)) {
            g.output(g.conv(g.input(1, 32, 9, 8), w1, new int[]{64, 32, 1, 1}, null, one, null, true));
            g.compile();
            assertFalse(g.describe().contains("pointwise"), g.describe());
        }
        try (DnnlGraph g = new DnnlGraph(true)) {
            g.output(g.conv(g.input(1, 32, 7, 7), w1, new int[]{64, 32, 1, 1}, null, one, null, true));
            g.compile();
            assertFalse(g.describe().contains("pointwise"), g.describe());
        }
    }
}
