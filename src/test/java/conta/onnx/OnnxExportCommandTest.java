package conta.onnx;

import static conta.onnx.OrtCheck.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import conta.autograd.Tape;
import conta.cli.Main;
import conta.io.Json;
import conta.io.Safetensors;
import conta.models.DeepLabV2;
import conta.models.Models;
import conta.models.Network;
import conta.models.ResNet;
import conta.config.Config;
import conta.tensor.Backend;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import conta.train.Checkpoint;
import conta.wsss.ClassifierStage;
import conta.wsss.SegStage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `conta export-onnx` end to end: from a run folder laid out as the pipeline writes it (config.json from the config's
 * map, roundT/STAGE/model.safetensors by Checkpoint.save, the pipeline's own calls) and from --arch/--weights.
 */
class OnnxExportCommandTest {
    @TempDir Path dir;
    final Backend cpu = new CpuBackend();

    private Config tinyConfig() {
        Config c = new Config();
        c.set("cls.width", "8");
        c.set("cls.blocks", "1,1,1,1");
        c.set("seg.width", "8");
        c.set("seg.blocks", "1,1,1,1");
        c.set("seg.weights", "none"); // a tiny depth: the ImageNet weights are ResNet-50's
        c.set("seg.msc", "0.5,0.75");
        return c;
    }

    private static int cli(String... args) { return Main.run(args); }

    @Test
    void exportsTheSegAndClsStagesOfARun() throws Exception {
        Config cfg = tinyConfig();
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve("config.json"), Json.writePretty(new LinkedHashMap<>(cfg.asMap())));
        float[] img = OrtCheck.random(3 * 70 * 90, 3);
        Map<String, float[]> expected = new LinkedHashMap<>();
        try (DeepLabV2 seg = SegStage.build(cfg, 6, cpu); ResNet cls = ClassifierStage.build(cfg, 5, 0, cpu)) {
            OrtCheck.randomiseBatchNorm(seg, 1);
            OrtCheck.randomiseBatchNorm(cls, 2);
            Checkpoint.save(run.resolve("round1/seg/model.safetensors"), seg, null, new Checkpoint.Position(1, 0, 0), Map.of("stage", "segmentation"));
            Checkpoint.save(run.resolve("round0/cls/model.safetensors"), cls, null, new Checkpoint.Position(1, 0, 0), Map.of("stage", "classifier"));
            seg.train(false);
            cls.train(false);
            try (Tape t = Tape.open(false)) {
                Tensor x = Tape.track(Tensor.of(cpu, img, 1, 3, 70, 90));
                expected.put("seg", seg.forward(x).toArray());
                expected.put("cls", cls.forward(x).toArray());
            }
        }
        Path segOnnx = dir.resolve("seg.onnx"), clsOnnx = dir.resolve("cls.onnx");
        java.io.ByteArrayOutputStream said = new java.io.ByteArrayOutputStream();
        java.io.PrintStream oldErr = System.err;
        System.setErr(new java.io.PrintStream(said, true));
        try {
            assertEquals(0, cli("export-onnx", "--run", run.toString(), "--stage", "seg", "--out", segOnnx.toString())); // latest round: 1
        } finally {
            System.setErr(oldErr);
        }
        assertTrue(said.toString().contains("\ninput image: N x 3 x H x W float32, RGB / 255, minus mean (0.485, 0.456, 0.406), divided by std"
                + " (0.229, 0.224, 0.225) (metadata conta.input=imagenet; docs/onnx.md)"), said.toString());
        assertEquals(0, cli("export-onnx", "--run", run.toString(), "--stage", "cls", "--round", "0", "--out", clsOnnx.toString()));
        try (OrtSession s = OrtCheck.open(segOnnx)) {
            assertEquals("seg", s.getMetadata().getCustomMetadataValue("conta.stage").orElse(null));
            assertEquals("imagenet", s.getMetadata().getCustomMetadataValue("conta.input").orElse(null)); // seg.weights=none: RGB mean/std
            // the bundle description, as export --format onnx writes it: class names (generic here: no report.json) and palette
            var described = conta.wsss.Bundle.fromJson(conta.io.Json.parseObject(s.getMetadata().getCustomMetadataValue(conta.wsss.Bundle.META_KEY).orElseThrow()), "seg.onnx");
            assertEquals(java.util.List.of("background", "class1", "class2", "class3", "class4", "class5"), described.classNames());
            assertEquals("seg", described.stage());
            assertClose(expected.get("seg"), OrtCheck.run(s, Map.of("image", new long[]{1, 3, 70, 90}), Map.of("image", img)).get("logits"), "run seg logits");
        }
        try (OrtSession s = OrtCheck.open(clsOnnx)) {
            assertClose(expected.get("cls"), OrtCheck.run(s, Map.of("image", new long[]{1, 3, 70, 90}), Map.of("image", img)).get("logits"), "run cls logits");
        }
    }

    /** A CONTA round's classifier (context M at blocks 3 and 5): K is read off the weights, M becomes the input "context". */
    @Test
    void exportsAContextClassifierOfARun() throws Exception {
        Config cfg = tinyConfig();
        cfg.set("conta.blocks", "3,5");
        Path run = dir.resolve("ctxrun");
        Files.createDirectories(run);
        Files.writeString(run.resolve("config.json"), Json.writePretty(new LinkedHashMap<>(cfg.asMap())));
        float[] img = OrtCheck.random(3 * 66 * 74, 7), ctx = OrtCheck.random(4 * 9 * 11, 8), expected;
        try (ResNet cls = ClassifierStage.build(cfg, 5, 4, cpu)) {
            OrtCheck.randomiseBatchNorm(cls, 9);
            Checkpoint.save(run.resolve("round2/cls/model.safetensors"), cls, null, new Checkpoint.Position(1, 0, 0), Map.of("stage", "classifier"));
            cls.train(false);
            try (Tape t = Tape.open(false)) {
                expected = cls.forward(Tape.track(Tensor.of(cpu, img, 1, 3, 66, 74)), Tape.track(Tensor.of(cpu, ctx, 1, 4, 9, 11))).toArray();
            }
        }
        Path out = dir.resolve("ctx.onnx");
        assertEquals(0, cli("export-onnx", "--run", run.toString(), "--stage", "cls", "--out", out.toString()));
        try (OrtSession s = OrtCheck.open(out)) {
            assertEquals(java.util.List.of("image", "context"), java.util.List.copyOf(s.getInputNames()));
            float[] got = OrtCheck.run(s, Map.of("image", new long[]{1, 3, 66, 74}, "context", new long[]{1, 4, 9, 11}),
                    Map.of("image", img, "context", ctx)).get("logits");
            assertClose(expected, got, "context classifier logits");
        }
    }

    @Test
    void exportsAnArchitectureWithAWeightsFile() throws Exception {
        Path weights = dir.resolve("w.safetensors"), out = dir.resolve("r18.onnx");
        float[] img = OrtCheck.random(2 * 3 * 48 * 40, 4), expected;
        try (Network net = Models.build("resnet18", new Models.Options(8, null, 7, null, null, null, 5L), cpu)) {
            OrtCheck.randomiseBatchNorm(net, 6);
            Safetensors.write(weights, net.module().exportState(), Map.of());
            net.module().train(false);
            try (Tape t = Tape.open(false)) {
                expected = net.forward(Tape.track(Tensor.of(cpu, img, 2, 3, 48, 40))).toArray();
            }
        }
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream(), e = new java.io.ByteArrayOutputStream();
        java.io.PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new java.io.PrintStream(o, true));
        System.setErr(new java.io.PrintStream(e, true));
        try {
            assertEquals(0, cli("export-onnx", "--arch", "resnet18", "--width", "8", "--classes", "7", "--weights", weights.toString(), "--out", out.toString()));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        // as `conta export` does: its "wrote" line is a message, on stderr, and stdout stays empty
        assertEquals("", o.toString());
        assertTrue(e.toString().startsWith("wrote " + out + " (opset "), e.toString());
        assertTrue(e.toString().contains("\ninput image: N x 3 x H x W float32, preprocessed as the weights were trained (not recorded for --arch"),
                e.toString()); // what the graph's input wants is said (the fresh-user probe of session 26 had to find docs/onnx.md)
        try (OrtSession s = OrtCheck.open(out)) {
            assertEquals("resnet18", s.getMetadata().getCustomMetadataValue("conta.arch").orElse(null));
            assertClose(expected, OrtCheck.run(s, Map.of("image", new long[]{2, 3, 48, 40}), Map.of("image", img)).get("logits"), "resnet18 logits");
        }
    }

    @Test
    void userErrorsExitWithCode2AndOneLine() throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            assertEquals(2, cli("export-onnx", "--run", dir.resolve("nothing").toString(), "--stage", "seg", "--out", dir.resolve("x.onnx").toString()));
            assertTrue(buf.toString().contains("no config.json"), buf.toString()); // not a run: no round folders either
            assertEquals(2, cli("export-onnx", "--arch", "resnet18", "--weights", dir.resolve("missing.safetensors").toString(), "--out", dir.resolve("x.onnx").toString()));
            assertTrue(buf.toString().contains("missing.safetensors"), buf.toString());
            assertEquals(2, cli("export-onnx", "--out", dir.resolve("x.onnx").toString()));
            assertTrue(buf.toString().contains("give --run OUT --stage seg|cls (a pipeline run) or --arch ARCH --weights F; conta export-onnx --help"), buf.toString());
            assertEquals(2, cli("export-onnx", "--run", "r", "--arch", "resnet18", "--out", dir.resolve("x.onnx").toString()));
            assertTrue(buf.toString().contains("give --run or --arch, not both"), buf.toString());
        } finally {
            System.setErr(err);
        }
        assertTrue(!Files.exists(dir.resolve("x.onnx")));
    }
}
