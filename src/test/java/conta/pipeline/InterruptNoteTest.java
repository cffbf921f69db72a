package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Ctrl-C's note says of the running stages: it said "the newest training checkpoint is kept" also when a stage
 * had written none, and a newcomer lost minutes of classifier steps believing it (fresh-user probe).
 */
class InterruptNoteTest {
    @TempDir Path tmp;

    @Test
    void eachRunningStageSaysWhatItsRerunStartsFrom() throws Exception {
        Path cls = Files.createDirectories(tmp.resolve("round0/cls")), seg = Files.createDirectories(tmp.resolve("round1/seg"));
        Path cam = Files.createDirectories(tmp.resolve("round1/cam"));
        Files.writeString(seg.resolve("checkpoint.safetensors"), "x");
        assertEquals("the finished stages are kept", Methods.interruptNote(List.of()));
        assertEquals("the finished stages are kept; round0/cls has saved no checkpoint yet and starts over; round1/seg goes on from its"
                + " newest checkpoint; round1/cam keeps what it has written", Methods.interruptNote(List.of(cls, seg, cam)));
    }
}
