package conta.synth;

import conta.data.Dataset;
import conta.data.Datasets;
import conta.image.Mask;
import conta.io.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Co-occurrence and context statistics of a synthetic (or any VOC-layout) set, measured from its files. */
public final class SynthStats {
    private SynthStats() { }

    /** A conditional frequency: {@code hits} of {@code given} images; p = hits / given. */
    public record Rate(String name, int given, int hits) {
        public double p() { return given == 0 ? Double.NaN : (double) hits / given; }

        /** Binomial standard error at the measured rate. */
        public double se() { return given == 0 ? Double.NaN : Math.sqrt(p() * (1 - p()) / given); }
    }

    public record Result(int images, List<String> classes, int[] classImages, double[] pixelShare, double[][] cooccur,
                         Map<String, Rate> rates, Double bias, Map<String, Object> strength) { }

    public static Result compute(Path dir) throws IOException {
        Dataset ds = Datasets.open(dir, false);
        List<String> ids = ds.ids(ds.splits().contains("trainval") ? "trainval" : ds.splits().get(0));
        int k = ds.classNames().size();
        int[] n = new int[k];
        int[][] both = new int[k][k];
        long[] px = new long[k];
        long total = 0;
        Map<String, Set<String>> ctx = readContext(dir.resolve("context.csv"));
        int horse = 0, horseRider = 0, touch = 0, boat = 0, boatWater = 0, water = 0, waterBoat = 0, tram = 0, tramRails = 0, rails = 0,
                railsTram = 0, sheep = 0, sheepFollow = 0;
        for (String id : ids) {
            int[] lab = ds.labels(id);
            boolean[] has = new boolean[k];
            for (int a : lab) has[a] = true;
            for (int a : lab) {
                n[a]++;
                for (int b : lab) both[a][b]++;
            }
            Mask m = ds.mask(id);
            long[] h = m.histogram();
            for (int c = 0; c < k; c++) { px[c] += h[c]; total += h[c]; }
            Set<String> cs = ctx.getOrDefault(id, Set.of());
            if (has[Scene.HORSE]) {
                horse++;
                if (has[Scene.RIDER]) { horseRider++; if (touching(m, Scene.RIDER, Scene.HORSE)) touch++; }
            }
            if (has[Scene.BOAT]) { boat++; if (cs.contains("water")) boatWater++; }
            if (cs.contains("water")) { water++; if (has[Scene.BOAT]) waterBoat++; }
            if (has[Scene.TRAM]) { tram++; if (cs.contains("rails")) tramRails++; }
            if (cs.contains("rails")) { rails++; if (has[Scene.TRAM]) railsTram++; }
            if (has[Scene.SHEEP]) { sheep++; if (cs.contains("sheep-body-follows-ground")) sheepFollow++; }
        }
        double[][] co = new double[k][k];
        for (int a = 1; a < k; a++) for (int b = 1; b < k; b++) co[a][b] = n[a] == 0 ? Double.NaN : (double) both[a][b] / n[a];
        double[] share = new double[k];
        for (int c = 0; c < k; c++) share[c] = total == 0 ? 0 : (double) px[c] / total;
        Map<String, Rate> rates = new LinkedHashMap<>();
        rates.put("P(rider | horse)", new Rate("P(rider | horse)", horse, horseRider));
        rates.put("P(touching | rider & horse)", new Rate("P(touching | rider & horse)", horseRider, touch));
        rates.put("P(water | boat)", new Rate("P(water | boat)", boat, boatWater));
        rates.put("P(boat | water)", new Rate("P(boat | water)", water, waterBoat));
        rates.put("P(rails | tram)", new Rate("P(rails | tram)", tram, tramRails));
        rates.put("P(tram | rails)", new Rate("P(tram | rails)", rails, railsTram));
        rates.put("P(body like ground | sheep)", new Rate("P(body like ground | sheep)", sheep, sheepFollow));
        Double bias = null;
        Path js = dir.resolve("synth.json");
        Map<String, Object> strength = null;
        if (Files.isRegularFile(js)) {
            Map<String, Object> j = Json.readObject(js, "it holds the settings conta synth wrote; regenerate the set with conta synth --force, or delete it");
            bias = j.get("bias") instanceof Number b ? b.doubleValue() : null;
            if (j.get("strength") instanceof Map<?, ?> m) {
                strength = new java.util.LinkedHashMap<>();
                for (var e : m.entrySet()) strength.put(String.valueOf(e.getKey()), e.getValue());
            }
        }
        return new Result(ids.size(), ds.classNames(), n, share, co, rates, bias, strength);
    }

    /** Whether a pixel of class a lies within 2 pixels of class b (the void border between them is up to 1 px wide). */
    static boolean touching(Mask m, int a, int b) {
        for (int y = 0; y < m.h(); y++)
            for (int x = 0; x < m.w(); x++) {
                if (m.at(y, x) != a) continue;
                for (int dy = -2; dy <= 2; dy++)
                    for (int dx = -2; dx <= 2; dx++) {
                        int yy = y + dy, xx = x + dx;
                        if (yy >= 0 && xx >= 0 && yy < m.h() && xx < m.w() && m.at(yy, xx) == b) return true;
                    }
            }
        return false;
    }

    private static Map<String, Set<String>> readContext(Path f) throws IOException {
        Map<String, Set<String>> m = new HashMap<>();
        if (!Files.isRegularFile(f)) return m;
        for (String l : Files.readAllLines(f)) {
            String[] p = l.split(",", -1);
            if (p.length < 4 || p[0].equals("image_id")) continue;
            Set<String> s = new java.util.HashSet<>();
            for (String part : (p[2] + ";" + p[3]).split(";")) if (!part.isBlank()) s.add(part);
            m.put(p[0], s);
        }
        return m;
    }

    public static void print(Result r, PrintStream out) {
        out.printf("%d images, %d classes%s%n", r.images(), r.classes().size() - 1, r.bias() == null ? "" : r.strength() != null ? ", requested strengths " + r.strength() : String.format(", requested bias %.2f", r.bias()));
        out.printf("  %-12s %7s %8s%n", "class", "images", "pixels");
        for (int c = 0; c < r.classes().size(); c++)
            out.printf("  %-12s %7s %7.2f%%%n", r.classes().get(c), c == 0 ? "-" : Integer.toString(r.classImages()[c]), 100 * r.pixelShare()[c]);
        out.println("co-occurrence P(column | row), over images:");
        StringBuilder hdr = new StringBuilder("  " + " ".repeat(12));
        for (int c = 1; c < r.classes().size(); c++) hdr.append(String.format(" %6.6s", r.classes().get(c)));
        out.println(hdr);
        for (int a = 1; a < r.classes().size(); a++) {
            StringBuilder row = new StringBuilder(String.format("  %-12s", r.classes().get(a)));
            for (int b = 1; b < r.classes().size(); b++) row.append(a == b ? "      -" : String.format(" %6.2f", r.cooccur()[a][b]));
            out.println(row);
        }
        out.println("context statistics (rate, images it is measured on, +- 2 standard errors):");
        for (Rate x : r.rates().values())
            out.printf("  %-30s %6.3f  (%d/%d, +-%.3f)%n", x.name(), x.p(), x.hits(), x.given(), 2 * x.se());
    }
}
