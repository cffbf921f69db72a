package conta.data;

import conta.image.ImageCodec;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Shared logic of file-per-image sets (VOC, custom): split lists, lazy labels, size checks. */
abstract class FolderDataset implements Dataset {
    protected final Path root;
    protected final List<String> classes;
    protected final boolean skipBad;
    protected final Map<String, List<String>> splits = new LinkedHashMap<>();
    protected final List<BadItem> bad = new ArrayList<>();
    /** Repeated lines of split lists left out under skip-bad (apart from bad, whose ids are dropped everywhere). */
    protected final List<BadItem> dupLines = new ArrayList<>();
    private final Map<String, int[]> labelCache = new ConcurrentHashMap<>();

    FolderDataset(Path root, List<String> classes, boolean skipBad) {
        this.root = root;
        this.classes = classes;
        this.skipBad = skipBad;
    }

    abstract Path imagePath(String id);

    /** Mask file, or null when this id has none. */
    abstract Path maskPath(String id);

    /** Labels from a labels file or annotations, or null to derive them from the mask. */
    abstract int[] declaredLabels(String id);

    @Override public Path root() { return root; }

    @Override public List<String> classNames() { return classes; }

    @Override public List<String> splits() { return List.copyOf(splits.keySet()); }

    @Override
    public List<BadItem> skipped() {
        List<BadItem> all = new ArrayList<>(bad);
        all.addAll(dupLines);
        return List.copyOf(all);
    }

    @Override
    public List<String> ids(String split) {
        List<String> ids = splits.get(split);
        if (ids == null)
            throw new DataError(null, root, "dataset " + root + " has no split '" + split + "' (known: " + String.join(", ", splits.keySet()) + ")"
                    + (splits.keySet().equals(java.util.Set.of("all")) ? "; without a splits/ folder every labelled image is in split 'all': "
                    + "run with --set data.train=all --set data.val=all, or add splits/" + split + ".txt (one image id a line)" : ""));
        return ids;
    }

    @Override
    public boolean hasMask(String id) { return maskPath(id) != null; }

    @Override
    public List<Path> files(String id) {
        Path m = maskPath(id);
        return m == null ? List.of(imagePath(id)) : List.of(imagePath(id), m);
    }

    @Override
    public int[] labels(String id) {
        return labelCache.computeIfAbsent(id, k -> {
            int[] d = declaredLabels(k);
            if (d != null) return d;
            Mask m = mask(k);
            if (m == null)
                throw new DataError(k, imagePath(k), "no image-level labels for " + k + ": no annotation, labels file entry or mask; add one");
            return m.classesPresent(numClasses());
        }).clone();
    }

    @Override
    public Mask mask(String id) {
        Path p = maskPath(id);
        if (p == null) return null;
        Mask m;
        try {
            m = IndexPng.read(p);
        } catch (IOException e) {
            throw DataError.of(id, p, e);
        }
        checkValues(id, p, m);
        return m;
    }

    /** Mask values must be 0..C (C = numClasses()) or 255. */
    void checkValues(String id, Path p, Mask m) {
        long[] h = m.histogram();
        for (int v = numClasses() + 1; v < 255; v++)
            if (h[v] > 0)
                throw new DataError(id, p, "mask " + p + " holds value " + v + " but the set has only " + numClasses()
                        + " foreground classes (allowed values 0.." + numClasses() + ", 255 = ignore); fix the mask or the classes file");
    }

    @Override
    public Item read(String id) {
        Path ip = imagePath(id);
        RgbImage im;
        try {
            im = ImageCodec.read(ip);
        } catch (IOException e) {
            throw DataError.of(id, ip, e);
        }
        Mask m = mask(id);
        if (m != null && (m.h() != im.h() || m.w() != im.w())) throw Datasets.maskSize(id, maskPath(id), m, ip, im.w(), im.h());
        return new Item(id, im, m, labels(id));
    }

    /**
     * Reads an id list (see {@link TextLines#ids}). An id listed twice is refused, or under skip-bad its later
     * lines are left out and listed; the id itself stays.
     */
    List<String> readList(Path file) {
        return TextLines.ids(file, (id, why) -> {
            if (!skipBad) throw new DataError(id, file, why);
            dupLines.add(new BadItem(id, file, why));
        });
    }

    /** id -> its image files in dir (any accepted extension, any case); listed once, as split lists are read. */
    static Map<String, List<Path>> imageIndex(Path dir) {
        Map<String, List<Path>> m = new java.util.HashMap<>();
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                int dot = n.lastIndexOf('.');
                if (dot <= 0 || !conta.image.ImageCodec.hasImageExtension(n)) continue;
                m.computeIfAbsent(n.substring(0, dot), k -> new ArrayList<>()).add(p);
            }
        } catch (IOException e) {
            throw DataError.of(null, dir, e);
        }
        return m;
    }

    /** Why an id's image cannot be taken (none, or two files), or null; dir/ID.jpg stands for a missing one. */
    static String imageProblem(Map<String, List<Path>> index, Path dir, String id, Path list) {
        List<Path> fs = index.get(id);
        if (fs == null) return "image " + dir.resolve(id + ".jpg") + " (listed in " + list + ") does not exist (accepted: "
                + String.join(", ", conta.image.ImageCodec.EXTENSIONS.stream().map(x -> "." + x).toList()) + ", any case); add it or remove the id from the list";
        if (fs.size() > 1) return "images " + fs.get(0) + " and " + fs.get(1) + " would both be image " + id
                + "; rename or remove one of them";
        return null;
    }

    static Path imageOf(Map<String, List<Path>> index, Path dir, String id) {
        List<Path> fs = index.get(id);
        return fs == null ? dir.resolve(id + ".jpg") : fs.get(0);
    }

    static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
