package conta.pipeline;

import conta.error.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an error about a file of a finished stage (a cam/*.npz, a pseudo-mask PNG, confounders.npy that a disk
 * fault, a copy or a hand edit damaged or removed) into the one fix that works: {@code --from roundT/STAGE}. Deleting
 * the file does not help, because the stage's done.json says it is finished and a rerun skips it.
 *
 * <p>Why by the message: every reader names its file in its error (the CLI's contract), and only the pipeline knows
 * which stage wrote which folder. A finished stage's folder is never written again, so an error naming a file there
 * is always about reading it.
 */
final class DamagedOutputs {
    private DamagedOutputs() { }

    /** roundT/FOLDER/ or roundT/confounders.npy, after OUT's path as the message spells it. */
    private static final Pattern IN_ROUND = Pattern.compile("round(\\d+)/(?:([A-Za-z0-9_]+)/|(confounders\\.npy))");

    /**
     * A UserError naming the stage to redo when e (or a cause) names a file of one of OUT's finished stages; e itself
     * otherwise (including errors that already give a --from fix, such as a damaged checkpoint's).
     */
    static Exception explain(Exception e, Pipeline p) {
        Throwable named = null;
        StageRange.Point stage = null;
        for (Throwable c = e; c != null && c.getCause() != c; c = c.getCause()) {
            String m = c.getMessage();
            if (m == null) continue;
            if (m.contains("--from")) return e;
            StageRange.Point s = stageOf(m, p);
            if (s != null) { named = c; stage = s; } // the innermost: the reader's own words, before callers' hints
        }
        if (stage == null) return e;
        String problem = named instanceof java.nio.file.NoSuchFileException ? named.getMessage() + " is missing"
                : named.getMessage().replace(conta.image.IndexPng.REEXPORT, "");
        return new UserError(problem + "; " + (stage.stage().equals("report")
                ? "it is the report's own copy: delete it and rerun, and the report writes it again"
                : "it is an output of round " + stage.round() + "'s " + stage.stage() + " stage, which is marked done: rerun with --from round"
                        + stage.round() + "/" + stage.stage() + " to recompute that stage and the ones after it"), e);
    }

    /** The finished stage that wrote a file of OUT the message names, or null. */
    static StageRange.Point stageOf(String message, Pipeline p) {
        for (String prefix : new String[]{p.out().toString(), p.out().toAbsolutePath().normalize().toString()}) {
            int at = message.indexOf(prefix.endsWith("/") ? prefix : prefix + "/");
            while (at >= 0) {
                Matcher m = IN_ROUND.matcher(message).region(at + prefix.length() + (prefix.endsWith("/") ? 0 : 1), message.length());
                if (m.lookingAt()) {
                    int t = Integer.parseInt(m.group(1));
                    StageRange.Point s = writer(t, m.group(3) != null ? "confounders.npy" : m.group(2));
                    if (s != null && (s.stage().equals("report") || isDone(p, s))) return s;
                }
                at = message.indexOf(prefix + "/", at + 1);
            }
        }
        return null;
    }

    /** Which stage writes round t's folder (or file); "report" for the report's own predictions; null if none. */
    static StageRange.Point writer(int t, String folder) {
        return switch (folder) {
            case "cls", "c2am", "cam", "ir", "irn", "pseudo", "seg", "pred", "confounders" -> new StageRange.Point(t, folder);
            case "seeds" -> new StageRange.Point(t, "cam");
            case "confounders.npy" -> new StageRange.Point(t, "confounders");
            case "pred_train" -> new StageRange.Point(t + 1, "confounders"); // the next round's confounder set predicts them
            case "report_pred" -> new StageRange.Point(t, "report");
            default -> null;
        };
    }

    private static boolean isDone(Pipeline p, StageRange.Point s) {
        return Files.isRegularFile(p.roundDir(s.round()).resolve(s.stage()).resolve("done.json"));
    }
}
