package conta.pipeline;

import conta.io.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * report.json (stages.cam / stages.pseudo / stages.seg with miou and per-class IoU, the CAM threshold sweep, every
 * round, the config, the run's warnings, timings) and report.html ({@link ReportHtml}). Timings live only
 * under "timings", so a resumed run's report equals an uninterrupted one everywhere else.
 */
public final class Report {
    private Report() { }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> build(Pipeline p, List<Map<String, Object>> rounds, double seconds) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("method", p.cfg.str("method"));
        r.put("data", p.ds.root().toString());
        r.put("train_split", p.cfg.str("data.train"));
        r.put("val_split", p.cfg.str("data.val"));
        r.put("train_images", p.trainIds.size());
        r.put("val_images", p.valIds.size());
        r.put("classes", p.ds.classNames());
        Map<String, Object> timings = new LinkedHashMap<>();
        List<Object> resumed = new ArrayList<>();
        List<Object> rs = new ArrayList<>();
        for (int t = 0; t < rounds.size(); t++) {
            Map<String, Object> st = new LinkedHashMap<>();
            for (var e : rounds.get(t).entrySet()) {
                Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) e.getValue());
                Object s = m.remove("seconds");
                if (s != null) timings.put("round" + t + "." + e.getKey(), s);
                if (Boolean.TRUE.equals(m.remove("seconds_resumed"))) resumed.add("round" + t + "." + e.getKey());
                st.put(e.getKey(), m);
            }
            Map<String, Object> seg = new LinkedHashMap<>((Map<String, Object>) st.getOrDefault("pred", Map.of()));
            seg.put("training", st.remove("seg"));
            st.remove("pred");
            st.put("seg", seg);
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("round", t);
            one.put("stages", st);
            rs.add(one);
        }
        r.put("stages", ((Map<String, Object>) rs.getLast()).get("stages"));
        r.put("rounds", rs);
        if (p.hooks instanceof CausalHooks h) {
            Map<String, Object> mech = h.mechanism(rounds.size());
            if (!mech.isEmpty()) r.put("mechanism", mech);
        }
        r.put("config", p.cfg.asMap());
        r.put("skipped", p.bad.toJson());
        timings.put("this_run_total", Math.round(seconds * 100) / 100.0);
        if (!resumed.isEmpty()) { // their seconds miss the interrupted runs' part (a training stage's train_log.jsonl wall_s has all of it)
            timings.put("resumed_stages", resumed);
            timings.put("resumed_note", "these stages were begun in a folder by a conta that kept no record of a stage's time: their "
                    + "seconds miss that run's part; a training stage's train_log.jsonl wall_s adds up every run (the other stages' "
                    + "seconds add up every run that worked on them)");
        }
        // every warning any (resumed) run into this folder printed; OUT's own path written as "OUT", so that the
        // report does not depend on where the folder lives (PipelineResumeTest compares two folders' reports)
        List<String> warnings = new ArrayList<>();
        for (String w : RunLog.warnings(p.out))
            warnings.add(w.replace(p.out.toAbsolutePath().normalize() + java.io.File.separator, "OUT/")
                    .replace(p.out + java.io.File.separator, "OUT/"));
        r.put("warnings", warnings);
        r.put("timings", timings);
        return r;
    }

    public static void write(Pipeline p, Map<String, Object> report) throws IOException {
        // atomically: a kill or a full disk while a report is rewritten after a stage leaves the previous one whole
        conta.io.AtomicWrite.write(p.out.resolve("report.json"), Json.writePretty(report).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        writeHtml(p, report);
    }

    private static void writeHtml(Pipeline p, Map<String, Object> report) throws IOException {
        @SuppressWarnings("unchecked")
        List<String> warnings = report.get("warnings") instanceof List<?> l ? (List<String>) l : List.of();
        conta.io.AtomicWrite.write(p.out.resolve("report.html"), ReportHtml.render(p, report, warnings).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * A run stopped by --until: report.html with the stages it reached, saying so at the top. No report.json: it marks a
     * finished run (compare --tables-only counts it, --config reads its recipe). A folder whose run had finished before
     * (--until found the stage done) keeps its full report.
     */
    static void writeStopped(Pipeline p, Map<String, Object> report) throws IOException {
        if (!Files.isRegularFile(p.out.resolve("report.json"))) writeHtml(p, report);
    }

    static Double miou(Map<String, Object> stages, String k) {
        Object s = stages.get(k);
        if (!(s instanceof Map<?, ?> m) || !(m.get("miou") instanceof Number n)) return null;
        return n.doubleValue();
    }

    @SuppressWarnings("unchecked")
    public static void printTable(Map<String, Object> report, PrintStream out) {
        out.printf("%-8s %10s %12s %12s %12s%n", "round", "CAM mIoU", "CAM best", "pseudo mIoU", "seg mIoU");
        boolean scored = false;
        for (Object o : (List<Object>) report.get("rounds")) {
            Map<String, Object> r = (Map<String, Object>) o;
            Map<String, Object> st = (Map<String, Object>) r.get("stages");
            scored |= miou(st, "cam") != null || miou(st, "pseudo") != null || miou(st, "seg") != null;
            Map<String, Object> cam = (Map<String, Object>) st.get("cam");
            Object best = cam == null ? null : cam.get("best_miou");
            out.printf("%-8s %10s %12s %12s %12s%n", r.get("round"), pct(miou(st, "cam")),
                    best instanceof Number n ? pct(n.doubleValue()) + "@" + cam.get("best_threshold") : "-", pct(miou(st, "pseudo")), pct(miou(st, "seg")));
        }
        out.println("(mIoU in %; CAM and pseudo-masks on " + report.get("train_split") + ", segmentation on " + report.get("val_split") + ")");
        if (!scored && !report.containsKey("stopped_after")) // the report says why in its first lines; the console should too
            out.println("(no mIoU: this data set has no ground-truth masks for these images; report.html shows the CAMs, pseudo-masks and predictions)");
        if (report.get("mechanism") instanceof Map<?, ?> mech && !mech.isEmpty()) {
            out.println("CONTA's context per round: W1/W2 change from init, alpha entropy / log n (1 = uniform), M spread across images, "
                    + "classifier weight on the context / on the features");
            for (var e : mech.entrySet()) {
                Map<String, Object> m = (Map<String, Object>) e.getValue();
                out.printf("  %-7s W1 %s  W2 %s  alpha entropy %s  M spread %s  context weight %s%n", e.getKey(), num(m.get("w1_change")),
                        num(m.get("w2_change")), num(m.get("alpha_entropy")), num(m.get("m_spread")), num(m.get("context_weight")));
            }
        }
    }

    static String num(Object o) { return o instanceof Number n ? String.format("%.4g", n.doubleValue()) : "-"; }

    static String pct(Double v) { return v == null ? "-" : String.format("%.2f", 100 * v); }
    /** The items --skip-bad left out (id, file, reason), when there are any. */
    @SuppressWarnings("unchecked")
    static void skippedSection(Map<String, Object> report, StringBuilder h) {
        List<Object> sk = (List<Object>) report.getOrDefault("skipped", List.of());
        if (sk.isEmpty()) return;
        h.append("<h2 id='skipped'>skipped items (").append(sk.size()).append(")</h2><table><tr><th>id</th><th>file</th><th>reason</th></tr>");
        for (Object o : sk) {
            Map<String, Object> m = (Map<String, Object>) o;
            h.append("<tr><td>").append(ReportHtml.esc(String.valueOf(m.get("id")))).append("</td><td>").append(ReportHtml.esc(String.valueOf(m.get("file"))))
                    .append("</td><td>").append(ReportHtml.esc(String.valueOf(m.get("reason")))).append("</td></tr>");
        }
        h.append("</table>");
    }

}
