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
        r = conta("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5", "--weights", w,
                "--input", "bgr", "--out", out);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("--input must be caffe, imagenet or raw"), (String) r[1]);
        r = conta("export", "--arch", "deeplabv2-resnet101", "--out", out);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("needs --weights"), (String) r[1]);
        assertFalse(Files.exists(Path.of(out)), "nothing written on refusal");
    }
}
