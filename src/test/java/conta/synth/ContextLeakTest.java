package conta.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.image.Mask;
import org.junit.jupiter.api.Test;

class ContextLeakTest {
    @Test
    void leakIsTheCamMassOffTheObjectOverLabelledPixels() {
        // 2x3 ground truth: class 3 on the left column, background elsewhere, one ignored pixel
        Mask gt = new Mask(2, 3, new byte[]{3, 0, 0, 3, 0, (byte) 255});
        float[] cam = {1.0f, 0.5f, 0.0f, 0.5f, 0.0f, 9.0f};
        // on labelled pixels: total 2.0, on the object 1.5 -> leak 0.25 (the 9.0 on the ignored pixel does not count)
        assertEquals(0.25, ContextLeak.leak(cam, gt, 3), 1e-12);
        assertEquals(Double.NaN, ContextLeak.leak(new float[6], gt, 3));
    }

    @Test
    void couplingNamesMatchWholeClassNames() {
        assertTrue(ContextLeak.mentions("boat-on-water", "boat"));
        assertTrue(ContextLeak.mentions("rider-on-horse", "horse"));
        assertFalse(ContextLeak.mentions("boat-on-water", "bo"));
    }
}
