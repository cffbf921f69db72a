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
 * The plan's Winograd convolutions (native/src/winograd.c through {@link Winograd}) inside a DnnlGraph, against the
 * float64 direct convolution of RefOps: even and odd map sizes (a last tile with one row or column), dilations 1, 2
 * and 3 (phases of unequal size), bias and ReLU on and off, channel counts that are and are not multiples of 16,
 * few tiles (one block) and many (blocks split between threads), and 32-wide output panels beyond one chunk; the
 * same cases for the bf16 kernel in a bf16 graph. Skipped where a kernel cannot run (no gcc at build, no AVX-512; for
 * bf16 no AVX512-BF16, or AMX); the plan then uses oneDNN for these convolutions, which DnnlGraphTest covers.
 */
class WinogradTest {

    /**
     * x -> 1x1 conv (NHWC, oneDNN) -> 3x3 conv (Winograd) -> second 3x3 (Winograd) vs float64. fp32: per element
     * within 1e-5. bf16 (the bf16 kernel: F(2x2), bf16 NHWC in and out, products on VDPBF16PS): within bfloat16
     * rounding of the input, the weights and each layer's output (8 significant bits, 2^-9 relative per value; 2e-2 of
     * max |y| leaves room for three rounded layers, while a wrong pair layout or tile gives errors of order 1); skipped
     * without AVX512-BF16. On AMX hosts plans do not choose the bf16 kernel, but it runs there and is tested.
     */
    private static void check(boolean bf16, int cin, int mid, int cout, int h, int w, int dil1, int dil2, boolean bias, boolean relu) {
        if (bf16) assumeTrue(Winograd.bf16Available(), "bf16 Winograd kernel: " + Winograd.bf16UnavailableReason());
        else assumeTrue(Winograd.available(), "Winograd kernel: " + Winograd.unavailableReason());
        ConvSpec s1 = ConvSpec.of(1, 1, 0, 1), sa = ConvSpec.of(3, 1, dil1, dil1), sb = ConvSpec.of(3, 1, dil2, dil2);
        float[] x = rand(cin * h * w, 1), w0 = rand(mid * cin, 0.3), b0 = rand(mid, 0.2);
        float[] wa = rand(cout * mid * 9, 0.1), ba = bias ? rand(cout, 0.5) : null;
        float[] wb = rand(cout * cout * 9, 0.05), bb = bias ? rand(cout, 0.5) : null;
        try (DnnlGraph g = new DnnlGraph(bf16, null, bf16)) { // the bf16 kernel forced on: plans choose it only without AMX
            Value in = g.input(1, cin, h, w);
            Value a = g.conv(in, w0, new int[]{mid, cin, 1, 1}, b0, s1, null, false);
            Value b = g.conv(a, wa, new int[]{cout, mid, 3, 3}, ba, sa, null, relu);
            Value c = g.conv(b, wb, new int[]{cout, cout, 3, 3}, bb, sb, null, relu);
            g.output(c);
            g.compile();
            String plan = g.describe();
            String kernel = bf16 ? "winograd_f2x2:avx512_bf16" : "winograd_f" + Winograd.tile(mid, cout) + "x";
            assertEquals(2, plan.split(bf16 ? kernel : "winograd_f", -1).length - 1, plan); // both 3x3 convolutions
            assertTrue(plan.contains(kernel), plan);
            assertEquals(0, g.innerReorders(), plan);
            float[] got = new float[cout * h * w];
            g.run(x, got);
            double[] ra = RefOps.conv2d(d(x), 1, cin, h, w, d(w0), mid, d(b0), s1);
            double[] rb = RefOps.conv2d(ra, 1, mid, h, w, d(wa), cout, bias ? d(ba) : null, sa);
            if (relu) rb = RefOps.relu(rb);
            double[] rc = RefOps.conv2d(rb, 1, cout, h, w, d(wb), cout, bias ? d(bb) : null, sb);
            if (relu) rc = RefOps.relu(rc);
            if (bf16) {
                double max = 0, err = 0;
                for (int i = 0; i < rc.length; i++) {
                    max = Math.max(max, Math.abs(rc[i]));
                    err = Math.max(err, Math.abs(rc[i] - got[i]));
                }
                assertTrue(err <= 2e-2 * max, "bf16 Winograd vs float64: max error " + err + " of max |y| " + max);
                assertTrue(err > 1e-7 * max, "bf16 graph gave float32 results (" + err + ")");
            } else {
                close(rc, got, 1e-5);
            }
            float[] again = new float[got.length];
            g.run(x, again); // buffers reused: the same numbers
            assertTrue(java.util.Arrays.equals(got, again));
        }
    }

    @Test void evenMapBiasRelu() { check(false, 16, 64, 64, 20, 24, 1, 1, true, true); }

    @Test void oddMapNoBiasNoRelu() { check(false, 8, 40, 32, 13, 11, 1, 1, false, false); }

    @Test void dilatedPhasesOfUnequalSize() { check(false, 8, 48, 96, 17, 14, 2, 3, true, true); }

    /** 256 -> 256 at 14x14 (ResNet-50's layer3): chunks of output channels split between the threads. */
    @Test void wideLayerFewTiles() { check(false, 16, 256, 256, 14, 14, 1, 2, true, true); }

    /** Many tiles (blocks split between threads) and a map that is not a multiple of the block. */
    @Test void manyTiles() { check(false, 8, 64, 64, 57, 43, 1, 1, true, true); }

    /**
     * U larger than L2 (256 -> 256: 4.2 MB) on a core with 2 MB of L2: blocks of half of L2 (64 tiles here; 99 tiles
     * at dilation 1 as blocks of 50 and 49, 120 at dilation 2 as two of 60), and the same layers with the 256 KB blocks
     * (at most 16 tiles: eight blocks of 13 and 15), whatever this host's L2 and -Dconta.plan.winograd.wideblocks.
     */
    @Test void wideLayerBlocksByL2() {
        assumeTrue(Winograd.available(), "Winograd kernel: " + Winograd.unavailableReason());
        for (boolean wide : new boolean[]{true, false}) {
            Winograd.blockL2(2L << 20, wide);
            try {
                check(false, 8, 256, 256, 22, 18, 1, 2, true, true);
            } finally {
                Winograd.restoreBlocks();
            }
        }
    }

    @Test void bf16EvenMapBiasRelu() { check(true, 16, 64, 64, 20, 24, 1, 1, true, true); }

    @Test void bf16OddMapNoBiasNoRelu() { check(true, 8, 40, 32, 13, 11, 1, 1, false, false); }

    @Test void bf16DilatedPhasesOfUnequalSize() { check(true, 8, 48, 96, 17, 14, 2, 3, true, true); }

    @Test void bf16WideLayerFewTiles() { check(true, 16, 256, 256, 14, 14, 1, 2, true, true); }

    @Test void bf16ManyTiles() { check(true, 8, 64, 64, 57, 43, 1, 1, true, true); }

    @Test
    void onlyStrideOneThreeByThreeWithSamePaddingIsTaken() {
        assertTrue(Winograd.suits(64, 64, 3, 3, 1, 1, 1, 1, 1, 1));
        assertTrue(Winograd.suits(256, 256, 3, 3, 1, 1, 2, 2, 2, 2));
        assertFalse(Winograd.suits(64, 64, 3, 3, 2, 2, 1, 1, 1, 1), "stride 2");
        assertFalse(Winograd.suits(64, 64, 3, 3, 1, 1, 0, 0, 1, 1), "valid padding");
        assertFalse(Winograd.suits(64, 64, 3, 3, 1, 1, 1, 1, 2, 2), "padding != dilation");
        assertFalse(Winograd.suits(64, 48, 3, 3, 1, 1, 1, 1, 1, 1), "48 outputs: not 32-wide panels");
        assertFalse(Winograd.suits(64, 64, 1, 1, 1, 1, 0, 0, 1, 1), "1x1");
        assertTrue(Winograd.suits(512, 512, 3, 3, 1, 1, 4, 4, 4, 4), "512 -> 512, DeepLab's dilation 4");
        assertFalse(Winograd.suits(1024, 512, 3, 3, 1, 1, 1, 1, 1, 1), "wider than 512 -> 512: not measured");
    }

    /** A residual sum (written over the shortcut) stays with oneDNN's sum post-op. */
    @Test
    void residualSumStaysWithOneDnn() {
        assumeTrue(Winograd.available(), "Winograd kernel: " + Winograd.unavailableReason());
        int c = 32, h = 10, w = 10;
        float[] x = rand(c * h * w, 1), w0 = rand(c * c, 0.2), ws = rand(c * c, 0.2), w3 = rand(c * c * 9, 0.1);
        ConvSpec one = ConvSpec.of(1, 1, 0, 1), three = ConvSpec.of(3, 1, 1, 1);
        try (DnnlGraph g = new DnnlGraph(false)) {
            Value in = g.input(1, c, h, w);
            Value a = g.conv(in, w0, new int[]{c, c, 1, 1}, null, one, null, false);
            Value shortcut = g.conv(in, ws, new int[]{c, c, 1, 1}, null, one, null, false);
            g.output(g.conv(a, w3, new int[]{c, c, 3, 3}, null, three, shortcut, true)); // relu(conv(a) + shortcut)
            g.compile();
            assertFalse(g.describe().contains("winograd"), g.describe());
            float[] got = new float[c * h * w];
            g.run(x, got);
            double[] ra = RefOps.conv2d(d(x), 1, c, h, w, d(w0), c, null, one), rs = RefOps.conv2d(d(x), 1, c, h, w, d(ws), c, null, one);
            double[] rb = RefOps.conv2d(ra, 1, c, h, w, d(w3), c, null, three);
            close(RefOps.relu(RefOps.addScaled(rb, 1, rs, 1)), got, 1e-5);
        }
    }
}
