package conta.data;

import conta.image.ImageCodec;
import conta.image.Mask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Opens a dataset folder by its layout, and checks items up front for --skip-bad. */
public final class Datasets {
    private Datasets() { }

    /** COCO if annotations/instances_*.json exist, VOC if JPEGImages (or VOC2012/, VOCdevkit/VOC2012/) does, custom if images/ + labels.csv. */
    public static Dataset open(Path root, boolean skipBad) {
        if (!Files.isDirectory(root)) throw new DataError(null, root, "dataset folder " + root + " does not exist");
        if (Files.isDirectory(root.resolve("annotations"))) {
            try (var s = Files.list(root.resolve("annotations"))) {
                if (s.anyMatch(p -> p.getFileName().toString().startsWith("instances_"))) return new CocoDataset(root, skipBad);
            } catch (IOException e) {
                throw new DataError(null, root, "cannot list " + root.resolve("annotations") + ": " + e.getMessage());
            }
        }
        if (Files.isDirectory(VocDataset.findRoot(root).resolve("JPEGImages"))) return new VocDataset(root, skipBad);
        if (Files.isDirectory(root.resolve("images")) && Files.isRegularFile(root.resolve("labels.csv"))) return new CustomDataset(root, skipBad);
        throw new DataError(null, root, "cannot tell the layout of " + root + ": expected VOC (JPEGImages/, SegmentationClass/, ImageSets/), "
                + "COCO (annotations/instances_*.json) or custom (images/, labels.csv, classes.txt)");
    }

    /** Result of {@link #check}: ids that passed and the ones left out. */
    public record Checked(List<String> ids, List<BadItem> bad) { }

    /**
     * Checks every id without decoding pixels where possible: image present, complete (JPEG EOI / PNG IEND) with a
     * readable header, mask readable with values in range and the image's size, labels known. Errors throw unless skipBad.
     */
    public static Checked check(Dataset ds, List<String> ids, boolean skipBad) {
        List<String> ok = new ArrayList<>();
        List<BadItem> bad = new ArrayList<>(ds.skipped());
        for (String id : ids) {
            try {
                checkOne(ds, id);
                ok.add(id);
            } catch (DataError e) {
                if (!skipBad) throw e.orSkip();
                bad.add(e.asBad());
            }
        }
        return new Checked(List.copyOf(ok), bad);
    }

    private static void checkOne(Dataset ds, String id) {
        ds.labels(id);
        if (ds instanceof FolderDataset fd) {
            Path ip = fd.imagePath(id);
            ImageCodec.Dims d;
            try {
                d = ImageCodec.probe(ip);
            } catch (IOException e) {
                throw DataError.of(id, ip, e);
            }
            Mask m = ds.mask(id);
            if (m != null && (m.w() != d.w() || m.h() != d.h()))
                throw new DataError(id, fd.maskPath(id), "mask " + fd.maskPath(id) + " is " + m.w() + "x" + m.h() + " but image " + ip
                        + " is " + d.w() + "x" + d.h() + "; regenerate the mask at the image size");
        } else ds.read(id);
    }

    /** Prints the left-out items (the end-of-run list of --skip-bad). */
    public static void report(List<BadItem> bad, java.io.PrintStream out) {
        if (bad.isEmpty()) return;
        out.println("skipped " + bad.size() + " bad item(s):");
        for (BadItem b : bad) out.println("  " + b.id() + " (" + b.file() + "): " + b.reason());
    }
}
