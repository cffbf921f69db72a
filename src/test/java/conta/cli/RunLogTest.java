package conta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.pipeline.RunLog;
import conta.synth.SynthGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OUT/run.log holds the whole console of a run, as README's Outputs section says: also what is printed before the run
 * holds OUT's lock (the config's warnings) and after its stages (the score table, where the report is), and the
 * error that stopped a run. It missed all of these (found by a fresh-user walk-through).
 */
class RunLogTest {
    @TempDir static Path tmp;

    static Path data, conf;

    @BeforeAll
    static void tinySet() throws Exception {
        data = tmp.resolve("synth");
        conf = tmp.resolve("tiny.conf");
        SynthGenerator.generate(data, new SynthGenerator.Config(1, 8, 4, 64, 0.8));
        Files.writeString(conf, RefusedRunTest.TINY);
    }

    @Test
    void theLogHoldsTheWholeConsoleOfEachRun() throws Exception {
        Path out = tmp.resolve("run");
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
        assertTrue(after.stream().noneMatch(l -> l.startsWith("interrupted")), "the interrupt note is for Ctrl-C and kills only");
    }

    /** A progress bar left mid-line (a terminal's redrawn bar) reaches the file before the error that stopped the run, as on the console. */
    @Test
    void anUnfinishedProgressLineComesBeforeTheErrorLine() throws Exception {
        Path out = tmp.resolve("bar");
        try (RunLog log = RunLog.capture()) {
            log.startFile(out);
            System.err.print("\rbar 1/10");
            System.err.print("\rbar 2/10");
            log.fileOnly("stopped by an error: boom");
        }
        System.err.println();
        List<String> lines = Files.readAllLines(out.resolve(RunLog.FILE));
        assertEquals(List.of("bar 2/10", "stopped by an error: boom"), lines.subList(1, lines.size()));
    }

    /** A line still in progress when the file starts (a bar mid-redraw) follows the header and the lines held before it. */
    @Test
    void aLineInProgressAtTheStartOfTheFileKeepsItsPlace() throws Exception {
        Path out = tmp.resolve("held");
        try (RunLog log = RunLog.capture()) {
            System.err.print("held line\n\rbar 1/10");
            log.startFile(out);
        }
        System.err.println();
        List<String> lines = Files.readAllLines(out.resolve(RunLog.FILE));
        assertTrue(lines.getFirst().startsWith("== conta run started"), lines.toString());
        assertEquals(List.of("held line", "bar 1/10"), lines.subList(1, lines.size()));
    }

    /** A run killed with SIGTERM (what Ctrl-C does through the launcher) says, on the console and in run.log, how to go on. */
    @Test
    void aKilledRunSaysHowToGoOn() throws Exception {
        Path out = tmp.resolve("killed");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "conta.cli.Main", "pipeline", "--data",
                data.toString(), "--out", out.toString(), "--config", conf.toString(), "--set", "seg.iters=200000").redirectErrorStream(true).start();
        StringBuilder console = new StringBuilder();
        // a run that never shows the line would train 200000 steps: the test gives up after 5 minutes instead of hanging
        var watchdog = java.util.concurrent.CompletableFuture.delayedExecutor(300, java.util.concurrent.TimeUnit.SECONDS);
        var stop = java.util.concurrent.CompletableFuture.runAsync(() -> p.toHandle().destroyForcibly(), watchdog);
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                console.append(line).append('\n');
                if (line.startsWith("round 0 segmentation")) p.toHandle().destroy(); // SIGTERM, mid-stage (Process.destroy would also close this stream)
            }
        } finally {
            stop.cancel(false);
        }
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), console.toString());
        // killed at segmentation's first progress line: before its first checkpoint, which the note says
        assertTrue(console.toString().contains("\ninterrupted: the finished stages are kept; round0/seg has saved no checkpoint yet and starts over;"
                + " rerun the same command to resume"),
                console.toString());
        List<String> log = Files.readAllLines(out.resolve(RunLog.FILE));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("interrupted: ")), "run.log says it too");
        // OUT stayed locked while the JVM wound down, its lock marked: the resume takes it over without the stale-lock note (for kill -9)
        Path lock = out.resolve("run.lock");
        assertTrue(!Files.exists(lock) || Files.readString(lock).endsWith(" interrupted"), "the lock is marked: " + (Files.exists(lock) ? Files.readString(lock) : ""));
        ModelCommandErrorsTest.Result resumed = ModelCommandErrorsTest.run("pipeline", "--data", data.toString(), "--out", out.toString(), "--config", conf.toString(),
                "--until", "round0/cls");
        assertEquals(0, resumed.code(), resumed.err());
        assertFalse(resumed.err().contains("stale lock"), resumed.err());
        assertFalse(Files.exists(lock), "the resume released it");
        assertTrue(log.getFirst().endsWith(": conta pipeline --data " + data + " --out " + out + " --config " + conf + " --set seg.iters=200000"),
                "the header names the command: " + log.getFirst());
    }

    /** A resumed run says each finished stage once: C²AM's and the confounder set's "done" lines came twice. */
    @Test
    void aResumedRunNamesEachFinishedStageOnce() throws Exception {
        Path out = tmp.resolve("c2am");
        String[] run = {"pipeline", "--data", data.toString(), "--out", out.toString(), "--config", conf.toString(), "--method", "conta+c2am", "--rounds", "1"};
        assertEquals(0, ModelCommandErrorsTest.run(run).code());
        ModelCommandErrorsTest.Result again = ModelCommandErrorsTest.run(run);
        assertEquals(0, again.code(), again.err());
        for (String stage : List.of("round 0 c2am: done", "round 1 c2am: done", "round 1 confounders: done", "round 0 cls: done"))
            assertEquals(1, again.err().lines().filter(l -> l.startsWith(stage)).count(), stage + " once:\n" + again.err());
    }

    /** A sweep whose best threshold is one of its ends says so: the best may lie outside it (a two-point sweep always ends there). */
    @Test
    void aBestThresholdAtTheSweepsEndIsWarned() {
        Path out = tmp.resolve("sweep-end");
        ModelCommandErrorsTest.Result r = ModelCommandErrorsTest.run("pipeline", "--data", data.toString(), "--out", out.toString(), "--config",
                conf.toString(), "--set", "cam.sweep=0.05:0.06:0.01", "--until", "cam");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("is at an end of cam.sweep (0.05:0.06:0.01): the best may lie beyond it; widen cam.sweep"), r.err());
    }
}
