package conta.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OrtSession;
import conta.autograd.Tape;
import conta.models.Network;
import conta.tensor.Tensor;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.BundleModel;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `conta export --format onnx` on a run the pipeline wrote (its bundle-described seg model): ONNX Runtime gives the
 * logits of the network conta loads from the same bundle, and the model carries the bundle's description.
 */
class ExportFormatOnnxTest {
    @TempDir Path dir;

    @Test
    void exportFormatOnnxOfAPipelineRunMatchesConta() throws Exception {
        Path run = conta.api.TinyRun.out();
        Path f = dir.resolve("seg.onnx");
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", run.toString(), "--stage", "seg", "--out", f.toString(), "--format", "onnx"}));
        int h = 48, w = 56;
        float[] img = OrtCheck.random(3 * h * w, 5), expected;
        try (CpuBackend cpu = new CpuBackend(); BundleModel m = BundleModel.open(run, "seg", null, cpu)) {
            m.network().train(false);
            Network net = (Network) m.network();
            try (Tape t = Tape.open(false)) {
                expected = net.forward(Tape.track(Tensor.of(cpu, img, 1, 3, h, w))).toArray();
            }
        }
        try (OrtSession s = OrtCheck.open(f)) {
            assertEquals("seg", s.getMetadata().getCustomMetadataValue("conta.stage").orElse(null));
            assertEquals("imagenet", s.getMetadata().getCustomMetadataValue("conta.input").orElse(null)); // the tiny run: seg.weights=none
            OrtCheck.assertClose(expected, OrtCheck.run(s, Map.of("image", new long[]{1, 3, h, w}), Map.of("image", img)).get("logits"),
                    "export --format onnx: seg logits");
        }
    }
}
