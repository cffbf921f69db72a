package conta.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.cli.Main;
import conta.image.IndexPng;
import conta.io.HostArray;
import conta.io.Npy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `conta predict` and `conta export` on a real (tiny) pipeline run: the label maps of the run's val images equal its
 * pred/ PNGs byte for byte, from the run folder and from an exported bundle; CAMs from the classifier bundle equal
 * the pipeline's CAM function; a corrupt image is named and, with --skip-bad, skipped and listed.
 */
class PredictCommandTest {
    @TempDir Path tmp;

    static List<String> predIds() throws Exception {
        List<String> ids = new ArrayList<>();
        try (var s = Files.list(TinyRun.pred())) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".png")).sorted().forEach(n -> ids.add(n.substring(0, n.length() - 4)));
        }
        assertTrue(ids.size() >= 4, "the run predicted its val images: " + ids);
        return ids;
    }

    static int conta(String... argv) { return Main.run(argv); }

    static String stderrOf(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString();
    }

    private void assertSameAsPred(Path outDir, List<String> ids) throws Exception {
        for (String id : ids)
            assertArrayEquals(Files.readAllBytes(TinyRun.pred().resolve(id + ".png")), Files.readAllBytes(outDir.resolve(id + ".png")), id);
    }

    @Test
    void runFolderReproducesPredByteForByte() throws Exception {
        List<String> ids = predIds();
        List<String> argv = new ArrayList<>(List.of("predict", "--model", TinyRun.out().toString(), "--out", tmp.resolve("p").toString(), "--device", "cpu",
                "--overlay", "--images"));
        for (String id : ids) argv.add(TinyRun.image(id).toString());
        assertEquals(0, conta(argv.toArray(String[]::new)));
        assertSameAsPred(tmp.resolve("p"), ids);
        var ov = javax.imageio.ImageIO.read(tmp.resolve("p").resolve(ids.getFirst() + "_overlay.png").toFile());
        assertTrue(ov.getWidth() > 64 && ov.getHeight() >= 64, "overlay with legend strip");
    }

    @Test
    void exportedBundleReproducesPredAndWritesCams() throws Exception {
        List<String> ids = predIds();
        Path seg = tmp.resolve("seg.safetensors"), cls = tmp.resolve("cls.safetensors");
        assertEquals(0, conta("export", "--run", TinyRun.out().toString(), "--stage", "seg", "--out", seg.toString()));
        assertEquals(0, conta("export", "--run", TinyRun.out().toString(), "--round", "0", "--stage", "cls", "--out", cls.toString()));
        // a folder of images: only the val ones, copied
        Path imgs = tmp.resolve("imgs");
        Files.createDirectories(imgs);
        for (String id : ids) Files.copy(TinyRun.image(id), imgs.resolve(id + ".jpg"));
        assertEquals(0, conta("predict", "--model", seg.toString(), "--images", imgs.toString(), "--out", tmp.resolve("b").toString(), "--device", "cpu"));
        assertSameAsPred(tmp.resolve("b"), ids);

        // the classifier with the last class's weights the negative of class 1's: its CAM, ReLU(-W1 f) normalised to its
        // own maximum, is high where class 1's map is low, while its logit is minus class 1's. Seeds over every class
        // (before) gave it the pixels around the objects; seeds over the classes scored >= 0.5 cannot.
        int n = conta.synth.SynthGenerator.classes().size() - 1;
        var bundle = conta.io.Safetensors.readAll(cls);
        HostArray w = bundle.tensors().get("classifier.weight");
        int f = w.data().length / n;
        for (int i = 0; i < f; i++) w.data()[(n - 1) * f + i] = -w.data()[i];
        cls = tmp.resolve("cls-neg.safetensors");
        conta.io.Safetensors.write(cls, bundle.tensors(), bundle.metadata());
        assertEquals(0, conta("predict", "--model", cls.toString(), "--images", imgs.toString(), "--out", tmp.resolve("c").toString(), "--device", "cpu"));
        // the same numbers as the pipeline's CAM function run on each image with all classes (through inference plans,
        // as the pipeline's cam stage and predict run it on the CPU); the class scores: the sigmoid of the classifier's
        // logits, checked against ONNX Runtime running the exported classifier on the preprocessed image; the seeds are
        // those of the classes scored >= 0.5 only
        Path onnx = tmp.resolve("cls.onnx");
        assertEquals(0, conta("export", "--model", cls.toString(), "--stage", "cls", "--format", "onnx", "--out", onnx.toString()));
        int gated = 0;
        try (var b = new conta.tensor.cpu.CpuBackend(); var net = conta.wsss.ClassifierStage.build(conta.pipeline.PipelineResumeTest.tiny(), n, 0, b);
             var plans = new conta.infer.PlanCache(net, conta.infer.PlanCache.Output.CAM, conta.infer.Precision.FP32, 4);
             var s = conta.onnx.OrtCheck.open(onnx)) {
            net.loadState(bundle.tensors(), true);
            for (String id : ids) {
                Map<String, HostArray> npz = Npy.readNpz(tmp.resolve("c").resolve(id + ".npz"));
                assertEquals(n, npz.get("keys").data().length, "every class's CAM");
                var im = conta.image.ImageCodec.read(TinyRun.image(id));
                var ref = conta.wsss.Cams.compute(net, conta.data.Preprocess.IMAGENET, im, java.util.stream.IntStream.rangeClosed(1, n).toArray(),
                        new double[]{1.0, 1.5}, null, conta.image.Resampling.PIL, plans);
                assertArrayEquals(ref.highRes(), npz.get("high_res").data());
                float[] logits = conta.onnx.OrtCheck.run(s, Map.of("image", new long[]{1, 3, im.h(), im.w()}),
                        Map.of("image", conta.data.Preprocess.IMAGENET.chw(im, false))).get("logits");
                float[] scores = npz.get("scores").data();
                assertEquals(n, scores.length);
                List<Integer> present = new ArrayList<>();
                for (int k = 0; k < n; k++) {
                    double p = 1 / (1 + Math.exp(-logits[k]));
                    assertEquals(p, scores[k], 1e-5 + 1e-4 * p, id + ": class " + (k + 1) + " probability");
                    if (scores[k] >= 0.5f) present.add(k + 1);
                }
                byte[] seeds = IndexPng.read(tmp.resolve("c").resolve(id + ".png")).data();
                assertArrayEquals(ref.only(present.stream().mapToInt(Integer::intValue).toArray()).seeds(0.15).data(), seeds, id);
                for (byte v : seeds) assertTrue(v == 0 || present.contains((int) v), id + ": seed class " + v + " not among the predicted " + present);
                if (!java.util.Arrays.equals(ref.seeds(0.15).data(), seeds)) gated++;
            }
        }
        assertTrue(gated > 0, "no image tells the seeds of all classes (before) from the predicted classes' seeds");
    }

    @Test
    void precisionFlag() throws Exception {
        List<String> ids = predIds();
        Path imgs = tmp.resolve("imgs-p");
        Files.createDirectories(imgs);
        Files.copy(TinyRun.image(ids.getFirst()), imgs.resolve(ids.getFirst() + ".jpg"));
        assertEquals(0, conta("predict", "--model", TinyRun.out().toString(), "--images", imgs.toString(), "--out", tmp.resolve("p16").toString(),
                "--device", "cpu", "--precision", "bf16"));
        assertTrue(Files.isRegularFile(tmp.resolve("p16").resolve(ids.getFirst() + ".png")));
        String run = TinyRun.out().toString();
        String err = stderrOf(() -> assertEquals(2, conta("predict", "--model", run, "--images", imgs.toString(),
                "--out", tmp.resolve("px").toString(), "--precision", "fp16")));
        assertTrue(err.contains("--precision") && err.contains("fp16"), err);
    }

    @Test
    void corruptImageIsNamedOrSkipped() throws Exception {
        List<String> ids = predIds();
        Path imgs = tmp.resolve("imgs");
        Files.createDirectories(imgs);
        Files.copy(TinyRun.image(ids.getFirst()), imgs.resolve("good.jpg"));
        byte[] jpg = Files.readAllBytes(TinyRun.image(ids.get(1)));
        Files.write(imgs.resolve("broken.jpg"), java.util.Arrays.copyOf(jpg, jpg.length / 2));
        String[] code = new String[1];
        String run = TinyRun.out().toString();
        String err = stderrOf(() -> code[0] = "" + conta("predict", "--model", run, "--images", imgs.toString(), "--out",
                tmp.resolve("x").toString(), "--device", "cpu"));
        assertEquals("2", code[0], err);
        assertTrue(err.contains("broken.jpg") && err.contains("--skip-bad"), err);
        err = stderrOf(() -> code[0] = "" + conta("predict", "--model", run, "--images", imgs.toString(), "--out",
                tmp.resolve("y").toString(), "--device", "cpu", "--skip-bad"));
        assertEquals("0", code[0], err);
        assertTrue(err.contains("skipped 1 image it could not use") && err.contains("broken.jpg"), err);
        assertTrue(Files.isRegularFile(tmp.resolve("y").resolve("good.png")));
        assertTrue(!Files.exists(tmp.resolve("y").resolve("broken.png")));
    }
}
