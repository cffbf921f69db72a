package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.io.HostArray;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Heat-map captions give each map's own maximum, also when the colours share one scale (CONTA's confounder set): an
 * all-zero c_i read "max 1.00" like the others (found by a researcher-flow probe).
 */
class ReportHeatmapCaptionTest {
    @Test
    void aSharedScaleStillCaptionsEachMapsOwnMaximum() throws Exception {
        HostArray a = new HostArray(new int[]{3, 1, 2}, new float[]{0.5f, 1f, 0f, 0f, 0.25f, 0.125f});
        String shared = ReportHtml.heatmaps(a, List.of("horse", "boat", "car"), 16, true);
        assertTrue(shared.contains("horse (max 1.00)") && shared.contains("boat (max 0.00)") && shared.contains("car (max 0.250)"), shared);
        String own = ReportHtml.heatmaps(a, List.of("horse", "boat", "car"), 16, false);
        assertTrue(own.contains("boat (max 0.00)") && own.contains("car (max 0.250)"), own);
    }
}
