package conta.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged train_log.jsonl (bytes that are not UTF-8, a half line) loses its unreadable lines, not the resumed run. */
class TrainLogDamageTest {
    @Test
    void bytesThatAreNotUtf8AreDroppedWithTheirLine(@TempDir Path dir) throws Exception {
        byte[] good = "{\"step\": 1, \"loss\": 0.5, \"wall_s\": 1.0}\n{\"step\": 2, \"loss\": 0.4, \"wall_s\": 2.0}\n".getBytes(StandardCharsets.UTF_8);
        byte[] bad = {(byte) 0xff, (byte) 0xfe, 0x7b, 0x0a, 0x7b, 0x22, 0x73}; // not UTF-8, then a cut-off line
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        Files.write(dir.resolve("train_log.jsonl"), all);
        try (TrainLog log = TrainLog.open(dir, 1)) { // resumed after step 1: step 2's line goes too
            assertEquals(List.of("{\"step\": 1, \"loss\": 0.5, \"wall_s\": 1.0}"), Files.readAllLines(dir.resolve("train_log.jsonl")));
        }
    }
}
