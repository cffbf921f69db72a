package conta.data;

import static org.junit.jupiter.api.Assertions.*;

import conta.image.Mask;
import conta.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The real sample sets load with their known values. */
class VocCocoTest {
    @Test
    void vocSampleSplitsLabelsAndMasks() throws Exception {
        Dataset ds = Datasets.open(SharedData.voc(), false);
        assertInstanceOf(VocDataset.class, ds);
        assertEquals(List.of("train", "trainval", "val"), ds.splits());
        assertEquals(25, ds.ids("train").size());
        assertEquals(25, ds.ids("val").size());
        assertEquals(50, ds.ids("trainval").size());
        assertEquals(20, ds.numClasses());
        assertEquals("person", ds.classNames().get(15));
        // no Annotations/ in the sample: labels come from the masks and match the published list
        Map<String, Object> ref = Json.parseObject(Files.readString(SharedData.voc().resolve("labels_from_masks.json")));
        boolean[] seen = new boolean[21];
        for (String id : ds.ids("trainval")) {
            @SuppressWarnings("unchecked") List<Object> want = (List<Object>) ref.get(id);
            int[] got = ds.labels(id);
            assertArrayEquals(want.stream().mapToInt(o -> ((Number) o).intValue()).toArray(), got, id);
            for (int k : got) seen[k] = true;
        }
        for (int k = 1; k <= 20; k++) assertTrue(seen[k], "class " + k + " occurs");
        Item it = ds.read("2007_000032");
        assertEquals(281, it.image().h());
        assertEquals(500, it.image().w());
        long[] h = it.mask().histogram();
        assertEquals(129545, h[0]);
        assertEquals(4734, h[1]);
        assertEquals(866, h[15]);
        assertEquals(5355, h[255]);
        assertArrayEquals(new int[]{1, 15}, it.labels());
    }

    @Test
    void vocPixelShares() {
        Dataset ds = Datasets.open(SharedData.voc(), false);
        long bg = 0, ign = 0, all = 0;
        for (String id : ds.ids("trainval")) {
            long[] h = ds.mask(id).histogram();
            bg += h[0];
            ign += h[255];
            for (long c : h) all += c;
        }
        assertEquals(0.68, (double) bg / all, 0.02);
        assertEquals(0.045, (double) ign / all, 0.01);
    }

    @Test
    void cocoTinyMatchesPycocotools() {
        Dataset ds = Datasets.open(SharedData.coco(), false);
        assertInstanceOf(CocoDataset.class, ds);
        assertEquals(List.of("val2017"), ds.splits());
        assertEquals(80, ds.ids("val").size());
        assertEquals(80, ds.numClasses());
        assertEquals("person", ds.classNames().get(1));
        assertEquals("toothbrush", ds.classNames().get(80));
        // reference histograms: pycocotools 2.0.11 annToMask, instances in json order, crowd -> 255 where background
        assertEquals(Map.of(0, 162305L, 1, 125476L, 2, 1776L, 27, 2451L, 77, 5120L, 255, 10072L), hist(ds.mask("000000005001")));
        assertEquals(Map.of(0, 229905L, 1, 38593L, 36, 2862L), hist(ds.mask("000000010764")));
        assertEquals(Map.of(0, 206790L, 1, 29437L, 40, 1910L, 41, 11174L, 42, 7186L, 43, 243L, 44, 482L, 45, 9L, 61, 40906L, 255, 9063L),
                hist(ds.mask("000000166918")));
        long[] tot = new long[256];
        for (String id : ds.ids("val2017")) {
            long[] h = ds.mask(id).histogram();
            for (int k = 0; k < 256; k++) tot[k] += h[k];
        }
        assertEquals(14030116L, tot[0]);
        assertEquals(2112702L, tot[1]);
        assertEquals(471804L, tot[46]);
        assertEquals(1270378L, tot[61]);
        assertEquals(92876L, tot[255]);
        assertEquals(0L, tot[52]);
        assertArrayEquals(new int[]{1, 2, 27, 77}, ds.labels("000000005001"));
        Item it = ds.read("000000010764");
        assertEquals(it.image().h(), it.mask().h());
    }

    private static Map<Integer, Long> hist(Mask m) {
        long[] h = m.histogram();
        Map<Integer, Long> out = new java.util.HashMap<>();
        for (int k = 0; k < 256; k++) if (h[k] > 0) out.put(k, h[k]);
        return out;
    }

    @Test
    void vocXmlLabelsIgnorePartsAndSbdAugMasks(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path r = tmp.resolve("VOCdevkit/VOC2012");
        Files.createDirectories(r.resolve("JPEGImages"));
        Files.createDirectories(r.resolve("Annotations"));
        Files.createDirectories(r.resolve("SegmentationClassAug"));
        Files.createDirectories(r.resolve("ImageSets/Segmentation"));
        Files.copy(SharedData.voc().resolve("JPEGImages/2007_000032.jpg"), r.resolve("JPEGImages/a.jpg"));
        Files.copy(SharedData.voc().resolve("SegmentationClass/2007_000032.png"), r.resolve("SegmentationClassAug/a.png"));
        Files.writeString(r.resolve("Annotations/a.xml"), "<annotation><object><name>person</name><part><name>head</name></part></object>"
                + "<object><name>dog</name></object></annotation>");
        Files.writeString(r.resolve("ImageSets/Segmentation/train_aug.txt"), "/JPEGImages/a.jpg /SegmentationClassAug/a.png\n");
        Dataset ds = Datasets.open(tmp.resolve("VOCdevkit"), false);
        assertEquals(List.of("a"), ds.ids("train_aug"));
        assertArrayEquals(new int[]{12, 15}, ds.labels("a"));
        assertEquals(4734, ds.read("a").mask().histogram()[1]);
        Files.writeString(r.resolve("Annotations/a.xml"), "<annotation><object><name>unicorn</name></object></annotation>");
        DataError e = assertThrows(DataError.class, () -> Datasets.open(tmp.resolve("VOCdevkit"), false).labels("a"));
        assertTrue(e.getMessage().contains("a.xml") && e.getMessage().contains("unicorn"), e.getMessage());
    }

    /** A COCO root under tmp with val2017/1.jpg (4x4); returns where its instances_val2017.json goes. */
    private static Path cocoWithOneImage(Path tmp) throws Exception {
        Path root = tmp.resolve("coco"), f = root.resolve("annotations/instances_val2017.json");
        Files.createDirectories(root.resolve("val2017"));
        Files.createDirectories(f.getParent());
        conta.image.ImageCodec.writeJpeg(root.resolve("val2017/1.jpg"), new conta.image.RgbImage(4, 4, new byte[48]), 90);
        return f;
    }

    /**
     * A COCO instances file without its lists, with a wrong type in a record, or cut off: a DataError naming the file,
     * the missing key (or record) and the fix, never a NullPointerException or ClassCastException.
     */
    @Test
    void damagedCocoAnnotationsNameTheFileAndTheKey(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path f = cocoWithOneImage(tmp), root = tmp.resolve("coco");
        String good = "{\"images\": [{\"id\": 7, \"file_name\": \"1.jpg\", \"height\": 4, \"width\": 4}], \"annotations\": [{\"id\": 3, "
                + "\"image_id\": 7, \"category_id\": 5, \"segmentation\": [[0, 0, 3, 0, 3, 3]]}], \"categories\": [{\"id\": 5, \"name\": \"cat\"}]}";
        Files.writeString(f, good);
        assertEquals(List.of("background", "cat"), Datasets.open(root, false).classNames(), "the well-formed file loads");
        String[][] cases = {
            {"{}", "has no 'images' list (it has no keys at all)"},
            {good.replace("\"categories\"", "\"cats\""), "has no 'categories' list (it has only 'images', 'annotations', 'cats')"},
            {good.replace("\"annotations\"", "\"notes\""), "has no 'annotations' list"},
            {"{\"images\": 5, \"annotations\": [], \"categories\": []}", "its 'images' is not a list"},
            {good.replace("\"category_id\": 5", "\"category_id\": \"5\""), "annotation 3 has 'category_id' = 5, not a number"},
            {good.replace("\"file_name\": \"1.jpg\", ", ""), "image 7 has no 'file_name'"},
            {good.replace("\"height\": 4, ", ""), "image 1.jpg has no 'height'"},
            {good.replace("\"name\": \"cat\"", "\"name\": 1"), "category 5 has 'name' = 1, not a string"},
            {good.substring(0, 40), "is damaged (JSON: unexpected end at offset 40); download or unpack the COCO annotations again"},
        };
        for (String[] c : cases) {
            Files.writeString(f, c[0]);
            DataError e = assertThrows(DataError.class, () -> Datasets.open(root, false), c[0]);
            assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(c[1]), c[1] + " in: " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    /** A file_name listed twice replaced the first record's annotations with the second's without a word. */
    @Test
    void cocoFileNameListedTwiceIsRefused(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path f = cocoWithOneImage(tmp), root = tmp.resolve("coco");
        Files.writeString(f, "{\"images\": [{\"id\": 7, \"file_name\": \"1.jpg\", \"height\": 4, \"width\": 4}, "
                + "{\"id\": 9, \"file_name\": \"1.jpg\", \"height\": 4, \"width\": 4}], \"annotations\": [{\"id\": 3, "
                + "\"image_id\": 7, \"category_id\": 5, \"segmentation\": [[0, 0, 3, 0, 3, 3]]}], \"categories\": [{\"id\": 5, \"name\": \"cat\"}]}");
        for (boolean skipBad : new boolean[]{false, true}) {
            DataError e = assertThrows(DataError.class, () -> Datasets.open(root, skipBad));
            assertEquals(f + " lists file_name 1.jpg twice, as image ids 7 and 9; keep one image record per file and give its annotations"
                    + " that record's id", e.getMessage());
            assertEquals(f, e.file());
        }
    }

    /** A json with N categories, category N holding the square (1,1)-(3,3) of the 4x4 image 1.jpg. */
    private static String cocoWithCategories(int n) {
        StringBuilder cats = new StringBuilder();
        for (int k = 1; k <= n; k++) cats.append(k > 1 ? ", " : "").append("{\"id\": ").append(k).append(", \"name\": \"c").append(k).append("\"}");
        return "{\"images\": [{\"id\": 7, \"file_name\": \"1.jpg\", \"height\": 4, \"width\": 4}], \"annotations\": [{\"id\": 3, \"image_id\": 7, "
                + "\"category_id\": " + n + ", \"segmentation\": [[1, 1, 3, 1, 3, 3, 1, 3]]}], \"categories\": [" + cats + "]}";
    }

    /**
     * Masks are bytes with 255 = ignore: a COCO-format json with 255 or more categories (Objects365, LVIS renamed) had
     * category 255 painted as ignore and 256 as background without a word. classes.txt refuses more than 254 already.
     */
    @Test
    void cocoWithMoreThan254CategoriesIsRefused(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path f = cocoWithOneImage(tmp), root = tmp.resolve("coco");
        Files.writeString(f, cocoWithCategories(254));
        Dataset ds = Datasets.open(root, false);
        assertEquals(254, ds.numClasses());
        assertEquals(Map.of(0, 12L, 254, 4L), hist(ds.mask("1")), "pixel centres inside the square: rows and columns 1..2");
        Files.writeString(f, cocoWithCategories(255));
        DataError e = assertThrows(DataError.class, () -> Datasets.open(root, false));
        assertEquals(f + " has 255 categories; conta's masks hold at most 254 classes; keep at most 254 categories in the json", e.getMessage());
        assertEquals(f, e.file());
    }

    /**
     * Under skip-bad an annotation whose category_id is not in 'categories' was listed as skipped under the numeric image
     * id, while its image stayed in the split with the object dropped: labels without its class, its pixels background.
     */
    @Test
    void cocoSkipBadLeavesOutTheImageOfAnUnknownCategory(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path f = cocoWithOneImage(tmp), root = tmp.resolve("coco");
        conta.image.ImageCodec.writeJpeg(root.resolve("val2017/2.jpg"), new conta.image.RgbImage(4, 4, new byte[48]), 90);
        Files.writeString(f, "{\"images\": [{\"id\": 7, \"file_name\": \"1.jpg\", \"height\": 4, \"width\": 4}, "
                + "{\"id\": 8, \"file_name\": \"2.jpg\", \"height\": 4, \"width\": 4}], \"annotations\": ["
                + "{\"id\": 3, \"image_id\": 7, \"category_id\": 5, \"segmentation\": [[1, 1, 3, 1, 3, 3, 1, 3]]}, "
                + "{\"id\": 4, \"image_id\": 7, \"category_id\": 99, \"segmentation\": [[0, 0, 4, 0, 4, 1, 0, 1]]}, "
                + "{\"id\": 5, \"image_id\": 8, \"category_id\": 5, \"segmentation\": [[1, 1, 3, 1, 3, 3, 1, 3]]}], "
                + "\"categories\": [{\"id\": 5, \"name\": \"cat\"}]}");
        String why = f + ": annotation 4 has category_id 99 which is not in 'categories'; fix the json";
        assertEquals(why, assertThrows(DataError.class, () -> Datasets.open(root, false)).getMessage());
        Dataset ds = Datasets.open(root, true);
        assertEquals(List.of("2"), ds.ids("val2017"), "image 1.jpg is left out whole");
        assertEquals(List.of(new BadItem("1", f, why)), ds.skipped());
        assertArrayEquals(new int[]{1}, ds.labels("2"));
    }

    /** The json of a 4x4 image 1.jpg whose annotation 3 has the given "segmentation" member (or none). */
    private static String cocoWithSegmentation(String seg) {
        return "{\"images\": [{\"id\": 7, \"file_name\": \"1.jpg\", \"height\": 4, \"width\": 4}], \"annotations\": [{\"id\": 3, "
                + "\"image_id\": 7, \"category_id\": 5" + (seg == null ? "" : ", \"segmentation\": " + seg) + "}], "
                + "\"categories\": [{\"id\": 5, \"name\": \"cat\"}]}";
    }

    /**
     * A damaged 'segmentation' said "bad segmentation in the annotations of image 1: unknown segmentation type null" (or a
     * ClassCastException's text) and named the dataset folder: now one line naming the json, the annotation and the fix.
     */
    @Test
    void badSegmentationNamesTheJsonAndTheAnnotation(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path f = cocoWithOneImage(tmp), root = tmp.resolve("coco");
        String[][] cases = {
            {null, "there is none"},
            {"[[\"a\", 1, 2, 3, 4, 5]]", "a value of the wrong type: polygons are lists of numbers"},
            {"{\"size\": [4, 4]}", "its RLE has no 'counts'"},
            {"7", "it is 7, neither polygons nor an RLE"},
        };
        for (String[] c : cases) {
            Files.writeString(f, cocoWithSegmentation(c[0]));
            Dataset ds = Datasets.open(root, false);
            DataError e = assertThrows(DataError.class, () -> ds.mask("1"), c[0]);
            assertTrue(e.getMessage().startsWith(f + ": annotation 3 (image 1.jpg) has a bad 'segmentation': " + c[1]), e.getMessage());
            assertTrue(e.getMessage().endsWith("; fix the json"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertEquals(f, e.file());
            assertEquals("1", e.id());
        }
    }

    /**
     * RLE counts are runs that tile the h x w image in column-major order (COCO's maskApi): a negative run or runs past
     * the image's end mean a damaged RLE. [5, -3, 7] and [10, 10] on a 4x4 image were painted without a word.
     */
    @Test
    void rleCountsPastTheImageOrNegativeAreRefused(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path f = cocoWithOneImage(tmp), root = tmp.resolve("coco");
        String[][] cases = {
            {"{\"size\": [4, 4], \"counts\": [5, -3, 7]}", "its RLE counts hold a negative run (-3)"},
            {"{\"size\": [4, 4], \"counts\": [10, 10]}", "its RLE counts cover 20 pixels, more than the image's 4 x 4 = 16"},
            // two runs of 2^62 sum past 2^63: a wrapping sum came out negative, under 16, and the runs were painted
            {"{\"size\": [4, 4], \"counts\": [1, 4611686018427387904, 4611686018427387904]}",
                "its RLE counts cover more than 9223372036854775807 pixels, more than the image's 4 x 4 = 16"},
        };
        for (String[] c : cases) {
            Files.writeString(f, cocoWithSegmentation(c[0]));
            DataError e = assertThrows(DataError.class, () -> Datasets.open(root, false).mask("1"), c[0]);
            assertEquals(f + ": annotation 3 (image 1.jpg) has a bad 'segmentation': " + c[1] + "; fix the json", e.getMessage());
        }
        // runs that tile the image exactly: pixels 5..6 and 9..10 of the column-major order are (x1,y1),(x1,y2),(x2,y1),(x2,y2)
        Files.writeString(f, cocoWithSegmentation("{\"size\": [4, 4], \"counts\": [5, 2, 2, 2, 5]}"));
        assertEquals(Map.of(0, 12L, 1, 4L), hist(Datasets.open(root, false).mask("1")));
    }

    /**
     * Two instances files listing the same file stem: the later file's record replaced the earlier one's in both splits,
     * so train2017's image took val2017's annotations without a word. The same image with the same record (split
     * folders linked to one another) still loads into both splits.
     */
    @Test
    void sameImageInTwoInstancesFilesMustAgree(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path val = cocoWithOneImage(tmp), root = tmp.resolve("coco"), train = root.resolve("annotations/instances_train2017.json");
        Files.createDirectories(root.resolve("train2017"));
        Files.copy(root.resolve("val2017/1.jpg"), root.resolve("train2017/1.jpg"));
        String withCat = cocoWithSegmentation("[[1, 1, 3, 1, 3, 3, 1, 3]]");
        String noAnns = "{\"images\": [{\"id\": 7, \"file_name\": \"1.jpg\", \"height\": 4, \"width\": 4}], \"annotations\": [], "
                + "\"categories\": [{\"id\": 5, \"name\": \"cat\"}]}";
        Files.writeString(val, withCat);
        Files.writeString(train, noAnns);
        DataError e = assertThrows(DataError.class, () -> Datasets.open(root, false));
        assertEquals(train + " and " + val + " both list image 1 (" + root.resolve("train2017/1.jpg") + " and " + root.resolve("val2017/1.jpg")
                + "); conta names an image by its file stem in every split: keep one of the records", e.getMessage());
        Files.delete(root.resolve("train2017/1.jpg"));
        Files.delete(root.resolve("train2017"));
        Files.createSymbolicLink(root.resolve("train2017"), root.resolve("val2017"));
        e = assertThrows(DataError.class, () -> Datasets.open(root, false));
        assertEquals(train + " and " + val + " both list image 1 with other annotations; conta names an image by its file stem in every split:"
                + " keep one of the records", e.getMessage());
        Files.writeString(train, withCat);
        Dataset ds = Datasets.open(root, false);
        assertEquals(List.of("1"), ds.ids("train2017"));
        assertEquals(List.of("1"), ds.ids("val2017"));
        assertArrayEquals(new int[]{1}, ds.labels("1"));
    }
}
