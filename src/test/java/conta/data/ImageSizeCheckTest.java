package conta.data;

import static org.junit.jupiter.api.Assertions.*;

import conta.error.UserError;
import conta.image.ImageCodec;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.wsss.BundleModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dataset's up-front image check: the smallest side conta predict takes, and masks drawn over an EXIF-rotated view. */
class ImageSizeCheckTest {
    @TempDir Path tmp;

    /** a: 30x20 with its mask; t: 12x9; o: 1x1; r: 30x20 with a 20x30 mask (EXIF-rotated view); c: 30x20 with a 30x10 mask. */
    private Path customSet() throws Exception {
        Path r = CustomSets.write(tmp.resolve("custom"), "background\ncat\n", "a,cat\nt,cat\no,cat\nr,cat\nc,cat\n", 0); // images below
        for (String id : List.of("a", "r", "c")) ImageCodec.writeJpeg(r.resolve("images/" + id + ".jpg"), new RgbImage(20, 30, new byte[1800]), 90);
        ImageCodec.writeJpeg(r.resolve("images/t.jpg"), new RgbImage(9, 12, new byte[324]), 90);
        ImageCodec.writeJpeg(r.resolve("images/o.jpg"), new RgbImage(1, 1, new byte[3]), 90);
        byte[] m = new byte[600];
        m[0] = 1;
        IndexPng.write(r.resolve("masks/a.png"), new Mask(20, 30, m));
        IndexPng.write(r.resolve("masks/r.png"), new Mask(30, 20, m));
        IndexPng.write(r.resolve("masks/c.png"), new Mask(10, 30, new byte[300]));
        return r;
    }

    /** The pipeline trained on and predicted 1x1 and 12x9 images that conta predict refuses; now both refuse them alike. */
    @Test
    void imagesUnder16PxAreBadItemsWithPredictsWording() throws Exception {
        Path r = customSet();
        Dataset ds = Datasets.open(r, true);
        Datasets.Checked ch = Datasets.check(ds, ds.ids("all"), true);
        assertEquals(List.of("a"), ch.ids());
        assertEquals(List.of("t", "o", "r", "c"), ch.bad().stream().map(BadItem::id).toList());
        Path t = r.resolve("images/t.jpg"), o = r.resolve("images/o.jpg");
        assertEquals("image " + t + " is 12x9 px: conta models need at least 16 px a side", ch.bad().get(0).reason());
        assertEquals(t, ch.bad().get(0).file());
        assertEquals("image " + o + " is 1x1 px: conta models need at least 16 px a side", ch.bad().get(1).reason());
        // conta predict's refusal of the same file, word for word
        UserError pe = assertThrows(UserError.class, () -> BundleModel.checkSize(12, 9, "image " + t));
        assertEquals(ch.bad().get(0).reason(), pe.getMessage());
        // without --skip-bad the first one stops the check, with the way around it
        DataError e = assertThrows(DataError.class, () -> Datasets.check(ds, ds.ids("all"), false));
        assertEquals("t", e.id());
        assertEquals("image " + t + " is 12x9 px: conta models need at least 16 px a side (or rerun with --skip-bad, in compare and demo"
                + " --set data.skip_bad=true, to leave it out)", e.getMessage());
    }

    /** A mask drawn over a viewer's rotated view has the image's size turned: the message says why it may be so. */
    @Test
    void aMaskWithWidthAndHeightSwappedHintsAtExifRotation() throws Exception {
        Path r = customSet();
        Dataset ds = Datasets.open(r, true);
        List<BadItem> bad = Datasets.check(ds, List.of("r", "c"), true).bad();
        String rotated = "mask " + r.resolve("masks/r.png") + " is 20x30 but image " + r.resolve("images/r.jpg") + " is 30x20; regenerate the mask"
                + " at the image size (width and height are swapped: the image may carry an EXIF rotation, which conta ignores; draw the mask"
                + " over the stored pixels, not a viewer's rotated view)";
        assertEquals(rotated, bad.get(0).reason());
        assertEquals("mask " + r.resolve("masks/c.png") + " is 30x10 but image " + r.resolve("images/c.jpg") + " is 30x20; regenerate the mask"
                + " at the image size", bad.get(1).reason(), "no hint when the sizes are not a turn of each other");
        // reading the item (the loader's path) says the same
        assertEquals(rotated, assertThrows(DataError.class, () -> ds.read("r")).getMessage());
    }

    /** COCO items are checked by reading them: a 4x4 image is left out under --skip-bad, naming the image file. */
    @Test
    void tinyCocoImageIsABadItem() throws Exception {
        Path root = tmp.resolve("coco"), f = root.resolve("annotations/instances_val2017.json");
        Files.createDirectories(root.resolve("val2017"));
        Files.createDirectories(f.getParent());
        ImageCodec.writeJpeg(root.resolve("val2017/1.jpg"), new RgbImage(4, 4, new byte[48]), 90);
        ImageCodec.writeJpeg(root.resolve("val2017/2.jpg"), new RgbImage(16, 16, new byte[768]), 90);
        Files.writeString(f, "{\"images\": [{\"id\": 7, \"file_name\": \"1.jpg\", \"height\": 4, \"width\": 4}, {\"id\": 8, \"file_name\": \"2.jpg\","
                + " \"height\": 16, \"width\": 16}], \"annotations\": [], \"categories\": [{\"id\": 5, \"name\": \"cat\"}]}");
        Dataset ds = Datasets.open(root, false);
        Datasets.Checked ch = Datasets.check(ds, ds.ids("val2017"), true);
        assertEquals(List.of("2"), ch.ids());
        assertEquals(1, ch.bad().size());
        assertEquals(root.resolve("val2017/1.jpg"), ch.bad().get(0).file());
        assertEquals("image " + root.resolve("val2017/1.jpg") + " is 4x4 px: conta models need at least 16 px a side", ch.bad().get(0).reason());
    }
}
