package conta.eval;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores of one evaluation. For CAMs, {@code threshold} is the background threshold the confusion belongs to (the
 * best one of a sweep) and {@code sweep} holds (threshold, mIoU) pairs; both are null/empty for pseudo-masks.
 */
public record EvalResult(String kind, String split, int images, List<String> classes, Confusion confusion,
                         Double threshold, List<double[]> sweep) {
    public double miou() { return confusion.miou(); }

    /** JSON-ready map: miou (fraction), iou/precision/recall per class in class order (null where undefined), etc. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("split", split);
        m.put("images", images);
        m.put("miou", confusion.miou());
        m.put("classes", classes);
        m.put("iou", list(confusion.iou()));
        m.put("precision", list(confusion.precision()));
        m.put("recall", list(confusion.recall()));
        m.put("bg_fp", confusion.bgFalsePositive());
        m.put("bg_fn", confusion.bgFalseNegative());
        m.put("pixel_accuracy", confusion.pixelAccuracy());
        m.put("pixels", confusion.pixels());
        if (threshold != null) m.put("bg_threshold", threshold);
        if (sweep != null && !sweep.isEmpty()) {
            List<Object> s = new ArrayList<>();
            for (double[] p : sweep) s.add(Map.of("threshold", p[0], "miou", p[1]));
            m.put("sweep", s);
        }
        List<Object> rows = new ArrayList<>();
        for (long[] r : confusion.matrix()) rows.add(r);
        m.put("confusion", rows);
        return m;
    }

    private static List<Object> list(double[] v) {
        List<Object> l = new ArrayList<>();
        for (double d : v) l.add(Double.isNaN(d) ? null : d);
        return l;
    }

    public void print(PrintStream out) { print(out, kind + " evaluation"); }

    /** The table under a heading that says what is scored (e.g. "round 0 CAM seeds (threshold 0.15)"). */
    public void print(PrintStream out, String title) {
        out.printf("%s: split %s, %d images, %d classes%s%n", title, split, images, classes.size(),
                threshold == null ? "" : String.format(", background threshold %.3f%s", threshold, sweep.size() > 1 ? " (best of sweep)" : ""));
        double[] iou = confusion.iou(), pr = confusion.precision(), rc = confusion.recall();
        out.printf("  %-16s %7s %9s %7s%n", "class", "IoU", "precision", "recall");
        for (int c = 0; c < classes.size(); c++)
            out.printf("  %-16s %7s %9s %7s%n", classes.get(c), pct(iou[c]), pct(pr[c]), pct(rc[c]));
        out.printf("  mIoU %.2f%%  (background FP %.3f, FN %.3f of the background union; pixel accuracy %.2f%%)%n",
                100 * confusion.miou(), confusion.bgFalsePositive(), confusion.bgFalseNegative(), 100 * confusion.pixelAccuracy());
    }

    private static String pct(double v) { return Double.isNaN(v) ? "-" : String.format("%.2f", 100 * v); }
}
