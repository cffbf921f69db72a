package conta.eval;

import conta.data.ClassList;
import conta.data.DataError;
import conta.data.Dataset;
import conta.data.Datasets;
import conta.data.TextLines;
import conta.image.IndexPng;
import conta.image.Mask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The ground truth of one evaluation: which split (named, so that reports say what was scored), its ids, the class
 * names and a mask per id. Built from a dataset root (VOC/COCO/custom) or from a plain folder of label PNGs.
 */
public record GroundTruth(String split, List<String> ids, List<String> classes, Function<String, Mask> masks, Path where) {
    /** where: the masks' folder, named in warnings about them (null: unknown). */
    public GroundTruth(String split, List<String> ids, List<String> classes, Function<String, Mask> masks) {
        this(split, ids, classes, masks, null);
    }

    /** The folder of a dataset's masks (of its first listed id; COCO: its annotations folder), else its root. */
    public static Path maskFolder(Dataset ds, List<String> ids) {
        List<Path> f = ids.isEmpty() ? List.of() : ds.files(ids.getFirst());
        Path p = f.size() > 1 ? f.get(1).toAbsolutePath().getParent() : null; // files: the image, then the mask (or annotation files)
        return p != null ? p : ds.root();
    }

    /**
     * @param gt        dataset root, or a folder of ID.png masks
     * @param list      id list file (optional): its name is the split name
     * @param split     split of a dataset root (optional; required for a root without a list)
     * @param classes   classes file (optional): else the dataset's, a classes.txt beside the masks, or VOC's 21
     */
    public static GroundTruth open(Path gt, Path list, String split, Path classes) {
        if (!Files.isDirectory(gt)) throw new DataError(null, gt, "ground-truth folder " + gt + " does not exist");
        boolean plain = hasPngs(gt);
        List<String> names = classes != null ? ClassList.read(classes) : null;
        if (!plain) {
            Dataset ds = Datasets.open(gt, false);
            List<String> ids;
            String name;
            if (list != null) { ids = readList(list); name = stem(list); }
            else if (split != null) {
                // a split's images with masks, as the pipeline scores them (a set may have masks for some images only)
                List<String> all = ds.ids(split);
                ids = all.stream().filter(ds::hasMask).toList();
                if (ids.isEmpty()) throw new DataError(null, gt, "dataset " + gt + " has no ground-truth masks for split " + split + " (" + all.size()
                        + " images): nothing to score");
                if (ids.size() < all.size())
                    System.err.println("note: " + ids.size() + " of the " + all.size() + " images of split " + split + " have ground-truth masks: scoring those, as the pipeline does");
                name = split;
            }
            else throw new DataError(null, gt, "name the split to score with --split (" + String.join(", ", ds.splits())
                    + ") or --list FILE; CAMs and pseudo-masks are scored on train, segmentation on val");
            List<String> cls = names != null ? names : ds.classNames();
            String from = list != null ? "remove it from --list " + list : "remove it from the split";
            return new GroundTruth(name, ids, cls, id -> {
                Mask m = ds.mask(id);
                if (m == null) throw new DataError(id, gt, "dataset " + gt + " has no ground-truth mask for " + id + "; " + from);
                return m;
            }, maskFolder(ds, ids));
        }
        List<String> ids;
        String name;
        if (list != null) { ids = readList(list); name = stem(list); }
        else {
            try (Stream<Path> s = Files.list(gt)) {
                ids = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".png")).map(n -> n.substring(0, n.length() - 4)).sorted().toList();
            } catch (IOException e) {
                throw new DataError(null, gt, "cannot list " + gt + ": " + e.getMessage());
            }
            name = split != null ? split : "all masks in " + gt;
        }
        if (names == null) {
            for (Path c : new Path[]{gt.resolve("classes.txt"), gt.toAbsolutePath().getParent() == null ? null : gt.toAbsolutePath().getParent().resolve("classes.txt")})
                if (c != null && Files.isRegularFile(c)) { names = ClassList.read(c); break; }
        }
        if (names == null) names = ClassList.voc();
        return new GroundTruth(name, ids, names, id -> {
            Path p = gt.resolve(id + ".png");
            if (!Files.isRegularFile(p)) throw new DataError(id, p, "ground-truth mask " + p + " for listed image " + id + " does not exist");
            try {
                return IndexPng.read(p);
            } catch (IOException e) {
                throw new DataError(id, p, e.getMessage(), e);
            }
        }, gt);
    }

    private static boolean hasPngs(Path d) {
        try (Stream<Path> s = Files.list(d)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".png"));
        } catch (IOException e) {
            return false;
        }
    }

    /** One id a line (the whole line: ids may hold spaces); an empty list or an id listed twice is refused. */
    static List<String> readList(Path f) {
        List<String> ids = TextLines.ids(f);
        if (ids.isEmpty()) throw new DataError(null, f, "list " + f + " is empty; write one image id per line");
        return ids;
    }

    private static String stem(Path p) {
        String n = p.getFileName().toString();
        return n.contains(".") ? n.substring(0, n.lastIndexOf('.')) : n;
    }
}
