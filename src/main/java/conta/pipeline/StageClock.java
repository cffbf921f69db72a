package conta.pipeline;

import conta.io.AtomicWrite;
import conta.io.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A stage's running time across the runs that worked on it. An interrupted stage keeps its part so far in
 * STAGE/{@value #FILE}: written when the stage starts, every {@value #TICK_S} s, when its body ends without finishing
 * (an exception) and from the shutdown hook of Ctrl-C or a kill ({@link #saveRunning}); a kill -9 loses at most the
 * last tick's part. The run that finishes the stage adds its own part, writes the sum into done.json and removes the
 * file. A stage folder that already held an earlier run's files but no record (begun by a conta without this clock)
 * has an unknown earlier part: the record carries that on, and done.json says so.
 */
final class StageClock implements AutoCloseable {
    static final String FILE = ".stage_seconds.json";
    static final int TICK_S = 5;
    /** The clocks of stages running now, saved by the shutdown hook of an interrupted run. */
    private static final Set<StageClock> RUNNING = ConcurrentHashMap.newKeySet();

    private final Path file;
    private final LongSupplier nanos;
    private final long t0;
    /** Earlier runs' recorded seconds (0 when none). */
    final double earlier;
    /** Whether an earlier run's part is missing from the sum (a folder with files but no record). */
    final boolean unknownBefore;
    private final ScheduledExecutorService ticker;
    /** Set under the lock when the clock stops: no save after it. */
    private boolean ended;

    private StageClock(Path stageDir, boolean hadFiles, LongSupplier nanos, long tickMillis) {
        this.file = stageDir.resolve(FILE);
        this.nanos = nanos;
        Map<String, Object> rec = read(file);
        this.earlier = rec != null && rec.get("seconds") instanceof Number n && n.doubleValue() >= 0 ? n.doubleValue() : 0;
        this.unknownBefore = rec == null ? hadFiles : Boolean.TRUE.equals(rec.get("unknown_before"));
        this.t0 = nanos.getAsLong();
        save(); // a run stopped before the first tick still leaves a record (and the unknown part is not forgotten)
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
        RUNNING.add(this);
    }

    /** Starts the clock of the stage in stageDir (which exists); hadFiles: the folder held an earlier run's files. */
    static StageClock start(Path stageDir, boolean hadFiles) { return new StageClock(stageDir, hadFiles, System::nanoTime, TICK_S * 1000L); }

    /** The same on a given clock, ticking every tickMillis (0: never; tests). */
    static StageClock start(Path stageDir, boolean hadFiles, LongSupplier nanos, long tickMillis) {
        return new StageClock(stageDir, hadFiles, nanos, tickMillis);
    }

    /** Seconds of every recorded run, this one's so far included, to 0.01 s. */
    double total() { return Math.round((earlier + (nanos.getAsLong() - t0) / 1e9) * 100) / 100.0; }

    /** Writes the total so far into the stage's file (at the start, the ticker, an interrupted body, the shutdown hook). */
    synchronized void save() {
        if (ended) return;
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("seconds", total());
        if (unknownBefore) rec.put("unknown_before", true);
        try {
            AtomicWrite.write(file, Json.writePretty(rec).getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            // a timing record is not worth stopping a stage for (a full disk stops it soon enough anyway)
        }
    }

    /** The folders of the running stages (roundT/STAGE), for the interrupt note. */
    static java.util.List<Path> runningDirs() {
        java.util.List<Path> dirs = new java.util.ArrayList<>();
        for (StageClock c : RUNNING) if (c.file.getParent() != null) dirs.add(c.file.getParent());
        return dirs;
    }

    /** Saves every running stage's time: the shutdown hook of a run stopped by Ctrl-C or a kill. */
    static void saveRunning() {
        for (StageClock c : RUNNING) c.save();
    }

    /** The stage finished: the clock stops and its files go (the sum is in done.json now); best effort. */
    void finished() {
        stop();
        for (Path f : new Path[] {file, file.resolveSibling(FILE + ".tmp")}) {
            try {
                Files.deleteIfExists(f);
            } catch (Exception e) {
                // a stale record only adds to a later --from's sum; the stage itself is done
            }
        }
    }

    /** Unless finished: the body ended without finishing the stage, and its part so far is kept for the run that resumes it. */
    @Override
    public void close() {
        save();
        stop();
    }

    private void stop() {
        synchronized (this) {
            ended = true;
        }
        RUNNING.remove(this);
        if (ticker != null) ticker.shutdownNow();
    }

    private static Map<String, Object> read(Path f) {
        if (!Files.isRegularFile(f)) return null;
        try {
            return Json.readObject(f, "rerun; the stage's time so far is only a record");
        } catch (RuntimeException e) {
            return null; // a damaged record: earlier runs' time is unknown, the stage itself is not hurt
        }
    }
}
