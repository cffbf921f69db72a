package conta.cli;

import conta.config.Config;
import conta.error.UserError;
import conta.pipeline.Methods;
import conta.pipeline.Report;
import conta.synth.SynthGenerator;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code conta demo}: README's main command. Generates the default synthetic dataset (if absent) and runs the pipeline
 * with the demo recipe (conta/demo.conf: small networks, the paper's thresholds and walk) on the available device.
 */
public final class DemoCommand implements Command {
    static final String USAGE = """
            usage: conta demo [--out runs/demo] [--data runs/synth] [--method cam|conta|c2am|conta+c2am] [--set key=value ...] [--device auto]
                       [--precision fp32|bf16|auto] [--seed S] [--rounds T] [--until STAGE] [--from STAGE]
              Generates the synthetic set into --data if it is not there, runs the pipeline with the demo recipe
              (src/main/resources/conta/demo.conf), prints the report table. Rerun to resume; --until / --from as in
              conta pipeline (--from STAGE recomputes that stage and the later ones).""";

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "demo"; }

    @Override public String summary() { return "generate the synthetic set and run the pipeline on it (README's main command)"; }

    /** The demo recipe with the paper defaults underneath. */
    public static Config demoConfig() throws Exception {
        Config c = new Config();
        try (InputStream in = DemoCommand.class.getResourceAsStream("/conta/demo.conf")) {
            if (in == null) throw new UserError("the demo recipe conta/demo.conf is missing from the jar; rebuild with ./conta");
            c.load(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList(), "conta/demo.conf");
        }
        return c;
    }

    @Override
    public int run(Args a) throws Exception {
        if (a.has("help")) { System.out.println(USAGE); return 0; }
        List<String> bad = a.unknown(List.of("out", "data", "method", "set", "device", "precision", "help", "seed", "rounds", "until", "from"));
        if (!bad.isEmpty()) throw new UserError("unknown flag --" + bad.getFirst() + "\n" + USAGE);
        Path data = Path.of(a.get("data", "runs/synth")), out = Path.of(a.get("out", "runs/demo"));
        Config cfg = demoConfig();
        cfg.applySets(a.all("set"));
        PipelineCommand.applyFlags(a, cfg); // checks the whole config before anything is generated or written
        conta.pipeline.StageRange range = PipelineCommand.range(a); // and --from / --until
        if (!Files.isDirectory(data.resolve("JPEGImages"))) {
            List<String> existing = SynthGenerator.wouldOverwrite(data, SynthGenerator.Config.defaults());
            if (!existing.isEmpty())
                throw new UserError("--data " + data + " has no JPEGImages/ but holds files the demo's synthetic set would overwrite ("
                        + SynthGenerator.few(existing) + "); give the demo a new or empty --data, or run your own data with "
                        + "`conta pipeline --data " + data + " --out OUT`");
            System.out.println("generating the default synthetic dataset into " + data);
            SynthGenerator.generate(data, SynthGenerator.Config.defaults());
        }
        long t0 = System.nanoTime();
        try {
            Methods.run(cfg, data, out, range, report -> { // printed into run.log too
                System.out.println();
                Report.printTable(report, System.out);
                if (report.containsKey("stopped_after"))
                    System.out.println("stopped after " + report.get("stopped_after") + " (--until): the stages it reached are in "
                            + out.resolve("report.html").toAbsolutePath() + "; rerun without --until to finish");
                else
                    System.out.printf("demo finished in %.1f min (this run); report: %s, open %s%n", (System.nanoTime() - t0) / 6e10,
                            out.resolve("report.json"), out.resolve("report.html").toAbsolutePath());
            });
        } catch (UserError | conta.error.FormatError e) {
            throw Methods.redoHint(e, "add it to this demo command");
        }
        return 0;
    }
}
