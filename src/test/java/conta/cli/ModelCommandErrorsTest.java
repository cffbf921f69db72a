package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `conta model` refuses bad input with one line naming the problem and a non-zero exit, and runs good input. */
class ModelCommandErrorsTest {
    static final String FX = "test-data/fixtures/resnet18_w8/";
    static final String[] SMALL = {"--width", "8", "--blocks", "1,1,1,1", "--classes", "10"};

    record Result(int code, String err, String out) { }

    static Result run(String... argv) {
        PrintStream oldErr = System.err, oldOut = System.out;
        ByteArrayOutputStream err = new ByteArrayOutputStream(), out = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err));
        System.setOut(new PrintStream(out));
        try {
            return new Result(Main.run(argv), err.toString(), out.toString());
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
    }

    static String[] with(String... extra) {
        String[] a = new String[extra.length + SMALL.length];
        System.arraycopy(extra, 0, a, 0, extra.length);
        System.arraycopy(SMALL, 0, a, extra.length, SMALL.length);
        return a;
    }

    static void assertOneLineError(Result r, String mustContain) {
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(mustContain), "'" + mustContain + "' in: " + r.err());
    }

    @Test
    void missingWeightsFile(@TempDir Path tmp) {
        assertOneLineError(run(with("model", "forward", "--arch", "resnet18", "--weights", "nope.pth", "--input", FX + "input.npy",
                "--output", tmp.resolve("y.npy").toString())), "nope.pth");
    }

    @Test
    void unknownArch(@TempDir Path tmp) {
        assertOneLineError(run("model", "forward", "--arch", "resnet7", "--input", FX + "input.npy", "--output", tmp + "/y.npy"), "resnet7");
    }

    @Test
    void wrongDtypeAndShape(@TempDir Path tmp) {
        assertOneLineError(run(with("model", "forward", "--arch", "resnet18", "--weights", FX + "init.pth", "--input", "test-data/io/f64.npy",
                "--output", tmp + "/y.npy")), "float32");
        assertOneLineError(run(with("model", "forward", "--arch", "resnet18", "--weights", FX + "init.pth", "--input", FX + "labels_ce.npy",
                "--output", tmp + "/y.npy")), "N x 3 x H x W");
    }

    @Test
    void checkpointOfAnotherModel(@TempDir Path tmp) {
        // resnet50 weights into a resnet18: missing and unexpected keys are named
        assertOneLineError(run("model", "forward", "--arch", "resnet18", "--width", "8", "--blocks", "1,1,1,1", "--classes", "10",
                "--weights", "test-data/fixtures/resnet50_w4/init.pth", "--input", FX + "input.npy", "--output", tmp + "/y.npy"), "unexpected keys");
    }

    @Test
    void maliciousPickleIsRefusedAndNothingRuns(@TempDir Path tmp) throws Exception {
        Files.deleteIfExists(Path.of("/tmp/conta-pwned"));
        Result r = run(with("model", "forward", "--arch", "resnet18", "--weights", "test-data/io/evil_system.pth", "--input", FX + "input.npy",
                "--output", tmp + "/y.npy"));
        assertOneLineError(r, "refusing to load");
        assertFalse(Files.exists(Path.of("/tmp/conta-pwned")));
    }

    @Test
    void forwardAndStepWriteOutputs(@TempDir Path tmp) throws Exception {
        Result f = run(with("model", "forward", "--arch", "resnet18", "--weights", FX + "init.pth", "--input", FX + "input.npy",
                "--output", tmp + "/y.npy"));
        assertEquals(0, f.code(), f.err());
        assertTrue(Files.size(tmp.resolve("y.npy")) > 0);
        Result s = run(with("model", "step", "--arch", "resnet18", "--weights", FX + "init.pth", "--input", FX + "input.npy",
                "--labels", FX + "labels_ce.npy", "--loss", "ce", "--lr", "0.1", "--momentum", "0.9", "--steps", "1",
                "--output", tmp + "/w.safetensors"));
        assertEquals(0, s.code(), s.err());
        assertTrue(conta.io.Safetensors.read(tmp.resolve("w.safetensors")).containsKey("layer1.0.conv1.weight"));
        assertOneLineError(run(with("model", "step", "--arch", "resnet18", "--weights", FX + "init.pth", "--input", FX + "input.npy",
                "--labels", FX + "labels_ce.npy", "--loss", "hinge", "--lr", "0.1", "--output", tmp + "/w2.safetensors")), "unknown loss");
    }

    @Test
    void stepFlagsOutOfRangeAreRefusedBeforeAnythingRuns(@TempDir Path tmp) {
        Path out = tmp.resolve("w.safetensors");
        String[][] cases = {
            {"--steps", "-3", "--steps must be >= 0", "got -3"},
            {"--lr", "-1", "--lr must be in (0, 100]", "got -1"},
            {"--lr", "0", "--lr must be in (0, 100]", "got 0"},
            {"--lr", "NaN", "--lr must be in (0, 100]", "got NaN"},
            {"--momentum", "5", "--momentum must be in [0, 1)", "got 5"},
            {"--momentum", "-0.1", "--momentum must be in [0, 1)", "got -0.1"},
            {"--weight-decay", "-1", "--weight-decay must be in [0, 1]", "got -1"},
        };
        for (String[] c : cases) {
            java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of(with("model", "step", "--arch", "resnet18", "--weights", FX + "init.pth",
                    "--input", FX + "input.npy", "--labels", FX + "labels_ce.npy", "--loss", "ce", "--output", out.toString())));
            if (!c[0].equals("--lr")) argv.addAll(java.util.List.of("--lr", "0.1"));
            argv.addAll(java.util.List.of(c[0], c[1]));
            Result r = run(argv.toArray(String[]::new));
            assertOneLineError(r, c[2]);
            assertTrue(r.err().contains(c[3]), r.err());
            assertFalse(Files.exists(out), "nothing written for " + c[0] + " " + c[1]);
        }
        assertOneLineError(run(with("model", "step", "--arch", "resnet18", "--weights", FX + "init.pth", "--input", FX + "input.npy",
                "--labels", FX + "labels_ce.npy", "--loss", "ce", "--output", out.toString())), "missing required flag --lr");
        // --steps 0 is allowed: the weights as loaded, no losses
        Result z = run(with("model", "step", "--arch", "resnet18", "--weights", FX + "init.pth", "--input", FX + "input.npy",
                "--labels", FX + "labels_ce.npy", "--loss", "ce", "--lr", "0.1", "--steps", "0", "--output", out.toString()));
        assertEquals(0, z.code(), z.err());
        assertTrue(z.out().contains("losses []"), z.out());
    }

    @Test
    void networkSizesOutOfRangeNameTheFlag(@TempDir Path tmp) {
        Path y = tmp.resolve("y.npy");
        assertOneLineError(run("model", "forward", "--arch", "resnet18", "--width", "8", "--blocks", "1,1,1,1", "--classes", "-3",
                "--input", FX + "input.npy", "--output", y.toString()), "--classes must be in [1, 100000] (the network's outputs), got -3");
        assertOneLineError(run("model", "forward", "--arch", "resnet18", "--width", "0", "--blocks", "1,1,1,1", "--classes", "10",
                "--input", FX + "input.npy", "--output", y.toString()), "--width must be in [1, 1024] (the ResNet base width; 64 = the real network), got 0");
        assertOneLineError(run("model", "forward", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5",
                "--scales", "-1", "--input", FX + "input.npy", "--output", y.toString()), "each scale must be in (0, 4]");
        assertFalse(Files.exists(y));
    }

    @Test
    void stepUsageShowsLrAsRequiredWithTheDefaultsTheCodeUses() {
        String u = run("model", "step", "--help").out();
        assertTrue(u.contains("--lr LR") && !u.contains("[--lr"), "--lr is required: " + u);
        assertTrue(u.contains("[--momentum 0]") && u.contains("[--weight-decay 0]") && u.contains("[--steps 1]"), u);
    }
}
