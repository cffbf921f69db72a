package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.config.Config;
import conta.io.Json;
import conta.synth.SynthGenerator;
import conta.tensor.cpu.CpuBackend;
import conta.train.Faults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline on a tiny synthetic set: it runs every stage, writes a report with every stage's mIoU, and a run
 * killed again and again (at training steps and at images of every stage) and rerun each time ends with the same
 * report as an uninterrupted run.
 */
public class PipelineResumeTest {
    @TempDir static Path tmp;
    static Path data;

    public static Config tiny() {
        Config c = new Config();
        String[] kv = {"cls.width=8", "cls.blocks=1,1,1,1", "cls.weights=none", "cls.crop=64", "cls.resize_long=56,72", "cls.batch=8",
                "cls.epochs=2", "cls.frozen_stages=0", "cls.momentum=0.9", "cls.lr=0.05", "cam.scales=1.0,1.5", "cam.sweep=0.05:0.5:0.05",
                "ir.crf_iters=3", "irn.width=8", "irn.blocks=1,1,1,1", "irn.weights=cls", "irn.arch=resnet50-os16", "irn.crop=64", "irn.batch=8",
                "irn.epochs=1", "irn.radius=5", "rw.exp_times=4", "seg.width=8", "seg.blocks=1,1,1,1", "seg.weights=none", "seg.crop=64", "seg.batch=4",
                "seg.iters=6", "seg.lr=0.01", "seg.checkpoint_every=2", "data.workers=1", "report.overlays=2"};
        c.applySets(java.util.List.of(kv));
        return c;
    }

    @BeforeAll
    static void makeData() throws Exception {
        data = tmp.resolve("synth");
        SynthGenerator.generate(data, new SynthGenerator.Config(5, 24, 8, 64, 0.8));
    }

    @SuppressWarnings("unchecked")
    static String withoutTimings(Map<String, Object> r) {
        Map<String, Object> m = new LinkedHashMap<>(r);
        m.remove("timings");
        return Json.writePretty(m);
    }

    /**
     * Runs the recipe into {@code out} again and again, each attempt killed at tick {@code first + step * attempt} of
     * that attempt, until one finishes; asserts it finished within {@code attempts} and was killed at least 5 times.
     */
    static Map<String, Object> killedUntilDone(Config c, Path out, int first, int step, int attempts) throws Exception {
        int kills = 0;
        Map<String, Object> resumed = null;
        for (int attempt = 0; attempt < attempts && resumed == null; attempt++) {
            Faults.reset();
            System.setProperty("conta.test.killAt", Integer.toString(first + step * attempt));
            try (CpuBackend b = new CpuBackend()) {
                resumed = Methods.run(c, data, out, b);
            } catch (Faults.Killed e) {
                kills++;
            } finally {
                System.clearProperty("conta.test.killAt");
            }
        }
        assertNotNull(resumed, "the run finished");
        assertTrue(kills >= 5, "killed " + kills + " times on the way");
        return resumed;
    }

    @SuppressWarnings("unchecked")
    @Test
    void killedAnywhereAndRerunGivesTheSameReport() throws Exception {
        Path a = tmp.resolve("straight");
        Map<String, Object> ref;
        try (CpuBackend b = new CpuBackend()) {
            ref = Methods.run(tiny(), data, a, b);
        }
        Map<String, Object> stages = (Map<String, Object>) ref.get("stages");
        for (String s : new String[]{"cam", "pseudo", "seg"}) {
            Object m = ((Map<String, Object>) stages.get(s)).get("miou");
            assertNotNull(m, s + " has an mIoU");
            assertTrue(((Number) m).doubleValue() >= 0 && ((Number) m).doubleValue() <= 1, s + " mIoU is a fraction");
        }
        assertTrue(Files.size(a.resolve("report.html")) > 1000);

        Map<String, Object> resumed = killedUntilDone(tiny(), tmp.resolve("killed"), 5, 9, 60);
        assertEquals(withoutTimings(ref), withoutTimings(resumed));
    }

    /** CONTA round 1 (confounders, attention, context-fed classifier) and C²AM fine-tuning, killed again and again. */
    @Test
    void causalRoundsKilledAndRerunGiveTheSameReport() throws Exception {
        Config c = tiny();
        c.set("method", "conta+c2am");
        c.set("conta.rounds", "1");
        c.set("conta.confounder_source", "pseudo");
        c.set("c2am.epochs", "1");
        Map<String, Object> ref;
        try (CpuBackend b = new CpuBackend()) {
            ref = Methods.run(c, data, tmp.resolve("causal-straight"), b);
        }
        assertTrue(withoutTimings(ref).contains("round1"), "the report has round 1");
        Path k = tmp.resolve("causal-killed");
        Map<String, Object> resumed = killedUntilDone(c, k, 7, 17, 80);
        assertTrue(Files.isDirectory(k.resolve("round1").resolve("cls")), "round 1 ran");
        assertEquals(withoutTimings(ref), withoutTimings(resumed));
    }

    @Test
    void aFolderOfAnotherRecipeIsRefused() throws Exception {
        Path o = tmp.resolve("other");
        Files.createDirectories(o);
        Config c = tiny();
        Files.writeString(o.resolve("config.json"), "{\"cls.epochs\": \"7\"}");
        Files.createDirectories(o.resolve("round0").resolve("cls"));
        Files.writeString(o.resolve("round0").resolve("cls").resolve("done.json"), "{}");
        conta.io.Safetensors.write(o.resolve("round0").resolve("cls").resolve("model.safetensors"), Map.of()); // a finished stage has its model
        try (CpuBackend b = new CpuBackend()) {
            var e = assertThrows(conta.error.UserError.class, () -> new Pipeline(c, data, o, b));
            assertTrue(e.getMessage().contains("cls.epochs 7 -> 2 (round0/cls finished)"), e.getMessage());
            // a key whose stages have not run yet may change (the fix for a NaN in a later stage)
            Files.writeString(o.resolve("config.json"), "{\"cls.epochs\": \"2\", \"seg.lr\": \"0.5\", \"data.resize\": \"pil\"}");
            new Pipeline(c, data, o, b).close(); // releases OUT's lock
            // a folder from before data.resize existed resized with OpenCV: resuming it with Pillow's resizing is refused
            Files.writeString(o.resolve("config.json"), "{\"cls.epochs\": \"2\"}");
            e = assertThrows(conta.error.UserError.class, () -> new Pipeline(c, data, o, b));
            assertTrue(e.getMessage().contains("data.resize opencv -> pil (round0/cls finished)"), e.getMessage());
            // a folder from before infer.plan_context made its context classifiers' CAMs with the forward: resuming is
            // fine while only round 0 (no context) has CAMs, refused once a round >= 1 has
            Files.writeString(o.resolve("config.json"), "{\"cls.epochs\": \"2\", \"data.resize\": \"pil\", \"infer.plan\": \"true\"}");
            Files.createDirectories(o.resolve("round0").resolve("cam"));
            Files.writeString(o.resolve("round0").resolve("cam").resolve("done.json"), "{}");
            new Pipeline(c, data, o, b).close();
            Files.writeString(o.resolve("config.json"), "{\"cls.epochs\": \"2\", \"data.resize\": \"pil\", \"infer.plan\": \"true\"}");
            Files.createDirectories(o.resolve("round1").resolve("cam"));
            Files.writeString(o.resolve("round1").resolve("cam").resolve("done.json"), "{}");
            e = assertThrows(conta.error.UserError.class, () -> new Pipeline(c, data, o, b));
            assertTrue(e.getMessage().contains("infer.plan_context false -> true (round1/cam finished)"), e.getMessage());
        }
    }

    /**
     * CONTA with M at every block (conta.blocks=all) end to end: round 1's classifier has the context convs (layer2..4's
     * first block and the head take k = 1 more input channel), trains with the default-style frozen stages (layer2.0's
     * context convs train inside the frozen layer2), gives CAMs, and the boundary net starts from its backbone.
     */
    @SuppressWarnings("unchecked")
    @Test
    void contaAtEveryBlockRunsEndToEnd() throws Exception {
        Config c = tiny();
        c.applySets(java.util.List.of("method=conta", "conta.rounds=1", "conta.blocks=all", "conta.confounder_source=pseudo", "cls.frozen_stages=2",
                "cls.epochs=1", "cam.scales=1.0", "seg.iters=2"));
        Path o = tmp.resolve("conta-all");
        Map<String, Object> r;
        try (CpuBackend b = new CpuBackend()) {
            r = Methods.run(c, data, o, b);
        }
        var rounds = (java.util.List<Object>) r.get("rounds");
        assertEquals(2, rounds.size());
        Map<String, Object> cam = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) rounds.get(1)).get("stages")).get("cam");
        double miou = ((Number) cam.get("miou")).doubleValue();
        assertTrue(miou >= 0 && miou <= 1, "round 1 CAM mIoU " + miou);
        var w0 = conta.io.Safetensors.read(o.resolve("round0/cls/model.safetensors"));
        var w1 = conta.io.Safetensors.read(o.resolve("round1/cls/model.safetensors"));
        // resnet50-os16 at width 8: stage outputs 32, 64, 128, 256; round 0 has no context
        String[] convs = {"layer2.0.conv1.weight", "layer2.0.downsample.0.weight", "layer3.0.conv1.weight", "layer3.0.downsample.0.weight",
            "layer4.0.conv1.weight", "layer4.0.downsample.0.weight", "classifier.weight"};
        int[] in = {32, 32, 64, 64, 128, 128, 256};
        for (int i = 0; i < convs.length; i++) {
            assertEquals(in[i], w0.get(convs[i]).shape()[1], convs[i]);
            assertEquals(in[i] + 1, w1.get(convs[i]).shape()[1], convs[i]);
        }
        assertEquals(w0.get("layer2.0.conv2.weight").shape()[1], w1.get("layer2.0.conv2.weight").shape()[1], "other convs are unchanged");
        assertTrue(Files.isRegularFile(o.resolve("round1/cam/done.json")) && Files.isRegularFile(o.resolve("round1/irn/done.json")));

        // the mechanism numbers of report.json: W1's change recomputed here from the saved attention and its seeded init
        Map<String, Object> mech = (Map<String, Object>) ((Map<String, Object>) r.get("mechanism")).get("round1");
        var ctx = conta.io.Safetensors.read(o.resolve("round1/cls/context.safetensors"));
        var w1saved = ctx.containsKey("w1") ? ctx.get("w1") : ctx.get("context.w1");
        float[] w = w1saved.data();
        int side = (int) Math.round(Math.sqrt(w1saved.shape()[1]));
        assertEquals(7, w1saved.shape()[0], "W1 is d x hw with d = n = 7 classes");
        float[] w0init;
        try (CpuBackend b = new CpuBackend(); var a = new conta.causal.ContextAttention(b, 7, side, side, 7, conta.causal.ContextAttention.Mode.ATTENTION)) {
            a.init(c.integer("seed") + 1000L);
            w0init = a.w1.toArray();
        }
        assertEquals(w0init.length, w.length);
        double d = 0, n = 0;
        for (int i = 0; i < w.length; i++) { d += Math.pow(w[i] - w0init[i], 2); n += Math.pow(w0init[i], 2); }
        assertEquals(Math.sqrt(d / n), ((Number) mech.get("w1_change")).doubleValue(), 1e-9);
        assertTrue(((Number) mech.get("w1_change")).doubleValue() > 0, "W1 trained: " + mech);
        double ent = ((Number) mech.get("alpha_entropy")).doubleValue(), peak = ((Number) mech.get("alpha_max")).doubleValue();
        assertTrue(ent > 0 && ent <= 1 + 1e-9 && peak >= 1.0 / 7 - 1e-9 && peak <= 1, mech.toString());
        assertTrue(((Number) mech.get("m_spread")).doubleValue() >= 0 && ((Number) mech.get("context_weight")).doubleValue() > 0, mech.toString());
        var table = new java.io.ByteArrayOutputStream();
        Report.printTable(r, new java.io.PrintStream(table));
        assertTrue(table.toString().contains("CONTA's context per round") && table.toString().contains(
                String.format("round1  W1 %.4g", ((Number) mech.get("w1_change")).doubleValue())), table.toString());
    }

    @Test
    void mechanismHelpersOnHandWorkedCases() {
        // two images, two cells: sd of (1, 3) and (3, 5) is sqrt(2) each; mean |M| = 3
        assertEquals(Math.sqrt(2) / 3, CausalHooks.spread(new float[][]{{1, 3}, {3, 5}}), 1e-12);
        assertEquals(0, CausalHooks.spread(new float[][]{{2, 4}, {2, 4}}), 1e-12, "identical maps do not spread");
        // one class, inputs (1, -1 | 4): context mean |w| 4 over feature mean |w| 1
        assertEquals(4, CausalHooks.contextWeight(new float[]{1, -1, 4}, 1, 1), 1e-12);
        // ||(3, 4) - (0, 4)|| / ||(0, 4)|| = 3 / 4
        assertEquals(0.75, CausalHooks.relChange(new float[]{3, 4}, new float[]{0, 4}), 1e-12);
    }
}
