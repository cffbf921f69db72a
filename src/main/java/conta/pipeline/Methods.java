package conta.pipeline;

import conta.config.Config;
import conta.error.UserError;
import conta.tensor.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Runs a method's rounds over the pipeline and writes the report. */
public final class Methods {
    private Methods() { }

    /** cpu | cuda[:N] | auto; auto falls back to the CPU with one line saying why. */
    public static Backend backend(String device) { return backend(device, "fp32"); }

    /** The same with the convolutions' precision (fp32 | bf16 | auto, config key precision). */
    public static Backend backend(String device, String precision) {
        boolean bf16 = conta.infer.Precision.parse(precision).resolve() == conta.infer.Precision.BF16;
        try {
            return conta.tensor.Backends.select(device, bf16);
        } catch (UnsupportedOperationException e) {
            throw new UserError("precision=" + precision + " with --device " + device + ": " + e.getMessage() + "; use --device cpu or precision fp32");
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new UserError("--device " + device + ": " + e.getMessage());
        }
    }

    /**
     * A refusal whose fix names --from, with how to do that from a command that runs the pipeline differently (compare
     * runs every seed with one --from; demo takes it like pipeline); any other error unchanged.
     */
    public static RuntimeException redoHint(RuntimeException e, String how) { // a UserError or a FormatError (a damaged file)
        return e.getMessage() != null && e.getMessage().contains("--from") ? new UserError(e.getMessage() + " (" + how + ")", e) : e;
    }

    /** The whole pipeline on the device cfg names (key device), closing the backend after: `conta pipeline`, demo, compare. */
    public static Map<String, Object> run(Config cfg, Path data, Path out) throws Exception {
        return run(cfg, data, out, StageRange.ALL);
    }

    /** The same limited by --from / --until (see {@link StageRange}). */
    public static Map<String, Object> run(Config cfg, Path data, Path out, StageRange range) throws Exception {
        return run(cfg, data, out, range, report -> { });
    }

    /**
     * The same, then atEnd with the report while the run still holds OUT: what a command prints about the finished run
     * (its table, where the report is) goes to OUT/run.log too.
     */
    public static Map<String, Object> run(Config cfg, Path data, Path out, StageRange range, Consumer<Map<String, Object>> atEnd) throws Exception {
        try (RunLog log = RunLog.capture(); Backend b = backend(cfg.str("device"), cfg.str("precision"))) { // the device line is logged too
            return run(cfg, data, out, b, range, log, atEnd);
        }
    }

    /**
     * Validates the config (before anything is written), locks OUT for the run (a second run on it exits 2 naming
     * the holder), runs the rounds, and prints the items --skip-bad left out at the end.
     */
    public static Map<String, Object> run(Config cfg, Path data, Path out, Backend b) throws Exception {
        return run(cfg, data, out, b, StageRange.ALL);
    }

    /**
     * The run limited by range: --from clears that stage and what follows once every check has passed; --until stops after
     * its stage and returns the report of the stages done so far (with "stopped_after"), writing no report files.
     */
    public static Map<String, Object> run(Config cfg, Path data, Path out, Backend b, StageRange range) throws Exception {
        try (RunLog log = RunLog.capture()) {
            return run(cfg, data, out, b, range, log, report -> { });
        }
    }

    private static Map<String, Object> run(Config cfg, Path data, Path out, Backend b, StageRange range, RunLog log,
            Consumer<Map<String, Object>> atEnd) throws Exception {
        cfg.validate();
        String method = cfg.str("method");
        int rounds = rounds(cfg);
        boolean c2am = method.endsWith("c2am");
        StageRange.Point from = StageRange.resolve(range.from(), "from", rounds, c2am, 0);
        StageRange.Point until = StageRange.resolve(range.until(), "until", rounds, c2am, rounds - 1);
        if (until != null && until.round() == rounds - 1 && until.stage().equals("pred")) until = null; // the whole run
        if (from != null && until != null && (from.round() > until.round()
                || from.round() == until.round() && StageRange.STAGES.indexOf(from.stage()) > StageRange.STAGES.indexOf(until.stage())))
            throw new UserError("--from " + from + " comes after --until " + until + ": its outputs would be removed and nothing recomputed; "
                    + "give an --until at or after --from, or leave --until out");
        // the pipeline checks everything (data, weights files, OUT's recipe and inputs) before --from removes anything, and
        // run.log is written once it holds OUT's lock: a refused run writes and removes nothing
        try (Pipeline p = new Pipeline(cfg, data, out, b, from)) {
            log.startFile(out); // the console of every (resumed) run, also in OUT/run.log
            b.useRunFolder(out); // OUT is this run's now: choices a resume must repeat are kept there
            Thread interrupted = new Thread(() -> {
                StageClock.saveRunning(); // the running stage's time so far, for the run that resumes it
                System.err.println("\ninterrupted: " + interruptNote(StageClock.runningDirs()) + "; rerun the same command to resume");
                p.markInterrupted(); // OUT stays locked while this JVM winds down; the resume takes the marked lock over without a note
            });
            Runtime.getRuntime().addShutdownHook(interrupted); // Ctrl-C or a kill: say how to go on (a normal end removes it)
            Map<String, Object> report;
            try {
                report = run(p, rounds, method, c2am, until);
            } catch (Exception | Error e) {
                log.fileOnly("stopped by an error: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())); // the console gets it from the command
                throw e;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(interrupted);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or has run: the run was interrupted
                }
            }
            atEnd.accept(report); // the run is complete: a kill now needs no resume note
            return report;
        }
    }

    /**
     * What Ctrl-C keeps: the finished stages, and for each running stage (roundT/STAGE folders) what its rerun starts
     * from; a training stage without a checkpoint yet starts over, which the note must not hide.
     */
    static String interruptNote(List<Path> running) {
        StringBuilder b = new StringBuilder("the finished stages are kept");
        for (Path d : running) {
            conta.io.RunLayout.StageFile sf = conta.io.RunLayout.stageFolder(d);
            if (sf == null) continue;
            b.append("; ").append(sf.at()).append(Files.isRegularFile(d.resolve("checkpoint.safetensors")) ? " goes on from its newest checkpoint"
                    : conta.io.RunLayout.TRAINED_STAGES.contains(sf.stage()) ? " has saved no checkpoint yet and starts over" : " keeps what it has written");
        }
        return b.toString();
    }

    /** Whether the method runs CONTA's rounds, which conta.rounds counts (cam and c2am run round 0 only). */
    public static boolean hasContaRounds(String method) { return method.equals("conta") || method.equals("conta+c2am"); }

    /** Rounds of the config's method: 1, or 1 + conta.rounds for CONTA. */
    static int rounds(Config cfg) {
        return switch (cfg.str("method")) {
            case "cam", "c2am" -> 1;
            case "conta", "conta+c2am" -> 1 + cfg.integer("conta.rounds");
            default -> throw new UserError("method must be cam, conta, c2am or conta+c2am, got " + cfg.str("method"));
        };
    }

    private static Map<String, Object> run(Pipeline p, int rounds, String method, boolean c2am, StageRange.Point until) throws Exception {
        try {
            return runRounds(p, rounds, method, c2am, until);
        } catch (Pipeline.Stopped s) {
            throw s;
        } catch (Exception e) { // a damaged file of a finished stage: name the --from that recomputes it
            throw DamagedOutputs.explain(e, p);
        }
    }

    /**
     * report.html of the finished rounds and the current one's stages so far, noted as stopped or in progress after
     * a stage (key: stopped_after or in_progress_after); no report.json (Report.writeStopped). Returns the report.
     */
    private static Map<String, Object> writePartial(Pipeline p, List<Map<String, Object>> done, Map<String, Object> current, long t0,
                                                    String key, String at) throws java.io.IOException {
        List<Map<String, Object>> rounds = new ArrayList<>(done);
        rounds.add(current);
        Map<String, Object> report = Report.build(p, rounds, (System.nanoTime() - t0) / 1e9);
        report.put(key, at);
        Report.writeStopped(p, report);
        return report;
    }

    private static Map<String, Object> runRounds(Pipeline p, int rounds, String method, boolean c2am, StageRange.Point until) throws Exception {
        p.rounds = rounds;
        p.stopAfter = until;
        if (!method.equals("cam")) p.hooks = new CausalHooks(p, method.startsWith("conta"), c2am);
        List<Map<String, Object>> all = new ArrayList<>();
        long t0 = System.nanoTime();
        // a long stage's end refreshes report.html, so a run that is killed (or crashes) later leaves a report of the
        // stages it finished; quick stages do not pay for a report each
        long every = conta.io.SystemProps.count("conta.report.progressSeconds", 60);
        p.onStageFinished = (round, stage, m) -> {
            if (!(m.get("seconds") instanceof Number sec) || sec.doubleValue() < every) return;
            String at = conta.io.RunLayout.at(round, stage);
            try {
                Map<String, Object> cur = new LinkedHashMap<>(p.current);
                cur.put(stage, m);
                writePartial(p, all, cur, t0, "in_progress_after", at);
            } catch (java.io.IOException | RuntimeException e) { // the report is a courtesy: the run goes on
                System.err.println("report.html not refreshed after " + at + ": " + e.getMessage() + " (the run goes on)");
            }
        };
        try {
            for (int t = 0; t < rounds; t++) all.add(p.round(t));
        } catch (Pipeline.Stopped s) {
            Map<String, Object> report = writePartial(p, all, p.current, t0, "stopped_after", until.toString());
            System.err.println("stopped after " + until + " (--until); rerun without --until to continue from there");
            return report;
        }
        Map<String, Object> report = Report.build(p, all, (System.nanoTime() - t0) / 1e9);
        Report.write(p, report);
        p.bad.print(System.err);
        return report;
    }
}
