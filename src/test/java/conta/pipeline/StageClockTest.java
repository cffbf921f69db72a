package conta.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stage's seconds over the runs that worked on it, on a hand-driven clock, and the ticker's record for a kill -9. */
class StageClockTest {
    @TempDir Path dir;

    static final long S = 1_000_000_000L;

    @Test
    void interruptedRunsAddUpAndTheFinishingRunRemovesTheRecord() throws Exception {
        AtomicLong now = new AtomicLong(100 * S);
        try (StageClock first = StageClock.start(dir, false, now::get, 0)) {
            assertEquals(0, first.earlier); // nothing recorded: a fresh stage
            assertFalse(first.unknownBefore);
            now.addAndGet(1_500_000_000L);
            throw new IllegalStateException("interrupted");
        } catch (IllegalStateException expected) {
            // the body's exception: close() kept the part so far
        }
        assertTrue(Files.readString(dir.resolve(StageClock.FILE)).contains("1.5"));
        now.addAndGet(60 * S); // time between the runs does not count
        try (StageClock second = StageClock.start(dir, false, now::get, 0)) {
            assertEquals(1.5, second.earlier);
            now.addAndGet(2 * S + 250_000_000L);
            assertEquals(3.75, second.total()); // 1.5 s + 2.25 s
        }
        try (StageClock third = StageClock.start(dir, false, now::get, 0)) {
            assertEquals(3.75, third.earlier);
            now.addAndGet(S);
            assertEquals(4.75, third.total());
            third.finished();
        }
        assertFalse(Files.exists(dir.resolve(StageClock.FILE)), "finished: the sum is in done.json, the record goes");
        try (StageClock again = StageClock.start(dir, false, now::get, 0)) {
            assertEquals(0, again.earlier);
            again.finished();
        }
    }

    @Test
    void aDamagedRecordCountsAsNone() throws Exception {
        Files.writeString(dir.resolve(StageClock.FILE), "{\"seconds\": ");
        try (StageClock c = StageClock.start(dir, true, () -> 0L, 0)) {
            assertEquals(0, c.earlier);
            assertTrue(c.unknownBefore);
            c.finished();
        }
    }

    /** kill -9 runs no close(): the record written at the start, then the ticker's, is what the next run finds. */
    @Test
    void theTickerKeepsARecordWithoutClose() throws Exception {
        StageClock c = StageClock.start(dir, false, System::nanoTime, 50);
        assertTrue(Files.exists(dir.resolve(StageClock.FILE)), "written at the start");
        double recorded = 0;
        for (int i = 0; i < 200 && recorded <= 0; i++) { // until a tick has written a time (at most ~10 s on a loaded machine)
            Thread.sleep(50);
            recorded = ((Number) conta.io.Json.readObject(dir.resolve(StageClock.FILE), "").get("seconds")).doubleValue();
        }
        assertTrue(recorded > 0 && recorded <= c.total(), recorded + " of " + c.total());
        c.finished();
        assertFalse(Files.exists(dir.resolve(StageClock.FILE)));
        Thread.sleep(150); // no tick after finished() writes it again
        assertFalse(Files.exists(dir.resolve(StageClock.FILE)));
    }

    /** A folder begun without a record stays marked through later interruptions (the older run's part is still missing). */
    @Test
    void anUnknownEarlierPartIsCarriedThroughInterruptions() {
        AtomicLong now = new AtomicLong();
        try (StageClock c = StageClock.start(dir, true, now::get, 0)) {
            assertTrue(c.unknownBefore);
            now.addAndGet(S);
        }
        try (StageClock c = StageClock.start(dir, true, now::get, 0)) {
            assertEquals(1.0, c.earlier);
            assertTrue(c.unknownBefore, "the record carries it");
            c.finished();
        }
    }

    /** The shutdown hook's save (Ctrl-C, kill): a running clock's time lands in its record. */
    @Test
    void theShutdownHookSavesRunningClocks() throws Exception {
        AtomicLong now = new AtomicLong();
        StageClock c = StageClock.start(dir, false, now::get, 0);
        now.addAndGet(3 * S);
        StageClock.saveRunning();
        assertEquals(3.0, ((Number) conta.io.Json.readObject(dir.resolve(StageClock.FILE), "").get("seconds")).doubleValue());
        c.finished();
    }

    /**
     * Through Pipeline.stage: a run interrupted 0.3 s into a stage and the run that finishes it 0.1 s later give
     * done.json at least their sum (the finishing run's part alone, as before, would be ~0.1 s); a stage folder with an
     * earlier run's files but no record (an older conta's) is marked as the finishing run's part only.
     */
    @Test
    void pipelineStagesAddTheirInterruptedRuns() throws Exception {
        Path data = dir.resolve("synth"), out = dir.resolve("out");
        conta.synth.SynthGenerator.generate(data, new conta.synth.SynthGenerator.Config(5, 12, 4, 64, 0.8));
        try (var b = new conta.tensor.cpu.CpuBackend(); Pipeline p = new Pipeline(RunGuardsTest.cfg(), data, out, b)) {
            p.stage(0, "cls", () -> {
                sleep(300);
                throw new IllegalStateException("interrupted");
            });
        } catch (IllegalStateException expected) {
            // the first run stops inside the stage
        }
        try (var b = new conta.tensor.cpu.CpuBackend(); Pipeline p = new Pipeline(RunGuardsTest.cfg(), data, out, b)) {
            var m = p.stage(0, "cls", () -> {
                sleep(100);
                return java.util.Map.of("steps", 1);
            });
            double s = ((Number) m.get("seconds")).doubleValue();
            assertTrue(s >= 0.4 && s < 5, s + " s");
            assertFalse(m.containsKey("seconds_resumed"), m.toString());
        }
        assertFalse(Files.exists(out.resolve("round0/cls").resolve(StageClock.FILE)));
        Path older = dir.resolve("older");
        try (var b = new conta.tensor.cpu.CpuBackend(); Pipeline p = new Pipeline(RunGuardsTest.cfg(), data, older, b)) {
            // an earlier run's part without a record, as an older conta leaves it
        }
        Files.createDirectories(older.resolve("round0/cam"));
        Files.writeString(older.resolve("round0/cam/an-earlier-run.npz"), "x");
        try (var b = new conta.tensor.cpu.CpuBackend(); Pipeline p = new Pipeline(RunGuardsTest.cfg(), data, older, b)) {
            p.stage(0, "cam", () -> { // interrupted once more under this conta: the older part is still missing
                throw new IllegalStateException("interrupted");
            });
        } catch (IllegalStateException expected) {
            // as above
        }
        try (var b = new conta.tensor.cpu.CpuBackend(); Pipeline p = new Pipeline(RunGuardsTest.cfg(), data, older, b)) {
            var m = p.stage(0, "cam", () -> java.util.Map.of("images", 1));
            assertEquals(true, m.get("seconds_resumed"));
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
