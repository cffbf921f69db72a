package conta.pipeline;

import conta.io.AtomicWrite;
import conta.io.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A stage's running time across the runs that worked on it. An interrupted stage keeps its part so far in
 * STAGE/{@value #FILE}, rewritten every {@value #TICK_S} s and when the stage's body ends (an exception, Ctrl-C's
 * unwinding); a kill -9 loses at most the last tick's part. The run that finishes the stage adds its own part, writes
 * the sum into done.json and removes the file. A stage folder left by a jar without it has no file: its earlier part
 * is unknown (the report says so).
 */
final class StageClock implements AutoCloseable {
    static final String FILE = ".stage_seconds.json";
    static final int TICK_S = 5;

    private final Path file;
    private final LongSupplier nanos;
    private final long t0;
    /** Earlier runs' seconds, or -1 when there were none recorded. */
    final double earlier;
    private final ScheduledExecutorService ticker;
    private boolean ended;

    private StageClock(Path stageDir, LongSupplier nanos, long tickMillis) {
        this.file = stageDir.resolve(FILE);
        this.nanos = nanos;
        this.earlier = read(file);
        this.t0 = nanos.getAsLong();
        if (tickMillis > 0) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "conta-stage-clock");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(this::save, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
        } else {
            ticker = null;
        }
    }

    /** Starts the clock of the stage in stageDir (which exists), reading the part earlier runs recorded. */
    static StageClock start(Path stageDir) { return new StageClock(stageDir, System::nanoTime, TICK_S * 1000L); }

    /** The same on a given clock, ticking every tickMillis (0: never; tests). */
    static StageClock start(Path stageDir, LongSupplier nanos, long tickMillis) { return new StageClock(stageDir, nanos, tickMillis); }

    /** Seconds of every recorded run, this one's so far included, to 0.01 s. */
    double total() { return Math.round((Math.max(0, earlier) + (nanos.getAsLong() - t0) / 1e9) * 100) / 100.0; }

    /** Writes the total so far into the stage's file (the ticker, and the end of an interrupted body). */
    synchronized void save() {
        try {
            AtomicWrite.write(file, Json.writePretty(Map.of("seconds", total())).getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            // a timing record is not worth stopping a stage for (a full disk stops it soon enough anyway)
        }
    }

    /** The stage finished: the ticker stops and the file goes (its sum is in done.json now). */
    void finished() throws java.io.IOException {
        ended = true;
        stopTicker();
        synchronized (this) {
            Files.deleteIfExists(file);
        }
    }

    /** Unless finished: the body ended without finishing the stage, and its part so far is kept for the run that resumes it. */
    @Override
    public void close() {
        if (ended) return;
        ended = true;
        stopTicker();
        save();
    }

    private void stopTicker() {
        if (ticker == null) return;
        ticker.shutdownNow();
        try {
            ticker.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double read(Path f) {
        if (!Files.isRegularFile(f)) return -1;
        try {
            Object s = Json.readObject(f, "rerun; the stage's time so far is only a record").get("seconds");
            return s instanceof Number n && n.doubleValue() >= 0 ? n.doubleValue() : -1;
        } catch (RuntimeException e) {
            return -1; // a damaged record: the time of earlier runs is unknown, the stage itself is not hurt
        }
    }
}
