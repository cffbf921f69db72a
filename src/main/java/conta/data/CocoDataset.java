package conta.data;

import conta.image.ImageCodec;
import conta.image.Mask;
import conta.image.RgbImage;
import conta.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * MS-COCO (2014 or 2017): annotations/instances_SPLIT.json with images in SPLIT/ (or images/SPLIT/). The 80 category
 * ids (1..90 with gaps) map in ascending order to 1..80. Masks are rasterised on demand: instances painted in
 * annotation order (later ones on top), then crowd regions set to 255 where no instance lies. Image-level labels are
 * the categories of all annotations, crowd included. Split names are the json suffixes (val2014); "train"/"val" work
 * as aliases when unambiguous. Ids are file-name stems.
 */
public final class CocoDataset implements Dataset {
    private record Ann(Object id, int cls, boolean crowd, Object seg) { }

    /** json: the instances file that lists the image (its errors name it). */
    private record Img(String id, Path file, Path json, int h, int w, List<Ann> anns) { }

    private final Path root;
    private final List<String> classes = new ArrayList<>();
    private final Map<String, List<String>> splits = new LinkedHashMap<>();
    private final Map<String, Img> images = new HashMap<>();
    private final List<BadItem> bad = new ArrayList<>();
    private final List<Path> annotationFiles;

    public CocoDataset(Path root, boolean skipBad) {
        this.root = root;
        Path annDir = root.resolve("annotations");
        List<Path> files;
        try (Stream<Path> s = Files.isDirectory(annDir) ? Files.list(annDir) : Stream.empty()) {
            files = s.filter(p -> p.getFileName().toString().matches("instances_.*\\.json")).sorted().toList();
        } catch (IOException e) {
            throw new DataError(null, annDir, "cannot list " + annDir + ": " + e.getMessage());
        }
        if (files.isEmpty())
            throw new DataError(null, annDir, "COCO dataset " + root + " has no annotations/instances_*.json; download the COCO annotations there");
        for (Path f : files) load(f, skipBad);
        annotationFiles = files;
    }

    /** The image and the annotation files (masks and labels come from them). */
    @Override
    public List<Path> files(String id) {
        List<Path> f = new ArrayList<>(List.of(img(id).file()));
        f.addAll(annotationFiles);
        return f;
    }

    private void load(Path f, boolean skipBad) {
        Map<String, Object> js;
        try {
            js = Json.readObject(f, "download or unpack the COCO annotations again");
        } catch (RuntimeException e) { // damaged (FormatError) or unreadable (UserError): one line naming the file and the fix
            throw new DataError(null, f, e.getMessage(), e);
        }
        try {
            load(f, js, skipBad);
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new DataError(null, f, f + " is not a COCO instances file as conta reads it: " + e.getMessage()
                    + "; use an annotations/instances_*.json of a COCO release (images, annotations and categories as the COCO format has them)", e);
        }
    }

    /** A top-level list of objects of a COCO instances file, or an IllegalArgumentException naming the key. */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> objects(Map<String, Object> js, String key) {
        Object v = js.get(key);
        if (v == null) throw new IllegalArgumentException("it has no '" + key + "' list (it has " + (js.isEmpty() ? "no keys at all"
                : "only " + String.join(", ", js.keySet().stream().limit(6).map(k -> "'" + k + "'").toList())) + ")");
        if (!(v instanceof List<?> l)) throw new IllegalArgumentException("its '" + key + "' is not a list");
        for (Object o : l) if (!(o instanceof Map)) throw new IllegalArgumentException("its '" + key + "' list holds " + o + ", not objects");
        return (List<Map<String, Object>>) l;
    }

    private void load(Path f, Map<String, Object> js, boolean skipBad) {
        String split = stem(f).substring("instances_".length());
        List<Map<String, Object>> imageList = objects(js, "images"), annList = objects(js, "annotations"), catList = objects(js, "categories");
        Map<Long, Integer> catIndex = new HashMap<>();
        List<Map<String, Object>> cats = new ArrayList<>(catList);
        cats.sort((a, b) -> Long.compare(num(a, "id", "a category"), num(b, "id", "a category")));
        List<String> names = new ArrayList<>(List.of("background"));
        for (Map<String, Object> c : cats) {
            catIndex.put(num(c, "id", "a category"), names.size());
            names.add(str(c, "name", "category " + c.get("id")));
        }
        if (names.size() > 255) // masks are bytes with 255 = ignore: category 255 would become ignore, 256 background
            throw new DataError(null, f, f + " has " + (names.size() - 1) + " categories; conta's masks hold at most 254 classes;"
                    + " keep at most 254 categories in the json");
        if (classes.isEmpty()) classes.addAll(names);
        else if (!classes.equals(names))
            throw new DataError(null, f, "categories of " + f + " differ from the other instances files; use files from one COCO release");
        Path imgDir = Files.isDirectory(root.resolve(split)) ? root.resolve(split) : root.resolve("images").resolve(split);
        Map<Long, List<Ann>> byImage = new HashMap<>();
        Map<Long, String> badImages = new LinkedHashMap<>(); // skip-bad: image id -> why its annotations cannot be used
        for (Map<String, Object> a : annList) {
            String what = "annotation " + a.get("id");
            Integer k = catIndex.get(num(a, "category_id", what));
            long imgId = num(a, "image_id", what);
            if (k == null) {
                String why = f + ": annotation " + a.get("id") + " has category_id " + a.get("category_id") + " which is not in 'categories'; fix the json";
                if (!skipBad) throw new DataError(String.valueOf(imgId), f, why);
                badImages.putIfAbsent(imgId, why); // the image is left out whole: without the object its labels and mask would be wrong
                continue;
            }
            boolean crowd = a.containsKey("iscrowd") && num(a, "iscrowd", what) != 0;
            byImage.computeIfAbsent(imgId, x -> new ArrayList<>()).add(new Ann(a.get("id"), k, crowd, a.get("segmentation")));
        }
        List<String> ids = new ArrayList<>();
        Map<String, Map<String, Object>> seen = new HashMap<>(); // id -> first record: a second one would silently replace its annotations
        for (Map<String, Object> im : imageList) {
            String file = str(im, "file_name", "image " + im.get("id"));
            String id = file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file;
            Map<String, Object> first = seen.putIfAbsent(id, im);
            if (first != null) {
                String firstFile = (String) first.get("file_name");
                throw new DataError(id, f, f + " lists " + (firstFile.equals(file) ? "file_name " + file + " twice"
                        : "file_names " + firstFile + " and " + file + " (both image id " + id + ")") + ", as image ids " + first.get("id")
                        + " and " + im.get("id") + "; keep one image record per file and give its annotations that record's id");
            }
            Path p = imgDir.resolve(file);
            String why = im.get("id") instanceof Number n ? badImages.remove(n.longValue()) : null;
            if (why != null) {
                bad.add(new BadItem(id, f, why));
                continue;
            }
            if (!Files.isRegularFile(p)) {
                DataError e = new DataError(id, p, "image " + p + " (listed in " + f + ") does not exist; put the " + split + " images in " + imgDir);
                if (!skipBad) throw e;
                bad.add(e.asBad());
                continue;
            }
            String what = "image " + file;
            Img img = new Img(id, p, f, (int) num(im, "height", what), (int) num(im, "width", what),
                    byImage.getOrDefault(num(im, "id", what), List.of()));
            Img other = images.get(id); // ids are file stems across all instances files: a second record would replace the first
            if (other != null) {
                boolean sameFile = conta.io.SameFile.test(other.file(), p);
                if (!sameFile || other.h() != img.h() || other.w() != img.w() || !other.anns().equals(img.anns()))
                    throw new DataError(id, f, other.json() + " and " + f + " both list image " + id + (sameFile ? " with other annotations"
                            : " (" + other.file() + " and " + p + ")") + "; conta names an image by its file stem in every split: keep one of the records");
            }
            images.put(id, img);
            ids.add(id);
        }
        badImages.forEach((imgId, why) -> bad.add(new BadItem(String.valueOf(imgId), f, why))); // annotations of no listed image
        splits.put(split, List.copyOf(ids));
    }

    private static long num(Object o) {
        if (o instanceof Number n) return n.longValue();
        throw new IllegalArgumentException("expected a number, got " + o);
    }

    /** The number under key of a COCO record, or an IllegalArgumentException naming the record and key. */
    private static long num(Map<String, Object> o, String key, String what) {
        if (o.get(key) instanceof Number n) return n.longValue();
        throw new IllegalArgumentException(what + (o.containsKey(key) ? " has '" + key + "' = " + o.get(key) + ", not a number" : " has no '" + key + "'"));
    }

    private static String str(Map<String, Object> o, String key, String what) {
        if (o.get(key) instanceof String v) return v;
        throw new IllegalArgumentException(what + (o.containsKey(key) ? " has '" + key + "' = " + o.get(key) + ", not a string" : " has no '" + key + "'"));
    }

    private static String stem(Path p) {
        String n = p.getFileName().toString();
        return n.substring(0, n.lastIndexOf('.'));
    }

    @Override public Path root() { return root; }

    @Override public List<String> splits() { return List.copyOf(splits.keySet()); }

    @Override public List<BadItem> skipped() { return List.copyOf(bad); }

    @Override
    public List<String> ids(String split) {
        List<String> ids = splits.get(split);
        if (ids == null) {
            List<String> m = splits.keySet().stream().filter(s -> s.startsWith(split)).toList();
            if (m.size() == 1) return splits.get(m.get(0));
            String k = splits.size() == 1 ? splits.keySet().iterator().next() : "SPLIT";
            throw new DataError(null, root, "COCO dataset " + root + " has no split '" + split + "' (known: " + String.join(", ", splits.keySet())
                    + "; a split is an annotations/instances_SPLIT.json file): name one, --split " + k + " for conta eval, --set data.train="
                    + k + (splits.size() == 1 ? " --set data.val=" + k + " for a pipeline run (with one annotation file, training and held-out images are the same)"
                    : " and --set data.val=SPLIT for a pipeline run"));
        }
        return ids;
    }

    @Override public List<String> classNames() { return List.copyOf(classes); }

    private Img img(String id) {
        Img im = images.get(id);
        if (im == null) throw new DataError(id, root, "COCO dataset " + root + " has no image '" + id + "'");
        return im;
    }

    @Override
    public int[] labels(String id) {
        TreeSet<Integer> ks = new TreeSet<>();
        for (Ann a : img(id).anns()) ks.add(a.cls());
        return ks.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override public boolean hasMask(String id) { return true; }

    @Override
    public Mask mask(String id) {
        Img im = img(id);
        byte[] out = new byte[im.h() * im.w()];
        for (Ann a : im.anns()) if (!a.crowd()) paint(a, im, out, (byte) a.cls(), false);
        for (Ann a : im.anns()) if (a.crowd()) paint(a, im, out, (byte) 255, true);
        return new Mask(im.h(), im.w(), out);
    }

    /** Polygons (list of lists), uncompressed RLE (counts list) or compressed RLE (counts string). */
    @SuppressWarnings("unchecked")
    static void paint(Object seg, int h, int w, byte[] out, byte value, boolean onlyWhereZero) {
        if (seg instanceof List<?> polys) {
            List<double[]> ps = new ArrayList<>();
            for (Object p : polys) {
                List<Object> l = (List<Object>) p;
                double[] xy = new double[l.size()];
                for (int i = 0; i < xy.length; i++) xy[i] = ((Number) l.get(i)).doubleValue();
                ps.add(xy);
            }
            boolean[] m = CocoRle.polygonsToMask(ps, h, w);
            for (int i = 0; i < m.length; i++) if (m[i] && (!onlyWhereZero || out[i] == 0)) out[i] = value;
        } else if (seg instanceof Map<?, ?> rle) {
            List<Object> size = (List<Object>) rle.get("size");
            if (size != null && (num(size.get(0)) != h || num(size.get(1)) != w))
                throw new IllegalArgumentException("RLE size " + size + " differs from the image size [" + h + ", " + w + "]");
            Object c = rle.get("counts");
            if (c == null) throw new IllegalArgumentException("its RLE has no 'counts'");
            long[] cnts;
            if (c instanceof String s) cnts = CocoRle.fromString(s);
            else {
                List<Object> l = (List<Object>) c;
                cnts = new long[l.size()];
                for (int i = 0; i < cnts.length; i++) cnts[i] = num(l.get(i));
            }
            long sum = 0; // runs tile the image in column-major order: a negative run or runs past its end are a damaged RLE
            for (long n : cnts) {
                if (n < 0) throw new IllegalArgumentException("its RLE counts hold a negative run (" + n + ")");
                sum = n > Long.MAX_VALUE - sum ? Long.MAX_VALUE : sum + n; // saturating: runs near 2^63 must not wrap to a small sum
            }
            if (sum > (long) h * w)
                throw new IllegalArgumentException("its RLE counts cover " + (sum == Long.MAX_VALUE ? "more than " : "") + sum
                        + " pixels, more than the image's " + h + " x " + w + " = " + (long) h * w);
            CocoRle.paint(cnts, h, w, out, value, onlyWhereZero);
        } else throw new IllegalArgumentException(seg == null ? "there is none" : "it is " + seg + ", neither polygons nor an RLE");
    }

    private static void paint(Ann a, Img im, byte[] out, byte value, boolean onlyWhereZero) {
        try {
            paint(a.seg(), im.h(), im.w(), out, value, onlyWhereZero);
        } catch (RuntimeException e) { // one line naming the json, the annotation and what is wrong, never a bare ClassCastException
            String why = e instanceof ClassCastException ? "a value of the wrong type: polygons are lists of numbers, an RLE is"
                    + " {\"size\": [h, w], \"counts\": [numbers] or \"string\"}" : e.getMessage();
            throw new DataError(im.id(), im.json(), im.json() + ": annotation " + a.id() + " (image " + im.file().getFileName()
                    + ") has a bad 'segmentation': " + why + "; fix the json", e);
        }
    }

    @Override
    public Item read(String id) {
        Img im = img(id);
        RgbImage rgb;
        try {
            rgb = ImageCodec.read(im.file());
        } catch (IOException e) {
            throw DataError.of(id, im.file(), e);
        }
        if (rgb.h() != im.h() || rgb.w() != im.w())
            throw new DataError(id, im.file(), "image " + im.file() + " is " + rgb.w() + "x" + rgb.h() + " but the annotations say "
                    + im.w() + "x" + im.h() + "; use the original COCO image");
        return new Item(id, rgb, mask(id), labels(id));
    }
}
