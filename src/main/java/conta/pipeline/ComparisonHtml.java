package conta.pipeline;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * comparison.html beside comparison.md/json: the mean ± std table of every method and round, the paired differences
 * against the first method, the context-leak table, and each method's per-class IoU change against the first method as
 * bar charts (one per scored stage). Self-contained, no script.
 */
final class ComparisonHtml {
    private ComparisonHtml() { }

    private static final String[][] METRICS = {{"cam", "CAM mIoU"}, {"cam_best", "CAM mIoU (best threshold)"}, {"pseudo", "pseudo-mask mIoU"},
            {"seg", "segmentation mIoU"}};

    @SuppressWarnings("unchecked")
    static String render(Map<String, Object> json, List<String> classes) {
        List<String> methods = (List<String>) json.get("methods");
        List<String> coupled = (List<String>) json.getOrDefault("context_coupled_classes", List.of());
        StringBuilder h = new StringBuilder("<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width,initial-scale=1'>"
                + "<title>conta comparison</title><style>" // wide tables scroll in their own box and charts shrink in a narrow window (as report.html)
                + "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.6em 0;display:block;max-width:max-content;overflow-x:auto}"
                + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
                + "svg{margin:4px;border:1px solid #eee;max-width:calc(100% - 10px);height:auto}</style></head><body><h1>conta comparison</h1>");
        h.append("<p>").append(json.get("seeds")).append(" seed(s) per method; mIoU in %, mean ± sample standard deviation over seeds. CAM and "
                + "pseudo-masks are scored on the training split, segmentation on the held-out split.</p>");
        h.append("<table id='comparison'><tr><th>method</th><th>round</th>");
        for (String[] m : METRICS) h.append("<th>").append(m[1]).append("</th>");
        h.append("</tr>");
        for (Object o : (List<Object>) json.get("rows")) {
            Map<String, Object> row = (Map<String, Object>) o;
            h.append("<tr class='row'><td>").append(Svg.esc(String.valueOf(row.get("method")))).append("</td><td>").append(row.get("round")).append("</td>");
            for (String[] m : METRICS) {
                Map<String, Object> v = (Map<String, Object>) row.get(m[0]);
                double mean = v.get("mean") instanceof Number n ? n.doubleValue() : Double.NaN, std = v.get("std") instanceof Number n ? n.doubleValue() : Double.NaN;
                h.append("<td>").append(Double.isNaN(mean) ? "-" : Double.isNaN(std) ? String.format(Locale.ROOT, "%.2f", 100 * mean) // one seed: no SD
                        : String.format(Locale.ROOT, "%.2f ± %.2f", 100 * mean, 100 * std)).append("</td>");
            }
            h.append("</tr>");
        }
        h.append("</table>");
        String ref = methods.getFirst();
        paired(json, ref, h);
        leak(json, h);
        Map<String, Object> deltas = (Map<String, Object>) json.get("per_class_change_vs_" + ref);
        for (String m : methods.subList(1, methods.size())) {
            Map<String, Object> dm = (Map<String, Object>) deltas.get(m);
            h.append("<h2>").append(Svg.esc(m)).append(" minus ").append(Svg.esc(ref)).append(": per-class IoU change (last round, points)</h2><div>");
            for (String[] st : new String[][]{{"cam", "CAM"}, {"pseudo", "pseudo-masks"}, {"seg", "segmentation"}}) {
                double[] v = new double[classes.size()];
                for (int c = 0; c < classes.size(); c++) {
                    Object d = ((Map<String, Object>) dm.get(classes.get(c))).get(st[0]);
                    v[c] = d instanceof Number n ? 100 * n.doubleValue() : Double.NaN;
                }
                List<String> labels = classes.stream().map(c -> coupled.contains(c) ? c + " *" : c).toList();
                h.append(Svg.bars("delta-" + m.replaceAll("[^a-z0-9]", "_") + "-" + st[0], st[1], labels, v, ""));
            }
            h.append("</div>");
        }
        if (!coupled.isEmpty()) h.append("<p>* a class the synthetic set couples to a context.</p>");
        return h.append("</body></html>").toString();
    }

    /** The paired differences against the reference method, as comparison.md has them (the HTML showed only the means). */
    @SuppressWarnings("unchecked")
    private static void paired(Map<String, Object> json, String ref, StringBuilder h) {
        if (!(json.get("paired_vs_" + ref) instanceof Map<?, ?> all) || all.isEmpty()) return;
        h.append("<h2>paired difference against ").append(Svg.esc(ref)).append(" (same seed; points)</h2><table id='paired'><tr><th>method</th>"
                + "<th>round</th><th>metric</th><th>seeds</th><th>mean</th><th>95% interval</th><th>better / worse</th><th>sign test p</th></tr>");
        for (var e : all.entrySet())
            for (Object o : (List<Object>) e.getValue()) {
                Map<String, Object> r = (Map<String, Object>) o;
                String ci = r.get("ci95") instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Number lo && l.get(1) instanceof Number hi
                        ? String.format(Locale.ROOT, "[%+.2f, %+.2f]", lo.doubleValue(), hi.doubleValue()) : "-";
                h.append("<tr class='paired-row'><td>").append(Svg.esc(String.valueOf(e.getKey()))).append("</td><td>").append(r.get("round"))
                        .append("</td><td>").append(Svg.esc(String.valueOf(r.get("metric")))).append("</td><td>").append(r.get("seeds")).append("</td><td>")
                        .append(r.get("mean_diff") instanceof Number m ? String.format(Locale.ROOT, "%+.2f", m.doubleValue()) : "-").append("</td><td>")
                        .append(ci).append("</td><td>").append(r.get("better")).append(" / ").append(r.get("worse")).append("</td><td>")
                        .append(r.get("sign_p") instanceof Number p ? String.format(Locale.ROOT, "%.3f", p.doubleValue()) : "-").append("</td></tr>");
            }
        h.append("</table>");
    }

    /** The context-leak table of comparison.md: off-object CAM share with (without) the coupled context, mean over seeds. */
    @SuppressWarnings("unchecked")
    private static void leak(Map<String, Object> json, StringBuilder h) {
        if (!(json.get("context_leak") instanceof Map<?, ?> all) || all.isEmpty()) return;
        List<String> classes = List.copyOf(((Map<String, Object>) all.values().iterator().next()).keySet());
        h.append("<h2>off-object share of the CAM mass on images with the coupled context</h2><p>Mean over seeds, %; lower = less context in "
                + "the CAMs; without the context in brackets.</p><table id='leak'><tr><th>method / round</th>");
        for (String c : classes) h.append("<th>").append(Svg.esc(c)).append("</th>");
        h.append("</tr>");
        for (var e : all.entrySet()) {
            h.append("<tr class='leak-row'><td>").append(Svg.esc(String.valueOf(e.getKey()))).append("</td>");
            for (String c : classes) {
                Map<String, Object> v = (Map<String, Object>) ((Map<String, Object>) e.getValue()).get(c);
                double w = v != null && v.get("with_context") instanceof Number n ? n.doubleValue() : Double.NaN;
                double wo = v != null && v.get("without_context") instanceof Number n ? n.doubleValue() : Double.NaN;
                h.append("<td>").append(Double.isNaN(w) ? "-" : String.format(Locale.ROOT, "%.1f (%s)", 100 * w,
                        Double.isNaN(wo) ? "-" : String.format(Locale.ROOT, "%.1f", 100 * wo))).append("</td>");
            }
            h.append("</tr>");
        }
        h.append("</table>");
    }
}
