package conta.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.cli.Args;
import conta.error.UserError;
import conta.cli.Main;
import conta.cli.WeightsCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The `conta weights` command (lives in conta.cli; tested here with the io layer it drives). */
class WeightsCommandTest {
    static final Path DIR = Path.of("test-data/io");

    @TempDir
    Path tmp;

    private String run(String... argv) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(buf, true));
        try {
            int rc = new WeightsCommand().run(new Args(argv));
            assertEquals(0, rc);
        } finally {
            System.setOut(old);
        }
        return buf.toString();
    }

    @Test
    void convertsPthToSafetensorsAndLists() throws Exception {
        Path out = tmp.resolve("tiny.safetensors");
        String msg = run("convert", "--in", DIR.resolve("tiny_legacy.pth").toString(), "--out", out.toString());
        assertTrue(msg.startsWith("wrote " + out + ": 17 tensors"), msg);
        var back = Safetensors.readAll(out);
        var want = Npy.readNpz(DIR.resolve("tiny_expected.npz"));
        assertEquals(List.copyOf(want.keySet()), List.copyOf(back.tensors().keySet()));
        for (String k : want.keySet()) assertArrayEquals(want.get(k).data(), back.tensors().get(k).data(), k);
        assertEquals("tiny_legacy.pth", back.metadata().get("converted_from"));

        String info = run("info", out.toString());
        assertTrue(info.contains("# converted_from: tiny_legacy.pth"), info);
        assertTrue(info.lines().anyMatch(l -> l.startsWith("conv.weight") && l.contains("[4, 3, 3, 3]") && l.endsWith("F32")), info);
        assertTrue(info.strip().endsWith("17 tensors, " + want.values().stream().mapToLong(HostArray::numel).sum() + " values"), info);
        String info2 = run("info", DIR.resolve("tiny_zip.pth").toString());
        assertTrue(info2.lines().anyMatch(l -> l.startsWith("extra.transposed") && l.endsWith("[6, 4]")), info2);
    }

    @Test
    void convertsKerasResNetToTorchNamesUnlessAsked() throws Exception {
        Map<String, HostArray> k = new LinkedHashMap<>();
        k.put("conv1/kernel", TfjsTest.seq(0, 1, 1, 3, 2));
        for (String p : new String[]{"gamma", "beta", "moving_mean", "moving_variance"}) k.put("bn_conv1/" + p, TfjsTest.seq(0, 2));
        k.put("res2a_branch2a/kernel", TfjsTest.seq(0, 1, 1, 2, 2));
        Path json = TfjsTest.writeModel(tmp.resolve("m"), List.of(k), 2, null);
        Path out = tmp.resolve("r.safetensors");
        run("convert", "--in", json.toString(), "--out", out.toString());
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "layer1.0.conv1.weight"),
                List.copyOf(Safetensors.read(out).keySet()));
        run("convert", "--in", json.toString(), "--out", out.toString(), "--keras-names");
        assertEquals(List.copyOf(k.keySet()), List.copyOf(Safetensors.read(out).keySet()));
    }

    @Test
    void fetchPrintsTheCachedPath() throws Exception {
        Path f = tmp.resolve(PretrainedWeights.RESNET50_FILE);
        Files.writeString(f, "cached");
        assertEquals(f.toAbsolutePath() + System.lineSeparator(), run("fetch", "resnet50-imagenet", "--cache", tmp.toString()));
    }

    @Test
    void userErrorsAreCliErrorsNamingTheProblem() throws IOException {
        Path txt = tmp.resolve("x.txt");
        Files.writeString(txt, "no");
        WeightsCommand c = new WeightsCommand();
        UserError e = assertThrows(UserError.class, () -> c.run(new Args(new String[]{"info", txt.toString()})));
        assertTrue(e.getMessage().startsWith(txt + ": unknown weight file format"), e.getMessage());
        e = assertThrows(UserError.class, () -> c.run(new Args(new String[]{"convert", "--in", txt.toString(), "--out", "y.npz"})));
        assertTrue(e.getMessage().contains("--out must end in .safetensors"), e.getMessage());
        e = assertThrows(UserError.class, () -> c.run(new Args(new String[]{"convert", "--in", "a.pth"})));
        assertTrue(e.getMessage().contains("--out"), e.getMessage());
        e = assertThrows(UserError.class, () -> c.run(new Args(new String[]{"fetch", "vgg16"})));
        assertTrue(e.getMessage().contains("unknown pretrained model 'vgg16'"), e.getMessage());
        e = assertThrows(UserError.class, () -> c.run(new Args(new String[]{"info", DIR.resolve("evil_system.pth").toString()})));
        assertTrue(e.getMessage().startsWith("refusing to load"), e.getMessage());
        e = assertThrows(UserError.class, () -> c.run(new Args(new String[]{"frobnicate"})));
        assertTrue(e.getMessage().contains("unknown subcommand"), e.getMessage());
        e = assertThrows(UserError.class, () -> c.run(new Args(new String[]{"info", "a", "--colour", "x"})));
        assertTrue(e.getMessage().contains("unknown flag --colour"), e.getMessage());
    }

    @Test
    void registeredInMain() {
        PrintStream old = System.err;
        System.setErr(new PrintStream(new ByteArrayOutputStream()));
        try {
            assertEquals(2, Main.run(new String[]{"weights", "info", tmp.resolve("missing.pth").toString()}));
        } finally {
            System.setErr(old);
        }
    }
}
