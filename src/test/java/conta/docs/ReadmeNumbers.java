package conta.docs;

import conta.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The numbers of README.md, generated from the committed result files under docs/results/ (copies of the runs'
 * report.json) so that they cannot drift from the runs they come from. README marks each generated block with
 * {@code <!-- numbers:NAME -->} ... {@code <!-- /numbers:NAME -->}. Run docs/readme_numbers.sh to rewrite the blocks
 * after replacing a result file; ReadmeNumbersTest fails while README and the files disagree.
 */
public final class ReadmeNumbers {
    private ReadmeNumbers() { }

    static final Path DEMO = Path.of("docs", "results", "demo", "report.json");
    static final Path VOC = Path.of("docs", "results", "voc-sample", "report.json");
    /** bench/latency.sh's log of the run README quotes (its LATENCY lines). */
    static final Path LATENCY = Path.of("bench", "results", "latency-resnet50.log");
    /** The same on the first AMX host (session 27). */
    static final Path LATENCY_AMX = Path.of("bench", "results", "latency-s32-amx-resnet50-20261205.log");

    /** Every block's text by name. */
    static Map<String, String> blocks() throws Exception {
        Map<String, Object> demo = Json.parseObject(Files.readString(DEMO));
        Map<String, Object> voc = Json.parseObject(Files.readString(VOC));
        return Map.ofEntries(Map.entry("latency-table-amx", latencyTable(Files.readAllLines(LATENCY_AMX))), Map.entry("demo-table", demoTable(demo)), Map.entry("demo-leak", leakTable(demo)), Map.entry("demo-summary", demoSummary(demo)),
                Map.entry("voc-summary", vocSummary(voc)), Map.entry("latency-table", latencyTable(Files.readAllLines(LATENCY))),
                Map.entry("conta-bench", contaBench(BENCH)), Map.entry("irn-side-by-side", irnSideBySide(IRN)), Map.entry("irn-walk", irnWalk(IRN)),
                Map.entry("conta-ablations", contaAblations(BENCH)));
    }

    /** bench/irn_side_by_side.py's committed results (docs/results/irn-side-by-side/README.md says what each file is). */
    static final Path IRN = Path.of("docs", "results", "irn-side-by-side");

    /** The mIoU of a conta-eval sweep at threshold t (the sweep's nearest point), or NaN. */
    @SuppressWarnings("unchecked")
    static double sweepAt(Map<String, Object> r, double t) {
        double best = Double.NaN, dist = 1e-6;
        for (Object o : (List<Object>) r.getOrDefault("sweep", List.of())) {
            Map<String, Object> p = (Map<String, Object>) o;
            double d = Math.abs(((Number) p.get("threshold")).doubleValue() - t);
            if (d < dist) { dist = d; best = ((Number) p.get("miou")).doubleValue(); }
        }
        return best;
    }

    @SuppressWarnings("unchecked")
    static double sweepBest(Map<String, Object> r, double[] at) {
        double best = Double.NEGATIVE_INFINITY;
        for (Object o : (List<Object>) r.get("sweep")) {
            Map<String, Object> p = (Map<String, Object>) o;
            double m = ((Number) p.get("miou")).doubleValue();
            if (m > best) { best = m; at[0] = ((Number) p.get("threshold")).doubleValue(); }
        }
        return best;
    }

    /**
     * IRNet's code beside conta's on the benchmark: CAM mIoU per seed (fixed threshold and best of the sweep) of conta's
     * round 0 (conta-seedK-cam.json, the CAM stage's done.json) and of IRNet's train_cam + make_cam (irn-seedK-cam.json,
     * conta eval's sweep over IRNet's CAMs), their means ± SD, and IRNet's make_cam on conta's seed-0 classifier
     * (agree-seed0.json, irn-code-conta-weights-seed0-cam.json).
     */
    static String irnSideBySide(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) return "Not run yet.\n";
        StringBuilder b = new StringBuilder("| seed | conta CAM @0.55 | conta CAM best | IRNet CAM @0.55 | IRNet CAM best |\n|---|---|---|---|---|\n");
        List<double[]> rows = new java.util.ArrayList<>();
        for (int k = 0; k < 100; k++) {
            Path c = dir.resolve("conta-seed" + k + "-cam.json"), i = dir.resolve("irn-seed" + k + "-cam.json");
            if (!Files.isRegularFile(c) && !Files.isRegularFile(i)) continue;
            double[] row = {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
            String[] cells = {"-", "-", "-", "-"};
            if (Files.isRegularFile(c)) {
                Map<String, Object> m = Json.parseObject(Files.readString(c));
                row[0] = ((Number) m.get("miou")).doubleValue();
                row[1] = ((Number) m.get("best_miou")).doubleValue();
                cells[0] = f2(row[0]);
                cells[1] = f2(row[1]) + " @" + m.get("best_threshold");
            }
            if (Files.isRegularFile(i)) {
                Map<String, Object> m = Json.parseObject(Files.readString(i));
                double[] at = new double[1];
                row[2] = sweepAt(m, 0.55);
                row[3] = sweepBest(m, at);
                cells[2] = f2(row[2]);
                cells[3] = f2(row[3]) + String.format(Locale.ROOT, " @%.2f", at[0]);
            }
            rows.add(row);
            b.append("| ").append(k).append(" | ").append(String.join(" | ", cells)).append(" |\n");
        }
        if (rows.isEmpty()) return "Not run yet.\n";
        meanSdRow(b, rows, 4);
        Path agree = dir.resolve("agree-seed0.json"), same = dir.resolve("irn-code-conta-weights-seed0-cam.json"), c0 = dir.resolve("conta-seed0-cam.json");
        if (Files.isRegularFile(agree) && Files.isRegularFile(same) && Files.isRegularFile(c0)) {
            Map<String, Object> a = Json.parseObject(Files.readString(agree)), s = Json.parseObject(Files.readString(same)), c = Json.parseObject(Files.readString(c0));
            b.append(String.format(Locale.ROOT, "%nIRNet's make_cam on conta's seed-0 classifier (same weights, %s images, its four scales and flips): "
                            + "%.3f%% of the seed pixels equal to conta's at threshold %s, largest CAM difference %.1e; "
                            + "scored by conta eval: %s mIoU at 0.55 (conta's own CAMs: %s).%n",
                    a.get("images"), 100 * ((Number) a.get("seed_agreement")).doubleValue(), a.get("threshold"),
                    ((Number) a.get("max_abs_cam_diff")).doubleValue(), String.format(Locale.ROOT, "%.4f", 100 * sweepAt(s, 0.55)),
                    String.format(Locale.ROOT, "%.4f", 100 * ((Number) c.get("miou")).doubleValue())));
        }
        return b.toString();
    }

    /** A table's last row: per column the mean ± sample SD (and count) of the rows' non-NaN values, fractions as %. */
    private static void meanSdRow(StringBuilder b, List<double[]> rows, int cols) {
        b.append("| mean ± SD |");
        for (int col = 0; col < cols; col++) {
            int j = col;
            double[] v = rows.stream().mapToDouble(r -> r[j]).filter(x -> !Double.isNaN(x)).toArray();
            double[] ms = v.length == 0 ? null : conta.pipeline.Comparison.meanStd(v);
            b.append(' ').append(ms == null ? "-" : f2(ms[0]) + (v.length > 1 ? " ± " + f2(ms[1]) : "")).append(" (").append(v.length).append(") |");
        }
        b.append("\n");
    }

    /** The "miou" of a result file, or NaN when the file is absent. */
    private static double miouOf(Path f) throws Exception {
        return Files.isRegularFile(f) ? ((Number) Json.parseObject(Files.readString(f)).get("miou")).doubleValue() : Double.NaN;
    }

    /**
     * The pseudo-mask stage side by side (bench/irn-side-by-side.sh STAGES=walk): per seed conta's round-0 pseudo-masks
     * (conta-seedK-pseudo.json, the stage's done.json) and those of IRNet's train_irn on conta's IR labels + its
     * make_sem_seg_labels walk over conta's CAMs (irn-seedK-pseudo.json, conta eval), IRNet - conta, means ± SD; then
     * IRNet's walk with conta's own boundary net (walk-agree-seedK.json, irn-walk-conta-net-seedK-pseudo.json).
     */
    static String irnWalk(Path dir) throws Exception {
        StringBuilder b = new StringBuilder("| seed | conta pseudo-masks | IRNet boundary branch + walk | IRNet - conta |\n|---|---|---|---|\n");
        List<double[]> rows = new java.util.ArrayList<>();
        int first = -1;
        for (int k = 0; k < 100; k++) {
            double c = miouOf(dir.resolve("conta-seed" + k + "-pseudo.json")), i = miouOf(dir.resolve("irn-seed" + k + "-pseudo.json"));
            if (Double.isNaN(c) || Double.isNaN(i)) continue;
            if (first < 0) first = k;
            rows.add(new double[]{c, i, i - c});
            b.append("| ").append(k).append(" | ").append(f2(c)).append(" | ").append(f2(i)).append(" | ")
                    .append(String.format(Locale.ROOT, "%+.2f", 100 * (i - c))).append(" |\n");
        }
        if (rows.isEmpty()) return "Not run yet.\n";
        meanSdRow(b, rows, 3);
        Path agree = dir.resolve("walk-agree-seed" + first + ".json");
        double same = miouOf(dir.resolve("irn-walk-conta-net-seed" + first + "-pseudo.json"));
        if (Files.isRegularFile(agree) && !Double.isNaN(same)) {
            Map<String, Object> a = Json.parseObject(Files.readString(agree));
            b.append(String.format(Locale.ROOT, "%nIRNet's walk with conta's seed-%d boundary net and CAMs (%s images): %.4f%% of the pixels equal "
                            + "to conta's pseudo-masks; scored by conta eval: %.4f mIoU (conta's own: %.4f).%n", first, a.get("images"),
                    100 * ((Number) a.get("pixel_agreement")).doubleValue(), 100 * same, 100 * rows.get(0)[0]));
        }
        return b.toString();
    }

    /** bench/conta-study.sh's committed results: comparison.json and each seed's report.json. */
    static final Path BENCH = Path.of("docs", "results", "conta-bench");

    static String f2(Object o) { return o instanceof Number n && !Double.isNaN(n.doubleValue()) ? String.format(Locale.ROOT, "%.2f", 100 * n.doubleValue()) : "-"; }

    private static String seedCount(Number n) { return n.longValue() >= 100000 ? "> 10^5" : String.valueOf(n.longValue()); }

    /** The CONTA benchmark's tables: mean ± SD per method and round, paired differences, context leak, mechanism, empty c_i. */
    @SuppressWarnings("unchecked")
    static String contaBench(Path dir) throws Exception {
        Path f = dir.resolve("comparison.json");
        if (!Files.isRegularFile(f)) return "No seed has finished yet.\n";
        Map<String, Object> c = Json.parseObject(Files.readString(f));
        StringBuilder b = new StringBuilder();
        Object per = c.get("seeds_per_method");          // methods at different seeds: say each one's count
        String finished = per instanceof Map<?, ?> pm && new java.util.HashSet<>(pm.values()).size() > 1
                ? String.join(", ", pm.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList()) : String.valueOf(c.get("seeds"));
        b.append("Seeds finished: ").append(finished).append(" (methods ").append(String.join(", ", (List<String>) c.get("methods")))
                .append("; mIoU in %, mean ± sample SD over seeds; CAM at the best threshold of the sweep, pseudo-masks on the training images, "
                        + "segmentation on the held-out images).\n\n| method | round | CAM | pseudo-mask | segmentation |\n|---|---|---|---|---|\n");
        for (Object o : (List<Object>) c.get("rows")) {
            Map<String, Object> r = (Map<String, Object>) o;
            b.append("| ").append(r.get("method")).append(" | ").append(r.get("round"));
            for (String k : new String[]{"cam_best", "pseudo", "seg"}) {
                Map<String, Object> v = (Map<String, Object>) r.get(k);
                b.append(" | ").append(f2(v.get("mean"))).append(v.get("std") instanceof Number n && !Double.isNaN(n.doubleValue()) ? " ± " + f2(n) : "");
            }
            b.append(" |\n");
        }
        String ref = ((List<String>) c.get("methods")).getFirst();
        Object camThreshold = "cam.bg_threshold";
        try (var ms = Files.list(dir.resolve(ref))) { // the fixed CAM threshold the paired CAM rows use, from a seed's recipe
            for (Path sd : ms.sorted().toList())
                if (Files.isRegularFile(sd.resolve("report.json"))
                        && Json.parseObject(Files.readString(sd.resolve("report.json"))).get("config") instanceof Map<?, ?> cfg && cfg.get("cam.bg_threshold") != null) {
                    camThreshold = cfg.get("cam.bg_threshold");
                    break;
                }
        } catch (java.nio.file.NoSuchFileException e) {
            // no per-seed reports next to the comparison
        }
        Map<String, Object> paired = (Map<String, Object>) c.get("paired_vs_" + ref);
        if (paired != null && !paired.isEmpty()) {
            b.append("\nPaired difference against ").append(ref).append(" (same seed; points; 95% t interval; seeds better / worse; "
                    + "two-sided sign test; seeds a +1.0-point effect would need at power 0.8, planned on the measured paired SD / on its 80% upper "
                    + "confidence bound):\n\n| method | round | metric | seeds | mean | 95% interval | better / worse | sign p | seeds for +1.0 |\n"
                    + "|---|---|---|---|---|---|---|---|---|\n");
            for (var e : paired.entrySet())
                for (Object o : (List<Object>) e.getValue()) {
                    Map<String, Object> r = (Map<String, Object>) o;
                    // CONTA's round 0 is the baseline itself; C²AM's fine-tuning happens in round 0
                    if (((Number) r.get("round")).intValue() == 0 && e.getKey().equals("conta")) continue;
                    List<Object> ci = (List<Object>) r.get("ci95");
                    Object need = r.get("seeds_for_1pt"), needUp = r.get("seeds_for_1pt_sd_upper80");
                    b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %+.2f | %s | %s / %s | %.3f | %s |%n", e.getKey(), r.get("round"),
                            r.get("metric").equals("cam") ? "CAM (threshold " + camThreshold + ")" : r.get("metric"), r.get("seeds"),
                            ((Number) r.get("mean_diff")).doubleValue(), // comparison.json's differences are in points already
                            ci == null ? "-" : String.format(Locale.ROOT, "[%+.2f, %+.2f]", ((Number) ci.get(0)).doubleValue(), ((Number) ci.get(1)).doubleValue()),
                            r.get("better"), r.get("worse"), ((Number) r.get("sign_p")).doubleValue(),
                            need instanceof Number a && needUp instanceof Number u ? seedCount(a) + " / " + seedCount(u) : "-"));
                }
        }
        Map<String, Object> leak = (Map<String, Object>) c.get("context_leak");
        if (leak != null && !leak.isEmpty()) {
            List<String> cls = new java.util.ArrayList<>(((Map<String, Object>) leak.values().iterator().next()).keySet());
            b.append("\nOff-object share of each context-coupled class's CAM mass on images with its context (%, mean over seeds; without the "
                    + "context in brackets; lower = less context in the CAMs):\n\n| method | round |");
            for (String k : cls) b.append(' ').append(k).append(" |");
            b.append("\n|---|---|").append("---|".repeat(cls.size())).append('\n');
            for (var e : leak.entrySet()) {
                String[] mr = e.getKey().split("/round");
                b.append("| ").append(mr[0]).append(" | ").append(mr[1]).append(" |");
                for (String k : cls) {
                    Map<String, Object> v = (Map<String, Object>) ((Map<String, Object>) e.getValue()).get(k);
                    b.append(' ').append(pct(v.get("with_context"))).append(" (").append(pct(v.get("without_context"))).append(") |");
                }
                b.append('\n');
            }
        }
        Map<String, Object> mech = (Map<String, Object>) c.get("mechanism");
        if (mech != null && !mech.isEmpty()) {
            b.append("\nCONTA's context (mean over seeds): W1/W2 change from the seeded init (||W - W0|| / ||W0||), alpha's entropy / log n "
                    + "(1 = uniform) and largest weight, M's spread across images (mean SD / mean |M|), the classifier's weight on the "
                    + "context channels relative to the features:\n\n| method | round | W1 change | W2 change | alpha entropy | alpha max | M spread "
                    + "| context weight |\n|---|---|---|---|---|---|---|---|\n");
            for (var e : mech.entrySet())
                for (var r : ((Map<String, Object>) e.getValue()).entrySet()) {
                    b.append("| ").append(e.getKey()).append(" | ").append(r.getKey().replace("round", ""));
                    for (String k : new String[]{"w1_change", "w2_change", "alpha_entropy", "alpha_max", "m_spread", "context_weight"}) {
                        Object v = ((Map<String, Object>) r.getValue()).get(k);
                        b.append(" | ").append(v instanceof Number n && !Double.isNaN(n.doubleValue()) ? String.format(Locale.ROOT, "%.3f", n.doubleValue()) : "-");
                    }
                    b.append(" |\n");
                }
        }
        // every c_i non-degenerate? (CONTA's confounders stage of each round, per seed)
        List<String> empty = new java.util.ArrayList<>();
        try (var seeds = Files.list(dir.resolve("conta"))) {
            for (Path sd : seeds.sorted().toList()) {
                Path rf = sd.resolve("report.json");
                if (!Files.isRegularFile(rf)) continue;
                Map<String, Object> rep = Json.parseObject(Files.readString(rf));
                List<Object> rounds = (List<Object>) rep.get("rounds");
                List<Object> names = (List<Object>) rep.getOrDefault("classes", List.of());
                for (Object ro : rounds) {
                    Map<String, Object> st = (Map<String, Object>) ((Map<String, Object>) ro).get("stages");
                    if (!(st.get("confounders") instanceof Map<?, ?> cf) || !(cf.get("empty_classes") instanceof List<?> l)) continue;
                    // near-empty: a class mask whose mean over the grid is under 0.1% (the segmentation model hardly predicts it)
                    List<String> near = new java.util.ArrayList<>();
                    if (cf.get("mean_of_c") instanceof List<?> means)
                        for (int i = 0; i < means.size(); i++)
                            if (means.get(i) instanceof Number v && v.doubleValue() > 0 && v.doubleValue() < 1e-3)
                                near.add((i + 1 < names.size() ? names.get(i + 1) : "class " + (i + 1)) + String.format(Locale.ROOT, " (mean %.1e)", v.doubleValue()));
                    empty.add(sd.getFileName() + " round " + ((Map<String, Object>) ro).get("round") + ": " + (l.isEmpty() ? "none" : l)
                            + (near.isEmpty() ? "" : ", near-empty " + String.join(", ", near)));
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // no CONTA seed yet
        }
        if (!empty.isEmpty()) b.append("\nClasses whose confounder mask c_i is all zero: ").append(String.join("; ", empty)).append(".\n");
        List<String> mixed = recipeDifferences(dir);
        if (!mixed.isEmpty())
            b.append("\n**Seeds made with another recipe than the baseline's seed** (keys a report predates read as their former value, "
                    + "`ConfigKeys.LEGACY`): ").append(String.join("; ", mixed)).append(". Their round 0 is not the baseline's, and their "
                    + "paired rows compare two recipes.\n");
        return b.toString();
    }

    /** Keys that decide results (not device, workers, overlays, logging, method) and are set differently from cam's seed. */
    @SuppressWarnings("unchecked")
    static List<String> recipeDifferences(Path dir) throws Exception {
        List<String> out = new java.util.ArrayList<>();
        java.util.Set<String> ignored = java.util.Set.of("device", "data.workers", "report.overlays", "data.force_new", "log.tensorboard", "method");
        for (String m : List.of("conta", "c2am", "conta+c2am")) {
            if (!Files.isDirectory(dir.resolve(m))) continue;
            try (var seeds = Files.list(dir.resolve(m))) {
                for (Path sd : seeds.sorted().toList()) {
                    Path mine = sd.resolve("report.json"), base = dir.resolve("cam").resolve(sd.getFileName()).resolve("report.json");
                    if (!Files.isRegularFile(mine) || !Files.isRegularFile(base)) continue;
                    Map<String, Object> a = recipe(mine), r = recipe(base);
                    List<String> diff = new java.util.ArrayList<>();
                    for (String k : new java.util.TreeSet<>(r.keySet()))
                        if (!ignored.contains(k) && a.containsKey(k) && !String.valueOf(a.get(k)).equals(String.valueOf(r.get(k))))
                            diff.add(k + " " + a.get(k) + " (cam: " + r.get(k) + ")");
                    if (!diff.isEmpty()) out.add(m + " " + sd.getFileName() + ": " + String.join(", ", diff));
                }
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> recipe(Path report) throws Exception {
        Map<String, Object> c = new java.util.TreeMap<>((Map<String, Object>) Json.parseObject(Files.readString(report)).get("config"));
        conta.config.ConfigKeys.LEGACY.forEach(c::putIfAbsent);
        return c;
    }

    static String vocSummary(Map<String, Object> r) {
        Map<String, Object> cam = stage(r, "cam"), ps = stage(r, "pseudo"), seg = stage(r, "seg");
        return String.format(Locale.ROOT, "CAM seeds %s, pseudo-masks %s mIoU on the %s training images; DeepLab-v2 %s mIoU on the %s held-out "
                        + "images (the CAMs' best threshold %s gives %s).\n",
                pct2(cam.get("miou")), pct2(ps.get("miou")), r.get("train_images"), pct2(seg.get("miou")), r.get("val_images"),
                cam.get("best_threshold"), pct2(cam.get("best_miou")));
    }

    /** Engine names of bench/latency.sh's LATENCY lines, in README's order. */
    static final Map<String, String> ENGINES = new java.util.LinkedHashMap<>();
    static {
        ENGINES.put("conta-plan-fp32", "conta inference plan, fp32");
        ENGINES.put("conta-plan-fp32-passive", "conta inference plan, fp32, OpenMP workers passive (no spin)");
        ENGINES.put("conta-plan-fp32-direct", "conta inference plan, fp32, without its Winograd kernel");
        ENGINES.put("conta-plan-bf16", "conta inference plan, bf16");
        ENGINES.put("conta-plan-bf16-direct", "conta inference plan, bf16, without its bf16 Winograd kernel");
        ENGINES.put("ort", "ONNX Runtime 1.23.2 (Java)");
        ENGINES.put("ort-nospin", "ONNX Runtime 1.23.2 (Java), no spinning");
        ENGINES.put("torch-eager", "PyTorch 1.13 eager");
        ENGINES.put("conta-graph", "conta training graph (eval forward)");
        ENGINES.put("floor", "no engine: calls of the plan's length and shape (bench/stall_floor.c)");
    }

    /**
     * Medians over rounds of the quiet ResNet-50 @224 rows of a latency log ("round R quiet load1 L LATENCY impl arch
     * size p50 X p90 Y p99 Z ...", impl as conta.cli.LatencyStats and the bench scripts print it), the median of the
     * rounds' p99 / p50 (the quiet-tail target of issue 15 is per run), and each engine's p50 over ONNX Runtime's.
     */
    static String latencyTable(List<String> log) {
        Map<String, List<double[]>> rows = new java.util.LinkedHashMap<>();
        for (String line : log) {
            String[] f = line.trim().split("\\s+");
            int i = List.of(f).indexOf("LATENCY");
            if (i < 0 || f.length < 3 || !f[2].equals("quiet") || !f[i + 2].equals("resnet50") || !f[i + 3].equals("224")) continue;
            Map<String, String> kv = new java.util.HashMap<>();
            for (int j = i + 4; j + 1 < f.length; j += 2) kv.put(f[j], f[j + 1]);
            rows.computeIfAbsent(f[i + 1], k -> new java.util.ArrayList<>())
                    .add(new double[]{Double.parseDouble(kv.get("p50")), Double.parseDouble(kv.get("p99"))});
        }
        double ort = rows.containsKey("ort") ? median(rows.get("ort"), 0) : Double.NaN;
        StringBuilder b = new StringBuilder("| engine | rounds | p50 ms | p99 ms | p99 / p50 per round: median (range) | p50 / ONNX Runtime's |\n"
                + "|---|---|---|---|---|---|\n");
        for (var e : ENGINES.entrySet()) {
            List<double[]> v = rows.get(e.getKey());
            if (v == null) continue;
            double p50 = median(v, 0);
            double[] tail = v.stream().mapToDouble(x -> x[1] / x[0]).sorted().toArray();
            b.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.2f (%.2f-%.2f) | %.2f |%n", e.getValue(), v.size(), p50, median(v, 1),
                    median(tail), tail[0], tail[tail.length - 1], p50 / ort));
        }
        return b.toString();
    }

    static double median(List<double[]> v, int k) { return median(v.stream().mapToDouble(x -> x[k]).sorted().toArray()); }

    /** The median of sorted values. */
    static double median(double[] a) { return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2; }

    @SuppressWarnings("unchecked")
    static Map<String, Object> stage(Map<String, Object> report, String s) {
        return (Map<String, Object>) ((Map<String, Object>) report.get("stages")).get(s);
    }

    /**
     * The ablations and controls of bench/conta-ablation.sh (docs/results/conta-bench/ablations/NAME-seedS.json, each
     * the CAM stage of one run) beside the same seed's baseline (round 0) and CONTA round 1 from the study's reports.
     */
    @SuppressWarnings("unchecked")
    static String contaAblations(Path bench) throws Exception {
        Path dir = bench.resolve("ablations");
        if (!Files.isDirectory(dir)) return "No ablation has run yet.\n";
        List<Map<String, Object>> runs = new java.util.ArrayList<>();
        try (var fs = Files.list(dir)) {
            for (Path f : fs.filter(x -> x.toString().endsWith(".json")).sorted().toList()) runs.add(Json.parseObject(Files.readString(f)));
        }
        // the paper's ablations (q1..q4) first, then the controls
        runs.sort(java.util.Comparator.comparing((Map<String, Object> r) -> !String.valueOf(r.get("name")).matches("q\\d.*"))
                .thenComparing(r -> String.valueOf(r.get("name"))).thenComparing(r -> ((Number) r.get("seed")).intValue()));
        if (runs.isEmpty()) return "No ablation has run yet.\n";
        Map<String, Object> firstLeak = (Map<String, Object>) ((Map<String, Object>) runs.getFirst().get("cam")).get("context_leak");
        List<String> cls = firstLeak == null ? List.of() : new java.util.ArrayList<>(firstLeak.keySet()); // none: no leak columns
        StringBuilder b = new StringBuilder("| run | setting | seed | round | CAM @threshold | CAM best |");
        for (String k : cls) b.append(' ').append(k).append(" |");
        b.append("\n|---|---|---|---|---|---|").append("---|".repeat(cls.size())).append('\n');
        java.util.Set<Integer> seeds = new java.util.TreeSet<>();
        for (Map<String, Object> r : runs) seeds.add(((Number) r.get("seed")).intValue());
        Map<String, Map<Integer, Double>> refCam = new java.util.HashMap<>(); // method -> seed -> CAM mIoU at the fixed threshold
        for (int seed : seeds) // the references first: the same seed's baseline and CONTA as specified
            for (String[] ref : new String[][]{{"cam", "0", "baseline (IRNet)", ""}, {"conta", "1", "CONTA as specified (M at block 5)", ""},
                    {"c2am", "0", "C²AM as specified (mean aggregation)", ""}}) {
                Path f = bench.resolve(ref[0]).resolve("seed" + seed).resolve("report.json");
                if (!Files.isRegularFile(f)) continue;
                List<Object> rounds = (List<Object>) Json.parseObject(Files.readString(f)).get("rounds");
                int t = Integer.parseInt(ref[1]);
                if (rounds.size() <= t) continue;
                Map<String, Object> cam = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) rounds.get(t)).get("stages")).get("cam");
                ablationRow(b, ref[2], ref[3], seed, t, cam, cls);
                refCam.computeIfAbsent(ref[0], k -> new java.util.TreeMap<>()).put(seed, ((Number) cam.get("miou")).doubleValue());
            }
        for (Map<String, Object> r : runs)
            ablationRow(b, r.get("what") instanceof String w && !w.isEmpty() ? w : String.valueOf(r.get("name")),
                    String.join(" ", (List<String>) r.get("settings")), ((Number) r.get("seed")).intValue(), ((Number) r.get("round")).intValue(),
                    (Map<String, Object>) r.get("cam"), cls);
        b.append("\n(mIoU in %; the last columns: off-object share of each context-coupled class's CAM mass on images with its context, %.)\n");
        // paired over the seeds each run has: how far it moves the baseline, and what CONTA adds over it
        Map<String, Map<Integer, Double>> byName = new java.util.LinkedHashMap<>();
        Map<String, String> label = new java.util.HashMap<>(), method = new java.util.HashMap<>();
        for (Map<String, Object> r : runs) {
            String n = String.valueOf(r.get("name"));
            byName.computeIfAbsent(n, k -> new java.util.TreeMap<>()).put(((Number) r.get("seed")).intValue(),
                    ((Number) ((Map<String, Object>) r.get("cam")).get("miou")).doubleValue());
            label.putIfAbsent(n, String.join(" ", (List<String>) r.get("settings")));
            method.putIfAbsent(n, String.valueOf(r.get("method")));
        }
        b.append("\nPaired over seeds (CAM mIoU at the fixed threshold, points; mean [95% t interval] over the seeds both have, with "
                + "the seeds where the difference is positive / negative and the two-sided sign test's p; the "
                + "last column: the run's method as specified minus the run, e.g. CONTA minus its zero control = what the context adds):\n\n"
                + "| run | seeds | run - baseline | method as specified - run |\n|---|---|---|---|\n");
        for (var e : byName.entrySet()) {
            String m = method.get(e.getKey());
            b.append("| `").append(label.get(e.getKey())).append("` | ").append(e.getValue().size()).append(" | ")
                    .append(pairedCell(e.getValue(), refCam.get("cam"), false)).append(" | ")
                    .append(m.equals("cam") ? "-" : (m.equals("c2am") ? "C²AM " : "CONTA ") + pairedCell(e.getValue(), refCam.get(m), true)).append(" |\n");
        }
        return b.toString();
    }

    /** "mean [lo, hi] (k; positive / negative, sign p)" of run - ref (or ref - run) over the seeds both have; "-" without any. */
    private static String pairedCell(Map<Integer, Double> run, Map<Integer, Double> ref, boolean refMinusRun) {
        if (ref == null) return "-";
        List<Integer> common = run.keySet().stream().filter(ref::containsKey).toList();
        if (common.isEmpty()) return "-";
        double[] a = new double[common.size()], c = new double[common.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = 100 * (refMinusRun ? ref.get(common.get(i)) : run.get(common.get(i)));
            c[i] = 100 * (refMinusRun ? run.get(common.get(i)) : ref.get(common.get(i)));
        }
        conta.eval.PairedStats p = conta.eval.PairedStats.of(a, c);
        if (p.n() == 1) return String.format(Locale.ROOT, "%+.2f (1)", p.mean());
        return String.format(Locale.ROOT, "%+.2f [%+.2f, %+.2f] (%d; %d / %d, sign p %.2f)", p.mean(), p.lo95(), p.hi95(), p.n(),
                p.positive(), p.negative(), p.signP());
    }

    @SuppressWarnings("unchecked")
    private static void ablationRow(StringBuilder b, String name, String setting, int seed, int round, Map<String, Object> cam, List<String> cls) {
        b.append("| ").append(name).append(" | ").append(setting.isEmpty() ? "-" : "`" + setting + "`").append(" | ").append(seed).append(" | ").append(round)
                .append(" | ").append(f2(cam.get("miou"))).append(" @").append(cam.get("fixed_threshold"))
                .append(" | ").append(f2(cam.get("best_miou"))).append(" @").append(cam.get("best_threshold")).append(" |");
        Map<String, Object> leak = (Map<String, Object>) cam.get("context_leak");
        for (String k : cls) b.append(' ').append(leak != null && leak.get(k) instanceof Map<?, ?> v ? pct(v.get("with_context")) : "-").append(" |");
        b.append('\n');
    }

    static String pct(Object o) { return o instanceof Number n ? String.format(Locale.ROOT, "%.1f", 100 * n.doubleValue()) : "-"; }

    static String pct2(Object o) { return o instanceof Number n ? String.format(Locale.ROOT, "%.2f", 100 * n.doubleValue()) : "-"; }

    @SuppressWarnings("unchecked")
    static String demoTable(Map<String, Object> r) {
        List<String> classes = (List<String>) r.get("classes");
        Map<String, Object> cam = stage(r, "cam"), ps = stage(r, "pseudo"), seg = stage(r, "seg");
        StringBuilder b = new StringBuilder("| class | CAM seeds (train, threshold " + cam.get("fixed_threshold")
                + ") | pseudo-masks (train) | DeepLab-v2 (held-out) |\n|---|---|---|---|\n");
        for (int c = 0; c < classes.size(); c++)
            b.append("| ").append(classes.get(c)).append(" | ").append(pct(((List<Object>) cam.get("iou")).get(c))).append(" | ")
                    .append(pct(((List<Object>) ps.get("iou")).get(c))).append(" | ").append(pct(((List<Object>) seg.get("iou")).get(c))).append(" |\n");
        b.append("| **mIoU** | **").append(pct2(cam.get("miou"))).append("** | **").append(pct2(ps.get("miou"))).append("** | **")
                .append(pct2(seg.get("miou"))).append("** |\n");
        return b.toString();
    }

    @SuppressWarnings("unchecked")
    static String leakTable(Map<String, Object> r) {
        Map<String, Object> leak = (Map<String, Object>) stage(r, "cam").get("context_leak");
        StringBuilder b = new StringBuilder("| class | off-object CAM mass with its context (images) | without it (images) |\n|---|---|---|\n");
        for (var e : leak.entrySet()) {
            Map<String, Object> m = (Map<String, Object>) e.getValue();
            b.append("| ").append(e.getKey()).append(" | ").append(pct(m.get("with_context"))).append(" (").append(images(m, "with"))
                    .append(") | ").append(pct(m.get("without_context"))).append(" (").append(images(m, "without")).append(") |\n");
        }
        return b.toString();
    }

    /** A leak cell's image count, with the images left out for an all-zero CAM (report.html shows the same two counts). */
    private static String images(Map<String, Object> m, String side) {
        Object n = m.get("images_" + side), zero = m.get("zero_cam_" + side);
        return n + (zero instanceof Number z && z.intValue() > 0 ? " + " + z + " zero CAM" : "");
    }

    static String demoSummary(Map<String, Object> r) {
        Map<String, Object> cam = stage(r, "cam"), ps = stage(r, "pseudo"), seg = stage(r, "seg");
        return String.format(Locale.ROOT, "CAM seeds %s, pseudo-masks %s, segmentation %s mIoU (%s training / %s held-out images); "
                        + "the threshold sweep puts the CAMs' best at %s (%s).\n",
                pct2(cam.get("miou")), pct2(ps.get("miou")), pct2(seg.get("miou")), r.get("train_images"), r.get("val_images"),
                cam.get("best_threshold"), pct2(cam.get("best_miou")));
    }

    static final Pattern BLOCK = Pattern.compile("(<!-- numbers:([a-z-]+) -->\n)(.*?)(<!-- /numbers:\\2 -->)", Pattern.DOTALL);

    /** README with every marked block replaced by its generated text. */
    static String regenerate(String readme) throws Exception {
        Map<String, String> blocks = blocks();
        Matcher m = BLOCK.matcher(readme);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String text = blocks.get(m.group(2));
            if (text == null) throw new IllegalArgumentException("README block '" + m.group(2) + "' has no generator (known: " + blocks.keySet() + ")");
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + text + m.group(4)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** {@code ReadmeNumbers [--write] [README.md]}: prints the differing state, or rewrites the file with --write. */
    public static void main(String[] args) throws Exception {
        boolean write = List.of(args).contains("--write");
        Path f = Path.of(List.of(args).stream().filter(a -> !a.startsWith("--")).findFirst().orElse("README.md"));
        String now = Files.readString(f), want = regenerate(now);
        if (write) {
            Files.writeString(f, want);
            System.out.println(now.equals(want) ? f + " already up to date" : "rewrote the numbers of " + f);
        } else {
            System.out.println(now.equals(want) ? f + " is up to date" : f + " differs from docs/results; run docs/readme_numbers.sh");
            if (!now.equals(want)) System.exit(1);
        }
    }
}
