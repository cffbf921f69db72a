package conta.causal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.io.HostArray;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfounderSetTest {
    /** Class 0 along the whole top row: area cells (0,0) and (0,1) are half covered. Class 1 absent. */
    static final int[] B = {1, 1, 1, 1,
                            0, 0, 0, 0,
                            0, 0, 0, 0,
                            0, 0, 0, 0};

    @Test
    void meansOverImagesPredictedToContainEachClass() {
        ConfounderSet s = new ConfounderSet(MaskEncoding.of(2, 2, 2));
        s.add(MaskEncodingTest.A, 4, 4, null); // class 0: [1,0,0,0]; class 1: [0,0,0,.25]
        s.add(B, 4, 4, null);                  // class 0: [.5,.5,0,0]; class 1 not predicted: not counted
        assertArrayEquals(new int[]{2, 1}, s.counts());
        assertEquals(2, s.images());
        HostArray c = s.means();
        assertArrayEquals(new int[]{2, 2, 2}, c.shape());
        assertArrayEquals(new float[]{0.75f, 0.25f, 0, 0, /* class 1 */ 0, 0, 0, 0.25f}, c.data());
    }

    @Test
    void tagsDecideWhichImagesCount() {
        ConfounderSet s = new ConfounderSet(MaskEncoding.of(2, 2, 2));
        s.add(MaskEncodingTest.A, 4, 4, new boolean[]{true, true});
        s.add(B, 4, 4, new boolean[]{true, true}); // tagged with class 1 but its prediction missed it: a zero map
        assertArrayEquals(new float[]{0.75f, 0.25f, 0, 0, 0, 0, 0, 0.125f}, s.means().data());
        s.add(B, 4, 4, new boolean[]{false, false}); // untagged: ignored even though class 0 is predicted
        assertArrayEquals(new int[]{2, 2}, s.counts());
    }

    @Test
    void classesWithoutImagesAreZero() {
        ConfounderSet s = new ConfounderSet(MaskEncoding.of(3, 2, 2));
        s.add(B, 4, 4, null);
        assertArrayEquals(new int[]{1, 2}, s.emptyClasses());
        assertArrayEquals(new float[]{0.5f, 0.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, s.means().data());
    }

    @Test
    void softScoresAccumulateProbabilities() {
        ConfounderSet s = new ConfounderSet(MaskEncoding.of(1, 1, 2).withValues(MaskEncoding.Values.SOFT));
        // C = 2 x 1 x 2; class 0 = channel 1; argmax says class 0 is present in both images
        s.add(new HostArray(new int[]{2, 1, 2}, new float[]{0.4f, 0.9f, 0.6f, 0.1f}), null);
        s.add(new HostArray(new int[]{2, 1, 2}, new float[]{0.2f, 0.2f, 0.8f, 0.8f}), null);
        assertArrayEquals(new float[]{0.7f, 0.45f}, s.means().data(), 1e-6f);
    }

    @Test
    void saveLoadRoundTripAndShapeCheck(@TempDir Path dir) throws Exception {
        MaskEncoding e = MaskEncoding.of(2, 2, 2);
        ConfounderSet s = new ConfounderSet(e);
        s.add(MaskEncodingTest.A, 4, 4, null);
        Path f = dir.resolve("confounders.npy");
        s.save(f);
        assertTrue(Files.size(f) > 0);
        HostArray back = ConfounderSet.load(f, e);
        assertArrayEquals(s.means().data(), back.data());
        var ex = assertThrows(IllegalArgumentException.class, () -> ConfounderSet.load(f, MaskEncoding.of(2, 4, 4)));
        assertTrue(ex.getMessage().contains("[2, 4, 4]"), ex.getMessage());
    }

    @Test
    void badInputsAreRejected() {
        ConfounderSet s = new ConfounderSet(MaskEncoding.of(2, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> s.addClassMaps(new float[8], new boolean[3]));
        assertThrows(IllegalArgumentException.class, () -> s.addClassMaps(new float[7], new boolean[2]));
        assertThrows(IllegalArgumentException.class, () -> s.add(new int[15], 4, 4, null));
        assertEquals(0, s.images());
    }
}
