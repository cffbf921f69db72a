package conta.cli;

import conta.config.Config;
import conta.error.UserError;
import conta.pipeline.Methods;
import conta.pipeline.Report;
import conta.pipeline.StageRange;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code conta pipeline}: classifier -> CAMs -> pseudo-masks -> segmentation, resumable, with report.json and report.html. */
public final class PipelineCommand implements Command {
    static final String USAGE = """
            usage: conta pipeline --data DIR --out DIR [--config FILE] [--set key=value ...] [--method cam|conta|c2am|conta+c2am]
                                  [--rounds T] [--device cpu|cuda:0|auto] [--precision fp32|bf16|auto] [--skip-bad] [--seed S] [--force-new-data]
                                  [--until STAGE] [--from STAGE]
                   conta pipeline --help-config      (every recipe key, its default and meaning)
              --config FILE: key = value lines, or a run's OUT/config.json or report.json, its recipe (device and workers are
              not part of it): `--config OUT/config.json --from STAGE` redoes a stage of OUT with the recipe it was made with.
              Rerun the same command after a kill: finished stages and written images are kept, training resumes.
              The whole configuration is checked before anything runs; OUT is locked while a run is going (OUT/run.lock),
              and a rerun whose data, weights files or conta version differ from OUT's finished stages is refused
              (--force-new-data accepts them).
              Stages: confounders (CONTA rounds >= 1), cls, c2am, cam, ir, irn, pseudo, seg, pred, or roundT/STAGE.
              --until STAGE stops after it (the last round's by default: --until cam with --method conta runs rounds 0..T-1 in
              full; write round0/cam for the first); rerun without --until to go on. --from STAGE deletes that stage's outputs
              and all later ones (round 0's by default) so they are recomputed.""";

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "pipeline"; }

    @Override public String summary() { return "run the WSSS pipeline (classifier, CAMs, pseudo-masks, DeepLab) with a report"; }

    @Override
    public int run(Args a) throws Exception {
        if (a.has("help")) { System.out.println(USAGE); return 0; }
        if (a.has("help-config")) { System.out.print(new Config().help()); return 0; }
        List<String> bad = a.unknown(List.of("data", "out", "config", "set", "method", "rounds", "device", "precision", "skip-bad", "seed", "force-new-data", "help", "help-config",
                "until", "from"));
        if (!bad.isEmpty()) throw new UserError("unknown flag --" + bad.getFirst() + "\n" + USAGE);
        if (!a.has("data") || !a.has("out")) throw new UserError("give --data DIR and --out DIR\n" + USAGE);
        Config cfg = Config.fromFlags(a.get("config", null), a.all("set"));
        applyFlags(a, cfg);
        Path out = Path.of(a.get("out", null));
        Methods.run(cfg, Path.of(a.get("data", null)), out, range(a), report -> { // printed into run.log too
            Report.printTable(report, System.out);
            if (report.containsKey("stopped_after"))
                System.out.println("stopped after " + report.get("stopped_after") + " (--until): the stages it reached are in " + out.resolve("report.html")
                        + "; rerun without --until to finish");
            else
                System.out.println("report: " + out.resolve("report.json") + " and " + out.resolve("report.html"));
        });
        return 0;
    }

    /** Shorthand flags that map onto config keys (every pipeline flag with a key is here); then the whole config is checked. */
    static void applyFlags(Args a, Config cfg) {
        flag(a, cfg, "method", "method");
        flag(a, cfg, "rounds", "conta.rounds");
        flag(a, cfg, "device", "device");
        flag(a, cfg, "precision", "precision");
        flag(a, cfg, "seed", "seed");
        if (a.has("rounds") && !Methods.hasContaRounds(cfg.str("method")))
            System.err.println("note: --rounds counts CONTA's rounds; method " + cfg.str("method") + " runs round 0 only, so it has no effect here");
        if (a.has("skip-bad")) cfg.set("data.skip_bad", Boolean.toString(a.getBool("skip-bad", true)));
        if (a.has("force-new-data")) cfg.set("data.force_new", Boolean.toString(a.getBool("force-new-data", true)));
        cfg.validate();
    }

    /** --from / --until of the command line. */
    static StageRange range(Args a) {
        return new StageRange(StageRange.parse(a.get("from", null), "from"), StageRange.parse(a.get("until", null), "until"));
    }

    /** --name VALUE sets key; a bad value names the flag as the user typed it. */
    private static void flag(Args a, Config cfg, String name, String key) {
        if (!a.has(name)) return;
        try {
            cfg.set(key, a.get(name, null));
        } catch (UserError e) {
            throw new UserError("--" + name + " " + a.get(name, null) + ": " + e.getMessage());
        }
    }
}
