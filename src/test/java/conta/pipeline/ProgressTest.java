package conta.pipeline;

import conta.train.Progress;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** In a file log (no terminal): a line at start and every 10%, each state once, within 79 columns, rate with its unit. */
class ProgressTest {
    static List<String> lines(String label, int total, String unit, String extra) {
        PrintStream e = System.err;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        System.setErr(new PrintStream(b, true, StandardCharsets.UTF_8));
        try {
            Progress p = new Progress(label, total, 0, unit);
            for (int i = 0; i < total; i++) p.step(extra);
            p.finish();
        } finally {
            System.setErr(e);
        }
        return b.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void fileLogLinesAreShortUniqueAndSayTheirUnit() {
        List<String> l = lines("round 0 C2AM fine-tune with a long label", 1000, "step", "loss 0.6931 ep 12 and a long note that would wrap");
        assertEquals(12, l.size(), "start, the first step, each 10% once (the finish repeats nothing): " + l);
        assertTrue(l.get(1).contains(" 1/1000 "), "the first step's line gives the first rate: " + l.get(1));
        Set<String> counts = new HashSet<>();
        for (String s : l) {
            assertTrue(s.length() <= 79, "fits 80 columns: " + s.length() + " " + s);
            assertFalse(s.contains("\r"));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(" (\\d+)/1000 ").matcher(s);
            assertTrue(m.find(), s);
            assertTrue(counts.add(m.group(1)), "state " + m.group(1) + "/1000 printed once");
        }
        assertTrue(l.getLast().contains("1000/1000"), l.getLast());
        assertTrue(l.getLast().contains(" step/s"), "rate with its unit: " + l.getLast());
        assertTrue(lines("CAMs", 7, "img", "syn_0001").getLast().contains(" img/s"));
        // a round's stage keeps its whole name (it was cut to "round 1 boundary b"); short names still line up at 18
        assertTrue(lines("round 1 boundary branch", 10, "step", "").getLast().startsWith("round 1 boundary branch [########] 10/10 "));
        assertTrue(lines("CAMs", 7, "img", "").getLast().startsWith("CAMs               [########] 7/7 "));
    }
}
