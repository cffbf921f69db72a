package conta.data;

import static org.junit.jupiter.api.Assertions.*;

import conta.image.ImageCodec;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.RgbImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data sets as users bring them: ids with spaces, BOMs, Latin-1, duplicates, mixed-case extensions. */
class UserFilesTest {
    @TempDir Path tmp;

    private static void jpeg(Path f, int seed) throws Exception {
        byte[] b = new byte[3 * 16 * 20]; // at least 16 px a side: smaller images are bad items (Datasets.check)
        new java.util.Random(seed).nextBytes(b);
        Files.createDirectories(f.getParent());
        ImageCodec.writeJpeg(f, new RgbImage(16, 20, b), 90);
    }

    /** Custom set: classes cat, dog; images "my photo 1", "b" (jpg); labels and splits as given. */
    private Path custom(String labels, String train) throws Exception {
        Path r = tmp.resolve("custom");
        jpeg(r.resolve("images/my photo 1.jpg"), 1);
        jpeg(r.resolve("images/b.jpg"), 2);
        Files.writeString(r.resolve("classes.txt"), "cat\ndog\n");
        Files.writeString(r.resolve("labels.csv"), labels);
        if (train != null) {
            Files.createDirectories(r.resolve("splits"));
            Files.writeString(r.resolve("splits/train.txt"), train);
        }
        return r;
    }

    @Test
    void idsWithSpacesAreWholeLines() throws Exception {
        Path r = custom("image_id,classes\nmy photo 1,cat\nb,dog\n", "my photo 1\n  b  \n");
        Dataset ds = Datasets.open(r, false);
        assertEquals(List.of("my photo 1", "b"), ds.ids("train"));
        assertArrayEquals(new int[]{1}, ds.labels("my photo 1"));
        assertEquals(List.of(r.resolve("images/my photo 1.jpg")), ds.files("my photo 1"));
        assertEquals(16, ds.read("my photo 1").image().h());
    }

    @Test
    void vocListsWithSpacesAndImageMaskPairs() throws Exception {
        Path r = tmp.resolve("voc");
        jpeg(r.resolve("JPEGImages/a b.jpg"), 1);
        jpeg(r.resolve("JPEGImages/c.jpg"), 2);
        IndexPng.write(r.resolve("SegmentationClass/a b.png"), new Mask(16, 20, new byte[320]));
        byte[] m = new byte[320];
        m[5] = 15;
        IndexPng.write(r.resolve("SegmentationClass/c.png"), new Mask(16, 20, m));
        Files.createDirectories(r.resolve("ImageSets/Segmentation"));
        Files.writeString(r.resolve("ImageSets/Segmentation/train.txt"), "a b\nc\n");
        // SBD's train_aug.txt form: "image_path mask_path"
        Files.writeString(r.resolve("train_aug.txt"), "/JPEGImages/a b.jpg /SegmentationClassAug/a b.png\n/JPEGImages/c.jpg /SegmentationClassAug/c.png\n");
        Dataset ds = Datasets.open(r, false);
        assertEquals(List.of("a b", "c"), ds.ids("train"));
        assertEquals(List.of("a b", "c"), ds.ids("train_aug"));
        assertArrayEquals(new int[]{15}, ds.labels("c"));
    }

    @Test
    void byteOrderMarksAreIgnored() throws Exception {
        Path r = custom("\uFEFFimage_id,classes\nmy photo 1,cat\nb,dog;cat\n", "\uFEFFb\nmy photo 1\n");
        Files.writeString(r.resolve("classes.txt"), "\uFEFFcat\ndog\n");
        Dataset ds = Datasets.open(r, false);
        assertEquals(List.of("background", "cat", "dog"), ds.classNames());
        assertEquals(List.of("b", "my photo 1"), ds.ids("train"));
        assertArrayEquals(new int[]{1, 2}, ds.labels("b"));
    }

    @Test
    void latin1FileIsNamedWithTheFix() throws Exception {
        Path r = custom("", null);
        Files.write(r.resolve("labels.csv"), "image_id,classes\nb,dog\ncaf\u00e9,cat\n".getBytes(StandardCharsets.ISO_8859_1));
        DataError e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertEquals("labels file " + r.resolve("labels.csv") + " is not UTF-8 text (line 3); save it as UTF-8", e.getMessage());
        Files.write(r.resolve("classes.txt"), "caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertEquals("classes file " + r.resolve("classes.txt") + " is not UTF-8 text (line 1); save it as UTF-8", e.getMessage());
    }

    /**
     * labels.csv names classes ignoring case, with _ - and space alike, so two class lines that differ only so are one
     * name to it: "cat" and "Cat" both passed, and every "cat" label went to the second (index 3), leaving class 1 with
     * no training image.
     */
    @Test
    void classNamesThatLabelsCannotTellApartAreRefused() throws Exception {
        Path r = custom("image_id,classes\nmy photo 1,cat\nb,dog\n", null);
        Path classes = r.resolve("classes.txt");
        Files.writeString(classes, "cat\ndog\nCat\n");
        DataError e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertEquals("classes file " + classes + " lists 'cat' and 'Cat', which image labels cannot tell apart (labels.csv and Annotations/*.xml match "
                + "names ignoring case, with _ - and space alike); remove one or rename it", e.getMessage());
        Files.writeString(classes, "hot dog\ncat\nhot_dog\n");
        e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertTrue(e.getMessage().contains("lists 'hot dog' and 'hot_dog'"), e.getMessage());
        Files.writeString(classes, "cat\ndog;puppy\n"); // labels.csv's "b,dog;puppy" is the two classes dog and puppy
        e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertTrue(e.getMessage().contains("names 'dog;puppy', but ';' and '|' separate class names in labels.csv"), e.getMessage());
        Files.writeString(classes, "cat\ndog|puppy\n");
        assertThrows(DataError.class, () -> Datasets.open(r, false));
        Files.writeString(classes, "cat\ndog\n");
        assertEquals(List.of("background", "cat", "dog"), Datasets.open(r, false).classNames());
    }

    @Test
    void idListedTwiceIsRefusedOrSkippedOnce() throws Exception {
        Path r = custom("my photo 1,cat\nb,dog\n", "b\nmy photo 1\n\nb\n");
        Path list = r.resolve("splits/train.txt");
        DataError e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertEquals("list " + list + " names image b twice (lines 1 and 4); remove one of the lines", e.getMessage());
        Dataset ds = Datasets.open(r, true);
        assertEquals(List.of("b", "my photo 1"), ds.ids("train"));
        assertEquals(List.of("my photo 1", "b"), ds.ids("all"));
        Datasets.Checked ch = Datasets.check(ds, ds.ids("train"), true);
        assertEquals(List.of("b", "my photo 1"), ch.ids());
        assertEquals(1, ch.bad().size());
        assertEquals(new BadItem("b", list, e.getMessage()), ch.bad().get(0));
    }

    @Test
    void twoImageFilesOfOneIdAreRefused() throws Exception {
        Path r = custom("my photo 1,cat\nb,dog\n", null);
        Files.copy(r.resolve("images/b.jpg"), r.resolve("images/b.png"));
        DataError e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertEquals("images " + r.resolve("images/b.jpg") + " and " + r.resolve("images/b.png") + " would both be image b; rename or remove one of them",
                e.getMessage());
        Dataset ds = Datasets.open(r, true);
        assertEquals(List.of("my photo 1"), ds.ids("all"));
        assertEquals(List.of("b"), ds.skipped().stream().map(BadItem::id).toList());
    }

    @Test
    void headerOnlyWhenItIsOne() throws Exception {
        Path r = custom("image_b,cat\nb,dog\n", null);
        jpeg(r.resolve("images/image_b.jpg"), 3);
        Dataset ds = Datasets.open(r, false);
        assertEquals(List.of("image_b", "b"), ds.ids("all"));
        assertArrayEquals(new int[]{1}, ds.labels("image_b"));
        Files.writeString(r.resolve("labels.csv"), "Image ID,classes\nb,dog\n");
        assertEquals(List.of("b"), Datasets.open(r, false).ids("all"));
        Files.writeString(r.resolve("labels.csv"), "image,cat\nb,dog\n"); // an image named "image", labelled cat
        jpeg(r.resolve("images/image.jpg"), 4);
        assertEquals(List.of("image", "b"), Datasets.open(r, false).ids("all"));
        Files.writeString(r.resolve("labels.csv"), "image,\nb,dog\n"); // the same image, background only
        Dataset bg = Datasets.open(r, false);
        assertEquals(List.of("image", "b"), bg.ids("all"));
        assertArrayEquals(new int[0], bg.labels("image"));
        Files.writeString(r.resolve("labels.csv"), "image_id\nb,dog\n"); // a one-column header
        assertEquals(List.of("b"), Datasets.open(r, false).ids("all"));
        Files.writeString(r.resolve("labels.csv"), "Image ID,\nb,dog\n"); // a column name no image has, its other cell empty
        assertEquals(List.of("b"), Datasets.open(r, false).ids("all"));
    }

    @Test
    void extensionsInAnyCase() throws Exception {
        Path r = custom("my photo 1,cat\nb,dog\nc,cat\nd,dog\n", null);
        Files.move(r.resolve("images/b.jpg"), r.resolve("images/b.Jpg"));
        Files.write(r.resolve("images/c.bmp"), new byte[]{'B', 'M'});
        Files.copy(r.resolve("images/b.Jpg"), r.resolve("images/d.JPEG"));
        Dataset ds = Datasets.open(r, false);
        assertEquals(List.of("my photo 1", "b", "c", "d"), ds.ids("all"));
        assertEquals(List.of(r.resolve("images/b.Jpg")), ds.files("b"));
        assertEquals(List.of(r.resolve("images/c.bmp")), ds.files("c"));
        assertEquals(16, ds.read("d").image().h());

        Path v = tmp.resolve("voc");
        jpeg(v.resolve("JPEGImages/x.JPG"), 5);
        IndexPng.write(v.resolve("SegmentationClass/x.png"), new Mask(16, 20, new byte[320]));
        Files.createDirectories(v.resolve("ImageSets/Segmentation"));
        Files.writeString(v.resolve("ImageSets/Segmentation/val.txt"), "x\n");
        Dataset vd = Datasets.open(v, false);
        assertEquals(List.of("x"), vd.ids("val"));
        assertEquals(20, vd.read("x").image().w());
        Files.writeString(v.resolve("ImageSets/Segmentation/val.txt"), "x\ny\n");
        DataError e = assertThrows(DataError.class, () -> Datasets.open(v, false));
        assertTrue(e.getMessage().startsWith("image " + v.resolve("JPEGImages/y.jpg") + " (listed in ") && e.getMessage().contains(".bmp, any case"), e.getMessage());
    }
}
