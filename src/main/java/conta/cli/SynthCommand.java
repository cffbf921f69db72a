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
            usage: conta synth --out DIR [--seed S] [--train N] [--val N] [--size PX] [--bias P]
                               [--bias-ambiguity P] [--bias-background P] [--bias-foreground P] [--force]
                   conta synth --stats DIR
              defaults: --seed 0 --train 400 --val 100 --size 112 --bias 0.8 (each --bias-* defaults to --bias)
              classes: rider, horse, boat, tram, sheep, bird, car (VOC layout; background 0, 255 on object borders)
              bias P: the strength of all three context problems; one problem's own with
                --bias-ambiguity P(rider on horse | horse), --bias-background P(water | boat) = P(rails | tram),
                --bias-foreground P(sheep body looks like the ground | sheep)""";

    @Override public String usage() { return USAGE; }

    @Override public String name() { return "synth"; }

    @Override public String summary() { return "write a synthetic confounded VOC-layout dataset, or print its statistics"; }

    @Override
    public int run(Args a) throws Exception {
        if (a.has("help")) { System.out.println(USAGE); return 0; }
        List<String> bad = a.unknown(List.of("out", "seed", "train", "val", "size", "bias", "bias-ambiguity", "bias-background", "bias-foreground", "stats", "force", "help"));
        if (!bad.isEmpty()) throw new UserError("unknown flag --" + bad.get(0) + "\n" + USAGE);
        if (a.has("stats")) {
            Path d = Path.of(a.get("stats", null));
            if (!Files.isDirectory(d)) throw new UserError("--stats " + d + " is not a folder");
            SynthStats.print(SynthStats.compute(d), System.out);
            return 0;
        }
        if (!a.has("out")) throw new UserError("give --out DIR (or --stats DIR)\n" + USAGE);
        Path out = Path.of(a.get("out", null));
        SynthGenerator.Config d = SynthGenerator.Config.defaults();
        SynthGenerator.Config cfg;
        try {
            double bias = a.getDouble("bias", d.bias());
            cfg = new SynthGenerator.Config(a.getInt("seed", (int) d.seed()), a.getInt("train", d.train()), a.getInt("val", d.val()),
                    a.getInt("size", d.size()), bias, a.getDouble("bias-ambiguity", bias), a.getDouble("bias-background", bias),
                    a.getDouble("bias-foreground", bias));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        List<String> existing = SynthGenerator.wouldOverwrite(out, cfg);
        if (!existing.isEmpty() && !a.getBool("force", false))
            throw new UserError("--out " + out + " already holds files conta synth would overwrite (" + SynthGenerator.few(existing)
                    + "); pick another --out, or pass --force to overwrite them");
        long t0 = System.nanoTime();
        SynthGenerator.generate(out, cfg);
        System.out.printf("wrote %d train + %d val images of %dx%d px (seed %d, strengths: ambiguity %.2f, background %.2f, foreground %.2f) to %s in %.1f s%n",
                cfg.train(), cfg.val(), cfg.size(), cfg.size(), cfg.seed(), cfg.ambiguity(), cfg.background(), cfg.foreground(), out,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
