package conta.cli;

import conta.config.ConfigKeys;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.synth.SynthGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One error contract for every command: a problem the user caused exits 2 with one line naming the file or key, and
 * never shows a Java class name; the config fuzz never reaches an internal error.
 */
class ErrorContractTest {
    @TempDir static Path tmp;
    static Path data;

    /** A Java exception/error class name or a stack frame. */
    static final Pattern CLASS_NAME = Pattern.compile("[A-Z][A-Za-z]*(Exception|Error)\\b|java\\.[a-z]|\\bat conta\\.");

    @BeforeAll
    static void makeData() throws Exception {
        data = tmp.resolve("synth");
        SynthGenerator.generate(data, new SynthGenerator.Config(3, 4, 2, 32, 0.8));
    }

    static ModelCommandErrorsTest.Result run(String... argv) { return ModelCommandErrorsTest.run(argv); }

    /** Exit 2, one line, naming what must be named, no class name. */
    static void userError(ModelCommandErrorsTest.Result r, String... mustContain) {
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        String line = r.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertFalse(CLASS_NAME.matcher(r.err()).find(), "no Java class name in: " + r.err());
        for (String m : mustContain) assertTrue(line.contains(m), "'" + m + "' in: " + line);
    }

    // ------------------------------------------------------------------ one representative bad input per command

    /** Out of memory is exit 3 with the usual fixes, also when a worker thread's error reaches the command wrapped. */
    @Test
    void outOfMemoryIsExit3EvenWhenWrapped() {
        var err = System.err;
        var buf = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(buf, true));
        try {
            assertEquals(3, Main.failure("pipeline", new java.util.concurrent.CompletionException(new OutOfMemoryError("Java heap space"))));
            assertEquals(3, Main.failure("pipeline", new OutOfMemoryError("Java heap space")));
            assertEquals(1, Main.failure("pipeline", new IllegalStateException("a bug")));
            assertEquals(2, Main.failure("pipeline", new conta.error.UserError("bad value")));
        } finally {
            System.setErr(err);
        }
        assertTrue(buf.toString().startsWith("conta pipeline: out of memory (Java heap space); use smaller images, crops or batches"), buf.toString());
    }

    @Test
    void pipelineBadValueNamesKeyAndWritesNothing() {
        Path out = tmp.resolve("p-bad");
        userError(run("pipeline", "--data", data.toString(), "--out", out.toString(), "--set", "cls.blocks=3,4"),
                "cls.blocks", "3,4", "4 stages");
        userError(run("pipeline", "--data", data.toString(), "--out", out.toString(), "--set", "cls.batch=0"), "cls.batch", "'0'", "[1, 4096]");
        userError(run("pipeline", "--data", data.toString(), "--out", out.toString(), "--set", "cam.sweep=0.6:0.05:0.01"), "cam.sweep", "START < END");
        userError(run("pipeline", "--data", data.toString(), "--out", out.toString(), "--rounds", "-2"), "--rounds -2", "conta.rounds", "[0, 100]");
        userError(run("pipeline", "--data", data.toString(), "--out", out.toString(), "--precision", "fp16"), "--precision fp16", "precision", "bf16");
        assertFalse(Files.exists(out), "nothing written for an invalid config (not even OUT)");
    }

    /** A small synthetic set at d whose first image (in name order) holds bytes instead; returns that image's path. */
    static Path synthWithFirstImage(Path d, byte[] bytes) throws Exception {
        SynthGenerator.generate(d, new SynthGenerator.Config(3, 4, 2, 32, 0.8));
        Path img;
        try (var s = Files.list(d.resolve("JPEGImages"))) {
            img = s.sorted().findFirst().orElseThrow();
        }
        Files.write(img, bytes);
        return img;
    }

    @Test
    void pipelineZeroByteImageNamesTheFile() throws Exception {
        Path d = tmp.resolve("synth-empty");
        Path img = synthWithFirstImage(d, new byte[0]);
        userError(run("pipeline", "--data", d.toString(), "--out", tmp.resolve("p-empty").toString()), img.toString(), "empty file (0 bytes)");
    }

    @Test
    void aMissingOrBinaryConfigFileIsNamed() throws Exception {
        Path bin = tmp.resolve("bin.conf");
        Files.write(bin, new byte[]{(byte) 0xff, (byte) 0xfe, 0, 1, (byte) 0x80, 'a', '=', '1'});
        for (String cmd : new String[]{"pipeline", "compare"}) {
            Path out = tmp.resolve("cfg-" + cmd);
            userError(run(cmd, "--data", data.toString(), "--out", out.toString(), "--config", tmp.resolve("nope.conf").toString()),
                    "config file " + tmp.resolve("nope.conf") + " does not exist");
            userError(run(cmd, "--data", data.toString(), "--out", out.toString(), "--config", bin.toString()), "config file " + bin + " is not UTF-8 text");
            userError(run(cmd, "--data", data.toString(), "--out", out.toString(), "--config", tmp.toString()), "config file " + tmp + " is a folder");
            assertFalse(Files.exists(out));
        }
    }

    /** An empty --out was the working folder: the run's config.json, round0/ and run.log went into the folder conta was started from. */
    @Test
    void anEmptyOutIsRefusedNotTheWorkingFolder() {
        boolean before = Files.exists(Path.of("config.json")) || Files.exists(Path.of("round0"));
        userError(run("pipeline", "--data", data.toString(), "--out", ""), "--out is empty");
        userError(run("synth", "--out", "", "--train", "2", "--val", "1", "--size", "32"), "--out is empty");
        if (!before) assertFalse(Files.exists(Path.of("config.json")) || Files.exists(Path.of("round0")), "nothing written to the working folder");
    }

    /**
     * A full disk is the user's to fix (exit 2 naming the file, "free some disk space"), not "a bug in conta": the
     * operating system's own ENOSPC, from a write to /dev/full, wrapped the way the checkpoint and the CAM writers wrap it.
     */
    @Test
    void aFullDiskIsAUserProblemNamingTheFile() {
        java.io.IOException enospc = null;
        try {
            Files.write(Path.of("/dev/full"), new byte[]{1});
        } catch (java.io.IOException e) {
            enospc = e;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(enospc != null && !(enospc instanceof java.nio.file.FileSystemException), "no /dev/full here");
        String m = Errors.userMessage(new java.io.UncheckedIOException("cannot write checkpoint /r/round0/seg/checkpoint.safetensors: "
                + enospc.getMessage(), enospc));
        assertTrue(m != null && m.contains("/r/round0/seg/checkpoint.safetensors") && m.contains("free some disk space"), String.valueOf(m));
        m = Errors.userMessage(new java.io.UncheckedIOException(enospc)); // unnamed: still the user's, with the fix
        assertTrue(m != null && m.contains("free some disk space"), String.valueOf(m));
    }

    @Test
    void demoBadValue() {
        userError(run("demo", "--out", tmp.resolve("demo").toString(), "--data", tmp.resolve("demo-data").toString(), "--set", "seg.lr=-1"),
                "seg.lr", "'-1'", "(0, 100]");
        assertFalse(Files.exists(tmp.resolve("demo-data")), "the config is checked before the synthetic set is generated");
    }

    @Test
    void compareBadValue() {
        userError(run("compare", "--data", data.toString(), "--out", tmp.resolve("cmp").toString(), "--set", "irn.batch=-3"), "irn.batch", "'-3'");
    }

    @Test
    void evalMissingPredictionFolder() {
        userError(run("eval", "--pred", tmp.resolve("nope").toString(), "--gt", data.toString(), "--split", "val"), "nope");
    }

    @Test
    void evalHelpStatesTheProtocol() {
        ModelCommandErrorsTest.Result r = run("eval", "--help");
        assertEquals(0, r.code());
        String flat = r.out().replaceAll("\\s+", " ");
        for (String s : new String[]{"docs/evaluation.md", "ground-truth 255 ignored", "a predicted 255 counts as background", "strictly above"})
            assertTrue(flat.contains(s), s + " in " + r.out());
    }

    @Test
    void synthBadSize() {
        userError(run("synth", "--out", tmp.resolve("s").toString(), "--size", "7"), "--size");
    }

    @Test
    void weightsTruncatedSafetensorsNamesTheTruncation() throws Exception {
        Path f = tmp.resolve("cut.safetensors");
        byte[] all = Files.readAllBytes(Path.of("test-data/io/mixed.safetensors"));
        Files.write(f, java.util.Arrays.copyOf(all, 40));
        userError(run("weights", "info", f.toString()), f.toString(), "truncated safetensors file");
    }

    @Test
    void modelFortranOrderNpy() {
        userError(run("model", "forward", "--arch", "resnet18", "--width", "8", "--blocks", "1,1,1,1", "--classes", "10", "--input",
                "test-data/io/fortran.npy", "--output", tmp.resolve("y.npy").toString()), "fortran.npy", "Fortran order");
    }

    @Test
    void modelIntoAnUnwritableFolder() throws Exception {
        Path ro = tmp.resolve("ro-model");
        Files.createDirectories(ro);
        try (var guard = ReadOnly.make(ro)) {
            userError(run("model", "forward", "--arch", "resnet18", "--width", "8", "--blocks", "1,1,1,1", "--classes", "10", "--weights",
                    "test-data/fixtures/resnet18_w8/init.pth", "--input", "test-data/fixtures/resnet18_w8/input.npy",
                    "--output", ro.resolve("y.npy").toString()), ro.toString());
        }
    }

    @Test
    void pipelineIntoAReadOnlyOut() throws Exception {
        Path ro = tmp.resolve("ro-out");
        Files.createDirectories(ro);
        try (var guard = ReadOnly.make(ro)) {
            userError(run("pipeline", "--data", data.toString(), "--out", ro.toString(), "--set", "cls.weights=none", "--set", "cls.arch=resnet50"), ro.toString(), "writable");
        }
        assertFalse(Files.exists(ro.resolve("config.json")));
    }

    @Test
    void benchOnAMissingGpu() {
        org.junit.jupiter.api.Assumptions.assumeTrue(conta.tensor.cuda.CudaRuntime.unavailableReason() != null, "a GPU is present");
        userError(run("bench", "infer", "--arch", "resnet18", "--device", "cuda:0", "--batch", "1", "--size", "32"), "--device cuda:0", "no CUDA device");
        userError(run("bench", "infer", "--arch", "resnet7"), "--arch resnet7");
    }

    @Test
    void benchTrainingWithOneValuePerBatchNormChannel() { // batch 1 at 32 px leaves layer4 a 1 x 1 map
        userError(run("bench", "train", "--arch", "resnet18", "--width", "8", "--batch", "1", "--size", "32", "--iters", "1", "--warmup", "0"),
                "--batch 1 --size 32", "--batch 2 or more");
        userError(run("bench", "train", "--arch", "irn-boundary", "--width", "8", "--blocks", "1,1,1,1", "--batch", "2", "--size", "64",
                "--iters", "1", "--warmup", "0"), "--size 64", "too small for path radius 10");
        userError(run("bench", "infer", "--arch", "irn-boundary"), "--arch irn-boundary", "bench train");
    }

    @Test
    void internalErrorsExitOneWithTheHint() {
        assertEquals(1, Main.report("x", new ArithmeticException("/ by zero")));
        ModelCommandErrorsTest.Result r = captured(() -> Main.report("pipeline", new IllegalStateException("broken invariant")));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("conta pipeline: internal error: broken invariant") && r.err().contains("CONTA_DEBUG=1"), r.err());
        assertFalse(CLASS_NAME.matcher(r.err()).find(), r.err());
        r = captured(() -> Main.report("model", new java.io.UncheckedIOException(new java.nio.file.FileSystemException("/ro/y.npy.tmp", null, "Read-only file system"))));
        assertEquals(2, r.code());
        assertEquals("conta model: /ro/y.npy.tmp: Read-only file system; choose a writable --out", r.err().strip());
    }

    static ModelCommandErrorsTest.Result captured(java.util.function.IntSupplier f) {
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(b));
        try {
            return new ModelCommandErrorsTest.Result(f.getAsInt(), b.toString(), "");
        } finally {
            System.setErr(old);
        }
    }

    // ------------------------------------------------------------------ fuzz

    /**
     * 200 seeded random values over every key of the table: each run exits 2 (a refused value naming its key, or,
     * for a value the table accepts, the missing data folder) and never 1, never with a class name, never writing OUT.
     */
    @Test
    void randomSetValuesNeverReachAnInternalError() {
        SplittableRandom r = new SplittableRandom(12);
        List<ConfigKeys.Key> keys = ConfigKeys.ALL;
        Path out = tmp.resolve("fuzz-out");
        int refused = 0;
        for (int i = 0; i < 200; i++) {
            ConfigKeys.Key k = keys.get(r.nextInt(keys.size()));
            String v = randomValue(r, k);
            ModelCommandErrorsTest.Result res = run("pipeline", "--data", tmp.resolve("no-data").toString(), "--out", out.toString(), "--set", k.name() + "=" + v);
            assertNotEquals(1, res.code(), k.name() + "=" + v + ": " + res.err());
            assertEquals(2, res.code(), k.name() + "=" + v + ": " + res.err());
            assertFalse(CLASS_NAME.matcher(res.err()).find(), k.name() + "=" + v + ": " + res.err());
            if (res.err().contains("config " + k.name())) refused++;
            else assertTrue(res.err().contains("no-data") || res.err().contains("set twice") || res.err().contains("stages")
                    || res.err().contains("ir.") || res.err().contains("irn.weights"), k.name() + "=" + v + ": " + res.err());
            assertFalse(Files.exists(out), "OUT untouched");
        }
        assertTrue(refused > 60 && refused < 190, "a mix of refused and accepted values: " + refused + " refused");
    }

    static final String[] ATOMS = {"0", "-1", "1", "2", "3", "0.5", "1e-4", "-0.0", "1e309", "NaN", "Infinity", "-Infinity", "2147483648", "99999999999",
        "", " ", "abc", "true", "no", "3,4", "1,1,1,1", "1,2,2,1", "0.05:0.60:0.01", "0.6:0.05:0.01", "0.1:0.2:0", "all", "2,5", "cuda:0", "cuda:x",
        "imagenet", "none", "cls", "/no/such.pth", "0x10", "1_000", "1,", ",", "::", "1.5,0.5", "0.5,1.5", "%s", "\u00e9", "5d", "1f"};

    static String randomValue(SplittableRandom r, ConfigKeys.Key k) {
        return switch (r.nextInt(4)) {
            case 0 -> k.def();
            case 1 -> ATOMS[r.nextInt(ATOMS.length)];
            case 2 -> k.choices().isEmpty() ? Double.toString((r.nextDouble() - 0.3) * Math.pow(10, r.nextInt(-3, 6))) : k.choices().get(r.nextInt(k.choices().size()));
            default -> {
                List<String> parts = new ArrayList<>();
                int n = r.nextInt(0, 6);
                for (int j = 0; j < n; j++) parts.add(r.nextBoolean() ? Integer.toString(r.nextInt(-5, 40)) : Double.toString(r.nextDouble() * 3 - 1));
                yield String.join(r.nextInt(3) == 0 ? ":" : ",", parts);
            }
        };
    }

    /** A folder made unwritable for the test: chmod for a normal user, chattr +i when tests run as root. */
    static final class ReadOnly implements AutoCloseable {
        private final Path dir;
        private final boolean immutable;

        private ReadOnly(Path dir, boolean immutable) {
            this.dir = dir;
            this.immutable = immutable;
        }

        static ReadOnly make(Path dir) throws Exception {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
            if (!Files.isWritable(dir)) return new ReadOnly(dir, false);
            Process p = new ProcessBuilder("chattr", "+i", dir.toString()).redirectErrorStream(true).start();
            boolean ok = p.waitFor() == 0;
            org.junit.jupiter.api.Assumptions.assumeTrue(ok, "cannot make a folder read-only here (root without chattr)");
            return new ReadOnly(dir, true);
        }

        @Override
        public void close() throws Exception {
            if (immutable) new ProcessBuilder("chattr", "-i", dir.toString()).start().waitFor();
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }
}
