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

    /** Every block's text by name. */
    static Map<String, String> blocks() throws Exception {
        Map<String, Object> demo = Json.parseObject(Files.readString(DEMO));
        return Map.of("demo-table", demoTable(demo), "demo-leak", leakTable(demo), "demo-summary", demoSummary(demo));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> stage(Map<String, Object> report, String s) {
        return (Map<String, Object>) ((Map<String, Object>) report.get("stages")).get(s);
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
            b.append("| ").append(e.getKey()).append(" | ").append(pct(m.get("with_context"))).append(" (").append(m.get("images_with"))
                    .append(") | ").append(pct(m.get("without_context"))).append(" (").append(m.get("images_without")).append(") |\n");
        }
        return b.toString();
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
