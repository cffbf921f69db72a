package conta.train;

import conta.io.Json;
import conta.io.TfEvents;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-step training log of a stage, {@code STAGE/train_log.jsonl}: one JSON object a line with step (1-based),
 * epoch (1-based), loss, its named parts, the learning rate of each parameter group, images/s of the step and the
 * stage's wall time in seconds (summed over resumed runs). On resume from a checkpoint at step s, lines after s (steps
 * the killed run did after its last checkpoint, which the resumed run redoes) are dropped first, so every step appears
 * once. With {@link #tensorboard(boolean)} on, the same scalars also go to a TensorBoard event file in the stage folder.
 */
public final class TrainLog implements Closeable {
    public static final String FILE = "train_log.jsonl";

    /** Set once per run from the recipe (log.tensorboard); a static because the stages' trainer plans do not carry it. */
    private static volatile boolean tensorboard;

    public static void tensorboard(boolean on) { tensorboard = on; }

    private final BufferedWriter out;
    private final TfEvents tb;
    private final double wallBefore;
    private final long t0 = System.nanoTime();

    private TrainLog(BufferedWriter out, TfEvents tb, double wallBefore) {
        this.out = out;
        this.tb = tb;
        this.wallBefore = wallBefore;
    }

    /** Opens dir's log for a run resuming after step {@code resumedStep} (0 = a fresh start). */
    public static TrainLog open(Path dir, long resumedStep) {
        Path f = dir.resolve(FILE);
        try {
            Files.createDirectories(dir);
            double wall = 0;
            List<String> keep = new ArrayList<>();
            if (Files.isRegularFile(f)) {
                // decoded leniently: a damaged log (bytes that are not UTF-8) loses its unreadable lines, not the run
                for (String line : new String(Files.readAllBytes(f), StandardCharsets.UTF_8).split("\n")) {
                    Map<String, Object> m;
                    try {
                        m = Json.parseObject(line);
                    } catch (RuntimeException e) {
                        continue; // the half-written last line of a killed run
                    }
                    if (m.get("step") instanceof Number s && s.longValue() <= resumedStep) {
                        keep.add(line);
                        if (m.get("wall_s") instanceof Number w) wall = w.doubleValue();
                    }
                }
            }
            if (resumedStep == 0) wall = 0;
            // the kept lines replace the log atomically: a kill during this rewrite must not lose the steps already logged
            StringBuilder kept = new StringBuilder();
            for (String line : keep) kept.append(line).append('\n');
            conta.io.AtomicWrite.write(f, kept.toString().getBytes(StandardCharsets.UTF_8));
            BufferedWriter w = Files.newBufferedWriter(f, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            TfEvents tb = null;
            if (tensorboard) {
                tb = TfEvents.create(dir, "");
                if (resumedStep > 0) tb.sessionStart(resumedStep + 1);
            }
            return new TrainLog(w, tb, wall);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the training log " + f + ": " + e.getMessage(), e);
        }
    }

    /** Appends one step (1-based) and flushes, so a kill loses at most the line being written. */
    public void step(long step, int epoch, float loss, Map<String, Float> parts, Map<String, Float> lr, int images, double stepSeconds) {
        double wall = wallBefore + (System.nanoTime() - t0) / 1e9;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("epoch", epoch);
        m.put("loss", exact(loss));
        if (!parts.isEmpty()) {
            Map<String, Object> p = new LinkedHashMap<>();
            parts.forEach((k, v) -> p.put(k, exact(v)));
            m.put("parts", p);
        }
        Map<String, Object> l = new LinkedHashMap<>();
        lr.forEach((k, v) -> l.put(k, exact(v)));
        m.put("lr", l);
        m.put("images_per_s", round(images / Math.max(stepSeconds, 1e-9), 3));
        m.put("wall_s", round(wall, 3));
        try {
            out.write(Json.write(m));
            out.newLine();
            out.flush();
            if (tb != null) {
                Map<String, Double> s = new LinkedHashMap<>();
                s.put("loss/total", (double) loss);
                parts.forEach((k, v) -> s.put("loss/" + k, (double) v));
                lr.forEach((k, v) -> s.put("lr/" + k, (double) v));
                s.put("speed/images_per_s", images / Math.max(stepSeconds, 1e-9));
                tb.scalars(step, System.currentTimeMillis() / 1000.0, s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the training log: " + e.getMessage(), e);
        }
    }

    /** The float's shortest decimal (0.1f logs as 0.1, not 0.10000000149011612). */
    private static double exact(float v) { return Float.isFinite(v) ? Double.parseDouble(Float.toString(v)) : Double.NaN; }

    private static double round(double v, int digits) {
        double s = Math.pow(10, digits);
        return Math.round(v * s) / s;
    }

    /** Reads a log back (the report's curves, tests). */
    public static List<Map<String, Object>> read(Path f) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        if (!Files.isRegularFile(f)) return out;
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8))
            if (!line.isBlank()) out.add(Json.parseObject(line));
        return out;
    }

    @Override
    public void close() {
        try {
            out.close();
            if (tb != null) tb.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
