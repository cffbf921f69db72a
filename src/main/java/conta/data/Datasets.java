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
            checkMinSide(id, ip, d.w(), d.h());
            Mask m = ds.mask(id);
            if (m != null && (m.w() != d.w() || m.h() != d.h())) throw maskSize(id, fd.maskPath(id), m, ip, d.w(), d.h());
        } else {
            Item it = ds.read(id);
            List<Path> f = ds.files(id); // COCO: the image first
            checkMinSide(id, f.isEmpty() ? ds.root() : f.getFirst(), it.image().w(), it.image().h());
        }
    }

    /**
     * Smallest image side conta's networks take (DeepLab's 0.5 scale at output stride 8 still leaves a feature cell).
     * conta predict refuses below it (BundleModel.checkSize), so a run must leave such an image out too, or its pred/
     * could not be reproduced.
     */
    public static final int MIN_SIDE = 16;

    /** The refusal of an image under MIN_SIDE a side; the same words in the dataset check and in conta predict. */
    public static String tooSmall(String what, int w, int h) {
        return what + " is " + w + "x" + h + " px: conta models need at least " + MIN_SIDE + " px a side";
    }

    private static void checkMinSide(String id, Path image, int w, int h) {
        if (w < MIN_SIDE || h < MIN_SIDE) throw new DataError(id, image, tooSmall("image " + image, w, h));
    }

    /**
     * A mask not at its image's size. Width and height swapped: most likely an EXIF rotation that a viewer applied and
     * conta does not (it uses the stored pixel order everywhere).
     */
    static DataError maskSize(String id, Path mask, Mask m, Path image, int w, int h) {
        boolean swapped = m.w() == h && m.h() == w;
        return new DataError(id, mask, "mask " + mask + " is " + m.w() + "x" + m.h() + " but image " + image + " is " + w + "x" + h
                + "; regenerate the mask at the image size" + (swapped ? " (width and height are swapped: the image may carry an EXIF"
                + " rotation, which conta ignores; draw the mask over the stored pixels, not a viewer's rotated view)" : ""));
    }

    /** Prints the left-out items (the end-of-run list of --skip-bad). */
    public static void report(List<BadItem> bad, java.io.PrintStream out) {
        if (bad.isEmpty()) return;
        out.println("skipped " + bad.size() + " bad item(s):");
        for (BadItem b : bad) out.println("  " + b.id() + " (" + b.file() + "): " + b.reason());
    }
}
