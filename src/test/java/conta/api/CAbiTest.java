package conta.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.data.SharedData;
import conta.image.ImageCodec;
import conta.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The C ABI end to end: compiles native/tests/abi_check.c with gcc against the libconta.so the build made, runs it
 * on a real VOC photo with the tiny run's segmentation bundle, and checks its label map equals the Java API's byte for
 * byte, that 4 threads at once get the same bytes, and that a missing bundle, a bad device, a corrupt or missing
 * image, a wrong buffer size, 0 and 100000 px sides, a NULL image, CAMs and class scores from a segmentation bundle and a handle used
 * after close (closed twice too) come back as error codes with messages while the process carries on to a clean exit.
 */
class CAbiTest {
    @TempDir Path tmp;

    static boolean hasGcc() {
        try {
            return new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** Compiles a test program against target/native/libconta.so. */
    static Path compile(Path src, Path exe) throws Exception {
        Path lib = Path.of("target/native/libconta.so").toAbsolutePath();
        assertTrue(Files.isRegularFile(lib), "the build made " + lib + " (native/build.sh in Maven's compile phase)");
        Process p = new ProcessBuilder("gcc", "-O2", "-Wall", "-o", exe.toString(), src.toAbsolutePath().toString(), "-Inative/include",
                "-L" + lib.getParent(), "-lconta", "-Wl,-rpath," + lib.getParent(), "-lpthread").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "gcc: " + out);
        return exe;
    }

    /** What a native program printed. */
    record Printed(String out, String err) { }

    /** Runs a program that embeds the JVM with this test's class path (and env, where null removes); returns its stdout and stderr. */
    static Printed runNative(List<String> cmd, int timeoutS, Map<String, String> env) throws Exception {
        Path err = Files.createTempFile("cabi", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("CONTA_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().put("CONTA_JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("JAVA_TOOL_OPTIONS"); // the JVM would announce them ("Picked up ...") on stderr
        pb.environment().remove("JDK_JAVA_OPTIONS");
        env.forEach((k, v) -> { // a null value removes the variable
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        Path outFile = Files.createTempFile("cabi", ".out");
        pb.redirectOutput(outFile.toFile()); // read after the wait: a hung child cannot hang the test past its timeout
        try {
            Process p = pb.start();
            boolean finished = p.waitFor(timeoutS, TimeUnit.SECONDS);
            if (!finished) p.destroyForcibly().waitFor();
            String out = Files.readString(outFile), e = Files.readString(err);
            assertTrue(finished, "finished in " + timeoutS + " s; output:\n" + out + "\nstderr:\n" + e);
            assertEquals(0, p.exitValue(), "exit code; output:\n" + out + "\nstderr:\n" + e);
            return new Printed(out, e);
        } finally {
            Files.deleteIfExists(err);
            Files.deleteIfExists(outFile);
        }
    }

    /**
     * The JVM's boot warning about the incubator Vector API stays out of the host's stderr, while the host's own
     * lines and the JVM's reason for a failed start (a bad CONTA_JVM_OPTS) still reach it.
     */
    @Test
    void theEmbeddedJvmKeepsItsBootWarningOutOfTheHostsStderr() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Path src = tmp.resolve("boot.c"), bundle = tmp.resolve("seg.safetensors");
        Files.writeString(src, """
                #include <stdio.h>
                #include "conta.h"
                int main(int argc, char **argv) {
                    fprintf(stderr, "host line before\\n");
                    conta_model *m = NULL;
                    int rc = conta_open(argv[1], "cpu", &m);
                    fprintf(stderr, "host line after\\n");
                    printf("%d %s\\n", rc, rc ? conta_last_error() : "");
                    if (m) conta_close(m);
                    return 0;
                }
                """);
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "seg", "--out", bundle.toString()}));
        Path exe = compile(src, tmp.resolve("boot"));
        Printed ok = runNative(List.of(exe.toString(), bundle.toString()), 300, Map.of());
        assertTrue(ok.out().startsWith("0 "), ok.out() + ok.err());
        assertEquals("host line before\nhost line after\n", ok.err(), "nothing but the host's lines on its stderr");
        Printed bad = runNative(List.of(exe.toString(), bundle.toString()), 300, Map.of("CONTA_JVM_OPTS", "-XX:+NoSuchContaFlag"));
        assertTrue(bad.out().startsWith("7 ") && bad.out().contains("CONTA_JVM_OPTS"), bad.out());
        assertTrue(bad.err().contains("NoSuchContaFlag") && !bad.err().contains("incubator"), "the JVM's reason reaches stderr: " + bad.err());
        assertTrue(bad.err().startsWith("host line before\n") && bad.err().endsWith("host line after\n"), bad.err());
        // a JVM that ends the process during its boot: what it wrote to stderr is copied back by its exit/abort hook
        ProcessBuilder fatal = new ProcessBuilder(exe.toString(), bundle.toString()).redirectErrorStream(true);
        fatal.environment().put("CONTA_CLASSPATH", System.getProperty("java.class.path"));
        fatal.environment().put("CONTA_JAVA_HOME", System.getProperty("java.home"));
        fatal.environment().put("CONTA_JVM_OPTS", "-XX:+DisplayVMOutputToStderr -Xmx100000g");
        Process f = fatal.start();
        String said = new String(f.getInputStream().readAllBytes());
        assertTrue(f.waitFor(60, TimeUnit.SECONDS));
        assertTrue(said.contains("Could not reserve enough space"), "the JVM's last words reach the host: " + said);
    }

    /** A classifier bundle from C: CAMs and class scores equal the Java API's, a short scores buffer is refused. */
    @Test
    void classifierCamsAndScoresFromC() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Path src = tmp.resolve("cls.c"), bundle = tmp.resolve("cls.safetensors"), image = TinyRun.image(PredictCommandTest.predIds().getFirst());
        Files.writeString(src, """
                #include <stdio.h>
                #include <stdlib.h>
                #include "conta.h"
                int main(int argc, char **argv) {
                    conta_model *m = NULL;
                    uint8_t *rgb = NULL;
                    int w, h, n = 0;
                    if (conta_open(argv[1], "cpu", &m) || conta_image_read(argv[2], &rgb, &w, &h) || conta_num_classes(m, 1, &n)) {
                        printf("setup %s\\n", conta_last_error());
                        return 0;
                    }
                    float *cams = malloc(sizeof(float) * n * w * h), *scores = malloc(sizeof(float) * n);
                    int rc = conta_cams(m, rgb, w, h, cams, (size_t) n * w * h);
                    int rs = conta_class_scores(m, rgb, w, h, scores, (size_t) n);
                    int short_rc = conta_class_scores(m, rgb, w, h, scores, (size_t) n - 1);
                    printf("rc %d %d %d %s\\n", rc, rs, short_rc, conta_last_error());
                    FILE *f = fopen(argv[3], "wb");
                    fwrite(cams, sizeof(float), (size_t) n * w * h, f);
                    fwrite(scores, sizeof(float), (size_t) n, f);
                    fclose(f);
                    conta_free(rgb);
                    conta_close(m);
                    return 0;
                }
                """);
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--round", "0", "--stage", "cls", "--out", bundle.toString()}));
        Path exe = compile(src, tmp.resolve("cls")), raw = tmp.resolve("cls.raw");
        String out = runNative(List.of(exe.toString(), bundle.toString(), image.toString(), raw.toString()), 600, Map.of()).out();
        assertTrue(out.startsWith("rc 0 0 1 ") && out.contains("scores buffer holds"), out);
        float[] c;
        try (ContaModel m = ContaModel.open(bundle, "cpu")) {
            RgbImage im = ImageCodec.read(image);
            float[] cams = m.cams(im.rgb(), im.w(), im.h(), null), scores = m.classScores(im.rgb(), im.w(), im.h(), null);
            c = new float[cams.length + scores.length];
            System.arraycopy(cams, 0, c, 0, cams.length);
            System.arraycopy(scores, 0, c, cams.length, scores.length);
        }
        java.nio.FloatBuffer got = java.nio.ByteBuffer.wrap(Files.readAllBytes(raw)).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        float[] fromC = new float[got.remaining()];
        got.get(fromC);
        assertArrayEquals(c, fromC, "the C ABI's CAMs and scores equal the Java API's");
    }

    @Test
    void cProgramMatchesTheJavaApiAndSurvivesBadInput() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Path voc = SharedData.voc().resolve("JPEGImages");
        Path photo;
        try (var s = Files.list(voc)) {
            photo = s.filter(f -> f.toString().endsWith(".jpg")).sorted().findFirst().orElseThrow();
        }
        Path bundle = tmp.resolve("seg.safetensors");
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "seg", "--out", bundle.toString()}));
        byte[] jpg = Files.readAllBytes(photo);
        Path corrupt = tmp.resolve("corrupt.jpg");
        Files.write(corrupt, java.util.Arrays.copyOf(jpg, jpg.length / 3));
        Path exe = compile(Path.of("native/tests/abi_check.c"), tmp.resolve("abi_check"));
        Path raw = tmp.resolve("labels.raw");
        String out = runNative(List.of(exe.toString(), bundle.toString(), photo.toString(), raw.toString(), corrupt.toString()), 600, Map.of()).out();

        Map<String, String[]> r = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.split(" ", 3);
            r.put(f[0], f);
        }
        assertTrue(r.containsKey("done"), out);
        RgbImage im = ImageCodec.read(photo);
        byte[] java;
        try (ContaModel m = ContaModel.open(bundle, "cpu")) {
            java = m.segment(im.rgb(), im.w(), im.h(), null);
        }
        assertArrayEquals(java, Files.readAllBytes(raw), "the C ABI's label map equals the Java API's");
        assertEquals("8-equal", r.get("threads")[1], "4 threads x 2 calls from C all equal the first result");
        assertEquals("8", r.get("num_classes")[1]);
        for (String ok : new String[]{"open", "read", "segment", "classes", "close"}) assertEquals("0", r.get(ok)[1], ok + ": " + out);
        expect(r, "missing_bundle", 2, "/nonexistent/model.safetensors");
        expect(r, "bad_device", 6, "tpu:7");
        expect(r, "corrupt_image", 4, "corrupt.jpg");
        expect(r, "missing_image", 2, "does not exist");
        expect(r, "wrong_buffer", 1, "needs " + im.w() * im.h());
        expect(r, "zero_width", 1, "0x" + im.h()); // a size that is no size is a bad argument, as in the Java API
        expect(r, "huge_image", 4, "100000x16");
        expect(r, "null_image", 1, "NULL");
        expect(r, "cams_of_seg", 5, "classifier");
        expect(r, "scores_of_seg", 5, "classifier");
        expect(r, "bad_precision", 1, "fp16");
        expect(r, "close_again", 1, "invalid or closed model handle");
        expect(r, "use_after_close", 1, "invalid or closed model handle");
        expect(r, "class_name_no_room", 1, "buf_len is 0");
        for (String ok : new String[]{"open_bf16", "segment_bf16", "close_bf16"}) assertEquals("0", r.get(ok)[1], ok + ": " + out);
        String[] agree = r.get("bf16_agree")[2].split(" "); // "N of M": bf16 labels equal fp32's on (nearly) every pixel
        assertTrue(Long.parseLong(r.get("bf16_agree")[1]) >= 0.95 * Long.parseLong(agree[1]), "bf16 vs fp32 through the C ABI: " + String.join(" ", r.get("bf16_agree")));
    }

    /**
     * What a service host needs besides the calls (found by an embedding probe, session 24): a host with 600 MB of its
     * own under -Xmx128m still gets results (JavaCPP counted the host's memory against twice -Xmx and failed every
     * call), its SIGCHLD handler survives conta_open (the JDK's process support set it to the default), and a success
     * such as conta_close(NULL) clears the last error.
     */
    @Test
    void aServiceHostKeepsItsMemoryItsSignalsAndAClearError() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Path src = tmp.resolve("host.c"), bundle = tmp.resolve("seg.safetensors");
        Files.writeString(src, """
                #include <signal.h>
                #include <stdio.h>
                #include <stdlib.h>
                #include <string.h>
                #include "conta.h"
                static void on_chld(int s) { (void) s; }
                int main(int argc, char **argv) {
                    size_t mb = (size_t) atoi(argv[2]);
                    char *ballast = malloc(mb << 20);
                    memset(ballast, 1, mb << 20); /* resident: the host's own memory */
                    struct sigaction sa, now;
                    memset(&sa, 0, sizeof sa);
                    sa.sa_handler = on_chld;
                    sigaction(SIGCHLD, &sa, NULL);
                    conta_model *m = NULL;
                    int rc = conta_open(argv[1], "cpu", &m);
                    sigaction(SIGCHLD, NULL, &now);
                    printf("open %d %s\\n", rc, rc ? conta_last_error() : "");
                    printf("sigchld %s\\n", now.sa_handler == on_chld ? "kept" : "lost");
                    static uint8_t rgb[64 * 64 * 3], labels[64 * 64];
                    memset(rgb, 120, sizeof rgb);
                    for (int i = 0; i < 3; i++) {
                        rc = conta_segment_rgb8(m, rgb, 64, 64, labels, sizeof labels);
                        printf("segment %d %s\\n", rc, rc ? conta_last_error() : "");
                    }
                    printf("bad %d\\n", conta_segment_rgb8(m, NULL, 64, 64, labels, sizeof labels));
                    rc = conta_close(NULL);
                    printf("close_null %d [%s]\\n", rc, conta_last_error());
                    printf("close %d\\n", conta_close(m));
                    printf("version %s\\n", conta_version());
                    printf("ballast %d\\n", ballast[(mb << 20) - 1]);
                    return 0;
                }
                """);
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "seg", "--out", bundle.toString()}));
        Path exe = compile(src, tmp.resolve("host"));
        String out = runNative(List.of(exe.toString(), bundle.toString(), "600"), 300, Map.of("CONTA_JVM_OPTS", "-Xmx128m")).out();
        String version = java.util.regex.Pattern.compile("<artifactId>conta</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(Path.of("pom.xml"))).results().findFirst().orElseThrow().group(1);
        assertTrue(out.startsWith("open 0 \nsigchld kept\nsegment 0 \nsegment 0 \nsegment 0 \nbad 1\nclose_null 0 []\nclose 0\nversion " + version + "\n"), out);
    }

    /** A host that started OpenMP before conta, with no wait setting of its own, is told once how to avoid slow calls. */
    @Test
    void aHostThatStartedOpenMpFirstIsToldToSetItsWait() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Path src = tmp.resolve("omp.c"), exe = tmp.resolve("omp"), bundle = tmp.resolve("seg.safetensors");
        Files.writeString(src, """
                #include <stdio.h>
                #include <stdlib.h>
                #include "conta.h"
                int main(int argc, char **argv) {
                    (void) argc;
                    double s = 0;
                    #pragma omp parallel for reduction(+:s)
                    for (int i = 0; i < 1000; i++) s += i;
                    conta_model *m = NULL;
                    int rc = conta_open(argv[1], "cpu", &m);
                    printf("open %d sum %.0f\\n", rc, s);
                    fprintf(stderr, "spin %s\\n", getenv("GOMP_SPINCOUNT") ? getenv("GOMP_SPINCOUNT") : "unset");
                    conta_close(m);
                    return 0;
                }
                """);
        Path lib = Path.of("target/native/libconta.so").toAbsolutePath();
        Process cc = new ProcessBuilder("gcc", "-O2", "-fopenmp", "-o", exe.toString(), src.toString(), "-Inative/include", "-L" + lib.getParent(),
                "-lconta", "-Wl,-rpath," + lib.getParent()).redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes());
        Assumptions.assumeTrue(cc.waitFor() == 0, "gcc cannot build an OpenMP program here: " + ccOut);
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "seg", "--out", bundle.toString()}));
        java.util.Map<String, String> env = new java.util.HashMap<>();
        env.put("GOMP_SPINCOUNT", null); // no OpenMP setting of the host's own
        env.put("OMP_WAIT_POLICY", null);
        Printed p = runNative(List.of(exe.toString(), bundle.toString()), 300, env);
        assertEquals("open 0 sum 499500\n", p.out());
        // libconta.so set the spin it names (the rounds of ~100 us on this CPU, as target/native/conta-spin prints)
        java.util.regex.Matcher said = java.util.regex.Pattern.compile(
                "conta: this process loaded OpenMP \\(libgomp\\) before conta: set GOMP_SPINCOUNT=(\\d+) .*\nspin (\\d+)\n").matcher(p.err());
        assertTrue(said.matches(), p.err());
        assertEquals(said.group(1), said.group(2));
        long rounds = Long.parseLong(said.group(2));
        assertTrue(rounds >= 250 && rounds <= 20000, p.err());
        env.put("OMP_WAIT_POLICY", "passive"); // the host's own setting: nothing to say, nothing set
        assertEquals("spin unset\n", runNative(List.of(exe.toString(), bundle.toString()), 300, env).err());
        env.put("OMP_WAIT_POLICY", null);
        env.put("GOMP_SPINCOUNT", "777"); // the host's own count stays
        assertEquals("spin 777\n", runNative(List.of(exe.toString(), bundle.toString()), 300, env).err());
    }

    /**
     * A plugin-style host unloads libconta.so (dlclose) while a thread that used it still runs: the thread's exit ran
     * the library's detach hook in unmapped code (SIGSEGV). The library is linked -z nodelete, so it stays mapped.
     */
    @Test
    void aHostMayUnloadTheLibraryWhileAThreadThatUsedItLives() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Path src = tmp.resolve("unload.c"), exe = tmp.resolve("unload"), bundle = tmp.resolve("seg.safetensors");
        Files.writeString(src, """
                #include <dlfcn.h>
                #include <pthread.h>
                #include <stdio.h>
                typedef int (*open_fn)(const char *, const char *, void **);
                typedef int (*close_fn)(void *);
                static open_fn op;
                static close_fn cl;
                static const char *bundle;
                static pthread_barrier_t bar;
                static void *worker(void *x) {
                    (void) x;
                    void *m = NULL;
                    printf("open %d\\n", op(bundle, "cpu", &m));
                    if (m) cl(m);
                    pthread_barrier_wait(&bar); /* main unloads the library now */
                    pthread_barrier_wait(&bar);
                    return NULL;                /* the thread's exit runs its per-thread hooks */
                }
                int main(int argc, char **argv) {
                    (void) argc;
                    bundle = argv[1];
                    void *h = dlopen(argv[2], RTLD_NOW);
                    if (!h) { printf("dlopen %s\\n", dlerror()); return 1; }
                    op = (open_fn) dlsym(h, "conta_open");
                    cl = (close_fn) dlsym(h, "conta_close");
                    pthread_barrier_init(&bar, NULL, 2);
                    pthread_t t;
                    pthread_create(&t, NULL, worker, NULL);
                    pthread_barrier_wait(&bar);
                    printf("dlclose %d\\n", dlclose(h));
                    pthread_barrier_wait(&bar);
                    pthread_join(t, NULL);
                    printf("joined\\n");
                    fflush(stdout);
                    return 0;
                }
                """);
        Process cc = new ProcessBuilder("gcc", "-O2", "-o", exe.toString(), src.toString(), "-ldl", "-lpthread").redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes());
        assertEquals(0, cc.waitFor(), ccOut);
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "seg", "--out", bundle.toString()}));
        String lib = Path.of("target/native/libconta.so").toAbsolutePath().toString();
        assertEquals("open 0\ndlclose 0\njoined\n", runNative(List.of(exe.toString(), bundle.toString(), lib), 300, Map.of()).out());
    }

    /**
     * libconta.so called from inside a JVM that runs already (here this test's, through the FFM API): the library
     * shares that JVM and finds its bridge through the application class path (JNI's FindClass from a thread with no
     * Java caller searched the boot class path only, and open failed with "NativeBridge not found").
     */
    @Test
    void theLibraryCalledFromARunningJvmFindsItsBridge() throws Throwable {
        Assumptions.assumeTrue(Files.isRegularFile(Path.of("target/native/libconta.so")), "no libconta.so (the build had no C compiler)");
        Path bundle = tmp.resolve("seg.safetensors");
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "seg", "--out", bundle.toString()}));
        var linker = java.lang.foreign.Linker.nativeLinker();
        // the global arena: the library stays loaded with this JVM (the C test above unloads one)
        var lib = java.lang.foreign.SymbolLookup.libraryLookup(Path.of("target/native/libconta.so").toAbsolutePath(), java.lang.foreign.Arena.global());
        var addr = java.lang.foreign.ValueLayout.ADDRESS;
        var open = linker.downcallHandle(lib.find("conta_open").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, addr, addr, addr));
        var close = linker.downcallHandle(lib.find("conta_close").orElseThrow(), java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, addr));
        var lastError = linker.downcallHandle(lib.find("conta_last_error").orElseThrow(), java.lang.foreign.FunctionDescriptor.of(addr));
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var handle = arena.allocate(addr);
            int rc = (int) open.invokeExact(arena.allocateFrom(bundle.toString()), arena.allocateFrom("cpu"), handle);
            String err = ((java.lang.foreign.MemorySegment) lastError.invokeExact()).reinterpret(4096).getString(0);
            assertEquals(0, rc, err);
            assertEquals(0, (int) close.invokeExact(handle.get(addr, 0)));
        }
    }

    /** Opens argv[1], reads the image argv[2] and writes a 16x16 label map to each further path, printing each result. */
    private static final String PATHS_C = """
            #include <stdio.h>
            #include <stdint.h>
            #include "conta.h"
            int main(int argc, char **argv) {
                conta_model *m = NULL;
                int rc = conta_open(argv[1], "cpu", &m);
                printf("open %d %s\\n", rc, conta_last_error());
                conta_close(m);
                uint8_t *px = NULL;
                int w = 0, h = 0;
                rc = conta_image_read(argv[2], &px, &w, &h);
                printf("read %d %dx%d %s\\n", rc, w, h, conta_last_error());
                conta_free(px);
                static uint8_t labels[256];
                for (int i = 3; i < argc; i++) {
                    rc = conta_labels_write_png(argv[i], labels, 16, 16);
                    printf("write %d %s\\n", rc, conta_last_error());
                }
                return 0;
            }
            """;

    /**
     * File names are the host's bytes: a UTF-8 name with a 4-byte character (an emoji) reached the JVM through
     * NewStringUTF's modified UTF-8 and became another, missing name ("\u00f0.safetens"). Under the C locale the JVM cannot
     * name a non-ASCII file at all: that is the caller's argument (with the fix), not an internal error.
     */
    @Test
    void nonAsciiFileNamesReachTheirFiles() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Assumptions.assumeTrue("UTF-8".equals(System.getProperty("sun.jnu.encoding")), "this JVM cannot name non-ASCII files (its locale)");
        Path src = tmp.resolve("paths.c"), bundle = tmp.resolve("seg \uD83D\uDE00\u00e9.safetensors"), image = tmp.resolve("\uD83D\uDC31.jpg");
        Files.writeString(src, PATHS_C);
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--run", TinyRun.out().toString(), "--stage", "seg", "--out", bundle.toString()}));
        Files.copy(TinyRun.image(PredictCommandTest.predIds().getFirst()), image);
        RgbImage im = ImageCodec.decode(Files.readAllBytes(image));
        Path png = tmp.resolve("out \uD83C\uDF0D").resolve("\u00e4.png");
        Path exe = compile(src, tmp.resolve("paths"));
        List<String> cmd = List.of(exe.toString(), bundle.toString(), image.toString(), png.toString());
        String out = runNative(cmd, 300, Map.of("LC_ALL", "C.UTF-8")).out();
        assertEquals("open 0 \nread 0 " + im.w() + "x" + im.h() + " \nwrite 0 \n", out);
        assertTrue(Files.isRegularFile(png), "the label map is at " + png);
        out = runNative(cmd, 300, Map.of("LC_ALL", "C")).out(); // the JVM's file names are ASCII then
        List<String> lines = out.lines().toList();
        assertEquals(3, lines.size(), out);
        for (String l : lines) assertTrue(l.matches("(open|read|write) 1 .*") && l.contains("UTF-8 locale"), l);
    }

    /**
     * A name whose bytes are not valid in the JVM's file-name encoding (a Latin-1 'é', 0xE9, under UTF-8): the JVM would
     * open, read or write another name (with U+FFFD in it). It said "model bundle .../caf\uFFFD.safetensors does not
     * exist" of a file that existed; now each call is the caller's argument, naming the bytes and the fix, and no file
     * of another name is written.
     */
    @Test
    void aNameThatIsNotValidUtf8IsRefusedNamingItsBytes() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Assumptions.assumeTrue("UTF-8".equals(System.getProperty("sun.jnu.encoding")), "this JVM does not name files in UTF-8 (its locale)");
        Path src = tmp.resolve("latin1.c"), dir = tmp.resolve("latin1");
        Files.createDirectories(dir);
        Files.writeString(src, """
                #include <stdio.h>
                #include <stdint.h>
                #include "conta.h"
                int main(int argc, char **argv) {
                    (void) argc;
                    char bundle[4096], image[4096], png[4096];
                    snprintf(bundle, sizeof bundle, "%s/caf\\xe9.safetensors", argv[1]);
                    snprintf(image, sizeof image, "%s/caf\\xe9.jpg", argv[1]);
                    snprintf(png, sizeof png, "%s/caf\\xe9.png", argv[1]);
                    FILE *f = fopen(bundle, "wb"); /* the file exists: only its name is the problem */
                    fputs("x", f);
                    fclose(f);
                    conta_model *m = NULL;
                    printf("open %d %s\\n", conta_open(bundle, "cpu", &m), conta_last_error());
                    uint8_t *px = NULL;
                    int w = 0, h = 0;
                    printf("read %d %s\\n", conta_image_read(image, &px, &w, &h), conta_last_error());
                    static uint8_t labels[256];
                    printf("write %d %s\\n", conta_labels_write_png(png, labels, 16, 16), conta_last_error());
                    return 0;
                }
                """);
        Path exe = compile(src, tmp.resolve("latin1-host"));
        String out = runNative(List.of(exe.toString(), dir.toString()), 300, Map.of("LC_ALL", "C.UTF-8")).out();
        List<String> lines = out.lines().toList();
        assertEquals(3, lines.size(), out);
        String[] ext = {"safetensors", "jpg", "png"}, call = {"open", "read", "write"};
        for (int i = 0; i < 3; i++)
            assertEquals(call[i] + " 1 the path " + dir + "/caf\\xE9." + ext[i] + " is not valid UTF-8, the encoding this JVM names files in "
                    + "(sun.jnu.encoding, from LANG/LC_ALL/LC_CTYPE), so conta cannot open or write it: rename the file, or start the host "
                    + "in a locale whose encoding the name is in", lines.get(i));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the bundle the program made: no label map under a replacement name");
        }
    }

    /** conta_labels_write_png: "a file it cannot write is CONTA_ERR_ARGUMENT with the reason" (docs/api.md). */
    @Test
    void anUnwritableLabelPathIsTheCallersArgumentWithItsReason() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Path src = tmp.resolve("paths.c"), plain = tmp.resolve("plain.txt");
        Files.writeString(src, PATHS_C);
        Files.writeString(plain, "a file");
        Path exe = compile(src, tmp.resolve("paths"));
        String out = runNative(List.of(exe.toString(), "/nonexistent/seg.safetensors", "/nonexistent/x.jpg", tmp.toString(),
                plain.resolve("l.png").toString(), tmp.resolve("ok/l.png").toString()), 300, Map.of()).out();
        List<String> lines = out.lines().toList();
        assertEquals(5, lines.size(), out);
        assertTrue(lines.get(0).startsWith("open 2 ") && lines.get(1).startsWith("read 2 "), out);
        assertEquals("write 1 " + tmp + " is a folder; give the name of a file to write", lines.get(2)); // a folder
        assertEquals("write 1 cannot write " + plain.resolve("l.png") + ": " + plain + " is a file, not a folder", lines.get(3));
        assertEquals("write 0 ", lines.get(4));
        assertTrue(Files.isRegularFile(tmp.resolve("ok/l.png")));
    }

    private static final String NAMES_C = """
            #include <stdio.h>
            #include "conta.h"
            int main(int argc, char **argv) {
                conta_model *m = NULL;
                int rc = conta_open(argv[1], "cpu", &m), n = 0;
                printf("open %d %s\\n", rc, conta_last_error());
                conta_num_classes(m, 0, &n);
                char name[64], cut[6];
                for (int k = 0; k < n; k++) {
                    conta_class_name(m, k, name, sizeof name);
                    conta_class_name(m, k, cut, sizeof cut);
                    printf("[%s] [%s]\\n", name, cut);
                }
                conta_close(m);
                rc = conta_open(argv[2], "cpu", &m);
                printf("missing %d %s\\n", rc, conta_last_error());
                return 0;
            }
            """;

    /**
     * Text back to C is UTF-8: class names and messages came through GetStringUTFChars, whose modified UTF-8 writes a
     * 4-byte character as two 3-byte surrogates that no UTF-8 reader accepts; a name cut to a short buffer ends at a
     * character boundary (hand-worked: "cat \uD83D\uDC31" is 8 bytes, a 6-byte buffer holds "cat " and the NUL).
     */
    @Test
    void classNamesAndMessagesReachTheHostAsUtf8() throws Exception {
        Assumptions.assumeTrue(hasGcc(), "no gcc on PATH");
        Assumptions.assumeTrue("UTF-8".equals(System.getProperty("sun.jnu.encoding")), "this JVM cannot name non-ASCII files (its locale)");
        Path weights = Path.of("test-data/fixtures/deeplab_w4_160/init.pth"); // a DeepLab-v2 of width 4, blocks 1,1,1,1, 5 classes
        Path names = tmp.resolve("names.txt"), bundle = tmp.resolve("seg.safetensors"), src = tmp.resolve("names.c");
        Files.writeString(names, "background\ncat \uD83D\uDC31\nd\u00f6g\nhorse\nsheep\n");
        assertEquals(0, conta.cli.Main.run(new String[]{"export", "--arch", "deeplabv2-resnet101", "--width", "4", "--blocks", "1,1,1,1", "--classes", "5",
                "--weights", weights.toString(), "--names", names.toString(), "--out", bundle.toString()}));
        Files.writeString(src, NAMES_C);
        Path missing = tmp.resolve("\uD83D\uDE00").resolve("seg.safetensors");
        byte[] raw = runNativeBytes(List.of(compile(src, tmp.resolve("names")).toString(), bundle.toString(), missing.toString()));
        String out = java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(raw)).toString(); // throws on bad UTF-8
        List<String> lines = out.lines().toList();
        assertEquals(List.of("open 0 ", "[background] [backg]", "[cat \uD83D\uDC31] [cat ]", "[d\u00f6g] [d\u00f6g]", "[horse] [horse]", "[sheep] [sheep]"),
                lines.subList(0, 6), out);
        assertTrue(lines.get(6).startsWith("missing 2 ") && lines.get(6).contains(missing.toString()), lines.get(6));
    }

    /** runNative's output as the bytes the program wrote (readString would refuse what is not UTF-8 before any assertion). */
    private byte[] runNativeBytes(List<String> cmd) throws Exception {
        Path outFile = tmp.resolve("native.out");
        List<String> wrapped = List.of("/bin/sh", "-c", "\"$0\" \"$@\" > \"" + outFile + "\"", cmd.getFirst());
        List<String> all = new java.util.ArrayList<>(wrapped);
        all.addAll(cmd.subList(1, cmd.size()));
        runNative(all, 300, Map.of("LC_ALL", "C.UTF-8"));
        return Files.readAllBytes(outFile);
    }

    private static void expect(Map<String, String[]> r, String name, int code, String inMessage) {
        String[] f = r.get(name);
        assertTrue(f != null && f.length == 3, name + " reported: " + (f == null ? null : String.join(" ", f)));
        assertEquals(Integer.toString(code), f[1], name + ": " + f[2]);
        assertTrue(f[2].contains(inMessage), name + " message '" + f[2] + "' names " + inMessage);
    }
}
