package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What --from removes, on a hand-made run folder. */
class StageRangeClearTest {
    @TempDir Path out;

    private void touch(String rel) throws Exception {
        Path f = out.resolve(rel);
        Files.createDirectories(f.getParent());
        Files.writeString(f, "x");
    }

    /** round1/confounders is built from round0/pred_train, which that stage writes: --from it removes both. */
    @Test
    void fromConfoundersRemovesThePreviousRoundsTrainingPredictions() throws Exception {
        for (String f : new String[]{"round0/pred/a.png", "round0/pred_train/a.png", "round0/seg/done.json", "round1/confounders/done.json",
                "round1/confounders.npy", "round1/cls/done.json", "round2/cls/done.json", "report.json"})
            touch(f);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        StageRange.clear(out, new StageRange.Point(1, "confounders"), new PrintStream(log));
        for (String gone : new String[]{"round0/pred_train", "round1/confounders", "round1/confounders.npy", "round1/cls", "round2", "report.json"})
            assertFalse(Files.exists(out.resolve(gone)), gone + " removed; log: " + log);
        for (String kept : new String[]{"round0/pred/a.png", "round0/seg/done.json"})
            assertTrue(Files.exists(out.resolve(kept)), kept + " kept");
        assertTrue(log.toString().contains("round0/pred_train"), log.toString());
    }

    /** --from round1/cls keeps the confounder set and the predictions it came from. */
    @Test
    void fromALaterStageKeepsThem() throws Exception {
        for (String f : new String[]{"round0/pred_train/a.png", "round1/confounders.npy", "round1/cls/done.json"}) touch(f);
        StageRange.clear(out, new StageRange.Point(1, "cls"), new PrintStream(new ByteArrayOutputStream()));
        assertTrue(Files.exists(out.resolve("round0/pred_train/a.png")) && Files.exists(out.resolve("round1/confounders.npy")));
        assertFalse(Files.exists(out.resolve("round1/cls")));
    }

    /** A folder whose name only looks like a round (too many digits for one) is left alone; it used to stop --from with an internal error. */
    @Test
    void aFolderThatOnlyLooksLikeARoundIsKept() throws Exception {
        for (String f : new String[]{"round0/cls/done.json", "round1/cls/done.json", "round99999999999/notes.txt"}) touch(f);
        StageRange.clear(out, new StageRange.Point(0, "cls"), new PrintStream(new ByteArrayOutputStream()));
        assertFalse(Files.exists(out.resolve("round1")) || Files.exists(out.resolve("round0/cls")));
        assertTrue(Files.exists(out.resolve("round99999999999/notes.txt")));
    }
}
