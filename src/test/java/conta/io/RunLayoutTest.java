package conta.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run folder's layout, on hand-written names and a hand-made folder. */
class RunLayoutTest {
    @TempDir Path run;

    @Test
    void roundNamesAndOnlyThoseHaveANumber() {
        assertEquals(0, RunLayout.roundOf("round0"));
        assertEquals(10, RunLayout.roundOf("round10"));
        assertEquals(123456, RunLayout.roundOf("round123456"));
        for (String other : new String[]{"round", "round-1", "round1a", "Round1", "xround1", "round1234567", "round99999999999", "round01", "round00", "seg"})
            assertEquals(-1, RunLayout.roundOf(other), other);
        assertEquals("round3/cam", RunLayout.at(3, "cam"));
        assertEquals(Path.of("r/round2/seg"), RunLayout.stageDir(Path.of("r"), 2, "seg"));
    }

    @Test
    void aFileDirectlyInAStageFolderNamesItsRunRoundAndStage() {
        RunLayout.StageFile f = RunLayout.stageOf(run.resolve("round12/seg/model.safetensors"));
        assertEquals(new RunLayout.StageFile(run.toAbsolutePath().normalize(), 12, "seg"), f);
        assertEquals("round12/seg", f.at());
        RunLayout.StageFile rel = RunLayout.stageOf(Path.of("runs/a/./round0/cls/../cls/checkpoint.safetensors"));
        assertEquals(Path.of("runs/a").toAbsolutePath().normalize(), rel.run());
        assertEquals("round0/cls", rel.at());
        assertNull(RunLayout.stageOf(run.resolve("round0/seg/sub/model.safetensors")), "one level too deep");
        assertNull(RunLayout.stageOf(run.resolve("roundx/seg/model.safetensors")));
        assertNull(RunLayout.stageOf(Path.of("/round0/seg")), "a round folder needs a run above it");
        assertNull(RunLayout.stageOf(Path.of("model.safetensors")));
    }

    @Test
    void roundFoldersInNumericOrderWithoutFilesOrOtherNames() throws Exception {
        for (String d : new String[]{"round10", "round9", "round0", "round99999999999", "roundx", "seg"}) Files.createDirectories(run.resolve(d));
        Files.writeString(run.resolve("round3"), "a file, not a round");
        assertEquals(List.of(run.resolve("round0"), run.resolve("round9"), run.resolve("round10")), RunLayout.roundDirs(run));
        assertEquals(List.of(), RunLayout.roundDirs(run.resolve("missing")));
    }
}
