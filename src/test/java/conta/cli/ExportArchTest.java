package conta.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.data.Preprocess;
import conta.io.HostArray;
import conta.io.Npy;
import conta.models.Network;
import conta.tensor.cpu.CpuBackend;
import conta.wsss.BundleModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `conta export --arch deeplabv2-resnet101 --weights F`: a segmentation bundle from a checkpoint trained elsewhere. The
 * PyTorch fixture deeplab_w4_160 (a width-4 DeepLab-v2 with ASPP and MSC 0.5 / 0.75, its eval output from PyTorch)
 * goes in; the bundle must open, describe the network as exported, and compute PyTorch's output on PyTorch's input.
 */
class ExportArchTest {
    @TempDir Path tmp;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fixture() throws Exception {
        return (Map<String, Object>) ModelParityTest.cases().filter(a -> a.get()[0].equals("deeplab_w4_160")).findFirst().orElseThrow().get()[1];
    }

    /** Runs conta with stderr captured; returns {exit code, stderr}. */
    private static Object[] conta(String... argv) {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            return new Object[]{Main.run(argv), buf.toString()};
        } finally {
            System.setErr(err);
        }
    }

    @Test
    void aDeepLabCheckpointBecomesABundleThatComputesPyTorchsOutput() throws Exception {
        Map<String, Object> c = fixture();
        Path weights = ModelParityTest.dir(c).resolve("init.pth"), names = tmp.resolve("names.txt"), out = tmp.resolve("seg.safetensors");
        Files.writeString(names, "background\ncat\ndog\n\nhorse\nsheep\n"); // blank lines are skipped
        Object[] r = conta("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5",
                "--weights", weights.toString(), "--names", names.toString(), "--input", "raw", "--out", out.toString());
        assertEquals(0, r[0], (String) r[1]);
        HostArray x = Npy.read(ModelParityTest.dir(c).resolve("input.npy")), torch = Npy.read(ModelParityTest.dir(c).resolve("eval_out.npy"));
        try (BundleModel m = BundleModel.open(out, "seg", null, new CpuBackend())) {
            assertEquals("seg", m.bundle.stage());
            assertEquals(List.of("background", "cat", "dog", "horse", "sheep"), m.bundle.classNames());
            assertEquals(Preprocess.RAW, m.bundle.input());
            assertArrayEquals(new double[]{1, 0.5, 0.75}, m.bundle.scales(), "scale 1 and the fixture's MSC scales");
            assertFalse(m.bundle.flip());
            assertFalse(m.bundle.crfDefault(), "CRF off unless asked");
            float[] got = InferencePlanParityTest.graphForward((Network) m.network(), m.network().backend(), x);
            double e = ModelParityTest.relErr(got, torch.data());
            assertTrue(e <= ModelParityTest.TOL, "bundle network vs PyTorch relative error " + e);
        }
    }

    @Test
    void badArgumentsNameTheFlagAndExitWithTwo() throws Exception {
        Map<String, Object> c = fixture();
        String w = ModelParityTest.dir(c).resolve("init.pth").toString(), out = tmp.resolve("b.safetensors").toString();
        Object[] r = conta("export", "--arch", "resnet50", "--weights", w, "--out", out);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("export --run OUT --stage cls"), (String) r[1]);
        Path names = tmp.resolve("three.txt");
        Files.writeString(names, "background\na\nb\n");
        r = conta("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5", "--weights", w,
                "--names", names.toString(), "--out", out);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("lists 3 classes, the network has 5 outputs"), (String) r[1]);
        Files.writeString(names, "background\na\nb\nc\n"); // background first and one short: still a mistake
        r = conta("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5", "--weights", w,
                "--names", names.toString(), "--out", out);
        assertTrue(((String) r[1]).contains("lists 4 classes, the network has 5 outputs"), (String) r[1]);
        // a data set's classes.txt (background implicit) is one short: background is put first, said in a note
        Path classesTxt = tmp.resolve("classes.txt"), ok = tmp.resolve("ok.safetensors");
        Files.writeString(classesTxt, "a\nb\nc\nd\n");
        r = conta("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5", "--weights", w,
                "--names", classesTxt.toString(), "--out", ok.toString());
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("without background"), (String) r[1]);
        try (conta.api.ContaModel m = conta.api.ContaModel.open(ok, "cpu")) {
            assertEquals(java.util.List.of("background", "a", "b", "c", "d"), m.classNames());
        }
        r = conta("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5", "--weights", w,
                "--input", "bgr", "--out", out);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("--input must be caffe, imagenet or raw"), (String) r[1]);
        r = conta("export", "--arch", "deeplabv2-resnet101", "--out", out);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("needs --weights"), (String) r[1]);
        assertFalse(Files.exists(Path.of(out)), "nothing written on refusal");
    }

    /** The fixture exported as a bundle (width 4, 5 classes, MSC 0.5 / 0.75). */
    private Path exportFixture(String name) throws Exception {
        Path out = tmp.resolve(name);
        Object[] r = conta("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5",
                "--weights", ModelParityTest.dir(fixture()).resolve("init.pth").toString(), "--input", "raw", "--out", out.toString());
        assertEquals(0, r[0], (String) r[1]);
        return out;
    }

    /** Exit 2 with one line holding every string of mustContain, and out not written. */
    private static void refused(Object[] r, Path out, String... mustContain) {
        String err = (String) r[1];
        assertEquals(2, r[0], err);
        assertEquals(1, err.strip().lines().count(), "one line: " + err);
        for (String m : mustContain) assertTrue(err.contains(m), "'" + m + "' in: " + err);
        assertFalse(ErrorContractTest.CLASS_NAME.matcher(err).find(), "no Java class name in: " + err);
        assertFalse(Files.exists(out), "nothing written on refusal: " + out);
    }

    @Test
    void outOfRangeSizesScalesAndAnEmptyNamesFileAreRefused() throws Exception {
        String w = ModelParityTest.dir(fixture()).resolve("init.pth").toString();
        Path out = tmp.resolve("r.safetensors");
        String[] base = {"export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5", "--weights", w,
            "--out", out.toString()};
        for (String sc : new String[]{"-1", "0", "0.5,NaN", "5"})
            refused(conta(with(base, "--scales", sc)), out, "--scales", "each scale must be in (0, 4]");
        refused(conta(with(base, "--width", "0")), out, "--width must be in [1, 1024]", "got 0");
        refused(conta(with(base, "--classes", "-3")), out, "--classes must be in [1, 100000]", "got -3");
        Path empty = tmp.resolve("empty.txt"), blank = tmp.resolve("blank.txt");
        Files.writeString(empty, "");
        Files.writeString(blank, "\n  \n");
        refused(conta(with(base, "--names", empty.toString())), out, "--names " + empty + " is empty", "one class name per line");
        refused(conta(with(base, "--names", blank.toString())), out, "--names " + blank + " is empty");
        // in range: written, and the bundle keeps the scales
        Object[] r = conta(with(base, "--scales", "0.5,4"));
        assertEquals(0, r[0], (String) r[1]);
        try (BundleModel m = BundleModel.open(out, "seg", null, new CpuBackend())) {
            assertArrayEquals(new double[]{1, 0.5, 4}, m.bundle.scales());
        }
    }

    /** argv with the flag set to value (replacing it where argv has it). */
    private static String[] with(String[] argv, String flag, String value) {
        List<String> a = new java.util.ArrayList<>(List.of(argv));
        int i = a.indexOf(flag);
        if (i >= 0) a.set(i + 1, value);
        else {
            a.add(flag);
            a.add(value);
        }
        return a.toArray(String[]::new);
    }

    @Test
    void aBundleWithAScaleOutOfRangeIsNamedWhenOpened() throws Exception {
        Path good = exportFixture("good.safetensors"), bad = tmp.resolve("bad-scales.safetensors");
        Map<String, String> meta = new java.util.LinkedHashMap<>(conta.io.Safetensors.metadata(good));
        @SuppressWarnings("unchecked")
        Map<String, Object> j = conta.io.Json.parseObject(meta.get(conta.wsss.Bundle.META_KEY));
        @SuppressWarnings("unchecked")
        Map<String, Object> inf = (Map<String, Object>) j.get("inference"), model = (Map<String, Object>) j.get("model");
        inf.put("scales", List.of(1.0, -1.0, 0.75));
        model.put("msc_scales", List.of(-1.0, 0.75));
        meta.put(conta.wsss.Bundle.META_KEY, conta.io.Json.write(j));
        conta.io.Safetensors.write(bad, conta.io.Safetensors.read(good), meta);
        Path imgs = tmp.resolve("imgs"), pred = tmp.resolve("pred");
        Files.createDirectories(imgs);
        Files.write(imgs.resolve("a.png"), PredictInputsTest.image("png", 1));
        Object[] r = conta("predict", "--model", bad.toString(), "--images", imgs.toString(), "--out", pred.toString(), "--device", "cpu");
        assertEquals(2, r[0], (String) r[1]);
        String last = ((String) r[1]).strip().lines().reduce((x, y) -> y).orElse("");
        assertTrue(last.contains(bad.toString()) && last.contains("-1.0") && last.contains("outside (0, 4]"), last);
        assertFalse(Files.exists(pred.resolve("a.png")));
        r = conta("predict", "--model", good.toString(), "--images", imgs.toString(), "--out", pred.toString(), "--device", "cpu");
        assertEquals(0, r[0], (String) r[1]);
    }

    @Test
    void theBoundaryBranchExportsAsABundleAndItsOnnxIsRefused() throws Exception {
        conta.models.ResNetConfig rc = conta.models.ResNetConfig.torchvision(true, 1, 1, 1, 1).withStrides(new int[]{1, 2, 2, 1}).withFrozenBn(true)
                .withHead(conta.models.ResNetConfig.Head.NONE, 0).withWidth(4);
        conta.wsss.ModelSpec spec = conta.wsss.ModelSpec.boundary(rc, 5);
        conta.wsss.Bundle b = conta.wsss.Bundle.of(new conta.config.Config(), "irn", spec, List.of("background", "a", "b"));
        Path irn = tmp.resolve("irn.safetensors");
        try (CpuBackend be = new CpuBackend(); conta.nn.Module net = spec.build(be, 0)) {
            Map<String, String> meta = new java.util.LinkedHashMap<>(b.meta());
            meta.put("stage", "irn");
            conta.io.Safetensors.write(irn, net.exportState(), meta);
        }
        Path onnx = tmp.resolve("irn.onnx"), copy = tmp.resolve("irn-copy.safetensors");
        refused(conta("export", "--model", irn.toString(), "--stage", "irn", "--format", "onnx", "--out", onnx.toString()), onnx,
                "ONNX export supports --stage seg or cls", "--stage irn");
        refused(conta("export", "--model", irn.toString(), "--format", "onnx", "--out", onnx.toString()), onnx,
                "ONNX export supports seg or cls", irn.toString(), "boundary branch");
        // an --out named for another format is refused before anything is written (a bundle named .onnx used to be
        // written, then refused as "an ONNX model", and left behind)
        refused(conta("export", "--model", irn.toString(), "--stage", "irn", "--out", onnx.toString()), onnx, "--out " + onnx, ".safetensors", "--format onnx");
        Path pt = tmp.resolve("irn.pt"), st = tmp.resolve("irn-onnx.safetensors");
        refused(conta("export", "--model", irn.toString(), "--stage", "irn", "--out", pt.toString()), pt, "--out " + pt, "PyTorch");
        refused(conta("export", "--model", irn.toString(), "--format", "onnx", "--out", st.toString()), st, "--out " + st, "name it .onnx");
        refused(conta("export-onnx", "--arch", "resnet18", "--width", "4", "--classes", "3", "--out", st.toString()), st, "--out " + st, "name it .onnx");
        refused(conta("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5", "--out", onnx.toString()),
                onnx, "--out " + onnx, ".safetensors");
        Object[] r = conta("export", "--model", irn.toString(), "--stage", "irn", "--out", copy.toString());
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("boundary branch"), (String) r[1]);
        try (BundleModel m = BundleModel.open(copy, "irn", null, new CpuBackend())) {
            assertEquals("irn", m.bundle.stage());
        }
    }
}
