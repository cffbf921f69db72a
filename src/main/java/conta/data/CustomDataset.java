package conta.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A plain layout for custom data: {@code images/ID.jpg|jpeg|png|bmp} (any case), {@code labels.csv} (image id, class names),
 * {@code classes.txt} (one foreground class per line), optional {@code masks/ID.png} (class indices, 255 = ignore)
 * and optional {@code splits/NAME.txt} id lists; without lists the split "all" holds every labelled image.
 */
public final class CustomDataset extends FolderDataset {
    private final Path images, masks;
    private final Map<String, int[]> labels;
    private final Map<String, List<Path>> imageFiles;

    public CustomDataset(Path root, boolean skipBad) {
        super(root, ClassList.read(require(root.resolve("classes.txt"), "one foreground class name per line")), skipBad);
        images = root.resolve("images");
        masks = root.resolve("masks");
        if (!Files.isDirectory(images)) throw new DataError(null, images, "custom dataset " + root + " has no images/ folder; put the images there");
        imageFiles = imageIndex(images);
        labels = LabelsCsv.read(require(root.resolve("labels.csv"), "lines 'image_id,class;class'"), classes, skipBad, bad);
        Path sd = root.resolve("splits");
        if (Files.isDirectory(sd)) {
            try (Stream<Path> s = Files.list(sd)) {
                for (Path f : s.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) splits.put(stem(f), keepGood(readList(f), f));
            } catch (IOException e) {
                throw new DataError(null, sd, "cannot list " + sd + ": " + e.getMessage());
            }
        }
        if (!splits.containsKey("all")) splits.put("all", keepGood(new ArrayList<>(labels.keySet()), root.resolve("labels.csv")));
    }

    private static Path require(Path f, String what) {
        if (!Files.isRegularFile(f)) throw new DataError(null, f, "custom dataset file " + f + " is missing; create it (" + what + ")");
        return f;
    }

    private List<String> keepGood(List<String> ids, Path list) {
        List<String> ok = new ArrayList<>();
        java.util.Set<String> badIds = new java.util.HashSet<>();
        bad.forEach(b -> badIds.add(b.id()));
        for (String id : ids) {
            if (badIds.contains(id)) continue;
            String why = imageProblem(imageFiles, images, id, list);
            if (why == null && !labels.containsKey(id)) why = "image " + id + " (listed in " + list + ") has no line in labels.csv; add its labels";
            if (why == null) ok.add(id);
            else if (!skipBad) throw new DataError(id, imagePath(id), why);
            else if (badIds.add(id)) bad.add(new BadItem(id, imagePath(id), why));
        }
        return List.copyOf(ok);
    }

    @Override
    Path imagePath(String id) {
        return imageOf(imageFiles, images, id);
    }

    @Override
    Path maskPath(String id) {
        Path p = masks.resolve(id + ".png");
        return Files.isRegularFile(p) ? p : null;
    }

    @Override
    int[] declaredLabels(String id) { return labels.get(id); }
}
