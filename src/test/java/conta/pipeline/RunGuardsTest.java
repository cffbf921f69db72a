package conta.pipeline;

import conta.config.Config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.error.UserError;
import conta.io.Json;
import conta.synth.SynthGenerator;
import conta.tensor.cpu.CpuBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run is bound to its inputs and locked; --skip-bad lists each bad item once, at the end and in the report. */
class RunGuardsTest {
    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws Exception {
        data = tmp.resolve("synth");
        SynthGenerator.generate(data, new SynthGenerator.Config(5, 12, 4, 64, 0.8));
    }

    static Config cfg() {
        Config c = PipelineResumeTest.tiny();
        c.applySets(List.of("cls.epochs=2", "cam.scales=1.0", "cam.sweep=0.1:0.3:0.1", "ir.crf=false", "irn.epochs=1", "rw.exp_times=2", "seg.iters=1",
                "report.overlays=1"));
        return c;
    }

    static Path copyOf(Path src, Path dst) throws Exception {
        try (var s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dst;
    }

    static String firstTrainId(Path d) throws Exception {
        return Files.readAllLines(d.resolve("ImageSets/Segmentation/train.txt")).getFirst().strip();
    }

    /** Opens (and closes) a pipeline over d into out: the checks and config.json/inputs.json, no stage. */
    static void open(Config c, Path d, Path out) {
        try (CpuBackend b = new CpuBackend(); Pipeline p = new Pipeline(c, d, out, b)) {
            assertTrue(Files.isRegularFile(out.resolve("inputs.json")));
        }
    }

    @Test
    void aRerunWithOtherImagesIsRefusedNamingThem() throws Exception {
        Path other = copyOf(data, tmp.resolve("other-data"));
        Path out = tmp.resolve("bound");
        open(cfg(), data, out);
        Files.createDirectories(out.resolve("round0/cls")); // work made from the first data set
        open(cfg(), data, out); // the same inputs: resumes
        String id = firstTrainId(other);
        Path img = other.resolve("JPEGImages").resolve(id + ".jpg");
        Files.copy(other.resolve("JPEGImages").resolve(firstTrainIdOther(other, id) + ".jpg"), img, StandardCopyOption.REPLACE_EXISTING);
        UserError e = assertThrows(UserError.class, () -> open(cfg(), other, out));
        assertTrue(e.getMessage().contains("holds a run made from other inputs: data: 1 item(s) changed: " + id + " (JPEGImages/" + id + ".jpg content)")
                && e.getMessage().contains("--force-new-data"), e.getMessage());
        String before = Files.readString(out.resolve("inputs.json"));
        assertTrue(before.contains(data.resolve("JPEGImages").toAbsolutePath().toString()) && !before.contains(other.toAbsolutePath().toString()),
                "the refused run recorded nothing");
        // labels are part of the binding too: dropping an id is named
        Files.writeString(other.resolve("ImageSets/Segmentation/train.txt"),
                String.join("\n", Files.readAllLines(data.resolve("ImageSets/Segmentation/train.txt")).subList(1, 12)) + "\n");
        e = assertThrows(UserError.class, () -> open(cfg(), other, out));
        assertTrue(e.getMessage().contains("1 id(s) removed: " + id), e.getMessage());
        Config forced = cfg();
        forced.set("data.force_new", "true");
        open(forced, other, out); // accepted on request, and recorded
        open(cfg(), other, out);
        open(cfg(), other, tmp.resolve("bound-new")); // or a new OUT
    }

    /**
     * A rerun is compared with the recipe by value: the same seed, threshold, scale list, sweep or switch written another
     * way (00, .15, 1.00, 0.30, no for false) was "another configuration" once a stage using it had finished, and the
     * advice was a new --out or redoing the stage. A value that differs is still refused.
     */
    @Test
    void theSameValueWrittenAnotherWayResumes() throws Exception {
        Path out = tmp.resolve("same-value");
        open(cfg(), data, out);
        Files.createDirectories(out.resolve("round0/cls")); // the classifier's work begun: seed and data.* are bound now
        for (String stage : new String[]{"cam", "ir"}) // finished stages: cam.* and ir.* are bound too
            Files.writeString(Files.createDirectories(out.resolve("round0").resolve(stage)).resolve("done.json"), "{}");
        Config spelt = cfg();
        spelt.applySets(List.of("seed=00", "cam.bg_threshold=.15", "cam.scales=1.00", "cam.sweep=0.1:0.30:0.10", "ir.crf=no", "ir.fg_threshold=3e-1"));
        open(spelt, data, out); // refused before: "another configuration (seed 0 -> 00 (round0/cls finished), cam.bg_threshold 0.15 -> .15 ...)"
        Config other = cfg();
        other.set("cam.bg_threshold", "0.2");
        UserError e = assertThrows(UserError.class, () -> open(other, data, out));
        assertTrue(e.getMessage().contains("another configuration (cam.bg_threshold 0.15 -> 0.2 (round0/cam finished))"), e.getMessage());
    }

    /**
     * --precision auto is recorded as what it resolves to on the host (bf16 with AMX, else fp32): resumed with auto on a
     * host of the other kind, a run whose stages finished in one precision is refused, naming auto and the way on
     * (before, config.json said "auto" and the later stages silently ran in the other precision). Simulated here by a
     * recipe recorded as the precision auto does not resolve to on this host.
     */
    @Test
    void precisionAutoIsRecordedResolved() throws Exception {
        Path out = tmp.resolve("auto-precision");
        Config auto = cfg();
        auto.set("precision", "auto");
        open(auto, data, out);
        String here = conta.infer.Precision.AUTO.decide().name().toLowerCase(java.util.Locale.ROOT), other = here.equals("bf16") ? "fp32" : "bf16";
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"precision\": \"" + here + "\""), Files.readString(out.resolve("config.json")));
        Files.createDirectories(out.resolve("round0/cls"));
        Files.writeString(Files.createDirectories(out.resolve("round0/cam")).resolve("done.json"), "{}"); // a stage finished in that precision
        open(auto, data, out); // the same host: resumes
        Files.writeString(out.resolve("config.json"), Files.readString(out.resolve("config.json"))
                .replace("\"precision\": \"" + here + "\"", "\"precision\": \"" + other + "\"")); // begun on a host of the other kind
        UserError e = assertThrows(UserError.class, () -> open(auto, data, out));
        assertTrue(e.getMessage().contains("precision " + other + " -> " + here + " (round0/")
                && e.getMessage().contains(" finished; --precision auto is " + here + " on this CPU, --precision " + other + " goes on as the run began)"),
                e.getMessage());
        Config asBegun = cfg();
        asBegun.set("precision", other);
        open(asBegun, data, out);
        Files.writeString(out.resolve("config.json"), Files.readString(out.resolve("config.json"))
                .replace("\"precision\": \"" + other + "\"", "\"precision\": \"auto\"")); // a folder from before this was recorded
        open(auto, data, out);
    }

    /** An empty held-out split is said at the start (the report only said "no ground-truth masks" after the whole run). */
    @Test
    void anEmptyHeldOutSplitIsNamed() throws Exception {
        Path d = copyOf(data, tmp.resolve("empty-val"));
        Path list = d.resolve("ImageSets/Segmentation/val.txt");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(list), "a VOC-layout test set");
        Files.writeString(list, "");
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.err;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            open(cfg(), d, tmp.resolve("empty-val-out"));
        } finally {
            System.setErr(old);
        }
        assertTrue(err.toString(java.nio.charset.StandardCharsets.UTF_8).contains("note: split val of " + d + " has no images: the segmentation model"
                + " is trained but not scored"), err.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** OUT as the data folder or its image folder is refused before anything is written there (robustness probe). */
    @Test
    void outIsNotTheDataFolder() throws Exception {
        Path d = copyOf(data, tmp.resolve("data-as-out"));
        List<String> before;
        try (var s = Files.walk(d)) {
            before = s.map(Path::toString).sorted().toList();
        }
        Path images = Files.isDirectory(d.resolve("images")) ? d.resolve("images") : d.resolve("JPEGImages");
        Path masks = Files.isDirectory(d.resolve("masks")) ? d.resolve("masks") : d.resolve("SegmentationClass");
        assertTrue(Files.isDirectory(masks), "the test set has masks");
        boolean hadImages = Files.exists(d.resolve("images"));
        Path coco = Files.createDirectories(d.resolve("images/train2017")); // COCO's layout: a split's images one level down
        Files.copy(Files.list(images).filter(f -> f.toString().endsWith(".png") || f.toString().endsWith(".jpg")).findFirst().orElseThrow(),
                coco.resolve("x.jpg"));
        for (Path out : List.of(d, d.resolve("x/..")))
            assertTrue(assertThrows(UserError.class, () -> open(cfg(), d, out)).getMessage().startsWith("--out " + out + " is the data folder"), out.toString());
        for (Path out : List.of(images, masks, coco))
            assertTrue(assertThrows(UserError.class, () -> open(cfg(), d, out)).getMessage().startsWith("--out " + out + " is a folder of the data's"), out.toString());
        Files.delete(coco.resolve("x.jpg"));
        Files.delete(coco);
        if (!hadImages) Files.delete(d.resolve("images"));
        try (var s = Files.walk(d)) {
            assertEquals(before, s.map(Path::toString).sorted().toList(), "nothing written into the data folder");
        }
        open(cfg(), d, d.resolve("runs/a")); // a folder of its own inside the data folder is the user's choice
    }

    /**
     * conta.rounds counts CONTA's rounds: a cam run (round 0 only) with its classifier finished resumes under another
     * --rounds (refused before as "another configuration (conta.rounds 3 -> 2 (round0/cls finished))"); its recipe keeps
     * the recorded value. A CONTA run's fewer rounds are still refused there.
     */
    @Test
    void roundsDoNotBindARunWithoutContaRounds() throws Exception {
        Path out = tmp.resolve("cam-rounds");
        Config cam = cfg();
        cam.set("method", "cam");
        open(cam, data, out);
        Files.createDirectories(out.resolve("round0/cls")); // the classifier's work begun: keys every stage uses are bound
        Config two = cfg();
        two.applySets(List.of("method=cam", "conta.rounds=2"));
        open(two, data, out);
        assertEquals("3", String.valueOf(conta.io.Json.readObject(out.resolve("config.json"), "").get("conta.rounds")));
        // conta.rounds=0 makes a CONTA run one round long, but it still binds (review: it was taken for a method without
        // rounds, the recipe kept 3 and the run went on with round 0 only)
        for (String n : List.of("2", "0")) {
            Path c = tmp.resolve("conta-rounds-" + n);
            Config conta = cfg();
            conta.set("method", "conta");
            open(conta, data, c);
            Files.createDirectories(c.resolve("round0/cls"));
            Config fewer = cfg();
            fewer.applySets(List.of("method=conta", "conta.rounds=" + n));
            UserError e = assertThrows(UserError.class, () -> open(fewer, data, c));
            assertTrue(e.getMessage().contains("conta.rounds 3 -> " + n + " (round0/cls finished)"), e.getMessage());
        }
    }

    /**
     * An image that went bad after a stage finished: the error's advice, a rerun with --skip-bad (and --force-new-data
     * for the changed item), is accepted and keeps the finished stage (data.skip_bad is not part of the recipe).
     */
    @Test
    void skipBadMayBeTurnedOnForAResumeWithoutLosingFinishedStages() throws Exception {
        Path out = tmp.resolve("skip-later");
        open(cfg(), data, out);
        Files.createDirectories(out.resolve("round0/cls")); // the classifier's work (a stage begun counts as using data.*)
        Files.writeString(out.resolve("round0/cls/checkpoint.note"), "work");
        Config skipping = cfg();
        skipping.set("data.skip_bad", "true");
        open(skipping, data, out); // refused before: "another configuration (data.skip_bad false -> true (round0/cls finished))"
        assertTrue(Files.isRegularFile(out.resolve("round0/cls/checkpoint.note")), "the classifier's work is kept");
    }

    /**
     * The same images in another folder layout (VOC's JPEGImages/ -> a custom set's images/): the refusal says the
     * path changed with the same content, not that the content changed; an image also changed says both.
     */
    @Test
    void aMovedImageIsNamedAsAnotherPathNotAnotherContent() throws Exception {
        Path custom = tmp.resolve("custom-layout");
        Files.createDirectories(custom);
        copyOf(data.resolve("JPEGImages"), custom.resolve("images"));
        copyOf(data.resolve("SegmentationClass"), custom.resolve("masks"));
        copyOf(data.resolve("ImageSets/Segmentation"), custom.resolve("splits"));
        Files.copy(data.resolve("classes.txt"), custom.resolve("classes.txt"));
        Files.copy(data.resolve("labels.csv"), custom.resolve("labels.csv"));
        Path out = tmp.resolve("moved");
        open(cfg(), data, out);
        Files.createDirectories(out.resolve("round0/cls"));
        String id = firstTrainId(data);
        UserError e = assertThrows(UserError.class, () -> open(cfg(), custom, out));
        assertTrue(e.getMessage().contains(id + " (JPEGImages/" + id + ".jpg -> images/" + id + ".jpg: same content, another path)"), e.getMessage());
        assertFalse(e.getMessage().contains(".jpg content)"), "not called a content change: " + e.getMessage());
        Files.copy(custom.resolve("images").resolve(firstTrainIdOther(data, id) + ".jpg"), custom.resolve("images").resolve(id + ".jpg"),
                StandardCopyOption.REPLACE_EXISTING);
        e = assertThrows(UserError.class, () -> open(cfg(), custom, out));
        assertTrue(e.getMessage().contains(id + " (JPEGImages/" + id + ".jpg -> images/" + id + ".jpg, other content)"), e.getMessage());
        // a path with a space, and a file that could not be read
        assertEquals("my imgs/a.jpg -> b.jpg: same content, another path", RunInputs.firstDifference("labels 1 | my imgs/a.jpg 10 ab12", "labels 1 | b.jpg 10 ab12"));
        assertEquals("a.jpg content", RunInputs.firstDifference("labels 1 | a.jpg 10 ab12", "labels 1 | a.jpg unreadable (gone)"));
        assertEquals("labels 1 -> labels 1,2", RunInputs.firstDifference("labels 1 | a.jpg 10 ab12", "labels 1,2 | a.jpg 10 ab12"));
    }

    /** A refused run removes the folders its lock created for a new OUT, and only those, and only while empty. */
    @Test
    void aRefusedRunRemovesOnlyTheEmptyFoldersItCreated() throws Exception {
        Path out = tmp.resolve("made/by/lock");
        Path top = Pipeline.firstMissing(out);
        assertEquals(tmp.resolve("made").toAbsolutePath().normalize(), top);
        Files.createDirectories(out);
        Pipeline.removeCreated(out, top);
        assertFalse(Files.exists(tmp.resolve("made")), "all three created levels removed");
        Files.createDirectories(out);
        Files.writeString(tmp.resolve("made/by/other.txt"), "someone else's");
        Pipeline.removeCreated(out, top);
        assertFalse(Files.exists(out));
        assertTrue(Files.isRegularFile(tmp.resolve("made/by/other.txt")), "a folder holding other files is kept");
        Pipeline.removeCreated(data, Pipeline.firstMissing(data)); // an OUT that existed before: nothing to remove
        assertTrue(Files.isDirectory(data.resolve("JPEGImages")));
    }

    private static String firstTrainIdOther(Path d, String not) throws Exception {
        return Files.readAllLines(d.resolve("ImageSets/Segmentation/train.txt")).stream().map(String::strip).filter(s -> !s.equals(not)).findFirst().orElseThrow();
    }

    @Test
    void stagesWrittenByAnotherContaVersionAreNamed() throws Exception {
        Path out = tmp.resolve("bound-v");
        open(cfg(), data, out);
        Files.createDirectories(out.resolve("round0/cls"));
        Path f = out.resolve("inputs.json");
        Files.writeString(f, Files.readString(f).replace("\"stage_versions\": {}", "\"stage_versions\": {\"round0/cls\": \"0.0.1\"}"));
        UserError e = assertThrows(UserError.class, () -> open(cfg(), data, out));
        assertTrue(e.getMessage().contains("round0/cls was written by conta 0.0.1, this is conta " + RunInputs.version()), e.getMessage());
    }

    @Test
    void aChangedWeightsFileIsRefused() throws Exception {
        Path w = tmp.resolve("w.safetensors");
        Config c = cfg();
        try (CpuBackend b = new CpuBackend(); var seg = conta.wsss.SegStage.build(c, conta.data.Datasets.open(data, false).numClasses() + 1, b)) {
            conta.io.Safetensors.write(w, seg.backbone.exportState()); // a file that fits seg's backbone (checked at start-up)
        }
        c.set("seg.weights", w.toString());
        Path out = tmp.resolve("bound-w");
        open(c, data, out);
        Files.createDirectories(out.resolve("round0/cls"));
        byte[] b = Files.readAllBytes(w);
        b[b.length - 1] ^= 1;
        Files.write(w, b);
        UserError e = assertThrows(UserError.class, () -> open(c, data, out));
        assertTrue(e.getMessage().contains("seg.weights file changed"), e.getMessage());
    }

    @Test
    void aSecondRunOnTheSameOutIsRefusedNamingTheHolder() throws Exception {
        Path out = tmp.resolve("locked");
        try (CpuBackend b = new CpuBackend(); Pipeline first = new Pipeline(cfg(), data, out, b)) {
            String holder = Files.readString(out.resolve("run.lock"));
            assertTrue(holder.startsWith(ProcessHandle.current().pid() + " "), holder);
            UserError e = assertThrows(UserError.class, () -> Methods.run(cfg(), data, out, b));
            assertTrue(e.getMessage().contains("is in use by another run (PID " + ProcessHandle.current().pid() + " on " + RunLock.host()), e.getMessage());
        }
        assertFalse(Files.exists(out.resolve("run.lock")), "released at the end");
        // another live process holds it
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        try {
            Files.writeString(out.resolve("run.lock"), sleeper.pid() + " " + RunLock.host() + " 2026-01-01T00:00:00Z");
            UserError e = assertThrows(UserError.class, () -> open(cfg(), data, out));
            assertTrue(e.getMessage().contains("PID " + sleeper.pid() + " on " + RunLock.host()), e.getMessage());
        } finally {
            sleeper.destroy();
            sleeper.waitFor();
        }
        // the same process, now dead: a stale lock, taken over with a message
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err));
        try {
            open(cfg(), data, out);
        } finally {
            System.setErr(old);
        }
        assertTrue(err.toString().contains("taking over the stale lock") && err.toString().contains("PID " + sleeper.pid()), err.toString());
        assertFalse(Files.exists(out.resolve("run.lock")));
    }

    @Test
    void twoConcurrentRunsOneWins() throws Exception {
        Path out = tmp.resolve("race");
        List<Object> results = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1), opened = new java.util.concurrent.CountDownLatch(2);
        List<Thread> ts = new java.util.ArrayList<>();
        List<Pipeline> open = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        CpuBackend b = new CpuBackend();
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    open.add(new Pipeline(cfg(), data, out, b));
                    results.add("ok");
                } catch (Exception e) {
                    results.add(e);
                } finally {
                    opened.countDown();
                }
            });
            t.start();
            ts.add(t);
        }
        go.countDown();
        opened.await();
        open.forEach(Pipeline::close);
        b.close();
        assertEquals(2, results.size());
        assertEquals(1, results.stream().filter("ok"::equals).count(), results.toString());
        Object e = results.stream().filter(r -> !"ok".equals(r)).findFirst().orElseThrow();
        assertTrue(e instanceof UserError u && u.getMessage().contains("is in use by another run"), String.valueOf(e));
    }

    /**
     * The custom-layout case: an unknown class (e) and a missing image (f) dropped while opening, a mask of
     * the wrong size (c) and a truncated JPEG (d): 4 distinct items, listed once although both splits are checked.
     */
    @Test
    void eachBadItemIsCountedOnce() throws Exception {
        Path r = tmp.resolve("custom");
        Files.createDirectories(r.resolve("images"));
        Files.writeString(r.resolve("classes.txt"), "background\ncat\ndog\n");
        Files.writeString(r.resolve("labels.csv"), "image_id,classes\na,cat;dog\nb,dog\nc,dog\nd,cat\ne,unicorn\nf,cat\n");
        for (String id : List.of("a", "b", "c", "e")) conta.image.ImageCodec.writeJpeg(r.resolve("images/" + id + ".jpg"), image(id.hashCode()), 90);
        byte[] full = conta.image.ImageCodec.encodeJpeg(image(4), 90);
        Files.write(r.resolve("images/d.jpg"), java.util.Arrays.copyOf(full, full.length - 100));
        conta.image.IndexPng.write(r.resolve("masks/c.png"), new conta.image.Mask(10, 30, new byte[300]));
        Config c = cfg();
        c.applySets(List.of("data.train=all", "data.val=all", "data.skip_bad=true"));
        try (CpuBackend b = new CpuBackend(); Pipeline p = new Pipeline(c, r, tmp.resolve("custom-out"), b)) {
            assertEquals(List.of("e", "f", "c", "d"), p.badItems().list().stream().map(conta.data.BadItem::id).toList());
            assertEquals(List.of("a", "b"), p.trainIds());
        }
    }

    static conta.image.RgbImage image(int seed) {
        byte[] px = new byte[20 * 30 * 3];
        new java.util.Random(seed).nextBytes(px);
        return new conta.image.RgbImage(20, 30, px);
    }

    /**
     * Two items bad from the start (a mask value outside the classes, a zero-byte image) and one image deleted during
     * the run (after the classifier's first epoch): each is listed once, after the last stage, and in report.json and
     * report.html; the scores leave them out. Without --skip-bad the deleted image stops the run.
     */
    @SuppressWarnings("unchecked")
    @Test
    void skipBadListsEachItemOnceAtTheEndAndInTheReport() throws Exception {
        Path d = tmp.resolve("bad-data"); // a smaller set than the others: this test runs every stage
        SynthGenerator.generate(d, new SynthGenerator.Config(5, 8, 3, 48, 0.8));
        List<String> train = Files.readAllLines(d.resolve("ImageSets/Segmentation/train.txt")).stream().map(String::strip).toList();
        List<String> val = Files.readAllLines(d.resolve("ImageSets/Segmentation/val.txt")).stream().map(String::strip).toList();
        conta.image.Mask m = conta.image.IndexPng.read(d.resolve("SegmentationClass").resolve(train.get(0) + ".png"));
        byte[] px = new byte[m.h() * m.w()];
        java.util.Arrays.fill(px, (byte) 50);
        conta.image.IndexPng.write(d.resolve("SegmentationClass").resolve(train.get(0) + ".png"), new conta.image.Mask(m.h(), m.w(), px));
        Files.write(d.resolve("JPEGImages").resolve(val.get(0) + ".jpg"), new byte[0]);
        Path late = d.resolve("JPEGImages").resolve(train.getLast() + ".jpg");
        Path out = tmp.resolve("skip");
        Config c = cfg();
        c.applySets(List.of("data.skip_bad=true", "cls.crop=48", "cls.resize_long=40,56", "irn.crop=48", "seg.crop=48"));
        Thread deleter = new Thread(() -> { // the classifier checkpoints after its first epoch: the image goes then
            try {
                while (!Files.exists(out.resolve("round0/cls/checkpoint.safetensors"))) Thread.sleep(5);
                Files.delete(late);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        deleter.setDaemon(true);
        deleter.start();
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true));
        Map<String, Object> report;
        try (CpuBackend b = new CpuBackend()) {
            report = Methods.run(c, d, out, b);
        } finally {
            System.setErr(old);
        }
        deleter.join(1000);
        System.out.println("skip-bad run timings (s): " + Json.writePretty(report.get("timings")));
        String log = err.toString();
        int at = log.lastIndexOf("skipped 3 bad item(s)");
        assertTrue(at >= 0, "3 distinct items, each once:\n" + log);
        assertEquals(at, log.indexOf("skipped 3 bad item(s)"), "printed once");
        assertTrue(log.indexOf("predict") < at, "after the last stage");
        assertEquals(3, log.substring(at).lines().skip(1).filter(l -> l.startsWith("  ")).count(), log.substring(at));
        List<Object> sk = (List<Object>) report.get("skipped");
        assertEquals(List.of(train.get(0), val.get(0), train.getLast()), sk.stream().map(o -> ((Map<String, Object>) o).get("id")).toList());
        assertTrue(String.valueOf(sk.get(0)).contains("holds value 50") && String.valueOf(sk.get(0)).contains("allowed values 0..7"), sk.toString());
        assertTrue(String.valueOf(sk.get(1)).contains("empty file"), sk.toString());
        assertTrue(String.valueOf(sk.get(2)).contains("does not exist"), sk.toString());
        String json = Files.readString(out.resolve("report.json"));
        assertEquals(Json.writePretty(report.get("skipped")), Json.writePretty(Json.parseObject(json).get("skipped")));
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<h2 id='skipped'>skipped items (3)</h2>") && html.contains(train.getLast()), "report.html lists them");
        assertEquals(7, ((Number) report.get("train_images")).intValue(), "8 train ids less the one refused up front");
        Map<String, Object> cam = (Map<String, Object>) ((Map<String, Object>) report.get("stages")).get("cam");
        assertTrue(cam.get("miou") instanceof Number, "the CAMs were scored without the deleted image");

        // without --skip-bad an image that goes missing during the run stops it (here: before the CAM loop reads it)
        try (CpuBackend b = new CpuBackend(); Pipeline p = new Pipeline(cfg(), data, tmp.resolve("strict"), b)) {
            Path gone = tmp.resolve("gone.jpg");
            String id = firstTrainId(data);
            Files.move(data.resolve("JPEGImages").resolve(id + ".jpg"), gone);
            try {
                conta.data.DataError e = assertThrows(conta.data.DataError.class, () -> p.readOrSkip(id));
                assertTrue(e.getMessage().contains(id + ".jpg") && e.getMessage().contains("does not exist"), e.getMessage());
            } finally {
                Files.move(gone, data.resolve("JPEGImages").resolve(id + ".jpg"));
            }
        }
    }
}
