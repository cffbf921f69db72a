package conta.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.data.DataError;
import conta.image.IndexPng;
import conta.image.Mask;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * eval --gt DATA --split S on a set with masks for some images: scores those, as the pipeline does (it refused with "no
 * ground-truth mask for X; remove it from the list" although no list was given), and a split without any mask says so.
 */
class PartialMasksTest {
    @TempDir Path tmp;

    @Test
    void aSplitIsScoredOnItsImagesWithMasks() throws Exception {
        Path r = conta.data.CustomSets.write(tmp.resolve("custom"), "background\ncat\n", "a,cat\nb,cat\nc,cat\n", 16, "a", "b", "c");
        byte[] m = new byte[256];
        m[0] = 1;
        for (String id : List.of("a", "c")) IndexPng.write(r.resolve("masks/" + id + ".png"), new Mask(16, 16, m));
        Path pred = Files.createDirectories(tmp.resolve("pred"));
        IndexPng.write(pred.resolve("a.png"), new Mask(16, 16, m));
        IndexPng.write(pred.resolve("c.png"), new Mask(16, 16, new byte[256]));
        GroundTruth g = GroundTruth.open(r, null, "all", null);
        assertEquals(List.of("a", "c"), g.ids());
        // a: both classes right; c: its one cat pixel called background -> background 510 / (510 + 1), cat 1 / (1 + 1)
        assertEquals((510.0 / 511 + 0.5) / 2, Evaluator.masks(g, pred).miou(), 1e-12);
        for (String id : List.of("a", "c")) Files.delete(r.resolve("masks/" + id + ".png"));
        DataError e = assertThrows(DataError.class, () -> GroundTruth.open(r, null, "all", null));
        assertTrue(e.getMessage().contains("has no ground-truth masks for split all (3 images)"), e.getMessage());
    }
}
