package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `conta bench` refuses what it would otherwise ignore (a typo'd flag, --weights where random weights are timed),
 * names a missing --bundle as the user's problem, takes the network of `latency --impl api` from the bundle, and its
 * help says which flags each mode takes.
 */
class BenchArgsTest {
    @TempDir Path tmp;

    static final String[] SMALL_INFER = {"bench", "infer", "--arch", "resnet18", "--width", "8", "--batch", "1", "--size", "32", "--iters", "1",
        "--warmup", "0", "--classes", "4"};

    static ModelCommandErrorsTest.Result run(String... argv) { return ModelCommandErrorsTest.run(argv); }

    static String[] plus(String[] argv, String... extra) {
        String[] a = java.util.Arrays.copyOf(argv, argv.length + extra.length);
        System.arraycopy(extra, 0, a, argv.length, extra.length);
        return a;
    }

    /** Exit 2, one line naming every string, and nothing timed. */
    static void refused(ModelCommandErrorsTest.Result r, String... mustContain) {
        ErrorContractTest.userError(r, mustContain);
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.out().contains("images/s") || r.out().contains("LATENCY"), "nothing timed: " + r.out());
    }

    /**
     * Flags a mode would have ignored silently are refused before anything is timed (found by a benchmark-user probe):
     * --profile on the plan, a non-fp32 --precision on the training graph, a --trace into a missing folder (it was
     * found only after the timing); an unknown --arch lists irn-boundary too; a PyTorch file given as a bundle is
     * called that, not "damaged".
     */
    @Test
    void flagsAModeWouldIgnoreAreRefusedBeforeTiming() throws Exception {
        refused(run(plus(SMALL_INFER, "--impl", "plan", "--profile", "host")), "--profile times the training graph's ops");
        String[] lat = {"bench", "latency", "--arch", "resnet18", "--width", "8", "--size", "32", "--iters", "1", "--warmup", "0"};
        refused(run(plus(lat, "--impl", "graph", "--precision", "bf16")), "--precision applies to --impl plan and api");
        refused(run(plus(lat, "--trace", tmp.resolve("no/such/t.csv").toString())), "--trace", "does not exist");
        refused(run("bench", "train", "--arch", "bogus"), "--arch bogus: unknown architecture", "irn-boundary");
        Path pth = tmp.resolve("w.pth");
        Files.write(pth, new byte[]{'P', 'K', 3, 4, 0, 0});
        refused(run("bench", "latency", "--impl", "api", "--bundle", pth.toString(), "--size", "32"), "is a PyTorch checkpoint, not a conta bundle");
        ModelCommandErrorsTest.Result fp32Graph = run(plus(lat, "--impl", "graph", "--precision", "fp32")); // what bench/latency.sh passes
        assertEquals(0, fp32Graph.code(), fp32Graph.err());
    }

    /** --gap-ms idles after every call outside the timing: the run lasts at least its (warmup + iters) gaps, the calls do not. */
    @Test
    void gapIdlesBetweenCallsUntimed() {
        String[] lat = {"bench", "latency", "--arch", "resnet18", "--width", "8", "--size", "32", "--iters", "3", "--warmup", "1"};
        refused(run(plus(lat, "--gap-ms", "-1")), "--gap-ms must be 0 to 60000");
        long t0 = System.nanoTime();
        ModelCommandErrorsTest.Result r = run(plus(lat, "--gap-ms", "300"));
        double wallMs = (System.nanoTime() - t0) / 1e6;
        assertEquals(0, r.code(), r.err());
        assertTrue(wallMs >= 4 * 300, "4 calls, each followed by 300 ms: " + wallMs + " ms");
        java.util.regex.Matcher p50 = java.util.regex.Pattern.compile("LATENCY conta-plan-fp32 resnet18 32 p50 ([0-9.]+) ").matcher(r.out());
        assertTrue(p50.find(), r.out());
        assertTrue(Double.parseDouble(p50.group(1)) < 300, "a call's time leaves the gap out: " + r.out());
    }

    @Test
    void unknownFlagsAreRefusedInEveryMode() {
        assertEquals(0, run(SMALL_INFER).code(), "the flags themselves are good");
        refused(run(plus(SMALL_INFER, "--frob", "1")), "unknown flag --frob for bench infer");
        refused(run(plus(SMALL_INFER, "--iter", "1")), "unknown flag --iter (did you mean --iters?) for bench infer");
        refused(run("bench", "train", "--arch", "resnet18", "--itres", "1"), "unknown flag --itres (did you mean --iters?) for bench train");
        refused(run("bench", "latency", "--arch", "resnet18", "--size", "32", "--iters", "1", "--warmup", "0", "--batch", "4"),
                "--batch does not apply to bench latency");
        refused(run("bench", "latency", "--arch", "resnet18", "--size", "32", "--iters", "1", "--warmup", "0", "--frob"), "unknown flag --frob for bench latency");
    }

    @Test
    void weightsAreRefusedWhereRandomWeightsAreTimed(@TempDir Path t) throws Exception {
        Path junk = t.resolve("rand.pth");
        Files.write(junk, new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9});
        for (String mode : new String[]{"train", "infer"})
            for (String w : new String[]{"nope.pth", junk.toString()}) {
                String[] a = plus(SMALL_INFER, "--weights", w);
                a[1] = mode;
                refused(run(a), "--weights does not apply to bench " + mode, "bench latency");
            }
        // bench latency reads them, and names a missing or unreadable file
        refused(run("bench", "latency", "--arch", "resnet18", "--width", "8", "--classes", "4", "--size", "32", "--iters", "1", "--warmup", "0",
                "--weights", "nope.pth"), "nope.pth");
        refused(run("bench", "latency", "--arch", "resnet18", "--width", "8", "--classes", "4", "--size", "32", "--iters", "1", "--warmup", "0",
                "--weights", junk.toString()), junk.toString());
    }

    @Test
    void modesAreNamedWithLatency() {
        refused(run("bench"), "train, infer or latency");
        refused(run("bench", "frob"), "unknown bench mode 'frob'", "train, infer or latency");
        refused(run("bench", "train", "--arch", "resnet18", "--impl", "plan"), "bench train --impl applies to --arch irn-boundary");
    }

    @Test
    void latencyApiTakesTheNetworkFromTheBundle() throws Exception {
        Path missing = tmp.resolve("nope.safetensors");
        // was 'internal error: model bundle ... does not exist', exit 1
        refused(run("bench", "latency", "--arch", "deeplabv2-resnet101", "--impl", "api", "--bundle", missing.toString(), "--size", "32",
                "--iters", "1", "--warmup", "0"), "--bundle " + missing + " does not exist");
        @SuppressWarnings("unchecked")
        Map<String, Object> c = (Map<String, Object>) ModelParityTest.cases().filter(a -> a.get()[0].equals("deeplab_w4_160")).findFirst()
                .orElseThrow().get()[1];
        Path bundle = tmp.resolve("seg.safetensors");
        ModelCommandErrorsTest.Result e = run("export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5",
                "--weights", ModelParityTest.dir(c).resolve("init.pth").toString(), "--out", bundle.toString());
        assertEquals(0, e.code(), e.err());
        ModelCommandErrorsTest.Result r = run("bench", "latency", "--impl", "api", "--bundle", bundle.toString(), "--size", "32", "--iters", "1",
                "--warmup", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("LATENCY conta-api-fp32 deeplabv2-resnet14 32 "), "no --arch needed; the bundle names it: " + r.out());
        refused(run("bench", "latency", "--impl", "api", "--bundle", bundle.toString(), "--size", "8", "--iters", "1", "--warmup", "0"),
                "--size 8: the image is 8x8 px", "at least 16 px");
        refused(run("bench", "latency", "--impl", "api", "--bundle", bundle.toString(), "--weights", "w.pth"), "--weights does not apply to --impl api");
        refused(run("bench", "latency", "--impl", "plan", "--arch", "resnet18", "--bundle", bundle.toString()), "--bundle applies to --impl api");
    }

    @Test
    void helpAgreesWithTheDefaults() {
        String u = run("bench", "--help").out();
        assertTrue(u.contains("conta bench train|infer [--arch resnet50]"), "train/infer default to resnet50: " + u);
        assertTrue(u.contains("conta bench latency --arch ARCH") && u.contains("conta bench latency --impl api --bundle FILE [--arch LABEL]"), u);
        for (String f : BenchCommand.TRAIN_INFER_FLAGS) assertTrue(u.contains("--" + f), "--" + f + " in the help");
        for (String f : BenchCommand.LATENCY_FLAGS) assertTrue(u.contains("--" + f), "--" + f + " in the help");
        // train/infer without --arch: resnet50, as the help says (tiny width, one timed step)
        ModelCommandErrorsTest.Result r = run("bench", "infer", "--width", "4", "--batch", "1", "--size", "32", "--iters", "1", "--warmup", "0", "--classes", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("conta resnet50 infer"), r.out());
    }

    /** The result lines name how OpenMP waits (libgomp: GOMP_SPINCOUNT, when set, wins over OMP_WAIT_POLICY). */
    @Test
    void theResultLineNamesTheOpenMpWait() {
        assertEquals("OpenMP passive", BenchCommand.ompWait(java.util.Map.of("OMP_WAIT_POLICY", "PASSIVE")));
        assertEquals("OpenMP spin 1000", BenchCommand.ompWait(java.util.Map.of("GOMP_SPINCOUNT", "1000", "OMP_WAIT_POLICY", "passive")));
        assertEquals("OpenMP libgomp's default wait", BenchCommand.ompWait(java.util.Map.of()));
    }
}
