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
 * The plan's convolutions with small output maps (native/src/gemmconv.c through {@link GemmConv}) inside a DnnlGraph,
 * against RefOps' float64 convolution, per element within 1e-5: a bottleneck's tail as ResNet runs it (1x1 + bias +
 * ReLU, then 1x1 + bias + the shortcut summed in place + ReLU) at stride 1 and 2; 3x3 (padded, strided, dilated) and
 * 7x7 stride-2 convolutions, whose gathered rows read zeros outside the map; pixel counts that cut into row blocks of
 * 8 and of fewer (49 = 7 x 7, 15, 1); input channels that are and are not multiples of 16 (3, the stem's); output
 * channels of one panel and of several split unevenly between threads (96 = 3 panels); no bias or ReLU. The graphs
 * force the kernel on, so these run on CPUs where plans leave it off by default (L2 under 2 MB); skipped where it
 * cannot run (no gcc at build, no AVX-512); the plan then uses oneDNN, which DnnlGraphTest covers.
 */
class GemmConvTest {

    /** A graph with the kernel on whatever this CPU's default (GemmConv.chosen()): its tests run on every AVX-512 host. */
    private static DnnlGraph forced(boolean bf16) { return new DnnlGraph(bf16, null, Winograd.bf16Chosen(), true); }

    /**
     * x -> t = 1x1(x) -> a = relu(1x1(t) + b1) -> relu(1x1(a) + b2 + s), s = 1x1(t) (the shortcut): the last three on
     * the kernel. With stride 2 the first two are strided (a downsampling
     * block: the pixels gathered first).
     */
    private static void bottleneckTail(int cin, int mid, int cout, int h, int w, int stride, boolean bias, boolean relu) {
        assumeTrue(GemmConv.available(), "one-GEMM kernel: " + GemmConv.unavailableReason());
        ConvSpec one = ConvSpec.of(1, 1, 0, 1), down = ConvSpec.of(1, stride, 0, 1);
        int oh = down.outH(h), ow = down.outW(w);
        float[] x = rand(cin * h * w, 1), w0 = rand(cin * cin, 0.2), w1 = rand(mid * cin, 0.3), b1 = bias ? rand(mid, 0.2) : null;
        float[] w2 = rand(cout * mid, 0.2), b2 = bias ? rand(cout, 0.5) : null, ws = rand(cout * cin, 0.3);
        try (DnnlGraph g = forced(false)) {
            Value in = g.conv(g.input(1, cin, h, w), w0, new int[]{cin, cin, 1, 1}, null, one, null, false);
            Value shortcut = g.conv(in, ws, new int[]{cout, cin, 1, 1}, null, down, null, false);
            Value a = g.conv(in, w1, new int[]{mid, cin, 1, 1}, b1, down, null, relu);
            g.output(g.conv(a, w2, new int[]{cout, mid, 1, 1}, b2, one, shortcut, relu));
            g.compile();
            String plan = g.describe();
            java.util.List<String> ops = plan.strip().lines().toList(); // before the output's reorder: the shortcut, a, the sum
            assertTrue(ops.subList(ops.size() - 4, ops.size() - 1).stream().allMatch(l -> l.contains("conta:gemmconv")), plan);
            assertTrue(plan.contains("gemm +sum"), plan);
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

    /** x -> t = 1x1(x) -> relu?(conv_k(t) + bias) on the kernel: the gathered rows, padding read as zeros. */
    private static void spatial(int cin, int cout, int h, int w, int k, int stride, int pad, int dil, boolean bias, boolean relu) {
        assumeTrue(GemmConv.available(), "one-GEMM kernel: " + GemmConv.unavailableReason());
        ConvSpec one = ConvSpec.of(1, 1, 0, 1), s = ConvSpec.of(k, stride, pad, dil);
        int oh = s.outH(h), ow = s.outW(w);
        float[] x = rand(cin * h * w, 1), w0 = rand(cin * cin, 0.3), wk = rand(cout * cin * k * k, 0.1), b = bias ? rand(cout, 0.5) : null;
        try (DnnlGraph g = forced(false)) {
            Value t = g.conv(g.input(1, cin, h, w), w0, new int[]{cin, cin, 1, 1}, null, one, null, false);
            g.output(g.conv(t, wk, new int[]{cout, cin, k, k}, b, s, null, relu));
            g.compile();
            String plan = g.describe();
            assertTrue(plan.contains("x" + k + "x" + k + " s" + stride + " d" + dil + " gemm"), plan);
            float[] got = new float[cout * oh * ow];
            g.run(x, got);
            double[] r = RefOps.conv2d(RefOps.conv2d(d(x), 1, cin, h, w, d(w0), cin, null, one), 1, cin, h, w, d(wk), cout, bias ? d(b) : null, s);
            close(relu ? RefOps.relu(r) : r, got, 1e-5);
        }
    }

    @Test void resnetTailSevenBySeven() { bottleneckTail(64, 32, 96, 7, 7, 1, true, true); }

    @Test void oddPixelsOddChannelsNoBiasNoRelu() { bottleneckTail(40, 64, 32, 5, 3, 1, false, false); }

    @Test void onePixel() { bottleneckTail(24, 32, 64, 1, 1, 1, true, true); }

    /** Two blocks of 8 pixels, and wide inputs: K longer than the prefetch distance. */
    @Test void wideInputsManyPanels() { bottleneckTail(512, 64, 256, 4, 4, 1, true, true); }

    /** ResNet's downsampling block on a 14x14 map: 7x7 out, every other pixel of every other row gathered. */
    @Test void strideTwoDownsampling() { bottleneckTail(64, 32, 96, 14, 14, 2, true, true); }

    /** An odd map at stride 2 (9x7 -> 5x4: the last row and column read), input channels not a multiple of 16. */
    @Test void strideTwoOddMapOddChannels() { bottleneckTail(40, 32, 64, 9, 7, 2, false, true); }

    /** ResNet's 7x7-stage 3x3 (padding 1): border pixels read zeros. */
    @Test void threeByThreePadded() { spatial(48, 96, 7, 7, 3, 1, 1, 1, true, true); }

    /** The strided 3x3 of a downsampling block (14x14 -> 7x7 at ResNet's size; here 9x9 -> 5x5). */
    @Test void threeByThreeStrideTwo() { spatial(32, 64, 9, 9, 3, 2, 1, 1, true, false); }

    /** A dilated 3x3 (padding = dilation 2), as DeepLab's blocks on a small map. */
    @Test void threeByThreeDilated() { spatial(40, 32, 6, 7, 3, 1, 2, 2, false, true); }

    /** A stem-like 7x7 stride 2, padding 3, three input channels. */
    @Test void sevenBySevenStrideTwoThreeChannels() { spatial(3, 64, 11, 13, 7, 2, 3, 1, true, true); }

    /**
     * On by default only where a core's L2 holds 2 MB (the kernel's panels and rows live there; measured on such a CPU);
     * sysfs cache sizes as Linux writes them.
     */
    @Test
    void onByDefaultWhereACoresL2HoldsTwoMegabytes() {
        assertTrue(CpuFlags.largeL2(CpuFlags.cacheSize("2048K")), "Intel Sapphire Rapids");
        assertTrue(CpuFlags.largeL2(CpuFlags.cacheSize("2M")));
        assertFalse(CpuFlags.largeL2(CpuFlags.cacheSize("1024K")), "AMD Zen 4");
        assertFalse(CpuFlags.largeL2(CpuFlags.cacheSize("512K\n")));
        assertFalse(CpuFlags.largeL2(-1), "unknown");
        assertEquals(-1, CpuFlags.cacheSize("big"));
        assertEquals(-1, CpuFlags.cacheSize(""));
        assertEquals(65536, CpuFlags.cacheSize("65536"));
        long l2 = CpuFlags.l2Bytes(); // this host's, from sysfs: a real size or unknown
        assertTrue(l2 == -1 || l2 >= 64 * 1024, "L2 " + l2);
    }

    @Test
    void onlySmallOutputMapsWithThirtyTwoWidePanelsAreTaken() {
        assertTrue(GemmConv.suits(512, 7, 7, 1, 1, 0, 0, 1, 1));
        assertTrue(GemmConv.suits(2048, 7, 7, 2, 2, 0, 0, 1, 1), "stride 2 (the bound is on the output map)");
        assertTrue(GemmConv.suits(512, 7, 7, 1, 1, 1, 1, 1, 1), "3x3, padding 1");
        assertTrue(GemmConv.suits(32, 8, 8, 1, 1, 0, 0, 1, 1), "64 pixels: the bound");
        assertFalse(GemmConv.suits(512, 14, 14, 1, 1, 0, 0, 1, 1), "196 pixels: oneDNN");
        assertFalse(GemmConv.suits(512, 9, 8, 1, 1, 0, 0, 1, 1), "72 pixels");
        assertFalse(GemmConv.suits(48, 7, 7, 1, 1, 0, 0, 1, 1), "48 outputs: not 32-wide panels");
        assertFalse(GemmConv.suits(512, 7, 7, 1, 2, 0, 0, 1, 1), "strides that differ");
        assertFalse(GemmConv.suits(512, 7, 7, 1, 1, 1, 0, 1, 1), "paddings that differ");
        assertFalse(GemmConv.suits(512, 7, 7, 1, 1, 2, 2, 2, 1), "dilations that differ");
    }

    /**
     * relu(conv(a) + a): a sum written over a while the convolution still reads it gave wrong values (this kernel's
     * other panels; oneDNN's 1x1 here too), so the plan convolves into a buffer of its own and adds after; against
     * float64.
     */
    @Test
    void residualThatIsTheInputIsAddedAfter() {
        assumeTrue(GemmConv.available(), "one-GEMM kernel: " + GemmConv.unavailableReason());
        int c = 64, h = 7, w = 7;
        float[] x = rand(c * h * w, 1), w0 = rand(c * c, 0.3), w1 = rand(c * c, 0.2), b1 = rand(c, 0.5);
        ConvSpec one = ConvSpec.of(1, 1, 0, 1);
        try (DnnlGraph g = forced(false)) {
            Value a = g.conv(g.input(1, c, h, w), w0, new int[]{c, c, 1, 1}, null, one, null, false);
            g.output(g.conv(a, w1, new int[]{c, c, 1, 1}, b1, one, a, true));
            g.compile();
            assertFalse(g.describe().contains("+sum"), g.describe());
            assertTrue(g.describe().contains("add +relu"), g.describe());
            float[] got = new float[c * h * w];
            g.run(x, got);
            double[] ra = RefOps.conv2d(d(x), 1, c, h, w, d(w0), c, null, one);
            close(RefOps.relu(RefOps.addScaled(RefOps.conv2d(ra, 1, c, h, w, d(w1), c, d(b1), one), 1, ra, 1)), got, 1e-5);
        }
    }

    /**
     * A 3x3 on a small map goes to this kernel, not to Winograd; on a larger one Winograd keeps it; a bf16 plan's
     * convolutions stay with oneDNN (the kernel is float32).
     */
    @Test
    void smallMapsBeforeWinogradAndBf16PlansStayWithOneDnn() {
        assumeTrue(GemmConv.available(), "one-GEMM kernel: " + GemmConv.unavailableReason());
        ConvSpec one = ConvSpec.of(1, 1, 0, 1), three = ConvSpec.of(3, 1, 1, 1);
        float[] w0 = rand(32 * 32, 0.3), w3 = rand(64 * 32 * 9, 0.1);
        for (int size : new int[]{7, 9}) {
            try (DnnlGraph g = forced(false)) {
                Value t = g.conv(g.input(1, 32, size, size), w0, new int[]{32, 32, 1, 1}, null, one, null, false);
                g.output(g.conv(t, w3, new int[]{64, 32, 3, 3}, null, three, null, true));
                g.compile();
                assertEquals(size == 7, g.describe().contains("3x3 s1 d1 gemm"), g.describe());
                if (Winograd.available()) assertEquals(size == 9, g.describe().contains("winograd"), g.describe());
            }
        }
        try (DnnlGraph g = forced(true)) {
            Value t = g.conv(g.input(1, 32, 7, 7), w0, new int[]{32, 32, 1, 1}, null, one, null, false);
            g.output(g.conv(t, w0, new int[]{32, 32, 1, 1}, null, one, null, true));
            g.compile();
            assertFalse(g.describe().contains("gemm"), g.describe());
        }
    }
}
