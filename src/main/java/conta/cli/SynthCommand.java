package conta.cli;

import conta.error.UserError;
import conta.synth.SynthGenerator;
import conta.synth.SynthStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code conta synth}: writes the synthetic confounded dataset, or prints the statistics of one. */
public final class SynthCommand implements Command {
    static final String USAGE = """
            usage: conta synth --out DIR [--seed S] [--train N] [--val N] [--size PX] [--bias P] [--force]
                   conta synth --stats DIR
              defaults: --seed 0 --train 400 --val 100 --size 112 --bias 0.8
              classes: rider, horse, boat, tram, sheep, bird, car (VOC layout; background 0, 255 on object borders)
              bias P: P(rider on horse | horse), P(water | boat), P(rails | tram), P(sheep body looks like the ground | sheep)""";

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "synth"; }

    @Override public String summary() { return "write a synthetic confounded VOC-layout dataset, or print its statistics"; }

    @Override
    public int run(Args a) throws Exception {
        if (a.has("help")) { System.out.println(USAGE); return 0; }
        List<String> bad = a.unknown(List.of("out", "seed", "train", "val", "size", "bias", "stats", "force", "help"));
        if (!bad.isEmpty()) throw new UserError("unknown flag --" + bad.get(0) + "\n" + USAGE);
        if (a.has("stats")) {
            Path d = Path.of(a.get("stats", null));
            if (!Files.isDirectory(d)) throw new UserError("--stats " + d + " is not a folder");
            SynthStats.print(SynthStats.compute(d), System.out);
            return 0;
        }
        if (!a.has("out")) throw new UserError("give --out DIR (or --stats DIR)\n" + USAGE);
        Path out = Path.of(a.get("out", null));
        if (Files.isDirectory(out.resolve("JPEGImages")) && !a.getBool("force", false))
            throw new UserError(out + " already holds a dataset; pick another --out or pass --force to overwrite it");
        SynthGenerator.Config d = SynthGenerator.Config.defaults();
        SynthGenerator.Config cfg;
        try {
            cfg = new SynthGenerator.Config(a.getInt("seed", (int) d.seed()), a.getInt("train", d.train()), a.getInt("val", d.val()),
                    a.getInt("size", d.size()), a.getDouble("bias", d.bias()));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        long t0 = System.nanoTime();
        SynthGenerator.generate(out, cfg);
        System.out.printf("wrote %d train + %d val images of %dx%d px (seed %d, bias %.2f) to %s in %.1f s%n", cfg.train(), cfg.val(),
                cfg.size(), cfg.size(), cfg.seed(), cfg.bias(), out, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
