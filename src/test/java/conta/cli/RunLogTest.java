package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.pipeline.RunLog;
import conta.synth.SynthGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OUT/run.log holds the whole console of a run, as README's Outputs section says: also what is printed before the run
 * holds OUT's lock (the config's warnings) and after its stages (the score table, where the report is), and the
 * error that stopped a run. It missed all of these (found by a fresh-user walk-through).
 */
class RunLogTest {
    @TempDir static Path tmp;

    @Test
    void theLogHoldsTheWholeConsoleOfEachRun() throws Exception {
        Path data = tmp.resolve("synth"), conf = tmp.resolve("tiny.conf"), out = tmp.resolve("run");
        SynthGenerator.generate(data, new SynthGenerator.Config(1, 8, 4, 64, 0.8));
        Files.writeString(conf, RefusedRunTest.TINY);
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("pipeline", "--data", data.toString(), "--out", out.toString(), "--config", conf.toString());
        assertEquals(0, r.code(), r.err());
        List<String> log = Files.readAllLines(out.resolve(RunLog.FILE));
        assertTrue(log.getFirst().startsWith("== conta run started"), log.getFirst());
        List<String> printed = r.out().lines().filter(l -> !l.isBlank()).toList();
        assertTrue(printed.stream().anyMatch(l -> l.startsWith("report: ")) && printed.size() >= 4, r.out());
        for (String line : printed) assertTrue(log.contains(line.stripTrailing()), "stdout line in run.log: " + line);
        String warning = r.err().lines().filter(l -> l.startsWith("warning: cls.weights=none")).findFirst().orElseThrow();
        assertTrue(log.contains(warning), "a warning printed before OUT was locked is in run.log: " + warning);

        // a run stopped by an error: the error is the log's last line (the console gets it from the command)
        try (var s = Files.list(out.resolve("round0/cam"))) {
            Path npz = s.filter(f -> f.toString().endsWith(".npz")).sorted().findFirst().orElseThrow();
            Files.write(npz, new byte[]{1, 2, 3});
        }
        Files.delete(out.resolve("report.json"));
        ModelCommandErrorsTest.Result bad = ModelCommandErrorsTest.run("pipeline", "--data", data.toString(), "--out", out.toString(), "--config", conf.toString());
        assertEquals(2, bad.code(), bad.err());
        List<String> after = Files.readAllLines(out.resolve(RunLog.FILE));
        assertEquals(2, after.stream().filter(l -> l.startsWith("== conta run started")).count());
        assertTrue(after.getLast().startsWith("stopped by an error: ") && after.getLast().contains("--from round0/cam"), after.getLast());
        assertFalse(after.subList(log.size(), after.size()).contains("interrupted"), "the interrupt note is for Ctrl-C only");
    }
}
