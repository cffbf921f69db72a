package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.synth.SynthGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run refused for bad input (data, weights files, OUT's recipe or inputs, its damaged files) exits 2 with one line
 * naming the file or key and the fix, and leaves OUT exactly as it was: --from removes nothing, a new OUT is not
 * created, a finished run keeps every file.
 */
class RefusedRunTest {
    @TempDir static Path tmp;
    static Path data, other, conf, finished;

    /** A ~10 s recipe: every stage on 64 px images. */
    static final String TINY = """
            device = cpu
            cls.width = 8
            cls.blocks = 1,1,1,1
            cls.weights = none
            cls.head_init = kaiming
            cls.crop = 64
            cls.resize_long = 48,64
            cls.batch = 4
            cls.epochs = 1
            cls.frozen_stages = 0
            cls.momentum = 0.9
            cls.lr = 0.05
            cam.scales = 1.0
            irn.arch = resnet50-os16
            irn.width = 8
            irn.blocks = 1,1,1,1
            irn.weights = cls
            irn.crop = 64
            irn.radius = 3
            irn.batch = 4
            irn.epochs = 1
            rw.exp_times = 2
            ir.crf_iters = 1
            seg.width = 8
            seg.blocks = 1,1,1,1
            seg.weights = none
            seg.crop = 64
            seg.batch = 2
            seg.iters = 2
            seg.checkpoint_every = 1
            report.overlays = 2
            data.workers = 1
            """;

    @BeforeAll
    static void finishedRun() throws Exception {
        data = tmp.resolve("synth");
        SynthGenerator.generate(data, new SynthGenerator.Config(1, 8, 4, 64, 0.8));
        other = tmp.resolve("synth-other"); // the same ids, other images
        SynthGenerator.generate(other, new SynthGenerator.Config(2, 8, 4, 64, 0.8));
        conf = tmp.resolve("tiny.conf");
        Files.writeString(conf, TINY);
        finished = tmp.resolve("finished");
        ModelCommandErrorsTest.Result r = pipeline(data, finished);
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(finished.resolve("report.json")));
    }

    /** conta pipeline --data d --out o --config tiny.conf extra... */
    static ModelCommandErrorsTest.Result pipeline(Path d, Path o, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("pipeline", "--data", d.toString(), "--out", o.toString(), "--config", conf.toString()));
        a.addAll(List.of(extra));
        return ModelCommandErrorsTest.run(a.toArray(String[]::new));
    }

    /** A copy of the finished run to refuse things on. */
    static Path copy(String name) throws Exception { return copyTree(finished, tmp.resolve(name)); }

    /** src's files and folders copied into dst (a run folder to break without touching the original). */
    static Path copyTree(Path src, Path dst) throws Exception {
        try (var s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return dst;
    }

    /** Every file under dir (relative path) with a hash of its bytes. */
    static Map<String, String> tree(Path dir) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (var s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                String rel = dir.relativize(p).toString();
                if (Files.isDirectory(p)) m.put(rel + "/", "");
                else m.put(rel, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return m;
    }

    // ------------------------------------------------------------------ defect 1: --from removes nothing when refused

    /**
     * --from after --until: the run removed the finished run's cam, ir, irn, pseudo, seg and pred outputs and its report,
     * then stopped at once ("stopped after round0/cls (--until)") with nothing recomputed. Refused now, removing nothing.
     */
    @Test
    void fromAfterUntilIsRefusedAndRemovesNothing() throws Exception {
        Path o = copy("from-after-until");
        Map<String, String> before = tree(o);
        assertTrue(before.containsKey("round0/cam/") && before.containsKey("round0/seg/model.safetensors"), before.keySet().toString());
        ErrorContractTest.userError(pipeline(data, o, "--from", "cam", "--until", "cls"), "--from round0/cam", "--until round0/cls");
        assertEquals(before, tree(o), "nothing removed");
        ErrorContractTest.userError(pipeline(data, o, "--from", "round0/pred", "--until", "round0/seg"), "--from round0/pred");
        assertEquals(before, tree(o), "nothing removed");
        assertEquals(0, pipeline(data, o, "--from", "pred", "--until", "pred").code(), "--from and --until of one stage redo it");
    }

    @Test
    void fromRemovesNothingWhenTheRunIsRefused() throws Exception {
        Path o = copy("from-refused");
        Map<String, String> before = tree(o);
        assertTrue(before.containsKey("round0/seg/model.safetensors") && before.containsKey("report.html"), before.keySet().toString());
        Path rand = tmp.resolve("rand.pth");
        byte[] junk = new byte[4096];
        new java.util.Random(3).nextBytes(junk);
        Files.write(rand, junk);

        ErrorContractTest.userError(pipeline(tmp.resolve("nope"), o, "--from", "seg"), "nope", "does not exist");
        assertEquals(before, tree(o), "a missing data folder removes nothing");
        ErrorContractTest.userError(pipeline(other, o, "--from", "seg"), o.toString(), "holds a run made from other inputs", "--force-new-data");
        assertEquals(before, tree(o), "other data removes nothing");
        ErrorContractTest.userError(pipeline(data, o, "--from", "cls", "--set", "cls.weights=" + rand), "cls.weights", rand.toString(), "cls.weights=none");
        assertEquals(before, tree(o), "an unreadable weights file removes nothing");
        ErrorContractTest.userError(pipeline(data, o, "--from", "seg", "--set", "ir.fg_threshold=0.4"), o.toString(), "ir.fg_threshold",
                "round0/ir finished");
        assertEquals(before, tree(o), "a recipe change of a stage that --from keeps removes nothing");

        // a change of a stage that --from redoes is accepted: that stage and the later ones are recomputed, the others kept
        ModelCommandErrorsTest.Result r = pipeline(data, o, "--from", "seg", "--until", "seg", "--set", "seg.lr=0.02");
        assertEquals(0, r.code(), r.err());
        Map<String, String> after = tree(o);
        for (String f : List.of("round0/cls/model.safetensors", "round0/irn/model.safetensors", "round0/pseudo/done.json"))
            assertEquals(before.get(f), after.get(f), f + " kept");
        assertTrue(after.containsKey("round0/seg/done.json") && !after.containsKey("round0/pred/done.json") && !after.containsKey("report.json"),
                after.keySet().toString());
    }

    // ------------------------------------------------------------------ defect 22: nothing written for a bad weights file

    @Test
    void anUnreadableWeightsFileWritesNothing() throws Exception {
        Path rand = tmp.resolve("rand2.safetensors");
        Files.write(rand, new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        Path o = tmp.resolve("new-runs").resolve("r");
        for (String key : List.of("cls.weights", "seg.weights", "irn.weights")) {
            ErrorContractTest.userError(pipeline(data, o, "--set", key + "=" + rand), key, rand.toString());
            assertFalse(Files.exists(tmp.resolve("new-runs")), key + ": nothing written, not even OUT's folder");
        }
    }

    /**
     * A readable file made for another network (deeper: its extra blocks would be dropped silently; shallower: missing
     * blocks) is refused at start-up naming the keys to change, not when its stage starts after the earlier ones.
     */
    @Test
    void weightsOfAnotherNetworkAreRefusedBeforeAnyStage() throws Exception {
        Path deep = backboneFile("deep.safetensors", "2,1,1,1"), shallow = backboneFile("shallow.safetensors", "1,1,1,1");
        Path o = tmp.resolve("new-runs-fit").resolve("r");
        ErrorContractTest.userError(pipeline(data, o, "--set", "cls.weights=" + deep), "cls.weights", deep.toString(),
                "backbone tensors this network lacks", "layer1.1.", "cls.arch, cls.width and cls.blocks");
        ErrorContractTest.userError(pipeline(data, o, "--set", "irn.weights=" + deep), "irn.weights", "irn.arch, irn.width and irn.blocks");
        ErrorContractTest.userError(pipeline(data, o, "--set", "seg.weights=" + shallow, "--set", "seg.blocks=1,2,1,1"), "seg.weights",
                "lacks", "layer2.1.", "seg.width and seg.blocks");
        assertFalse(Files.exists(tmp.resolve("new-runs-fit")), "nothing written, not even OUT's folder");
    }

    /**
     * The start-up check reads a weights file only while a stage of the run will load it: a file damaged after every
     * stage using it finished no longer stops a rerun that keeps those stages (it did, although nothing reads it), and
     * is still refused at start-up when --from redoes its stage.
     */
    @Test
    void aWeightsFileIsCheckedOnlyWhileAStageWillLoadIt() throws Exception {
        Path w = backboneFile("fits.safetensors", "1,1,1,1"), o = tmp.resolve("with-weights");
        ModelCommandErrorsTest.Result first = pipeline(data, o, "--set", "cls.weights=" + w);
        assertEquals(0, first.code(), first.err());
        Files.write(w, java.util.Arrays.copyOf(Files.readAllBytes(w), 1000)); // damaged after its stage finished
        ModelCommandErrorsTest.Result kept = pipeline(data, o, "--set", "cls.weights=" + w, "--force-new-data");
        assertEquals(0, kept.code(), kept.err());
        Map<String, String> before = tree(o);
        ErrorContractTest.userError(pipeline(data, o, "--set", "cls.weights=" + w, "--force-new-data", "--from", "cls"), "cls.weights", w.toString());
        assertEquals(before, tree(o), "refused before --from removed anything");
    }

    /** The backbone tensors of a width-8 classifier with the given blocks, as a safetensors file. */
    private static Path backboneFile(String name, String blocks) throws Exception {
        conta.config.Config c = new conta.config.Config();
        c.set("cls.arch", "resnet50");
        c.set("cls.width", "8");
        c.set("cls.blocks", blocks);
        c.set("cls.weights", "none"); // torchvision layout (imagenet would build the npm Keras one, with conv biases)
        Path f = tmp.resolve(name);
        try (conta.tensor.Backend cpu = new conta.tensor.cpu.CpuBackend(); conta.models.ResNet net = conta.wsss.ClassifierStage.build(c, 7, 0, cpu)) {
            conta.io.Safetensors.write(f, net.exportState());
        }
        return f;
    }

    // ------------------------------------------------------------------ defect 7: irn.radius too large for irn.crop

    @Test
    void anIrnRadiusTooLargeForTheCropIsRefusedBeforeAnyStage() {
        Path o = tmp.resolve("radius");
        ErrorContractTest.userError(pipeline(data, o, "--set", "irn.radius=10"), "irn.crop = 64", "irn.radius = 10", "at least 73", "at most 8");
        assertFalse(Files.exists(o), "refused at the config check: nothing written");
    }

    // ------------------------------------------------------------------ defects 5, 6: compare checks first, advises keeping results

    @Test
    void compareChecksMethodsAndStagesBeforeRunningAnything() {
        Path o = tmp.resolve("cmp-refused");
        String[] common = {"compare", "--data", data.toString(), "--out", o.toString(), "--config", conf.toString(), "--seeds", "1"};
        ErrorContractTest.userError(run(common, "--methods", "cam,frob"), "--methods cam,frob", "'frob' is not a method", "conta+c2am");
        ErrorContractTest.userError(run(common, "--methods", "cam,cam"), "--methods cam,cam", "listed twice");
        ErrorContractTest.userError(run(common, "--methods", "cam,"), "--methods cam,", "comma-separated list");
        ErrorContractTest.userError(run(common, "--methods", "cam,c2am", "--until", "c2am"), "--until c2am", "c2am stage exists only with");
        ErrorContractTest.userError(run(common, "--methods", "cam,conta", "--set", "cls.weights=" + tmp.resolve("missing.pth")), "cls.weights",
                "missing.pth");
        assertFalse(Files.exists(o), "no method's pipeline ran, nothing was written");
        ErrorContractTest.userError(run(new String[]{"compare", "--data", data.toString(), "--out", o.toString(), "--tables-only"}, "--methods", "cam,frob"),
                "--methods cam,frob");
    }

    @Test
    void aComparisonOfAnotherRecipeAdvisesTheSeedsOwnSettings() throws Exception {
        Path o = tmp.resolve("cmp-tables");
        Path report = o.resolve("cam").resolve("seed0").resolve("report.json");
        Files.createDirectories(report.getParent());
        Files.copy(finished.resolve("report.json"), report); // a finished seed kept as its result file
        String[] tables = {"compare", "--data", data.toString(), "--out", o.toString(), "--methods", "cam", "--seeds", "1", "--tables-only"};
        ErrorContractTest.userError(run(tables), report.toString(), "cls.width = 8", "this comparison has 64",
                "pass the --config, --demo and --set the seeds were run with");
        assertTrue(Files.isRegularFile(report), "the finished result is kept");
        ErrorContractTest.userError(run(new String[]{"compare", "--data", data.toString(), "--out", o.toString(), "--methods", "cam", "--seeds", "1"}),
                "cls.width = 8", "pass the --config");
        assertTrue(Files.isRegularFile(report), "refused before any seed ran");
        ModelCommandErrorsTest.Result r = run(tables, "--config", conf.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(o.resolve("comparison.md")));
    }

    /** compare's --from would redo the stage in every seed: its refusals say how to redo the one seed instead. */
    @Test
    void aDamagedSeedUnderCompareIsNamedWithThatSeedsOwnRedo() throws Exception {
        Path seed = copy("cmp-live/cam/seed0"), cmp = tmp.resolve("cmp-live");
        Path done = seed.resolve("round0/cls/done.json");
        Files.writeString(done, "{\"broken");
        ErrorContractTest.userError(run(new String[]{"compare", "--data", data.toString(), "--out", cmp.toString(), "--config", conf.toString(),
                        "--methods", "cam", "--seeds", "1"}), done.toString(), "--from round0/cls", "compare --from would redo it in every seed",
                "conta pipeline --data " + data + " --out " + seed + " --method cam --seed 0");
        assertEquals("{\"broken", Files.readString(done), "nothing touched");
    }

    // ------------------------------------------------------------------ defect 8: damaged JSON files of a run

    @Test
    void damagedJsonFilesOfARunAreNamedWithTheFix() throws Exception {
        Path o = copy("damaged-json");
        for (String f : List.of("config.json", "round0/cls/done.json", "round0/pseudo/done.json")) {
            Path file = o.resolve(f);
            byte[] good = Files.readAllBytes(file);
            for (byte[] bad : List.of("{\"broken".getBytes(), new byte[0], "[1, 2]".getBytes(), new byte[]{(byte) 0xff, (byte) 0xfe, 0})) {
                Files.write(file, bad);
                Map<String, String> before = tree(o);
                ModelCommandErrorsTest.Result r = pipeline(data, o, "--until", "cam");
                if (f.equals("config.json")) // the finished run has a report.json, which keeps the recipe
                    ErrorContractTest.userError(r, file.toString(), "is damaged", "delete it and rerun with --config " + o.resolve("report.json"));
                else ErrorContractTest.userError(r, file.toString(), "is damaged", "delete it to redo", "--from " + f.replace("/done.json", ""));
                assertEquals(before, tree(o), f + ": nothing written or removed");
            }
            Files.write(file, good);
        }
        // export-onnx --run reads the run's config.json back too
        Path cfg = o.resolve("config.json");
        byte[] good = Files.readAllBytes(cfg);
        Files.writeString(cfg, "{\"broken");
        ErrorContractTest.userError(ModelCommandErrorsTest.run("export-onnx", "--run", o.toString(), "--stage", "seg", "--out", tmp.resolve("x.onnx").toString()),
                cfg.toString(), "is damaged", "delete it and rerun", "--config " + o.resolve("report.json"));
        assertFalse(Files.exists(tmp.resolve("x.onnx")));
        Files.write(cfg, good);

        // --from a stage whose done.json is damaged is the fix: it is not read
        Files.writeString(o.resolve("round0/seg/done.json"), "{\"broken");
        ModelCommandErrorsTest.Result r = pipeline(data, o, "--from", "seg", "--until", "seg");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(o.resolve("round0/seg/done.json")).contains("\"steps\""));

        Path report = tmp.resolve("cmp-damaged").resolve("cam").resolve("seed0").resolve("report.json");
        Files.createDirectories(report.getParent());
        Files.writeString(report, "{\"rounds\": [");
        ErrorContractTest.userError(run(new String[]{"compare", "--data", data.toString(), "--out", tmp.resolve("cmp-damaged").toString(), "--methods", "cam",
                "--seeds", "1", "--config", conf.toString(), "--tables-only"}), report.toString(), "is damaged", "delete it and run `conta compare` without --tables-only");
        assertEquals("{\"rounds\": [", Files.readString(report));
    }

    // ------------------------------------------------------------------ defect 29: damaged checkpoints and stage models

    @Test
    void damagedCheckpointsAndModelsNameTheFileAndTheStageToRedo() throws Exception {
        Path o = copy("damaged-weights");
        byte[] junk = new byte[3000];
        new java.util.Random(5).nextBytes(junk);
        // a finished stage's model, cut off or random: named before anything is written or removed, fixed by --from that stage
        for (String f : List.of("round0/cls/model.safetensors", "round0/irn/model.safetensors", "round0/seg/model.safetensors")) {
            Path file = o.resolve(f);
            byte[] good = Files.readAllBytes(file);
            String stage = f.replace("/model.safetensors", "");
            for (byte[] bad : List.of(java.util.Arrays.copyOf(good, good.length / 2), junk)) {
                Files.write(file, bad);
                Map<String, String> before = tree(o);
                ModelCommandErrorsTest.Result r = pipeline(data, o, "--from", "pred");
                ErrorContractTest.userError(r, file.toString(), "is damaged", "rerun with --from " + stage);
                assertFalse(r.err().contains("download"), r.err());
                assertEquals(before, tree(o), f + ": --from pred removed nothing");
            }
            // missing while a stage of this run loads it: named before --from removes anything
            Files.delete(file);
            String next = Map.of("round0/cls", "cam", "round0/irn", "pseudo", "round0/seg", "pred").get(stage);
            Map<String, String> before = tree(o);
            ErrorContractTest.userError(pipeline(data, o, "--from", next), file.toString(), "is missing", "rerun with --from " + stage);
            assertEquals(before, tree(o), f + " missing: --from " + next + " removed nothing");
            Files.write(file, good);
        }
        // a finished run whose models were deleted (to save space) still makes its report: no stage loads them
        Path kept = copy("models-deleted");
        for (String f : List.of("round0/cls/model.safetensors", "round0/irn/model.safetensors", "round0/seg/model.safetensors"))
            Files.delete(kept.resolve(f));
        ModelCommandErrorsTest.Result done = pipeline(data, kept);
        assertEquals(0, done.code(), done.err());
        // a killed segmentation training: its checkpoint is resumed, so a damaged one says how to restart that training
        for (String f : List.of("round0/seg/done.json", "round0/seg/model.safetensors", "round0/pred", "round0/report_pred", "report.json", "report.html"))
            try (var w = Files.walk(o.resolve(f))) {
                for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
            }
        Path ckpt = o.resolve("round0/seg/checkpoint.safetensors");
        byte[] good = Files.readAllBytes(ckpt);
        for (byte[] bad : List.of(java.util.Arrays.copyOf(good, good.length - 100), junk)) {
            Files.write(ckpt, bad);
            Map<String, String> before = tree(o);
            ModelCommandErrorsTest.Result r = pipeline(data, o);
            ErrorContractTest.userError(r, ckpt.toString(), "is damaged", "delete it to restart this training from its first step", "--from round0/seg");
            assertFalse(r.err().contains("download"), r.err());
            assertEquals(before, tree(o), "nothing written");
        }
        Files.delete(ckpt); // the advice works
        ModelCommandErrorsTest.Result r = pipeline(data, o);
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(o.resolve("report.json")));
    }

    static ModelCommandErrorsTest.Result run(String[] argv, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of(argv));
        a.addAll(List.of(extra));
        return ModelCommandErrorsTest.run(a.toArray(String[]::new));
    }

    // ------------------------------------------------------------------ damaged outputs of finished stages

    /**
     * A damaged or missing file of a finished stage (disk fault, hand edit) is exit 2 naming the file and the --from that
     * recomputes it (deleting the file does not: the stage is marked done), not an internal error; that --from works.
     */
    @Test
    void damagedOutputOfAFinishedStageNamesTheStageToRedo() throws Exception {
        Path o = copy("damaged-cam");
        Path cam;
        try (var s = Files.list(o.resolve("round0/cam"))) {
            cam = s.filter(f -> f.toString().endsWith(".npz")).sorted().findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(cam);
        Files.write(cam, java.util.Arrays.copyOf(b, b.length / 2)); // cut short
        ErrorContractTest.userError(pipeline(data, o, "--from", "ir"), cam.toString(), "round 0's cam stage", "--from round0/cam");
        Files.delete(cam);
        ErrorContractTest.userError(pipeline(data, o, "--from", "ir"), cam + " is missing", "--from round0/cam");
        ModelCommandErrorsTest.Result r = pipeline(data, o, "--from", "round0/cam");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(cam) > 0 && Files.isRegularFile(o.resolve("report.json")));

        // the report's overlays read the first training images' pseudo-masks: was "internal error" (exit 1)
        Path p = copy("damaged-pseudo");
        Path png;
        try (var s = Files.list(p.resolve("round0/pseudo"))) {
            png = s.filter(f -> f.toString().endsWith(".png")).sorted().findFirst().orElseThrow();
        }
        Files.write(png, new byte[]{1, 2, 3});
        ModelCommandErrorsTest.Result bad = pipeline(data, p, "--from", "seg");
        ErrorContractTest.userError(bad, png.toString(), "--from round0/pseudo");
        assertFalse(bad.err().contains("re-export"), "a dataset mask's fix is not the fix for conta's own output: " + bad.err());
    }

    /** A NaN after a checkpoint written at a run-away loss: the pipeline names the --from that starts the stage again. */
    @Test
    void aDivergedStageWhoseCheckpointRanAwayNamesItsFrom() throws Exception {
        Path o = copy("diverged");
        // seg.lr 0.3: losses 7.9, 3e4, 4e32, NaN at step 4; a checkpoint after every step (seg.checkpoint_every = 1)
        ModelCommandErrorsTest.Result r = pipeline(data, o, "--from", "seg", "--set", "seg.lr=0.3", "--set", "seg.iters=40");
        ErrorContractTest.userError(r, "segmentation: loss became NaN", "resuming from it cannot help", "rerun with --from round0/seg");
        assertTrue(Files.isRegularFile(o.resolve("round0/pseudo/done.json")), "earlier stages kept");
    }

    /** A CONTA round's trained W1/W2 (cls/context.safetensors) deleted: refused with the --from, not CAMs from the untrained init. */
    @Test
    void aMissingContextOfAFinishedConTaClassifierIsRefused() throws Exception {
        Path o = tmp.resolve("conta-run");
        assertEquals(0, pipeline(data, o, "--method", "conta", "--rounds", "1", "--until", "round1/cls").code());
        Path ctx = o.resolve("round1/cls/context.safetensors");
        Files.delete(ctx);
        ErrorContractTest.userError(pipeline(data, o, "--method", "conta", "--rounds", "1"), ctx.toString(), "is missing", "--from round1/cls");
        assertEquals(0, pipeline(data, o, "--method", "conta", "--rounds", "1", "--from", "round1/cls", "--until", "round1/cam").code());
        assertTrue(Files.isRegularFile(ctx));
    }

    /** demo takes --from / --until like pipeline (its damaged-file messages name them). */
    @Test
    void demoTakesFromAndUntil() {
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("demo", "--out", tmp.resolve("d").toString(), "--data", tmp.resolve("d-synth").toString(),
                "--from", "frob");
        ErrorContractTest.userError(r, "--from frob", "unknown stage");
        assertFalse(r.err().contains("add it to"), r.err());
        assertFalse(Files.exists(tmp.resolve("d")) || Files.exists(tmp.resolve("d-synth")), "refused before the synthetic set is generated");
    }

    /** A finished run whose model was deleted (space) still reruns, and says what predict/export will need. */
    @Test
    void aDeletedModelThatNoStageNeedsIsAllowedAndSaid() throws Exception {
        Path o = copy("deleted-model");
        Path model = o.resolve("round0/seg/model.safetensors");
        Files.delete(model);
        ModelCommandErrorsTest.Result r = pipeline(data, o);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("note: " + model + " is missing") && r.err().contains("--from round0/seg recomputes it"), r.err());
    }
}
