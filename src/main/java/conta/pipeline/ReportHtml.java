package conta.pipeline;

import conta.image.CamMaps;
import conta.causal.GlobalCam;
import conta.data.Item;
import conta.image.Colormap;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.Palette;
import conta.io.HostArray;
import conta.io.Json;
import conta.io.Npy;
import conta.train.TrainLog;
import conta.wsss.Cams;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * report.html: one self-contained page (images as data: URIs, charts as inline SVG, no network) that explains every
 * stage: summary and per-class scores (IoU, precision, recall), training curves, the CAM threshold sweep, the
 * context-leak table, the run's warnings, training images (image, CAM tint, per-class CAM heatmaps, pseudo-mask,
 * prediction, ground truth) and held-out images; CONTA's rounds with deltas, confounder set and attention; C²AM's
 * global CAM. Without ground-truth masks the same page shows the images and says why no score is given.
 */
final class ReportHtml {
    private ReportHtml() { }

    static final String NO_MASK_SENTENCE = "No mIoU is shown because this data set has no ground-truth masks for these images: "
            + "the pipeline learns from image-level labels only, but scoring its masks needs pixel annotations "
            + "(add masks for some images, masks/ID.png in a custom set or SegmentationClass/ID.png in VOC, to get per-class scores).";

    @SuppressWarnings("unchecked")
    static String render(Pipeline p, Map<String, Object> report, List<String> warnings) {
        StringBuilder h = new StringBuilder(8 << 20);
        h.append("<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width,initial-scale=1'><title>conta report</title>")
                // records script errors into the page, so a headless browser's DOM dump shows them (ReportHtmlBrowserTest)
                .append("<script>window.onerror=function(m){document.documentElement.setAttribute('data-js-errors',"
                        + "(document.documentElement.getAttribute('data-js-errors')||'')+m+';');};</script><style>")
                .append("body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1500px;color:#222}h2{border-bottom:1px solid #ccc;margin-top:1.6em}")
                // a table wider than the window scrolls in its own box and a chart shrinks, so a narrow window never scrolls the whole page sideways
                .append("table{border-collapse:collapse;margin:.6em 0;display:block;max-width:max-content;overflow-x:auto}td,th{border:1px solid #ccc;padding:2px 7px;text-align:right;vertical-align:top}")
                .append("th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}img{image-rendering:pixelated;margin:1px;vertical-align:top}")
                .append(".sw{display:inline-block;width:14px;height:14px;border:1px solid #888;vertical-align:middle;margin:0 4px 0 10px}")
                .append(".up{color:#1a7f37}.down{color:#c62828}.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em}")
                .append(".warn{background:#fdecea;border-left:4px solid #c62828;padding:.3em 1em;font-family:monospace;font-size:12px}")
                .append(".charts svg{margin:4px;border:1px solid #eee;max-width:calc(100% - 10px);height:auto}figure{display:inline-block;margin:2px;text-align:center;font-size:11px}")
                .append("figcaption{max-width:120px;overflow:hidden}td.imgs{text-align:left}</style></head><body>");
        List<String> classes = (List<String>) report.get("classes");
        List<Object> rounds = (List<Object>) report.get("rounds");
        int last = rounds.size() - 1;
        Map<String, Object> st = stages(rounds, last);
        boolean scored = miou(st, "cam") != null || miou(st, "pseudo") != null || miou(st, "seg") != null;
        h.append("<h1>conta pipeline report</h1><p>method <b>").append(esc(str(report.get("method")))).append("</b>, data <code>")
                .append(esc(str(report.get("data")))).append("</code>: ").append(report.get("train_images")).append(" training images (split <code>")
                .append(esc(str(report.get("train_split")))).append("</code>), ").append(report.get("val_images")).append(" held-out images (split <code>")
                .append(esc(str(report.get("val_split")))).append("</code>), ").append(rounds.size()).append(rounds.size() == 1 ? " round" : " rounds").append(".</p>");
        if (report.get("stopped_after") != null)
            h.append("<p class='note' id='stopped-note'>This run stopped after <b>").append(esc(str(report.get("stopped_after"))))
                    .append("</b> (--until): the stages after it have not run yet, so their scores, curves and images are missing below. "
                            + "Rerun the same command without --until to finish it; report.json is written when the run has finished.</p>");
        if (report.get("in_progress_after") != null)
            h.append("<p class='note' id='progress-note'>This report was written when the run had finished <b>")
                    .append(esc(str(report.get("in_progress_after"))))
                    .append("</b>; the stages after it are missing below. A run rewrites it after each of its longer stages and replaces it "
                            + "with the full report (and report.json) when it finishes. If the run is no longer running (killed, crashed), "
                            + "rerun the same command: it keeps the stages it finished.</p>");
        // a stopped run before any scored stage has no scores for want of the stage, not of masks
        boolean scoredAny = false, camRan = false;
        for (int t = 0; t <= last; t++) {
            Map<String, Object> s = stages(rounds, t);
            scoredAny |= miou(s, "cam") != null || miou(s, "pseudo") != null || miou(s, "seg") != null;
            camRan |= s.get("cam") instanceof Map;
        }
        if (!scoredAny && (report.get("stopped_after") == null && report.get("in_progress_after") == null || camRan))
            h.append("<p class='note' id='no-mask-note'>").append(esc(NO_MASK_SENTENCE)).append("</p>");
        legend(classes, h);
        summary(rounds, h);
        if (scored) perClass(classes, st, last, h);
        sweep(rounds, h);
        curves(p, rounds.size(), h);
        leak(st, h);
        warningList(warnings, h);
        Report.skippedSection(report, h);
        if (p.hooks instanceof CausalHooks ch) causal(p, ch, classes, rounds.size(), h);
        images(p, last, classes, h);
        h.append("<h2>configuration and timings</h2>");
        timings((Map<String, Object>) report.get("timings"), h);
        h.append("<details><summary>config (every key)</summary><pre>").append(esc(Json.writePretty(report.get("config"))))
                .append("</pre></details><details><summary>timings as in report.json (s)</summary><pre>").append(esc(Json.writePretty(report.get("timings"))))
                .append("</pre></details>");
        // counts images that failed to decode, for the browser test
        h.append("<script>window.addEventListener('load',function(){var n=0;for(var i of document.images)if(!i.complete||i.naturalWidth==0)n++;"
                + "document.documentElement.setAttribute('data-broken-images',String(n));});</script></body></html>");
        return h.toString();
    }

    // ------------------------------------------------------------------ tables

    private static void legend(List<String> classes, StringBuilder h) {
        h.append("<div id='legend'><b>colours:</b>");
        for (int c = 0; c < classes.size(); c++)
            h.append("<span class='legend-item'><span class='sw' style='background:#").append(String.format("%06X", c == 0 ? 0 : Palette.vocRgb(c)))
                    .append("'></span>").append(esc(classes.get(c))).append("</span>");
        h.append("<span class='legend-item'><span class='sw' style='background:#FFFFFF'></span>ignored / uncertain (255)</span>")
                .append("<br><b>CAM heatmaps:</b> <span class='sw' style='width:120px;background:linear-gradient(to right");
        for (int i = 0; i <= 8; i++) h.append(String.format(",#%06X", Colormap.viridis(i / 8.0)));
        h.append(")'></span> 0 &rarr; 1 (viridis); masks tint the image with the class colour, background darkens it.</div>");
    }

    @SuppressWarnings("unchecked")
    private static void summary(List<Object> rounds, StringBuilder h) {
        h.append("<h2>scores</h2><table id='summary'><tr><th>round</th><th>CAM seeds mIoU (train)</th><th>CAM, best threshold</th>"
                + "<th>pseudo-masks mIoU (train)</th><th>segmentation mIoU (held-out)</th></tr>");
        Map<String, Object> r0 = stages(rounds, 0);
        for (int t = 0; t < rounds.size(); t++) {
            Map<String, Object> st = stages(rounds, t);
            Map<String, Object> cam = st.get("cam") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
            h.append("<tr><td>").append(t).append("</td><td>").append(withDelta(miou(st, "cam"), t == 0 ? null : miou(r0, "cam")))
                    .append("</td><td>").append(cam.get("best_miou") instanceof Number n ? pct(n.doubleValue()) + " @ " + cam.get("best_threshold") : "-")
                    .append("</td><td>").append(withDelta(miou(st, "pseudo"), t == 0 ? null : miou(r0, "pseudo")))
                    .append("</td><td>").append(withDelta(miou(st, "seg"), t == 0 ? null : miou(r0, "seg"))).append("</td></tr>");
        }
        h.append("</table><p>mIoU in %");
        if (rounds.size() > 1) h.append("; in rounds &ge; 1, the change against round 0 in points");
        h.append("; CAM seeds at the configured background threshold, and at the best one of the sweep.</p>");
        h.append("<p id='terms'><b>What is scored.</b> <i>CAM seeds</i>: each pixel takes the labelled class whose class activation map "
                + "(CAM, scaled to 0&ndash;1 per class) is strongest there, or background where every CAM is below the background threshold. "
                + "<i>Pseudo-masks</i>: the CAMs spread by IRNet's random walk over affinities from the boundary branch (trained on the "
                + "confident parts of the CAMs, the IR labels), then labelled as the seeds are; DeepLab-v2 is trained on them. <i>Segmentation</i>: DeepLab-v2's predictions. "
                + "<i>train</i> / <i>held-out</i>: the split the masks are scored on, against its ground-truth masks.");
        if (rounds.size() > 1)
            h.append(" <i>Rounds</i> (CONTA): round 0 is the plain pipeline; each later round retrains every stage with the context "
                    + "built from the previous round's masks (the confounder set, below).");
        h.append("</p>");
    }

    private static String withDelta(Double v, Double ref) {
        if (v == null) return "-";
        if (ref == null) return pct(v);
        double d = 100 * (v - ref);
        return pct(v) + String.format(Locale.ROOT, " <span class='%s'>(%+.2f)</span>", d >= 0 ? "up" : "down", d);
    }

    @SuppressWarnings("unchecked")
    private static void perClass(List<String> classes, Map<String, Object> st, int round, StringBuilder h) {
        h.append("<h2>per class (round ").append(round).append(")</h2><table id='per-class'><tr><th rowspan=2>class</th>");
        String[][] cols = {{"cam", "CAM seeds (train)"}, {"pseudo", "pseudo-masks (train)"}, {"seg", "segmentation (held-out)"}};
        for (String[] c : cols) h.append("<th colspan=3>").append(c[1]).append("</th>");
        h.append("</tr><tr>");
        for (int i = 0; i < cols.length; i++) h.append("<th>IoU</th><th>precision</th><th>recall</th>");
        h.append("</tr>");
        for (int c = 0; c < classes.size(); c++) {
            h.append("<tr><td><span class='sw' style='margin-left:0;background:#").append(String.format("%06X", c == 0 ? 0 : Palette.vocRgb(c)))
                    .append("'></span>").append(esc(classes.get(c))).append("</td>");
            for (String[] col : cols)
                for (String k : new String[]{"iou", "precision", "recall"}) h.append("<td>").append(cell(list(st, col[0], k), c)).append("</td>");
            h.append("</tr>");
        }
        h.append("<tr><th>mean</th>");
        for (String[] col : cols) h.append("<th>").append(pct(miou(st, col[0]))).append("</th><th></th><th></th>");
        h.append("</tr></table><p>In %. Precision: of the pixels given a class, the share that has it; recall: of the pixels that have it, the share found.</p>");
    }

    @SuppressWarnings("unchecked")
    private static void sweep(List<Object> rounds, StringBuilder h) {
        List<Svg.Series> series = new ArrayList<>();
        List<Svg.Mark> marks = new ArrayList<>();
        for (int t = 0; t < rounds.size(); t++) {
            if (!(stages(rounds, t).get("cam") instanceof Map<?, ?> cm) || !(cm.get("sweep") instanceof List<?> sw) || sw.isEmpty()) continue;
            double[] x = new double[sw.size()], y = new double[sw.size()];
            for (int i = 0; i < sw.size(); i++) {
                Map<String, Object> pt = (Map<String, Object>) sw.get(i);
                x[i] = ((Number) pt.get("threshold")).doubleValue();
                y[i] = 100 * ((Number) pt.get("miou")).doubleValue();
            }
            series.add(new Svg.Series("round " + t, Svg.COLORS[t % Svg.COLORS.length], x, y));
            if (t == rounds.size() - 1) {
                Object f = cm.get("fixed_threshold"), b = cm.get("best_threshold");
                if (f instanceof Number u && b instanceof Number v && u.doubleValue() == v.doubleValue()) // one line, one label (two sat on each other)
                    marks.add(new Svg.Mark(u.doubleValue(), "used = best " + u, "#1a7f37"));
                else {
                    if (f instanceof Number u) marks.add(new Svg.Mark(u.doubleValue(), "used " + u, "#333"));
                    if (b instanceof Number v) marks.add(new Svg.Mark(v.doubleValue(), "best " + v, "#1a7f37"));
                }
            }
        }
        if (series.isEmpty()) return;
        h.append("<h2>CAM background-threshold sweep</h2><div class='charts' id='sweep'>")
                .append(Svg.line("sweep-chart", "CAM seeds: mIoU vs background threshold", "background threshold", "mIoU %", series, false, marks))
                .append("</div><p>A pixel is background where every class's CAM is below the threshold; the seeds use the dashed 'used' value.</p>");
    }

    private static final String[][] TRAINED = {{"cls", "classifier"}, {"c2am", "C²AM fine-tuning"}, {"irn", "boundary branch"}, {"seg", "DeepLab segmentation"}};

    private static void curves(Pipeline p, int rounds, StringBuilder h) {
        StringBuilder c = new StringBuilder();
        for (int t = 0; t < rounds; t++)
            for (String[] s : TRAINED) {
                Path f = p.roundDir(t).resolve(s[0]).resolve(TrainLog.FILE);
                List<Map<String, Object>> log;
                try {
                    log = TrainLog.read(f);
                } catch (IOException | RuntimeException e) {
                    c.append("<p>").append(esc(f + ": " + e.getMessage())).append("</p>");
                    continue;
                }
                if (log.isEmpty()) continue;
                c.append(lossChart("loss-r" + t + "-" + s[0], "round " + t + " " + s[1] + ": loss", log));
                c.append(lrChart("lr-r" + t + "-" + s[0], "round " + t + " " + s[1] + ": learning rate", log));
            }
        if (c.isEmpty()) return;
        h.append("<h2>training curves</h2><div class='charts' id='curves'>").append(c).append("</div><p>Per-step values from each stage's ")
                .append("<code>train_log.jsonl</code>; the thick line is an exponential moving average (0.9) of the thin one.</p>");
    }

    /**
     * A stage's loss curve: the logged losses thin (up to 600 points), their moving average thick, the named parts
     * smoothed. On a log axis when the losses are all positive and span a decade or more: DeepLab's summed loss starts
     * near 8 and ends near 0.5, and a linear axis sized by the first steps left the rest of the run a flat line at the
     * bottom (session 26's report probe).
     */
    @SuppressWarnings("unchecked")
    static String lossChart(String id, String title, List<Map<String, Object>> log) {
        List<Map<String, Object>> pts = thin(log, 600);
        double[] x = new double[pts.size()], y = new double[pts.size()], ema = new double[pts.size()];
        double e = Double.NaN;
        for (int i = 0; i < pts.size(); i++) {
            x[i] = ((Number) pts.get(i).get("step")).doubleValue();
            y[i] = pts.get(i).get("loss") instanceof Number n ? n.doubleValue() : Double.NaN;
            e = Double.isNaN(e) ? y[i] : 0.9 * e + 0.1 * y[i];
            ema[i] = e;
        }
        List<Svg.Series> s = new ArrayList<>();
        s.add(new Svg.Series("", "#1f77b4", x, y, 1, 0.35));
        s.add(new Svg.Series("loss", "#1f77b4", x, ema, 2, 1));
        if (pts.getFirst().get("parts") instanceof Map<?, ?> first) {
            int k = 1;
            for (Object name : first.keySet()) {
                double[] py = new double[pts.size()];
                for (int i = 0; i < pts.size(); i++)
                    py[i] = pts.get(i).get("parts") instanceof Map<?, ?> pm && pm.get(name) instanceof Number n ? n.doubleValue() : Double.NaN;
                s.add(new Svg.Series(String.valueOf(name), Svg.COLORS[k++ % Svg.COLORS.length], x, smooth(py), 1.2, 1));
            }
        }
        return Svg.line(id, title, "step", "loss", s, spansADecade(y), List.of());
    }

    /** Whether the finite values are all positive and the largest is at least 10x the smallest. */
    static boolean spansADecade(double[] v) {
        double lo = Double.POSITIVE_INFINITY, hi = 0;
        for (double d : v) {
            if (!Double.isFinite(d)) continue;
            if (d <= 0) return false;
            lo = Math.min(lo, d);
            hi = Math.max(hi, d);
        }
        return hi >= 10 * lo;
    }

    @SuppressWarnings("unchecked")
    private static String lrChart(String id, String title, List<Map<String, Object>> log) {
        List<Map<String, Object>> pts = thin(log, 300);
        List<Svg.Series> s = new ArrayList<>();
        if (!(pts.getFirst().get("lr") instanceof Map<?, ?> first)) return "";
        int k = 0;
        for (Object name : first.keySet()) {
            double[] x = new double[pts.size()], y = new double[pts.size()];
            for (int i = 0; i < pts.size(); i++) {
                x[i] = ((Number) pts.get(i).get("step")).doubleValue();
                y[i] = ((Map<String, Object>) pts.get(i).get("lr")).get(name) instanceof Number n ? n.doubleValue() : Double.NaN;
            }
            s.add(new Svg.Series(String.valueOf(name), Svg.COLORS[k++ % Svg.COLORS.length], x, y));
        }
        return Svg.line(id, title, "step", "learning rate", s, true, List.of());
    }

    private static double[] smooth(double[] v) {
        double[] o = new double[v.length];
        double e = Double.NaN;
        for (int i = 0; i < v.length; i++) {
            if (Double.isFinite(v[i])) e = Double.isNaN(e) ? v[i] : 0.9 * e + 0.1 * v[i];
            o[i] = e;
        }
        return o;
    }

    /** At most n evenly spaced records, always keeping the last (long runs stay a small page). */
    private static List<Map<String, Object>> thin(List<Map<String, Object>> l, int n) {
        if (l.size() <= n) return l;
        List<Map<String, Object>> o = new ArrayList<>();
        for (int i = 0; i < n; i++) o.add(l.get((int) ((long) i * (l.size() - 1) / (n - 1))));
        return o;
    }

    @SuppressWarnings("unchecked")
    private static void leak(Map<String, Object> st, StringBuilder h) {
        if (!(st.get("cam") instanceof Map<?, ?> cam) || !(cam.get("context_leak") instanceof Map<?, ?> leak) || leak.isEmpty()) return;
        h.append("<h2>context leak of the CAMs</h2><table id='context-leak'><tr><th>class</th><th>off-object CAM mass, with its context</th>"
                + "<th>images</th><th>without its context</th><th>images</th></tr>");
        for (var e : ((Map<String, Object>) leak).entrySet()) {
            Map<String, Object> r = (Map<String, Object>) e.getValue();
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(pctCell(r.get("with_context"))).append("</td><td>")
                    .append(images(r.get("images_with"), r.get("zero_cam_with"))).append("</td><td>").append(pctCell(r.get("without_context")))
                    .append("</td><td>").append(images(r.get("images_without"), r.get("zero_cam_without"))).append("</td></tr>");
        }
        h.append("</table><p>The share (%) of each class's CAM mass that falls off the object, on training images that show the context "
                + "the synthetic set couples to the class and on images that do not: a CAM that leans on the context leaks more with it. "
                + "An image whose CAM of the class is zero on every labelled pixel has no mass to measure and is left out of the mean "
                + "(such images in brackets).</p>");
    }

    /** An image count of the leak table, with the images left out for an all-zero CAM (absent in reports from before they were counted). */
    private static String images(Object n, Object zero) {
        return n + (zero instanceof Number z && z.intValue() > 0 ? " (+" + z + " zero CAM)" : "");
    }

    /** What each stage does, for the timings table (report.json names them by folder). */
    private static final Map<String, String> STAGE_WORK = Map.of("cls", "classifier training", "c2am", "C²AM fine-tuning", "cam", "CAMs",
            "ir", "IR labels", "irn", "boundary branch training", "pseudo", "random walk (pseudo-masks)", "seg", "segmentation training",
            "pred", "held-out predictions", "confounders", "confounder set");

    /** The stage times as a table with each one's share of their sum, then this run's own wall time. */
    private static void timings(Map<String, Object> t, StringBuilder h) {
        if (t == null) return;
        Map<String, Double> stages = new java.util.LinkedHashMap<>();
        t.forEach((k, v) -> {
            if (k.matches("round\\d+\\.\\w+") && v instanceof Number n) stages.put(k, n.doubleValue());
        });
        double sum = stages.values().stream().mapToDouble(Double::doubleValue).sum();
        if (stages.isEmpty() || sum <= 0) return;
        h.append("<table id='timings'><tr><th>round</th><th>stage</th><th>seconds</th><th>share</th></tr>");
        stages.forEach((k, v) -> {
            String stage = k.substring(k.indexOf('.') + 1);
            h.append("<tr><td>").append(k.substring("round".length(), k.indexOf('.'))).append("</td><td>")
                    .append(esc(STAGE_WORK.getOrDefault(stage, stage))).append("</td><td>").append(String.format(Locale.ROOT, "%.1f", v))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.0f%%", 100 * v / sum)).append("</td></tr>");
        });
        h.append("<tr><th>all</th><th></th><th>").append(String.format(Locale.ROOT, "%.1f", sum)).append("</th><th>100%</th></tr></table><p>")
                .append("A stage's seconds add up every run of this folder that worked on it");
        if (t.get("this_run_total") instanceof Number n)
            h.append("; this run took ").append(String.format(Locale.ROOT, "%.1f", n.doubleValue())).append(" s from start to report");
        if (t.get("resumed_note") instanceof String note) h.append(". ").append(esc(note.substring(0, 1).toUpperCase(Locale.ROOT))).append(esc(note.substring(1)));
        h.append(".</p>");
    }

    private static void warningList(List<String> warnings, StringBuilder h) {
        h.append("<h2>warnings</h2><div id='warnings'>");
        if (warnings.isEmpty()) h.append("<p>The run printed no warnings (the console is in <code>run.log</code>).</p>");
        for (String w : warnings) h.append("<div class='warn'>").append(esc(w)).append("</div>");
        h.append("</div>");
    }

    // ------------------------------------------------------------------ CONTA and C²AM

    private static void causal(Pipeline p, CausalHooks ch, List<String> classes, int rounds, StringBuilder h) {
        StringBuilder c = new StringBuilder();
        for (int t = 1; t < rounds; t++) {
            Path f = p.roundDir(t).resolve("confounders.npy");
            if (!Files.isRegularFile(f)) continue;
            try {
                HostArray conf = Npy.read(f);
                c.append("<h3>round ").append(t).append(": confounder set C (mean mask of each class, from round ").append(t - 1).append("; one colour scale for all)</h3><div>");
                c.append(heatmaps(conf, classes.subList(1, classes.size()), 80, true));
                c.append("</div><h3>round ").append(t).append(": attention &alpha; over C and the context M for a few training images</h3><table class='alpha'>"
                        + "<tr><th>image</th><th>predicted mask (X<sub>m</sub> source)</th><th>&alpha; (over the classes' c<sub>i</sub>)</th><th>M = &Sigma; &alpha;<sub>i</sub> c<sub>i</sub> / n</th></tr>");
                for (String id : p.trainIds.subList(0, Math.min(3, p.trainIds.size()))) {
                    CausalHooks.ContextView v = ch.contextView(t, id);
                    if (v == null) continue;
                    Item it = p.ds.read(id);
                    Path src = p.roundDir(t - 1).resolve(p.cfg.str("conta.confounder_source").equals("pseudo") ? "pseudo" : "pred_train").resolve(id + ".png");
                    c.append("<tr><td>").append(img(base(it), 112)).append("<br>").append(esc(id)).append("</td><td>")
                            .append(Files.isRegularFile(src) ? img(maskView(it, IndexPng.read(src)), 112) : "-").append("</td><td>");
                    if (v.alpha() == null) c.append("mask mode: no attention");
                    else {
                        int n = v.alpha().length / v.queries();
                        for (int q = 0; q < v.queries(); q++) {
                            double[] a = new double[n];
                            for (int i = 0; i < n; i++) a[i] = v.alpha()[q * n + i];
                            c.append(Svg.bars("alpha-r" + t + "-" + id + "-" + q, v.queries() == 1 ? "alpha" : "alpha, query " + classes.get(q + 1),
                                    classes.subList(1, classes.size()), a, ""));
                        }
                    }
                    c.append("</td><td>").append(heatmaps(v.m(), null, 96, false)).append("</td></tr>");
                }
                c.append("</table>");
            } catch (IOException | RuntimeException e) {
                c.append("<p>").append(esc("round " + t + ": " + e.getMessage())).append("</p>");
            }
        }
        if (!c.isEmpty()) h.append("<h2>CONTA: confounder set and context</h2><div id='conta'>").append(c).append("</div>");
        StringBuilder g = new StringBuilder();
        for (int t = 0; t < rounds; t++) {
            Path f = p.roundDir(t).resolve("c2am").resolve("global_cam.npy");
            if (!Files.isRegularFile(f)) continue;
            try {
                g.append("<h3>round ").append(t).append("</h3>").append(heatmaps(GlobalCam.load(f, classes.size() - 1), classes.subList(1, classes.size()), 96, false));
            } catch (IOException | RuntimeException e) {
                g.append("<p>").append(esc(f + ": " + e.getMessage())).append("</p>");
            }
        }
        if (!g.isEmpty())
            h.append("<h2>C²AM: global CAM per class</h2><div id='c2am'>").append(g)
                    .append("<p>The mean CAM of each class over all training images (an image without the class adds its zeros; each "
                            + "map scaled to its own maximum): "
                            + "where the classifier expects a class regardless of the image, the position bias C²AM adjusts for.</p></div>");
    }

    /** One viridis image per channel of an n x h x w array, each scaled to its maximum (or all to the global one). */
    static String heatmaps(HostArray a, List<String> names, int width, boolean shared) throws IOException {
        int n = a.shape()[0], hh = a.shape()[1], ww = a.shape()[2], hw = hh * ww;
        float all = 0;
        for (float v : a.data()) all = Math.max(all, v);
        StringBuilder b = new StringBuilder();
        for (int c = 0; c < n; c++) {
            float own = 0; // the caption's max is this map's own, also when the colours share one scale (an all-zero c_i says 0)
            for (int i = 0; i < hw; i++) own = Math.max(own, a.data()[c * hw + i]);
            float max = shared ? all : own;
            BufferedImage im = new BufferedImage(ww, hh, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < hh; y++)
                for (int x = 0; x < ww; x++) im.setRGB(x, y, Colormap.viridis(max > 0 ? a.data()[c * hw + y * ww + x] / max : 0));
            b.append("<figure>").append(img(im, width)).append("<figcaption>")
                    .append(esc(names != null && c < names.size() ? names.get(c) : n == 1 ? "M" : "M, query " + c))
                    .append(String.format(Locale.ROOT, " (max %.3g)", own)).append("</figcaption></figure>");
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ images

    /** Training rows (image, CAM tint, per-class heatmaps, pseudo-mask, prediction, ground truth) and held-out rows. */
    private static void images(Pipeline p, int round, List<String> classes, StringBuilder h) {
        int n = p.cfg.integer("report.overlays");
        Path rd = p.roundDir(round), predDir = rd.resolve("report_pred");
        List<String> withMask = p.trainIds.stream().filter(p.ds::hasMask).limit(n).toList();
        List<String> train = withMask.isEmpty() ? p.trainIds.stream().limit(n).toList() : withMask;
        List<String> held = p.valIds.stream().limit(n).toList();
        Path segModel = rd.resolve("seg").resolve("model.safetensors");
        if (!train.isEmpty() && Files.isRegularFile(segModel)) p.predict(segModel, train, predDir, "report predictions");
        try {
            h.append("<h2>training images (round ").append(round).append(")</h2><p>What each stage made of the images it learned from. "
                    + "CAM: the image tinted by the strongest class's colour with opacity = its score; heatmaps: each labelled class's CAM.</p>"
                    + "<table id='train-images'><tr><th>image</th><th>CAM</th><th>CAM per class</th><th>pseudo-mask</th><th>prediction</th><th>ground truth</th></tr>");
            for (String id : train) {
                Item it = p.ds.read(id);
                h.append("<tr class='train-row'><td>").append(img(base(it), 160)).append("<br>").append(esc(id)).append("<br>")
                        .append(esc(labelNames(it.labels(), classes))).append("</td>");
                Path camFile = rd.resolve("cam").resolve(id + ".npz");
                if (Files.isRegularFile(camFile)) {
                    CamMaps cam = CamMaps.load(camFile);
                    h.append("<td>").append(img(camView(it, cam), 160)).append("</td><td class='imgs'>");
                    List<String> names = new ArrayList<>();
                    for (int k : cam.keys()) names.add(k < classes.size() ? classes.get(k) : "class " + k);
                    h.append(heatmaps(new HostArray(new int[]{cam.keys().length, cam.h(), cam.w()}, cam.highRes()), names, 96, false)).append("</td>");
                } else h.append("<td>-</td><td>-</td>");
                h.append("<td>").append(maskCell(it, rd.resolve("pseudo").resolve(id + ".png"))).append("</td><td>")
                        .append(maskCell(it, predDir.resolve(id + ".png"))).append("</td><td>")
                        .append(p.ds.hasMask(id) ? img(maskView(it, p.ds.mask(id)), 160) : "none").append("</td></tr>");
            }
            h.append("</table>");
            h.append("<h2>held-out images (round ").append(round).append(")</h2><p>Images the models never trained on: the segmentation model's predictions.</p>"
                    + "<table id='held-out'><tr><th>image</th><th>prediction</th><th>ground truth</th></tr>");
            for (String id : held) {
                Item it = p.ds.read(id);
                h.append("<tr class='held-out-row'><td>").append(img(base(it), 160)).append("<br>").append(esc(id)).append("</td><td>")
                        .append(maskCell(it, rd.resolve("pred").resolve(id + ".png"))).append("</td><td>")
                        .append(p.ds.hasMask(id) ? img(maskView(it, p.ds.mask(id)), 160) : "none").append("</td></tr>");
            }
            h.append("</table>");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String labelNames(int[] labels, List<String> classes) {
        List<String> l = new ArrayList<>();
        for (int k : labels) l.add(k < classes.size() ? classes.get(k) : "class " + k);
        return String.join(", ", l);
    }

    private static String maskCell(Item it, Path f) throws IOException {
        return Files.isRegularFile(f) ? img(maskView(it, IndexPng.read(f)), 160) : "-";
    }

    static BufferedImage base(Item it) {
        BufferedImage b = new BufferedImage(it.image().w(), it.image().h(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < it.image().h(); y++)
            for (int x = 0; x < it.image().w(); x++)
                b.setRGB(x, y, it.image().at(y, x, 0) << 16 | it.image().at(y, x, 1) << 8 | it.image().at(y, x, 2));
        return b;
    }

    /** Each pixel tinted by its strongest class's palette colour, with opacity = its CAM score. */
    private static BufferedImage camView(Item it, CamMaps cam) {
        BufferedImage b = base(it);
        int hw = cam.h() * cam.w();
        for (int y = 0; y < Math.min(cam.h(), b.getHeight()); y++)
            for (int x = 0; x < Math.min(cam.w(), b.getWidth()); x++) {
                float best = 0;
                int k = 0;
                for (int i = 0; i < cam.keys().length; i++) {
                    float v = cam.highRes()[i * hw + y * cam.w() + x];
                    if (v > best) { best = v; k = cam.keys()[i]; }
                }
                b.setRGB(x, y, blend(b.getRGB(x, y), Palette.vocRgb(k), Math.min(1, best)));
            }
        return b;
    }

    static BufferedImage maskView(Item it, Mask m) {
        BufferedImage b = base(it);
        for (int y = 0; y < Math.min(m.h(), b.getHeight()); y++)
            for (int x = 0; x < Math.min(m.w(), b.getWidth()); x++) {
                int k = m.at(y, x);
                b.setRGB(x, y, k == 255 ? 0xFFFFFF : k == 0 ? blend(b.getRGB(x, y), 0, 0.6f) : blend(b.getRGB(x, y), Palette.vocRgb(k), 0.65f));
            }
        return b;
    }

    private static int blend(int a, int c, float t) {
        int r = (int) ((a >> 16 & 255) * (1 - t) + (c >> 16 & 255) * t), g = (int) ((a >> 8 & 255) * (1 - t) + (c >> 8 & 255) * t),
                bl = (int) ((a & 255) * (1 - t) + (c & 255) * t);
        return r << 16 | g << 8 | bl;
    }

    private static String img(BufferedImage b, int width) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ImageIO.write(b, "png", bos);
        int w = Math.min(width, Math.max(b.getWidth(), width / 2) * 2);
        return "<img width='" + w + "' alt='' src='data:image/png;base64," + Base64.getEncoder().encodeToString(bos.toByteArray()) + "'>";
    }

    // ------------------------------------------------------------------ helpers

    @SuppressWarnings("unchecked")
    private static Map<String, Object> stages(List<Object> rounds, int t) {
        return (Map<String, Object>) ((Map<String, Object>) rounds.get(t)).get("stages");
    }

    private static Double miou(Map<String, Object> stages, String k) { return Report.miou(stages, k); }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> st, String stage, String key) {
        return st.get(stage) instanceof Map<?, ?> m && m.get(key) instanceof List<?> l ? (List<Object>) l : null;
    }

    private static String cell(List<Object> l, int c) {
        return l == null || c >= l.size() || !(l.get(c) instanceof Number n) ? "-" : String.format(Locale.ROOT, "%.1f", 100 * n.doubleValue());
    }

    private static String pctCell(Object o) { return o instanceof Number n ? String.format(Locale.ROOT, "%.1f", 100 * n.doubleValue()) : "-"; }

    private static String pct(Double v) { return Report.pct(v); }

    private static String str(Object o) { return String.valueOf(o); }

    static String esc(String s) { return Svg.esc(s); }
}
