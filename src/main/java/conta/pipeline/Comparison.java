package conta.pipeline;

import conta.config.Config;
import conta.error.UserError;
import conta.io.Json;
import conta.io.RunLayout;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Methods x seeds: runs each pipeline (resumable) and tabulates mean ± sample std of CAM, best-threshold CAM, pseudo-mask
 * and segmentation mIoU, one row per round, plus each method's per-class IoU change against the first method (the
 * classes the synthetic set couples to a context are marked).
 */
public final class Comparison {
    private Comparison() { }

    private static final String[] METRICS = {"cam", "cam_best", "pseudo", "seg"};

    @SuppressWarnings("unchecked")
    public static Map<String, Object> run(Config base, List<String> methods, int seeds, Path data, Path out, PrintStream log) throws Exception {
        return run(base, methods, seeds, data, out, log, StageRange.ALL);
    }

    /** The same with --from / --until applied to every pipeline (a stopped run's table shows the stages it reached). */
    public static Map<String, Object> run(Config base, List<String> methods, int seeds, Path data, Path out, PrintStream log,
                                          StageRange range) throws Exception {
        check(base, methods, seeds, out, range);
        Map<String, List<Map<String, Object>>> reports = new LinkedHashMap<>();
        Map<String, Object> json = null;
        for (int s = 0; s < seeds; s++) { // seeds outer: after each seed the table covers every method
            for (String m : methods) {
                Config c = base.copy();
                c.set("method", m);
                c.set("seed", Integer.toString(base.integer("seed") + s));
                log.println("== " + m + ", seed " + c.str("seed"));
                Path dir = out.resolve(m).resolve("seed" + c.str("seed"));
                Map<String, Object> kept = keptReport(dir, c);
                if (kept != null) {
                    log.println("   finished earlier: " + dir.resolve("report.json") + " (the result file alone; not rerun)");
                    reports.computeIfAbsent(m, k -> new ArrayList<>()).add(kept);
                    continue;
                }
                reuseBaseline(out, m, "seed" + c.str("seed"), methods);
                try {
                    reports.computeIfAbsent(m, k -> new ArrayList<>()).add(Methods.run(c, data, dir, range,
                            r -> Report.printTable(r, System.out))); // the seed's scores on the console and in its run.log, as `conta pipeline` prints them
                } catch (UserError | conta.error.FormatError e) {
                    throw Methods.redoHint(e, "conta compare --from would redo it in every seed of every method; to redo this seed alone: "
                            + "conta pipeline --data " + data + " --out " + dir + " --method " + m + " --seed " + c.str("seed")
                            + " (with the compare's --config/--set) --from ...");
                }
            }
            json = table(reports, methods, s + 1, data, out, log);
        }
        return json;
    }

    /**
     * The tables from the seeds that have finished, running nothing: OUT/METHOD/seedS/report.json for the seeds of
     * --seeds (a live run folder or a restored result file; a report of another recipe is refused as in {@link #run}),
     * each method with the seeds it has. Paired rows pair by seed. For a study whose methods are at different seeds.
     */
    public static Map<String, Object> tablesOnly(Config base, List<String> methods, int seeds, Path data, Path out, PrintStream log) throws IOException {
        checkMethods(methods);
        Map<String, List<Map<String, Object>>> reports = new LinkedHashMap<>();
        int most = 0;
        for (String m : methods) {
            List<Map<String, Object>> rs = new ArrayList<>();
            for (int s = 0; s < seeds; s++) {
                Config c = base.copy();
                c.set("method", m);
                c.set("seed", Integer.toString(base.integer("seed") + s));
                Path f = out.resolve(m).resolve("seed" + c.str("seed")).resolve("report.json");
                if (!Files.isRegularFile(f)) {
                    log.println("   " + m + " seed " + c.str("seed") + ": not finished (no " + f + "), left out");
                    continue;
                }
                rs.add(sameRecipe(f, readReport(f), c));
            }
            if (rs.isEmpty()) throw new conta.error.UserError("no finished seed of " + m + " under " + out + "; run `conta compare` without --tables-only first");
            reports.put(m, rs);
            most = Math.max(most, rs.size());
        }
        if (data == null) // --data left out: the data folder the seeds' reports name (only for the context-coupled classes of a synthetic set)
            data = reports.values().stream().flatMap(List::stream).map(r -> r.get("data")).filter(d -> d instanceof String ds && Files.isDirectory(Path.of(ds)))
                    .map(d -> Path.of((String) d)).findFirst().orElse(null);
        return table(reports, methods, most, data, out, log);
    }

    /** The methods a comparison can run. */
    static final List<String> METHODS = List.of("cam", "conta", "c2am", "conta+c2am");

    /** --methods: a list of known methods, each once. */
    static void checkMethods(List<String> methods) {
        String given = "--methods " + String.join(",", methods);
        if (methods.isEmpty() || methods.stream().anyMatch(String::isEmpty))
            throw new UserError(given + ": give a comma-separated list of methods, e.g. --methods cam,conta,c2am (methods: " + String.join(", ", METHODS) + ")");
        for (String m : methods)
            if (!METHODS.contains(m)) throw new UserError(given + ": '" + m + "' is not a method; the methods are " + String.join(", ", METHODS));
        for (String m : methods)
            if (methods.indexOf(m) != methods.lastIndexOf(m)) throw new UserError(given + ": " + m + " is listed twice; list each method once");
    }

    /**
     * Everything a comparison can check before its first pipeline runs: --methods, each method's whole config and
     * --from/--until, and the recipe of every seed kept as its report alone. (The data and OUT's folders are checked
     * by the first pipeline before it writes anything.)
     */
    static void check(Config base, List<String> methods, int seeds, Path out, StageRange range) throws IOException {
        checkMethods(methods);
        for (String m : methods) {
            Config c = base.copy();
            c.set("method", m);
            c.validate();
            int rounds = Methods.rounds(c);
            try {
                StageRange.resolve(range.from(), "from", rounds, m.endsWith("c2am"), 0);
                StageRange.resolve(range.until(), "until", rounds, m.endsWith("c2am"), rounds - 1);
            } catch (UserError e) { // compare applies --from/--until to every method: say which one cannot take it, and the way round
                throw new UserError(e.getMessage() + " (method " + m + " of this comparison; --from and --until apply to every method: to redo "
                        + "one method's stage, run `conta pipeline --out " + out.resolve("METHOD").resolve("seedS") + " --method METHOD --seed S"
                        + " --from ...` with the comparison's --data, --config and --set for each seed)", e);
            }
            for (int s = 0; s < seeds; s++) {
                c.set("seed", Integer.toString(base.integer("seed") + s));
                keptReport(out.resolve(m).resolve("seed" + c.str("seed")), c);
            }
        }
    }

    /** A seed's report.json, or a UserError naming the file and what to do. */
    static Map<String, Object> readReport(Path f) {
        return Json.readObject(f, "restore it from where it came from, or delete it and run `conta compare` without --tables-only to rerun that seed");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> table(Map<String, List<Map<String, Object>>> reports, List<String> methods, int seeds, Path data, Path out,
                                     PrintStream log) throws IOException {
        List<String> classes = (List<String>) reports.get(methods.getFirst()).getFirst().get("classes");
        List<String> coupled = coupled(data, classes);
        Map<String, Object> json = new LinkedHashMap<>();
        List<Object> rows = new ArrayList<>();
        StringBuilder md = new StringBuilder("| method | round | CAM mIoU | CAM mIoU (best threshold) | pseudo-mask mIoU | segmentation mIoU |\n|---|---|---|---|---|---|\n");
        for (String m : methods) {
            List<Map<String, Object>> rs = reports.get(m);
            int rounds = ((List<Object>) rs.getFirst().get("rounds")).size();
            for (int t = 0; t < rounds; t++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("method", m);
                row.put("round", t);
                md.append("| ").append(m).append(" | ").append(t);
                for (String k : METRICS) {
                    double[] v = new double[rs.size()];
                    for (int i = 0; i < rs.size(); i++) v[i] = metric(stages(rs.get(i), t), k);
                    double[] ms = meanStd(v);
                    row.put(k, ordered("mean", ms[0], "std", ms[1], "values", toList(v)));
                    md.append(Double.isNaN(ms[1]) ? String.format(" | %.2f", 100 * ms[0]) : String.format(" | %.2f ± %.2f", 100 * ms[0], 100 * ms[1]));
                }
                md.append(" |\n");
                rows.add(row);
            }
        }
        Map<String, Object> perMethod = new LinkedHashMap<>();
        for (String m : methods) perMethod.put(m, reports.get(m).size());
        boolean uneven = new java.util.HashSet<>(perMethod.values()).size() > 1;
        md.append("\n(mIoU in %, mean ± sample std over ").append(uneven ? "the seeds each method finished: " + perMethod.toString().replaceAll("[{}]", "")
                : seeds + " seeds").append("; CAM and pseudo-masks on the training split, segmentation on the held-out split)\n");
        java.util.Set<Object> stops = new java.util.TreeSet<>();
        for (var rs : reports.values()) for (var r : rs) if (r.get("stopped_after") != null) stops.add(String.valueOf(r.get("stopped_after")));
        if (!stops.isEmpty()) md.append("\nRuns stopped early (--until ").append(String.join(", ", stops.stream().map(String::valueOf).toList()))
                .append("): later stages show NaN until the runs are finished.\n");
        Map<String, Object> deltas = new LinkedHashMap<>();
        String ref = methods.getFirst();
        for (String m : methods.subList(1, methods.size())) {
            md.append("\nPer-class IoU change, ").append(m).append(" (last round) minus ").append(ref).append(" (mean over seeds, points):\n\n| class | CAM | pseudo-mask | segmentation |\n|---|---|---|---|\n");
            Map<String, Object> dm = new LinkedHashMap<>();
            for (int c = 0; c < classes.size(); c++) {
                Map<String, Object> d = new LinkedHashMap<>();
                md.append("| ").append(classes.get(c)).append(coupled.contains(classes.get(c)) ? " (context-coupled)" : "");
                for (String k : new String[]{"cam", "pseudo", "seg"}) {
                    double delta = meanIou(reports.get(m), k, c, -1) - meanIou(reports.get(ref), k, c, -1);
                    d.put(k, Double.isNaN(delta) ? null : delta);
                    md.append(Double.isNaN(delta) ? " | -" : String.format(" | %+.2f", 100 * delta));
                }
                md.append(" |\n");
                dm.put(classes.get(c), d);
            }
            deltas.put(m, dm);
        }
        json.put("paired_vs_" + ref, paired(reports, methods, md));
        json.put("context_leak", leakTable(reports, methods, coupled, md));
        json.put("mechanism", mechanismTable(reports, methods, md));
        json.put("methods", methods);
        json.put("seeds", seeds);
        json.put("seeds_per_method", perMethod);
        json.put("rows", rows);
        json.put("per_class_change_vs_" + ref, deltas);
        json.put("context_coupled_classes", coupled);
        // atomically (folders made as needed), as the runs' reports: a kill or a full disk while a table is rewritten leaves the previous one whole
        java.nio.charset.Charset utf8 = java.nio.charset.StandardCharsets.UTF_8;
        conta.io.AtomicWrite.write(out.resolve("comparison.md"), md.toString().getBytes(utf8));
        conta.io.AtomicWrite.write(out.resolve("comparison.json"), Json.writePretty(json).getBytes(utf8));
        conta.io.AtomicWrite.write(out.resolve("comparison.html"), ComparisonHtml.render(json, classes).getBytes(utf8));
        log.println(md);
        log.println("wrote " + out.resolve("comparison.md") + ", " + out.resolve("comparison.json") + " and " + out.resolve("comparison.html"));
        return json;
    }

    /**
     * A seed folder that holds only its finished report.json (restored from committed result files, without the run's
     * stages: a long study split over machines or sittings) counts as done, if its recipe is this one; a report of
     * another recipe is an error naming the key, not silently mixed in. Null: run the seed.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> keptReport(Path dir, Config c) throws IOException {
        Path f = dir.resolve("report.json");
        if (!Files.isRegularFile(f) || Files.isDirectory(RunLayout.roundDir(dir, 0))) return null;
        Map<String, Object> r = readReport(f);
        if (r.get("stopped_after") != null) return null;
        return sameRecipe(f, r, c);
    }

    /** Report r (read from f), refused (naming the key) if it was made with another recipe than c. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> sameRecipe(Path f, Map<String, Object> r, Config c) {
        Map<String, Object> cfg = (Map<String, Object>) r.get("config");
        if (cfg == null) throw new UserError(f + " has no config, so its recipe cannot be checked; restore the complete file, or delete it and run `conta compare` without --tables-only to rerun that seed");
        Map<String, String> now = c.asMap();
        for (String k : List.of("device", "data.workers", "report.overlays", "data.force_new", "log.tensorboard")) now.remove(k);
        for (var e : now.entrySet()) {
            // a key the report predates ran with its former behaviour (ConfigKeys.LEGACY): a seed of a newer jar is not silently mixed in
            Object old = cfg.containsKey(e.getKey()) ? cfg.get(e.getKey()) : conta.config.ConfigKeys.LEGACY.get(e.getKey());
            conta.config.ConfigKeys.Key key = conta.config.ConfigKeys.get(e.getKey());
            if (old != null && !String.valueOf(old).equals(e.getValue()) && (key == null || !key.same(String.valueOf(old), e.getValue()))) // 0.05 = 0.050
                throw new UserError(f + " was made with " + e.getKey() + " = " + old + (cfg.containsKey(e.getKey()) ? "" : " (before the key existed)")
                        + ", this comparison has "
                        + e.getValue() + "; pass the --config, --demo and --set the seeds were run with (or use another --out for a new recipe)");
        }
        return r;
    }

    /**
     * CONTA's round 0 is the baseline and C²AM starts from the baseline classifier: with the same seed and recipe they
     * are the same computation, so finished baseline stages are copied instead of recomputed.
     */
    static void reuseBaseline(Path out, String method, String seed, List<String> methods) throws IOException {
        Path base = RunLayout.roundDir(out.resolve("cam").resolve(seed), 0), dst = RunLayout.roundDir(out.resolve(method).resolve(seed), 0);
        if (method.equals("cam") || !methods.contains("cam") || Files.exists(dst) || !Files.isRegularFile(base.resolve("pred").resolve("done.json")))
            return;
        List<String> parts = method.startsWith("conta") && !method.endsWith("c2am") ? List.of("cls", "cam", "seeds", "ir", "irn", "pseudo", "seg", "pred")
                : List.of("cls");
        for (String part : parts) {
            Path from = base.resolve(part);
            try (var walk = Files.walk(from)) {
                for (Path f : walk.toList()) {
                    Path to = dst.resolve(part).resolve(from.relativize(f).toString());
                    if (Files.isDirectory(f)) Files.createDirectories(to);
                    else Files.copy(f, to);
                }
            }
        }
    }

    /**
     * The quantity CONTA claims to reduce: per context-coupled class, the share of CAM mass off the object on images
     * with the coupled context (cam stage's context_leak), mean over seeds, per method and round.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> leakTable(Map<String, List<Map<String, Object>>> reports, List<String> methods, List<String> coupled, StringBuilder md) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<String> classes = new ArrayList<>();
        for (String c : coupled) {
            boolean any = false;
            for (var rs : reports.values()) for (var r : rs) any |= leak(stages(r, 0), c, "with_context") != null;
            if (any) classes.add(c);
        }
        if (classes.isEmpty()) return out;
        md.append("\nOff-object share of the CAM mass on images WITH the coupled context (mean over seeds, %; lower = less context in the CAMs; "
                + "without the context in brackets):\n\n| method | round |");
        for (String c : classes) md.append(' ').append(c).append(" |");
        md.append("\n|---|---|").append("---|".repeat(classes.size())).append('\n');
        for (String m : methods) {
            List<Map<String, Object>> rs = reports.get(m);
            int rounds = ((List<Object>) rs.getFirst().get("rounds")).size();
            for (int t = 0; t < rounds; t++) {
                Map<String, Object> row = new LinkedHashMap<>();
                md.append("| ").append(m).append(" | ").append(t).append(" |");
                for (String c : classes) {
                    double w = 0, wo = 0;
                    int nw = 0, nwo = 0;
                    for (var r : rs) {
                        Double a = leak(stages(r, t), c, "with_context"), b = leak(stages(r, t), c, "without_context");
                        if (a != null) { w += a; nw++; }
                        if (b != null) { wo += b; nwo++; }
                    }
                    Double mw = nw == 0 ? null : w / nw, mwo = nwo == 0 ? null : wo / nwo;
                    row.put(c, ordered("with_context", mw == null ? Double.NaN : mw, "without_context", mwo == null ? Double.NaN : mwo,
                            "seeds", nw)); // a class whose context no image of a seed shows is measured on fewer seeds
                    md.append(mw == null ? " - |" : String.format(" %.1f (%s)%s |", 100 * mw, mwo == null ? "-" : String.format("%.1f", 100 * mwo),
                            nw < rs.size() ? " [" + nw + " of " + rs.size() + " seeds]" : ""));
                }
                md.append('\n');
                out.put(m + "/round" + t, row);
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Double leak(Map<String, Object> st, String cls, String key) {
        if (!(st.get("cam") instanceof Map<?, ?> cam) || !(cam.get("context_leak") instanceof Map<?, ?> l) || !(l.get(cls) instanceof Map<?, ?> m)) return null;
        return m.get(key) instanceof Number n ? n.doubleValue() : null;
    }

    private static final String[] MECHANISM = {"w1_change", "w2_change", "alpha_entropy", "alpha_max", "m_spread", "context_weight"};

    /** Means over seeds of report.json's "mechanism" numbers (CausalHooks.mechanism) per CONTA method and round. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> mechanismTable(Map<String, List<Map<String, Object>>> reports, List<String> methods, StringBuilder md) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String m : methods) {
            List<Map<String, Object>> rs = reports.get(m);
            if (rs.stream().noneMatch(r -> r.get("mechanism") instanceof Map<?, ?> x && !x.isEmpty())) continue;
            if (out.isEmpty())
                md.append("\nCONTA's context (mean over seeds): W1/W2 change = ||W - W0|| / ||W0|| from the seeded init; alpha entropy / log n "
                        + "(1 = uniform) and its largest weight; M spread = mean over cells of the SD across images / mean |M|; context weight = "
                        + "mean |classifier weight| on the context channels / on the features:\n\n| method | round | W1 change | W2 change | "
                        + "alpha entropy | alpha max | M spread | context weight |\n|---|---|---|---|---|---|---|---|\n");
            Map<String, Object> mm = new LinkedHashMap<>();
            int rounds = ((List<Object>) rs.getFirst().get("rounds")).size();
            for (int t = 1; t < rounds; t++) {
                Map<String, Object> row = new LinkedHashMap<>();
                md.append("| ").append(m).append(" | ").append(t);
                for (String k : MECHANISM) {
                    double sum = 0;
                    int n = 0;
                    for (var r : rs)
                        if (r.get("mechanism") instanceof Map<?, ?> mech && mech.get("round" + t) instanceof Map<?, ?> x && x.get(k) instanceof Number v
                                && !Double.isNaN(v.doubleValue())) { sum += v.doubleValue(); n++; }
                    double mean = n == 0 ? Double.NaN : sum / n;
                    row.put(k, mean);
                    md.append(n == 0 ? " | -" : String.format(" | %.3f", mean));
                }
                md.append(" |\n");
                mm.put("round" + t, row);
            }
            out.put(m, mm);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> stages(Map<String, Object> report, int round) {
        List<Object> rs = (List<Object>) report.get("rounds");
        return (Map<String, Object>) ((Map<String, Object>) rs.get(round < 0 ? rs.size() - 1 : round)).get("stages");
    }

    @SuppressWarnings("unchecked")
    static double metric(Map<String, Object> st, String k) {
        String stage = k.equals("cam_best") ? "cam" : k;
        Object s = st.get(stage);
        if (!(s instanceof Map<?, ?> m)) return Double.NaN;
        Object v = m.get(k.equals("cam_best") ? "best_miou" : "miou");
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    @SuppressWarnings("unchecked")
    static double meanIou(List<Map<String, Object>> rs, String stage, int c, int round) {
        double s = 0;
        int n = 0;
        for (Map<String, Object> r : rs) {
            Object st = stages(r, round).get(stage);
            if (st instanceof Map<?, ?> m && m.get("iou") instanceof List<?> l && l.get(c) instanceof Number v) { s += v.doubleValue(); n++; }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /**
     * Per method, round and metric: the same seed's difference against the first method's final round (points of
     * mIoU), with mean, sample SD, 95% t interval and sign test; appended to md as a table.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> paired(Map<String, List<Map<String, Object>>> reports, List<String> methods, StringBuilder md) {
        String ref = methods.getFirst();
        List<Map<String, Object>> rr = reports.get(ref);
        Map<String, Object> out = new LinkedHashMap<>();
        if (methods.size() < 2) return out;
        md.append("\nPaired differences against ").append(ref).append(" (same seed, points of mIoU): mean, sample SD, 95% t interval, ")
                .append("seeds better / worse, two-sided sign test; seeds a +1.0-point effect needs (paired t, alpha 0.05, power 0.8) at this SD ")
                .append("and at its 80% upper confidence bound\n\n| method | round | metric | seeds | mean diff | SD | 95% interval | + / - | sign p | seeds for +1.0 |\n")
                .append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (String m : methods.subList(1, methods.size())) {
            List<Map<String, Object>> rs = new ArrayList<>(), base = new ArrayList<>(); // the same seed's reports side by side
            for (int i = 0; i < reports.get(m).size(); i++) {
                Map<String, Object> r = reports.get(m).get(i), twin = null;
                Object seed = seedOf(r);
                for (Map<String, Object> q : rr) if (seed != null && seed.equals(seedOf(q))) twin = q;
                if (seed == null && i < rr.size()) twin = rr.get(i); // reports without a config (tests): by position
                if (twin != null) { rs.add(r); base.add(twin); }
            }
            if (rs.isEmpty()) continue;
            int n = rs.size();
            int rounds = ((List<Object>) rs.getFirst().get("rounds")).size();
            List<Object> rows = new ArrayList<>();
            for (int t = 0; t < rounds; t++)
                for (String k : new String[]{"cam", "pseudo", "seg"}) {
                    double[] a = new double[n], b = new double[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = 100 * metric(stages(rs.get(i), t), k);
                        b[i] = 100 * metric(stages(base.get(i), -1), k);
                    }
                    conta.eval.PairedStats s = conta.eval.PairedStats.of(a, b);
                    if (s.n() == 0) continue;
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("round", t);
                    row.put("metric", k);
                    row.put("seeds", s.n());
                    row.put("mean_diff", s.mean());
                    row.put("sd", Double.isNaN(s.sd()) ? null : s.sd());
                    row.put("ci95", Double.isNaN(s.sd()) ? null : List.of(s.lo95(), s.hi95()));
                    row.put("better", s.positive());
                    row.put("worse", s.negative());
                    row.put("sign_p", s.signP());
                    // the power plan: seeds for a +1.0-point paired effect at the measured SD and at its 80% upper bound
                    int need = Double.isNaN(s.sd()) ? -1 : conta.eval.PairedStats.seedsFor(1.0, s.sd());
                    int needUpper = Double.isNaN(s.sd()) ? -1 : conta.eval.PairedStats.seedsFor(1.0, conta.eval.PairedStats.sdUpper(s.sd(), s.n(), 0.8));
                    row.put("seeds_for_1pt", need < 0 ? null : need);
                    row.put("seeds_for_1pt_sd_upper80", needUpper < 0 ? null : needUpper);
                    rows.add(row);
                    md.append(String.format("| %s | %d | %s | %d | %+.2f | %s | %s | %d / %d | %.3f | %s |%n", m, t, k, s.n(), s.mean(),
                            Double.isNaN(s.sd()) ? "-" : String.format("%.2f", s.sd()),
                            Double.isNaN(s.sd()) ? "-" : String.format("[%+.2f, %+.2f]", s.lo95(), s.hi95()), s.positive(), s.negative(), s.signP(),
                            need < 0 ? "-" : need + " / " + needUpper));
                }
            out.put(m, rows);
        }
        return out;
    }

    /** The seed a report was made with (its config's "seed"), or null. */
    @SuppressWarnings("unchecked")
    private static Object seedOf(Map<String, Object> r) {
        return r.get("config") instanceof Map<?, ?> cfg && cfg.get("seed") != null ? String.valueOf(cfg.get("seed")) : null;
    }

    /** Mean and sample standard deviation (NaN for one value: undefined, not 0; JSON null, tables show the mean alone). */
    public static double[] meanStd(double[] v) {
        double m = 0;
        for (double x : v) m += x;
        m /= v.length;
        double ss = 0;
        for (double x : v) ss += (x - m) * (x - m);
        return new double[]{m, v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : Double.NaN};
    }

    /** A map of the key-value pairs in their order (Map.of's order changes from one JVM to the next: comparison.json was not byte-stable). */
    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static List<Object> toList(double[] v) {
        List<Object> l = new ArrayList<>();
        for (double d : v) l.add(d);
        return l;
    }

    /** Classes named in the synthetic set's couplings (synth.json), if the data is synthetic. */
    static List<String> coupled(Path data, List<String> classes) {
        List<String> out = new ArrayList<>();
        Path f = data == null ? null : data.resolve("synth.json");
        if (f == null || !Files.isRegularFile(f)) return out;
        try {
            Object c = Json.parseObject(Files.readString(f)).get("couplings");
            String text = c == null ? "" : Json.write(c);
            for (String k : classes) if (!k.equals("background") && text.matches("(?s).*\\b" + k + "\\b.*")) out.add(k);
        } catch (IOException | RuntimeException e) {
            return out;
        }
        return out;
    }
}
