package conta.image;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The viridis fit against matplotlib's table at five points (R's viridis(5): #440154 #3B528B #21908C #5DC863 #FDE725). */
class ColormapTest {
    @Test
    void matchesMatplotlibsViridis() {
        double[] t = {0, 0.25, 0.5, 0.75, 1};
        int[] want = {0x440154, 0x3B528B, 0x21908C, 0x5DC863, 0xFDE725};
        for (int i = 0; i < t.length; i++) {
            int got = Colormap.viridis(t[i]);
            for (int sh = 0; sh <= 16; sh += 8) {
                int d = Math.abs((got >> sh & 255) - (want[i] >> sh & 255));
                assertTrue(d <= 6, String.format("viridis(%.2f) = #%06X, matplotlib #%06X", t[i], got, want[i]));
            }
        }
        assertTrue(Colormap.viridis(-1) == Colormap.viridis(0) && Colormap.viridis(Double.NaN) == Colormap.viridis(0));
        assertTrue(Colormap.viridis(2) == Colormap.viridis(1));
    }
}
