package conta.image;

import static org.junit.jupiter.api.Assertions.*;

import conta.io.HostArray;
import conta.io.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PilResample against Pillow 9.4 itself: test-data/pil/pil_resize.npz holds crops of a real VOC photo and label map
 * and Pillow's BICUBIC / NEAREST resizes of them (made by test-data/pil/make_pil_fixtures.py). Equality is exact.
 */
class PilResampleTest {
    static Map<String, HostArray> fx;

    @BeforeAll
    static void load() throws IOException {
        fx = Npy.readNpz(Path.of("test-data/pil/pil_resize.npz"));
    }

    static RgbImage rgb(HostArray a) {
        int[] s = a.shape();
        byte[] b = new byte[a.data().length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (int) a.data()[i];
        return new RgbImage(s[0], s[1], b);
    }

    static Mask mask(HostArray a) {
        int[] s = a.shape();
        byte[] b = new byte[a.data().length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (int) a.data()[i];
        return new Mask(s[0], s[1], b);
    }

    @Test
    void bicubicEqualsPillowExactly() {
        int cases = 0;
        for (var e : fx.entrySet()) {
            if (!e.getKey().startsWith("bic_")) continue;
            String src = e.getKey().split("_")[1];
            RgbImage in = rgb(fx.get("src_rgb_" + src)), want = rgb(e.getValue());
            RgbImage got = PilResample.bicubic(in, want.h(), want.w());
            int diff = 0;
            for (int i = 0; i < want.rgb().length; i++) if (got.rgb()[i] != want.rgb()[i]) diff++;
            assertEquals(0, diff, e.getKey() + ": bytes differing from Pillow, of " + want.rgb().length);
            cases++;
        }
        assertEquals(22, cases);
    }

    @Test
    void nearestEqualsPillowExactly() {
        int cases = 0;
        for (var e : fx.entrySet()) {
            if (!e.getKey().startsWith("nn_")) continue;
            String src = e.getKey().split("_")[1];
            Mask in = mask(fx.get("src_lbl_" + src)), want = mask(e.getValue());
            assertArrayEquals(want.data(), PilResample.nearest(in, want.h(), want.w()).data(), e.getKey());
            cases++;
        }
        assertEquals(24, cases);
    }

    /** pil_rescale's size is int(np.round(n * s)): half to even (45 * 0.5 = 22.5 -> 22, 63 * 0.5 = 31.5 -> 32). */
    @Test
    void rescaledSizeRoundsHalfToEvenAsNumpy() {
        for (String src : new String[]{"A", "B"}) {
            int[] s = fx.get("src_rgb_" + src).shape();
            for (double f : new double[]{0.5, 0.75, 0.3, 1.5, 2.0}) {
                int[] o = fx.get(String.format("bic_%s_s%03d", src, Math.round(f * 100))).shape();
                assertEquals(o[0], PilResample.rescaledSize(s[0], f), src + " h x " + f);
                assertEquals(o[1], PilResample.rescaledSize(s[1], f), src + " w x " + f);
            }
        }
        assertEquals(22, PilResample.rescaledSize(45, 0.5));
        assertEquals(32, PilResample.rescaledSize(63, 0.5));
    }

    /** The reason for the class: OpenCV's INTER_CUBIC does not antialias, so it differs from Pillow when shrinking. */
    @Test
    void opencvCubicDiffersFromPillowWhenShrinking() {
        RgbImage in = rgb(fx.get("src_rgb_A")), want = rgb(fx.get("bic_A_s030"));
        RgbImage cv = ImageCodec.resize(in, want.h(), want.w(), ImageCodec.Interp.CUBIC);
        int far = 0;
        for (int i = 0; i < want.rgb().length; i++) if (Math.abs((cv.rgb()[i] & 0xFF) - (want.rgb()[i] & 0xFF)) > 2) far++;
        assertTrue(far > want.rgb().length / 10, far + " of " + want.rgb().length + " bytes differ by more than 2");
    }

    /** Hand-worked: shrinking 4 -> 2 has scale 2, support 4; output 0 (centre 1) weighs pixels 0..3 by cubic(-.25, .25, .75, 1.25). */
    @Test
    void coefficientsOfAHalvingByHand() {
        PilResample.Coeffs c = PilResample.coeffs(4, 2);
        // output 0: xmin = (int)(1 - 4 + .5) = -2 -> 0, xmax = (int)(5.5) = 5 -> 4; taps (x + 0.5 - 1) / 2 = -.25, .25, .75, 1.25
        assertEquals(0, c.start()[0]);
        assertEquals(4, c.count()[0]);
        double w0 = PilResample.cubic(0.25), w2 = PilResample.cubic(0.75), w3 = PilResample.cubic(1.25);
        assertEquals(1 - 2.5 * 0.0625 + 1.5 * 0.015625, w0, 1e-15); // 1 - 2.5x^2 + 1.5x^3
        double sum = 2 * w0 + w2 + w3;
        assertEquals((int) (0.5 + w0 / sum * (1 << 22)), c.k()[0]);
        assertEquals((int) (0.5 + w2 / sum * (1 << 22)), c.k()[2]);
        assertEquals((int) (-0.5 + w3 / sum * (1 << 22)), c.k()[3]);
        assertTrue(w3 < 0);
    }

    /** Pillow NEAREST picks floor((i + 0.5) * in / out): for a quarter, pixel 4i + 2. */
    @Test
    void nearestQuarterSamplesTheCentre() {
        assertArrayEquals(new int[]{2, 6, 10}, PilResample.nearestIndex(12, 3));
        assertArrayEquals(new int[]{1, 5, 8}, PilResample.nearestIndex(10, 3)); // 10/3: 1.67, 5.0, 8.33
    }
}
