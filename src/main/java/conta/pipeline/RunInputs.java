package conta.pipeline;

import conta.config.Config;
import conta.data.Dataset;
import conta.error.UserError;
import conta.io.AtomicWrite;
import conta.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What a run was made from, kept in OUT/inputs.json: the dataset (every used id with its labels and the size and
 * SHA-256 of its image and mask files), the weights files of cls/irn/seg.weights, and the conta version that wrote
 * each finished stage. A rerun into a folder whose stages were made from other inputs is refused with the
 * differences named (fix: a new --out, or --force-new-data to accept them); the config is checked apart, key by key,
 * by {@link Pipeline}. Hashes are cached in the same file by path, size and modification time, so a rerun over an
 * unchanged set only lists the files.
 */
final class RunInputs {
    static final String FILE = "inputs.json";
    private static final String[] WEIGHT_KEYS = {"cls.weights", "irn.weights", "seg.weights"};

    final Map<String, Object> items = new LinkedHashMap<>();
    final Map<String, Object> weights = new LinkedHashMap<>();
    private final Map<String, Object> cache = new LinkedHashMap<>();
    private final Map<String, Object> stageVersions = new LinkedHashMap<>();
    private final Path out;
    /** The dataset's folder, absolute: what an error about the run's files names as --data in the command it gives. */
    private String dataRoot;

    private RunInputs(Path out) { this.out = out; }

    /** The conta version of this build (the jar's Maven version; "unpackaged" when run from classes, e.g. in tests). */
    static String version() {
        try (InputStream in = RunInputs.class.getResourceAsStream("/META-INF/maven/dev.conta/conta/pom.properties")) {
            if (in == null) return "unpackaged";
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "unpackaged");
        } catch (IOException e) {
            return "unpackaged";
        }
    }

    /** Fingerprints the ids (train and val) of ds and the config's weights files, reusing OUT's cached hashes. */
    @SuppressWarnings("unchecked")
    static RunInputs of(Dataset ds, List<String> ids, Config cfg, Path out) {
        RunInputs r = new RunInputs(out);
        r.dataRoot = ds.root().toAbsolutePath().normalize().toString();
        Map<String, Object> old = read(out);
        Map<String, Object> oldCache = old == null ? Map.of() : (Map<String, Object>) old.getOrDefault("file_cache", Map.of());
        if (old != null) r.stageVersions.putAll((Map<String, Object>) old.getOrDefault("stage_versions", Map.of()));
        for (String id : new TreeSet<>(ids)) {
            StringBuilder sb = new StringBuilder("labels ");
            int[] l = ds.labels(id);
            for (int i = 0; i < l.length; i++) sb.append(i == 0 ? "" : ",").append(l[i]);
            for (Path f : ds.files(id)) sb.append(" | ").append(rel(ds.root(), f)).append(' ').append(r.hash(f, oldCache));
            r.items.put(id, sb.toString());
        }
        for (String k : WEIGHT_KEYS) {
            String v = cfg.str(k);
            Path f = v.equals("imagenet") ? cachedImagenet() : v.equals("none") || v.equals("cls") ? null : Path.of(v);
            r.weights.put(k, f == null || !Files.isRegularFile(f) ? v : v + " | " + f.toAbsolutePath() + " " + r.hash(f, oldCache));
        }
        return r;
    }

    /** The ImageNet ResNet-50 file if it was fetched already (fingerprinting must never trigger the download). */
    private static Path cachedImagenet() {
        Path f = conta.io.PretrainedWeights.defaultCacheDir().resolve(conta.io.PretrainedWeights.RESNET50_FILE);
        return Files.isRegularFile(f) ? f : null;
    }

    private static String rel(Path root, Path f) {
        try {
            return root.toAbsolutePath().normalize().relativize(f.toAbsolutePath().normalize()).toString();
        } catch (IllegalArgumentException e) {
            return f.toString();
        }
    }

    /** "size sha256" of a file, from the cache when its path, size and mtime are unchanged. */
    private String hash(Path f, Map<String, Object> oldCache) {
        String key = f.toAbsolutePath().normalize().toString();
        try {
            long size = Files.size(f), mtime = Files.getLastModifiedTime(f).toMillis();
            String stamp = size + " " + mtime;
            Object c = cache.containsKey(key) ? cache.get(key) : oldCache.get(key);
            String h;
            if (c instanceof String s && s.startsWith(stamp + " ")) h = s.substring(stamp.length() + 1);
            else h = sha256(f);
            cache.put(key, stamp + " " + h);
            return size + " " + h;
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    private static String sha256(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> read(Path out) {
        Path f = out.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        return Json.readObject(f, "delete it to record this run's inputs again, or use a new --out"); // damaged: one line with that fix
    }

    /**
     * Refuses to continue a run whose finished work came from other inputs (unless force), naming what differs;
     * with force, or when nothing is finished yet, the new inputs are accepted with a note.
     */
    void checkAgainstOut(boolean force) { checkAgainstOut(force, s -> false); }

    /**
     * The same for a run whose --from removes some stages first: those (cleared tests "roundT/STAGE") are forgotten,
     * so the conta version that wrote them is no difference.
     */
    @SuppressWarnings("unchecked")
    void checkAgainstOut(boolean force, java.util.function.Predicate<String> cleared) {
        stageVersions.keySet().removeIf(cleared);
        Map<String, Object> old = read(out);
        if (old == null) return;
        List<String> diff = new ArrayList<>();
        diffMaps("data", (Map<String, Object>) old.getOrDefault("items", Map.of()), items, diff);
        Map<String, Object> ow = (Map<String, Object>) old.getOrDefault("weights", Map.of());
        for (var e : weights.entrySet()) {
            Object was = ow.get(e.getKey());
            // a recorded hash against a recorded hash: "imagenet" before its first fetch has none, and is no change
            if (was != null && String.valueOf(was).contains(" | ") && String.valueOf(e.getValue()).contains(" | ") && !was.equals(e.getValue()))
                diff.add(e.getKey() + " file changed (" + was + " -> " + e.getValue() + ")");
        }
        String v = version();
        for (var e : stageVersions.entrySet())
            if (!v.equals(e.getValue())) diff.add(e.getKey() + " was written by conta " + e.getValue() + ", this is conta " + v);
        if (diff.isEmpty() || !anyWork()) return;
        String what = String.join("; ", diff);
        if (force) {
            System.err.println("note: --force-new-data: continuing " + out + " although its inputs changed: " + what);
            return;
        }
        throw new UserError(out + " holds a run made from other inputs: " + what
                + "; use a new --out, or --force-new-data to keep its finished stages with the new inputs");
    }

    private boolean anyWork() {
        return Files.isDirectory(conta.io.RunLayout.roundDir(out, 0));
    }

    private static void diffMaps(String what, Map<String, Object> was, Map<String, Object> now, List<String> diff) {
        List<String> added = new ArrayList<>(), removed = new ArrayList<>(), changed = new ArrayList<>();
        for (String id : now.keySet()) if (!was.containsKey(id)) added.add(id);
        for (String id : was.keySet()) {
            if (!now.containsKey(id)) removed.add(id);
            else if (!String.valueOf(was.get(id)).equals(now.get(id))) changed.add(id + " (" + firstDifference(String.valueOf(was.get(id)), String.valueOf(now.get(id))) + ")");
        }
        if (!changed.isEmpty()) diff.add(what + ": " + changed.size() + " item(s) changed: " + few(changed));
        if (!added.isEmpty()) diff.add(what + ": " + added.size() + " id(s) added: " + few(added));
        if (!removed.isEmpty()) diff.add(what + ": " + removed.size() + " id(s) removed: " + few(removed));
    }

    /**
     * Which part of an item's record differs: its labels, or one of its files: the content (same path), the path
     * (the same bytes elsewhere, e.g. another folder layout), or both.
     */
    static String firstDifference(String a, String b) {
        String[] pa = a.split(" \\| "), pb = b.split(" \\| ");
        for (int i = 0; i < Math.min(pa.length, pb.length); i++) {
            if (pa[i].equals(pb[i])) continue;
            if (i == 0) return pa[i] + " -> " + pb[i];
            String[] fa = fileRecord(pa[i]), fb = fileRecord(pb[i]);
            if (fa[0].equals(fb[0])) return fb[0] + " content";
            return fa[0] + " -> " + fb[0] + (fa[1].equals(fb[1]) ? ": same content, another path" : ", other content");
        }
        return "files " + pa.length + " -> " + pb.length;
    }

    /** {path, "size sha256"} of a file's part of a record ("path size sha256"; the path may hold spaces). */
    private static String[] fileRecord(String part) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.*) ([0-9]+ [0-9a-f]+)").matcher(part);
        if (m.matches()) return new String[]{m.group(1), m.group(2)};
        int u = part.indexOf(" unreadable (");
        return u > 0 ? new String[]{part.substring(0, u), part.substring(u + 1)} : new String[]{part, ""};
    }

    private static String few(List<String> l) {
        return String.join(", ", l.subList(0, Math.min(3, l.size()))) + (l.size() > 3 ? ", ..." : "");
    }

    /** Records that this build finished a stage (roundT/STAGE). */
    void stageDone(String stage) {
        stageVersions.put(stage, version());
        write();
    }

    /** Writes OUT/inputs.json (atomically: a kill leaves the old or the new file). */
    void write() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("conta_version", version());
        j.put("data", dataRoot);
        j.put("items", items);
        j.put("weights", weights);
        j.put("stage_versions", stageVersions);
        j.put("file_cache", cache);
        try {
            AtomicWrite.write(out.resolve(FILE), Json.writePretty(j).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UserError("cannot write " + out.resolve(FILE) + " (" + e.getMessage() + "); --out must be a writable folder");
        }
    }
}
