package conta.pipeline;

import conta.error.UserError;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an error about a file of a finished stage (a cam/*.npz, a pseudo-mask PNG, confounders.npy that a disk
 * fault, a copy or a hand edit damaged or removed) into the one fix that works: {@code --from roundT/STAGE}. Deleting
 * the file does not help, because the stage's done.json says it is finished and a rerun skips it.
 *
 * <p>Why by the message: every reader names its file in its error (the CLI's contract), and only the pipeline knows
 * which stage wrote which folder. A finished stage's folder is never written again, so an error naming a file there
 * is about reading it. Left as they are: errors that already give a --from fix, file-system refusals other than a
 * missing file (a permission is fixed with chmod, not by recomputing hours of work), and errors whose root is a
 * reader's own bug (an unchecked exception other than a format error: recomputing would write the same file).
 */
final class DamagedOutputs {
    private DamagedOutputs() { }

    /** roundT/FOLDER/ or roundT/confounders.npy, right after OUT's path as the message spells it. */
    private static final Pattern IN_ROUND = Pattern.compile("round(\\d+)/(?:([A-Za-z0-9_]+)/|(confounders\\.npy))");

    /** What may stand before a path in a message: the start, a space, a quote, a bracket or a colon. */
    private static final String BEFORE_PATH = " \t\n'\"([:=";

    /** A UserError naming the stage to redo when e (or a cause) names a file of one of OUT's finished stages; e otherwise. */
    static Exception explain(Exception e, Pipeline p) {
        Throwable named = null, root = e;
        StageRange.Point stage = null;
        for (Throwable c = e; c != null; c = c.getCause()) {
            root = c;
            String m = c.getMessage();
            if (m == null) continue;
            if (m.contains("--from")) return e;
            StageRange.Point s = stageOf(m, p.out(), q -> Files.isRegularFile(p.roundDir(q.round()).resolve(q.stage()).resolve("done.json")));
            if (s != null) { named = c; stage = s; } // the innermost: the reader's own words, before callers' hints
            if (c.getCause() == c) break;
        }
        if (stage == null) return e;
        if (named instanceof FileSystemException && !(named instanceof NoSuchFileException)) return e;
        if (root instanceof RuntimeException && !(root instanceof IllegalArgumentException) && !(root instanceof UserError)
                && !(root instanceof conta.data.DataError)) return e; // FormatError is an IllegalArgumentException
        String problem = named instanceof NoSuchFileException ? named.getMessage() + " is missing"
                : named.getMessage().replace(conta.image.IndexPng.REEXPORT, "");
        return new UserError(problem + "; " + (stage.stage().equals("report")
                ? "it is the report's own copy: delete it and rerun, and the report writes it again"
                : "it is an output of round " + stage.round() + "'s " + stage.stage() + " stage, which is marked done: rerun with --from round"
                        + stage.round() + "/" + stage.stage() + " to recompute that stage and the ones after it"), e);
    }

    /** The stage (done, per isDone; or the report) that wrote a file of OUT that the message names, or null. */
    static StageRange.Point stageOf(String message, Path out, Predicate<StageRange.Point> isDone) {
        for (Path o : new Path[]{out, out.toAbsolutePath().normalize()}) {
            String prefix = o.toString().endsWith("/") ? o.toString() : o + "/";
            for (int at = message.indexOf(prefix); at >= 0; at = message.indexOf(prefix, at + 1)) {
                if (at > 0 && BEFORE_PATH.indexOf(message.charAt(at - 1)) < 0) continue; // OUT=run inside ".../myrun/round0/..."
                Matcher m = IN_ROUND.matcher(message).region(at + prefix.length(), message.length());
                if (!m.lookingAt()) continue;
                StageRange.Point s = writer(Integer.parseInt(m.group(1)), m.group(3) != null ? m.group(3) : m.group(2));
                if (s != null && (s.stage().equals("report") || isDone.test(s))) return s;
            }
        }
        return null;
    }

    /** Which stage writes round t's folder (or file); "report" for the report's own predictions; null if none. */
    static StageRange.Point writer(int t, String folder) {
        if (folder.equals("pred_train")) return new StageRange.Point(t + 1, "confounders"); // the next round's confounder set predicts them
        if (folder.equals("report_pred")) return new StageRange.Point(t, "report");
        for (String s : StageRange.STAGES) if (StageRange.folders(s).contains(folder)) return new StageRange.Point(t, s);
        return null;
    }
}
