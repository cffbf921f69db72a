package conta.cli;

import conta.error.UserError;
import conta.pipeline.Config;
import conta.pipeline.Methods;
import conta.pipeline.Report;
import conta.tensor.Backend;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code conta pipeline}: classifier -> CAMs -> pseudo-masks -> segmentation, resumable, with report.json and report.html. */
public final class PipelineCommand implements Command {
    static final String USAGE = """
            usage: conta pipeline --data DIR --out DIR [--config FILE] [--set key=value ...] [--method cam|conta|c2am|conta+c2am]
                                  [--rounds T] [--device cpu|cuda:0|auto] [--skip-bad] [--seed S]
                   conta pipeline --help-config      (every recipe key, its default and meaning)
              Rerun the same command after a kill: finished stages and written images are kept, training resumes.""";

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "pipeline"; }

    @Override public String summary() { return "run the WSSS pipeline (classifier, CAMs, pseudo-masks, DeepLab) with a report"; }

    @Override
    public int run(Args a) throws Exception {
        if (a.has("help")) { System.out.println(USAGE); return 0; }
        if (a.has("help-config")) { System.out.print(new Config().help()); return 0; }
        List<String> bad = a.unknown(List.of("data", "out", "config", "set", "method", "rounds", "device", "skip-bad", "seed", "help", "help-config"));
        if (!bad.isEmpty()) throw new UserError("unknown flag --" + bad.getFirst() + "\n" + USAGE);
        if (!a.has("data") || !a.has("out")) throw new UserError("give --data DIR and --out DIR\n" + USAGE);
        Config cfg = Config.fromArgs(a);
        applyFlags(a, cfg);
        Map<String, Object> report = runPipeline(cfg, Path.of(a.get("data", null)), Path.of(a.get("out", null)));
        Report.printTable(report, System.out);
        System.out.println("report: " + Path.of(a.get("out", null)).resolve("report.json") + " and " + Path.of(a.get("out", null)).resolve("report.html"));
        return 0;
    }

    /** Shorthand flags that map onto config keys. */
    static void applyFlags(Args a, Config cfg) {
        if (a.has("method")) cfg.set("method", a.get("method", null));
        if (a.has("rounds")) cfg.set("conta.rounds", a.get("rounds", null));
        if (a.has("device")) cfg.set("device", a.get("device", null));
        if (a.has("seed")) cfg.set("seed", a.get("seed", null));
        if (a.has("skip-bad")) cfg.set("data.skip_bad", Boolean.toString(a.getBool("skip-bad", true)));
    }

    public static Map<String, Object> runPipeline(Config cfg, Path data, Path out) throws Exception {
        try (Backend b = Methods.backend(cfg.str("device"))) {
            return Methods.run(cfg, data, out, b);
        }
    }
}
