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
}
