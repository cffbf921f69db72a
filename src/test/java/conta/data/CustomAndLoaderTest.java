package conta.data;

import static org.junit.jupiter.api.Assertions.*;

import conta.image.ImageCodec;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CustomAndLoaderTest {
    @TempDir Path tmp;

    private static RgbImage img(int h, int w, int seed) {
        byte[] b = new byte[3 * h * w];
        new java.util.Random(seed).nextBytes(b);
        return new RgbImage(h, w, b);
    }

    /** images a (with mask), b (no mask), c (mask of the wrong size), d (truncated), e (unknown class), f (missing). */
    private Path customSet() throws Exception {
        Path r = tmp.resolve("custom");
        Files.createDirectories(r.resolve("images"));
        Files.writeString(r.resolve("classes.txt"), "background\ncat\ndog\ntraffic light\n");
        Files.writeString(r.resolve("labels.csv"), "image_id,classes\na,cat;dog\nb,\"traffic light\"\nc,dog\nd,cat\ne,unicorn\nf,cat\n");
        for (String id : List.of("a", "b", "c")) ImageCodec.writeJpeg(r.resolve("images/" + id + ".jpg"), img(20, 30, id.hashCode()), 90);
        byte[] full = ImageCodec.encodeJpeg(img(20, 30, 4), 90);
        Files.write(r.resolve("images/d.jpg"), Arrays.copyOf(full, full.length - 100));
        ImageCodec.writeJpeg(r.resolve("images/e.jpg"), img(20, 30, 5), 90);
        byte[] m = new byte[600];
        m[0] = 1;
        m[1] = 2;
        m[2] = (byte) 255;
        IndexPng.write(r.resolve("masks/a.png"), new Mask(20, 30, m));
        IndexPng.write(r.resolve("masks/c.png"), new Mask(10, 30, new byte[300]));
        return r;
    }

    @Test
    void errorsNameTheFile() throws Exception {
        Path r = customSet();
        DataError e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertTrue(e.getMessage().contains("labels.csv") && e.getMessage().contains("unicorn"), e.getMessage());
        Files.writeString(r.resolve("labels.csv"), "a,cat;dog\nb,traffic light\nc,dog\nd,cat\nf,cat\n");
        e = assertThrows(DataError.class, () -> Datasets.open(r, false));
        assertTrue(e.getMessage().contains("f.jpg") && e.getMessage().contains("does not exist"), e.getMessage());
        Files.writeString(r.resolve("labels.csv"), "a,cat;dog\nb,traffic light\nc,dog\nd,cat\n");
        Dataset ds = Datasets.open(r, false);
        e = assertThrows(DataError.class, () -> ds.read("c"));
        assertTrue(e.getMessage().contains("c.png") && e.getMessage().contains("30x10"), e.getMessage());
        e = assertThrows(DataError.class, () -> ds.read("d"));
        assertTrue(e.getMessage().contains("d.jpg") && e.getMessage().contains("truncated"), e.getMessage());
        e = assertThrows(DataError.class, () -> Datasets.check(ds, ds.ids("all"), false));
        assertTrue(e.getMessage().contains("c.png"), e.getMessage());
        assertTrue(e.getMessage().endsWith("(or rerun with --skip-bad, in compare and demo --set data.skip_bad=true, to leave it out)"), e.getMessage());
        assertEquals("c", e.id());
        e = assertThrows(DataError.class, () -> ds.ids("train"));
        assertTrue(e.getMessage().contains("all"), e.getMessage());
    }

    @Test
    void skipBadListsTheLeftOutItems() throws Exception {
        Path r = customSet();
        Dataset ds = Datasets.open(r, true);
        assertEquals(List.of("a", "b", "c", "d"), ds.ids("all"));
        Datasets.Checked ch = Datasets.check(ds, ds.ids("all"), true);
        assertEquals(List.of("a", "b"), ch.ids());
        assertEquals(List.of("e", "f", "c", "d"), ch.bad().stream().map(BadItem::id).toList());
        Item a = ds.read("a");
        assertArrayEquals(new int[]{1, 2}, a.labels());
        assertEquals(2, a.mask().at(0, 1));
        assertArrayEquals(new int[]{3}, ds.labels("b"));
        assertNull(ds.read("b").mask());
        var out = new java.io.ByteArrayOutputStream();
        Datasets.report(ch.bad(), new java.io.PrintStream(out));
        assertTrue(out.toString().contains("skipped 4 bad item(s)"));
        // the loader skips at read time too
        try (Loader l = new Loader(ds, ds.ids("all"), AugmentSpec.none().withCrop(16, AugmentSpec.CropMode.TOP_LEFT),
                new Loader.Options(4, false, false, 1, 2, 2, true))) {
            Batch b = l.epoch(0).next();
            assertEquals(List.of("a", "b"), b.ids());
            assertEquals(2, l.skipped().size());
        }
    }

    /** A damaged label map of an earlier stage is not a bad data item: --skip-bad's loader does not drop its image silently. */
    @Test
    void aDamagedOverrideMaskStopsTheLoaderEvenUnderSkipBad(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        conta.synth.SynthGenerator.generate(dir.resolve("synth"), new conta.synth.SynthGenerator.Config(1, 4, 0, 32, 0.8));
        Dataset ds = Datasets.open(dir.resolve("synth"), false);
        java.nio.file.Path masks = java.nio.file.Files.createDirectories(dir.resolve("pseudo"));
        List<String> ids = ds.ids("train");
        for (String id : ids) conta.image.IndexPng.write(masks.resolve(id + ".png"), ds.read(id).mask());
        java.nio.file.Files.write(masks.resolve(ids.get(1) + ".png"), new byte[]{1, 2, 3});
        try (Loader l = new Loader(new MaskOverride(ds, masks), ids, AugmentSpec.none().withCrop(16, AugmentSpec.CropMode.TOP_LEFT),
                new Loader.Options(4, false, false, 1, 1, 1, true))) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> l.epoch(0).next());
            Throwable c = e;
            while (!(c instanceof conta.error.UserError) && c.getCause() != null) c = c.getCause();
            assertTrue(c instanceof conta.error.UserError && !(c instanceof DataError) && c.getMessage().contains(ids.get(1) + ".png"), String.valueOf(c));
            assertEquals(0, l.skipped().size());
        }
    }

    @Test
    void augmentCropPadsWithZeroAnd255AndNormalises() {
        byte[] px = new byte[3 * 2 * 3];
        Arrays.fill(px, (byte) 255);
        Mask m = new Mask(2, 3, new byte[]{1, 2, 3, 4, 5, 6});
        Item it = new Item("x", new RgbImage(2, 3, px), m, new int[]{1});
        Sample s = Augment.apply(it, AugmentSpec.none().withCrop(4, AugmentSpec.CropMode.TOP_LEFT), new SplittableRandom(1));
        assertEquals(4, s.h());
        assertEquals((1 - 0.485f) / 0.229f, s.image()[0], 1e-5);
        assertEquals((1 - 0.406f) / 0.225f, s.image()[2 * 16 + 4 + 2], 1e-5);
        assertEquals(0f, s.image()[3]);
        assertEquals(0f, s.image()[16 + 8]);
        assertArrayEquals(new byte[]{1, 2, 3, (byte) 255, 4, 5, 6, (byte) 255, (byte) 255, (byte) 255, (byte) 255, (byte) 255,
                (byte) 255, (byte) 255, (byte) 255, (byte) 255}, s.mask());
        // flip always on with a generator whose first boolean is true: find one
        AugmentSpec flip = new AugmentSpec(0, 0, 1, 1, true, 0, 0, 0, 0, Preprocess.RAW, 0, AugmentSpec.CropMode.TOP_LEFT);
        for (int seed = 0; seed < 20; seed++) {
            Sample f = Augment.apply(it, flip, new SplittableRandom(seed));
            boolean flipped = new SplittableRandom(seed).nextBoolean();
            assertEquals(flipped ? 3 : 1, f.mask()[0]);
        }
    }

    @Test
    void augmentIsDeterministicAndResizesMasksNearest() throws Exception {
        Dataset ds = Datasets.open(SharedData.voc(), false);
        Item it = ds.read("2007_000032");
        AugmentSpec spec = AugmentSpec.irnCam(256).withJitter(0.3f, 0.3f, 0.3f, 0.1f);
        Sample a = Augment.apply(it, spec, new SplittableRandom(42)), b = Augment.apply(it, spec, new SplittableRandom(42));
        assertArrayEquals(a.image(), b.image());
        assertArrayEquals(a.mask(), b.mask());
        for (byte v : a.mask()) assertTrue((v & 0xFF) <= 20 || (v & 0xFF) == 255);
        Sample c = Augment.apply(it, AugmentSpec.deeplab(321), new SplittableRandom(7));
        assertEquals(321 * 321, c.mask().length);
        Sample whole = ds.load("2007_000032");
        assertEquals(281, whole.h());
        assertEquals(500, whole.w());
    }

    @Test
    void loaderOrderAndContentIndependentOfThreads() throws Exception {
        Dataset ds = Datasets.open(SharedData.voc(), false);
        List<String> ids = ds.ids("train").subList(0, 10);
        AugmentSpec spec = AugmentSpec.irnCam(64).withLongSide(80, 120);
        List<Batch> one = new ArrayList<>(), two = new ArrayList<>();
        try (Loader l1 = new Loader(ds, ids, spec, new Loader.Options(4, true, true, 5, 1, 1, false));
             Loader l2 = new Loader(ds, ids, spec, new Loader.Options(4, true, true, 5, 2, 3, false))) {
            assertEquals(2, l1.batchesPerEpoch());
            l1.epoch(0).forEachRemaining(one::add);
            l2.epoch(0).forEachRemaining(two::add);
            Iterator<Batch> e1 = l1.epoch(1);
            assertNotEquals(one.get(0).ids(), e1.next().ids(), "a new epoch reshuffles");
        }
        assertEquals(2, one.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(one.get(i).ids(), two.get(i).ids());
            assertArrayEquals(one.get(i).images(), two.get(i).images());
            assertArrayEquals(one.get(i).masks(), two.get(i).masks());
            assertArrayEquals(one.get(i).labels(), two.get(i).labels());
            assertEquals(4 * 3 * 64 * 64, one.get(i).images().length);
        }
        Batch b = one.get(0);
        int[] lab = ds.labels(b.ids().get(0));
        for (int k : lab) assertEquals(1f, b.labels()[k - 1]);
    }
}
