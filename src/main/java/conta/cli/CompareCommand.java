package conta.cli;

import conta.config.Config;
import conta.error.UserError;
import conta.pipeline.Comparison;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** {@code conta compare}: each method with each seed, then a mean ± std table (markdown + JSON). */
public final class CompareCommand implements Command {
    static final String USAGE = """
            usage: conta compare --data DIR --out DIR [--methods cam,conta,c2am] [--seeds 3] [--demo] [--config FILE] [--set key=value ...]
                                 [--rounds T] [--device D] [--precision fp32|bf16|auto] [--until STAGE] [--from STAGE]   (as conta pipeline, for every method and seed)
                                 [--tables-only]
              Runs OUT/METHOD/seedS/ pipelines (resumable like `conta pipeline`) and writes OUT/comparison.md, .json and .html:
              mean ± std of CAM, pseudo-mask and segmentation mIoU, per round for CONTA, and per-class IoU changes.
              The recipe: the paper's defaults, or with --demo the demo's; then the keys of --config FILE; then --set
              (models/compare.conf is a set of changes to the demo's recipe: --demo --config models/compare.conf).
              --tables-only: run nothing; tabulate the seeds that have finished (each method with its own, pairs by seed);
              --data may be left out then (the seeds' reports name it).""";

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "compare"; }

    @Override public String summary() { return "compare methods over seeds (mean ± std mIoU table)"; }

    @Override
    public int run(Args a) throws Exception {
        if (a.has("help")) { System.out.println(USAGE); return 0; }
        List<String> bad = a.unknown(List.of("data", "out", "methods", "seeds", "config", "set", "demo", "device", "precision", "rounds", "help", "until", "from", "tables-only"));
        if (!bad.isEmpty()) throw new UserError("unknown flag --" + bad.getFirst() + "\n" + USAGE);
        boolean tablesOnly = a.getBool("tables-only", false);
        if (!a.has("out") || !a.has("data") && !tablesOnly) throw new UserError("give --data DIR and --out DIR\n" + USAGE);
        Config base = recipe(a);
        List<String> methods = Arrays.stream(a.get("methods", "cam,conta,c2am").split(",", -1)).map(String::strip).toList();
        int seeds = a.getInt("seeds", 3);
        if (seeds < 1) throw new UserError("--seeds must be >= 1");
        if (tablesOnly)
            Comparison.tablesOnly(base, methods, seeds, a.has("data") ? Path.of(a.get("data", null)) : null, Path.of(a.get("out", null)), System.out);
        else
            Comparison.run(base, methods, seeds, Path.of(a.get("data", null)), Path.of(a.get("out", null)), System.out, PipelineCommand.range(a));
        return 0;
    }

    /** The recipe of the flags: the defaults or (--demo) the demo's, then --config FILE's keys, then --set and the flags. */
    static Config recipe(Args a) throws Exception {
        Config base = a.getBool("demo", false) ? DemoCommand.demoConfig() : new Config();
        if (a.has("config")) base.load(Path.of(a.get("config", null)));
        base.applySets(a.all("set"));
        PipelineCommand.applyFlags(a, base);
        return base;
    }
}
