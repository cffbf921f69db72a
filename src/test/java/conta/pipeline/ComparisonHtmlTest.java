package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * comparison.html from hand-made reports: the mean ± std cells and the per-class change bars carry the values worked
 * out here (CAM mIoU 0.2 and 0.4 over two seeds: 30.00 ± 14.14; class 'a' CAM IoU 0.1, 0.3 vs 0.5, 0.5: +30 points).
 */
class ComparisonHtmlTest {
    static Map<String, Object> report(double camMiou, double[] camIou) {
        Map<String, Object> st = new LinkedHashMap<>();
        List<Object> iou = new ArrayList<>();
        for (double v : camIou) iou.add(v);
        st.put("cam", Map.of("miou", camMiou, "best_miou", camMiou, "iou", iou));
        st.put("pseudo", Map.of("miou", camMiou, "iou", iou));
        st.put("seg", Map.of("miou", camMiou, "iou", iou));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("classes", List.of("background", "a"));
        r.put("rounds", List.of(Map.of("round", 0, "stages", st)));
        return r;
    }

    /** comparison.html of the worked reports: cam's two seeds at 20 and 40, conta's at 30 and 30 (mIoU in %). */
    private static Path worked(Path tmp) throws Exception {
        Map<String, List<Map<String, Object>>> reports = new LinkedHashMap<>();
        reports.put("cam", List.of(report(0.2, new double[]{0.5, 0.1}), report(0.4, new double[]{0.5, 0.3})));
        reports.put("conta", List.of(report(0.3, new double[]{0.4, 0.5}), report(0.3, new double[]{0.4, 0.5})));
        Comparison.table(reports, List.of("cam", "conta"), 2, tmp.resolve("nodata"), tmp, new PrintStream(new ByteArrayOutputStream()));
        return tmp.resolve("comparison.html");
    }

    @Test
    void tableAndBarsCarryTheWorkedValues(@TempDir Path tmp) throws Exception {
        String html = Files.readString(worked(tmp));
        assertTrue(html.contains("<td>30.00 ± 14.14</td>"), "cam row: mean 30, sample std 14.14");
        assertTrue(html.contains("<td>30.00 ± 0.00</td>"), "conta row");
        assertEquals(2, ReportHtmlBrowserTest.count(html, "class='row'"));
        assertTrue(html.contains("id='delta-conta-cam'"), "CAM change bars");
        assertTrue(html.contains(">30</text>"), "class a: +30 points");
        assertTrue(html.contains(">-10</text>"), "background: 0.4 - 0.5 = -10 points");
    }

    /** At 400 px (a phone, a narrow window) the tables scroll in their own box and the charts shrink: the page is no wider. */
    @Test
    void theComparisonFitsA400PxWindow(@TempDir Path tmp) throws Exception {
        int[] w = ReportHtmlBrowserTest.widthAt(worked(tmp), 400);
        assertEquals(400, w[1], "the frame is 400 px wide");
        assertTrue(w[0] <= w[1], "page width at 400 px: " + w[0]);
    }

    /** One seed has no sample SD: the tables show the mean alone and the JSON null, not "± 0.00". */
    @SuppressWarnings("unchecked")
    @Test
    void oneSeedHasNoStandardDeviation(@TempDir Path tmp) throws Exception {
        Map<String, List<Map<String, Object>>> reports = new LinkedHashMap<>();
        reports.put("cam", List.of(report(0.2, new double[]{0.5, 0.1})));
        Comparison.table(reports, List.of("cam"), 1, tmp.resolve("nodata"), tmp, new PrintStream(new ByteArrayOutputStream()));
        String html = Files.readString(tmp.resolve("comparison.html")), md = Files.readString(tmp.resolve("comparison.md"));
        assertTrue(html.contains("<td>20.00</td>") && !html.contains("± 0.00"), html);
        assertTrue(md.contains("| cam | 0 | 20.00 | 20.00 |") && !md.contains("± 0.00"), md);
        Map<String, Object> json = conta.io.Json.parseObject(Files.readString(tmp.resolve("comparison.json")));
        Map<String, Object> cam = (Map<String, Object>) ((Map<String, Object>) ((List<?>) json.get("rows")).getFirst()).get("cam");
        assertEquals(null, cam.get("std"), "undefined for one value");
        assertEquals(List.of("mean", "std", "values"), List.copyOf(cam.keySet()), "written in one order (Map.of's changed between JVMs)");
    }
}
