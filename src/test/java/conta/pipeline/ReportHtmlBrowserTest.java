package conta.pipeline;

import conta.config.Config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNull;

import conta.synth.SynthGenerator;
import conta.tensor.cpu.CpuBackend;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html in a real browser: headless Chromium (Debian's `chromium`; .ci/run installs it) loads the page, runs its
 * scripts and dumps the DOM after load. Asserted: no script error and no console error, every embedded image decodes,
 * the colour legend names every class, the loss / learning-rate / threshold-sweep charts are drawn, training and
 * held-out rows are there; CONTA + C²AM pages show the confounder set, the attention and the global CAM; a data set
 * without masks gives the same images and the sentence saying why no mIoU is shown. Skips when no Chromium is installed.
 */
class ReportHtmlBrowserTest {
    @TempDir static Path tmp;
    static Path synth;

    @BeforeAll
    static void makeData() throws Exception {
        synth = tmp.resolve("synth");
        SynthGenerator.generate(synth, new SynthGenerator.Config(5, 16, 6, 64, 0.8));
    }

    /** PipelineResumeTest's tiny recipe cut further: these tests check the page, not the training. */
    static Config quick() {
        Config c = PipelineResumeTest.tiny();
        c.applySets(List.of("cls.epochs=1", "irn.epochs=1", "seg.iters=3", "cam.scales=1.0", "ir.crf_iters=1"));
        return c;
    }

    /** The Chromium on PATH, or null. */
    static String chromium() {
        for (String name : new String[]{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"})
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                if (Files.isExecutable(Path.of(dir, name))) return Path.of(dir, name).toString();
        return null;
    }

    /** The DOM after load, and stderr's console/error lines. */
    record Rendered(String dom, String log) { }

    static Rendered render(Path html) throws Exception {
        String keep = System.getProperty("conta.test.keepReports"); // for screenshots: -Dconta.test.keepReports=DIR
        if (keep != null) {
            Path d = Path.of(keep).resolve(html.getParent().getFileName().toString());
            Files.createDirectories(d);
            Files.copy(html, d.resolve("report.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        String exe = chromium();
        Assumptions.assumeTrue(exe != null, "no Chromium on PATH: install it (apt-get install -y chromium) to check report.html in a browser");
        Path profile = Files.createTempDirectory(tmp, "chrome");
        Path err = tmp.resolve("chrome-" + System.nanoTime() + ".log");
        Process pr = new ProcessBuilder(exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile,
                "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom", html.toUri().toString())
                .redirectError(err.toFile()).start();
        byte[] out = pr.getInputStream().readAllBytes();
        assertTrue(pr.waitFor(120, TimeUnit.SECONDS), "chromium finished");
        String log = Files.readString(err, StandardCharsets.UTF_8);
        return new Rendered(new String(out, StandardCharsets.UTF_8), log);
    }

    /**
     * The page's width when shown in a frame {@code width} px wide (a phone, a narrow window; headless Chromium's own
     * window is at least 500 px): {scrollWidth, frame width}, read by the browser from the laid-out page.
     */
    static int[] widthAt(Path html, int width) throws Exception {
        String exe = chromium();
        Assumptions.assumeTrue(exe != null, "no Chromium on PATH: install it (apt-get install -y chromium) to check report.html in a browser");
        Path frame = html.resolveSibling("frame-" + width + "-" + html.getFileName());
        Files.writeString(frame, "<html><body style='margin:0'><iframe id='f' src='" + html.getFileName() + "' width='" + width
                + "' height='2000' style='border:0'></iframe><script>document.getElementById('f').onload=function(){"
                + "document.body.setAttribute('data-width',this.contentDocument.documentElement.scrollWidth+' '+this.contentWindow.innerWidth);};"
                + "</script></body></html>");
        Path profile = Files.createTempDirectory(html.getParent(), "chrome");
        Process pr = new ProcessBuilder(exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile,
                "--allow-file-access-from-files", "--window-size=1400,2200", "--virtual-time-budget=10000", "--dump-dom", frame.toUri().toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dom = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(pr.waitFor(120, TimeUnit.SECONDS), "chromium finished");
        Matcher m = Pattern.compile("data-width=\"(\\d+) (\\d+)\"").matcher(dom);
        assertTrue(m.find(), "the frame loaded the page: " + dom);
        return new int[]{Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    static void noErrors(Rendered r) {
        assertTrue(r.dom().contains("<html"), "chromium dumped the DOM; stderr:\n" + r.log());
        Matcher js = Pattern.compile("<html[^>]*data-js-errors=\"([^\"]*)\"").matcher(r.dom());
        assertFalse(js.find(), "script errors recorded in the page: " + (js.find(0) ? js.group(1) : ""));
        Matcher m = Pattern.compile("<html[^>]*data-broken-images=\"(\\d+)\"").matcher(r.dom());
        assertTrue(m.find(), "the load handler ran (data-broken-images set)");
        assertEquals("0", m.group(1), "every embedded image decodes");
        for (String line : r.log().split("\n"))
            assertFalse(line.contains("CONSOLE") && (line.contains("Uncaught") || line.contains("rror")), "console error: " + line);
    }

    static int count(String s, String needle) { return s.split(Pattern.quote(needle), -1).length - 1; }

    static String section(String dom, String id) {
        int i = dom.indexOf("id=\"" + id + "\"");
        assertTrue(i >= 0, "section #" + id + " exists");
        int end = dom.indexOf("</table>", i);
        int div = dom.indexOf("<h2", i);
        return dom.substring(i, Math.max(end, div) < 0 ? dom.length() : Math.min(dom.length(), Math.max(end, div)));
    }

    @SuppressWarnings("unchecked")
    @Test
    void baselineReportRendersWithLegendCurvesAndHeldOutRows() throws Exception {
        Path out = tmp.resolve("cam");
        Config c = quick();
        c.set("report.overlays", "3");
        Map<String, Object> report;
        try (CpuBackend b = new CpuBackend()) {
            report = Methods.run(c, synth, out, b);
        }
        java.io.ByteArrayOutputStream table = new java.io.ByteArrayOutputStream();
        Report.printTable(report, new java.io.PrintStream(table, true, java.nio.charset.StandardCharsets.UTF_8));
        assertFalse(table.toString(java.nio.charset.StandardCharsets.UTF_8).contains("no mIoU"), "a scored run: " + table);
        Rendered r = render(out.resolve("report.html"));
        noErrors(r);
        String dom = r.dom();
        String legend = dom.substring(dom.indexOf("id=\"legend\""), dom.indexOf("</div>", dom.indexOf("id=\"legend\"")));
        for (Object cls : (List<Object>) report.get("classes")) assertTrue(legend.contains((String) cls), "legend names " + cls);
        for (String id : new String[]{"loss-r0-cls", "lr-r0-cls", "loss-r0-irn", "lr-r0-irn", "loss-r0-seg", "lr-r0-seg", "sweep-chart"})
            assertTrue(dom.contains("id=\"" + id + "\""), "chart " + id);
        // the loss polyline has one point per logged step (the tiny run logs fewer than the 600 the page keeps)
        long segSteps = Files.readAllLines(out.resolve("round0/seg/train_log.jsonl")).size();
        Matcher poly = Pattern.compile("id=\"loss-r0-seg\".*?data-name=\"loss\"[^>]*points=\"([^\"]*)\"", Pattern.DOTALL).matcher(dom);
        assertTrue(poly.find(), "the seg loss line is drawn");
        assertEquals(segSteps, poly.group(1).trim().split("\\s+").length, "one point per step");
        assertTrue(dom.contains("class=\"mark\""), "the chosen threshold is marked on the sweep");
        Map<String, Object> camStage = (Map<String, Object>) ((Map<String, Object>) report.get("stages")).get("cam");
        double used = ((Number) camStage.get("fixed_threshold")).doubleValue(), best = ((Number) camStage.get("best_threshold")).doubleValue();
        assertEquals(used == best ? 1 : 2, count(dom, "class=\"mark\""), "one mark when the used threshold is the best (" + used + ", " + best + ")");
        assertEquals(3, count(dom, "class=\"train-row\""), "training rows");
        int val = ((Number) report.get("val_images")).intValue();
        assertEquals(Math.min(3, val), count(dom, "class=\"held-out-row\""), "held-out rows");
        assertTrue(dom.contains("id=\"per-class\"") && dom.contains("precision") && dom.contains("recall"), "per-class precision/recall");
        boolean leak = ((Map<String, Object>) ((Map<String, Object>) report.get("stages")).get("cam")).get("context_leak") != null;
        assertEquals(leak, dom.contains("id=\"context-leak\""), "the context-leak table exactly when the run measured it");
        assertTrue(dom.contains("id=\"warnings\""), "the warnings section");
        // each score the summary table names is defined on the page (an outside reader met 'seeds' and 'pseudo-masks' unexplained)
        assertTrue(dom.contains("id=\"terms\""), "a paragraph says what each score is");
        String terms = dom.substring(dom.indexOf("id=\"terms\""), dom.indexOf("</p>", dom.indexOf("id=\"terms\"")));
        for (String t : new String[]{"<i>CAM seeds</i>:", "<i>Pseudo-masks</i>:", "<i>Segmentation</i>:", "background threshold", "held-out"})
            assertTrue(terms.contains(t), "the terms paragraph explains " + t + ": " + terms);
        assertFalse(terms.contains("Rounds"), "one round: nothing to say about rounds");
        assertFalse(dom.contains("id=\"no-mask-note\""), "scored runs have no no-mask note");
        // the stage times as a table (they were a raw JSON block): one row per stage of report.json, its seconds and share
        Map<String, Object> tm = (Map<String, Object>) report.get("timings");
        String tt = dom.substring(dom.indexOf("id=\"timings\""), dom.indexOf("</table>", dom.indexOf("id=\"timings\"")));
        Matcher row = Pattern.compile("<td>(\\d+)</td><td>([^<]*)</td><td>([\\d.]+)</td><td>(\\d+)%</td>").matcher(tt);
        double sum = tm.entrySet().stream().filter(e -> e.getKey().matches("round\\d+\\.\\w+")).mapToDouble(e -> ((Number) e.getValue()).doubleValue()).sum();
        int rows = 0;
        for (var e : tm.entrySet()) {
            if (!e.getKey().matches("round\\d+\\.\\w+")) continue;
            assertTrue(row.find(), "a row for " + e.getKey() + ": " + tt);
            double v = ((Number) e.getValue()).doubleValue();
            assertEquals(e.getKey().substring(5, e.getKey().indexOf('.')), row.group(1));
            assertEquals(String.format(java.util.Locale.ROOT, "%.1f", v), row.group(3), e.getKey());
            assertEquals(Math.round(100 * v / sum), Long.parseLong(row.group(4)), e.getKey() + " share");
            rows++;
        }
        assertEquals(7, rows, "cls, cam, ir, irn, pseudo, seg, pred");
        assertFalse(dom.contains("http://") && dom.replace("http://www.w3.org/2000/svg", "").contains("http://"), "nothing fetched from the network");
        // 400 px wide: the wide tables scroll in their own box and the charts shrink, the page itself is no wider (it was 1027 px)
        int[] w = widthAt(out.resolve("report.html"), 400);
        assertEquals(400, w[1], "the frame is 400 px wide");
        assertTrue(w[0] <= w[1], "page width at 400 px: " + w[0]);
    }

    @Test
    void contaAndC2amReportShowsRoundsConfoundersAttentionAndGlobalCam() throws Exception {
        Path out = tmp.resolve("conta");
        Config c = quick();
        c.applySets(List.of("method=conta+c2am", "conta.rounds=1", "conta.confounder_source=pseudo", "c2am.epochs=1", "report.overlays=2"));
        try (CpuBackend b = new CpuBackend()) {
            Methods.run(c, synth, out, b);
        }
        Rendered r = render(out.resolve("report.html"));
        noErrors(r);
        String dom = r.dom();
        String summary = section(dom, "summary");
        assertTrue(Pattern.compile("\\(([+-])\\d+\\.\\d\\d\\)").matcher(summary).find(), "round 1 shows its change against round 0");
        assertTrue(dom.contains("id=\"conta\""), "the CONTA section");
        String terms = dom.substring(dom.indexOf("id=\"terms\""), dom.indexOf("</p>", dom.indexOf("id=\"terms\"")));
        assertTrue(terms.contains("<i>Rounds</i> (CONTA): round 0 is the plain pipeline"), "what a round is: " + terms);
        assertTrue(count(section(dom, "conta"), "<figure>") >= 5 + 1, "c_i of each of the 5 classes and M");
        assertTrue(dom.contains("id=\"alpha-r1-"), "attention bars");
        assertTrue(dom.contains("id=\"c2am\""), "the C2AM global CAM");
        for (String id : new String[]{"loss-r0-c2am", "loss-r1-cls", "loss-r1-seg"}) assertTrue(dom.contains("id=\"" + id + "\""), "chart " + id);
    }

    @Test
    void aSetWithoutMasksShowsImagesAndSaysWhyNoScore() throws Exception {
        Path custom = tmp.resolve("custom");
        Files.createDirectories(custom.resolve("images"));
        Files.createDirectories(custom.resolve("splits"));
        try (var s = Files.list(synth.resolve("JPEGImages"))) {
            for (Path f : s.toList()) Files.copy(f, custom.resolve("images").resolve(f.getFileName()));
        }
        Files.copy(synth.resolve("classes.txt"), custom.resolve("classes.txt"));
        Files.copy(synth.resolve("labels.csv"), custom.resolve("labels.csv"));
        for (String sp : new String[]{"train", "val"})
            Files.copy(synth.resolve("ImageSets/Segmentation/" + sp + ".txt"), custom.resolve("splits/" + sp + ".txt"));
        Path out = tmp.resolve("nomask");
        Config c = quick();
        c.set("report.overlays", "2");
        Map<String, Object> report;
        try (CpuBackend b = new CpuBackend()) {
            report = Methods.run(c, custom, out, b);
        }
        java.io.ByteArrayOutputStream table = new java.io.ByteArrayOutputStream();
        Report.printTable(report, new java.io.PrintStream(table, true, java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(table.toString(java.nio.charset.StandardCharsets.UTF_8).contains("(no mIoU: this data set has no ground-truth masks"),
                "the console says why too: " + table);
        // report.json: the held-out predictions say it as the CAMs and pseudo-masks do (miou null and why), not by a missing key
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> stages = (Map<String, Map<String, Object>>) report.get("stages");
        for (String k : new String[]{"cam", "pseudo", "seg"}) {
            assertTrue(stages.get(k).containsKey("miou") && stages.get(k).get("miou") == null, k + ": " + stages.get(k));
            assertEquals("no ground-truth masks in this split", stages.get(k).get("note"), k + ": " + stages.get(k));
        }
        Rendered r = render(out.resolve("report.html"));
        noErrors(r);
        String dom = r.dom();
        assertTrue(dom.contains("id=\"no-mask-note\""), "the explanation");
        assertTrue(dom.contains("No mIoU is shown because this data set has no ground-truth masks"), "the sentence");
        assertEquals(2, count(dom, "class=\"train-row\""), "training images are still shown");
        assertTrue(count(dom, "class=\"held-out-row\"") >= 1, "held-out images are still shown");
        List<String> imgs = new ArrayList<>();
        Matcher m = Pattern.compile("<img ").matcher(section(dom, "train-images"));
        while (m.find()) imgs.add(m.group());
        assertTrue(imgs.size() >= 2 * 4, "image, CAM, heatmaps, pseudo-mask and prediction per training row");
        assertTrue(dom.contains("id=\"loss-r0-cls\""), "training curves without ground truth too");
        assertFalse(dom.contains("id=\"per-class\""), "no per-class score table without masks");
    }

    /**
     * --until: report.html of the stages reached, headed by a note that the run stopped there (no report.json, the mark
     * of a finished run); before any scored stage no "no masks" note (the scores are missing for want of the stage);
     * the run finished later replaces it with the full report. Before, a stopped run wrote no report at all.
     */
    @Test
    void aRunStoppedByUntilHasAReportOfTheStagesItReached() throws Exception {
        Path out = tmp.resolve("until");
        Config c = quick();
        c.set("report.overlays", "2");
        try (CpuBackend b = new CpuBackend()) {
            Methods.run(c, synth, out, b, new StageRange(null, StageRange.parse("cls", "until")));
        }
        assertFalse(Files.exists(out.resolve("report.json")), "report.json waits for the end");
        Rendered r = render(out.resolve("report.html"));
        noErrors(r);
        assertTrue(r.dom().contains("id=\"stopped-note\"") && r.dom().contains("stopped after <b>round0/cls</b>"), "the note says where it stopped");
        assertFalse(r.dom().contains("id=\"no-mask-note\""), "no scores yet for want of the stage, not of masks");
        assertTrue(r.dom().contains("id=\"loss-r0-cls\""), "the classifier's curves");

        try (CpuBackend b = new CpuBackend()) {
            Methods.run(c, synth, out, b, new StageRange(null, StageRange.parse("cam", "until")));
        }
        assertFalse(Files.exists(out.resolve("report.json")));
        r = render(out.resolve("report.html"));
        noErrors(r); // the pseudo-mask and prediction cells of the image rows are empty, not broken images
        String dom = r.dom();
        assertTrue(dom.contains("stopped after <b>round0/cam</b>"), "the note moved on");
        Matcher camScore = Pattern.compile("<tr><td>0</td><td>(\\d+\\.\\d\\d)</td><td>[^<]+</td><td>-</td><td>-</td></tr>").matcher(section(dom, "summary"));
        assertTrue(camScore.find(), "round 0: the CAM score, no pseudo-mask or segmentation score: " + section(dom, "summary"));
        assertTrue(dom.contains("id=\"sweep-chart\"") && dom.contains("id=\"per-class\""), "the CAM sweep and per-class scores");
        assertEquals(2, count(dom, "class=\"train-row\""), "training rows with their CAMs");

        Map<String, Object> full;
        try (CpuBackend b = new CpuBackend()) {
            full = Methods.run(c, synth, out, b);
        }
        assertNull(full.get("stopped_after"));
        assertTrue(Files.isRegularFile(out.resolve("report.json")));
        dom = render(out.resolve("report.html")).dom();
        assertFalse(dom.contains("id=\"stopped-note\""), "the finished run's report replaced it");
        assertTrue(dom.contains("id=\"loss-r0-seg\""));
        // --until on a finished folder stops at once and keeps the full report
        try (CpuBackend b = new CpuBackend()) {
            Methods.run(c, synth, out, b, new StageRange(null, StageRange.parse("cam", "until")));
        }
        assertFalse(Files.readString(out.resolve("report.html")).contains("id='stopped-note'"), "the full report is kept");
    }

    /**
     * A run killed mid-way (a simulated SIGKILL at progress event 40, past the classifier and into the later stages)
     * leaves report.html of the stages it finished, headed by a note naming the last one (written after each stage
     * that took at least conta.report.progressSeconds, here 0); no report.json. The stage it names is finished on
     * disk. Rerun to the end, the full report replaces it. Before, a killed run left no report at all.
     */
    @Test
    void aKilledRunLeavesAReportOfTheStagesItFinished() throws Exception {
        Path out = tmp.resolve("killed");
        Config c = quick();
        c.set("report.overlays", "2");
        conta.train.Faults.reset();
        System.setProperty("conta.report.progressSeconds", "0");
        System.setProperty("conta.test.killAt", "40");
        try (CpuBackend b = new CpuBackend()) {
            org.junit.jupiter.api.Assertions.assertThrows(conta.train.Faults.Killed.class, () -> Methods.run(c, synth, out, b));
        } finally {
            System.clearProperty("conta.test.killAt");
            System.clearProperty("conta.report.progressSeconds");
        }
        assertFalse(Files.exists(out.resolve("report.json")), "report.json marks a finished run");
        Rendered r = render(out.resolve("report.html"));
        noErrors(r);
        Matcher last = Pattern.compile("had finished <b>round0/(\\w+)</b>").matcher(r.dom());
        assertTrue(last.find() && r.dom().contains("id=\"progress-note\""), "the note names the last finished stage");
        assertTrue(Files.isRegularFile(out.resolve("round0").resolve(last.group(1)).resolve("done.json")), last.group(1) + " is done on disk");
        assertTrue(r.dom().contains("id=\"loss-r0-cls\""), "the classifier's curves");

        try (CpuBackend b = new CpuBackend()) {
            Methods.run(c, synth, out, b);
        }
        assertTrue(Files.isRegularFile(out.resolve("report.json")));
        String dom = render(out.resolve("report.html")).dom();
        assertFalse(dom.contains("id=\"progress-note\""), "the finished run's report replaced it");
        assertTrue(dom.contains("id=\"loss-r0-seg\""));
    }
}
