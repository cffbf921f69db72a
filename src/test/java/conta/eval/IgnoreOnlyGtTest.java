package conta.eval;

import static org.junit.jupiter.api.Assertions.*;

import conta.image.IndexPng;
import conta.image.Mask;
import conta.io.HostArray;
import conta.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Binary masks saved as 0/255: every object pixel is VOC's "ignore", and the scores came out a silent 100%. */
class IgnoreOnlyGtTest {
    @TempDir Path tmp;

    /** gt/a.png and gt/b.png, 4x4: the left half 0, the right half fg (255 for a 0/255 binary mask, 1 for a right one). */
    private Path gt(int fg) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("gt" + fg));
        byte[] m = new byte[16];
        for (int i = 0; i < 16; i++) if (i % 4 >= 2) m[i] = (byte) fg;
        for (String id : new String[]{"a", "b"}) IndexPng.write(d.resolve(id + ".png"), new Mask(4, 4, m));
        return d;
    }

    private Path zeros(String name) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        for (String id : new String[]{"a", "b"}) IndexPng.write(d.resolve(id + ".png"), new Mask(4, 4, new byte[16]));
        return d;
    }

    @Test
    void masksOfOnly0And255AreWarnedAbout() throws Exception {
        Path g = gt(255);
        GroundTruth gt = GroundTruth.open(g, null, null, null);
        EvalResult r = Evaluator.masks(gt, zeros("pred")); // predicts no object at all, and still scores 100%
        assertEquals(1.0, r.miou(), 0);
        assertEquals(16, r.confusion().ignored());
        assertEquals("warning: the ground-truth masks of split all masks in " + g + " hold no pixel of any foreground class, only"
                + " background and 255 (16 pixels): 255 means \"ignore\" in VOC-style masks, so no object was scored and the mIoU means"
                + " nothing; a binary mask must hold the class index (1 for the first class), not 255", Evaluator.ignoredOnly(gt, r.confusion()));
        // CAMs against the same ground truth: the same warning
        Path cams = Files.createDirectories(tmp.resolve("cams"));
        for (String id : new String[]{"a", "b"}) Npy.write(cams.resolve(id + ".npy"), new HostArray(new int[]{20, 4, 4}, new float[320]));
        EvalResult rc = Evaluator.cams(gt, cams, new double[]{0.1, 0.2});
        assertEquals(16, rc.confusion().ignored());
        assertEquals(Evaluator.ignoredOnly(gt, r.confusion()), Evaluator.ignoredOnly(gt, rc.confusion()));
    }

    @Test
    void classIndexMasksAreNotWarnedAbout() throws Exception {
        GroundTruth gt = GroundTruth.open(gt(1), null, null, null);
        EvalResult r = Evaluator.masks(gt, zeros("pred1"));
        assertEquals(0.25, r.miou(), 1e-12, "background IoU 0.5, class 1 IoU 0: mean 0.25");
        assertEquals(0, r.confusion().ignored());
        assertNull(Evaluator.ignoredOnly(gt, r.confusion()));
        // background alone (no 255 either): an image set without objects is not the binary-mask mistake
        GroundTruth bg = GroundTruth.open(zeros("gt0"), null, null, null);
        assertNull(Evaluator.ignoredOnly(bg, Evaluator.masks(bg, zeros("pred0")).confusion()));
    }

    /** A split of a dataset root: the warning names the split and the folder its masks are in. */
    @Test
    void aDatasetSplitNamesItsMaskFolder() throws Exception {
        Path root = conta.data.CustomSets.write(tmp.resolve("custom"), "background\ncat\n", "a,cat\n", 4, "a");
        byte[] m = new byte[16];
        m[5] = (byte) 255;
        IndexPng.write(root.resolve("masks/a.png"), new Mask(4, 4, m));
        GroundTruth gt = GroundTruth.open(root, null, "all", null);
        Path pred = Files.createDirectories(tmp.resolve("p"));
        IndexPng.write(pred.resolve("a.png"), new Mask(4, 4, new byte[16]));
        String w = Evaluator.ignoredOnly(gt, Evaluator.masks(gt, pred).confusion());
        assertTrue(w != null && w.startsWith("warning: the ground-truth masks of split all in " + root.resolve("masks").toAbsolutePath()
                + " hold no pixel of any foreground class, only background and 255 (1 pixels)"), w);
    }
}
