package conta.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-worked loss sequences: when a run-away stops training, and where the rerun is sent. */
class LossWatchTest {
    /** Feeds losses as steps 1, 2, ...; true once it ran away. */
    private static boolean feed(LossWatch w, double... losses) {
        for (int i = 0; i < losses.length; i++) w.observe((float) losses[i], i + 1);
        return w.ranAway();
    }

    @Test
    void tenStepsAbove1e4TimesTheFirstStopOneStepFewerDoNot() {
        LossWatch w = new LossWatch();
        double[] l = {2, 1.5, 20001, 20001, 20001, 20001, 20001, 20001, 20001, 20001, 20001}; // 9 steps above 2e4
        assertFalse(feed(w, l));
        w.observe(30000, 12);
        assertTrue(w.ranAway());
        assertTrue(w.runaway("probe", -1).getMessage().contains("3.000e+04 at step 12"));
        LossWatch v = new LossWatch();
        assertFalse(feed(v, 2, 19999, 19999, 19999, 19999, 19999, 19999, 19999, 19999, 19999, 19999, 19999), "not above 1e4 x 2");
        LossWatch s = new LossWatch(); // a spike that falls back resets the count
        assertFalse(feed(s, 2, 3e4, 3e4, 3e4, 3e4, 3e4, 1, 3e4, 3e4, 3e4, 3e4, 3e4));
    }

    /** A blow-up on the last steps, too short to stop training, ends in a warning; a spike that falls back does not. */
    @Test
    void aRunawayTooShortToStopIsWarnedAtTheEnd() {
        LossWatch w = new LossWatch();
        assertFalse(feed(w, 7.94, 2.97e27));
        String m = w.endedRunAway("segmentation");
        assertTrue(m != null && m.contains("2.970e+27 (step 2)") && m.contains("its last 1 step;") && m.contains("*.lr"), m);
        LossWatch back = new LossWatch();
        feed(back, 2, 3e4, 3e4, 1.5);
        assertTrue(back.endedRunAway("x") == null, "ended healthy");
    }

    @Test
    void aNearZeroFirstLossIsFlooredSoHealthyValuesAreNotARunaway() {
        double[] l = new double[30];
        java.util.Arrays.fill(l, 0.5);
        l[0] = 1e-6; // 0.5 is 5e5 x the first step's, but only 50 x the floor 0.01
        assertFalse(feed(new LossWatch(), l));
    }

    @Test
    void theRerunResumesFromAHealthyCheckpointAndRedoesAfterABlownOne() {
        LossWatch w = new LossWatch();
        feed(w, 2, 1.8);
        w.atSave(1.8f);
        Diverged healthy = w.nan("probe", Float.NaN, 3, List.of("a"), 2);
        assertFalse(healthy.redoStage());
        assertTrue(healthy.getMessage().contains("the checkpoint of step 2 is kept"), healthy.getMessage());
        w.atSave(201f); // 100.5 x the first step's 2
        Diverged blown = w.nan("probe", Float.NaN, 5, List.of("a"), 4);
        assertTrue(blown.redoStage());
        assertTrue(blown.getMessage().contains("resuming from it cannot help"), blown.getMessage());
        Diverged none = new LossWatch().nan("probe", Float.NaN, 1, List.of("a"), -1);
        assertTrue(none.getMessage().contains("no checkpoint was written") && !none.redoStage(), none.getMessage());
    }

    @Test
    void aResumedWatchJudgesByTheStagesFirstStep() {
        LossWatch w = new LossWatch();
        feed(w, 2);
        Map<String, String> meta = w.atSave(500f);
        LossWatch r = LossWatch.resumed(meta);
        r.observe(600f, 5); // without the metadata this would become the reference
        assertTrue(r.nan("probe", Float.NaN, 6, List.of("a"), 4).redoStage());
        assertFalse(LossWatch.resumed(Map.of("loss_first_step", "x")).nan("probe", Float.NaN, 1, List.of(), 3).redoStage(), "unreadable metadata: no claim");
    }
}
