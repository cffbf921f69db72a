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

    @Override public List<BadItem> skipped() { return List.copyOf(bad); }

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
        if (m != null && (m.h() != im.h() || m.w() != im.w()))
            throw new DataError(id, maskPath(id), "mask " + maskPath(id) + " is " + m.w() + "x" + m.h() + " but image " + ip
                    + " is " + im.w() + "x" + im.h() + "; regenerate the mask at the image size");
        return new Item(id, im, m, labels(id));
    }

    /** Reads an id list: one id per line, or "image_path mask_path" pairs (file stems are taken). */
    static List<String> readList(Path file) {
        try {
            List<String> ids = new ArrayList<>();
            for (String l : Files.readAllLines(file)) {
                String s = l.strip();
                if (s.isEmpty() || s.startsWith("#")) continue;
                String first = s.split("\\s+")[0];
                int slash = first.lastIndexOf('/');
                if (slash >= 0) first = first.substring(slash + 1);
                int dot = first.lastIndexOf('.');
                if (slash >= 0 && dot > 0) first = first.substring(0, dot);
                ids.add(first);
            }
            return ids;
        } catch (IOException e) {
            throw new DataError(null, file, "cannot read list " + file + ": " + e.getMessage());
        }
    }

    static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
