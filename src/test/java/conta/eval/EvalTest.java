package conta.eval;

import static org.junit.jupiter.api.Assertions.*;

import conta.cli.Main;
import conta.data.DataError;
import conta.data.SharedData;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.io.HostArray;
import conta.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metrics against hand-worked confusion matrices. */
class EvalTest {
    @TempDir Path tmp;
    private static final byte X = (byte) 255;

    /**
     * Image 1 (2x3): gt [0 0 1 / 1 X 2], pred [0 1 1 / 0 2 2]; image 2 (1x4, class 2 absent): gt [0 0 0 1], pred [0 0 X 1].
     * Confusion (rows gt): [[4,1,0],[1,2,0],[0,0,1]] -> IoU 4/6, 2/4, 1/1; mIoU 0.7222; precision 4/5, 2/3, 1;
     * recall 4/5, 2/3, 1; background FP (5-4)/6, FN (5-4)/6.
     */
    private void fixture(Path gt, Path pred) throws Exception {
        IndexPng.write(gt.resolve("i1.png"), new Mask(2, 3, new byte[]{0, 0, 1, 1, X, 2}));
        IndexPng.write(pred.resolve("i1.png"), new Mask(2, 3, new byte[]{0, 1, 1, 0, 2, 2}));
        IndexPng.write(gt.resolve("i2.png"), new Mask(1, 4, new byte[]{0, 0, 0, 1}));
        IndexPng.write(pred.resolve("i2.png"), new Mask(1, 4, new byte[]{0, 0, X, 1}));
    }

    @Test
    void handWorkedConfusion() throws Exception {
        Path gt = tmp.resolve("gt"), pred = tmp.resolve("pred");
        fixture(gt, pred);
        Files.writeString(tmp.resolve("classes.txt"), "a\nb\n");
        EvalResult r = Evaluator.masks(GroundTruth.open(gt, null, null, tmp.resolve("classes.txt")), pred);
        assertArrayEquals(new long[][]{{4, 1, 0}, {1, 2, 0}, {0, 0, 1}}, r.confusion().matrix());
        assertArrayEquals(new double[]{4 / 6.0, 0.5, 1.0}, r.confusion().iou(), 1e-12);
        assertEquals((4 / 6.0 + 0.5 + 1.0) / 3, r.miou(), 1e-12);
        assertArrayEquals(new double[]{0.8, 2 / 3.0, 1.0}, r.confusion().precision(), 1e-12);
        assertArrayEquals(new double[]{0.8, 2 / 3.0, 1.0}, r.confusion().recall(), 1e-12);
        assertEquals(1 / 6.0, r.confusion().bgFalsePositive(), 1e-12);
        assertEquals(1 / 6.0, r.confusion().bgFalseNegative(), 1e-12);
        assertEquals(2, r.images());
        assertEquals(9, r.confusion().pixels());
    }

    @Test
    void absentClassesAreLeftOutOfTheMeanButFalsePositivesCount() {
        Confusion c = new Confusion(4);
        c.add(new byte[]{0, 0, 1, 1, X, 2, 0, 0, 0, 1}, new byte[]{0, 1, 1, 0, 2, 2, 0, 0, X, 1});
        assertTrue(Double.isNaN(c.iou()[3]), "class 3 in neither gt nor prediction");
        assertTrue(Double.isNaN(c.precision()[3]) && Double.isNaN(c.recall()[3]));
        assertEquals((4 / 6.0 + 0.5 + 1.0) / 3, c.miou(), 1e-12);
        Confusion d = new Confusion(4);
        d.add(new byte[]{0, 0}, new byte[]{3, 0}); // class 3 predicted on background, absent from gt
        assertArrayEquals(new double[]{0.5, Double.NaN, Double.NaN, 0.0}, d.iou(), 1e-12);
        assertEquals(0.25, d.miou(), 1e-12);
        assertEquals(0.0, d.precision()[3]);
        assertTrue(Double.isNaN(d.recall()[3]));
        assertEquals(0.5, d.bgFalseNegative(), 1e-12);
        assertEquals(0.0, d.bgFalsePositive(), 1e-12);
    }

    @Test
    void camSweepFindsTheBestThreshold() throws Exception {
        Path gt = tmp.resolve("gt"), cam = tmp.resolve("cam");
        IndexPng.write(gt.resolve("c.png"), new Mask(1, 4, new byte[]{0, 1, 2, X}));
        Files.writeString(tmp.resolve("classes.txt"), "a\nb\n");
        conta.io.Npy.write(cam.resolve("c.npy"), new HostArray(new int[]{2, 1, 4}, new float[]{0.1f, 0.5f, 0.2f, 0.9f, 0.05f, 0.3f, 0.4f, 0f}));
        assertArrayEquals(new float[]{0.1f, 0.5f, 0.2f, 0.9f, 0.05f, 0.3f, 0.4f, 0f}, conta.io.Npy.read(cam.resolve("c.npy")).data());
        GroundTruth g = GroundTruth.open(gt, null, null, tmp.resolve("classes.txt"));
        assertEquals(1.0, Evaluator.cams(g, cam, new double[]{0.15}).miou(), 1e-12);
        assertEquals(0.5, Evaluator.cams(g, cam, new double[]{0.45}).miou(), 1e-12); // class-2 pixel falls to background
        assertEquals(0.5, Evaluator.cams(g, cam, new double[]{0.05}).miou(), 1e-12); // background pixel becomes class 1
        EvalResult s = Evaluator.cams(g, cam, Evaluator.thresholds("0.05:0.45:0.05"));
        assertEquals(9, s.sweep().size());
        assertEquals(0.10, s.threshold(), 1e-12, "value == threshold is background (argmax takes the first plane)");
        assertEquals(1.0, s.miou(), 1e-12);
        assertEquals(0.5, s.sweep().get(7)[1], 1e-12); // t = 0.40: 0.4 is not above it
        assertEquals(56, Evaluator.thresholds("0.05:0.60:0.01").length);
    }

    @Test
    void aTruncatedCamFileIsNamedOnceWithItsFix() throws Exception {
        Path gt = tmp.resolve("gt"), cam = tmp.resolve("cam");
        IndexPng.write(gt.resolve("c.png"), new Mask(1, 4, new byte[]{0, 1, 2, X}));
        Files.writeString(tmp.resolve("classes.txt"), "a\nb\n");
        conta.io.Npy.write(cam.resolve("c.npy"), new HostArray(new int[]{2, 1, 4}, new float[8]));
        Path f = cam.resolve("c.npy");
        Files.write(f, java.util.Arrays.copyOf(Files.readAllBytes(f), 11));
        GroundTruth g = GroundTruth.open(gt, null, null, tmp.resolve("classes.txt"));
        conta.data.DataError e = assertThrows(conta.data.DataError.class, () -> Evaluator.cams(g, cam, new double[]{0.15}));
        assertEquals("CAM " + f + ": truncated header (the file is cut short; write it again)", e.getMessage());
    }

    @Test
    void cliWritesJsonAndRefusesMissingPredictions() throws Exception {
        Path gt = tmp.resolve("gt"), pred = tmp.resolve("pred");
        fixture(gt, pred);
        Files.writeString(tmp.resolve("classes.txt"), "a\nb\n");
        Files.writeString(tmp.resolve("mine.txt"), "i1\ni2\n");
        Path js = tmp.resolve("out/r.json");
        assertEquals(0, Main.run(new String[]{"eval", "--pred", pred.toString(), "--gt", gt.toString(), "--list", tmp.resolve("mine.txt").toString(),
                "--classes", tmp.resolve("classes.txt").toString(), "--json", js.toString()}));
        Map<String, Object> m = Json.parseObject(Files.readString(js));
        assertEquals((4 / 6.0 + 0.5 + 1.0) / 3, ((Number) m.get("miou")).doubleValue(), 1e-12);
        assertEquals(List.of("background", "a", "b"), m.get("classes"));
        assertEquals(2L, m.get("images"));
        assertEquals("mine", m.get("split"));
        assertEquals(3, ((List<?>) m.get("iou")).size());
        Files.delete(pred.resolve("i2.png"));
        DataError e = assertThrows(DataError.class, () -> Evaluator.masks(GroundTruth.open(gt, null, null, tmp.resolve("classes.txt")), pred));
        assertTrue(e.getMessage().contains("i2.png") && e.getMessage().contains("1 of the 2 masks in " + gt), e.getMessage());
        assertEquals(2, Main.run(new String[]{"eval", "--pred", pred.toString(), "--gt", gt.toString()}));
        assertEquals(2, Main.run(new String[]{"eval", "--pred", pred.toString(), "--gt", gt.toString(), "--sweep", "0.1:0.2:0.05"}));
    }

    @Test
    void realVocGroundTruthAgainstItself() throws Exception {
        Path pred = tmp.resolve("p");
        GroundTruth g = GroundTruth.open(SharedData.voc(), null, "train", null);
        assertEquals(25, g.ids().size());
        for (String id : g.ids()) IndexPng.write(pred.resolve(id + ".png"), g.masks().apply(id));
        EvalResult r = Evaluator.masks(g, pred);
        assertEquals("train", r.split());
        assertEquals(1.0, r.miou(), 1e-12);
        DataError e = assertThrows(DataError.class, () -> GroundTruth.open(SharedData.voc(), null, null, null));
        assertTrue(e.getMessage().contains("--split"), e.getMessage());
        // all-zero prediction: background IoU = bg / (bg + fg), every other class 0
        for (String id : g.ids()) {
            Mask m = g.masks().apply(id);
            IndexPng.write(pred.resolve(id + ".png"), new Mask(m.h(), m.w(), new byte[m.h() * m.w()]));
        }
        EvalResult z = Evaluator.masks(g, pred);
        long bg = z.confusion().gtTotal(0), all = z.confusion().pixels();
        assertEquals((double) bg / all, z.confusion().iou()[0], 1e-12);
    }
}
