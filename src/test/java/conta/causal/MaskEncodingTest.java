package conta.causal;

import conta.image.MapResize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.causal.MaskEncoding.Query;
import conta.causal.MaskEncoding.Values;
import conta.io.HostArray;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class MaskEncodingTest {
    /** 4x4 VOC-style map: class 0 (label 1) fills the top-left block, class 1 (label 2) one bottom-right pixel, 255 ignored. */
    static final int[] A = {1, 1, 0, 0,
                            1, 1, 0, 255,
                            0, 0, 0, 0,
                            0, 0, 0, 2};

    @Test
    void hardAreaMapsAreCoveredFractions() {
        MaskEncoding e = MaskEncoding.of(2, 2, 2);
        assertArrayEquals(new float[]{1, 0, 0, 0, /* class 1 */ 0, 0, 0, 0.25f}, e.classMaps(A, 4, 4));
        assertArrayEquals(new boolean[]{true, true}, e.present(A));
        assertArrayEquals(new float[]{1, 0, 0, 0.25f}, e.query(e.classMaps(A, 4, 4)));
    }

    @Test
    void nearestKeepsMapsBinary() {
        MaskEncoding e = MaskEncoding.of(2, 2, 2).withResize(MapResize.Mode.NEAREST);
        // nearest reads source pixels (0,0), (0,2), (2,0), (2,2)
        assertArrayEquals(new float[]{1, 0, 0, 0, 0, 0, 0, 0}, e.classMaps(A, 4, 4));
    }

    @Test
    void labelsOutsideTheClassesBelongToNone() {
        MaskEncoding e = MaskEncoding.of(2, 2, 2).withFirstLabel(0); // classes are labels 0 and 1
        assertArrayEquals(new float[]{0, 0.75f, 1, 0.75f, 1, 0, 0, 0}, e.classMaps(A, 4, 4));
        assertArrayEquals(new boolean[]{true, false}, MaskEncoding.of(2, 2, 2).present(new int[]{0, 1, 255, 0}));
    }

    @Test
    void softUsesClassProbabilitiesAndHardUsesTheirArgmax() {
        // C = 3 (background + 2 classes), 2 x 2 pixels
        float[] p = {0.7f, 0.1f, 0.2f, 0.5f,   // background
                     0.2f, 0.6f, 0.3f, 0.1f,   // class 0
                     0.1f, 0.3f, 0.5f, 0.4f};  // class 1
        HostArray s = new HostArray(new int[]{3, 2, 2}, p);
        MaskEncoding soft = MaskEncoding.of(2, 2, 2).withValues(Values.SOFT);
        assertArrayEquals(new float[]{0.2f, 0.6f, 0.3f, 0.1f, 0.1f, 0.3f, 0.5f, 0.4f}, soft.classMaps(s));
        assertArrayEquals(new float[]{0.3f, 0.9f, 0.8f, 0.5f}, soft.query(soft.classMaps(s)), 1e-6f); // 1 - background
        assertArrayEquals(new int[]{0, 1, 2, 0}, MaskEncoding.argmax(s));
        MaskEncoding hard = MaskEncoding.of(2, 2, 2);
        assertArrayEquals(new float[]{0, 1, 0, 0, 0, 0, 1, 0}, hard.classMaps(s));
        // soft values resized by area: one cell = mean of the four probabilities
        assertArrayEquals(new float[]{0.3f, 0.325f},
                new MaskEncoding(2, 1, 1, 1, Values.SOFT, MapResize.Mode.AREA, Query.PER_CLASS).classMaps(s), 1e-6f);
    }

    @Test
    void perClassQueryKeepsEveryMap() {
        MaskEncoding e = MaskEncoding.of(2, 2, 2).withQuery(Query.PER_CLASS);
        assertEquals(2, e.queryChannels());
        assertArrayEquals(e.classMaps(A, 4, 4), e.query(e.classMaps(A, 4, 4)));
        assertEquals(1, MaskEncoding.of(2, 2, 2).queryChannels());
    }

    @Test
    void gridIsTheBlock5Size() {
        assertEquals(32, MaskEncoding.grid(512, 16));
        assertEquals(21, MaskEncoding.grid(321, 16)); // 321 -> 161 -> 81 -> 41 -> 21
        assertEquals(41, MaskEncoding.grid(321, 8));
    }

    @Test
    void batchStacksQueries() {
        MaskEncoding e = MaskEncoding.of(2, 2, 2);
        try (CpuBackend b = new CpuBackend(); Tensor t = e.batch(b, List.of(new float[]{1, 2, 3, 4}, new float[]{5, 6, 7, 8}))) {
            assertArrayEquals(new int[]{2, 1, 2, 2}, t.shape());
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, t.toArray());
            assertThrows(IllegalArgumentException.class, () -> e.batch(b, List.of(new float[3])));
        }
    }

    @Test
    void badShapesSayWhatWasExpected() {
        MaskEncoding e = MaskEncoding.of(2, 2, 2);
        var ex = assertThrows(IllegalArgumentException.class, () -> e.classMaps(new HostArray(new int[]{2, 2, 2}, new float[8])));
        assertTrue(ex.getMessage().contains("C >= 3"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> e.classMaps(new int[5], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> e.query(new float[4]));
        assertThrows(IllegalArgumentException.class, () -> MaskEncoding.of(0, 2, 2));
    }
}
