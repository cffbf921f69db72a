package conta.pipeline;

import conta.config.Config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import conta.io.TfEvents;
import conta.synth.SynthGenerator;
import conta.tensor.cpu.CpuBackend;
import conta.train.TrainLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-step training logs of the tiny pipeline: every step once and in order after a run killed again and again,
 * each line equal (loss, its parts, learning rates) to the uninterrupted run's; learning rates follow the poly schedule
 * worked out here; the parts add up to the loss as each stage defines it; the TensorBoard files, read with TensorBoard's
 * purge rule for a resumed run, hold the same steps; run.log has the console of every attempt without redraw codes.
 */
class TrainLogResumeTest {
    @TempDir static Path tmp;

    @BeforeAll
    static void makeData() throws Exception {
        PipelineResumeTest.data = tmp.resolve("synth");
        SynthGenerator.generate(PipelineResumeTest.data, new SynthGenerator.Config(5, 24, 8, 64, 0.8));
    }

    static final String[] STAGES = {"cls", "irn", "seg"};

    @SuppressWarnings("unchecked")
    @Test
    void logsContinueAcrossKillsWithoutDuplicates() throws Exception {
        Path a = tmp.resolve("straight");
        try (CpuBackend b = new CpuBackend()) {
            Methods.run(PipelineResumeTest.tiny(), PipelineResumeTest.data, a, b);
        }
        Config killedCfg = PipelineResumeTest.tiny();
        killedCfg.set("log.tensorboard", "true");
        Path k = tmp.resolve("killed");
        PipelineResumeTest.killedUntilDone(killedCfg, k, 3, 9, 80);

        for (String s : STAGES) {
            List<Map<String, Object>> ref = TrainLog.read(a.resolve("round0").resolve(s).resolve(TrainLog.FILE));
            List<Map<String, Object>> got = TrainLog.read(k.resolve("round0").resolve(s).resolve(TrainLog.FILE));
            assertFalse(ref.isEmpty(), s + " logged its steps");
            assertEquals(ref.size(), got.size(), s + ": same number of lines");
            double lastWall = -1;
            for (int i = 0; i < ref.size(); i++) {
                Map<String, Object> r = ref.get(i), g = got.get(i);
                assertEquals(i + 1, ((Number) g.get("step")).intValue(), s + ": steps 1..N once each, in order");
                for (String key : new String[]{"epoch", "loss", "parts", "lr"})
                    assertEquals(r.get(key), g.get(key), s + " step " + (i + 1) + ": " + key + " as in the uninterrupted run");
                double w = ((Number) g.get("wall_s")).doubleValue();
                assertTrue(w >= lastWall, s + ": wall time never goes back across resumes");
                lastWall = w;
                assertTrue(((Number) g.get("images_per_s")).doubleValue() > 0);
            }
        }
        checkSchedules(a);
        checkParts(a);
        checkTensorBoard(k);

        // every interrupted stage kept its time so far (StageClock), so the resumed stages' seconds add up every run and
        // none is listed as the finishing run's part only; a finished stage keeps no record file
        Map<String, Object> timings = (Map<String, Object>) conta.io.Json.parseObject(Files.readString(k.resolve("report.json"))).get("timings");
        assertFalse(timings.containsKey("resumed_stages"), timings.toString());
        Map<String, Object> straight = (Map<String, Object>) conta.io.Json.parseObject(Files.readString(a.resolve("report.json"))).get("timings");
        assertFalse(straight.containsKey("resumed_stages"), straight.toString());
        try (var files = Files.walk(k)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().equals(StageClock.FILE)).toList());
        }
        // an interrupted stage's seconds hold its interrupted parts: more than the finishing run's part alone, which
        // its train_log.jsonl tells (wall_s at the last step minus wall_s at the resume's first step)
        for (String s : STAGES) {
            double total = ((Number) timings.get("round0." + s)).doubleValue();
            List<Map<String, Object>> got = TrainLog.read(k.resolve("round0").resolve(s).resolve(TrainLog.FILE));
            double trained = ((Number) got.getLast().get("wall_s")).doubleValue();
            assertTrue(total >= 0.9 * trained, s + ": " + total + " s in done.json, training alone took " + trained + " s over all runs");
        }

        String log = Files.readString(k.resolve(RunLog.FILE));
        assertTrue(log.split("== conta run started", -1).length - 1 >= 6, "one header per attempt (>= 5 kills + the last run)");
        assertFalse(log.contains("\r"), "no terminal redraw codes in run.log");
        assertTrue(log.contains("step/s"), "training bars give their rate in steps per second");
        for (String line : log.split("\n"))
            if (line.matches(".*\\[[#.]{8}\\] \\d+/\\d+ .*")) assertTrue(line.length() <= 79, "progress lines fit 80 columns: " + line);
    }

    /** lr(k) = base * (1 - k/N)^0.9 before step k+1 (PolyLr), times the group's multiplier. */
    @SuppressWarnings("unchecked")
    static void checkSchedules(Path run) throws Exception {
        Object[][] cases = {{"cls", 0.05, "backbone", 1.0}, {"cls", 0.05, "head", 10.0}, {"seg", 0.01, "aspp.weight", 10.0},
                {"seg", 0.01, "aspp.bias", 20.0}, {"seg", 0.01, "backbone", 1.0}};
        for (Object[] c : cases) {
            List<Map<String, Object>> l = TrainLog.read(run.resolve("round0").resolve((String) c[0]).resolve(TrainLog.FILE));
            int n = l.size();
            for (Map<String, Object> m : l) {
                int k = ((Number) m.get("step")).intValue() - 1;
                double want = (Double) c[1] * Math.pow(1 - (double) k / n, 0.9) * (Double) c[3];
                double got = ((Number) ((Map<String, Object>) m.get("lr")).get(c[2])).doubleValue();
                assertEquals(want, got, 1e-6 * Math.max(want, 1e-3), c[0] + " " + c[2] + " lr at step " + (k + 1));
            }
        }
    }

    /** Boundary branch: loss = (bg/2 + fg/2 + neg)/2 (IRNet); DeepLab: loss = sum of the per-scale losses. */
    @SuppressWarnings("unchecked")
    static void checkParts(Path run) throws Exception {
        for (Map<String, Object> m : TrainLog.read(run.resolve("round0").resolve("irn").resolve(TrainLog.FILE))) {
            Map<String, Object> p = (Map<String, Object>) m.get("parts");
            double want = (d(p.get("bg_pos")) / 2 + d(p.get("fg_pos")) / 2 + d(p.get("neg"))) / 2;
            assertEquals(want, d(m.get("loss")), 1e-5 * Math.max(1, want));
        }
        for (Map<String, Object> m : TrainLog.read(run.resolve("round0").resolve("seg").resolve(TrainLog.FILE))) {
            Map<String, Object> p = (Map<String, Object>) m.get("parts");
            assertEquals(List.of("scale1", "scale0.5", "scale0.75", "msc_max"), new ArrayList<>(p.keySet()));
            double sum = 0;
            for (Object v : p.values()) sum += d(v);
            assertEquals(sum, d(m.get("loss")), 1e-5 * Math.max(1, sum));
        }
    }

    static double d(Object o) { return ((Number) o).doubleValue(); }

    /**
     * TensorBoard's reading of a folder of event files (EventAccumulator with purge_orphaned_data): files in name order
     * (creation time), a SessionLog START at step s drops the steps >= s read so far.
     */
    static void checkTensorBoard(Path run) throws Exception {
        for (String s : STAGES) {
            Path dir = run.resolve("round0").resolve(s);
            List<Path> files;
            try (var l = Files.list(dir)) {
                files = l.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList();
            }
            assertFalse(files.isEmpty(), s + " has event files");
            TreeMap<Long, Float> loss = new TreeMap<>();
            for (Path f : files)
                for (TfEvents.Event e : TfEvents.read(f)) {
                    if (e.sessionStatus() == 1) loss.tailMap(e.step(), true).clear();
                    if (e.scalars().containsKey("loss/total")) loss.put(e.step(), e.scalars().get("loss/total"));
                }
            List<Map<String, Object>> log = TrainLog.read(dir.resolve(TrainLog.FILE));
            assertEquals(log.size(), loss.size(), s + ": TensorBoard sees each step once");
            for (Map<String, Object> m : log)
                assertEquals((float) d(m.get("loss")), loss.get(((Number) m.get("step")).longValue()), s + " loss in the event file (float32)");
        }
    }
}
