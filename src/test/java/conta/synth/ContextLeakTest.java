package conta.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.data.Datasets;
import conta.image.CamMaps;
import conta.image.IndexPng;
import conta.image.Mask;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    /**
     * A class's CAM that is zero on every labelled pixel has no leak to measure: the image is left out of the mean and
     * counted apart, so the table no longer says "0 images without the context" for a class that has such images (the
     * demo's horse: 10 with / 0 without in the report, 86 / 28 in the data). Hand-made set: boat (class 1) coupled to
     * water in a and b, not in c; b's and c's boat CAM is all zero; a's CAM is 3 on the boat and 1/3 off it (leak 0.1).
     */
    @Test
    void imagesWithAnAllZeroCamAreCountedApart(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("images"));
        Files.createDirectories(root.resolve("masks"));
        Files.writeString(root.resolve("classes.txt"), "boat\n");
        Files.writeString(root.resolve("labels.csv"), "image_id,classes\na,boat\nb,boat\nc,boat\n");
        Files.writeString(root.resolve("context.csv"), "image_id,split,contexts,couplings\na,train,water,boat-on-water\nb,train,water,boat-on-water\nc,train,,\n");
        int n = 16;
        byte[] gt = new byte[n * n];
        for (int p = 0; p < n * n / 2; p++) gt[p] = 1; // boat on the top half
        for (String id : List.of("a", "b", "c")) {
            ImageIO.write(new BufferedImage(n, n, BufferedImage.TYPE_INT_RGB), "png", root.resolve("images").resolve(id + ".png").toFile());
            IndexPng.write(root.resolve("masks").resolve(id + ".png"), new Mask(n, n, gt));
        }
        Path cams = root.resolve("cam");
        Files.createDirectories(cams);
        float[] a = new float[n * n];
        for (int p = 0; p < n * n; p++) a[p] = p < n * n / 2 ? 3f : 1f / 3; // on: 128 x 3 = 384, off: 128 / 3 = 42.67 -> 42.67 / 426.67 = 0.1
        new CamMaps(new int[]{1}, 4, 4, new float[16], n, n, a).save(cams.resolve("a.npz"));
        new CamMaps(new int[]{1}, 4, 4, new float[16], n, n, new float[n * n]).save(cams.resolve("b.npz"));
        new CamMaps(new int[]{1}, 4, 4, new float[16], n, n, new float[n * n]).save(cams.resolve("c.npz"));
        List<ContextLeak.Row> rows = ContextLeak.measure(Datasets.open(root, false), List.of("a", "b", "c"), cams);
        assertEquals(1, rows.size(), "one coupled class: " + rows);
        ContextLeak.Row r = rows.getFirst();
        assertEquals("boat", r.cls());
        assertEquals(0.1, r.withContext(), 1e-6);
        assertEquals(1, r.nWith(), "a");
        assertEquals(1, r.zeroWith(), "b: with water, zero CAM");
        assertEquals(0, r.nWithout());
        assertTrue(Double.isNaN(r.withoutContext()));
        assertEquals(1, r.zeroWithout(), "c: without water, zero CAM");
    }

    @Test
    void couplingNamesMatchWholeClassNames() {
        assertTrue(ContextLeak.mentions("boat-on-water", "boat"));
        assertTrue(ContextLeak.mentions("rider-on-horse", "horse"));
        assertFalse(ContextLeak.mentions("boat-on-water", "bo"));
    }
}
