package conta.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * PASCAL VOC 2012 devkit layout (also the synthetic set): JPEGImages/ID.jpg (or .jpeg, .png, .bmp, any case), SegmentationClass/ID.png (falling back to
 * SBD's SegmentationClassAug/ID.png), Annotations/ID.xml, ImageSets/Segmentation/*.txt and a train_aug list in
 * ImageSets/Segmentation, ImageSets/SegmentationAug or the root. Labels come from labels.csv if present, else the XML
 * {@code <object><name>} tags (parts excluded), else the mask. Classes: classes.txt if present, else the 20 VOC classes.
 */
public final class VocDataset extends FolderDataset {
    private final Path jpeg, seg, segAug, ann;
    private final Map<String, int[]> csvLabels;
    private final Map<String, List<Path>> imageFiles;

    public VocDataset(Path root, boolean skipBad) {
        super(findRoot(root), classesOf(findRoot(root)), skipBad);
        Path r = this.root;
        jpeg = r.resolve("JPEGImages");
        seg = r.resolve("SegmentationClass");
        segAug = r.resolve("SegmentationClassAug");
        ann = r.resolve("Annotations");
        if (!Files.isDirectory(jpeg))
            throw new DataError(null, jpeg, "VOC dataset " + r + " has no JPEGImages folder; point at the VOC2012 folder of the devkit");
        imageFiles = imageIndex(jpeg);
        Path labelsCsv = r.resolve("labels.csv");
        csvLabels = Files.isRegularFile(labelsCsv) ? LabelsCsv.read(labelsCsv, classes, skipBad, bad) : null;
        for (Path dir : new Path[]{r.resolve("ImageSets/Segmentation"), r.resolve("ImageSets/SegmentationAug"), r}) {
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                    String name = stem(f);
                    if (dir.equals(r) && !name.contains("train") && !name.contains("val") && !name.contains("test")) continue;
                    if (!splits.containsKey(name)) splits.put(name, keepGood(readList(f), f));
                }
            } catch (IOException e) {
                throw new DataError(null, dir, "cannot list " + dir + ": " + e.getMessage());
            }
        }
        if (splits.isEmpty())
            throw new DataError(null, r.resolve("ImageSets/Segmentation"), "VOC dataset " + r
                    + " has no split lists; add ImageSets/Segmentation/{train,val}.txt with one image id per line");
    }

    /** Drops (skip-bad) or refuses listed ids without an image or without usable labels. */
    private List<String> keepGood(List<String> ids, Path list) {
        List<String> ok = new ArrayList<>(ids.size());
        java.util.Set<String> badIds = new java.util.HashSet<>();
        bad.forEach(b -> badIds.add(b.id()));
        for (String id : ids) {
            if (badIds.contains(id)) continue; // its labels line was already refused
            Path ip = imagePath(id);
            String why = imageProblem(imageFiles, jpeg, id, list);
            if (why == null && csvLabels != null && !csvLabels.containsKey(id) && maskPath(id) == null)
                why = "image " + id + " (listed in " + list + ") has no line in " + root.resolve("labels.csv") + " and no mask; add its labels";
            if (why == null) ok.add(id);
            else if (!skipBad) throw new DataError(id, ip, why);
            else if (badIds.add(id)) bad.add(new BadItem(id, ip, why));
        }
        return List.copyOf(ok);
    }

    static Path findRoot(Path p) {
        for (Path c : new Path[]{p, p.resolve("VOC2012"), p.resolve("VOCdevkit/VOC2012")})
            if (Files.isDirectory(c.resolve("JPEGImages"))) return c;
        return p;
    }

    private static List<String> classesOf(Path r) {
        Path f = r.resolve("classes.txt");
        return Files.isRegularFile(f) ? ClassList.read(f) : ClassList.voc();
    }

    @Override
    Path imagePath(String id) {
        return imageOf(imageFiles, jpeg, id);
    }

    @Override
    Path maskPath(String id) {
        Path p = seg.resolve(id + ".png");
        if (Files.isRegularFile(p)) return p;
        p = segAug.resolve(id + ".png");
        return Files.isRegularFile(p) ? p : null;
    }

    @Override
    int[] declaredLabels(String id) {
        if (csvLabels != null && csvLabels.containsKey(id)) return csvLabels.get(id);
        Path x = ann.resolve(id + ".xml");
        return Files.isRegularFile(x) ? xmlLabels(id, x) : null;
    }

    /** Class indices of the {@code <object><name>} tags; part names (head, hand, foot) are not objects. */
    private int[] xmlLabels(String id, Path x) {
        try {
            var f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Element doc = f.newDocumentBuilder().parse(x.toFile()).getDocumentElement();
            NodeList objs = doc.getElementsByTagName("object");
            Map<String, Integer> index = ClassList.index(classes);
            TreeSet<Integer> ks = new TreeSet<>();
            for (int i = 0; i < objs.getLength(); i++) {
                for (Node n = objs.item(i).getFirstChild(); n != null; n = n.getNextSibling()) {
                    if (!"name".equals(n.getNodeName())) continue;
                    String name = n.getTextContent().strip();
                    Integer k = index.get(ClassList.norm(name));
                    if (k == null)
                        throw new DataError(id, x, "annotation " + x + " names unknown class '" + name + "'; fix the XML or add the class to classes.txt");
                    ks.add(k);
                }
            }
            return ks.stream().mapToInt(Integer::intValue).toArray();
        } catch (DataError e) {
            throw e;
        } catch (Exception e) {
            throw new DataError(id, x, "cannot parse annotation " + x + ": " + e.getMessage() + "; fix or delete the file", e);
        }
    }
}
