package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which finished stage wrote the file an error message names, read off OUT's layout by hand. */
class DamagedOutputsTest {
    static final Path OUT = Path.of("runs/a");
    static final Set<String> DONE = Set.of("round0/cam", "round0/ir", "round0/pseudo", "round1/confounders", "round1/cls");

    static StageRange.Point of(String message) { return DamagedOutputs.stageOf(message, OUT, p -> DONE.contains(p.toString())); }

    @Test
    void foldersMapToTheStagesThatWriteThem() {
        assertEquals(new StageRange.Point(0, "cam"), of("runs/a/round0/cam/x.npz: not a valid .npz (zip) file"));
        assertEquals(new StageRange.Point(0, "cam"), of("mask runs/a/round0/seeds/x.png: not a PNG file"), "seeds are the cam stage's");
        assertEquals(new StageRange.Point(1, "confounders"), of("runs/a/round1/confounders.npy: truncated data"));
        assertEquals(new StageRange.Point(1, "confounders"), of("cannot read label map runs/a/round0/pred_train/x.png: ..."),
                "round 0's training predictions are written by round 1's confounder stage");
        assertEquals(new StageRange.Point(0, "report"), of("mask runs/a/round0/report_pred/x.png: not a PNG file"));
        assertEquals(new StageRange.Point(0, "pseudo"), of("mask " + OUT.toAbsolutePath() + "/round0/pseudo/x.png: truncated PNG"), "absolute spelling");
    }

    @Test
    void notDoneOtherFoldersAndOtherRunsAreNotClaimed() {
        assertNull(of("runs/a/round0/seg/model.safetensors is damaged"), "seg is not done: it is being written");
        assertNull(of("runs/a/round0/irn/x"), "not done");
        assertNull(of("runs/a/round0/other/x.png: ..."), "no stage writes other/");
        assertNull(of("data/myruns/a/round0/cam/x.npz: bad"), "OUT=runs/a is only the tail of this path");
        assertNull(of("runs/a2/round0/cam/x.npz: bad"), "another run");
        assertNull(of("runs/a/cam/x.npz"), "not under a round");
    }
}
