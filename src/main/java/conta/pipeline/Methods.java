package conta.pipeline;

import conta.error.UserError;
import conta.tensor.Backend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a method's rounds over the pipeline and writes the report. */
public final class Methods {
    private Methods() { }

    /** cpu | cuda[:N] | auto; auto falls back to the CPU with one line saying why. */
    public static Backend backend(String device) {
        try {
            return conta.tensor.Backends.select(device);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new UserError("--device " + device + ": " + e.getMessage());
        }
    }

    public static Map<String, Object> run(Config cfg, Path data, Path out, Backend b) throws Exception {
        try (RunLog log = RunLog.start(out)) { // the console of every (resumed) run, also in OUT/run.log
            return runLogged(cfg, data, out, b);
        }
    }

    private static Map<String, Object> runLogged(Config cfg, Path data, Path out, Backend b) throws Exception {
        Pipeline p = new Pipeline(cfg, data, out, b);
        String method = cfg.str("method");
        int rounds = switch (method) {
            case "cam", "c2am" -> 1;
            case "conta", "conta+c2am" -> 1 + cfg.integer("conta.rounds");
            default -> throw new UserError("method must be cam, conta, c2am or conta+c2am, got " + method);
        };
        p.rounds = rounds;
        if (!method.equals("cam")) p.hooks = new CausalHooks(p, method.startsWith("conta"), method.endsWith("c2am"));
        List<Map<String, Object>> all = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < rounds; t++) all.add(p.round(t));
        Map<String, Object> report = Report.build(p, all, (System.nanoTime() - t0) / 1e9);
        Report.write(p, report);
        return report;
    }
}
