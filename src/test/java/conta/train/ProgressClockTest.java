package conta.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A file log hears from a slow stage at least once a minute: with a line every 10% only, a full-size recipe's 125
 * classifier steps of ~20 s each printed "0/125" and then nothing for 4 minutes (fresh-user probe: it looked hung).
 */
class ProgressClockTest {
    /** The lines a progress bar printed to a file log while body ran, with the clock at now[0] (ns) and body moving it. */
    private static List<String> printed(long[] now, Runnable body) {
        var old = Progress.clock;
        PrintStream err = System.err;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress.clock = () -> now[0];
        System.setErr(new PrintStream(b, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            Progress.clock = old;
            System.setErr(err);
        }
        return b.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void aSlowStageSpeaksOnceAMinute() {
        long[] now = {0};
        List<String> lines = printed(now, () -> {
            Progress p = new Progress("round 0 classifier", 125, 0, "step");
            for (int i = 0; i < 12; i++) { // 12 steps of 20 s: under 10%, 240 s
                now[0] += 20_000_000_000L;
                p.step("loss 0.5");
            }
        });
        // hand-worked: the start (0), the first step (1, at 20 s), then at 80 s (step 4), 140 s (7), 200 s (10): 60 s apart
        assertEquals(List.of("0/125", "1/125", "4/125", "7/125", "10/125"),
                lines.stream().map(l -> l.replaceAll(".*\\] (\\d+/125) .*", "$1")).toList(), String.join("\n", lines));
    }

    /**
     * A resumed stage meets the files an earlier run wrote: they fill the bar but not the rate. Counted as steps, 4
     * instant items and 2 of a second each showed 3.0 img/s and an ETA of 1 s for the 4 left (hand-worked below:
     * 2 fresh items in 2 s is 1.0 img/s, 4 left is 4 s).
     */
    @Test
    void itemsDoneByAnEarlierRunDoNotCountInTheRate() {
        long[] now = {0};
        List<String> lines = printed(now, () -> {
            Progress p = new Progress("round 0 CAMs", 10, 0);
            for (int i = 0; i < 4; i++) p.skipped("done" + i);
            for (int i = 0; i < 2; i++) {
                now[0] += 1_000_000_000L;
                p.step("new" + i);
            }
        });
        assertEquals("round 0 CAMs       [####....] 6/10 2s<4s 1.0 img/s new1", lines.getLast(), String.join("\n", lines));
    }
}
