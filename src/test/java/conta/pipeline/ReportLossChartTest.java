package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The report's loss charts take a log axis when the losses span a decade (a segmentation run's 8.4 -> 0.5 left the
 * rest of the run a flat line under a linear axis sized by its first steps), and stay linear otherwise.
 */
class ReportLossChartTest {
    /** A train_log of n steps whose loss goes from first to last geometrically. */
    private static List<Map<String, Object>> log(int n, double first, double last) {
        List<Map<String, Object>> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(Map.of("step", i + 1, "loss", first * Math.pow(last / first, i / (n - 1.0))));
        return l;
    }

    @Test
    void aLossSpanningADecadeIsDrawnOnALogAxis() {
        String seg = ReportHtml.lossChart("loss-r0-seg", "round 0 segmentation: loss", log(300, 8.36, 0.5));
        assertTrue(seg.contains("loss (log)"), "the y axis says it is logarithmic");
        String cls = ReportHtml.lossChart("loss-r0-cls", "round 0 classifier: loss", log(200, 0.69, 0.3));
        assertFalse(cls.contains("(log)"), "less than a decade: linear");
    }

    @Test
    void zeroOrNegativeLossesKeepALinearAxis() {
        assertTrue(ReportHtml.spansADecade(new double[]{8, Double.NaN, 0.5}));
        assertFalse(ReportHtml.spansADecade(new double[]{8, 0, 0.5}), "a zero has no logarithm");
        assertFalse(ReportHtml.spansADecade(new double[]{8, -1, 0.5}));
        assertFalse(ReportHtml.spansADecade(new double[]{9, 0.91}), "just under a decade");
    }
}
