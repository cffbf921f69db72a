package conta.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** comparison.md/.json carry the paired differences (same seed) of each method against the first, computed by hand here. */
class ComparisonPairedTest {
    @TempDir Path tmp;

    static Map<String, Object> report(double... camPerRound) {
        List<Object> rounds = new ArrayList<>();
        for (double c : camPerRound) {
            Map<String, Object> st = new LinkedHashMap<>();
            st.put("cam", Map.of("miou", c));
            st.put("pseudo", Map.of("miou", c + 0.05));
            rounds.add(Map.of("stages", st));
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("rounds", rounds);
        r.put("classes", List.of("background", "a"));
        return r;
    }

    @SuppressWarnings("unchecked")
    @Test
    void pairedDifferencesOfTheSameSeed() throws Exception {
        Map<String, List<Map<String, Object>>> reports = new LinkedHashMap<>();
        // baseline CAM 0.30, 0.40, 0.50 (seeds 0..2); CONTA round 0 = the baseline, round 1 = +1, +3, -1 points
        reports.put("cam", List.of(report(0.30), report(0.40), report(0.50)));
        reports.put("conta", List.of(report(0.30, 0.31), report(0.40, 0.43), report(0.50, 0.49)));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Object> json = Comparison.table(reports, List.of("cam", "conta"), 3, tmp.resolve("nodata"), tmp, new PrintStream(log));
        List<Map<String, Object>> rows = (List<Map<String, Object>>) ((Map<String, Object>) json.get("paired_vs_cam")).get("conta");
        Map<String, Object> r0 = rows.get(0), r1cam = rows.get(2);
        assertEquals(0, r0.get("round"));
        assertEquals(0.0, (Double) r0.get("mean_diff"), 1e-9);
        assertEquals(1, r1cam.get("round"));
        assertEquals("cam", r1cam.get("metric"));
        // d = 1, 3, -1: mean 1, SD 2, 95% interval 1 ± 4.3027 * 2 / sqrt(3)
        assertEquals(1.0, (Double) r1cam.get("mean_diff"), 1e-9);
        assertEquals(2.0, (Double) r1cam.get("sd"), 1e-9);
        List<Double> ci = (List<Double>) r1cam.get("ci95");
        assertEquals(1 - 4.302653 * 2 / Math.sqrt(3), ci.get(0), 1e-5);
        assertEquals(2, r1cam.get("better"));
        assertEquals(1, r1cam.get("worse"));
        assertEquals(1.0, (Double) r1cam.get("sign_p"), 1e-12);
        // the power plan: SD 2 needs 34 seeds (PairedStatsTest's table); its 80% upper bound over 3 seeds (df 2, where
        // chi2_0.2 = -2 ln 0.8 in closed form) is 2 sqrt(2 / (-2 ln 0.8)) = 4.234
        assertEquals(34, r1cam.get("seeds_for_1pt"));
        int upper = conta.eval.PairedStats.seedsFor(1.0, 2 * Math.sqrt(2 / (-2 * Math.log(0.8))));
        assertEquals(upper, r1cam.get("seeds_for_1pt_sd_upper80"));
        assertTrue(upper > 130 && upper < 160, "((1.96 + 0.84) * 4.234)^2 = 141 plus the t correction: " + upper);
        assertTrue(log.toString().contains("| conta | 1 | cam | 3 | +1.00 | 2.00 | [-3.97, +5.97] | 2 / 1 | 1.000 | 34 / " + upper + " |"), log.toString());
    }

    /** --tables-only: methods at different seeds; C²AM's seed 1 pairs with the baseline's seed 1, not its first report. */
    @SuppressWarnings("unchecked")
    @Test
    void tablesOnlyPairsBySeedAndRunsNothing() throws Exception {
        Path out = tmp.resolve("study");
        write(out, "cam", 0, report(0.30));
        write(out, "cam", 1, report(0.40));
        write(out, "c2am", 1, report(0.43));   // seed 0 of c2am not finished
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        conta.config.Config base = conta.config.Config.fromFlags(null, List.of("seed=0"));
        Map<String, Object> json = Comparison.tablesOnly(base, List.of("cam", "c2am"), 2, tmp.resolve("nodata"), out, new PrintStream(log));
        assertTrue(log.toString().contains("c2am seed 0: not finished"), log.toString());
        assertEquals(Map.of("cam", 2, "c2am", 1), json.get("seeds_per_method"));
        Map<String, Object> r0 = ((List<Map<String, Object>>) ((Map<String, Object>) json.get("paired_vs_cam")).get("c2am")).getFirst();
        assertEquals(1, r0.get("seeds"));
        assertEquals(3.0, (Double) r0.get("mean_diff"), 1e-9, "0.43 - 0.40 (seed 1), not 0.43 - 0.30 (seed 0)");
        assertTrue(java.nio.file.Files.readString(out.resolve("comparison.md")).contains("the seeds each method finished: cam=2, c2am=1"));
        assertFalse(java.nio.file.Files.exists(out.resolve("cam").resolve("seed0").resolve("round0")), "nothing ran");
        ByteArrayOutputStream none = new ByteArrayOutputStream();
        conta.error.UserError e = assertThrows(conta.error.UserError.class,
                () -> Comparison.tablesOnly(base, List.of("cam", "conta"), 2, tmp.resolve("nodata"), out, new PrintStream(none)));
        assertTrue(e.getMessage().startsWith("no finished seed of conta under "), e.getMessage());
    }

    /** conta compare --tables-only runs nothing, so it needs no --data (it asked for one). */
    @Test
    void tablesOnlyNeedsNoDataFolder() throws Exception {
        Path out = tmp.resolve("nodata-study");
        write(out, "cam", 0, report(0.30));
        write(out, "cam", 1, report(0.40));
        write(out, "c2am", 1, report(0.43));
        assertEquals(0, conta.cli.Main.run(new String[]{"compare", "--out", out.toString(), "--methods", "cam,c2am", "--seeds", "2", "--tables-only"}));
        assertTrue(java.nio.file.Files.readString(out.resolve("comparison.md")).contains("| c2am | 0 | 43.00 |"));
        assertEquals(2, conta.cli.Main.run(new String[]{"compare", "--out", out.toString(), "--methods", "cam,c2am", "--seeds", "2"}), "a run needs --data");
    }

    private static void write(Path out, String method, int seed, Map<String, Object> r) throws Exception {
        Map<String, Object> cfg = new LinkedHashMap<>(new conta.config.Config().asMap()); // this version's recipe: no key predates it
        cfg.put("method", method);
        cfg.put("seed", String.valueOf(seed));
        r.put("config", cfg);
        Path d = out.resolve(method).resolve("seed" + seed);
        java.nio.file.Files.createDirectories(d);
        java.nio.file.Files.writeString(d.resolve("report.json"), conta.io.Json.writePretty(r));
    }

    @Test
    void stoppedRunsAreNamedInTheTable() throws Exception {
        Map<String, Object> a = report(0.30), b = report(0.30, 0.32);
        b.put("stopped_after", "round1/cam");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Comparison.table(new LinkedHashMap<>(Map.of("cam", List.of(a), "conta", List.of(b))), List.of("cam", "conta"), 1, tmp.resolve("nodata"), tmp,
                new PrintStream(log));
        assertTrue(log.toString().contains("Runs stopped early (--until round1/cam)"), log.toString());
        assertTrue(java.nio.file.Files.readString(tmp.resolve("comparison.md")).contains("Runs stopped early"));
    }

    @Test
    void aSeedFolderWithOnlyItsReportCountsAsFinished() throws Exception {
        conta.config.Config c = conta.config.Config.fromFlags(null, List.of("seg.iters=7", "seed=3"));
        Path dir = tmp.resolve("conta").resolve("seed3");
        java.nio.file.Files.createDirectories(dir);
        assertNull(Comparison.keptReport(dir, c), "no report: run the seed");
        Map<String, Object> r = report(0.30, 0.31);
        r.put("config", new LinkedHashMap<>(c.asMap()));
        java.nio.file.Files.writeString(dir.resolve("report.json"), conta.io.Json.writePretty(r));
        Map<String, Object> kept = Comparison.keptReport(dir, c);
        assertNotNull(kept, "a committed report alone is a finished seed");
        assertEquals(2, ((List<?>) kept.get("rounds")).size());

        conta.config.Config other = c.copy();
        other.set("seg.iters", "8");
        var e = assertThrows(conta.error.UserError.class, () -> Comparison.keptReport(dir, other));
        assertTrue(e.getMessage().contains("seg.iters = 7") && e.getMessage().contains("8"), e.getMessage());
        conta.config.Config device = c.copy();
        device.set("device", "cuda:0");
        assertNotNull(Comparison.keptReport(dir, device), "the device is not part of the recipe");

        // a report from before seg.train_bn existed ran with batch norm trained (its LEGACY value): this version's
        // default (false) is another recipe, named; the study's value is accepted. Before, the missing key was not checked.
        Map<String, Object> old = new LinkedHashMap<>(c.asMap());
        old.remove("seg.train_bn");
        r.put("config", old);
        java.nio.file.Files.writeString(dir.resolve("report.json"), conta.io.Json.writePretty(r));
        e = assertThrows(conta.error.UserError.class, () -> Comparison.keptReport(dir, c));
        assertTrue(e.getMessage().contains("seg.train_bn = true (before the key existed), this comparison has false"), e.getMessage());
        conta.config.Config trained = c.copy();
        trained.set("seg.train_bn", "true");
        assertNotNull(Comparison.keptReport(dir, trained));
        r.put("config", new LinkedHashMap<>(c.asMap()));
        java.nio.file.Files.writeString(dir.resolve("report.json"), conta.io.Json.writePretty(r));

        java.nio.file.Files.createDirectories(dir.resolve("round0"));
        assertNull(Comparison.keptReport(dir, c), "a run folder resumes through the pipeline");
        java.nio.file.Files.delete(dir.resolve("round0"));
        r.put("stopped_after", "round1/cam");
        java.nio.file.Files.writeString(dir.resolve("report.json"), conta.io.Json.writePretty(r));
        assertNull(Comparison.keptReport(dir, c), "a stopped run's report is not a finished seed");
    }

    @SuppressWarnings("unchecked")
    static void leak(Map<String, Object> report, int round, double with, double without) {
        Map<String, Object> st = (Map<String, Object>) ((Map<String, Object>) ((List<Object>) report.get("rounds")).get(round)).get("stages");
        Map<String, Object> cam = new LinkedHashMap<>((Map<String, Object>) st.get("cam"));
        cam.put("context_leak", Map.of("a", Map.of("with_context", with, "without_context", without, "images_with", 3, "images_without", 2)));
        st.put("cam", cam);
    }

    @Test
    void contextLeakAndMechanismTablesAverageOverSeeds() throws Exception {
        Map<String, Object> b0 = report(0.30), b1 = report(0.40), c0 = report(0.30, 0.31), c1 = report(0.40, 0.41);
        leak(b0, 0, 0.60, 0.40);
        leak(b1, 0, 0.70, 0.50);
        leak(c0, 0, 0.60, 0.40);
        leak(c0, 1, 0.50, 0.45);
        leak(c1, 0, 0.70, 0.50);
        leak(c1, 1, 0.40, 0.35);
        c0.put("mechanism", Map.of("round1", Map.of("w1_change", 0.2, "alpha_entropy", 0.9, "context_weight", 1.5)));
        c1.put("mechanism", Map.of("round1", Map.of("w1_change", 0.4, "alpha_entropy", 0.7, "context_weight", 0.5)));
        java.nio.file.Files.createDirectories(tmp.resolve("data"));
        java.nio.file.Files.writeString(tmp.resolve("data").resolve("synth.json"), "{\"couplings\": {\"a\": \"ctx\"}}");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Object> json = Comparison.table(new LinkedHashMap<>(Map.of("cam", List.of(b0, b1), "conta", List.of(c0, c1))), List.of("cam", "conta"), 2,
                tmp.resolve("data"), tmp, new PrintStream(log));
        String md = log.toString();
        // baseline round 0: with (60 + 70) / 2 = 65.0, without (40 + 50) / 2 = 45.0; CONTA round 1: 45.0 (40.0)
        assertTrue(md.contains("| cam | 0 | 65.0 (45.0) |"), md);
        assertTrue(md.contains("| conta | 1 | 45.0 (40.0) |"), md);
        String html = java.nio.file.Files.readString(tmp.resolve("comparison.html")); // the HTML has the paired and leak tables too
        assertTrue(html.contains("<tr class='leak-row'><td>conta/round1</td><td>45.0 (40.0)</td></tr>"), html);
        assertTrue(html.contains("<tr class='paired-row'><td>conta</td><td>1</td><td>cam</td><td>2</td><td>+1.00</td>"), html);
        // a seed without a measurement for the class (no image with its context) is said: the cell averages 1 of 2 seeds
        Map<String, Object> c2 = report(0.40, 0.41);
        leak(c2, 1, 0.40, 0.35);
        Map<String, Object> st0 = (Map<String, Object>) ((Map<String, Object>) ((List<Object>) c2.get("rounds")).get(0)).get("stages");
        ByteArrayOutputStream log2 = new ByteArrayOutputStream();
        Comparison.table(new LinkedHashMap<>(Map.of("cam", List.of(b0, b1), "conta", List.of(c0, c2))), List.of("cam", "conta"), 2, tmp.resolve("data"), tmp,
                new PrintStream(log2));
        assertTrue(st0.get("cam") instanceof Map<?, ?> m && !m.containsKey("context_leak"));
        assertTrue(log2.toString().contains("| conta | 0 | 60.0 (40.0) [1 of 2 seeds] |"), log2.toString());
        // W1 change (0.2 + 0.4) / 2, W2 absent, entropy 0.8, context weight 1.0
        assertTrue(md.contains("| conta | 1 | 0.300 | - | 0.800 | - | - | 1.000 |"), md);
        assertNotNull(json.get("mechanism"));
    }
}
