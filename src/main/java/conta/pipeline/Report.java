package conta.pipeline;

import conta.data.Item;
import conta.image.CamMaps;
import conta.image.IndexPng;
import conta.image.Mask;
import conta.image.Palette;
import conta.io.Json;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * report.json (stages.cam / stages.pseudo / stages.seg with miou and per-class IoU, every round, the config, timings)
 * and report.html (per-class tables, image | CAM | pseudo-mask | prediction | ground truth overlays). Timings live only
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
        List<Object> rs = new ArrayList<>();
        for (int t = 0; t < rounds.size(); t++) {
            Map<String, Object> st = new LinkedHashMap<>();
            for (var e : rounds.get(t).entrySet()) {
                Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) e.getValue());
                Object s = m.remove("seconds");
                if (s != null) timings.put("round" + t + "." + e.getKey(), s);
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
        r.put("config", p.cfg.asMap());
        r.put("skipped", p.bad.toJson());
        timings.put("this_run_total", Math.round(seconds * 100) / 100.0);
        r.put("timings", timings);
        return r;
    }

    public static void write(Pipeline p, Map<String, Object> report) throws IOException {
        Files.writeString(p.out.resolve("report.json"), Json.writePretty(report));
        Files.writeString(p.out.resolve("report.html"), html(p, report));
    }

    static Double miou(Map<String, Object> stages, String k) {
        Object s = stages.get(k);
        if (!(s instanceof Map<?, ?> m) || !(m.get("miou") instanceof Number n)) return null;
        return n.doubleValue();
    }

    @SuppressWarnings("unchecked")
    public static void printTable(Map<String, Object> report, PrintStream out) {
        out.printf("%-8s %10s %12s %12s %12s%n", "round", "CAM mIoU", "CAM best", "pseudo mIoU", "seg mIoU");
        for (Object o : (List<Object>) report.get("rounds")) {
            Map<String, Object> r = (Map<String, Object>) o;
            Map<String, Object> st = (Map<String, Object>) r.get("stages");
            Map<String, Object> cam = (Map<String, Object>) st.get("cam");
            Object best = cam == null ? null : cam.get("best_miou");
            out.printf("%-8s %10s %12s %12s %12s%n", r.get("round"), pct(miou(st, "cam")),
                    best instanceof Number n ? pct(n.doubleValue()) + "@" + cam.get("best_threshold") : "-", pct(miou(st, "pseudo")), pct(miou(st, "seg")));
        }
        out.println("(mIoU in %; CAM and pseudo-masks on " + report.get("train_split") + ", segmentation on " + report.get("val_split") + ")");
    }

    static String pct(Double v) { return v == null ? "-" : String.format("%.2f", 100 * v); }

    // ------------------------------------------------------------------ HTML
    @SuppressWarnings("unchecked")
    static String html(Pipeline p, Map<String, Object> report) {
        StringBuilder h = new StringBuilder("<!doctype html><html><head><meta charset='utf-8'><title>conta report</title><style>"
                + "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                + "th{background:#eee}td:first-child{text-align:left}img{image-rendering:pixelated;margin:2px}</style></head><body>");
        h.append("<h1>conta pipeline report</h1><p>method <b>").append(esc(String.valueOf(report.get("method")))).append("</b>, data ")
                .append(esc(String.valueOf(report.get("data")))).append(", ").append(report.get("train_images")).append(" training / ")
                .append(report.get("val_images")).append(" held-out images</p>");
        List<String> classes = (List<String>) report.get("classes");
        for (Object o : (List<Object>) report.get("rounds")) {
            Map<String, Object> r = (Map<String, Object>) o;
            Map<String, Object> st = (Map<String, Object>) r.get("stages");
            h.append("<h2>round ").append(r.get("round")).append("</h2><table><tr><th>class</th><th>CAM seeds</th><th>pseudo-mask</th><th>segmentation</th></tr>");
            List<Object> cam = iou(st, "cam"), ps = iou(st, "pseudo"), seg = iou(st, "seg");
            for (int c = 0; c < classes.size(); c++)
                h.append("<tr><td>").append(esc(classes.get(c))).append("</td><td>").append(cell(cam, c)).append("</td><td>")
                        .append(cell(ps, c)).append("</td><td>").append(cell(seg, c)).append("</td></tr>");
            h.append("<tr><th>mIoU</th><th>").append(pct(miou(st, "cam"))).append("</th><th>").append(pct(miou(st, "pseudo")))
                    .append("</th><th>").append(pct(miou(st, "seg"))).append("</th></tr></table>");
        }
        int last = ((List<Object>) report.get("rounds")).size() - 1;
        overlays(p, last, h);
        skippedSection(report, h);
        h.append("<h2>config</h2><pre>").append(esc(Json.writePretty(report.get("config")))).append("</pre>");
        h.append("<h2>timings (s)</h2><pre>").append(esc(Json.writePretty(report.get("timings")))).append("</pre></body></html>");
        return h.toString();
    }

    /** The items --skip-bad left out (id, file, reason), when there are any. */
    @SuppressWarnings("unchecked")
    static void skippedSection(Map<String, Object> report, StringBuilder h) {
        List<Object> sk = (List<Object>) report.getOrDefault("skipped", List.of());
        if (sk.isEmpty()) return;
        h.append("<h2 id='skipped'>skipped items (").append(sk.size()).append(")</h2><table><tr><th>id</th><th>file</th><th>reason</th></tr>");
        for (Object o : sk) {
            Map<String, Object> m = (Map<String, Object>) o;
            h.append("<tr><td>").append(esc(String.valueOf(m.get("id")))).append("</td><td>").append(esc(String.valueOf(m.get("file"))))
                    .append("</td><td>").append(esc(String.valueOf(m.get("reason")))).append("</td></tr>");
        }
        h.append("</table>");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> iou(Map<String, Object> st, String k) {
        Object s = st.get(k);
        return s instanceof Map<?, ?> m && m.get("iou") instanceof List<?> l ? (List<Object>) l : null;
    }

    private static String cell(List<Object> l, int c) {
        return l == null || c >= l.size() || !(l.get(c) instanceof Number n) ? "-" : String.format("%.1f", 100 * n.doubleValue());
    }

    /** image | CAM | pseudo-mask | prediction | ground truth for the first training images with ground truth. */
    private static void overlays(Pipeline p, int round, StringBuilder h) {
        int n = p.cfg.integer("report.overlays");
        List<String> ids = p.bad.live(p.trainIds).stream().filter(p.ds::hasMask).limit(n).toList();
        if (ids.isEmpty()) return;
        Path rd = p.roundDir(round), predDir = rd.resolve("report_pred");
        p.predict(rd.resolve("seg").resolve("model.safetensors"), ids, predDir, "report overlays");
        h.append("<h2>training images (round ").append(round).append(")</h2><table><tr><th>image</th><th>CAM</th><th>pseudo-mask</th><th>prediction</th><th>ground truth</th></tr>");
        for (String id : ids) {
            try {
                Item it = p.ds.read(id);
                CamMaps cam = CamMaps.load(rd.resolve("cam").resolve(id + ".npz"));
                h.append("<tr><td>").append(img(base(it))).append("<br>").append(esc(id)).append("</td><td>").append(img(camView(it, cam)))
                        .append("</td><td>").append(img(maskView(it, IndexPng.read(rd.resolve("pseudo").resolve(id + ".png")))))
                        .append("</td><td>").append(img(maskView(it, IndexPng.read(predDir.resolve(id + ".png")))))
                        .append("</td><td>").append(img(maskView(it, p.ds.mask(id)))).append("</td></tr>");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        h.append("</table>");
    }

    private static BufferedImage base(Item it) {
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
        for (int y = 0; y < cam.h(); y++)
            for (int x = 0; x < cam.w(); x++) {
                float best = 0;
                int k = 0;
                for (int i = 0; i < cam.keys().length; i++) {
                    float v = cam.highRes()[i * hw + y * cam.w() + x];
                    if (v > best) { best = v; k = cam.keys()[i]; }
                }
                b.setRGB(x, y, blend(b.getRGB(x, y), Palette.vocRgb(k), best));
            }
        return b;
    }

    private static BufferedImage maskView(Item it, Mask m) {
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

    private static String img(BufferedImage b) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ImageIO.write(b, "png", bos);
        int w = b.getWidth() < 160 ? b.getWidth() * 2 : Math.min(b.getWidth(), 320);
        return "<img width='" + w + "' src='data:image/png;base64," + Base64.getEncoder().encodeToString(bos.toByteArray()) + "'>";
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
