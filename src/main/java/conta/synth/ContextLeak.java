package conta.synth;

import conta.data.Dataset;
import conta.image.CamMaps;
import conta.image.Mask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How much of a class's CAM lies off the object, split by whether the image shows that class's coupled context
 * (context.csv of the synthetic set). The leak of class k in one image is sum of CAM_k over labelled pixels that are
 * not k, over the sum of CAM_k over labelled pixels. A classifier that learnt the context (a boat by its water) has a
 * larger leak on images where the context is present; that gap is the confounding CONTA and C²AM aim to remove.
 */
public final class ContextLeak {
    private ContextLeak() { }

    /**
     * Mean leak per class with and without its context, the image counts of each mean, and the images of the class left
     * out of it because its CAM is zero on every labelled pixel (no mass, no leak to measure).
     */
    public record Row(String cls, double withContext, int nWith, double withoutContext, int nWithout, int zeroWith, int zeroWithout) {
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("with_context", Double.isNaN(withContext) ? null : withContext);
            m.put("images_with", nWith);
            m.put("without_context", Double.isNaN(withoutContext) ? null : withoutContext);
            m.put("images_without", nWithout);
            m.put("zero_cam_with", zeroWith);
            m.put("zero_cam_without", zeroWithout);
            return m;
        }
    }

    /** Leak of class k's CAM (H x W) against the ground truth, or NaN when the CAM has no mass on labelled pixels. */
    public static double leak(float[] cam, Mask gt, int k) {
        double in = 0, all = 0;
        for (int p = 0; p < cam.length; p++) {
            int g = gt.data()[p] & 0xFF;
            if (g == 255) continue;
            all += cam[p];
            if (g == k) in += cam[p];
        }
        return all > 0 ? (all - in) / all : Double.NaN;
    }

    /** Couplings by image id from context.csv, e.g. "boat-on-water" (empty when the file is absent). */
    public static Map<String, List<String>> couplings(Path root) throws IOException {
        Map<String, List<String>> m = new HashMap<>();
        Path f = root.resolve("context.csv");
        if (!Files.isRegularFile(f)) return m;
        List<String> lines = Files.readAllLines(f);
        for (String l : lines.subList(1, lines.size())) {
            String[] c = l.split(",", -1);
            if (c.length >= 4 && !c[3].isBlank()) m.put(c[0], List.of(c[3].split(";")));
        }
        return m;
    }

    public static List<Row> measure(Dataset ds, List<String> ids, Path camDir) throws IOException {
        Map<String, List<String>> cp = couplings(ds.root());
        if (cp.isEmpty()) return List.of();
        List<String> names = ds.classNames();
        Map<Integer, double[]> acc = new LinkedHashMap<>(); // class -> {sumWith, nWith, sumWithout, nWithout, zeroWith, zeroWithout}
        for (String id : ids) {
            Mask gt = ds.mask(id);
            if (gt == null) continue;
            CamMaps cam = CamMaps.load(camDir.resolve(id + ".npz"));
            int hw = cam.h() * cam.w();
            for (int i = 0; i < cam.keys().length; i++) {
                int k = cam.keys()[i];
                String name = names.get(k);
                if (!coupledClass(cp, name)) continue;
                float[] one = new float[hw];
                System.arraycopy(cam.highRes(), i * hw, one, 0, hw);
                double v = leak(one, gt, k);
                boolean with = cp.getOrDefault(id, List.of()).stream().anyMatch(c -> mentions(c, name));
                double[] a = acc.computeIfAbsent(k, x -> new double[6]);
                if (Double.isNaN(v)) {
                    a[with ? 4 : 5]++;
                    continue;
                }
                a[with ? 0 : 2] += v;
                a[with ? 1 : 3]++;
            }
        }
        List<Row> rows = new ArrayList<>();
        acc.forEach((k, a) -> rows.add(new Row(names.get(k), a[1] > 0 ? a[0] / a[1] : Double.NaN, (int) a[1],
                a[3] > 0 ? a[2] / a[3] : Double.NaN, (int) a[3], (int) a[4], (int) a[5])));
        return rows;
    }

    private static boolean coupledClass(Map<String, List<String>> cp, String name) {
        for (List<String> l : cp.values()) for (String c : l) if (mentions(c, name)) return true;
        return false;
    }

    /** "boat-on-water" mentions boat; "sheep-body-follows-ground" mentions sheep. */
    static boolean mentions(String coupling, String cls) {
        for (String part : coupling.split("-")) if (part.equals(cls)) return true;
        return false;
    }
}
