package conta.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** README's generated numbers equal what the committed result files give (docs/readme_numbers.sh rewrites them). */
class ReadmeNumbersTest {
    @Test
    void readmeNumbersComeFromTheCommittedResults() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (String block : new String[]{"demo-table", "demo-leak", "demo-summary", "voc-summary", "latency-table", "latency-table-amx", "conta-bench", "irn-side-by-side", "irn-walk"})
            assertTrue(readme.contains("<!-- numbers:" + block + " -->"), "README has the generated block " + block);
        assertEquals(ReadmeNumbers.regenerate(readme), readme, "README numbers differ from docs/results: run docs/readme_numbers.sh");
    }

    @Test
    void aBlockIsRewrittenFromTheFile() throws Exception {
        String stale = "x\n<!-- numbers:demo-summary -->\nCAM seeds 1.00 (old)\n<!-- /numbers:demo-summary -->\ny\n";
        String fresh = ReadmeNumbers.regenerate(stale);
        assertTrue(fresh.startsWith("x\n<!-- numbers:demo-summary -->\nCAM seeds ") && fresh.endsWith("<!-- /numbers:demo-summary -->\ny\n"));
        assertTrue(!fresh.contains("(old)"), fresh);
    }

    @Test
    void latencyTableTakesMediansOfTheQuietResNet50Rows() {
        // hand-worked: plan p50 30, 20, 25 -> median 25; ORT 20, 24 -> 22; ratio 25 / 22 = 1.14; loaded and other-model rows ignored;
        // p99 / p50 per round: plan 40/30 = 1.33, 30/20 = 1.50, 35/25 = 1.40 -> median 1.40; ORT 21/20 = 1.05, 29/24 = 1.21 -> 1.13
        String table = ReadmeNumbers.latencyTable(java.util.List.of(
                "round 1 quiet load1 1.0 LATENCY conta-plan-fp32 resnet50 224 p50 30.0 p90 31 p99 40.0 min 1 mean 1 n 50",
                "round 2 quiet load1 1.0 LATENCY conta-plan-fp32 resnet50 224 p50 20.0 p90 31 p99 30.0 min 1 mean 1 n 50",
                "round 3 quiet load1 1.0 LATENCY conta-plan-fp32 resnet50 224 p50 25.0 p90 31 p99 35.0 min 1 mean 1 n 50",
                "round 1 quiet load1 1.0 LATENCY ort resnet50 224 p50 20.0 p90 31 p99 21.0 min 1 mean 1 n 50",
                "round 2 quiet load1 1.0 LATENCY ort resnet50 224 p50 24.0 p90 31 p99 29.0 min 1 mean 1 n 50",
                "round 1 load load1 3.0 LATENCY ort resnet50 224 p50 90.0 p90 31 p99 99.0 min 1 mean 1 n 50",
                "round 1 quiet load1 1.0 LATENCY ort resnet50-os16 448 p50 99.0 p90 31 p99 99.0 min 1 mean 1 n 50"));
        assertTrue(table.contains("| conta inference plan, fp32 | 3 | 25.0 | 35.0 | 1.40 (1.33-1.50) | 1.14 |"), table);
        assertTrue(table.contains("| ONNX Runtime 1.23.2 (Java) | 2 | 22.0 | 25.0 | 1.13 (1.05-1.21) | 1.00 |"), table);
        assertTrue(!table.contains("PyTorch"), "engines without rows are left out: " + table);
    }

    @Test
    void contaBenchTablesFromAComparisonFile(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        assertEquals("No seed has finished yet.\n", ReadmeNumbers.contaBench(tmp));
        Files.writeString(tmp.resolve("comparison.json"), """
                {"methods": ["cam", "conta"], "seeds": 2,
                 "rows": [{"method": "cam", "round": 0, "cam_best": {"mean": 0.4867, "std": 0.0123}, "pseudo": {"mean": 0.44, "std": 0.01},
                           "seg": {"mean": 0.30, "std": "NaN"}}],
                 "paired_vs_cam": {"conta": [{"round": 0, "metric": "cam", "seeds": 2, "mean_diff": 0.0, "better": 0, "worse": 0, "sign_p": 1.0},
                                             {"round": 1, "metric": "cam", "seeds": 2, "mean_diff": 1.25, "sd": 1.0, "ci95": [-7.70, 10.20],
                                              "better": 2, "worse": 0, "sign_p": 0.5, "seeds_for_1pt": 10, "seeds_for_1pt_sd_upper80": 2147483647}],
                                   "c2am": [{"round": 0, "metric": "cam", "seeds": 2, "mean_diff": -0.5, "better": 0, "worse": 2, "sign_p": 0.5}]},
                 "context_leak": {"cam/round0": {"boat": {"with_context": 0.62, "without_context": 0.41}}},
                 "mechanism": {"conta": {"round1": {"w1_change": 0.25, "alpha_entropy": 0.9}}}}
                """);
        Path seed = tmp.resolve("conta").resolve("seed0");
        Files.createDirectories(seed);
        Files.writeString(seed.resolve("report.json"), "{\"rounds\": [{\"round\": 0, \"stages\": {}}, {\"round\": 1, \"stages\": {\"confounders\": {\"empty_classes\": [], \"mean_of_c\": [0.0000016, 0.08]}}}], \"classes\": [\"background\", \"rider\", \"horse\"]}");
        String t = ReadmeNumbers.contaBench(tmp);
        assertTrue(t.startsWith("Seeds finished: 2 (methods cam, conta;"), t);
        Files.writeString(tmp.resolve("comparison.json"), Files.readString(tmp.resolve("comparison.json"))
                .replace("\"seeds\": 2,", "\"seeds\": 2, \"seeds_per_method\": {\"cam\": 2, \"conta\": 1},"));
        assertTrue(ReadmeNumbers.contaBench(tmp).startsWith("Seeds finished: cam 2, conta 1 (methods cam, conta;"), ReadmeNumbers.contaBench(tmp));
        assertTrue(t.contains("| cam | 0 | 48.67 ± 1.23 | 44.00 ± 1.00 | 30.00 |"), t);
        assertTrue(t.contains("| conta | 1 | CAM (threshold cam.bg_threshold) | 2 | +1.25 | [-7.70, +10.20] | 2 / 0 | 0.500 | 10 / > 10^5 |"), t);
        assertTrue(!t.contains("| conta | 0 | CAM"), "round 0 is the baseline itself: " + t);
        assertTrue(t.contains("| c2am | 0 | CAM (threshold cam.bg_threshold) | 2 | -0.50 | - | 0 / 2 | 0.500 | - |"), "C²AM fine-tunes in round 0: " + t);
        assertTrue(t.contains("| cam | 0 | 62.0 (41.0) |"), t);
        assertTrue(t.contains("| conta | 1 | 0.250 | - | 0.900 | - | - | - |"), t);
        assertTrue(t.contains("all zero: seed0 round 1: none, near-empty rider (mean 1.6e-06)."), t);
    }

    /** One ablation file beside the same seed's baseline (round 0) and CONTA (round 1) from the study's reports. */
    @Test
    void contaAblationTableFromItsFiles(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        assertEquals("No ablation has run yet.\n", ReadmeNumbers.contaAblations(tmp));
        Files.createDirectories(tmp.resolve("ablations"));
        Files.writeString(tmp.resolve("ablations").resolve("zero-seed0.json"), """
                {"name": "zero", "method": "conta", "seed": 0, "round": 1, "settings": ["conta.concat=zero"], "what": "control",
                 "cam": {"miou": 0.4855, "fixed_threshold": 0.55, "best_miou": 0.49, "best_threshold": 0.6,
                         "context_leak": {"boat": {"with_context": 0.743, "without_context": 0.711}, "tram": {"with_context": 0.5}}}}
                """);
        String cam = "{\"miou\": 0.4823, \"fixed_threshold\": 0.55, \"best_miou\": 0.4868, \"best_threshold\": 0.6, \"context_leak\": {\"boat\": {\"with_context\": 0.7431}}}";
        for (String m : new String[]{"cam", "conta"}) {
            Files.createDirectories(tmp.resolve(m).resolve("seed0"));
            Files.writeString(tmp.resolve(m).resolve("seed0").resolve("report.json"), "{\"rounds\": [{\"stages\": {\"cam\": " + cam + "}}"
                    + (m.equals("conta") ? ", {\"stages\": {\"cam\": " + cam.replace("0.4823", "0.4855") + "}}" : "") + "]}");
        }
        String t = ReadmeNumbers.contaAblations(tmp);
        assertTrue(t.contains("| run | setting | seed | round | CAM @threshold | CAM best | boat | tram |"), t);
        assertTrue(t.contains("| baseline (IRNet) | - | 0 | 0 | 48.23 @0.55 | 48.68 @0.6 | 74.3 | - |"), t);
        assertTrue(t.contains("| CONTA as specified (M at block 5) | - | 0 | 1 | 48.55 @0.55 | 48.68 @0.6 | 74.3 | - |"), t);
        assertTrue(t.contains("| control | `conta.concat=zero` | 0 | 1 | 48.55 @0.55 | 49.00 @0.6 | 74.3 | 50.0 |"), t);
        // one seed: zero - baseline = 48.55 - 48.23, CONTA - zero = 48.55 - 48.55
        assertTrue(t.contains("| `conta.concat=zero` | 1 | +0.32 (1) | CONTA +0.00 (1) |"), t);
    }

    /**
     * Two seeds of a control, hand-worked: zero - baseline = +0.32 and +0.50, mean +0.41, SD 0.1273, t(0.975, 1) =
     * 12.706, half width 1.14; both positive, sign test p = 2 * (1/2)^2 = 0.50. CONTA - zero = 0.00 and -0.20.
     */
    @Test
    void ablationPairsCarryIntervalAndSignTest(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("ablations"));
        double[][] seeds = {{0.4823, 0.4855, 0.4855}, {0.4850, 0.4880, 0.4900}}; // baseline, CONTA, zero control
        for (int k = 0; k < 2; k++) {
            Files.writeString(tmp.resolve("ablations").resolve("zero-seed" + k + ".json"), "{\"name\": \"zero\", \"method\": \"conta\", \"seed\": " + k
                    + ", \"round\": 1, \"settings\": [\"conta.concat=zero\"], \"what\": \"control\", \"cam\": {\"miou\": " + seeds[k][2]
                    + ", \"fixed_threshold\": 0.55, \"best_miou\": 0.49, \"best_threshold\": 0.6}}");
            for (String m : new String[]{"cam", "conta"}) {
                Path d = Files.createDirectories(tmp.resolve(m).resolve("seed" + k));
                String r0 = "{\"stages\": {\"cam\": {\"miou\": " + seeds[k][0] + ", \"fixed_threshold\": 0.55, \"best_miou\": 0.49, \"best_threshold\": 0.6}}}";
                String r1 = r0.replace(String.valueOf(seeds[k][0]), String.valueOf(seeds[k][1]));
                Files.writeString(d.resolve("report.json"), "{\"rounds\": [" + r0 + (m.equals("conta") ? ", " + r1 : "") + "]}");
            }
        }
        String t = ReadmeNumbers.contaAblations(tmp);
        assertTrue(t.contains("| `conta.concat=zero` | 2 | +0.41 [-0.73, +1.55] (2; 2 / 0, sign p 0.50) | CONTA -0.10 [-1.37, +1.17] (2; 0 / 1, sign p 1.00) |"), t);
    }

    /** Hand-worked: two seeds; the fixed-threshold value is the sweep point at 0.55, means and sample SDs of two values. */
    @Test
    void irnSideBySideTableFromItsFiles(@org.junit.jupiter.api.io.TempDir Path d) throws Exception {
        Files.writeString(d.resolve("conta-seed0-cam.json"), "{\"miou\": 0.40, \"best_miou\": 0.42, \"best_threshold\": 0.6}");
        Files.writeString(d.resolve("conta-seed1-cam.json"), "{\"miou\": 0.44, \"best_miou\": 0.46, \"best_threshold\": 0.6}");
        Files.writeString(d.resolve("irn-seed0-cam.json"), "{\"sweep\": [{\"threshold\": 0.54, \"miou\": 0.30}, {\"threshold\": 0.55, \"miou\": 0.39},"
                + " {\"threshold\": 0.6, \"miou\": 0.41}]}");
        Files.writeString(d.resolve("irn-seed1-cam.json"), "{\"sweep\": [{\"threshold\": 0.5500000000000002, \"miou\": 0.43}, {\"threshold\": 0.7, \"miou\": 0.47}]}");
        String t = ReadmeNumbers.irnSideBySide(d);
        assertTrue(t.contains("| 0 | 40.00 | 42.00 @0.6 | 39.00 | 41.00 @0.60 |"), t);
        assertTrue(t.contains("| 1 | 44.00 | 46.00 @0.6 | 43.00 | 47.00 @0.70 |"), t);
        // means 42, 44, 41, 44; SDs |a - b| / sqrt 2 = 2.83, 2.83, 2.83, 4.24
        assertTrue(t.contains("| mean ± SD | 42.00 ± 2.83 (2) | 44.00 ± 2.83 (2) | 41.00 ± 2.83 (2) | 44.00 ± 4.24 (2) |"), t);
        assertTrue(!t.contains("make_cam on conta's"), "no agreement line without its files: " + t);
    }

    /** Hand-worked: two seeds of pseudo-mask mIoU, their differences, means and sample SDs; the agreement line. */
    @Test
    void irnWalkTableFromItsFiles(@org.junit.jupiter.api.io.TempDir Path d) throws Exception {
        Files.writeString(d.resolve("conta-seed1-pseudo.json"), "{\"miou\": 0.40}");
        Files.writeString(d.resolve("irn-seed1-pseudo.json"), "{\"miou\": 0.43}");
        Files.writeString(d.resolve("conta-seed2-pseudo.json"), "{\"miou\": 0.44}");
        Files.writeString(d.resolve("irn-seed2-pseudo.json"), "{\"miou\": 0.43}");
        Files.writeString(d.resolve("conta-seed3-pseudo.json"), "{\"miou\": 0.50}"); // no IRNet run: left out
        String t = ReadmeNumbers.irnWalk(d);
        assertTrue(t.contains("| 1 | 40.00 | 43.00 | +3.00 |"), t);
        assertTrue(t.contains("| 2 | 44.00 | 43.00 | -1.00 |"), t);
        assertTrue(!t.contains("| 3 |"), t);
        // means 42, 43, 1; SDs |a - b| / sqrt 2 = 2.83, 0, 2.83
        assertTrue(t.contains("| mean ± SD | 42.00 ± 2.83 (2) | 43.00 ± 0.00 (2) | 1.00 ± 2.83 (2) |"), t);
        assertTrue(!t.contains("boundary net and CAMs"), t);
        Files.writeString(d.resolve("walk-agree-seed1.json"), "{\"images\": 600, \"pixel_agreement\": 0.99875}");
        Files.writeString(d.resolve("irn-walk-conta-net-seed1-pseudo.json"), "{\"miou\": 0.4001}");
        t = ReadmeNumbers.irnWalk(d);
        assertTrue(t.contains("seed-1 boundary net and CAMs (600 images): 99.8750% of the pixels equal to conta's pseudo-masks; "
                + "scored by conta eval: 40.0100 mIoU (conta's own: 40.0000)."), t);
    }
}
