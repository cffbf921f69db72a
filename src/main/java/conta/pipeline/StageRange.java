package conta.pipeline;

import conta.error.UserError;
import conta.io.RunLayout;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Which part of a pipeline run to do: {@code --until STAGE} stops cleanly after a stage (its done.json written; a
 * report.html of the stages reached, no report.json), {@code --from STAGE} removes that stage's outputs and everything
 * after it so they are recomputed (e.g. after changing rw.* keys). A stage is written {@code STAGE} or {@code roundT/STAGE}; without a round, --until means
 * the last round (earlier rounds run in full, as the method needs them) and --from means round 0.
 */
public record StageRange(Point from, Point until) {
    /** A stage of a round; round -1 = the default round of the flag. */
    public record Point(int round, String stage) {
        @Override public String toString() { return round < 0 ? stage : RunLayout.at(round, stage); }
    }

    /**
     * The stages of a round in order: confounders (CONTA rounds >= 1: the confounder set from the previous round's
     * masks), cls, c2am (C²AM methods), cam, ir, irn, pseudo, seg, pred.
     */
    public static final List<String> STAGES = List.of("confounders", "cls", "c2am", "cam", "ir", "irn", "pseudo", "seg", "pred");

    /** Folders of each stage under roundT/ (cam's seeds and pred's extra predictions included). */
    static List<String> folders(String stage) {
        return switch (stage) {
            case "cam" -> List.of("cam", "seeds");
            case "pred" -> List.of("pred", "report_pred", "pred_train");
            case "confounders" -> List.of("confounders", "confounders.npy");
            default -> List.of(stage);
        };
    }

    public static final StageRange ALL = new StageRange(null, null);

    /** Parses the value of --from / --until (null = not given). */
    public static Point parse(String v, String flag) {
        if (v == null) return null;
        String s = v.strip(), stage = s;
        int round = -1;
        int slash = s.indexOf('/');
        if (slash >= 0) {
            String r = s.substring(0, slash);
            stage = s.substring(slash + 1);
            try {
                round = Integer.parseInt(r.startsWith("round") ? r.substring(5) : r); // typed, not a folder: round01 is round 1
            } catch (NumberFormatException e) {
                round = -2;
            }
            if (round < 0) throw new UserError("--" + flag + " " + v + ": the round must be written roundT/STAGE with T >= 0, e.g. round1/cam");
        }
        if (!STAGES.contains(stage))
            throw new UserError("--" + flag + " " + v + ": unknown stage '" + stage + "'; stages are " + String.join(", ", STAGES) + " (optionally roundT/STAGE)");
        return new Point(round, stage);
    }

    /** The point with its round resolved for a run of the given rounds, checked against the method. */
    static Point resolve(Point p, String flag, int rounds, boolean c2am, int defaultRound) {
        if (p == null) return null;
        int r = p.round() < 0 ? defaultRound : p.round();
        if (r >= rounds)
            throw new UserError("--" + flag + " " + p + ": this method has " + rounds + " round" + (rounds == 1 ? "" : "s") + " (round0"
                    + (rounds > 1 ? "..round" + (rounds - 1) : "") + ")");
        if (p.stage().equals("c2am") && !c2am) throw new UserError("--" + flag + " " + p + ": the c2am stage exists only with --method c2am or conta+c2am");
        if (p.stage().equals("confounders") && r == 0)
            throw new UserError("--" + flag + " " + p + ": confounder sets exist from round1 on (CONTA rounds), e.g. round1/confounders");
        return new Point(r, p.stage());
    }

    /**
     * Removes the outputs of {@code from} and of every later stage (later rounds entirely) and the report, so the run
     * recomputes them; lists what it removed.
     */
    static void clear(Path out, Point from, PrintStream log) {
        List<Path> gone = new ArrayList<>();
        try {
            if (!Files.isDirectory(out)) return;
            Path rd = RunLayout.roundDir(out, from.round());
            for (String s : STAGES.subList(STAGES.indexOf(from.stage()), STAGES.size()))
                for (String f : folders(s)) gone.add(rd.resolve(f));
            // round t's confounder set is built from round t-1's predictions on the training images, which it writes
            if (from.stage().equals("confounders")) gone.add(RunLayout.stageDir(out, from.round() - 1, "pred_train"));
            for (Path d : RunLayout.roundDirs(out)) if (RunLayout.roundOf(d) > from.round()) gone.add(d);
            gone.add(out.resolve("report.json"));
            gone.add(out.resolve("report.html"));
            List<String> removed = new ArrayList<>();
            for (Path g : gone) {
                if (!Files.exists(g)) continue;
                try (Stream<Path> w = Files.walk(g)) {
                    for (Path q : w.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
                }
                removed.add(out.relativize(g).toString());
            }
            log.println("--from " + from + ": removed " + (removed.isEmpty() ? "nothing (not computed yet)" : String.join(", ", removed)));
        } catch (IOException e) {
            throw new UncheckedIOException("--from " + from + ": cannot remove old outputs under " + out + ": " + e.getMessage(), e);
        }
    }
}
