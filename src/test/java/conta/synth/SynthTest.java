package conta.synth;

import static org.junit.jupiter.api.Assertions.*;

import conta.cli.Main;
import conta.data.Dataset;
import conta.data.Datasets;
import conta.data.Item;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthTest {
    @TempDir Path tmp;

    @Test
    void sameSeedGivesByteIdenticalFiles() throws Exception {
        SynthGenerator.generate(tmp.resolve("a"), new SynthGenerator.Config(7, 10, 4, 64, 0.8));
        SynthGenerator.generate(tmp.resolve("b"), new SynthGenerator.Config(7, 10, 4, 64, 0.8));
        SynthGenerator.generate(tmp.resolve("c"), new SynthGenerator.Config(8, 10, 4, 64, 0.8));
        List<Path> files;
        try (Stream<Path> s = Files.walk(tmp.resolve("a"))) {
            files = s.filter(Files::isRegularFile).map(p -> tmp.resolve("a").relativize(p)).sorted().toList();
        }
        assertEquals(14 * 2 + 7, files.size());
        for (Path f : files) assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve(f)), Files.readAllBytes(tmp.resolve("b").resolve(f)), f.toString());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(tmp.resolve("a/JPEGImages/syn_00000.jpg")),
                Files.readAllBytes(tmp.resolve("c/JPEGImages/syn_00000.jpg"))), "another seed, another image");
        Dataset ds = Datasets.open(tmp.resolve("a"), false);
        assertEquals(List.of("train", "trainval", "val"), ds.splits());
        assertEquals(10, ds.ids("train").size());
        assertEquals(4, ds.ids("val").size());
        assertEquals(SynthGenerator.classes(), ds.classNames());
        for (String id : ds.ids("trainval")) {
            Item it = ds.read(id);
            assertEquals(64, it.image().w());
            assertArrayEquals(it.mask().classesPresent(7), it.labels(), "labels.csv agrees with the mask of " + id);
            assertTrue(it.labels().length >= 1);
        }
    }

    @Test
    void statisticsMatchTheRequestedBias() throws Exception {
        double bias = 0.7;
        SynthGenerator.generate(tmp, new SynthGenerator.Config(3, 500, 0, 64, bias));
        SynthStats.Result r = SynthStats.compute(tmp);
        assertEquals(500, r.images());
        assertEquals(bias, r.bias(), 0);
        for (String k : List.of("P(rider | horse)", "P(water | boat)", "P(rails | tram)", "P(body like ground | sheep)")) {
            SynthStats.Rate x = r.rates().get(k);
            assertTrue(x.given() > 60, k + " measured on " + x.given());
            double se = Math.sqrt(bias * (1 - bias) / x.given());
            assertEquals(bias, x.p(), 4 * se, k + " = " + x.p());
        }
        assertTrue(r.rates().get("P(touching | rider & horse)").p() > 0.97);
        assertTrue(r.rates().get("P(boat | water)").p() > 0.6, "water mostly means boat");
        // background dominates but objects are not tiny; every class occurs
        assertTrue(r.pixelShare()[0] > 0.6 && r.pixelShare()[0] < 0.92, "bg share " + r.pixelShare()[0]);
        for (int c = 1; c < 8; c++) assertTrue(r.classImages()[c] > 40, "class " + c);
        var out = new java.io.ByteArrayOutputStream();
        SynthStats.print(r, new java.io.PrintStream(out));
        assertTrue(out.toString().contains("P(rider | horse)"));
    }

    @Test
    void eachContextProblemHasItsOwnStrength() throws Exception {
        // equal strengths are the single-bias data byte for byte (the same random draws)
        SynthGenerator.generate(tmp.resolve("one"), new SynthGenerator.Config(7, 6, 0, 64, 0.8));
        SynthGenerator.generate(tmp.resolve("three"), new SynthGenerator.Config(7, 6, 0, 64, 0.8, 0.8, 0.8, 0.8));
        for (String f : List.of("JPEGImages/syn_00003.jpg", "SegmentationClass/syn_00005.png", "context.csv", "synth.json"))
            assertArrayEquals(Files.readAllBytes(tmp.resolve("one").resolve(f)), Files.readAllBytes(tmp.resolve("three").resolve(f)), f);
        // three different strengths, each measured where it applies (within 4 standard errors)
        SynthGenerator.generate(tmp.resolve("mix"), new SynthGenerator.Config(3, 500, 0, 64, 0.8, 0.2, 0.95, 0.5));
        SynthStats.Result r = SynthStats.compute(tmp.resolve("mix"));
        java.util.Map<String, Double> want = java.util.Map.of("P(rider | horse)", 0.2, "P(water | boat)", 0.95, "P(rails | tram)", 0.95,
                "P(body like ground | sheep)", 0.5);
        for (var e : want.entrySet()) {
            SynthStats.Rate x = r.rates().get(e.getKey());
            double p = e.getValue(), se = Math.sqrt(p * (1 - p) / x.given());
            assertEquals(p, x.p(), 4 * se, e.getKey() + " = " + x.p() + " on " + x.given());
        }
        assertEquals(0.2, ((Number) r.strength().get("object ambiguity")).doubleValue());
        assertEquals(2, Main.run(new String[]{"synth", "--out", tmp.resolve("bad").toString(), "--bias-foreground", "-0.1"}));
    }

    @Test
    void commandLine() throws Exception {
        assertEquals(0, Main.run(new String[]{"synth", "--out", tmp.resolve("s").toString(), "--train", "6", "--val", "2", "--size", "48", "--seed", "1"}));
        assertTrue(Files.isRegularFile(tmp.resolve("s/ImageSets/Segmentation/val.txt")));
        assertEquals(2, Main.run(new String[]{"synth", "--out", tmp.resolve("s").toString()}), "refuses to overwrite");
        assertEquals(2, Main.run(new String[]{"synth", "--out", tmp.resolve("t").toString(), "--bias", "1.5"}));
        assertEquals(0, Main.run(new String[]{"synth", "--stats", tmp.resolve("s").toString()}));
    }

    /** Main.run's exit code and stderr. */
    private static String[] run(String... argv) {
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(err, true));
        try {
            return new String[]{Integer.toString(Main.run(argv)), err.toString()};
        } finally {
            System.setErr(old);
        }
    }

    /** Exit 2 and one line that names each of must. */
    private static void userError(String[] r, String... must) {
        assertEquals("2", r[0], r[1]);
        assertEquals(1, r[1].strip().lines().count(), r[1]);
        for (String m : must) assertTrue(r[1].contains(m), "'" + m + "' in: " + r[1]);
    }

    /**
     * A custom-layout set (classes.txt, labels.csv, images/) given as synth's --out, or as the demo's --data, is
     * refused naming the files that would be overwritten, and left byte for byte as it was; --force overwrites; a
     * folder of unrelated files is written into.
     */
    @Test
    void aSplitLargerThanADemoSetIsRefusedBeforeAnythingIsWritten() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SynthGenerator.Config(1, 100_000_000, 4, 64, 0.8, 0.8, 0.8, 0.8));
        assertEquals("--train and --val are at most 100000 images each (a synthetic demo set), got 100000000 and 4", e.getMessage());
        assertEquals(2, Main.run(new String[]{"synth", "--out", tmp.resolve("big").toString(), "--train", "100000000"}));
        assertFalse(Files.exists(tmp.resolve("big")));
    }

    @Test
    void aFolderWithFilesSynthWouldOverwriteIsRefused() throws Exception {
        Path cust = tmp.resolve("cust");
        Files.createDirectories(cust.resolve("images"));
        Files.writeString(cust.resolve("classes.txt"), "cat\ndog\n");
        Files.writeString(cust.resolve("labels.csv"), "image_id,classes\na,cat\n");
        Files.write(cust.resolve("images/a.jpg"), new byte[]{1, 2, 3});
        String[] argv = {"synth", "--out", cust.toString(), "--train", "4", "--val", "2", "--size", "32"};
        String[] r = run(argv);
        userError(r, "--out " + cust, "labels.csv", "classes.txt", "--force");
        assertEquals("cat\ndog\n", Files.readString(cust.resolve("classes.txt")));
        assertEquals("image_id,classes\na,cat\n", Files.readString(cust.resolve("labels.csv")));
        assertFalse(Files.exists(cust.resolve("JPEGImages")), "nothing written");

        r = run("demo", "--data", cust.toString(), "--out", tmp.resolve("demo").toString());
        userError(r, "--data " + cust, "labels.csv", "classes.txt", "conta pipeline --data " + cust);
        assertEquals("cat\ndog\n", Files.readString(cust.resolve("classes.txt")));
        assertFalse(Files.exists(cust.resolve("JPEGImages")) || Files.exists(tmp.resolve("demo")), "nothing written");

        // a synthetic set again: its images are named
        assertEquals(0, Main.run(new String[]{"synth", "--out", tmp.resolve("s").toString(), "--train", "4", "--val", "2", "--size", "32"}));
        r = run("synth", "--out", tmp.resolve("s").toString(), "--train", "2", "--val", "1", "--size", "32");
        userError(r, "JPEGImages/syn_00000.jpg", "and ");
        // unrelated files only: nothing to overwrite
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("notes.txt"), "mine");
        assertEquals(0, Main.run(new String[]{"synth", "--out", other.toString(), "--train", "2", "--val", "1", "--size", "32"}));
        assertEquals("mine", Files.readString(other.resolve("notes.txt")));
        // --force overwrites
        assertEquals(0, Main.run(new String[]{"synth", "--out", cust.toString(), "--train", "2", "--val", "1", "--size", "32", "--force"}));
        assertTrue(Files.readString(cust.resolve("classes.txt")).contains("rider"));
    }
}
